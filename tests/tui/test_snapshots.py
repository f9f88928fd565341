"""SVG snapshots (in snapshots/test_snapshots/): fixed clock, seeded backend."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from backend_client.models import DeploymentStatus
from tests.tui.helpers import World, dashboard, make_app, ready, trigger, wait_for
from tui.app import DeploytopApp
from tui.screens.cancel import CancelScreen
from tui.screens.help import HelpScreen
from tui.widgets.deployment_list import DeploymentList


def build(**settings: Any) -> tuple[World, DeploytopApp]:
    w = World(history=80)
    return w, make_app(w, **settings)


async def with_running(pilot: Pilot[Any], w: World) -> None:
    """Two live deployments: one running (held in its first step), one queued on its site."""
    screen = await ready(pilot)
    state = screen.state
    a = await trigger(w, "clone_site", hold=True, site_index=1)
    b = await trigger(w, "backup_site", hold=True, site_index=2)
    await wait_for(
        pilot,
        lambda: (
            a.id in state.deployments
            and b.id in state.deployments
            and state.deployments[a.id].status is DeploymentStatus.RUNNING
            and state.deployments[b.id].status is DeploymentStatus.RUNNING
        ),
    )
    await w.clock.advance(7)
    screen.query_one(DeploymentList).action_first()
    screen._tick()  # repaint what the clock moved, as the 1 s timer would
    await pilot.pause()


def test_overview(snap_compare: Any) -> None:
    w, app = build()

    async def run_before(pilot: Pilot[Any]) -> None:
        await with_running(pilot, w)

    assert snap_compare(app, terminal_size=(150, 36), run_before=run_before)


def test_expanded_failed_deployment(snap_compare: Any) -> None:
    _w, app = build()

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await ready(pilot)
        failed = next(
            d for d in screen.state.deployments.values() if d.status is DeploymentStatus.FAILED
        )
        screen.query_one(DeploymentList).select((failed.id, -1))
        await pilot.press("enter")
        step = failed.failed_step
        assert step is not None
        app_ = pilot.app
        assert isinstance(app_, DeploytopApp)
        await wait_for(pilot, lambda: app_.hub.get(failed.id, step.id) is not None)
        feed = app_.hub.get(failed.id, step.id)
        assert feed is not None
        await wait_for(pilot, lambda: not feed.loading)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 40), run_before=run_before)


def test_cancel_dialog(snap_compare: Any) -> None:
    w, app = build()

    async def run_before(pilot: Pilot[Any]) -> None:
        await with_running(pilot, w)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CancelScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 36), run_before=run_before)


def test_filtered_view(snap_compare: Any) -> None:
    _w, app = build()

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await ready(pilot)
        await pilot.press("f")
        await wait_for(pilot, lambda: screen.state.loaded)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 36), run_before=run_before)


def test_help(snap_compare: Any) -> None:
    _w, app = build()

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 48), run_before=run_before)


def test_light_theme(snap_compare: Any) -> None:
    w, app = build(theme="deploytop-light")

    async def run_before(pilot: Pilot[Any]) -> None:
        await with_running(pilot, w)
        await pilot.press("down", "space")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 36), run_before=run_before)


def test_small_terminal(snap_compare: Any) -> None:
    w, app = build()

    async def run_before(pilot: Pilot[Any]) -> None:
        await with_running(pilot, w)
        screen = dashboard(pilot.app)  # type: ignore[arg-type]
        assert screen.query_one("#body").has_class("-narrow")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
