"""Everything a backend pushes to a subscriber of a team's changes.

Each change is one event with a sequence number, strictly increasing and contiguous per
team (``seq`` n is followed by n + 1), so a gap is detectable. Output arrives as appended
chunks, never the whole output again.

Two items in a subscription are not changes and carry no sequence of their own:

- :class:`Resync`: the backend cannot give the subscriber a gap-free stream from where it
  asked (too old, the subscriber fell behind, the server restarted). Re-list, then carry on:
  the stream continues after ``seq``.
- :class:`ConnectionStatus`: the state of the link to the backend, for the screen to show.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .models import Deployment, DeploymentStep

__all__ = [
    "ConnectionState",
    "ConnectionStatus",
    "DeploymentCreated",
    "DeploymentUpdated",
    "Event",
    "Resync",
    "StepOutput",
    "StepUpdated",
    "StreamItem",
    "event_adapter",
]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    seq: int
    team_id: str


class DeploymentCreated(_Event):
    """A new deployment (all steps Queued). Steps come without output."""

    kind: Literal["deployment.created"] = "deployment.created"
    deployment: Deployment


class DeploymentUpdated(_Event):
    """A deployment's own fields changed (status, times, cancel reason); steps included
    without output."""

    kind: Literal["deployment.updated"] = "deployment.updated"
    deployment: Deployment


class StepUpdated(_Event):
    """A step changed status or times. The step comes without output."""

    kind: Literal["step.updated"] = "step.updated"
    deployment_id: str
    step: DeploymentStep


class StepOutput(_Event):
    """Text appended to a step's output, starting at byte ``offset``."""

    kind: Literal["step.output"] = "step.output"
    deployment_id: str
    step_id: str
    offset: int
    data: str

    @property
    def size(self) -> int:
        return len(self.data.encode("utf-8"))


class Resync(_Event):
    """Re-list: events were lost. The stream goes on after ``seq``."""

    kind: Literal["resync"] = "resync"
    reason: str


Event = Annotated[
    DeploymentCreated | DeploymentUpdated | StepUpdated | StepOutput | Resync,
    Field(discriminator="kind"),
]
"""Any sequenced item of a team's stream."""

event_adapter: TypeAdapter[Event] = TypeAdapter(Event, config=ConfigDict(defer_build=True))
"""Validates and serialises events (JSON in and out); built on first use, like the models
(``defer_build``: the dashboard's first frame on the in-memory backend validates none)."""


class ConnectionState(StrEnum):
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


class ConnectionStatus(BaseModel):
    """The state of the link to the backend, reported in the stream when it changes."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: Literal["connection"] = "connection"
    state: ConnectionState
    attempt: int = 0
    """Reconnect attempts so far (0 when connected)."""
    next_retry_at: datetime | None = None
    """When the next reconnect attempt starts."""
    since: datetime | None = None
    """When the link went down (for reconnecting/offline) or came up (connected)."""
    error: str | None = None
    """Why the link went down, in one line."""


StreamItem = Event | ConnectionStatus
"""What a subscription yields."""
