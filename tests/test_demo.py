"""The bundled pipelines under the real engine, seeded history, and demo traffic."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from backend_client import PIPELINE_TYPES, DeploymentStatus, StepStatus
from backend_client.clock import FakeClock
from backend_client.demo import DemoTraffic, build_demo
from backend_client.memory import InMemoryStore


async def _finish(store: InMemoryStore, clock: FakeClock) -> None:
    for _ in range(200):
        if not store.active_count:
            return
        await clock.advance(30)
    raise AssertionError("pipelines did not finish")


@pytest.fixture
async def demo():  # type: ignore[no-untyped-def]
    clock = FakeClock()
    store = InMemoryStore(clock=clock, seed=3, workers=32)
    world = build_demo(store, seed=3, history=300)
    await store.start()
    yield store, world, clock
    await store.stop()


def test_seeded_history_looks_like_a_real_panel() -> None:
    store = InMemoryStore(clock=FakeClock(), seed=7)
    world = build_demo(store, seed=7, history=800)
    assert len(world.teams) >= 3 and len(world.sites) >= 20 and len(world.users) >= 5
    records = list(store._deployments.values())
    assert len(records) == 800
    assert {r.type for r in records} == set(PIPELINE_TYPES)
    statuses = Counter(r.status for r in records)
    assert statuses[DeploymentStatus.COMPLETED] > 0.75 * len(records)
    assert statuses[DeploymentStatus.FAILED] > 10 and statuses[DeploymentStatus.CANCELLED] > 5
    now = store.clock.now()
    for r in records:
        assert r.status.is_finished and r.finished_at is not None and r.started_at is not None
        assert r.created_at <= r.started_at <= r.finished_at <= now + timedelta(hours=1)
        duration = (r.finished_at - r.started_at).total_seconds()
        if r.status is DeploymentStatus.COMPLETED:
            assert 1 <= duration <= 3600, (r.type, duration)
            assert all(s.output for s in r.steps)
    # Tokens for every person, and the default user operates the default team.
    assert set(world.tokens.values()) == {u.id for u in world.users}
    assert store.members_of(world.default_team_id)[world.default_user_id].value == "operator"


def test_the_same_seed_builds_the_same_world() -> None:
    def build() -> list[tuple[str, str, str, bytes]]:
        store = InMemoryStore(clock=FakeClock(), seed=9)
        build_demo(store, seed=9, history=120)
        return [
            (r.id, r.status.value, r.operation_name, bytes(r.steps[0].output))
            for r in store._deployments.values()
        ]

    assert build() == build()


@pytest.mark.parametrize("type", PIPELINE_TYPES)
async def test_every_pipeline_runs_to_completion_with_demo_meta(demo, type: str) -> None:  # type: ignore[no-untyped-def]
    store, world, clock = demo
    team = world.teams[0]
    sites = world.sites_of(team.id)
    backend = store.backend_for(world.default_user_id)
    spec = store.registry.get(type)
    import random

    d = await backend.trigger_deployment(
        team.id, type, sites[1].id, spec.demo_meta(random.Random(1), sites[1], sites)
    )
    await _finish(store, clock)
    d = await backend.get_deployment(d.id)
    assert d.status is DeploymentStatus.COMPLETED, [
        (s.name, s.status, (await backend.read_output(d.id, s.id)).data[-300:]) for s in d.steps
    ]
    assert [s.name for s in d.steps] == [s.name for s in spec.steps]
    ran = [s for s in d.steps if s.status is StepStatus.COMPLETED]
    assert ran and all(s.output_size > 0 for s in ran)
    assert d.duration() is not None and d.duration() > timedelta(seconds=1)


@pytest.mark.parametrize("type", PIPELINE_TYPES)
async def test_every_pipeline_fails_realistically_at_any_step(demo, type: str) -> None:  # type: ignore[no-untyped-def]
    store, world, clock = demo
    team = world.teams[0]
    sites = world.sites_of(team.id)
    backend = store.backend_for(world.default_user_id)
    spec = store.registry.get(type)
    import random

    meta = spec.demo_meta(random.Random(2), sites[2], sites)
    runnable = [s for s in spec.steps if s.applies is None or s.applies(meta)]
    target = runnable[-1]
    meta["simulate"] = {"fail_step": target.name}
    d = await backend.trigger_deployment(team.id, type, sites[2].id, meta)
    await _finish(store, clock)
    d = await backend.get_deployment(d.id)
    assert d.status is DeploymentStatus.FAILED
    assert d.failed_step is not None and d.failed_step.name == target.name
    out = (await backend.read_output(d.id, d.failed_step.id)).data.decode()
    assert target.failure.strip().splitlines()[-1] in out


async def test_demo_traffic_keeps_deployments_coming(demo) -> None:  # type: ignore[no-untyped-def]
    store, world, clock = demo
    before = store.deployment_count()
    traffic = DemoTraffic(store, world, rate_per_minute=30, seed=4)
    task = asyncio.create_task(traffic.run())
    for _ in range(20):
        await clock.advance(6)  # two minutes in all
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    made = store.deployment_count() - before
    assert made == traffic.triggered
    assert 35 <= made <= 90, made  # ~60 expected at 30/min
    await _finish(store, clock)
    assert store.active_count == 0
