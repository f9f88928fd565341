"""Listing: newest first, filters, cursor pagination, argument checks."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from backend_client import (
    MAX_PAGE_SIZE,
    Deployment,
    DeploymentFilter,
    DeploymentStatus,
    InvalidRequest,
)

from .conftest import World

TYPES = ("three_steps", "conditional", "needs_meta")


async def _seed_history(world: World, count: int = 240) -> list[Deployment]:
    rng = random.Random(3)
    start = world.clock.now() - timedelta(days=3)
    sites = [world.site_a1, world.site_a2]
    made = []
    for n in range(count):
        outcome = rng.choice(
            [DeploymentStatus.COMPLETED] * 6 + [DeploymentStatus.FAILED, DeploymentStatus.CANCELLED]
        )
        made.append(
            world.store.seed_deployment(
                world.team_a.id,
                rng.choice(TYPES),
                rng.choice(sites).id,
                {"include_files": rng.random() < 0.5},
                world.operator_user.id,
                start + timedelta(minutes=15 * n),
                outcome=outcome,
            )
        )
    return made


async def _all_pages(world: World, flt: DeploymentFilter | None, limit: int) -> list[Deployment]:
    seen: list[Deployment] = []
    before = None
    for _ in range(1000):
        page = await world.operator.list_deployments(
            world.team_a.id, flt, before=before, limit=limit
        )
        assert len(page.data) <= limit
        seen.extend(page.data)
        if page.next_before is None:
            return seen
        assert page.next_before == page.data[-1].id
        before = page.next_before
    raise AssertionError("pagination never ended")


FILTERS = [
    None,
    DeploymentFilter.of(statuses=["failed"]),
    DeploymentFilter.of(statuses=["failed", "cancelled"]),
    DeploymentFilter.of(types=["conditional"]),
    DeploymentFilter.of(site_id="SITE2"),
    DeploymentFilter.of(
        site_id="SITE1", statuses=["completed"], types=["three_steps", "needs_meta"]
    ),
    DeploymentFilter.of(text="BETA"),
    DeploymentFilter.of(text="needs meta on shop"),
    DeploymentFilter.of(statuses=["queued"]),
]


@pytest.mark.parametrize("index", range(len(FILTERS)))
async def test_filters_and_pages_match_a_plain_scan(world: World, index: int) -> None:
    made = await _seed_history(world)
    flt = FILTERS[index]
    if flt is not None and flt.site_id:
        site = world.site_a1 if flt.site_id == "SITE1" else world.site_a2
        flt = flt.model_copy(update={"site_id": site.id})
    expected = sorted(
        (d for d in made if flt is None or flt.matches(d)), key=lambda d: d.id, reverse=True
    )
    for limit in (7, 50):
        got = await _all_pages(world, flt, limit)
        assert [d.id for d in got] == [d.id for d in expected]
    if flt is None:
        assert len(expected) == len(made)
    if index == len(FILTERS) - 1:
        assert expected == []


async def test_newest_first_including_live_ones(world: World) -> None:
    made = await _seed_history(world, 20)
    live = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    page = await world.operator.list_deployments(world.team_a.id, limit=5)
    assert page.data[0].id == live.id
    assert [d.id for d in page.data[1:]] == [d.id for d in reversed(made)][:4]
    assert page.seq == world.store.head_seq(world.team_a.id)
    assert all(step.output is None for d in page.data for step in d.steps)
    # Steps come along, with their sizes.
    assert page.data[1].steps and page.data[1].steps[0].output_size > 0


async def test_a_status_change_moves_a_deployment_between_filters(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    active = DeploymentFilter.of(statuses=["queued", "running"])
    assert [
        x.id for x in (await world.operator.list_deployments(world.team_a.id, active)).data
    ] == [d.id]
    await world.operator.cancel_deployment(d.id)
    assert (await world.operator.list_deployments(world.team_a.id, active)).data == []
    cancelled = DeploymentFilter.of(statuses=["cancelled"])
    page = await world.operator.list_deployments(world.team_a.id, cancelled)
    assert [x.id for x in page.data] == [d.id]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": MAX_PAGE_SIZE + 1}, "limit"),
        ({"before": "not-a-ulid"}, "cursor"),
        ({"filter": DeploymentFilter.of(types=["nope"])}, "unknown pipeline type"),
    ],
)
async def test_bad_list_arguments_are_invalid_requests(
    world: World, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        await world.operator.list_deployments(world.team_a.id, **kwargs)  # type: ignore[arg-type]
