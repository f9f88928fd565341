"""The domain model's derived values, validation, and the error tree."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from backend_client import (
    BackendError,
    Conflict,
    Deployment,
    DeploymentFilter,
    DeploymentFinished,
    DeploymentStatus,
    DeploymentStep,
    NotFound,
    StepStatus,
)
from backend_client.clock import FakeClock, utc
from backend_client.errors import error_for_code
from backend_client.events import StepOutput, event_adapter

T0 = utc(2026, 11, 26, 9, 0, 0)


def _step(n: int, status: StepStatus, start: int | None = None, end: int | None = None):  # type: ignore[no-untyped-def]
    return DeploymentStep(
        id=f"S{n}",
        deployment_id="D",
        name=f"Step {n}",
        status=status,
        sort_order=n,
        started_at=None if start is None else T0 + timedelta(seconds=start),
        finished_at=None if end is None else T0 + timedelta(seconds=end),
    )


def _deployment(status: DeploymentStatus, steps: list[DeploymentStep], **kw: object) -> Deployment:
    return Deployment(
        id="01JD0000000000000000000000",
        team_id="T",
        user_id="U",
        site_id="S",
        type="clone_site",
        status=status,
        operation_name="Clone a → b",
        created_at=T0,
        steps=steps,
        **kw,  # type: ignore[arg-type]
    )


def test_finished_statuses() -> None:
    assert [s for s in DeploymentStatus if s.is_finished] == [
        DeploymentStatus.COMPLETED,
        DeploymentStatus.FAILED,
        DeploymentStatus.CANCELLED,
    ]
    assert DeploymentStatus.QUEUED.is_active and DeploymentStatus.RUNNING.is_active
    assert not StepStatus.RUNNING.is_finished and StepStatus.SKIPPED.is_finished


def test_durations_and_progress_with_a_clock() -> None:
    clock = FakeClock(T0 + timedelta(seconds=95))
    d = _deployment(
        DeploymentStatus.RUNNING,
        [
            _step(1, StepStatus.COMPLETED, 0, 30),
            _step(2, StepStatus.SKIPPED, 30, 30),
            _step(3, StepStatus.RUNNING, 30),
            _step(4, StepStatus.QUEUED),
        ],
        started_at=T0,
    )
    assert d.progress == (2, 4)
    assert d.duration(clock.now()) == timedelta(seconds=95)
    assert d.duration() is None
    assert d.running_step is not None and d.running_step.name == "Step 3"
    assert d.steps[2].duration(clock.now()) == timedelta(seconds=65)
    assert d.steps[0].duration() == timedelta(seconds=30)
    assert d.steps[3].duration(clock.now()) is None
    assert d.failed_step is None


def test_a_finished_deployment_ignores_the_clock() -> None:
    d = _deployment(
        DeploymentStatus.FAILED,
        [_step(1, StepStatus.FAILED, 0, 12)],
        started_at=T0,
        finished_at=T0 + timedelta(seconds=12),
    )
    assert d.duration(T0 + timedelta(days=3)) == timedelta(seconds=12)
    assert d.failed_step is not None and d.failed_step.sort_order == 1
    assert d.is_finished


def test_models_are_immutable_snapshots() -> None:
    d = _deployment(DeploymentStatus.QUEUED, [])
    with pytest.raises(ValidationError):
        d.status = DeploymentStatus.RUNNING  # type: ignore[misc]


def test_filter_matching() -> None:
    d = _deployment(
        DeploymentStatus.FAILED, [], site_domain="shop.example.com", user_name="Ada Lovelace"
    )
    assert DeploymentFilter().matches(d) and DeploymentFilter().is_empty
    assert DeploymentFilter.of(statuses=["failed"]).matches(d)
    assert not DeploymentFilter.of(statuses=["queued", "running"]).matches(d)
    assert DeploymentFilter.of(text="  SHOP ").matches(d)
    assert DeploymentFilter.of(text="ada love").matches(d)
    assert not DeploymentFilter.of(text="blog").matches(d)
    assert DeploymentFilter.of(text="   ").text is None
    assert not DeploymentFilter.of(types=["create_site"]).matches(d)
    assert not DeploymentFilter.of(site_id="other").matches(d)
    with pytest.raises(ValueError):
        DeploymentFilter.of(statuses=["exploded"])


def test_error_tree_and_codes() -> None:
    assert issubclass(DeploymentFinished, Conflict)
    err = error_for_code("deployment_finished", "already completed")
    assert isinstance(err, DeploymentFinished) and str(err) == "already completed"
    assert err.http_status == 409
    assert isinstance(error_for_code("not_found", "x"), NotFound)
    unknown = error_for_code("martian", "?")
    assert type(unknown) is BackendError


def test_events_round_trip_through_json() -> None:
    event = StepOutput(seq=4, team_id="T", deployment_id="D", step_id="S", offset=10, data="é\n")
    assert event.size == 3
    again = event_adapter.validate_json(event_adapter.dump_json(event))
    assert again == event
    with pytest.raises(ValidationError):
        event_adapter.validate_json(b'{"kind": "step.exploded", "seq": 1, "team_id": "T"}')
