"""Time, injectable: the real clock for use, a fake one that tests move by hand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock", "utc"]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A UTC datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


class Clock(Protocol):
    """What the engine and the screen need from time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """Wall-clock time and asyncio sleeps."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class FakeClock:
    """A clock that only moves when told to.

    ``sleep`` waits until :meth:`advance` moves time past its deadline. Sleepers wake in
    deadline order (ties in the order they slept), each getting a chance to run before the
    next, so a test that advances time sees the same sequence every run.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start if start is not None else utc(2026, 11, 26, 12, 0, 0)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        deadline = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (deadline, next(self._counter), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting (cancelled ones included until time passes them)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking each sleeper whose deadline is passed, in order."""
        target = self._now + timedelta(seconds=seconds)
        # Let tasks that are ready run first: they may be about to sleep.
        await self._settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not future.done():
                future.set_result(None)
                # Let the woken task (and whatever it wakes) run before the next deadline.
                await self._settle()
        self._now = target
        await self._settle()

    @staticmethod
    async def _settle() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    def set(self, when: datetime) -> None:
        """Jump to ``when`` without waking anyone (for screens that only read the time)."""
        self._now = when
