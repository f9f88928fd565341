"""Keys typed in one burst after the key that opens a prompt or picker land in it, in order.

``pilot.press`` waits for the app to go idle after each key, which hides the problem: here
every key of a burst is posted at once, as the driver does for one read from the terminal.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from backend_client.models import DeploymentStatus, Site
from tests.keys import burst
from tui.screens.pickers import PickerScreen, TextPromptScreen

from .helpers import ScriptedBackend, World, make_app, ready, wait_for


def no_modal(pilot: Pilot[Any]) -> bool:
    return not isinstance(pilot.app.screen, (PickerScreen, TextPromptScreen))


async def test_search_typed_in_one_burst_filters_by_the_whole_text() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        burst(pilot, "/", *"Grace", "enter")
        await wait_for(pilot, lambda: no_modal(pilot) and state.filter.text is not None)
        await wait_for(pilot, lambda: state.loaded)
        assert state.filter.text == "Grace"
        assert state.rows
        assert all(state.deployments[d].user_name == "Grace Hopper" for d, _ in state.rows)
        # None of the letters reached the dashboard ("a" would have opened the active view).
        assert not state.filter.statuses


async def test_a_correction_in_the_burst_applies_in_order() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        burst(pilot, "/", *"Grx", "backspace", *"ace", "enter")
        await wait_for(pilot, lambda: no_modal(pilot) and screen.state.filter.text is not None)
        assert screen.state.filter.text == "Grace"


async def test_status_picker_narrowed_and_picked_in_one_burst() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        burst(pilot, "s", *"failed", "enter")
        await wait_for(pilot, lambda: no_modal(pilot) and bool(state.filter.statuses))
        await wait_for(pilot, lambda: state.loaded)
        assert state.filter.statuses == frozenset({DeploymentStatus.FAILED})
        assert state.filter.text is None


class SlowSites(ScriptedBackend):
    """Sites arrive only when the test says so (a slow link)."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.release: Any = None

    async def list_sites(self, team_id: str) -> list[Site]:
        import asyncio

        self.release = asyncio.Event()
        await self.release.wait()
        return await self.inner.list_sites(team_id)


async def test_site_picker_is_up_at_once_and_enter_typed_ahead_picks_once_sites_arrive() -> None:
    w = World()
    backend = SlowSites(w.backend)
    app = make_app(w, backend=backend)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        burst(pilot, "S", *"build [prod]", "enter")
        await wait_for(pilot, lambda: backend.release is not None)
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        assert "loading" in str(picker.query_one("#picker-title").render())
        assert state.filter.site_id is None  # Enter waits for the list
        backend.release.set()
        await wait_for(pilot, lambda: no_modal(pilot) and state.filter.site_id is not None)
        await wait_for(pilot, lambda: state.loaded)
        domains = {state.deployments[d].site_domain for d, _ in state.rows}
        assert domains == {"build [prod].acme-intranet.local"}


async def test_site_picker_says_when_the_sites_cannot_be_loaded() -> None:
    from backend_client.errors import Unavailable

    w = World()

    class Down(ScriptedBackend):
        async def list_sites(self, team_id: str) -> list[Site]:
            raise Unavailable("backend unreachable")

    app = make_app(w, backend=Down(w.backend))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        burst(pilot, "S", *"shop", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await wait_for(
            pilot, lambda: "cannot load" in str(picker.query_one("#picker-title").render())
        )
        assert "backend unreachable" in str(picker.query_one("#picker-title").render())
        assert screen.state.filter.site_id is None  # nothing picked
        burst(pilot, "escape")
        await wait_for(pilot, lambda: no_modal(pilot))


async def test_picker_ranks_a_prefix_match_before_a_substring_match() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        burst(pilot, "s", *"runn", "enter")
        await wait_for(pilot, lambda: no_modal(pilot) and bool(state.filter.statuses))
        # "running", not "active (queued + running)" which lists first and also contains it.
        assert state.filter.statuses == frozenset({DeploymentStatus.RUNNING})


async def test_picker_says_no_match_and_enter_then_picks_nothing() -> None:
    from textual.widgets import Input, OptionList

    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        burst(pilot, "s", *"zzz", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        options = picker.query_one(OptionList)
        await wait_for(pilot, lambda: picker.query_one("#picker-filter", Input).value == "zzz")
        await pilot.pause()
        assert options.option_count == 1
        assert "no match" in str(options.get_option_at_index(0).prompt)
        assert isinstance(app.screen, PickerScreen)  # Enter picked nothing: still open
        assert not screen.state.filter.statuses
        burst(pilot, "escape")
        await wait_for(pilot, lambda: no_modal(pilot))


async def test_keys_typed_after_enter_go_to_the_dashboard_not_the_closed_prompt() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        # "/Grace⏎" then "f" (the failures view), all in one burst.
        burst(pilot, "/", *"Grace", "enter", "f")
        await wait_for(
            pilot,
            lambda: (
                no_modal(pilot) and state.filter.text is not None and bool(state.filter.statuses)
            ),
        )
        assert state.filter.text == "Grace"  # not "Gracef"
        assert state.filter.statuses == frozenset({DeploymentStatus.FAILED})


async def test_keys_typed_after_escape_go_to_the_dashboard() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        burst(pilot, "s", *"que", "escape", "f")  # changed my mind: the failures view instead
        await wait_for(pilot, lambda: no_modal(pilot) and bool(state.filter.statuses))
        assert state.filter.statuses == frozenset({DeploymentStatus.FAILED})


async def test_keys_after_an_enter_that_picks_nothing_stay_in_the_picker() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        burst(pilot, "s", *"zzz", "enter", "backspace", "backspace", "backspace", *"fai", "enter")
        await wait_for(pilot, lambda: no_modal(pilot) and bool(screen.state.filter.statuses))
        assert screen.state.filter.statuses == frozenset({DeploymentStatus.FAILED})
        assert not any(isinstance(s, PickerScreen) for s in app.screen_stack)


async def test_keys_typed_right_after_o_go_to_the_pager() -> None:
    from tui.output import PagerScreen

    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        burst(pilot, "o", "/", *"rsync", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PagerScreen))
        pager = app.screen
        assert isinstance(pager, PagerScreen)
        await wait_for(pilot, lambda: pager.query_ is not None)
        assert pager.query_.text == "rsync"
        assert screen.state.filter.text is None  # nothing reached the dashboard's search
