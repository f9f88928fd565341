"""The pager while its deployment changes, and what its chrome says (QA pass, session 7).

The title follows the deployment's status; glyphs and colours are the dashboard's; the
footer always shows Help and Close and hides keys that mean nothing; the save notice counts
what the file holds; the "new lines" marker stops offering to follow a finished output.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.color import Color
from textual.content import Content
from textual.style import Style
from textual.widgets import Input, Static
from textual.widgets._footer import FooterKey

from backend_client.models import DeploymentStatus, StepStatus
from tui.format import GLYPHS
from tui.output import PagerScreen
from tui.output.source import step_header
from tui.themes import status_defaults

from .apps import DEP, PagerApp, failed_deployment, pager, settle, until
from .fakes import FakeOutputBackend, make_deployment
from .screen_text import screen_text


def title(app: PagerApp) -> str:
    rendered = pager(app).query_one("#pager-title", Static).render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


def view_lines(app: PagerApp) -> list[str]:
    view = pager(app).view
    return ["".join(s.text for s in view.render_line(y)) for y in range(view.size.height)]


def visible_footer(app: PagerApp) -> list[str]:
    """``"key description"`` of every footer key drawn wholly on screen."""
    width = app.size.width
    return [
        f"{key.key_display} {key.description}".strip()
        for key in pager(app).query(FooterKey)
        if key.display and key.region.width and key.region.right <= width
    ]


def two_steps(status: DeploymentStatus, first: StepStatus, second: StepStatus) -> PagerApp:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", first), ("Deploy", second)], deployment_id=DEP, status=status
    )
    backend.write(DEP, "step-1", "compiling\n")
    backend.write(DEP, "step-2", "")
    backend.deployments[DEP] = deployment
    return PagerApp(backend, deployment)


# -- 1. the title follows the deployment -------------------------------------------------


async def test_the_title_follows_the_deployment_status_as_steps_change() -> None:
    app = two_steps(DeploymentStatus.RUNNING, StepStatus.RUNNING, StepStatus.QUEUED)
    backend = app.backend
    deployment = app.deployment
    async with app.run_test(size=(120, 16)) as pilot:
        await settle(pilot)
        assert "Output ◐ running ·" in title(app)
        # The backend finishes the deployment; the app's stream brings the step events.
        done = deployment.model_copy(
            update={
                "status": DeploymentStatus.COMPLETED,
                "steps": [
                    s.model_copy(update={"status": StepStatus.COMPLETED}) for s in deployment.steps
                ],
            }
        )
        backend.deployments[DEP] = done
        app.hub.dispatch(backend.finish(deployment, "step-1", StepStatus.COMPLETED))
        app.hub.dispatch(backend.finish(deployment, "step-2", StepStatus.COMPLETED))
        await settle(pilot)
        assert "Output ◐ running ·" in title(app)  # steps alone: the status waits for...
        app.hub.dispatch(backend.update(done))  # ...the deployment's snapshot
        await until(pilot, lambda: "Output ✔ completed ·" in title(app))
        assert "running" not in title(app)
        assert pager(app).deployment.status is DeploymentStatus.COMPLETED


async def test_the_title_follows_deployment_snapshots_from_the_stream() -> None:
    app = two_steps(DeploymentStatus.QUEUED, StepStatus.QUEUED, StepStatus.QUEUED)
    backend = app.backend
    deployment = app.deployment
    async with app.run_test(size=(120, 16)) as pilot:
        await settle(pilot)
        assert "Output ○ queued ·" in title(app)
        # A queued deployment cancelled: no step changes, only the deployment's snapshot.
        cancelled = deployment.model_copy(update={"status": DeploymentStatus.CANCELLED})
        app.hub.dispatch(backend.update(cancelled))
        await until(pilot, lambda: "Output ⊘ cancelled ·" in title(app))
        # It ended: steps that never ran say so.
        await until(pilot, lambda: "Deploy · not run" in "\n".join(view_lines(app)))
        assert "queued" not in "\n".join(view_lines(app))


async def test_a_step_failing_live_turns_on_failed_step_only() -> None:
    app = two_steps(DeploymentStatus.RUNNING, StepStatus.RUNNING, StepStatus.QUEUED)
    backend = app.backend
    deployment = app.deployment
    async with app.run_test(size=(200, 16)) as pilot:
        await settle(pilot)
        assert not any("Failed step only" in key for key in visible_footer(app))
        steps = [
            deployment.steps[0].model_copy(update={"status": StepStatus.FAILED}),
            deployment.steps[1],
        ]
        failed = deployment.model_copy(update={"status": DeploymentStatus.FAILED, "steps": steps})
        backend.deployments[DEP] = failed
        app.hub.dispatch(backend.finish(deployment, "step-1", StepStatus.FAILED))
        app.hub.dispatch(backend.update(failed))  # the stream's deployment snapshot follows
        await until(pilot, lambda: "Output ✘ failed ·" in title(app))
        await pilot.pause()
        assert "o Failed step only" in visible_footer(app)


async def test_a_step_event_updates_its_header_without_asking_the_backend() -> None:
    app = two_steps(DeploymentStatus.RUNNING, StepStatus.RUNNING, StepStatus.QUEUED)
    backend = app.backend
    deployment = app.deployment
    backend.deployments.clear()  # any get_deployment would fail: none is made
    async with app.run_test(size=(120, 16)) as pilot:
        await settle(pilot)
        app.hub.dispatch(backend.finish(deployment, "step-1", StepStatus.COMPLETED))
        await until(pilot, lambda: "✔ Build · completed" in "\n".join(view_lines(app)))
        assert "Output ◐ running ·" in title(app)
        assert isinstance(app.screen, PagerScreen)
        assert not app._notifications


async def test_the_title_names_the_site_once() -> None:
    backend = FakeOutputBackend()
    deployment = failed_deployment(backend).model_copy(
        update={
            "operation_name": "Push staging to staging.shop.example.com",
            "site_domain": "staging.shop.example.com",
        }
    )
    app = PagerApp(backend, deployment)
    async with app.run_test(size=(140, 16)) as pilot:
        await settle(pilot)
        assert title(app).count("staging.shop.example.com") == 1
        # An operation that does not name its site still gets the domain.
        assert "Clone shop.example.com" in failed_deployment(FakeOutputBackend()).operation_name
    backend = FakeOutputBackend()
    other = failed_deployment(backend).model_copy(update={"operation_name": "Clone site"})
    app = PagerApp(backend, other)
    async with app.run_test(size=(140, 16)) as pilot:
        await settle(pilot)
        assert "Clone site · shop.example.com ·" in title(app)


async def test_the_status_stays_on_screen_with_a_long_operation_name() -> None:
    backend = FakeOutputBackend()
    deployment = failed_deployment(backend).model_copy(
        update={"operation_name": "Restore time capsule cap_ac92q40a " + "x" * 100}
    )
    app = PagerApp(backend, deployment)
    async with app.run_test(size=(80, 16)) as pilot:
        await settle(pilot)
        first_row = screen_text(app).splitlines()[0]
        assert first_row.startswith(" Output ✘ failed · Restore time capsule")
        assert first_row.endswith("…")


# -- 2. the dashboard's glyphs and colours -----------------------------------------------


def test_step_headers_use_the_dashboards_glyphs() -> None:
    deployment = make_deployment([("Build", StepStatus.QUEUED)])
    step = deployment.steps[0]
    for status in StepStatus:
        header = step_header(step.model_copy(update={"status": status}), 1, 1).plain
        assert header == f"━━ 1/1 {GLYPHS[status.value]} Build · {status.value} ━━"
    settled = step_header(step, 1, 1, settled=True).plain
    assert settled == f"━━ 1/1 {GLYPHS['not run']} Build · not run ━━"


async def test_headers_and_title_use_the_themes_status_colours() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        screen = pager(app)
        failed_colour = status_defaults(app.current_theme.dark)["status-failed"].lower()
        header = screen._base.row_text(screen._base.header_row(1))
        assert "✘ Copy files · failed" in header.plain
        colours = {
            str(span.style).lower()
            for span in header.spans
            if "failed" in header.plain[span.start : span.end]
        }
        assert any(failed_colour in colour for colour in colours), colours
        rendered = screen.query_one("#pager-title", Static).render()
        assert isinstance(rendered, Content)
        wanted = Color.parse(failed_colour)
        assert any(
            isinstance(span.style, Style) and span.style.foreground == wanted
            for span in rendered.spans
        ), rendered.spans


# -- 3. the footer -----------------------------------------------------------------------


async def test_the_footer_always_shows_help_and_close() -> None:
    for width in (60, 80, 140):
        backend = FakeOutputBackend()
        app = PagerApp(backend, failed_deployment(backend))
        async with app.run_test(size=(width, 24)) as pilot:
            await settle(pilot)
            keys = visible_footer(app)
            assert "? Help" in keys and "esc Close" in keys, (width, keys)
            assert "/ Search" in keys, (width, keys)


async def test_the_footer_hides_keys_that_mean_nothing() -> None:
    # Finished: nothing to follow.
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(200, 24)) as pilot:
        await settle(pilot)
        keys = visible_footer(app)
        assert not any("Follow" in key for key in keys), keys
        assert "o Failed step only" in keys, keys
    # One step shown: no "failed step only".
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend), step_id="step-2")
    async with app.run_test(size=(200, 24)) as pilot:
        await settle(pilot)
        assert not any("Failed" in key for key in visible_footer(app))
        await pilot.press("o")  # does nothing
        await settle(pilot)
        assert isinstance(app.screen, PagerScreen)
    # Running, nothing failed: Follow yes, "failed step only" no.
    app = two_steps(DeploymentStatus.RUNNING, StepStatus.RUNNING, StepStatus.QUEUED)
    async with app.run_test(size=(200, 24)) as pilot:
        await settle(pilot)
        keys = visible_footer(app)
        assert "end Follow" in keys, keys
        assert not any("Failed" in key for key in keys), keys
        # The step finishes: Follow goes.
        app.hub.dispatch(app.backend.finish(app.deployment, "step-1", StepStatus.COMPLETED))
        app.hub.dispatch(app.backend.finish(app.deployment, "step-2", StepStatus.COMPLETED))
        await until(pilot, lambda: not any("Follow" in k for k in visible_footer(app)))


async def test_end_still_goes_to_the_end_of_a_finished_output() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", StepStatus.COMPLETED)], deployment_id=DEP, status=DeploymentStatus.COMPLETED
    )
    backend.write(DEP, "step-1", "".join(f"line {n}\n" for n in range(1, 201)))
    backend.finished.add((DEP, "step-1"))
    app = PagerApp(backend, deployment, step_id="step-1")
    async with app.run_test(size=(80, 16)) as pilot:
        await settle(pilot)
        await pilot.press("home")
        await pilot.pause()
        assert "line 200" not in "\n".join(view_lines(app))
        await pilot.press("end")
        await pilot.pause()
        assert "line 200" in "\n".join(view_lines(app))


async def test_the_palette_leaves_out_failed_step_only_when_nothing_failed() -> None:
    app = two_steps(DeploymentStatus.RUNNING, StepStatus.RUNNING, StepStatus.QUEUED)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        screen = pager(app)
        assert screen.check_action("toggle_failed_only", ()) is False
        assert screen.check_action("save", ()) is True


# -- 4. the save notice counts the file's lines ------------------------------------------


async def test_the_save_notice_counts_the_lines_in_the_file(tmp_path: Path) -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        target = tmp_path / "out.log"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        lines = len(target.read_text(encoding="utf-8").splitlines())
        saved = [n.message for n in app._notifications if n.message.startswith("Saved")]
        assert saved == [f"Saved {lines:,} lines to {target}"], saved


# -- 5. the "new lines" marker once nothing more can arrive ------------------------------


async def test_the_new_lines_marker_stops_offering_to_follow_a_finished_step() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", StepStatus.RUNNING)], deployment_id=DEP, status=DeploymentStatus.RUNNING
    )
    backend.write(DEP, "step-1", "".join(f"line {n}\n" for n in range(1, 41)))
    backend.deployments[DEP] = deployment
    app = PagerApp(backend, deployment, step_id="step-1")
    async with app.run_test(size=(80, 14)) as pilot:
        await settle(pilot)
        await pilot.press("g")  # stop following
        await pilot.pause()
        event = backend.write(DEP, "step-1", "".join(f"more {n}\n" for n in range(1, 25)))
        app.hub.dispatch(event)
        pager(app).view.flush()
        await pilot.pause()
        assert any("24 new lines — End to follow" in line for line in view_lines(app))
        backend.deployments[DEP] = deployment.model_copy(
            update={"status": DeploymentStatus.COMPLETED}
        )
        app.hub.dispatch(backend.finish(deployment, "step-1", StepStatus.COMPLETED))
        await until(pilot, lambda: any("24 new lines below" in line for line in view_lines(app)))
        assert not any("End to follow" in line for line in view_lines(app))
