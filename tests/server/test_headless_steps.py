"""Headless ``show``/``ls``/``watch`` say where a failed or cancelled deployment stopped.

``Deployment.progress`` counts finished steps, the failed one included: ``4/4`` alone read as
"all done" for a deployment that failed at its last step.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from backend_client import Deployment
from backend_client.clock import utc
from backend_client.models import DeploymentStatus, DeploymentStep, StepStatus
from tui import headless

from .test_headless import Threaded, run, threaded

__all__ = ["threaded"]  # the fixture, shared with test_headless

T0 = utc(2026, 11, 26, 12, 0, 0)
NAMES = ["Prepare", "Export", "Sync", "Copy files", "Verify"]
Q, R, C, F, X, S = (
    StepStatus.QUEUED,
    StepStatus.RUNNING,
    StepStatus.COMPLETED,
    StepStatus.FAILED,
    StepStatus.CANCELLED,
    StepStatus.SKIPPED,
)


def deployment(status: DeploymentStatus, steps: list[StepStatus]) -> Deployment:
    dep_id = "01D" + "0" * 23
    finished: dict[str, Any] = {}
    if status.is_finished:
        finished["finished_at"] = T0 + timedelta(seconds=30)
    return Deployment(
        id=dep_id,
        team_id="T",
        user_id="U",
        site_id="S",
        type="quick",
        status=status,
        operation_name="op",
        created_at=T0,
        started_at=T0,
        steps=[
            DeploymentStep(
                id=f"{dep_id}-s{n}",
                deployment_id=dep_id,
                name=NAMES[n],
                status=step_status,
                sort_order=n + 1,
            )
            for n, step_status in enumerate(steps)
        ],
        **finished,
    )


def status_line(dep: Deployment) -> str:
    line = next(line for line in headless._describe(dep, T0) if line.startswith("  status"))
    return line.removeprefix("  status    ")


def test_a_failed_deployment_says_the_step_it_failed_at() -> None:
    last = deployment(DeploymentStatus.FAILED, [C, C, S, F])
    assert last.progress == (4, 4)  # what used to be shown: "(4/4 steps)"
    assert status_line(last) == "failed at step 4/4 (\u201cCopy files\u201d)"
    assert headless._steps_cell(last) == "✘ 4/4"
    middle = deployment(DeploymentStatus.FAILED, [C, C, C, F, Q])
    assert status_line(middle) == "failed at step 4/5 (\u201cCopy files\u201d)"
    assert headless._steps_cell(middle) == "✘ 4/5"
    # A failure the backend did not pin on a step: the finished count, marked failed.
    stepless = deployment(DeploymentStatus.FAILED, [C, Q, Q])
    assert status_line(stepless) == "failed  (1/3 steps)"
    assert headless._steps_cell(stepless) == "✘ 1/3"


def test_a_cancelled_deployment_says_where_it_stopped() -> None:
    at = deployment(DeploymentStatus.CANCELLED, [C, X, Q])
    assert status_line(at) == "cancelled at step 2/3 (\u201cExport\u201d)"
    assert headless._steps_cell(at) == "⊘ 2/3"
    queued = deployment(DeploymentStatus.CANCELLED, [Q, Q, Q])
    assert status_line(queued) == "cancelled before step 1/3"
    assert headless._steps_cell(queued) == "⊘ 1/3"


def test_completed_and_active_keep_the_finished_count() -> None:
    done = deployment(DeploymentStatus.COMPLETED, [C, S, C])
    assert status_line(done) == "completed  (3/3 steps)"
    assert headless._steps_cell(done) == "3/3"
    running = deployment(DeploymentStatus.RUNNING, [C, R, Q])
    assert status_line(running) == "running at step 2/3 (\u201cExport\u201d)"
    assert headless._steps_cell(running) == "1/3"  # as the dashboard's list: finished/total
    queued = deployment(DeploymentStatus.QUEUED, [Q, Q])
    assert status_line(queued) == "queued  (0/2 steps)"
    assert headless._steps_cell(queued) == "0/2"


def test_step_names_in_the_status_line_are_terminal_safe() -> None:
    dep = deployment(DeploymentStatus.FAILED, [C, F])
    evil = dep.steps[1].model_copy(update={"name": "Copy\x1b]0;owned\x07 files"})
    dep = dep.model_copy(update={"steps": [dep.steps[0], evil]})
    assert "\x1b" not in status_line(dep) and "\x07" not in status_line(dep)


def test_show_ls_and_watch_against_a_server(threaded: Threaded) -> None:
    d = threaded.trigger(meta={"simulate": {"fail_step": "Copy files"}})
    threaded.settle()
    shown = run(threaded, "show", d.id)
    assert shown.exit_code == 0, shown.output
    assert "  status    failed at step 2/3 (\u201cCopy files\u201d)\n" in shown.stdout
    listed = run(threaded, "ls")
    header, row = listed.stdout.splitlines()[:2]
    assert row.startswith(d.id)
    steps_at = header.index("STEPS") + len("STEPS")
    assert row[steps_at - 7 : steps_at] == "  ✘ 2/3"  # right-aligned under the header
    watched = run(threaded, "watch", d.id)
    assert watched.exit_code == 1
    last = watched.stdout.rstrip().splitlines()[-1]
    assert last.startswith(
        "failed: Quick on shop.example.com (at step 2/3 \u201cCopy files\u201d, "
    )
