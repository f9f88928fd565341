"""The dashboard stays up and safe: rows that vanish, hostile names, a backend that drops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from textual.app import App

from backend_client.errors import Unavailable
from backend_client.events import DeploymentUpdated, StreamItem
from backend_client.models import DeploymentStatus
from tui.widgets.header import StatusHeader

from .helpers import ScriptedBackend, World, advance_until, dashboard, make_app, ready, wait_for


def header_text(app: App[Any]) -> str:
    return app.screen.query_one(StatusHeader)._line().plain


async def test_a_highlighted_row_that_left_the_list_does_not_crash() -> None:
    w = World()
    app = make_app(w, start_engine=False)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        # The cursor moves (posting Highlighted for row 1); before the message is handled the
        # deployment leaves the view because it no longer matches the filter.
        screen.deployment_list._move(1)
        dep = state.deployments[state.rows[1][0]]
        state.filter = state.filter.model_copy(
            update={"statuses": frozenset({DeploymentStatus.QUEUED})}
        )
        state.apply(DeploymentUpdated(seq=state.seq + 1, team_id=dep.team_id, deployment=dep))
        screen._flush()
        await pilot.pause()
        await pilot.pause()
        assert app.is_running
        assert dep.id not in {d for d, _ in state.rows}


async def test_notifications_carry_no_escape_sequence_and_no_markup() -> None:
    w = World()
    hostile = "evil\x1b]52;c;SGVsbG8=\x07\x1b]0;owned\x07[b]x[/b].example.com"
    site = w.store.add_site(w.team_id, hostile)
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        dep = await w.backend.trigger_deployment(
            w.team_id, "create_snapshot", site.id, {"simulate": {"fail_step": "Create snapshot"}}
        )
        await advance_until(pilot, w, lambda: bool(screen.failures_seen))
        await wait_for(pilot, lambda: screen.failures_seen == 1)
        notices = [n for n in app._notifications if n.title == "Deployment failed"]
        assert notices, [n.message for n in app._notifications]
        for notice in app._notifications:
            for text in (str(notice.message), notice.title):
                assert "\x1b" not in text and "\x07" not in text, repr(text)
        assert "[b]x[/b].example.com" in str(notices[0].message)
        assert not notices[0].markup
        assert dep.id in screen.state.deployments


async def test_a_dropped_backend_is_retried_on_the_injected_clock() -> None:
    w = World()

    class Flaky(ScriptedBackend):
        drops = 1

        def subscribe(self, team_id: str, since: int | None = None) -> AsyncIterator[StreamItem]:
            if self.drops:
                self.drops -= 1

                async def broken() -> AsyncIterator[StreamItem]:
                    raise Unavailable("connection reset by peer")
                    yield  # pragma: no cover - makes this an async generator

                return broken()
            return super().subscribe(team_id, since)

    backend = Flaky(w.backend)
    app = make_app(w, backend=backend)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: "offline" in header_text(app))
        assert "next try in 3 s" in header_text(app)
        calls = backend.list_calls
        for _ in range(5):
            await pilot.pause()
        assert backend.list_calls == calls  # nothing retries until the clock moves
        await w.clock.advance(3)
        # Well before a real 3 s wait could end: the retry follows the injected clock.
        await wait_for(pilot, lambda: "● live" in header_text(app), timeout=1.5)
        assert backend.list_calls > calls
        assert dashboard(app).state.connection.state.value == "connected"


async def test_the_selected_deployment_stays_in_the_active_view_until_the_cursor_leaves() -> None:
    from .helpers import trigger

    w = World()
    app = make_app(w)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        first = await trigger(w, "create_snapshot", site_index=0)
        second = await trigger(w, "create_snapshot", site_index=1)
        await pilot.press("a")  # the active view
        await wait_for(
            pilot, lambda: state.loaded and {d for d, _ in state.rows} == {first.id, second.id}
        )
        lst = screen.deployment_list
        target = next(i for i, (d, _) in enumerate(state.rows) if d == first.id)
        lst._move(target - lst.cursor)
        await wait_for(pilot, lambda: state.selected == first.id)
        for _ in range(600):
            fresh = [await w.backend.get_deployment(d.id) for d in (first, second)]
            if all(d.is_finished for d in fresh):
                break
            await w.clock.advance(1.0)
            await pilot.pause()
        await wait_for(pilot, lambda: second.id not in {d for d, _ in state.rows})
        # Finished, so no longer "active": kept while the operator is on it...
        assert first.id in {d for d, _ in state.rows}
        assert state.deployments[first.id].is_finished
        # ... and gone once the cursor moves off it.
        state.select(None)
        screen._flush()
        await pilot.pause()
        assert first.id not in {d for d, _ in state.rows}
        assert app.is_running
