"""The one backend contract: what the dashboard and the headless commands call.

The in-memory backend and the HTTP client both implement :class:`Backend`, so the screen
cannot tell them apart except by latency. A backend object acts for one caller (a user, by
token): asking for a team the caller is not in raises :class:`~backend_client.errors.NotFound`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

from .events import StreamItem
from .models import Deployment, DeploymentFilter, DeploymentPage, Me, OutputChunk, Site

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_OUTPUT_READ", "MAX_PAGE_SIZE", "Backend", "DelegatingBackend"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_OUTPUT_READ = 16 * 1024 * 1024
"""The largest byte range one :meth:`Backend.read_output` call returns."""


class Backend(ABC):
    """A deployment backend, seen by one caller."""

    #: Shown in the header: "embedded" or the server's URL.
    label: str = "backend"

    @abstractmethod
    async def me(self) -> Me:
        """The caller and the teams they belong to."""

    @abstractmethod
    async def list_sites(self, team_id: str) -> list[Site]:
        """The team's sites, by domain."""

    @abstractmethod
    async def list_deployments(
        self,
        team_id: str,
        filter: DeploymentFilter | None = None,
        *,
        before: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> DeploymentPage:
        """A page of the team's deployments, newest first, steps without output.

        Args:
            team_id: The team to list.
            filter: What to narrow the list to; ``None`` for everything.
            before: A cursor (``next_before`` of the previous page): only deployments older
                than it.
            limit: Page size, 1 to :data:`MAX_PAGE_SIZE`.

        Raises:
            InvalidRequest: limit out of range, unknown status or type, malformed cursor.
            NotFound: the caller is not in the team.
        """

    @abstractmethod
    async def get_deployment(self, deployment_id: str) -> Deployment:
        """One deployment with its steps (output not included; read it by range)."""

    @abstractmethod
    async def read_output(
        self, deployment_id: str, step_id: str, *, offset: int = 0, limit: int = 1024 * 1024
    ) -> OutputChunk:
        """Bytes ``[offset, offset + limit)`` of a step's output (fewer at the end).

        Raises:
            InvalidRequest: negative offset, limit outside 1..MAX_OUTPUT_READ.
            NotFound: no such deployment or step (or another team's).
        """

    @abstractmethod
    async def cancel_deployment(self, deployment_id: str, reason: str | None = None) -> Deployment:
        """Cancel a queued or running deployment, keeping the reason.

        Raises:
            DeploymentFinished: it already ended.
            Forbidden: the caller's role may not cancel.
        """

    @abstractmethod
    async def trigger_deployment(
        self, team_id: str, type: str, site_id: str, meta: dict[str, Any] | None = None
    ) -> Deployment:
        """Start a pipeline of ``type`` on a site; returns the new (Queued) deployment.

        Raises:
            InvalidRequest: unknown pipeline type.
            NotFound: unknown site (or another team's).
            Forbidden: the caller's role may not trigger.
        """

    @abstractmethod
    def subscribe(self, team_id: str, since: int | None = None) -> AsyncIterator[StreamItem]:
        """The team's events after ``since`` (``None``: from now), then live ones.

        Yields :class:`~backend_client.events.Event` items in ``seq`` order, a
        :class:`~backend_client.events.Resync` when events after ``since`` cannot be given,
        and :class:`~backend_client.events.ConnectionStatus` when the link changes. The
        iterator runs until closed (``aclose()``) or cancelled.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to close by default
        """Release connections. Safe to call twice."""


class DelegatingBackend(Backend):
    """Forwards every call to ``inner``: subclass it to change only a few calls (a wrapper
    that seeds history on demand, a test backend that scripts its stream, ...).

    Args:
        inner: The backend that answers.
    """

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.label = inner.label

    async def me(self) -> Me:
        return await self.inner.me()

    async def list_sites(self, team_id: str) -> list[Site]:
        return await self.inner.list_sites(team_id)

    async def list_deployments(
        self,
        team_id: str,
        filter: DeploymentFilter | None = None,
        *,
        before: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> DeploymentPage:
        return await self.inner.list_deployments(team_id, filter, before=before, limit=limit)

    async def get_deployment(self, deployment_id: str) -> Deployment:
        return await self.inner.get_deployment(deployment_id)

    async def read_output(
        self, deployment_id: str, step_id: str, *, offset: int = 0, limit: int = 1024 * 1024
    ) -> OutputChunk:
        return await self.inner.read_output(deployment_id, step_id, offset=offset, limit=limit)

    async def cancel_deployment(self, deployment_id: str, reason: str | None = None) -> Deployment:
        return await self.inner.cancel_deployment(deployment_id, reason)

    async def trigger_deployment(
        self, team_id: str, type: str, site_id: str, meta: dict[str, Any] | None = None
    ) -> Deployment:
        return await self.inner.trigger_deployment(team_id, type, site_id, meta)

    def subscribe(self, team_id: str, since: int | None = None) -> AsyncIterator[StreamItem]:
        return self.inner.subscribe(team_id, since)

    async def aclose(self) -> None:
        await self.inner.aclose()
