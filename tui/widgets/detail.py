"""The detail pane: every field of the selected deployment, or a step and its output."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from rich.highlighter import JSONHighlighter
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from backend_client.clock import Clock
from backend_client.models import Deployment, DeploymentStep
from backend_client.sanitize import sanitize_text
from tui.format import (
    GLYPHS,
    NOT_RUN,
    absolute_time,
    duration_text,
    status_glyph,
    step_display_status,
)
from tui.output.text import safe_label

if TYPE_CHECKING:
    from tui.output.feed import OutputFeed
    from tui.output.view import OutputView

__all__ = ["DetailPane", "FieldRows", "deployment_fields", "fields_table", "step_fields"]

_json = JSONHighlighter()


def _t(value: str | None) -> Text:
    """Backend text as a plain Text (sanitized, never markup); "—" when there is none."""
    return safe_label(value) if value else Text("—", end="")


def _grid() -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


StatusColours = Mapping[str, str]
"""Colour per status value (from the theme's ``status-*`` variables)."""


def _status(status_value: str, glyph: str, colours: StatusColours) -> Text:
    return Text(f"{glyph} {status_value}", style=f"bold {colours.get(status_value, '')}".strip())


FieldRows = list[tuple[str, Text]]
"""(label, value) rows of the detail pane."""


def fields_table(rows: FieldRows) -> Table:
    """The rows as a two-column grid."""
    table = _grid()
    for label, value in rows:
        table.add_row(label, value)
    return table


def deployment_fields(
    dep: Deployment, now: datetime, colours: StatusColours, *, team_name: str | None = None
) -> FieldRows:
    """Every field of a deployment record, times absolute (the team by name too, if known)."""
    done, total = dep.progress
    rows: list[tuple[str, Text]] = [
        ("Operation", _t(dep.operation_name)),
        ("Status", _status(dep.status.value, status_glyph(dep.status), colours)),
        ("Deployment", _t(dep.id)),
        ("Pipeline", _t(dep.type)),
        ("Site", _t(f"{dep.site_domain or '?'}  ({dep.site_id})")),
        ("Triggered by", _t(f"{dep.user_name or '?'}  ({dep.user_id})")),
        ("Team", _t(f"{team_name}  ({dep.team_id})" if team_name else dep.team_id)),
        ("Created", Text(absolute_time(dep.created_at))),
        ("Started", Text(absolute_time(dep.started_at))),
        ("Finished", Text(absolute_time(dep.finished_at))),
        ("Duration", Text(duration_text(dep.duration(now)))),
        ("Steps", Text(f"{done}/{total} finished")),
    ]
    running = dep.running_step
    if running is not None:
        rows.append(("Running now", _t(running.name)))
    failed = dep.failed_step
    if failed is not None:
        rows.append(("Failed step", _t(failed.name)))
    if dep.cancel_reason is not None or dep.status.value == "cancelled":
        rows.append(("Cancel reason", _t(dep.cancel_reason)))
    meta = json.dumps(dep.meta, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    rows.append(("Meta", _json(Text(sanitize_text(meta, keep_sgr=False), end=""))))
    return rows


def _position(dep: Deployment, step: DeploymentStep) -> int:
    return next((i for i, s in enumerate(dep.steps, 1) if s.id == step.id), 0)


def step_fields(
    dep: Deployment,
    step: DeploymentStep,
    now: datetime,
    colours: StatusColours,
    *,
    received: int | None = None,
    reading: bool = False,
) -> FieldRows:
    """A step's fields. ``received``: output bytes the pane has of it (the record's size
    is only updated with the step's status, not with every chunk of a running step)."""
    size = max(step.output_size, received or 0)
    shown = step_display_status(dep.status, step.status)
    if shown == NOT_RUN:
        status = Text(f"{GLYPHS[NOT_RUN]} {NOT_RUN}", style="dim")
    else:
        status = _status(step.status.value, status_glyph(step.status), colours)
    running = step.status.value == "running"
    output = (
        "reading…" if running and reading else f"{size:,} bytes" + (" so far" if running else "")
    )
    output += "  (cut short by the backend)" if step.output_truncated else ""
    return [
        ("Step", _t(step.name)),
        ("Status", status),
        ("Of", _t(f"{dep.operation_name}  ({dep.id})")),
        ("Step id", _t(step.id)),
        ("Order", Text(f"{_position(dep, step)} of {len(dep.steps)}")),
        ("Started", Text(absolute_time(step.started_at))),
        ("Finished", Text(absolute_time(step.finished_at))),
        ("Duration", Text(duration_text(step.duration(now)))),
        ("Output", Text(output)),
    ]


class DetailPane(Vertical):
    """Fields of the selection; for a step, the live tail of its output below them."""

    DEFAULT_CSS = """
    DetailPane { background: $surface; }
    DetailPane > #detail-scroll { height: 1fr; }
    DetailPane.-step > #detail-scroll { height: auto; max-height: 50%; }
    DetailPane #detail-fields { padding: 0 1; }
    DetailPane > #detail-output { height: 1fr; border-top: hkey $panel; }
    """

    def __init__(self, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.deployment: Deployment | None = None
        self.step_index: int | None = None
        self._shown: tuple[object, ...] | None = None
        self._signature: tuple[object, list[tuple[str, str]]] = (None, [])
        self._feed: OutputFeed | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.team_names: dict[str, str] = {}
        """Team id -> name, for the Team field (the dashboard fills it in)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-scroll"):
            yield Static("Nothing selected.", id="detail-fields")

    @property
    def step(self) -> DeploymentStep | None:
        dep, index = self.deployment, self.step_index
        if dep is None or index is None or index >= len(dep.steps):
            return None
        return dep.steps[index]

    def show(self, dep: Deployment | None, step_index: int | None = None) -> None:
        """Show a deployment (``step_index`` None) or one of its steps.

        Another selection starts at the top of the fields (not where the last one was scrolled).
        """
        before = (self.deployment.id if self.deployment else None, self.step_index)
        if before != (dep.id if dep else None, step_index):
            self.query_one("#detail-scroll", VerticalScroll).scroll_home(animate=False)
        self.deployment = dep
        self.step_index = step_index
        self.set_class(step_index is not None, "-step")
        self.update_view()

    def set_feed(self, feed: OutputFeed | None) -> None:
        """Follow a step's output below its fields (``None``: no output shown)."""
        if feed is not self._feed:
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None
            if feed is not None and feed.loading:
                # Its byte count shows "reading…" until the read is done: redraw then.
                self._unsubscribe = feed.subscribe(self._feed_changed)
        self._feed = feed
        view = self._output_view(create=feed is not None)
        if view is None:
            return
        view.set_feed(feed)
        view.display = feed is not None

    def _feed_changed(self, feed: OutputFeed) -> None:
        if feed is self._feed and not feed.loading and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            self._shown = None  # same selection, same second: draw the fields again anyway
            self.update_view()

    def _output_view(self, *, create: bool) -> OutputView | None:
        # Mounted on first use: deployments are selected far more often than steps.
        from tui.output.view import OutputView

        views = self.query(OutputView)
        if views:
            return views.first()
        if not create:
            return None
        view = OutputView(id="detail-output")
        self.mount(view)
        return view

    def update_view(self) -> None:
        """Re-render the fields if anything they show changed (or time moved on)."""
        dep = self.deployment
        now = self.clock.now()
        fields = self.query_one("#detail-fields", Static)
        if dep is None:
            key: tuple[object, ...] = (None,)
            if key != self._shown:
                self._shown = key
                self._signature = (None, [])
                fields.update("Nothing selected.")
            return
        step = self.step
        ticking = dep.status.value == "running"
        key = (dep, self.step_index, int(now.timestamp()) if ticking else 0)
        if key == self._shown:
            return
        self._shown = key
        variables = self.app.theme_variables
        colours = {
            name: variables.get(f"status-{name}", "")
            for name in ("queued", "running", "completed", "failed", "cancelled", "skipped")
        }
        if step is not None:
            feed = self._feed
            mine = feed is not None and feed.step_id == step.id
            received = feed.size if feed is not None and mine else None
            reading = feed is not None and mine and feed.loading
            rows = step_fields(dep, step, now, colours, received=received, reading=reading)
        else:
            rows = deployment_fields(dep, now, colours, team_name=self.team_names.get(dep.team_id))
        # Repaint only when what is shown changed; relayout only when the rows changed
        # (a running deployment updates many times a second, mostly in place).
        signature = ((dep.id, self.step_index), [(label, value.plain) for label, value in rows])
        if signature == self._signature:
            return
        # Same selection, same labels, values of the same length: the height cannot change.
        (selection, values), (old_selection, old_values) = signature, self._signature
        same_shape = (
            selection == old_selection
            and len(values) == len(old_values)
            and all(
                a[0] == b[0] and len(a[1]) == len(b[1])
                for a, b in zip(values, old_values, strict=True)
            )
        )
        self._signature = signature
        fields.update(fields_table(rows), layout=not same_shape)
