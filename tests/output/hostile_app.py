"""A small app that shows hostile output, for the real-terminal tests.

Run: ``python -m tests.output.hostile_app [--exit-after SECONDS]``. It shows an OutputView
over a step whose output (and name) carry every kind of escape sequence, with the pager
opened on top (``--pager``), then exits.
"""

from __future__ import annotations

import argparse

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from backend_client.models import DeploymentStatus, StepStatus
from tui.output import OutputHub, OutputView, PagerScreen, safe_text

from .fakes import FakeOutputBackend, make_deployment

DEP = "01JDEPLOY0000000000000000A"

# Each hostile sequence sits between two markers: on the terminal, only SGR may appear
# between A<n> and B<n>.
HOSTILE: list[tuple[str, str]] = [
    ("osc52-bel", "\x1b]52;c;SE9TVElMRV9DTElQ\x07"),
    ("osc52-st", "\x1b]52;c;SE9TVElMRV9DTElQ\x1b\\"),
    ("osc0-title", "\x1b]0;HOSTILE_TITLE\x07"),
    ("osc2-title", "\x1b]2;HOSTILE_TITLE\x1b\\"),
    ("clear", "\x1b[2J"),
    ("cursor", "\x1b[10;10H\x1b[5A"),
    ("reset", "\x1bc"),
    ("save", "\x1b7"),
    ("restore", "\x1b8"),
    ("c1-csi", "\x9b2J"),
    ("c1-osc", "\x9d0;HOSTILE_TITLE\x9c"),
    ("alt-off", "\x1b[?1049l"),
    ("dcs", "\x1bP1$qHOSTILE_DCS\x1b\\"),
    ("bel", "\x07"),
    ("backspace", "\x08\x08"),
]


def hostile_body() -> str:
    lines = [f"A{n}{seq}B{n} \x1b[31mred{n}\x1b[0m" for n, (_, seq) in enumerate(HOSTILE)]
    return "\n".join(lines) + "\n"


class HostileApp(App[None]):
    def __init__(self, *, pager: bool, exit_after: float, unsafe: bool = False) -> None:
        super().__init__()
        self.unsafe = unsafe
        self.backend = FakeOutputBackend()
        self.hub = OutputHub(self.backend)
        self.pager = pager
        self.exit_after = exit_after
        self.deployment = make_deployment(
            [("Copy \x1b]0;HOSTILE_TITLE\x07files", StepStatus.FAILED)],
            deployment_id=DEP,
            status=DeploymentStatus.FAILED,
        ).model_copy(
            update={
                "operation_name": "Clone \x1b]52;c;SE9TVElMRV9DTElQ\x07shop [b]x[/b]",
                "site_domain": "shop\x1b[2J\x9b1;1H.example.com",
            }
        )
        self.backend.write(DEP, "step-1", hostile_body())
        self.backend.finished.add((DEP, "step-1"))

    def compose(self) -> ComposeResult:
        if self.unsafe:
            # The control case: raw text in a Static reaches the terminal as is.
            yield Static(Text(hostile_body()))
        yield Static(safe_text("label: AL\x1b]52;c;SE9TVElMRV9DTElQ\x07BL \x1b[32mgreen\x1b[0m"))
        yield OutputView(id="out")

    def on_mount(self) -> None:
        self.query_one(OutputView).set_feed(self.hub.feed(DEP, "step-1"))
        if self.pager:
            self.push_screen(PagerScreen(self.hub, self.deployment))
        self.set_timer(self.exit_after, self.exit)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pager", action="store_true")
    parser.add_argument("--exit-after", type=float, default=1.5)
    parser.add_argument("--unsafe", action="store_true", help="also show the raw text")
    args = parser.parse_args()
    HostileApp(pager=args.pager, exit_after=args.exit_after, unsafe=args.unsafe).run()


if __name__ == "__main__":
    main()
