"""Reading a step's output by byte range, up to 100 MB."""

from __future__ import annotations

import pytest

from backend_client import MAX_OUTPUT_READ, DeploymentStatus, InvalidRequest

from .conftest import World
from .helpers import wait_status
from .pipelines_for_tests import BIG_CHUNK


async def test_reading_a_100_mb_output_by_range(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "big_output", world.site_a1.id)
    await world.advance(1)
    d = await wait_status(world, d.id, DeploymentStatus.COMPLETED)
    step = d.steps[0]
    total = 100 * len(BIG_CHUNK)
    assert step.output_size == total
    line = b"x" * 1023 + b"\n"
    # First bytes, a range in the middle across line boundaries, the tail, past the end.
    first = await world.operator.read_output(d.id, step.id, offset=0, limit=10)
    assert first.data == b"x" * 10 and first.total_size == total and first.complete
    middle = await world.operator.read_output(
        d.id, step.id, offset=50 * 1024 * 1024 + 1020, limit=8
    )
    assert middle.data == b"xxx\nxxxx" and middle.offset == 50 * 1024 * 1024 + 1020
    tail = await world.operator.read_output(d.id, step.id, offset=total - 2048, limit=4096)
    assert tail.data == line * 2 and tail.end == total
    past = await world.operator.read_output(d.id, step.id, offset=total + 5)
    assert past.data == b"" and past.total_size == total
    big = await world.operator.read_output(d.id, step.id, offset=3, limit=MAX_OUTPUT_READ)
    assert len(big.data) == MAX_OUTPUT_READ


async def test_output_range_arguments_are_checked(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    step_id = d.steps[0].id
    with pytest.raises(InvalidRequest, match="offset"):
        await world.operator.read_output(d.id, step_id, offset=-1)
    with pytest.raises(InvalidRequest, match="limit"):
        await world.operator.read_output(d.id, step_id, limit=0)
    with pytest.raises(InvalidRequest, match="limit"):
        await world.operator.read_output(d.id, step_id, limit=MAX_OUTPUT_READ + 1)


async def test_output_past_the_limit_is_cut_short_and_says_so() -> None:
    from backend_client import Role
    from backend_client.pipeline import PipelineRegistry

    from .conftest import make_store
    from .pipelines_for_tests import big_output_pipeline

    store = make_store(
        output_limit=3 * 1024 * 1024, registry=PipelineRegistry([big_output_pipeline(5)])
    )
    team = store.add_team("T")
    user = store.add_user("U")
    store.add_member(team.id, user.id, Role.OPERATOR)
    site = store.add_site(team.id, "x.example.com")
    await store.start()
    backend = store.backend_for(user.id)
    d = await backend.trigger_deployment(team.id, "big_output", site.id)
    await store.clock.advance(1)  # type: ignore[attr-defined]
    await store.wait_idle()
    d = await backend.get_deployment(d.id)
    assert d.status is DeploymentStatus.COMPLETED
    assert d.steps[0].output_truncated
    assert d.steps[0].output_size == 3 * len(BIG_CHUNK)
    chunk = await backend.read_output(d.id, d.steps[0].id, offset=0, limit=10)
    assert chunk.truncated
    await store.stop()
