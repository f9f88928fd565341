"""Builders for dashboard tests: a seeded store on a fake clock, an app, waiting for state."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from textual.pilot import Pilot

from backend_client.clock import FakeClock, utc
from backend_client.contract import Backend, DelegatingBackend
from backend_client.demo import DemoWorld, build_demo
from backend_client.events import StreamItem
from backend_client.memory import InMemoryStore
from backend_client.models import (
    Deployment,
    DeploymentFilter,
    DeploymentPage,
    DeploymentStatus,
)
from tui.app import DeploytopApp
from tui.screens.dashboard import DashboardScreen
from tui.settings import Settings

START = utc(2026, 11, 26, 12, 0, 0)


class World:
    """A seeded store, its demo world and the default user's backend."""

    def __init__(self, history: int = 60, seed: int = 7, workers: int = 4) -> None:
        self.clock = FakeClock(START)
        self.store = InMemoryStore(clock=self.clock, seed=seed, workers=workers, speed=10.0)
        self.world: DemoWorld = build_demo(self.store, seed=seed, history=history)
        self.backend = self.store.backend_for(self.world.default_user_id)
        self.team_id = self.world.default_team_id

    def site_id(self, index: int = 0) -> str:
        return self.world.sites_of(self.team_id)[index].id


class StoreService:
    """Starts the store's engine with the app (and stops it)."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def start(self) -> None:
        await self.store.start()

    async def stop(self) -> None:
        await self.store.stop()


def make_app(
    w: World,
    *,
    backend: Backend | None = None,
    start_engine: bool = True,
    **settings: Any,
) -> DeploytopApp:
    settings.setdefault("bell", False)
    services = [StoreService(w.store)] if start_engine else []
    return DeploytopApp(
        Settings(**settings), backend or w.backend, clock=w.clock, services=services
    )


def dashboard(app: DeploytopApp) -> DashboardScreen:
    screen = next(s for s in app.screen_stack if isinstance(s, DashboardScreen))
    return screen


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``condition()`` holds (fails after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)


async def advance_until(pilot: Pilot[Any], w: World, condition: Callable[[], bool]) -> None:
    """Move the fake clock a second at a time (pipelines run on it) until ``condition()``
    holds; at most five minutes of pipeline time."""
    for _ in range(300):
        if condition():
            return
        await w.clock.advance(1.0)
        await pilot.pause()


async def run_until_finished(
    pilot: Pilot[Any], w: World, screen: DashboardScreen, dep_id: str
) -> None:
    """Advance the fake clock until the deployment finished, as the dashboard sees it."""
    state = screen.state
    await wait_for(pilot, lambda: dep_id in state.deployments)
    await advance_until(pilot, w, lambda: state.deployments[dep_id].status.is_finished)
    await wait_for(pilot, lambda: state.deployments[dep_id].status.is_finished)


def record_bells(app: DeploytopApp) -> list[int]:
    """The terminal bell, counted instead of rung."""
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    return bells


async def ready(pilot: Pilot[Any]) -> DashboardScreen:
    """Wait until the dashboard listed its first page and painted it."""
    app = pilot.app
    assert isinstance(app, DeploytopApp)
    await wait_for(pilot, lambda: any(isinstance(s, DashboardScreen) for s in app.screen_stack))
    screen = dashboard(app)
    await wait_for(pilot, lambda: screen.state.loaded and screen._started)
    await pilot.pause()
    return screen


class ScriptedBackend(DelegatingBackend):
    """Wraps a backend; its subscription yields scripted items, then the real stream."""

    def __init__(self, inner: Backend, script: AsyncIterator[StreamItem] | None = None) -> None:
        super().__init__(inner)
        self.script = script
        self.label = "https://deploy.example.test"
        self.list_calls = 0

    async def list_deployments(
        self,
        team_id: str,
        filter: DeploymentFilter | None = None,
        *,
        before: str | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        self.list_calls += 1
        return await self.inner.list_deployments(team_id, filter, before=before, limit=limit)

    def subscribe(self, team_id: str, since: int | None = None) -> AsyncIterator[StreamItem]:
        script = self.script
        inner = self.inner

        async def stream() -> AsyncIterator[StreamItem]:
            if script is not None:
                async for item in script:
                    yield item
            async for item in inner.subscribe(team_id, since):
                yield item

        return stream()


async def trigger(
    w: World,
    type: str = "backup_site",
    *,
    hold: bool = False,
    fail_step: str | None = None,
    site_index: int = 0,
) -> Deployment:
    """Trigger a deployment with realistic meta; optionally held or forced to fail."""
    import random

    sites = w.world.sites_of(w.team_id)
    site = sites[site_index]
    spec = w.store.registry.get(type)
    meta = dict(spec.demo_meta(random.Random(1), site, sites))
    simulate: dict[str, Any] = {}
    if hold:
        simulate["hold"] = True
    if fail_step is not None:
        simulate["fail_step"] = fail_step
    if simulate:
        meta["simulate"] = simulate
    return await w.backend.trigger_deployment(w.team_id, type, site.id, meta)


async def open_cancel_dialog(
    pilot: Pilot[Any], w: World, screen: DashboardScreen, type: str = "create_snapshot"
) -> tuple[Deployment, Any]:
    """Trigger a held deployment, wait until it runs, select it and press ``c``.

    Returns the deployment and the open :class:`~tui.screens.cancel.CancelScreen`.
    """
    from tui.screens.cancel import CancelScreen
    from tui.widgets.deployment_list import DeploymentList

    app = pilot.app
    state = screen.state
    dep = await trigger(w, type, hold=True)
    await wait_for(
        pilot,
        lambda: (
            dep.id in state.deployments
            and state.deployments[dep.id].status is DeploymentStatus.RUNNING
        ),
    )
    screen.query_one(DeploymentList).select((dep.id, -1))
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, CancelScreen))
    assert isinstance(app.screen, CancelScreen)
    return dep, app.screen
