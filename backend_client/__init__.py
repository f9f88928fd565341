"""deploytop's backend layer: the domain, the backend contract, and its implementations.

This package never imports Textual or the ``tui`` package (a test enforces it), so the
headless commands and the server can use it without the screen.
"""

from .clock import Clock, FakeClock, SystemClock
from .contract import DEFAULT_PAGE_SIZE, MAX_OUTPUT_READ, MAX_PAGE_SIZE, Backend
from .errors import (
    BackendError,
    Conflict,
    DeploymentFinished,
    DeploytopError,
    Forbidden,
    InvalidRequest,
    NotFound,
    ProtocolError,
    Unauthorized,
    Unavailable,
)
from .events import (
    ConnectionState,
    ConnectionStatus,
    DeploymentCreated,
    DeploymentUpdated,
    Event,
    Resync,
    StepOutput,
    StepUpdated,
    StreamItem,
)
from .models import (
    PIPELINE_TYPES,
    Deployment,
    DeploymentFilter,
    DeploymentPage,
    DeploymentStatus,
    DeploymentStep,
    Me,
    OutputChunk,
    Role,
    Site,
    StepStatus,
    Team,
    User,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_OUTPUT_READ",
    "MAX_PAGE_SIZE",
    "PIPELINE_TYPES",
    "Backend",
    "BackendError",
    "Clock",
    "Conflict",
    "ConnectionState",
    "ConnectionStatus",
    "Deployment",
    "DeploymentCreated",
    "DeploymentFilter",
    "DeploymentFinished",
    "DeploymentPage",
    "DeploymentStatus",
    "DeploymentStep",
    "DeploymentUpdated",
    "DeploytopError",
    "Event",
    "FakeClock",
    "Forbidden",
    "InvalidRequest",
    "Me",
    "NotFound",
    "OutputChunk",
    "ProtocolError",
    "Resync",
    "Role",
    "Site",
    "StepOutput",
    "StepStatus",
    "StepUpdated",
    "StreamItem",
    "SystemClock",
    "Team",
    "Unauthorized",
    "Unavailable",
    "User",
]
