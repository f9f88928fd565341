"""A small backend that only serves step output, for the output tests and bench."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from backend_client.clock import utc
from backend_client.contract import MAX_OUTPUT_READ, Backend
from backend_client.errors import InvalidRequest, NotFound
from backend_client.events import DeploymentUpdated, StepOutput, StepUpdated, StreamItem
from backend_client.models import (
    Deployment,
    DeploymentFilter,
    DeploymentPage,
    DeploymentStatus,
    DeploymentStep,
    Me,
    OutputChunk,
    Site,
    StepStatus,
)

T0 = utc(2026, 11, 26, 12, 0, 0)


class FakeOutputBackend(Backend):
    """Serves ``read_output`` from byte buffers the test writes to, and ``get_deployment``
    from :attr:`deployments`; nothing else."""

    label = "fake"

    def __init__(self) -> None:
        self.outputs: dict[tuple[str, str], bytearray] = {}
        self.finished: set[tuple[str, str]] = set()
        self.truncated: set[tuple[str, str]] = set()
        self.reads: list[tuple[str, str, int, int]] = []
        self.gate: asyncio.Event | None = None
        """When set to an Event, reads wait for it (to test events racing a read)."""
        self.seq = 0
        self.deployments: dict[str, Deployment] = {}
        """What ``get_deployment`` answers (a test sets the backend's current snapshot)."""

    def update(self, deployment: Deployment) -> DeploymentUpdated:
        """Make ``deployment`` the current snapshot; returns the event a backend would send."""
        self.deployments[deployment.id] = deployment
        self.seq += 1
        return DeploymentUpdated(seq=self.seq, team_id="team", deployment=deployment)

    def write(self, deployment_id: str, step_id: str, data: str) -> StepOutput:
        """Append to an output; returns the event a backend would send."""
        buf = self.outputs.setdefault((deployment_id, step_id), bytearray())
        offset = len(buf)
        buf += data.encode("utf-8")
        self.seq += 1
        return StepOutput(
            seq=self.seq,
            team_id="team",
            deployment_id=deployment_id,
            step_id=step_id,
            offset=offset,
            data=data,
        )

    def finish(self, deployment: Deployment, step_id: str, status: StepStatus) -> StepUpdated:
        key = (deployment.id, step_id)
        self.finished.add(key)
        step = deployment.step(step_id)
        assert step is not None
        self.seq += 1
        return StepUpdated(
            seq=self.seq,
            team_id="team",
            deployment_id=deployment.id,
            step=step.model_copy(
                update={"status": status, "output_size": len(self.outputs.get(key, b""))}
            ),
        )

    async def read_output(
        self, deployment_id: str, step_id: str, *, offset: int = 0, limit: int = 1024 * 1024
    ) -> OutputChunk:
        if offset < 0 or not 1 <= limit <= MAX_OUTPUT_READ:
            raise InvalidRequest("bad range")
        key = (deployment_id, step_id)
        self.reads.append((deployment_id, step_id, offset, limit))
        if self.gate is not None:
            await self.gate.wait()
        if key not in self.outputs:
            raise NotFound(f"no output for step {step_id}")
        buf = self.outputs[key]
        return OutputChunk(
            offset=offset,
            data=bytes(buf[offset : offset + limit]),
            total_size=len(buf),
            truncated=key in self.truncated,
            complete=key in self.finished,
        )

    async def me(self) -> Me:
        raise NotImplementedError

    async def list_sites(self, team_id: str) -> list[Site]:
        raise NotImplementedError

    async def list_deployments(
        self,
        team_id: str,
        filter: DeploymentFilter | None = None,
        *,
        before: str | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        raise NotImplementedError

    async def get_deployment(self, deployment_id: str) -> Deployment:
        try:
            return self.deployments[deployment_id]
        except KeyError:
            raise NotFound(f"no deployment {deployment_id}") from None

    async def cancel_deployment(self, deployment_id: str, reason: str | None = None) -> Deployment:
        raise NotImplementedError

    async def trigger_deployment(
        self, team_id: str, type: str, site_id: str, meta: dict[str, Any] | None = None
    ) -> Deployment:
        raise NotImplementedError

    def subscribe(self, team_id: str, since: int | None = None) -> AsyncIterator[StreamItem]:
        raise NotImplementedError


def make_deployment(
    steps: list[tuple[str, StepStatus]],
    *,
    deployment_id: str = "01JDEPLOY0000000000000000A",
    status: DeploymentStatus = DeploymentStatus.FAILED,
) -> Deployment:
    """A deployment with the given (name, status) steps, ids ``step-1``, ``step-2``, ..."""
    return Deployment(
        id=deployment_id,
        team_id="team",
        user_id="user",
        site_id="site",
        type="clone_site",
        status=status,
        operation_name="Clone shop.example.com",
        created_at=T0,
        started_at=T0,
        finished_at=T0 + timedelta(minutes=3),
        site_domain="shop.example.com",
        user_name="Ada Lovelace",
        steps=[
            DeploymentStep(
                id=f"step-{n}",
                deployment_id=deployment_id,
                name=name,
                status=step_status,
                sort_order=n,
                started_at=T0 + timedelta(seconds=10 * n),
                finished_at=None
                if step_status in (StepStatus.RUNNING, StepStatus.QUEUED)
                else T0 + timedelta(seconds=10 * n + 7),
            )
            for n, (name, step_status) in enumerate(steps, start=1)
        ],
    )
