"""Type-ahead: keys typed in one burst right after ``:``, ``s`` or ``/`` go to the prompt.

``pilot.press`` waits for the app to be idle after every key, so it never shows the race.
A real terminal (or SSH) delivers a burst as one read: the driver posts every key to the
app before the app has handled the first. ``burst`` does exactly that.
"""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Input

from backend_client.models import DeploymentStatus, StepStatus
from tests.keys import burst
from tui.output import PagerScreen
from tui.output.pager import PromptScreen

from .apps import DEP, PagerApp, failed_deployment, pager, settle, until
from .fakes import FakeOutputBackend, make_deployment


def long_output_app() -> PagerApp:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", StepStatus.COMPLETED)], status=DeploymentStatus.COMPLETED
    )
    backend.write(DEP, "step-1", "".join(f"line {n}\n" for n in range(1, 2001)))
    backend.finished.add((DEP, "step-1"))
    return PagerApp(backend, deployment, step_id="step-1")


def status_line(app: PagerApp) -> str:
    return str(pager(app).query_one("#pager-status").render())


async def test_go_to_line_typed_in_one_burst() -> None:
    app = long_output_app()
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        assert "line 1 of 2,000" in status_line(app)
        burst(pilot, *":1200", "enter")
        await until(pilot, lambda: isinstance(app.screen, PagerScreen))
        await settle(pilot)
        # The line is marked and on screen; nothing was taken as a pager key (w, l, ...).
        assert pager(app).view.marked_row == 1200
        assert pager(app).view.top_row <= 1200 < pager(app).view.top_row + 10
        assert not pager(app).view.wrap


async def test_keys_typed_after_the_enter_go_to_the_pager() -> None:
    app = long_output_app()
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        burst(pilot, *":1200", "enter", "w")  # go to line 1200, then wrap
        await until(pilot, lambda: isinstance(app.screen, PagerScreen) and pager(app).view.wrap)
        await settle(pilot)
        assert pager(app).view.marked_row == 1200  # "1200", not "1200w"


async def test_a_burst_with_backspace_and_escape_cancels_cleanly() -> None:
    app = long_output_app()
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        top = pager(app).view.top_row
        # Typed, corrected, then abandoned: Escape closes the prompt, not the pager.
        burst(pilot, *":12", "backspace", "escape")
        await until(pilot, lambda: isinstance(app.screen, PagerScreen))
        await settle(pilot)
        assert pager(app).view.top_row == top
        assert pager(app).view.marked_row is None


async def test_prompt_keeps_the_burst_in_order() -> None:
    app = long_output_app()
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        burst(pilot, *":1234x56", "backspace", "7")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        prompt = app.screen
        await until(pilot, lambda: prompt.query_one(Input).value == "1234x57")
        await settle(pilot)
        assert prompt.query_one(Input).value == "1234x57"
        burst(pilot, "escape")
        await until(pilot, lambda: isinstance(app.screen, PagerScreen))


async def test_save_path_typed_in_one_burst(tmp_path: Path) -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "step-2", "")
    app = PagerApp(backend, failed_deployment(backend))
    target = tmp_path / "burst.log"
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        # ctrl+u clears the suggested path (Input's delete-to-start binding).
        burst(pilot, "s", "ctrl+u", *str(target), "enter")
        await until(pilot, target.exists)
        await settle(pilot)
        assert "rsync exited with code 11" in target.read_text(encoding="utf-8")
        assert isinstance(app.screen, PagerScreen)


async def test_search_typed_in_one_burst() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        burst(pilot, *"/retry", "enter")
        await until(pilot, lambda: "of 6" in status_line(app))
        await settle(pilot)
        assert "/retry" in status_line(app)
        assert not pager(app).query_one("#pager-search").has_class("-open")


async def test_keys_typed_after_the_search_enter_go_to_the_pager() -> None:
    from textual.widgets import Input

    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        burst(pilot, *"/retry", "enter", "w")  # search, then wrap
        await until(pilot, lambda: "of 6" in status_line(app) and pager(app).view.wrap)
        await settle(pilot)
        assert pager(app).query_one("#pager-search-input", Input).value == "retry"


async def test_a_bad_regex_keeps_the_keys_typed_after_its_enter() -> None:
    from textual.widgets import Input

    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")  # regex on
        burst(pilot, *"/retry(", "enter", "backspace", "enter")  # bad, fixed, run
        await until(pilot, lambda: "of 6" in status_line(app))
        await settle(pilot)
        assert pager(app).query_one("#pager-search-input", Input).value == "retry"


async def test_search_burst_with_a_correction() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        # Textual alone would type the "y" before running the backspace (which then
        # deleted the "y"): the search would be for "retr".
        burst(pilot, *"/retrx", "backspace", "y", "enter")
        await until(pilot, lambda: "of 6" in status_line(app))
        assert "/retry " in status_line(app)


async def test_colon_and_s_are_characters_in_the_search_line() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        burst(pilot, *"/code 11:s")
        search_input = pager(app).query_one("#pager-search-input", Input)
        await until(pilot, lambda: search_input.value == "code 11:s")
        await settle(pilot)
        assert isinstance(app.screen, PagerScreen)  # no prompt opened
        assert search_input.value == "code 11:s"


async def test_keys_reaching_the_prompt_before_its_input_exists_are_held_in_order() -> None:
    """The other side of the race: the app forwards keys to a prompt not yet composed.

    In a real terminal the prompt may still be composing when the app routes the next
    keys; with nothing focused, the app forwards them to the screen. Done here exactly as
    the app does, before the prompt has had a chance to run.
    """
    app = long_output_app()
    answers: list[str | None] = []
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        prompt = PromptScreen("Go to line")
        app.push_screen(prompt, answers.append)
        assert app.screen is prompt and app.focused is None
        for key, character in (("4", "4"), ("x", "x"), ("backspace", "\x7f"), ("2", "2")):
            (app.focused or app.screen)._forward_event(events.Key(key, character))
        (app.focused or app.screen)._forward_event(events.Paste("00"))
        assert not prompt.query(Input)  # not composed yet: the keys are held
        (app.focused or app.screen)._forward_event(events.Key("enter", "\r"))
        await until(pilot, lambda: bool(answers))
        assert answers == ["4200"]
        assert isinstance(app.screen, PagerScreen)


async def test_escape_held_before_the_prompt_is_up_cancels_it() -> None:
    app = long_output_app()
    answers: list[str | None] = []
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        prompt = PromptScreen("Go to line")
        app.push_screen(prompt, answers.append)
        for key, character in (("9", "9"), ("escape", "\x1b")):
            (app.focused or app.screen)._forward_event(events.Key(key, character))
        await until(pilot, lambda: bool(answers))
        assert answers == [None]
        assert isinstance(app.screen, PagerScreen)
