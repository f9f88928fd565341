"""Fixtures for the server tests: a store on a fake clock, its people, and a live server."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend_client import Clock, FakeClock, Role, Site, Team, User
from backend_client.memory import InMemoryStore
from backend_client.pipeline import JobContext, PipelineRegistry, PipelineSpec, StepSpec

from .harness import Served, serve, token_for

STEP_SECONDS = 10.0


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The headless commands read the dashboard's settings (environment and config file):
    # keep the operator's own out of the tests.
    for name in list(os.environ):
        if name.upper().startswith("DEPLOYTOP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def _job(label: str, lines: int = 2) -> Callable[[JobContext], Awaitable[None]]:
    async def job(ctx: JobContext) -> None:
        for n in range(lines):
            ctx.line(f"{label}: line {n + 1} \x1b[32mok\x1b[0m")
            await ctx.work(STEP_SECONDS / lines)

    return job


def _chunks(count: int, size: int) -> Callable[[JobContext], Awaitable[None]]:
    async def job(ctx: JobContext) -> None:
        for n in range(count):
            ctx.log(f"{n:06d}" + "y" * (size - 7) + "\n")
        await ctx.work(1)

    return job


HOSTILE = (
    "clip\x1b]52;c;ZXZpbA==\x07 title\x1b]0;owned\x1b\\ reset\x1bc \x9b31m \x1b[31mred\x1b[0m\n"
)


async def _hostile(ctx: JobContext) -> None:
    ctx.log(HOSTILE)
    await ctx.work(1)


def registry() -> PipelineRegistry:
    return PipelineRegistry(
        [
            PipelineSpec(
                type="quick",
                title="Quick",
                steps=(
                    StepSpec("Prepare", _job("prepare"), failure="prepare blew up"),
                    StepSpec("Copy files", _job("copy", 4), failure="rsync error (code 23)"),
                    StepSpec("Finish", _job("finish"), failure="finish failed"),
                ),
                operation_name=lambda meta, site: f"Quick on {site.domain}",
            ),
            PipelineSpec(
                type="hostile",
                title="Hostile",
                steps=(StepSpec("Print \x1b]0;pwned\x07nasty things", _hostile),),
                operation_name=lambda meta, site: f"Hostile \x1b[2Jon {site.domain}",
            ),
            PipelineSpec(
                type="flood",
                title="Flood",
                steps=(StepSpec("Write a lot", _chunks(400, 32 * 1024)),),
                operation_name=lambda meta, site: f"Flood on {site.domain}",
            ),
        ]
    )


@dataclass
class World:
    store: InMemoryStore
    clock: Clock
    team_a: Team
    team_b: Team
    site_a: Site
    site_b: Site
    operator: User
    viewer: User
    outsider: User

    async def advance(self, seconds: float) -> None:
        """Move the fake clock (worlds of the in-loop tests run on one)."""
        assert isinstance(self.clock, FakeClock)
        await self.clock.advance(seconds)

    @property
    def op_token(self) -> str:
        return token_for(self.operator.id)

    @property
    def viewer_token(self) -> str:
        return token_for(self.viewer.id)

    @property
    def outsider_token(self) -> str:
        return token_for(self.outsider.id)

    def tokens(self) -> dict[str, str]:
        return {token_for(u.id): u.id for u in (self.operator, self.viewer, self.outsider)}


def make_world(clock: Clock | None = None, **store_options: object) -> World:
    clock = clock or FakeClock()
    options: dict[str, object] = {
        "clock": clock,
        "seed": 5,
        "registry": registry(),
        "workers": 4,
        "event_retention": 200,
    }
    options.update(store_options)
    store = InMemoryStore(**options)  # type: ignore[arg-type]
    team_a = store.add_team("Team A")
    team_b = store.add_team("Team B")
    operator = store.add_user("Olga Operator", "olga@example.com")
    viewer = store.add_user("Victor Viewer", "victor@example.com")
    outsider = store.add_user("Oscar Outsider", "oscar@example.com")
    store.add_member(team_a.id, operator.id, Role.OPERATOR)
    store.add_member(team_a.id, viewer.id, Role.VIEWER)
    store.add_member(team_b.id, outsider.id, Role.OPERATOR)
    site_a = store.add_site(team_a.id, "shop.example.com", server="forge-1")
    site_b = store.add_site(team_b.id, "other.example.org", server="forge-2")
    return World(store, clock, team_a, team_b, site_a, site_b, operator, viewer, outsider)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = make_world()
    await w.store.start()
    try:
        yield w
    finally:
        await w.store.stop()


@pytest.fixture
async def served(world: World) -> AsyncIterator[Served]:
    async with serve(world.store, world.tokens(), heartbeat_interval=0.2) as s:
        yield s


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Await until ``check()`` holds (a real-time timeout fails the test)."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)
