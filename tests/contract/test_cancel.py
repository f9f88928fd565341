"""Cancelling: before start, mid-step, after finish, and racing a step's completion."""

from __future__ import annotations

import asyncio
import random

import pytest

from backend_client import (
    Conflict,
    DeploymentFinished,
    DeploymentStatus,
    StepStatus,
)

from .conftest import World
from .helpers import assert_consistent, wait_status, wait_step
from .pipelines_for_tests import STEP_SECONDS


async def test_cancel_before_start_leaves_every_step_queued(world: World) -> None:
    running = await world.operator.trigger_deployment(
        world.team_a.id, "three_steps", world.site_a1.id
    )
    waiting = await world.operator.trigger_deployment(
        world.team_a.id, "three_steps", world.site_a1.id
    )
    await wait_step(world, running.id, 0, StepStatus.RUNNING)
    cancelled = await world.operator.cancel_deployment(waiting.id, "  wrong site  ")
    assert cancelled.status is DeploymentStatus.CANCELLED
    assert cancelled.cancel_reason == "wrong site"
    assert cancelled.finished_at == world.clock.now()
    assert cancelled.started_at is None
    assert [s.status for s in cancelled.steps] == [StepStatus.QUEUED] * 3
    assert_consistent(cancelled)
    # It never runs afterwards, and the site's queue moves on.
    await world.advance(6 * STEP_SECONDS)
    await wait_status(world, running.id, DeploymentStatus.COMPLETED)
    again = await world.operator.get_deployment(waiting.id)
    assert again == cancelled


async def test_cancel_mid_step_touches_only_the_running_step(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    await world.advance(STEP_SECONDS + STEP_SECONDS / 2)
    d = await wait_step(world, d.id, 1, StepStatus.RUNNING)
    cancelled = await world.operator.cancel_deployment(d.id)
    assert cancelled.status is DeploymentStatus.CANCELLED
    assert cancelled.cancel_reason is None
    assert [s.status for s in cancelled.steps] == [
        StepStatus.COMPLETED,
        StepStatus.CANCELLED,
        StepStatus.QUEUED,
    ]
    assert cancelled.steps[1].finished_at == world.clock.now() == cancelled.finished_at
    assert cancelled.steps[0].finished_at is not None
    assert_consistent(cancelled)
    # The stopped job writes nothing more and nothing else changes.
    out_before = await world.operator.read_output(d.id, d.steps[1].id)
    await world.advance(5 * STEP_SECONDS)
    assert await world.operator.get_deployment(d.id) == cancelled
    out_after = await world.operator.read_output(d.id, d.steps[1].id)
    assert out_after.data == out_before.data
    assert out_after.complete


async def test_cancel_after_finish_is_a_typed_error(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    await world.advance(3 * STEP_SECONDS)
    await wait_status(world, d.id, DeploymentStatus.COMPLETED)
    with pytest.raises(DeploymentFinished) as info:
        await world.operator.cancel_deployment(d.id, "too late")
    assert isinstance(info.value, Conflict)
    assert "already completed" in str(info.value)
    # Twice is also finished.
    d2 = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a2.id)
    await world.operator.cancel_deployment(d2.id)
    with pytest.raises(DeploymentFinished):
        await world.operator.cancel_deployment(d2.id)


async def test_cancel_racing_step_completion_stays_consistent(world: World) -> None:
    """Cancel lands just before, at, or just after a step finishes, many times over."""
    rng = random.Random(5)
    sites = [world.store.add_site(world.team_a.id, f"race{n}.example.com") for n in range(4)]
    outcomes = set()
    rounds = 60 if world.kind == "memory" else 20
    for n in range(rounds):
        site = sites[n % len(sites)]
        d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", site.id)
        await wait_step(world, d.id, 0, StepStatus.RUNNING)
        # Move to exactly a step boundary (or a hair around it), then yield a random
        # number of loop turns so the cancel lands at every point of the completion.
        boundary = STEP_SECONDS * rng.randint(1, 3)
        await world.advance(boundary + rng.choice((-0.001, 0.0, 0.0, 0.001)))
        for _ in range(rng.randint(0, 3)):
            await asyncio.sleep(0)
        try:
            result = await world.operator.cancel_deployment(d.id, f"race {n}")
        except DeploymentFinished:
            result = await world.operator.get_deployment(d.id)
            assert result.status is DeploymentStatus.COMPLETED
        assert_consistent(result)
        await world.advance(4 * STEP_SECONDS)
        final = await world.operator.get_deployment(d.id)
        assert_consistent(final)
        assert final.status is result.status
        assert final.steps == result.steps or final.status is DeploymentStatus.COMPLETED
        outcomes.add(tuple(s.status for s in final.steps))
    # The race really hit different points of the pipeline.
    assert len(outcomes) >= 3, outcomes


async def test_viewer_and_outsider_cannot_cancel(world: World) -> None:
    from backend_client import Forbidden, NotFound

    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    with pytest.raises(Forbidden):
        await world.viewer.cancel_deployment(d.id)
    with pytest.raises(NotFound):
        await world.outsider.cancel_deployment(d.id)
    assert (await world.operator.get_deployment(d.id)).status.is_active
