"""Headless fixes from the operator QA pass: "not run" steps, clipped columns, default team."""

from __future__ import annotations

from datetime import timedelta

from backend_client import Deployment
from backend_client.clock import utc
from backend_client.models import DeploymentStatus, DeploymentStep, StepStatus
from tui import headless

from .test_headless import Threaded, run, threaded

__all__ = ["threaded"]  # the fixture, shared with test_headless

T0 = utc(2026, 11, 26, 12, 0, 0)


def test_clip_marks_a_cut_with_an_ellipsis() -> None:
    assert headless._clip("short", 10) == "short"
    assert headless._clip("exactly-10", 10) == "exactly-10"
    assert headless._clip("a-much-longer-domain.example.com", 10) == "a-much-lo…"


def test_show_says_not_run_for_steps_of_a_finished_deployment() -> None:
    dep_id = "01D" + "0" * 23
    dep = Deployment(
        id=dep_id,
        team_id="T",
        user_id="U",
        site_id="S",
        type="quick",
        status=DeploymentStatus.CANCELLED,
        operation_name="op",
        created_at=T0,
        finished_at=T0 + timedelta(seconds=1),
        steps=[
            DeploymentStep(
                id=f"{dep_id}-s{i}",
                deployment_id=dep_id,
                name=f"step {i}",
                status=status,
                sort_order=i + 1,
            )
            for i, status in enumerate([StepStatus.CANCELLED, StepStatus.QUEUED])
        ],
    )
    lines = list(headless._describe(dep, T0))
    assert "cancelled" in lines[-2]
    assert "\u2013" in lines[-1] and "not run" in lines[-1] and "queued" not in lines[-1]


def test_ls_clips_long_sites_with_an_ellipsis_and_defaults_to_the_first_team(
    threaded: Threaded,
) -> None:
    world = threaded.world
    domain = "a-very-long-site-name.staging.example-agency.com"

    async def setup() -> Deployment:
        # The operator joins a second team (a multi-team user) and deploys a long-named site.
        world.store.add_member(world.team_b.id, world.operator.id)
        site = world.store.add_site(world.team_a.id, domain)
        backend = world.store.backend_for(world.operator.id)
        return await backend.trigger_deployment(world.team_a.id, "quick", site.id, None)

    dep = threaded.call(setup())
    threaded.settle()
    result = run(threaded, "ls")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"deploytop: team Team A ({world.team_a.id}); pass --team")
    line = next(line for line in result.stdout.splitlines() if line.startswith(dep.id))
    site_column = line[26 + 2 + 9 + 2 + 20 + 2 :][:28]
    assert site_column == domain[:27] + "…"
    other = run(threaded, "ls", "--team", "Team B")
    assert other.exit_code == 0 and other.stderr == ""
