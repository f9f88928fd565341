"""The pipeline engine's rules, through the backend contract."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend_client import DeploymentStatus, InvalidRequest, NotFound, StepStatus

from .conftest import World, make_store
from .helpers import assert_consistent, wait_status, wait_step
from .pipelines_for_tests import STEP_SECONDS


async def test_new_deployment_is_queued_with_every_step_queued(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    assert d.status is DeploymentStatus.QUEUED
    assert [s.status for s in d.steps] == [StepStatus.QUEUED] * 3
    assert [s.name for s in d.steps] == ["Prepare", "Copy files", "Finish"]
    assert [s.sort_order for s in d.steps] == [1, 2, 3]
    assert d.started_at is None and d.finished_at is None
    assert d.created_at == world.clock.now()
    assert d.operation_name == "Three steps on shop.example.com"
    assert d.site_domain == "shop.example.com"
    assert d.user_name == "Olga Operator"
    assert d.team_id == world.team_a.id and d.user_id == world.operator_user.id
    assert_consistent(d)


async def test_runs_when_first_step_starts_and_steps_run_in_order(world: World) -> None:
    t0 = world.clock.now()
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    d = await wait_step(world, d.id, 0, StepStatus.RUNNING)
    assert d.status is DeploymentStatus.RUNNING
    assert d.started_at == t0
    assert [s.status for s in d.steps] == [StepStatus.RUNNING, StepStatus.QUEUED, StepStatus.QUEUED]
    await world.advance(STEP_SECONDS)
    d = await wait_step(world, d.id, 1, StepStatus.RUNNING)
    assert [s.status for s in d.steps] == [
        StepStatus.COMPLETED,
        StepStatus.RUNNING,
        StepStatus.QUEUED,
    ]
    assert d.steps[0].finished_at == t0 + timedelta(seconds=STEP_SECONDS)
    assert d.steps[1].started_at == d.steps[0].finished_at
    assert_consistent(d)
    await world.advance(2 * STEP_SECONDS)
    d = await wait_status(world, d.id, DeploymentStatus.COMPLETED)
    assert [s.status for s in d.steps] == [StepStatus.COMPLETED] * 3
    assert d.finished_at == t0 + timedelta(seconds=3 * STEP_SECONDS)
    assert d.duration() == timedelta(seconds=3 * STEP_SECONDS)
    assert d.progress == (3, 3)
    assert_consistent(d)
    # Each step's output is what its job printed, in order.
    chunk = await world.operator.read_output(d.id, d.steps[1].id)
    assert chunk.data.decode() == (
        "copy: starting for shop.example.com\ncopy: half way\ncopy: done\n"
    )
    assert chunk.complete and chunk.total_size == len(chunk.data)


async def test_a_running_deployment_reports_ticking_duration_and_progress(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    await wait_step(world, d.id, 0, StepStatus.RUNNING)
    await world.advance(STEP_SECONDS + 3)
    d = await wait_step(world, d.id, 1, StepStatus.RUNNING)
    assert d.progress == (1, 3)
    assert d.duration(world.clock.now()) == timedelta(seconds=STEP_SECONDS + 3)
    assert d.steps[1].duration(world.clock.now()) == timedelta(seconds=3)
    assert d.duration() is None  # still running and no clock given


async def test_a_failed_step_halts_the_pipeline(world: World) -> None:
    d = await world.operator.trigger_deployment(
        world.team_a.id,
        "three_steps",
        world.site_a1.id,
        {"simulate": {"fail_step": "Copy files"}},
    )
    await world.advance(3 * STEP_SECONDS)
    d = await wait_status(world, d.id, DeploymentStatus.FAILED)
    assert [s.status for s in d.steps] == [
        StepStatus.COMPLETED,
        StepStatus.FAILED,
        StepStatus.QUEUED,
    ]
    assert d.steps[1].finished_at is not None and d.finished_at == d.steps[1].finished_at
    assert d.failed_step is not None and d.failed_step.name == "Copy files"
    out = await world.operator.read_output(d.id, d.steps[1].id)
    assert out.data.decode().endswith("rsync error: (code 23)\n")
    assert_consistent(d)


async def test_a_conditional_step_that_does_not_apply_is_skipped(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "conditional", world.site_a1.id)
    await world.advance(3 * STEP_SECONDS)
    d = await wait_status(world, d.id, DeploymentStatus.COMPLETED)
    assert [s.status for s in d.steps] == [
        StepStatus.COMPLETED,
        StepStatus.SKIPPED,
        StepStatus.COMPLETED,
    ]
    skipped = d.steps[1]
    # Skipped without running: no time taken, only the reason in its output.
    assert skipped.started_at == skipped.finished_at == d.steps[0].finished_at
    out = await world.operator.read_output(d.id, skipped.id)
    assert out.data.decode() == "Skipped: files were not selected\n"
    # The whole pipeline took two steps' time, not three.
    assert d.duration() == timedelta(seconds=2 * STEP_SECONDS)


async def test_a_conditional_step_that_applies_runs(world: World) -> None:
    d = await world.operator.trigger_deployment(
        world.team_a.id, "conditional", world.site_a1.id, {"include_files": True}
    )
    await world.advance(3 * STEP_SECONDS)
    d = await wait_status(world, d.id, DeploymentStatus.COMPLETED)
    assert [s.status for s in d.steps] == [StepStatus.COMPLETED] * 3


async def test_a_job_without_its_required_meta_fails_clearly(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "needs_meta", world.site_a1.id)
    await world.advance(STEP_SECONDS)
    d = await wait_status(world, d.id, DeploymentStatus.FAILED)
    out = (await world.operator.read_output(d.id, d.steps[0].id)).data.decode()
    assert "no 'source_site_id' in its meta" in out
    assert "Copy from source" in out


async def test_workers_limit_keeps_deployments_queued(world: World) -> None:
    # The world's store has 4 workers; same-site deployments also wait on each other.
    sites = [world.site_a1, world.site_a2]
    extra = [world.store.add_site(world.team_a.id, f"s{n}.example.com") for n in range(4)]
    ids = []
    for site in sites + extra:
        d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", site.id)
        ids.append(d.id)
    await wait_step(world, ids[3], 0, StepStatus.RUNNING)
    statuses = [(await world.operator.get_deployment(i)).status for i in ids]
    assert statuses == [DeploymentStatus.RUNNING] * 4 + [DeploymentStatus.QUEUED] * 2
    await world.advance(3 * STEP_SECONDS)
    await wait_step(world, ids[5], 0, StepStatus.RUNNING)
    statuses = [(await world.operator.get_deployment(i)).status for i in ids]
    assert statuses == [DeploymentStatus.COMPLETED] * 4 + [DeploymentStatus.RUNNING] * 2


async def test_same_site_deployments_wait_behind_each_other(world: World) -> None:
    first = await world.operator.trigger_deployment(
        world.team_a.id, "three_steps", world.site_a1.id
    )
    second = await world.operator.trigger_deployment(
        world.team_a.id, "three_steps", world.site_a1.id
    )
    other = await world.operator.trigger_deployment(
        world.team_a.id, "three_steps", world.site_a2.id
    )
    await wait_step(world, other.id, 0, StepStatus.RUNNING)
    assert (await world.operator.get_deployment(first.id)).status is DeploymentStatus.RUNNING
    assert (await world.operator.get_deployment(second.id)).status is DeploymentStatus.QUEUED
    await world.advance(3 * STEP_SECONDS)
    d = await wait_step(world, second.id, 0, StepStatus.RUNNING)
    assert d.started_at == (await world.operator.get_deployment(first.id)).finished_at


async def test_trigger_rejects_unknown_type_and_site(world: World) -> None:
    with pytest.raises(InvalidRequest, match="unknown pipeline type"):
        await world.operator.trigger_deployment(world.team_a.id, "rm_rf", world.site_a1.id)
    with pytest.raises(NotFound):
        await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_b.id)


async def test_same_seed_gives_the_same_run() -> None:
    """Ids, timestamps and output depend only on the seed and the clock."""
    runs = []
    for _ in range(2):
        store = make_store(failure_rate=0.3)
        team = store.add_team("T", team_id="01J00000000000000000000000")
        user = store.add_user("U", user_id="01J00000000000000000000001")
        store.add_member(team.id, user.id)
        site = store.add_site(team.id, "x.example.com", site_id="01J00000000000000000000002")
        await store.start()
        backend = store.backend_for(user.id)
        ids = [
            (await backend.trigger_deployment(team.id, "three_steps", site.id)).id for _ in range(3)
        ]
        for _ in range(12):
            await store.clock.advance(STEP_SECONDS)  # type: ignore[attr-defined]
        await store.wait_idle()
        runs.append([(await backend.get_deployment(i)).model_dump() for i in ids])
        await store.stop()
    assert runs[0] == runs[1]
    assert {r["status"] for r in runs[0]} <= {"completed", "failed"}


async def test_snapshots_report_the_output_size_as_it_grows(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    await wait_step(world, d.id, 0, StepStatus.RUNNING)
    for _ in range(2):
        got = await world.operator.get_deployment(d.id)
        listed = (await world.operator.list_deployments(world.team_a.id)).data[0]
        chunk = await world.operator.read_output(d.id, d.steps[0].id)
        assert got.steps[0].output_size == listed.steps[0].output_size == chunk.total_size > 0
        await world.advance(STEP_SECONDS / 2)
