"""A small live "dashboard" for the real-terminal pager test.

Run: ``python -m tests.output.live_app``. A timer writes a ``tick N`` line to a running
step every 0.1 s and shows the count in the header (and writes it to the file named by
``DEPLOYTOP_TEST_TICK_FILE``, if set); ``o`` opens the pager on that step (its
``p`` key hands the output to ``$PAGER``); ctrl+q quits.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from backend_client.models import DeploymentStatus, StepStatus
from tui.output import OutputHub, OutputView, PagerScreen

from .fakes import FakeOutputBackend, make_deployment

DEP = "01JDEPLOY0000000000000000A"
TICK_FILE = os.environ.get("DEPLOYTOP_TEST_TICK_FILE")


class LiveApp(App[None]):
    BINDINGS = [Binding("o", "open_pager", "Pager", id="test.open_pager")]

    def __init__(self) -> None:
        super().__init__()
        self.backend = FakeOutputBackend()
        self.hub = OutputHub(self.backend)
        self.deployment = make_deployment(
            [("Build", StepStatus.RUNNING)], deployment_id=DEP, status=DeploymentStatus.RUNNING
        )
        self.backend.write(DEP, "step-1", "\x1b[32mstarted\x1b[0m\n")
        self.ticks = 0

    def compose(self) -> ComposeResult:
        yield Static("DASHBOARD tick 0", id="header")
        yield OutputView(id="out")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OutputView).set_feed(self.hub.feed(DEP, "step-1"))
        self.set_interval(0.1, self.tick)

    def tick(self) -> None:
        self.ticks += 1
        self.hub.dispatch(
            self.backend.write(DEP, "step-1", f"tick {self.ticks} \x1b[36mcopying\x1b[0m\n")
        )
        self.query_one("#header", Static).update(f"DASHBOARD tick {self.ticks}")
        if TICK_FILE:  # lets a test see the ticks while $PAGER hides the screen
            Path(TICK_FILE).write_text(str(self.ticks))

    def action_open_pager(self) -> None:
        self.push_screen(PagerScreen(self.hub, self.deployment, step_id="step-1"))


if __name__ == "__main__":
    LiveApp().run()
