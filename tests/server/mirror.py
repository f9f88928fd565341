"""A client-side copy of a team's deployments, kept by a subscription (like the dashboard's).

It fails loudly on anything that would corrupt a real client: an event applied twice
(``seq`` not strictly increasing), a gap without a resync, output at the wrong offset.
"""

from __future__ import annotations

from backend_client import (
    Backend,
    ConnectionStatus,
    Deployment,
    DeploymentCreated,
    DeploymentStep,
    DeploymentUpdated,
    Resync,
    StepOutput,
    StepUpdated,
    StreamItem,
)


class Mirror:
    def __init__(self, backend: Backend, team_id: str) -> None:
        self.backend = backend
        self.team_id = team_id
        self.deployments: dict[str, Deployment] = {}
        self.output_sizes: dict[str, int] = {}
        self.last_seq: int | None = None
        self.seqs: list[int] = []
        self.resyncs: list[Resync] = []
        self.statuses: list[ConnectionStatus] = []
        self.relists = 0

    async def relist(self) -> int:
        """Load every deployment (all pages); returns the seq to subscribe from."""
        self.relists += 1
        self.deployments.clear()
        self.output_sizes.clear()
        before = None
        seq = None
        while True:
            page = await self.backend.list_deployments(self.team_id, before=before, limit=500)
            seq = page.seq if seq is None else seq
            for d in page.data:
                self.deployments[d.id] = d
                for step in d.steps:
                    # Read the size by range: a listing's output_size may lag behind.
                    chunk = await self.backend.read_output(d.id, step.id, offset=0, limit=1)
                    self.output_sizes[step.id] = chunk.total_size
            if page.next_before is None:
                self.last_seq = seq
                return seq
            before = page.next_before

    async def apply(self, item: StreamItem) -> None:
        if isinstance(item, ConnectionStatus):
            self.statuses.append(item)
            return
        if isinstance(item, Resync):
            self.resyncs.append(item)
            await self.relist()
            self.last_seq = item.seq
            return
        assert self.last_seq is not None
        assert item.seq == self.last_seq + 1, f"seq {item.seq} after {self.last_seq}"
        self.last_seq = item.seq
        self.seqs.append(item.seq)
        if isinstance(item, DeploymentCreated | DeploymentUpdated):
            self._put(item.deployment)
        elif isinstance(item, StepUpdated):
            d = self.deployments.get(item.deployment_id)
            if d is not None:
                steps = [item.step if s.id == item.step.id else s for s in d.steps]
                self.deployments[d.id] = d.model_copy(update={"steps": steps})
        elif isinstance(item, StepOutput):
            have = self.output_sizes.get(item.step_id, 0)
            if item.offset == have:
                self.output_sizes[item.step_id] = have + item.size
            else:
                # Only possible right after a re-list that already counted it.
                assert item.offset < have, f"output gap: {item.offset} > {have}"

    def _put(self, deployment: Deployment) -> None:
        old = self.deployments.get(deployment.id)
        steps: list[DeploymentStep] = deployment.steps
        if old is not None and not steps:
            steps = old.steps
        self.deployments[deployment.id] = deployment.model_copy(update={"steps": steps})

    def summary(self) -> dict[str, tuple[str, tuple[tuple[str, str, int], ...]]]:
        """What must match the server: statuses, step statuses and output sizes."""
        return {
            d.id: (
                d.status.value,
                tuple(
                    (s.id, s.status.value, self.output_sizes.get(s.id, 0))
                    for s in sorted(d.steps, key=lambda s: s.sort_order)
                ),
            )
            for d in self.deployments.values()
        }


async def server_summary(
    backend: Backend, team_id: str
) -> dict[str, tuple[str, tuple[tuple[str, str, int], ...]]]:
    truth = Mirror(backend, team_id)
    await truth.relist()
    return truth.summary()
