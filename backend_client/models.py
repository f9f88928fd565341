"""The domain: deployments, their steps, sites, teams and the people who trigger them.

These are immutable snapshots handed out by a backend; a backend never shares its own
mutable state with callers. Timestamps are timezone-aware UTC. Durations and progress are
derived, with a clock (``now``) passed in for things still running.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "PIPELINE_TYPES",
    "Deployment",
    "DeploymentFilter",
    "DeploymentPage",
    "DeploymentStatus",
    "DeploymentStep",
    "Me",
    "OutputChunk",
    "Role",
    "Site",
    "StepStatus",
    "Team",
    "User",
]

#: Every pipeline type the bundled engine knows, in the order a picker shows them.
PIPELINE_TYPES: tuple[str, ...] = (
    "create_site",
    "clone_site",
    "create_staging",
    "push_staging",
    "refresh_staging",
    "backup_site",
    "restore_backup",
    "create_snapshot",
    "restore_snapshot",
    "create_time_capsule",
    "restore_time_capsule",
    "delete_site",
)


class DeploymentStatus(StrEnum):
    """Where a deployment is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        """True once the deployment can no longer change (completed, failed, cancelled)."""
        return self in _FINISHED_DEPLOYMENT

    @property
    def is_active(self) -> bool:
        """True while queued or running."""
        return not self.is_finished


_FINISHED_DEPLOYMENT = frozenset(
    {DeploymentStatus.COMPLETED, DeploymentStatus.FAILED, DeploymentStatus.CANCELLED}
)


class StepStatus(StrEnum):
    """Where a step is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        """True once the step ran (or was skipped or stopped) and will not change."""
        return self not in (StepStatus.QUEUED, StepStatus.RUNNING)


class Role(StrEnum):
    """What a member may do in a team."""

    OPERATOR = "operator"
    """May read, cancel and trigger."""
    VIEWER = "viewer"
    """May only read."""


def _elapsed(
    started_at: datetime | None, finished_at: datetime | None, now: datetime | None
) -> timedelta | None:
    if started_at is None:
        return None
    end = finished_at if finished_at is not None else now
    if end is None:
        return None
    return max(end - started_at, timedelta(0))


class DeploymentStep(BaseModel):
    """One named step of a deployment's pipeline."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    deployment_id: str
    name: str
    status: StepStatus
    sort_order: int
    output: str | None = None
    """The whole output, when the backend included it; ``None`` means read it by range."""
    output_size: int = 0
    """Size of the output in bytes (UTF-8), whether or not ``output`` is included."""
    output_truncated: bool = False
    """True when the backend stopped storing output because it grew past its limit."""
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def duration(self, now: datetime | None = None) -> timedelta | None:
        """How long the step ran; for a running step, up to ``now``."""
        return _elapsed(self.started_at, self.finished_at, now)


class Deployment(BaseModel):
    """One run of a pipeline on a site."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    """A ULID: sortable, so newest first is descending id order."""
    team_id: str
    user_id: str
    site_id: str
    type: str
    """The pipeline type, e.g. ``clone_site``."""
    status: DeploymentStatus
    operation_name: str
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_reason: str | None = None
    user_name: str | None = None
    """Display name of the user who triggered it, where the backend knows it."""
    site_domain: str | None = None
    """Domain of the site, where the backend knows it."""
    steps: list[DeploymentStep] = Field(default_factory=list)

    @property
    def is_finished(self) -> bool:
        return self.status.is_finished

    def duration(self, now: datetime | None = None) -> timedelta | None:
        """How long the deployment ran; for a running one, up to ``now``."""
        return _elapsed(self.started_at, self.finished_at, now)

    @property
    def progress(self) -> tuple[int, int]:
        """(finished steps, total steps)."""
        done = sum(1 for step in self.steps if step.status.is_finished)
        return done, len(self.steps)

    @property
    def running_step(self) -> DeploymentStep | None:
        return next((s for s in self.steps if s.status is StepStatus.RUNNING), None)

    @property
    def failed_step(self) -> DeploymentStep | None:
        return next((s for s in self.steps if s.status is StepStatus.FAILED), None)

    def step(self, step_id: str) -> DeploymentStep | None:
        return next((s for s in self.steps if s.id == step_id), None)


class User(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    name: str
    email: str | None = None


class Team(BaseModel):
    """A team as the caller sees it, with the caller's role in it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    name: str
    role: Role = Role.VIEWER


class Me(BaseModel):
    """The caller and the teams they belong to."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    user: User
    teams: list[Team]

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def find_team(self, ref: str) -> Team | None:
        """The team whose id is ``ref``, else the one team named ``ref`` (ignoring case).

        ``None`` when there is no such team, or several teams have that name.
        """
        by_id = self.team(ref)
        if by_id is not None:
            return by_id
        folded = ref.strip().casefold()
        named = [t for t in self.teams if t.name.casefold() == folded]
        return named[0] if len(named) == 1 else None


class Site(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    team_id: str
    domain: str
    server: str | None = None


class DeploymentFilter(BaseModel):
    """What a deployment list is narrowed to. Empty sets mean "any"."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    site_id: str | None = None
    statuses: frozenset[DeploymentStatus] = frozenset()
    types: frozenset[str] = frozenset()
    text: str | None = None
    """Case-insensitive substring of operation name, type, site domain, user name or id."""

    @field_validator("text")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return value or None

    @classmethod
    def of(
        cls,
        *,
        site_id: str | None = None,
        statuses: Iterable[DeploymentStatus | str] = (),
        types: Iterable[str] = (),
        text: str | None = None,
    ) -> DeploymentFilter:
        """Build a filter from loose arguments (strings accepted for statuses)."""
        return cls(
            site_id=site_id,
            statuses=frozenset(DeploymentStatus(s) for s in statuses),
            types=frozenset(types),
            text=text,
        )

    @property
    def is_empty(self) -> bool:
        return not (self.site_id or self.statuses or self.types or self.text)

    def matches(self, deployment: Deployment) -> bool:
        """Whether a deployment belongs in a list with this filter."""
        if self.site_id is not None and deployment.site_id != self.site_id:
            return False
        if self.statuses and deployment.status not in self.statuses:
            return False
        if self.types and deployment.type not in self.types:
            return False
        if self.text is not None:
            needle = self.text.casefold()
            haystack = " ".join(
                (
                    deployment.id,
                    deployment.operation_name,
                    deployment.type,
                    deployment.site_domain or "",
                    deployment.user_name or "",
                )
            ).casefold()
            if needle not in haystack:
                return False
        return True


class DeploymentPage(BaseModel):
    """One page of a deployment list, newest first."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    data: list[Deployment]
    next_before: str | None = None
    """Pass as ``before`` to get the next (older) page; ``None`` at the end."""
    seq: int = 0
    """The team's event sequence number when this page was read: subscribe from it."""


class OutputChunk(BaseModel):
    """A byte range of a step's output."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    offset: int
    data: bytes
    total_size: int
    """The output's whole size in bytes at the time of reading."""
    truncated: bool = False
    """True when the backend stopped storing output past its limit."""
    complete: bool = False
    """True when the step has finished, so ``total_size`` will not grow."""

    @property
    def end(self) -> int:
        return self.offset + len(self.data)
