"""Confirm cancelling a deployment: says what will happen, takes a reason, defaults to No."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from backend_client.models import Deployment, DeploymentStatus, StepStatus
from backend_client.sanitize import sanitize_line

__all__ = ["CancelRequest", "CancelScreen", "describe_cancel"]


@dataclass(frozen=True)
class CancelRequest:
    """The operator confirmed: cancel ``deployment_id`` with this reason."""

    deployment_id: str
    reason: str | None


def _will_not_run(count: int, where: str = "") -> str:
    """ "2 queued steps after it will not run", or that none is queued."""
    if count == 0:
        return f"no step is queued{where}"
    return f"{count} queued step{'s' if count > 1 else ''}{where} will not run"


def describe_cancel(dep: Deployment) -> str:
    """What cancelling will do, in the operator's words (plain text)."""
    total = len(dep.steps)
    queued = sum(1 for s in dep.steps if s.status is StepStatus.QUEUED)
    running = dep.running_step
    if dep.status is DeploymentStatus.QUEUED or running is None:
        return (
            f"It has not started yet: none of its {total} steps will run."
            if dep.status is DeploymentStatus.QUEUED
            else f"No step is running right now; {_will_not_run(queued)}."
        )
    position = dep.steps.index(running) + 1
    name = sanitize_line(running.name)
    return (
        f"Step {position} of {total}, “{name}”, is running now and will be stopped; "
        f"{_will_not_run(queued, ' after it')}."
    )


def _keep_label(dep: Deployment) -> str:
    """The No button says what stays: "keep it queued" before it starts."""
    return "No, keep it queued" if dep.status is DeploymentStatus.QUEUED else "No, keep it running"


class CancelScreen(ModalScreen[CancelRequest | None]):
    """Asks before cancelling. Escape or "No" (focused first) keep it running."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_no", "Keep running", id="cancel_dialog.no"),
    ]

    DEFAULT_CSS = """
    CancelScreen { align: center middle; }
    CancelScreen > #cancel-dialog {
        width: 72;
        max-width: 95%;
        height: auto;
        border: thick $error 70%;
        background: $surface;
        padding: 1 2;
    }
    CancelScreen #cancel-title { text-style: bold; margin-bottom: 1; }
    CancelScreen #cancel-what { margin-bottom: 1; }
    CancelScreen #cancel-reason { margin-bottom: 1; }
    CancelScreen #cancel-buttons { height: auto; align-horizontal: right; }
    CancelScreen Button { margin-left: 2; }
    """

    def __init__(self, deployment: Deployment) -> None:
        super().__init__()
        self.deployment = deployment
        """The latest snapshot: :meth:`follow` keeps the text up to date with it."""

    def compose(self) -> ComposeResult:
        dep = self.deployment
        title = Text("Cancel ", end="")
        title.append(f"“{sanitize_line(dep.operation_name)}”")
        title.append(f" on {sanitize_line(dep.site_domain or dep.site_id)}?")
        with Vertical(id="cancel-dialog"):
            yield Static(title, id="cancel-title")
            yield Static(Text(describe_cancel(dep)), id="cancel-what")
            yield Label("Reason (optional):")
            yield Input(placeholder="why it is cancelled", id="cancel-reason", max_length=500)
            with Horizontal(id="cancel-buttons"):
                yield Button(_keep_label(dep), id="no", variant="primary")
                yield Button("Yes, cancel it", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
        if self.deployment.status.is_finished:
            self._show_finished()

    def follow(self, latest: Deployment) -> None:
        """A newer snapshot of the deployment arrived (the dashboard's flush calls this)."""
        if latest is self.deployment or latest.id != self.deployment.id:
            return
        self.deployment = latest
        if not self.is_mounted:
            return  # pushed but not shown yet: compose / on_mount read the new snapshot
        if latest.status.is_finished:
            self._show_finished()
        else:
            self.query_one("#cancel-what", Static).update(Text(describe_cancel(latest)))
            self.query_one("#no", Button).label = _keep_label(latest)

    def _show_finished(self) -> None:
        status = self.deployment.status.value
        self.query_one("#cancel-what", Static).update(
            Text(f"It finished ({status}) — nothing to cancel.")
        )
        yes = self.query_one("#yes", Button)
        yes.disabled = True
        self.query_one("#cancel-reason", Input).disabled = True  # nothing left to give it for
        self.query_one("#no", Button).label = "Close"
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "yes":
            self._confirm()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter in the reason field moves on to the buttons; it never confirms by itself.
        event.stop()
        self.query_one("#yes", Button).focus()

    def _confirm(self) -> None:
        reason = self.query_one("#cancel-reason", Input).value.strip() or None
        self.dismiss(CancelRequest(self.deployment.id, reason))

    def action_dismiss_no(self) -> None:
        self.dismiss(None)
