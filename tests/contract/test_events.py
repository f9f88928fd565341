"""The event stream: sequencing, output chunks, resume and resync."""

from __future__ import annotations

import pytest

from backend_client import (
    DeploymentCreated,
    DeploymentStatus,
    DeploymentUpdated,
    Event,
    NotFound,
    Resync,
    StepOutput,
    StepStatus,
    StepUpdated,
)

from .conftest import World
from .helpers import collect, wait_status, wait_step
from .pipelines_for_tests import STEP_SECONDS


def _finished(deployment_id: str):  # type: ignore[no-untyped-def]
    def until(events: list[Event]) -> bool:
        return any(
            isinstance(e, DeploymentUpdated)
            and e.deployment.id == deployment_id
            and e.deployment.status.is_finished
            for e in events
        )

    return until


async def _run_and_collect(world: World, since: int | None, meta: dict | None = None):  # type: ignore[no-untyped-def]
    stream = world.operator.subscribe(world.team_a.id, since)
    # Start the subscription before anything happens (its first item is a status report).
    first = await anext(stream)
    d = await world.operator.trigger_deployment(
        world.team_a.id, "three_steps", world.site_a1.id, meta
    )
    await world.advance(3 * STEP_SECONDS)
    events = await collect(stream, _finished(d.id))
    return first, d, events


async def test_every_change_is_an_event_with_contiguous_seq(world: World) -> None:
    head = (await world.operator.list_deployments(world.team_a.id)).seq
    first, _, events = await _run_and_collect(world, head)
    assert first.kind == "connection"
    seqs = [e.seq for e in events]
    assert seqs == list(range(head + 1, head + 1 + len(seqs)))
    assert isinstance(events[0], DeploymentCreated)
    assert events[0].deployment.status is DeploymentStatus.QUEUED
    kinds = [(type(e).__name__, getattr(getattr(e, "step", None), "status", None)) for e in events]
    # The deployment goes Running as step 1 starts, then each step runs and completes.
    step_changes = [
        (e.step.sort_order, e.step.status) for e in events if isinstance(e, StepUpdated)
    ]
    assert step_changes == [
        (1, StepStatus.RUNNING),
        (1, StepStatus.COMPLETED),
        (2, StepStatus.RUNNING),
        (2, StepStatus.COMPLETED),
        (3, StepStatus.RUNNING),
        (3, StepStatus.COMPLETED),
    ], kinds
    statuses = [e.deployment.status for e in events if isinstance(e, DeploymentUpdated)]
    assert statuses == [DeploymentStatus.RUNNING, DeploymentStatus.COMPLETED]
    assert all(e.team_id == world.team_a.id for e in events)


async def test_output_arrives_as_appended_chunks(world: World) -> None:
    head = (await world.operator.list_deployments(world.team_a.id)).seq
    _, d, events = await _run_and_collect(world, head)
    final = await world.operator.get_deployment(d.id)
    for step in final.steps:
        chunks = [e for e in events if isinstance(e, StepOutput) and e.step_id == step.id]
        assert len(chunks) == 3  # one per line the job printed, never the whole again
        offset = 0
        for chunk in chunks:
            assert chunk.offset == offset
            offset += chunk.size
        joined = "".join(c.data for c in chunks).encode()
        stored = await world.operator.read_output(d.id, step.id)
        assert joined == stored.data
        assert step.output_size == len(joined)
        assert step.output is None  # output is read by range, not carried along


async def test_resume_from_a_sequence_gives_exactly_what_followed(world: World) -> None:
    head = (await world.operator.list_deployments(world.team_a.id)).seq
    _, _, live = await _run_and_collect(world, head)
    # A late subscriber resuming from the middle gets the rest, identical.
    middle = live[len(live) // 2].seq
    resumed = await collect(
        world.operator.subscribe(world.team_a.id, middle),
        lambda events: events[-1].seq >= live[-1].seq,
    )
    assert resumed == [e for e in live if e.seq > middle]


async def test_resume_from_a_forgotten_sequence_is_told_to_resync(world: World) -> None:
    # The test store keeps 500 events per team; make more than that.
    for n in range(32):
        site = world.store.add_site(world.team_a.id, f"busy{n}.example.com")
        await world.operator.trigger_deployment(world.team_a.id, "three_steps", site.id)
    for _ in range(9):
        await world.advance(3 * STEP_SECONDS)
    head = world.store.head_seq(world.team_a.id)
    assert head > 500
    events = await collect(world.operator.subscribe(world.team_a.id, 3), lambda e: True)
    assert isinstance(events[0], Resync)
    assert events[0].seq == head
    assert "list again" in events[0].reason


async def test_resume_from_a_future_sequence_is_told_to_resync(world: World) -> None:
    head = world.store.head_seq(world.team_a.id)
    events = await collect(world.operator.subscribe(world.team_a.id, head + 1000), lambda e: True)
    assert isinstance(events[0], Resync) and events[0].seq == head


async def test_a_slow_subscriber_is_told_to_resync() -> None:
    from backend_client import Role

    from .conftest import make_store

    store = make_store(subscriber_buffer=20)
    team = store.add_team("T")
    user = store.add_user("U")
    store.add_member(team.id, user.id, Role.OPERATOR)
    site = store.add_site(team.id, "x.example.com")
    await store.start()
    backend = store.backend_for(user.id)
    stream = backend.subscribe(team.id, store.head_seq(team.id))
    await anext(stream)  # connected
    for _ in range(25):
        await backend.trigger_deployment(team.id, "three_steps", site.id)
    await store.clock.advance(STEP_SECONDS)  # type: ignore[attr-defined]
    events = await collect(stream, lambda e: isinstance(e[-1], Resync))
    assert isinstance(events[-1], Resync)
    assert "fell too far behind" in events[-1].reason
    assert len(events) <= 21
    await store.stop()


async def test_other_teams_events_are_not_visible(world: World) -> None:
    with pytest.raises(NotFound):
        await collect(world.outsider.subscribe(world.team_a.id, None), lambda e: True)
    head_b = world.store.head_seq(world.team_b.id)
    stream = world.outsider.subscribe(world.team_b.id, head_b)
    await anext(stream)
    mine = await world.outsider.trigger_deployment(world.team_b.id, "three_steps", world.site_b.id)
    await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    await world.advance(STEP_SECONDS)
    events = await collect(stream, lambda e: len(e) >= 4)
    assert {e.team_id for e in events} == {world.team_b.id}
    assert all(getattr(e, "deployment_id", None) in (None, mine.id) for e in events)


async def test_cancel_is_an_event(world: World) -> None:
    head = world.store.head_seq(world.team_a.id)
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    await wait_step(world, d.id, 0, StepStatus.RUNNING)
    await world.operator.cancel_deployment(d.id, "stop it")
    await wait_status(world, d.id, DeploymentStatus.CANCELLED)
    events = await collect(world.operator.subscribe(world.team_a.id, head), _finished(d.id))
    last = events[-1]
    assert isinstance(last, DeploymentUpdated)
    assert last.deployment.cancel_reason == "stop it"
    cancelled_steps = [
        e for e in events if isinstance(e, StepUpdated) and e.step.status is StepStatus.CANCELLED
    ]
    assert len(cancelled_steps) == 1 and cancelled_steps[0].step.sort_order == 1
