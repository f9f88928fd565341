"""``watch`` and ``--team`` against a scripted backend: stale replays, short range reads.

The stream ``watch`` follows starts at a sequence number read before the deployment
snapshot, so it replays updates the snapshot already contains; and a range read may come
back short. Neither may print anything out of order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from backend_client.errors import NotFound
from backend_client.events import DeploymentUpdated, StepUpdated, StreamItem
from backend_client.models import (
    Deployment,
    DeploymentFilter,
    DeploymentPage,
    DeploymentStatus,
    Me,
    OutputChunk,
    Role,
    StepStatus,
    Team,
    User,
)
from tests.output.fakes import FakeOutputBackend, make_deployment
from tui import headless

DEP = "01JDEPLOY0000000000000000A"


class ScriptedBackend(FakeOutputBackend):
    """Answers ``get_deployment`` from a list of snapshots and streams a fixed script."""

    def __init__(self, snapshots: list[Deployment], script: list[StreamItem]) -> None:
        super().__init__()
        self.snapshots = snapshots
        self.script = script
        self.short_reads_at: set[int] = set()
        """Which range reads (1-based) come back empty, as from a backend not caught up."""
        self.read_count = 0
        self.teams = [Team(id="T1", name="Acme", role=Role.OPERATOR)]

    async def get_deployment(self, deployment_id: str) -> Deployment:
        return self.snapshots.pop(0) if len(self.snapshots) > 1 else self.snapshots[0]

    async def list_deployments(
        self,
        team_id: str,
        filter: DeploymentFilter | None = None,
        *,
        before: str | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        return DeploymentPage(data=[], seq=0)

    async def read_output(
        self, deployment_id: str, step_id: str, *, offset: int = 0, limit: int = 1024 * 1024
    ) -> OutputChunk:
        self.read_count += 1
        if self.read_count in self.short_reads_at:
            return OutputChunk(offset=offset, data=b"", total_size=offset)
        return await super().read_output(deployment_id, step_id, offset=offset, limit=limit)

    async def me(self) -> Me:
        return Me(user=User(id="U", name="Ada", email="ada@example.com"), teams=self.teams)

    async def _stream(self) -> AsyncIterator[StreamItem]:
        for item in self.script:
            yield item

    def subscribe(self, team_id: str, since: int | None = None) -> AsyncIterator[StreamItem]:
        return self._stream()


def _with(deployment: Deployment, status: DeploymentStatus, **steps: StepStatus) -> Deployment:
    return deployment.model_copy(
        update={
            "status": status,
            "steps": [
                s.model_copy(update={"status": steps.get(s.id.replace("-", "_"), s.status)})
                for s in deployment.steps
            ],
        }
    )


def _step_updated(deployment: Deployment, seq: int, step_id: str, status: StepStatus) -> Any:
    step = deployment.step(step_id)
    assert step is not None
    return StepUpdated(
        seq=seq,
        team_id="team",
        deployment_id=deployment.id,
        step=step.model_copy(update={"status": status}),
    )


async def test_stale_step_updates_replayed_after_the_snapshot_are_not_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = make_deployment(
        [("Prepare", StepStatus.QUEUED), ("Copy files", StepStatus.QUEUED)],
        deployment_id=DEP,
        status=DeploymentStatus.RUNNING,
    )
    # The snapshot already has step 1 completed and step 2 running...
    snapshot = _with(
        base, DeploymentStatus.RUNNING, step_1=StepStatus.COMPLETED, step_2=StepStatus.RUNNING
    )
    done = _with(
        base, DeploymentStatus.COMPLETED, step_1=StepStatus.COMPLETED, step_2=StepStatus.COMPLETED
    )
    # ...but the stream starts before it and replays how they got there.
    script: list[StreamItem] = [
        _step_updated(base, 1, "step-1", StepStatus.RUNNING),
        _step_updated(base, 2, "step-1", StepStatus.COMPLETED),
        _step_updated(base, 3, "step-2", StepStatus.RUNNING),
        _step_updated(base, 4, "step-2", StepStatus.QUEUED),  # even an odd one
        _step_updated(base, 5, "step-2", StepStatus.COMPLETED),
        _step_updated(base, 6, "step-1", StepStatus.FAILED),  # a finished step stays so
        DeploymentUpdated(seq=7, team_id="team", deployment=done),
    ]
    backend = ScriptedBackend([snapshot, snapshot, snapshot, done], script)
    status = await headless._Watcher(False, False).run(backend, DEP)
    assert status is DeploymentStatus.COMPLETED
    steps = [line.split()[2] + " " + line.split()[0] for line in _step_lines(capsys)]
    assert steps == ["Prepare ✔", "Copy ◐", "Copy ✔"], steps


def _step_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    out = capsys.readouterr().out
    return [line for line in out.splitlines() if line.startswith("  ") and ". " in line]


async def test_a_short_range_read_never_prints_output_out_of_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    running = make_deployment(
        [("Build", StepStatus.RUNNING)], deployment_id=DEP, status=DeploymentStatus.RUNNING
    )
    snapshot = running.model_copy(
        update={"steps": [running.steps[0].model_copy(update={"output_size": 7})]}
    )
    done = _with(running, DeploymentStatus.COMPLETED, step_1=StepStatus.COMPLETED)
    backend = ScriptedBackend([snapshot, snapshot, snapshot, done], [])
    backend.write(DEP, "step-1", "line 1\n")  # in the snapshot
    backend.write(DEP, "step-1", "line 2\n")  # its event is lost
    third = backend.write(DEP, "step-1", "line 3\n")  # arrives after the gap
    fourth = backend.write(DEP, "step-1", "line 4\n")
    backend.script = [third, fourth, DeploymentUpdated(seq=11, team_id="team", deployment=done)]
    backend.short_reads_at = {2}  # the read filling the gap before line 3 comes back empty
    status = await headless._Watcher(True, False).run(backend, DEP)
    assert status is DeploymentStatus.COMPLETED
    out = capsys.readouterr().out
    body = [line for line in out.splitlines() if line.startswith("line ")]
    assert body == ["line 1", "line 2", "line 3", "line 4"], out


async def test_team_may_be_given_by_name_or_id(capsys: pytest.CaptureFixture[str]) -> None:
    backend = ScriptedBackend([make_deployment([])], [])
    backend.teams = [
        Team(id="T1", name="Acme Agency", role=Role.OPERATOR),
        Team(id="T2", name="Other", role=Role.VIEWER),
    ]
    assert await headless._team_id(backend, "T2") == "T2"
    assert await headless._team_id(backend, "acme agency") == "T1"
    assert await headless._team_id(backend, "OTHER") == "T2"
    with pytest.raises(NotFound, match="no team 'nope'"):
        await headless._team_id(backend, "nope")
    capsys.readouterr()
    # Several teams and none given: the first, like the dashboard (stderr says which).
    assert await headless._team_id(backend, None) == "T1"
    err = capsys.readouterr().err
    assert err.startswith("deploytop: team Acme Agency (T1); pass --team") and "T2" in err
    backend.teams = [Team(id="T1", name="Acme", role=Role.OPERATOR)]
    assert await headless._team_id(backend, None) == "T1"


def test_ls_prints_the_next_page_cursor_terminal_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx
    from click.testing import CliRunner

    from backend_client import wire
    from backend_client.http import HttpBackend

    evil = "01J\x1b]0;owned\x07\x1b]52;c;QQ==\x07X"
    me = Me(
        user=User(id="U", name="Ada", email="ada@example.com"),
        teams=[Team(id="T1", name="Acme", role=Role.OPERATOR)],
    )
    page = DeploymentPage(data=[make_deployment([])], next_before=evil, seq=1)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == wire.Paths.me():
            return httpx.Response(200, content=me.model_dump_json())
        return httpx.Response(200, content=page.model_dump_json())

    def backend(self: headless.Connection) -> HttpBackend:
        return HttpBackend(self.url, self.token, transport=httpx.MockTransport(handler))

    monkeypatch.setattr(headless.Connection, "backend", backend)
    result = CliRunner().invoke(
        headless.ls, ["--backend", "http://x.example", "--token", "t"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "(more: older than 01JX)" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
