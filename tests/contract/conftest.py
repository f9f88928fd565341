"""The contract suite's world, parametrised over backends.

Every test gets a :class:`World`: one in-memory store on a fake clock (the source of truth,
which tests drive), two teams, three callers (an operator and a viewer of team A, an
outsider in team B), each as a :class:`~backend_client.contract.Backend` of the kind under
test. ``BACKEND_KINDS`` maps a kind to an async context manager that, given the store and
its users, yields a function ``user_id -> Backend``; another transport registers itself
there and the whole suite runs against it unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

import pytest

from backend_client import Backend, FakeClock, Role, Site, Team, User
from backend_client.memory import InMemoryStore

from ..server.harness import http_backends
from .pipelines_for_tests import registry

BackendFactory = Callable[[str], Backend]
BackendKind = Callable[[InMemoryStore, list[User]], AbstractAsyncContextManager[BackendFactory]]


@asynccontextmanager
async def memory_backends(store: InMemoryStore, users: list[User]) -> AsyncIterator[BackendFactory]:
    yield store.backend_for


BACKEND_KINDS: dict[str, BackendKind] = {
    "memory": memory_backends,
    "http": http_backends,  # the same store served by deploytop's server under uvicorn
}


@dataclass
class World:
    store: InMemoryStore
    clock: FakeClock
    team_a: Team
    team_b: Team
    site_a1: Site
    site_a2: Site
    site_b: Site
    operator_user: User
    viewer_user: User
    outsider_user: User
    operator: Backend
    viewer: Backend
    outsider: Backend
    kind: str

    async def advance(self, seconds: float) -> None:
        """Move the fake clock, letting the engine run what falls due."""
        await self.clock.advance(seconds)

    async def eventually(self, check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
        """Await until ``check()`` is true (a real-time timeout fails the test)."""
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.002)


def make_store(**overrides: object) -> InMemoryStore:
    options: dict[str, object] = dict(
        clock=FakeClock(),
        seed=11,
        registry=registry(),
        workers=4,
        speed=1.0,
        event_retention=500,
        output_limit=128 * 1024 * 1024,
    )
    options.update(overrides)
    return InMemoryStore(**options)  # type: ignore[arg-type]


@pytest.fixture(params=sorted(BACKEND_KINDS))
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    store = make_store()
    assert isinstance(store.clock, FakeClock)
    team_a = store.add_team("Team A")
    team_b = store.add_team("Team B")
    operator = store.add_user("Olga Operator", "olga@example.com")
    viewer = store.add_user("Victor Viewer", "victor@example.com")
    outsider = store.add_user("Oscar Outsider", "oscar@example.com")
    store.add_member(team_a.id, operator.id, Role.OPERATOR)
    store.add_member(team_a.id, viewer.id, Role.VIEWER)
    store.add_member(team_b.id, outsider.id, Role.OPERATOR)
    site_a1 = store.add_site(team_a.id, "shop.example.com", server="forge-1")
    site_a2 = store.add_site(team_a.id, "blog [beta].example.com", server="forge-1")
    site_b = store.add_site(team_b.id, "other.example.org", server="forge-2")
    await store.start()
    kind = request.param
    async with BACKEND_KINDS[kind](store, [operator, viewer, outsider]) as backend_for:
        backends = [backend_for(u.id) for u in (operator, viewer, outsider)]
        try:
            yield World(
                store=store,
                clock=store.clock,
                team_a=team_a,
                team_b=team_b,
                site_a1=site_a1,
                site_a2=site_a2,
                site_b=site_b,
                operator_user=operator,
                viewer_user=viewer,
                outsider_user=outsider,
                operator=backends[0],
                viewer=backends[1],
                outsider=backends[2],
                kind=kind,
            )
        finally:
            for backend in backends:
                await backend.aclose()
            await store.stop()
