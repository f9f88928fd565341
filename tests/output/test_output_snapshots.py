"""Snapshots of the pager (SVGs in snapshots/test_output_snapshots/)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from backend_client.models import DeploymentStatus, StepStatus

from .apps import DEP, PagerApp, failed_deployment, settle
from .fakes import FakeOutputBackend, make_deployment

SIZE = (100, 28)


def search_for(text: str, *keys: str) -> Any:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("g")
        await pilot.press("slash")
        pilot.app.screen.query_one("#pager-search-input", Input).value = text
        await pilot.press("enter")
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return run_before


def failed_app() -> PagerApp:
    backend = FakeOutputBackend()
    return PagerApp(backend, failed_deployment(backend))


def test_failed_deployment_opens_at_error(snap_compare: Any) -> None:
    assert snap_compare(failed_app(), terminal_size=SIZE, run_before=settle)


def test_search_hits(snap_compare: Any) -> None:
    assert snap_compare(failed_app(), terminal_size=SIZE, run_before=search_for("retry", "n"))


def test_filter_mode(snap_compare: Any) -> None:
    assert snap_compare(
        failed_app(), terminal_size=SIZE, run_before=search_for("ok", "ampersand", "plus")
    )


def test_error_line_jump(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("g", "e", "e", "e")
        await settle(pilot)

    assert snap_compare(failed_app(), terminal_size=SIZE, run_before=run_before)


def test_wrap_and_line_numbers(snap_compare: Any) -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build assets", StepStatus.COMPLETED)], status=DeploymentStatus.COMPLETED
    )
    body = "".join(
        f"\x1b[36mstep {n}\x1b[0m: " + " ".join(f"word{n}-{k}" for k in range(20)) + "\n"
        for n in range(1, 30)
    )
    backend.write(DEP, "step-1", body)
    backend.finished.add((DEP, "step-1"))
    app = PagerApp(backend, deployment, step_id="step-1")

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("w", "l")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_colourful_output(snap_compare: Any) -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Run tests", StepStatus.COMPLETED)], status=DeploymentStatus.COMPLETED
    )
    colours = "".join(f"\x1b[3{n}m colour {n} \x1b[0m" for n in range(8))
    bright = "".join(f"\x1b[9{n};1m bold {n} \x1b[0m" for n in range(8))
    backgrounds = "".join(f"\x1b[4{n};30m bg {n} \x1b[0m" for n in range(8))
    rgb = "".join(f"\x1b[38;2;{40 * n};{255 - 30 * n};128m█\x1b[0m" for n in range(8))
    body = "\n".join(
        [
            colours,
            bright,
            backgrounds,
            "256: " + "".join(f"\x1b[38;5;{n}m■\x1b[0m" for n in range(16, 64)),
            "rgb: " + rgb,
            "\x1b[1mbold\x1b[0m \x1b[3mitalic\x1b[0m \x1b[4munderline\x1b[0m \x1b[9mstrike\x1b[0m",
            "hostile: \x1b]52;c;cHduZWQ=\x07\x1b]0;title\x07\x1b[2J\x1bc\x9b31m[b]not markup[/b]",
            "progress  12%\rprogress  47%\rprogress 100%",
            "\x1b[32m✔ 128 passed\x1b[0m, \x1b[33m2 skipped\x1b[0m in 4.20 s",
        ]
    )
    backend.write(DEP, "step-1", body + "\n")
    backend.finished.add((DEP, "step-1"))
    app = PagerApp(backend, deployment, step_id="step-1")
    assert snap_compare(app, terminal_size=(90, 20), run_before=settle)
