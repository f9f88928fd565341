"""Pilot tests: every interaction of the dashboard on a seeded in-memory backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from textual.app import App
from textual.widgets import Input

from backend_client.events import ConnectionState, ConnectionStatus, StreamItem
from backend_client.models import DeploymentPage, DeploymentStatus, StepStatus
from tests.tui.helpers import (
    ScriptedBackend,
    World,
    advance_until,
    make_app,
    open_cancel_dialog,
    ready,
    record_bells,
    trigger,
    wait_for,
)
from tui.screens.cancel import CancelScreen
from tui.screens.help import HelpScreen
from tui.screens.pickers import PickerScreen, TextPromptScreen
from tui.widgets.deployment_list import DeploymentList
from tui.widgets.detail import DetailPane
from tui.widgets.header import StatusHeader


def header_text(app: App[Any]) -> str:
    return app.screen.query_one(StatusHeader)._line().plain


async def test_navigate_moves_cursor_and_detail_follows() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        lst = screen.query_one(DeploymentList)
        detail = screen.query_one(DetailPane)
        assert lst.cursor == 0
        assert detail.deployment is not None
        assert detail.deployment.id == screen.state.rows[0][0]
        await pilot.press("down", "down", "j")
        assert lst.cursor == 3
        await pilot.press("up", "k")
        assert lst.cursor == 1
        await pilot.pause()
        assert detail.deployment.id == screen.state.rows[1][0]
        await pilot.press("end")
        assert lst.cursor == len(screen.state.rows) - 1
        await pilot.press("home")
        assert lst.cursor == 0
        await pilot.press("pagedown")
        assert lst.cursor > 10


async def test_expand_and_collapse_a_deployment() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        first = state.rows[0][0]
        steps = len(state.deployments[first].steps)
        before = len(state.rows)
        await pilot.press("space")
        assert first in state.expanded
        assert len(state.rows) == before + steps
        assert state.rows[1] == (first, 0)
        await pilot.press("down")
        await pilot.pause()
        detail = screen.query_one(DetailPane)
        assert detail.step is not None
        assert detail.step.id == state.deployments[first].steps[0].id
        await pilot.press("left")  # from a step: collapse its deployment
        assert first not in state.expanded
        assert len(state.rows) == before
        assert screen.query_one(DeploymentList).cursor_row == (first, -1)


async def test_failed_deployment_opens_at_its_failed_step() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        failed = next(d for d in state.deployments.values() if d.status is DeploymentStatus.FAILED)
        lst = screen.query_one(DeploymentList)
        lst.select((failed.id, -1))
        await pilot.press("enter")
        failed_index = next(i for i, s in enumerate(failed.steps) if s.status is StepStatus.FAILED)
        assert lst.cursor_row == (failed.id, failed_index)
        await pilot.pause()
        detail = screen.query_one(DetailPane)
        assert detail.step is not None and detail.step.status is StepStatus.FAILED


async def test_failures_view_and_back() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        await pilot.press("f")
        await wait_for(pilot, lambda: state.loaded)
        assert state.rows
        assert all(state.deployments[d].status is DeploymentStatus.FAILED for d, _ in state.rows)
        assert "status: failed" in header_text(app)
        await pilot.press("f")
        await wait_for(pilot, lambda: state.loaded)
        assert "all deployments" in header_text(app)
        assert any(state.deployments[d].status is DeploymentStatus.COMPLETED for d, _ in state.rows)


async def test_status_site_type_and_text_filters() -> None:
    w = World(history=120)
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        # Status picker: cancelled.
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press(*"cancelled", "enter")
        await wait_for(pilot, lambda: state.loaded and not isinstance(app.screen, PickerScreen))
        assert state.rows
        assert {state.deployments[d].status for d, _ in state.rows} == {DeploymentStatus.CANCELLED}
        assert "status: cancelled" in header_text(app)
        await pilot.press("x")
        await wait_for(pilot, lambda: state.loaded)
        # Site picker: the literal "build [prod]" domain.
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press(*"build [prod]", "enter")
        await wait_for(pilot, lambda: state.loaded and not isinstance(app.screen, PickerScreen))
        domains = {state.deployments[d].site_domain for d, _ in state.rows}
        assert domains == {"build [prod].acme-intranet.local"}
        assert "site: build [prod].acme-intranet.local" in header_text(app)
        # Pipeline type on top of the site.
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press(*"backup_site", "enter")
        await wait_for(pilot, lambda: state.loaded and not isinstance(app.screen, PickerScreen))
        assert all(state.deployments[d].type == "backup_site" for d, _ in state.rows)
        assert "type: backup_site" in header_text(app)
        # Free text replaces nothing else; clear all with x.
        await pilot.press("x")
        await wait_for(pilot, lambda: state.loaded)
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        await pilot.press(*"Grace", "enter")
        await wait_for(pilot, lambda: state.loaded and state.filter.text == "Grace")
        assert state.rows
        assert all(state.deployments[d].user_name == "Grace Hopper" for d, _ in state.rows)
        assert "text: “Grace”" in header_text(app)


async def test_history_pages_in_as_the_operator_scrolls() -> None:
    w = World(history=400)
    app = make_app(w, page_size=25)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        total = w.store.deployment_count(w.team_id)
        # The first page and perhaps one more to fill the screen: never everything.
        await pilot.pause()
        assert len(state.deployments) < total
        first_loaded = len(state.deployments)
        for _ in range(6):
            await pilot.press("end")
            await pilot.pause()
        await wait_for(pilot, lambda: len(state.deployments) > first_loaded)
        ids = [d for d, _ in state.rows]
        assert ids == sorted(ids, reverse=True)
        assert len(ids) == len(set(ids))
        while not state.exhausted:
            await pilot.press("end")
            await pilot.pause()
        await wait_for(pilot, lambda: len(state.deployments) == total)


async def test_new_deployment_appears_live_and_runs() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        dep = await trigger(w, "create_snapshot")
        await wait_for(pilot, lambda: dep.id in state.deployments)
        assert state.rows[0] == (dep.id, -1)
        # The cursor stays on the deployment it was on.
        assert screen.query_one(DeploymentList).cursor_row != (dep.id, -1)
        for _ in range(200):
            if state.deployments[dep.id].status is DeploymentStatus.COMPLETED:
                break
            await w.clock.advance(1.0)
            await pilot.pause()
        await wait_for(
            pilot, lambda: state.deployments[dep.id].status is DeploymentStatus.COMPLETED
        )


async def test_cancel_confirmed_with_reason() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        dep, dialog = await open_cancel_dialog(pilot, w, screen, "backup_site")
        what = str(dialog.query_one("#cancel-what").render())
        assert "Step 1 of 4, “Export database”, is running now" in what
        assert "3 queued steps after it will not run" in what
        dialog.query_one(Input).focus()
        await pilot.press(*"wrong site")
        await pilot.click("#yes")
        await wait_for(
            pilot, lambda: state.deployments[dep.id].status is DeploymentStatus.CANCELLED
        )
        assert state.deployments[dep.id].cancel_reason == "wrong site"


async def test_cancel_defaults_to_no() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        dep = await trigger(w, "backup_site", hold=True)
        await wait_for(pilot, lambda: dep.id in state.deployments)
        screen.query_one(DeploymentList).select((dep.id, -1))
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CancelScreen))
        await pilot.press("enter")  # the focused button is "No"
        await wait_for(pilot, lambda: not isinstance(app.screen, CancelScreen))
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CancelScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CancelScreen))
        await pilot.pause()
        assert state.deployments[dep.id].status.is_active
        w.store.release(dep.id)


async def test_cancel_of_finished_deployment_is_refused_with_notice() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        first = screen.state.deployments[screen.state.rows[0][0]]
        assert first.status.is_finished
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, CancelScreen)
        assert any("nothing to cancel" in str(n.message) for n in app._notifications)


async def test_read_only_hides_and_refuses_cancel() -> None:
    w = World()
    app = make_app(w, read_only=True)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        dep = await trigger(w, "backup_site", hold=True)
        await wait_for(pilot, lambda: dep.id in state.deployments)
        screen.query_one(DeploymentList).select((dep.id, -1))
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, CancelScreen)
        assert any("Read-only" in str(n.message) for n in app._notifications)
        assert "READ-ONLY" in header_text(app)
        footer_actions = {b.action for (_, b, enabled, _) in app.active_bindings.values()}
        assert "cancel" not in [
            b.action for (_, b, enabled, _) in app.active_bindings.values() if enabled and b.show
        ]
        assert "cancel_refused" in footer_actions
        assert state.deployments[dep.id].status.is_active
        w.store.release(dep.id)


async def test_team_switch() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        other = w.world.teams[1]
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await pilot.press("down", "enter")
        await wait_for(
            pilot, lambda: state.team is not None and state.team.id == other.id and state.loaded
        )
        assert state.rows
        assert all(state.deployments[d].team_id == other.id for d, _ in state.rows)
        assert other.name in header_text(app)


async def test_failure_raises_notification_and_bell() -> None:
    w = World()
    app = make_app(w, bell=True)
    bells = record_bells(app)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        dep = await trigger(w, "create_snapshot", fail_step="Create snapshot")
        await wait_for(pilot, lambda: dep.id in state.deployments)
        await advance_until(
            pilot, w, lambda: state.deployments[dep.id].status is DeploymentStatus.FAILED
        )
        await wait_for(pilot, lambda: screen.failures_seen == 1)
        assert bells == [1]
        assert any(n.title == "Deployment failed" for n in app._notifications)


async def test_reconnect_badge_and_stale() -> None:
    w = World()
    now = w.clock.now()

    async def script() -> AsyncIterator[StreamItem]:
        yield ConnectionStatus(
            state=ConnectionState.RECONNECTING,
            attempt=3,
            next_retry_at=now + timedelta(seconds=4),
            since=now,
            error="connection refused",
        )
        while not released:
            await w.clock.sleep(0.5)
        yield ConnectionStatus(state=ConnectionState.CONNECTED, since=now)

    released = False
    backend = ScriptedBackend(w.backend, script())
    app = make_app(w, backend=backend, stale_after=30)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: "reconnecting" in header_text(app))
        assert "↻ reconnecting · attempt 3 · next try in 4 s" in header_text(app)
        assert "https://deploy.example.test" in header_text(app)
        released = True
        await w.clock.advance(1)
        await wait_for(pilot, lambda: "● live" in header_text(app))
        # Nothing arrives for 42 s: the header says so.
        w.clock.set(w.clock.now() + timedelta(seconds=42))
        assert "◌ stale · last update 42 s ago" in header_text(app)


async def test_help_lists_every_binding() -> None:
    w = World()
    app = make_app(w, keymap={"failures": "F"})
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await ready(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        described = {what for _, _, what, _ in help_screen.rows}
        for node in (screen, screen.query_one(DeploymentList)):
            for bindings in node._bindings.key_to_bindings.values():
                for binding in bindings:
                    if binding.action == "cancel_refused":
                        continue
                    assert binding.description in described, binding
        keys = {what: key for _, key, what, _ in help_screen.rows}
        ids = {ident for _, _, _, ident in help_screen.rows}
        assert {"cancel", "failures", "list.toggle", "quit"} <= ids
        assert keys["Failures"] == "F"  # the keymap shows
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_keymap_remaps_a_binding() -> None:
    w = World()
    app = make_app(w, keymap={"failures": "F"})
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        await pilot.press("F")
        await wait_for(pilot, lambda: screen.state.filter.statuses == {DeploymentStatus.FAILED})
        await wait_for(pilot, lambda: screen.state.loaded)
        await pilot.press("f")  # the old key no longer toggles
        await pilot.pause()
        assert screen.state.filter.statuses == {DeploymentStatus.FAILED}


async def test_names_with_markup_render_literally() -> None:
    w = World(history=200)
    app = make_app(w)
    async with app.run_test(size=(200, 40)) as pilot:  # wide enough for the site column
        screen = await ready(pilot)
        lst = screen.query_one(DeploymentList)
        target = next(
            d
            for d in screen.state.deployments.values()
            if d.site_domain == "build [prod].acme-intranet.local"
        )
        lst.select((target.id, -1), center=True)
        await pilot.pause()
        index = screen.state.row_index(target.id)
        assert index is not None
        line = lst.render_line(index - round(lst.scroll_y)).text
        assert "build [prod].acme-" in line


async def test_step_output_in_detail_and_pager() -> None:
    from tui.output.pager import PagerScreen
    from tui.output.view import OutputView

    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        failed = next(d for d in state.deployments.values() if d.status is DeploymentStatus.FAILED)
        lst = screen.query_one(DeploymentList)
        lst.select((failed.id, -1))
        await pilot.press("enter")  # opens at the failed step
        await pilot.pause()
        view = screen.query_one(OutputView)
        assert view.display
        step = failed.failed_step
        assert step is not None
        feed = app.hub.get(failed.id, step.id)
        assert feed is not None
        await wait_for(pilot, lambda: not feed.loading and feed.line_count > 0)
        # From the step: its pager.
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, PagerScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PagerScreen))
        # From the deployment row: failed output only.
        await pilot.press("left")
        await pilot.press("O")
        await wait_for(pilot, lambda: isinstance(app.screen, PagerScreen))
        pager = app.screen
        assert isinstance(pager, PagerScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PagerScreen))
        # A deployment selected: no output view shown.
        assert lst.cursor_row == (failed.id, -1)
        assert not view.display


async def test_failed_output_of_a_good_deployment_says_so() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        good = state.deployments[state.rows[0][0]]
        assert good.failed_step is None
        await pilot.press("O")
        await pilot.pause()
        assert any("No failed step" in str(n.message) for n in app._notifications)


async def test_command_palette_runs_dashboard_actions() -> None:
    from textual.command import CommandPalette

    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Show failures")

        def top_hit_is_show_failures() -> bool:
            # The palette gathers hits in a worker: wait for the search to show the command.
            from textual.command import CommandList

            palette = app.screen
            if not isinstance(palette, CommandPalette):
                return False
            hits = palette.query_one(CommandList)
            if hits.highlighted is None or hits.option_count == 0:
                return False
            return "Show failures" in str(hits.get_option_at_index(hits.highlighted).prompt)

        await wait_for(pilot, top_hit_is_show_failures)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                screen.state.filter.statuses == {DeploymentStatus.FAILED} and screen.state.loaded
            ),
        )
        assert "status: failed" in header_text(app)


async def test_selection_survives_a_filter_round_trip() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        lst = screen.query_one(DeploymentList)
        await pilot.press("f")
        await wait_for(pilot, lambda: state.loaded and bool(state.filter.statuses))
        await pilot.press("down")
        chosen = lst.cursor_row
        assert chosen is not None
        await pilot.press("f")
        await wait_for(pilot, lambda: state.loaded and not state.filter.statuses)
        assert lst.cursor_row == chosen
        # A filter that does not contain it starts at the top.
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        await pilot.press(*"Grace", "enter")
        await wait_for(pilot, lambda: state.loaded and state.filter.text == "Grace")
        if state.deployments[chosen[0]].user_name != "Grace Hopper":
            assert lst.cursor == 0


async def test_resync_relists_and_keeps_going() -> None:
    from backend_client.events import Resync

    w = World()

    async def script() -> AsyncIterator[StreamItem]:
        yield Resync(seq=w.store.head_seq(w.team_id), team_id=w.team_id, reason="fell behind")

    backend = ScriptedBackend(w.backend, script())
    app = make_app(w, backend=backend)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        # The first listing is two calls (page + active ones); the resync lists again.
        await wait_for(pilot, lambda: backend.list_calls >= 4)
        dep = await trigger(w, "create_snapshot")
        await wait_for(pilot, lambda: dep.id in screen.state.deployments)
        assert screen.state.rows[0] == (dep.id, -1)


async def test_cancel_dialog_follows_the_deployment() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        dep, dialog = await open_cancel_dialog(pilot, w, screen)
        w.store.release(dep.id)
        await advance_until(pilot, w, lambda: state.deployments[dep.id].status.is_finished)
        await wait_for(
            pilot,
            lambda: "nothing to cancel" in str(dialog.query_one("#cancel-what").render()),
        )
        from textual.widgets import Button

        assert dialog.query_one("#yes", Button).disabled
        assert dialog.query_one("#cancel-reason", Input).disabled  # nothing to give it for
        assert str(dialog.query_one("#no", Button).label) == "Close"


async def test_cancel_dialog_of_a_queued_deployment_offers_to_keep_it_queued() -> None:
    from textual.widgets import Button

    w = World(workers=1)
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        first = await trigger(w, "create_snapshot", hold=True)  # takes the only worker
        queued = await trigger(w, "create_snapshot", hold=True, site_index=1)
        await wait_for(
            pilot, lambda: first.id in state.deployments and queued.id in state.deployments
        )
        assert state.deployments[queued.id].status is DeploymentStatus.QUEUED
        screen.query_one(DeploymentList).select((queued.id, -1))
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CancelScreen))
        dialog = app.screen
        assert str(dialog.query_one("#no", Button).label) == "No, keep it queued"
        assert "has not started yet" in str(dialog.query_one("#cancel-what").render())


async def test_unexpected_worker_error_is_a_notification_not_a_crash() -> None:
    w = World()

    class Broken(ScriptedBackend):
        async def list_sites(self, team_id: str) -> list[Any]:
            raise RuntimeError("boom")

    app = make_app(w, backend=Broken(w.backend))
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        await pilot.press("S")
        await wait_for(
            pilot, lambda: any(n.title == "Unexpected error" for n in app._notifications)
        )
        assert app.is_running


async def test_team_by_name_and_unknown_team_fails_cleanly() -> None:
    w = World()
    app = make_app(w, team="northwind hosting")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        assert screen.state.team is not None
        assert screen.state.team.name == "Northwind Hosting"
    app = make_app(w, team="nope")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.fatal_error is not None)
    assert app.fatal_error is not None and "no team 'nope'" in app.fatal_error
    assert "(teams: Acme Agency, " in app.fatal_error  # what the operator could have typed


async def test_view_does_not_jump_when_deployments_arrive_above() -> None:
    w = World(history=200)
    app = make_app(w)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        lst = screen.query_one(DeploymentList)
        await pilot.press("pagedown", "pagedown", "down")
        await pilot.pause()
        top = round(lst.scroll_y)
        assert top > 0
        top_row = state.rows[top]
        cursor_row = lst.cursor_row
        dep = await trigger(w, "create_snapshot")
        await wait_for(pilot, lambda: dep.id in state.deployments)
        await pilot.pause()
        assert state.rows[round(lst.scroll_y)] == top_row
        assert lst.cursor_row == cursor_row


async def test_viewer_cannot_cancel_and_is_told_why() -> None:
    w = World()
    viewer = next(u for u in w.world.users if u.name == "Margaret Hamilton")
    backend = w.store.backend_for(viewer.id)
    app = make_app(w, backend=backend)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        assert "(viewer)" in header_text(app)
        dep = await trigger(w, "backup_site", hold=True)
        await wait_for(pilot, lambda: dep.id in state.deployments)
        screen.query_one(DeploymentList).select((dep.id, -1))
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, CancelScreen)
        assert any("operator role" in str(n.message) for n in app._notifications)
        w.store.release(dep.id)


async def test_unknown_keymap_id_is_reported() -> None:
    w = World()
    app = make_app(w, keymap={"failurez": "F", "pager.wrap": "W"})
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any("'failurez'" in m for m in messages)
        assert not any("pager.wrap" in m for m in messages)


async def test_refused_token_exits_with_one_line() -> None:
    from backend_client.errors import Unauthorized
    from backend_client.models import Me

    w = World()

    class Refusing(ScriptedBackend):
        async def me(self) -> Me:
            raise Unauthorized("invalid token")

    app = make_app(w, backend=Refusing(w.backend))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.fatal_error is not None)
    assert app.fatal_error == "the backend refused the credentials: invalid token"
    assert app.return_code == 1


async def test_a_team_the_backend_lost_is_chosen_again_and_stays_in_the_header() -> None:
    """NotFound (the team went away, or the server came back with new data): the header
    keeps the team while offline and the same team (by id, else name) is picked again."""
    from backend_client.errors import NotFound

    w = World()

    class LosesTheTeamOnce(ScriptedBackend):
        fail_next = False

        async def list_deployments(self, *args: Any, **kwargs: Any) -> DeploymentPage:
            if self.fail_next:
                self.fail_next = False
                raise NotFound("team not found")
            return await super().list_deployments(*args, **kwargs)

    backend = LosesTheTeamOnce(w.backend)
    app = make_app(w, backend=backend)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        team = screen.state.team
        assert team is not None
        backend.fail_next = True
        screen.action_refresh()
        await wait_for(pilot, lambda: "offline" in header_text(app))
        line = header_text(app)
        assert f"│ {team.name} │" in line, line
        # 140 columns: the counts shorten first, the badge keeps when the next try is.
        assert "◐ " in line and "next try in" in line, line
        calls = backend.list_calls
        await w.clock.advance(3.0)
        await wait_for(pilot, lambda: backend.list_calls > calls and "● live" in header_text(app))
        assert screen.state.team is not None and screen.state.team.id == team.id
        assert f"│ {team.name} │" in header_text(app)


async def test_watch_tells_when_the_deployment_finishes_and_marks_its_row() -> None:
    w = World()
    app = make_app(w, bell=True)
    bells = record_bells(app)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        dep = await trigger(w, "create_snapshot", hold=True)
        await wait_for(pilot, lambda: dep.id in state.deployments)
        lst = screen.query_one(DeploymentList)
        lst.select((dep.id, -1))
        await pilot.press("w")
        assert dep.id in state.watched
        index = state.row_index(dep.id, -1)
        assert index is not None
        await pilot.pause()
        assert lst._row_strip((dep.id, -1), 120, False).text.startswith("▸◎")
        w.store.release(dep.id)
        await advance_until(pilot, w, lambda: state.deployments[dep.id].status.is_finished)
        await wait_for(
            pilot, lambda: any(n.title == "Watched deployment finished" for n in app._notifications)
        )
        note = next(n for n in app._notifications if n.title == "Watched deployment finished")
        assert note.message.startswith(f"{dep.operation_name}: completed in ")
        assert bells and dep.id not in state.watched
        assert lst._row_strip((dep.id, -1), 120, False).text.startswith("▸ ")


async def test_watch_refuses_a_finished_deployment_and_y_copies_the_id() -> None:
    w = World()
    app = make_app(w)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign, assignment]
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        finished = next(d for d in state.deployments.values() if d.status.is_finished)
        screen.query_one(DeploymentList).select((finished.id, -1))
        await pilot.press("w")
        assert finished.id not in state.watched
        assert any(n.title == "Not watched" for n in app._notifications)
        await pilot.press("y")
        assert copied == [finished.id]


async def test_a_watched_deployment_that_finished_out_of_sight_is_still_announced() -> None:
    # Finished during a drop, outside the filter, beyond the first page: the next re-list
    # fetches it and says so (and it is no longer watched).
    w = World()
    app = make_app(w, bell=True)
    bells = record_bells(app)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        completed = next(
            d for d in state.deployments.values() if d.status is DeploymentStatus.COMPLETED
        )
        await pilot.press("f")  # the failures view: the completed one is not loaded
        await wait_for(pilot, lambda: state.loaded and completed.id not in state.deployments)
        state.watched.add(completed.id)
        await screen._relist()
        await wait_for(
            pilot, lambda: any(n.title == "Watched deployment finished" for n in app._notifications)
        )
        assert completed.id not in state.watched
        assert bells == [1]


async def test_a_vanished_watched_deployment_is_dropped_quietly() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        state.watched.add("01" + "Z" * 24)  # no such deployment
        await screen._relist()
        assert not state.watched
        assert not any(n.title == "Watched deployment finished" for n in app._notifications)


async def test_a_server_back_with_new_ids_gets_the_same_team_by_name() -> None:
    from backend_client.errors import NotFound
    from backend_client.models import Me

    w = World()
    old_id = w.team_id
    new_id = "01" + "N" * 24

    class Restarted(ScriptedBackend):
        restarted = False

        def _inner_id(self, team_id: str) -> str:
            if self.restarted and team_id == old_id:
                raise NotFound("team not found")
            return old_id if team_id == new_id else team_id

        async def me(self) -> Me:
            me = await self.inner.me()
            if not self.restarted:
                return me
            teams = [t.model_copy(update={"id": new_id}) if t.id == old_id else t for t in me.teams]
            return me.model_copy(update={"teams": teams})

        async def list_deployments(self, team_id: str, *args: Any, **kwargs: Any) -> DeploymentPage:
            return await super().list_deployments(self._inner_id(team_id), *args, **kwargs)

        def subscribe(self, team_id: str, since: int | None = None) -> AsyncIterator[StreamItem]:
            return self.inner.subscribe(self._inner_id(team_id), since)

    backend = Restarted(w.backend)
    app = make_app(w, backend=backend)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        assert state.team is not None
        name = state.team.name
        backend.restarted = True
        screen.action_refresh()
        await wait_for(pilot, lambda: "offline" in header_text(app))
        assert f"│ {name} │" in header_text(app)
        await w.clock.advance(3.0)
        await wait_for(pilot, lambda: state.team is not None and state.team.id == new_id)
        await wait_for(pilot, lambda: state.loaded and "● live" in header_text(app))
        assert f"│ {name} │" in header_text(app)
        detail = screen.query_one(DetailPane)
        # The pane shows nothing from before the switch: empty, or a row of the new listing.
        assert detail.deployment is None or state.deployments.get(detail.deployment.id) is not None


async def test_picking_a_team_that_left_the_list_meanwhile_does_nothing() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        team = state.team
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        state.teams = [t for t in state.teams if t.id == getattr(team, "id", None)]
        await pilot.press("down", "enter")  # another team, gone from the list meanwhile
        await wait_for(pilot, lambda: not isinstance(app.screen, PickerScreen))
        assert app.is_running and state.team == team


async def test_d_hides_the_detail_pane_and_q_quits() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        detail = screen.query_one(DetailPane)
        lst = screen.query_one(DeploymentList)
        height = lst.size.height
        await pilot.press("tab")  # focus into the detail pane, then hide it
        assert screen.focused is not None and detail in screen.focused.ancestors_with_self
        await pilot.press("d")
        await pilot.pause()
        assert not detail.display
        assert lst.has_focus  # focus does not stay in a hidden pane
        assert lst.size.height > height  # the list takes the screen
        await pilot.press("d")
        await pilot.pause()
        assert detail.display
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)
