"""Small apps hosting the output widgets over a fake backend (pilot and snapshot tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from backend_client.models import Deployment, DeploymentStatus, StepStatus
from tui.output import OutputHub, PagerScreen

from .fakes import FakeOutputBackend, make_deployment

DEP = "01JDEPLOY0000000000000000A"


async def settle(pilot: Pilot[None]) -> None:
    """Let the app finish what it started (messages and workers)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``check()`` holds (a timeout fails the test)."""
    async with asyncio.timeout(timeout):
        while not check():
            await pilot.pause()


def pager(app: App[Any]) -> PagerScreen:
    """The pager on top of ``app``'s screen stack."""
    screen = app.screen
    assert isinstance(screen, PagerScreen)
    return screen


PREPARE = "".join(
    [
        "\x1b[1;34m==>\x1b[0m Preparing clone of shop.example.com\n",
        "resolving source site… ok\n",
        *(f"checking file group {n:02d}: \x1b[32mok\x1b[0m\n" for n in range(1, 13)),
        "\x1b[1;32m✔ prepared\x1b[0m in 7.1 s\n",
    ]
)

COPY = "".join(
    [
        "\x1b[1;34m==>\x1b[0m Copying files to forge-eu-1\n",
        *(f"copy wp-content/uploads/2026/{n:02d}/ … \x1b[32mdone\x1b[0m\n" for n in range(1, 9)),
        "progress  10%\rprogress  55%\rprogress  93%\n",
        "\x1b[33mwarning:\x1b[0m 3 files changed during copy, retrying\n",
        *(f"retry wp-content/cache/page-{n}.html … ok\n" for n in range(1, 6)),
        'rsync: write failed on "/srv/www/shop/wp-content/uploads/big.zip": No space left\n',
        "\x1b[1;31mERROR:\x1b[0m rsync exited with code 11\n",
        "Traceback (most recent call last):\n",
        '  File "deploy.py", line 88, in copy_files\n',
        "RuntimeError: copy failed after 3 attempts\n",
    ]
)

SWITCH = "skipped: an earlier step failed\n"


def failed_deployment(backend: FakeOutputBackend) -> Deployment:
    """A failed three-step clone with colourful output; step 2 failed."""
    deployment = make_deployment(
        [
            ("Prepare clone", StepStatus.COMPLETED),
            ("Copy files", StepStatus.FAILED),
            ("Switch DNS", StepStatus.SKIPPED),
        ],
        deployment_id=DEP,
        status=DeploymentStatus.FAILED,
    )
    for step_id, body in (("step-1", PREPARE), ("step-2", COPY), ("step-3", SWITCH)):
        backend.write(DEP, step_id, body)
        backend.finished.add((DEP, step_id))
    return deployment


class PagerApp(App[None]):
    """Shows a dummy dashboard, then opens the pager on top of it."""

    def __init__(
        self,
        backend: FakeOutputBackend,
        deployment: Deployment,
        *,
        step_id: str | None = None,
        failed_only: bool = False,
        pager_runner: Any = None,
        open_pager: bool = True,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.hub = OutputHub(backend)
        self.deployment = deployment
        self.step_id = step_id
        self.failed_only = failed_only
        self.pager_runner = pager_runner
        self.open_pager = open_pager
        self.runs: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("dashboard", id="dashboard")

    def on_mount(self) -> None:
        if self.open_pager:
            self.push_pager()

    def push_pager(self) -> None:
        self.push_screen(
            PagerScreen(
                self.hub,
                self.deployment,
                step_id=self.step_id,
                failed_only=self.failed_only,
                pager_runner=self.pager_runner,
            )
        )


async def recording_runner(app: App[Any], path: Path) -> None:
    """A $PAGER stand-in: records what it was given."""
    assert isinstance(app, PagerApp)
    app.runs.append(path.read_text(encoding="utf-8"))
