"""The bundled demo backend, run inside the dashboard's event loop.

Its history is seeded newest first, and only as far as a listing needs it before the first
frame: the rest follows in small chunks once the dashboard has its first page (see
:class:`~backend_client.demo.DemoHistory`). A listing never sees a partial history: it
seeds what it needs before answering.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from backend_client.clock import Clock, SystemClock
from backend_client.contract import Backend, DelegatingBackend
from tui.settings import DemoSettings

if TYPE_CHECKING:
    from backend_client.demo import DemoHistory
    from backend_client.models import (
        Deployment,
        DeploymentFilter,
        DeploymentPage,
    )

__all__ = ["EmbeddedDemo", "SeedingBackend"]

_CHUNK = 25
"""Deployments seeded between two turns of the event loop (~12 ms)."""
_MAX_CHUNK = 128
"""The most a listing seeds between two turns of the event loop (~60 ms)."""
_QUIET_AFTER = 0.1
"""Seconds after the first listing is answered before the history may be seeded further."""


class SeedingBackend(DelegatingBackend):
    """A backend over a store whose demo history is still being seeded.

    Listings are answered only once nothing still to seed could belong in them; creating a
    deployment first finishes the history, so ids come in the same order whatever the timing.

    Args:
        inner: The in-memory backend.
        history: The history still to seed into its store.
    """

    def __init__(self, inner: Backend, history: DemoHistory) -> None:
        super().__init__(inner)
        self.history = history
        self.quiet = asyncio.Event()
        """Set a moment after the first listing is answered: from then on, seeding the rest
        of the history no longer delays the first frame."""
        self._answered = False

    async def list_deployments(
        self,
        team_id: str,
        filter: DeploymentFilter | None = None,
        *,
        before: str | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        history = self.history
        while True:
            page = await self.inner.list_deployments(team_id, filter, before=before, limit=limit)
            if history.settles(team_id, filter, page):
                if not self._answered:
                    self._answered = True
                    asyncio.get_running_loop().call_later(_QUIET_AFTER, self.quiet.set)
                return page
            if self._answered:
                # Not the first page (the list prefetches the next one at once): let the
                # first one reach the screen before seeding for this one.
                await self.quiet.wait()
            # At least what the page lacks (exactly that for the first team's first page).
            history.seed(min(max(limit + 1 - len(page.data), _CHUNK), _MAX_CHUNK))
            await asyncio.sleep(0)  # a long history: let keys and frames through

    async def trigger_deployment(
        self, team_id: str, type: str, site_id: str, meta: dict[str, Any] | None = None
    ) -> Deployment:
        await self.history.finish(_CHUNK)
        return await self.inner.trigger_deployment(team_id, type, site_id, meta)


class EmbeddedDemo:
    """An in-memory store seeded with demo history, plus live demo traffic.

    Args:
        settings: Demo speed, traffic rate, seed and history size.
        clock: Time for the store (the real clock unless a test passes a fake one).
        traffic: Run the live demo traffic once started.
    """

    label = "embedded"

    def __init__(
        self, settings: DemoSettings, clock: Clock | None = None, *, traffic: bool = True
    ) -> None:
        from backend_client.demo import plan_demo
        from backend_client.memory import InMemoryStore

        self.settings = settings
        self.clock = clock if clock is not None else SystemClock()
        self.store = InMemoryStore(
            clock=self.clock,
            seed=settings.seed,
            workers=settings.workers,
            speed=settings.speed,
            failure_rate=settings.failure_rate,
        )
        self.world, self.history = plan_demo(
            self.store, seed=settings.seed, history=settings.history
        )
        self._backend = SeedingBackend(
            self.store.backend_for(self.world.default_user_id), self.history
        )
        self.backend: Backend = self._backend
        self.traffic = traffic
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the engine, then the rest of the history and the traffic (needs the loop)."""
        await self.store.start()
        self._task = asyncio.create_task(self._background(), name="demo-background")

    async def _background(self) -> None:
        from backend_client.demo import DemoTraffic

        # The rest of the history once the first page has had time to reach the screen
        # (seeding meanwhile would delay that frame), then the traffic: its deployments
        # come after the history, so ids do not depend on timing.
        await self._backend.quiet.wait()
        await self.history.finish(_CHUNK)
        if self.traffic:
            traffic = DemoTraffic(
                self.store,
                self.world,
                rate_per_minute=self.settings.rate_per_minute,
                seed=self.settings.seed,
            )
            await traffic.run()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.store.stop()
