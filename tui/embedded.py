"""The bundled demo backend, run inside the dashboard's event loop."""

from __future__ import annotations

import asyncio
import contextlib

from backend_client.clock import Clock, SystemClock
from backend_client.contract import Backend
from tui.settings import DemoSettings

__all__ = ["EmbeddedDemo"]


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
        from backend_client.demo import build_demo
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
        self.world = build_demo(self.store, seed=settings.seed, history=settings.history)
        self.backend: Backend = self.store.backend_for(self.world.default_user_id)
        self.traffic = traffic
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the engine and the traffic (needs the running loop)."""
        from backend_client.demo import DemoTraffic

        await self.store.start()
        if self.traffic:
            traffic = DemoTraffic(
                self.store,
                self.world,
                rate_per_minute=self.settings.rate_per_minute,
                seed=self.settings.seed,
            )
            self._task = asyncio.create_task(traffic.run(), name="demo-traffic")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.store.stop()
