"""Checks shared by the contract tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from backend_client import (
    ConnectionStatus,
    Deployment,
    DeploymentStatus,
    Event,
    StepStatus,
    StreamItem,
)

from .conftest import World


def assert_consistent(d: Deployment) -> None:
    """The invariants every deployment record keeps, whatever happened to it."""
    statuses = [s.status for s in sorted(d.steps, key=lambda s: s.sort_order)]
    running = statuses.count(StepStatus.RUNNING)
    assert running <= 1, statuses
    assert (d.finished_at is not None) == d.status.is_finished, d
    if d.status is DeploymentStatus.QUEUED:
        assert set(statuses) == {StepStatus.QUEUED}
        assert d.started_at is None
    if d.status.is_finished:
        assert running == 0, statuses
    if d.status is DeploymentStatus.COMPLETED:
        assert set(statuses) <= {StepStatus.COMPLETED, StepStatus.SKIPPED}, statuses
    if d.status is DeploymentStatus.FAILED:
        assert statuses.count(StepStatus.FAILED) == 1, statuses
        i = statuses.index(StepStatus.FAILED)
        assert set(statuses[:i]) <= {StepStatus.COMPLETED, StepStatus.SKIPPED}, statuses
        assert set(statuses[i + 1 :]) <= {StepStatus.QUEUED}, statuses
    if d.status is DeploymentStatus.CANCELLED:
        assert statuses.count(StepStatus.CANCELLED) <= 1, statuses
        assert StepStatus.FAILED not in statuses
        # Finished steps first, then at most one cancelled, then only queued ones.
        seen_queued = False
        for status in statuses:
            if status is StepStatus.QUEUED:
                seen_queued = True
            else:
                assert not seen_queued, statuses
    for step in d.steps:
        if step.status is StepStatus.QUEUED:
            assert step.started_at is None and step.finished_at is None, step
        if step.status.is_finished and step.status is not StepStatus.QUEUED:
            assert step.finished_at is not None, step
        if step.started_at and step.finished_at:
            assert step.finished_at >= step.started_at


async def collect(
    stream: AsyncIterator[StreamItem],
    until: Callable[[list[Event]], bool],
    timeout: float = 5.0,
) -> list[Event]:
    """Events from ``stream`` (connection reports left out) until ``until(events)``."""
    events: list[Event] = []
    try:
        async with asyncio.timeout(timeout):
            async for item in stream:
                if isinstance(item, ConnectionStatus):
                    continue
                events.append(item)
                if until(events):
                    break
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return events


async def wait_status(world: World, deployment_id: str, *statuses: DeploymentStatus) -> Deployment:
    found: list[Deployment] = []

    async def check() -> bool:
        d = await world.operator.get_deployment(deployment_id)
        found[:] = [d]
        return d.status in statuses

    await world.eventually(check)
    return found[0]


async def wait_step(world: World, deployment_id: str, index: int, status: StepStatus) -> Deployment:
    found: list[Deployment] = []

    async def check() -> bool:
        d = await world.operator.get_deployment(deployment_id)
        found[:] = [d]
        return d.steps[index].status is status

    await world.eventually(check)
    return found[0]
