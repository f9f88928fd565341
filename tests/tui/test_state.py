"""The client-side state on its own: ordering, incremental rows, dedupe, gaps, filters."""

from __future__ import annotations

from datetime import timedelta

from backend_client.clock import utc
from backend_client.events import (
    ConnectionState,
    ConnectionStatus,
    DeploymentCreated,
    DeploymentUpdated,
    Resync,
    StepOutput,
    StepUpdated,
)
from backend_client.models import (
    Deployment,
    DeploymentFilter,
    DeploymentPage,
    DeploymentStatus,
    DeploymentStep,
    Role,
    StepStatus,
    Team,
)
from tui.state import DashboardState

T0 = utc(2026, 11, 26, 12, 0, 0)
TEAM = Team(id="T1", name="Team", role=Role.OPERATOR)


def dep(
    n: int, status: DeploymentStatus = DeploymentStatus.COMPLETED, steps: int = 3
) -> Deployment:
    dep_id = f"01D{n:023d}"
    return Deployment(
        id=dep_id,
        team_id="T1",
        user_id="U",
        site_id="S",
        type="backup_site",
        status=status,
        operation_name=f"op {n}",
        created_at=T0 + timedelta(minutes=n),
        steps=[
            DeploymentStep(
                id=f"{dep_id}-s{i}",
                deployment_id=dep_id,
                name=f"step {i}",
                status=StepStatus.QUEUED,
                sort_order=i,
            )
            for i in range(steps)
        ],
    )


def loaded(count: int, *, page_end: int = 0, seq: int = 10) -> DashboardState:
    """A state with deployments ``count-1 .. page_end`` loaded (newest first)."""
    state = DashboardState()
    state.set_team(TEAM)
    data = [dep(n) for n in range(count - 1, page_end - 1, -1)]
    state.reset(DeploymentPage(data=data, next_before=data[-1].id if page_end else None, seq=seq))
    state.take_changes()
    return state


def test_rows_are_newest_first_and_expand_in_place() -> None:
    state = loaded(5)
    assert [r[0] for r in state.rows] == [dep(n).id for n in (4, 3, 2, 1, 0)]
    state.expand(dep(2).id)
    assert state.rows[2:6] == [(dep(2).id, -1), (dep(2).id, 0), (dep(2).id, 1), (dep(2).id, 2)]
    assert state.row_index(dep(1).id) == 6
    assert state.take_changes().structural
    state.collapse(dep(2).id)
    assert len(state.rows) == 5
    assert state.row_index(dep(1).id) == 3


def test_new_deployment_goes_on_top_and_duplicates_are_dropped() -> None:
    state = loaded(3)
    created = DeploymentCreated(seq=11, team_id="T1", deployment=dep(9, DeploymentStatus.QUEUED))
    state.apply(created)
    state.apply(created)  # same seq again: ignored
    assert state.rows[0] == (dep(9).id, -1)
    assert len(state.rows) == 4
    assert state.seq == 11
    assert state.active == {dep(9).id: DeploymentStatus.QUEUED}
    changes = state.take_changes()
    assert changes.structural and changes.header


def test_update_replaces_snapshot_and_marks_only_that_row() -> None:
    state = loaded(3)
    running = dep(1, DeploymentStatus.RUNNING)
    state.apply(DeploymentUpdated(seq=11, team_id="T1", deployment=running))
    changes = state.take_changes()
    assert changes.dirty == {running.id}
    assert not changes.structural
    assert state.deployments[running.id].status is DeploymentStatus.RUNNING


def test_step_update_changes_progress_and_goes_to_output() -> None:
    seen: list[object] = []
    state = loaded(3)
    state.on_output = seen.append
    d = dep(1)
    step = d.steps[0].model_copy(update={"status": StepStatus.COMPLETED})
    ev = StepUpdated(seq=11, team_id="T1", deployment_id=d.id, step=step)
    state.apply(ev)
    assert state.deployments[d.id].progress == (1, 3)
    out = StepOutput(seq=12, team_id="T1", deployment_id=d.id, step_id=step.id, offset=0, data="x")
    state.apply(out)
    assert seen == [ev, out]


def test_deployment_snapshots_go_to_output_too() -> None:
    # An open pager follows its deployment's status (a queued one cancelled before any step
    # ran sends no step event at all).
    seen: list[object] = []
    state = loaded(3)
    state.on_output = seen.append
    created = DeploymentCreated(seq=11, team_id="T1", deployment=dep(7))
    cancelled = DeploymentUpdated(
        seq=12, team_id="T1", deployment=dep(7, DeploymentStatus.CANCELLED)
    )
    state.apply(created)
    state.apply(cancelled)
    assert seen == [created, cancelled]


def test_watched_deployment_finishing_is_reported_once_and_unwatched() -> None:
    state = loaded(3)
    d = dep(7, DeploymentStatus.RUNNING)
    state.apply(DeploymentCreated(seq=11, team_id="T1", deployment=d))
    state.watched.add(d.id)
    state.take_changes()
    done = dep(7, DeploymentStatus.COMPLETED)
    state.apply(DeploymentUpdated(seq=12, team_id="T1", deployment=done))
    state.apply(DeploymentUpdated(seq=13, team_id="T1", deployment=done))
    assert [f.id for f in state.take_changes().finished_watched] == [d.id]
    assert d.id not in state.watched


def test_gap_and_resync_ask_for_a_relist() -> None:
    state = loaded(3)
    state.apply(DeploymentUpdated(seq=13, team_id="T1", deployment=dep(1)))
    assert state.resync_needed is not None and state.resync_needed.startswith("gap")
    assert state.seq == 10  # the event after the gap is not applied
    state = loaded(3)
    state.apply(Resync(seq=40, team_id="T1", reason="too old"))
    assert state.resync_needed == "resync: too old"
    state.reset(DeploymentPage(data=[dep(2)], seq=41))
    assert state.resync_needed is None
    assert state.seq == 41


def test_failure_while_watching_is_reported_once() -> None:
    state = loaded(3)
    d = dep(7, DeploymentStatus.RUNNING)
    state.apply(DeploymentCreated(seq=11, team_id="T1", deployment=d))
    failed = dep(7, DeploymentStatus.FAILED)
    state.apply(DeploymentUpdated(seq=12, team_id="T1", deployment=failed))
    state.apply(DeploymentUpdated(seq=13, team_id="T1", deployment=failed))
    assert [f.id for f in state.take_changes().failed] == [d.id]
    assert state.active == {}


def test_filter_drops_deployments_that_stop_matching() -> None:
    state = DashboardState()
    state.set_team(TEAM)
    state.set_filter(DeploymentFilter.of(statuses=["queued", "running"]))
    running = dep(5, DeploymentStatus.RUNNING)
    state.reset(DeploymentPage(data=[running], seq=1))
    state.apply(DeploymentUpdated(seq=2, team_id="T1", deployment=dep(5)))
    assert state.rows == []
    # A new matching one appears.
    state.apply(DeploymentCreated(seq=3, team_id="T1", deployment=dep(6, DeploymentStatus.QUEUED)))
    assert state.rows == [(dep(6).id, -1)]


def test_older_than_loaded_is_not_inserted_and_is_refetched_with_its_page() -> None:
    state = loaded(10, page_end=5, seq=10)  # 9..5 loaded, more history below
    old = dep(2, DeploymentStatus.FAILED)
    state.apply(DeploymentUpdated(seq=11, team_id="T1", deployment=old))
    assert old.id not in state.deployments
    stale = state.add_page(DeploymentPage(data=[dep(n) for n in (4, 3, 2, 1, 0)], seq=10))
    assert stale == [old.id]
    state.replace(old)
    assert state.deployments[old.id].status is DeploymentStatus.FAILED
    assert [r[0] for r in state.rows] == [dep(n).id for n in range(9, -1, -1)]
    assert state.exhausted


def test_connection_status_and_staleness_inputs() -> None:
    state = loaded(1)
    status = ConnectionStatus(state=ConnectionState.RECONNECTING, attempt=2)
    state.apply(status, T0)
    assert state.connection is status
    assert state.take_changes().connection


def test_cost_of_an_update_does_not_depend_on_history() -> None:
    # Structural: inserting at the top of 20k rows is a binary search and a list insert.
    state = loaded(20_000)
    for n in range(20_000, 20_050):
        state.apply(DeploymentCreated(seq=n - 19_989, team_id="T1", deployment=dep(n)))
    assert len(state.rows) == 20_050
    assert state.rows[0] == (dep(20_049).id, -1)
