"""PagerScreen: opening position, search, filter, errors, toggles, save, copy, $PAGER."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static

from backend_client.models import DeploymentStatus, StepStatus
from tui.output import OutputView, PagerScreen

from .apps import DEP, PagerApp, failed_deployment, recording_runner
from .fakes import FakeOutputBackend, make_deployment


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``check()`` holds (a timeout fails the test)."""
    async with asyncio.timeout(timeout):
        while not check():
            await pilot.pause()


def pager(app: PagerApp) -> PagerScreen:
    screen = app.screen
    assert isinstance(screen, PagerScreen)
    return screen


def view_lines(app: PagerApp) -> list[str]:
    view = pager(app).view
    return ["".join(s.text for s in view.render_line(y)) for y in range(view.size.height)]


def status(app: PagerApp) -> str:
    return str(pager(app).query_one("#pager-status", Static).render())


async def search(pilot: Pilot[None], text: str) -> None:
    await pilot.press("slash")
    search_input = pilot.app.screen.query_one("#pager-search-input", Input)
    search_input.value = text
    await pilot.press("enter")
    await settle(pilot)


async def test_failed_deployment_opens_at_its_first_error_line() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        lines = view_lines(app)
        text = "\n".join(lines)
        assert "rsync: write failed" in text
        assert "new lines" not in text  # reading the output is not "new lines"
        assert not pager(app).view.following
        assert "paused" in status(app)


async def test_search_counts_highlights_and_wraps_around() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await search(pilot, "retry")
        # "retrying" on the warning line + 5 "retry" lines.
        assert "1 of 6" in status(app)
        await pilot.press("n")
        assert "2 of 6" in status(app)
        await pilot.press("N", "N")
        assert "6 of 6" in status(app)
        view = pager(app).view
        highlighted = [
            seg.text
            for y in range(view.size.height)
            for seg in view.render_line(y)
            if seg.style is not None and seg.style.bgcolor is not None and seg.text == "retry"
        ]
        assert len(highlighted) >= 2


async def test_filter_shows_only_matching_lines_with_context() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await search(pilot, "group 0[37]")
        assert "no matches" in status(app)
        await pilot.press("ctrl+r")  # regex on: searched again
        await settle(pilot)
        assert "of 2" in status(app)
        await pilot.press("ampersand")
        await settle(pilot)
        text = "\n".join(view_lines(app))
        assert "checking file group 03" in text and "checking file group 07" in text
        assert "checking file group 05" not in text
        assert "━━ 1/3" in text  # step headers stay
        assert "only matching lines" in status(app)
        await pilot.press("plus")
        await settle(pilot)
        text = "\n".join(view_lines(app))
        assert "checking file group 02" in text and "checking file group 08" in text
        assert "--" in text  # a gap between the two groups
        await pilot.press("ampersand")
        await settle(pilot)
        assert "checking file group 05" in "\n".join(view_lines(app))


async def test_error_lines_next_and_previous() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 12)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await pilot.press("e")
        await settle(pilot)
        top = pager(app).view.top_row
        assert "rsync: write failed" in "\n".join(view_lines(app))
        await pilot.press("e", "e", "e")
        await settle(pilot)
        assert pager(app).view.top_row >= top
        assert "RuntimeError" in "\n".join(view_lines(app))
        await pilot.press("E")
        await settle(pilot)
        assert "Traceback" in "\n".join(view_lines(app))


async def test_wrap_line_numbers_and_go_to_line() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", StepStatus.COMPLETED)], status=DeploymentStatus.COMPLETED
    )
    backend.write(DEP, "step-1", "".join(f"line {n} " + "x" * 150 + "END\n" for n in range(1, 200)))
    backend.finished.add((DEP, "step-1"))
    app = PagerApp(backend, deployment, step_id="step-1")
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        assert not any("END" in line for line in view_lines(app))
        await pilot.press("w")
        await pilot.pause()
        assert any("END" in line for line in view_lines(app))
        assert "wrap" in status(app)
        await pilot.press("l")
        await pilot.pause()
        assert view_lines(app)[1].startswith("  1 line 1 ")
        await pilot.press("colon")
        await pilot.pause()
        app.screen.query_one(Input).value = "150"
        await pilot.press("enter")
        await pilot.pause()
        assert any(line.startswith("150 line 150 ") for line in view_lines(app))
        await pilot.press("colon")
        await pilot.pause()
        app.screen.query_one(Input).value = "abc"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PagerScreen)  # a bad answer is a notice, not a crash


async def test_save_copy_and_external_pager(tmp_path: Path) -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "step-2", "")
    deployment = failed_deployment(backend)
    app = PagerApp(backend, deployment, pager_runner=recording_runner)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        prompt = app.screen.query_one(Input)
        assert prompt.value == f"./deploytop-{DEP}-all.log"
        target = tmp_path / "out.log"
        prompt.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        saved = target.read_text(encoding="utf-8")
        assert "rsync exited with code 11" in saved and "\x1b" not in saved
        assert saved.startswith("━━ 1/3 ✔ Prepare clone · completed ━━\n")
        # A path that cannot be written is a notice, never a crash.
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one(Input).value = str(tmp_path / "missing" / "dir" / "x.log")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PagerScreen)
        assert any("Could not save" in n.message for n in app._notifications)
        await pilot.press("c")
        assert "RuntimeError: copy failed" in app.clipboard
        await pilot.press("p")
        await settle(pilot)
        assert len(app.runs) == 1
        handed = app.runs[0]
        assert "\x1b[1;31mERROR:\x1b[0m" in handed  # colours kept for less -R
        assert "progress  93%" in handed and "\r" not in handed


async def test_failed_only_toggle_and_single_step() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend), failed_only=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        text = "\n".join(view_lines(app))
        assert "Copying files" in text and "Preparing clone" not in text
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        assert "Preparing clone" in "\n".join(view_lines(app))


async def test_last_search_is_remembered_across_openings() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await search(pilot, "retry")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PagerScreen)
        app.push_pager()
        await settle(pilot)
        assert "/retry" in status(app)
        await pilot.press("n")
        assert "of 6" in status(app)


async def test_invalid_regex_is_a_notice() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await search(pilot, "([")
        assert any("Invalid regular expression" in n.message for n in app._notifications)
        assert isinstance(app.screen, PagerScreen)


async def test_truncated_output_shows_a_notice() -> None:
    backend = FakeOutputBackend()
    deployment = failed_deployment(backend)
    backend.truncated.add((DEP, "step-2"))
    app = PagerApp(backend, deployment, step_id="step-2")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert "output cut short" in status(app)
        await pilot.press("G")
        await pilot.pause()
        assert any("Output cut short" in line for line in view_lines(app))


async def test_live_output_keeps_flowing_into_follow_and_search() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment([("Build", StepStatus.RUNNING)], status=DeploymentStatus.RUNNING)
    backend.write(DEP, "step-1", "start\n")
    app = PagerApp(backend, deployment)
    async with app.run_test(size=(80, 10)) as pilot:
        await settle(pilot)
        view = pager(app).view
        assert view.following
        await search(pilot, "tick")
        assert "no matches" in status(app)
        await pilot.press("F")
        for n in range(40):
            app.hub.dispatch(backend.write(DEP, "step-1", f"tick {n}\n"))
        view.flush()
        # The live re-search is debounced: wait for its result, not for a fixed time.
        await until(pilot, lambda: "of 40" in status(app))
        await settle(pilot)
        assert "tick 39" in "\n".join(view_lines(app))
        assert "of 40" in status(app)
        assert isinstance(view, OutputView)


async def test_keys_typed_right_after_slash_go_to_the_search_line() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "r", "o", "w", "s", "y", "n", "c")
        assert app.screen.query_one("#pager-search-input", Input).value == "rowsync"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PagerScreen)  # escape closed the search line only
        assert not pager(app).query_one("#pager-search").has_class("-open")


async def test_step_headers_follow_step_status_events() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", StepStatus.RUNNING), ("Deploy", StepStatus.QUEUED)],
        status=DeploymentStatus.RUNNING,
    )
    backend.write(DEP, "step-1", "compiling\n")
    backend.write(DEP, "step-2", "")
    app = PagerApp(backend, deployment)
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        text = "\n".join(view_lines(app))
        assert "● Build · running" in text and "(no output yet)" in text
        app.hub.dispatch(backend.finish(deployment, "step-1", StepStatus.FAILED))
        pager(app).view.flush()
        await pilot.pause()
        assert "✘ Build · failed" in "\n".join(view_lines(app))


async def test_external_pager_failures_are_notices() -> None:
    backend = FakeOutputBackend()
    # The default runner: the headless test driver cannot hand the terminal over.
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PagerScreen)
        messages = [n.message for n in app._notifications]
        assert any("cannot be handed to $PAGER" in m for m in messages), messages

    async def missing_pager(app: object, path: Path) -> None:
        assert path.exists()
        raise FileNotFoundError(2, "No such file or directory", "nosuchpager")

    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend), pager_runner=missing_pager)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("Could not run" in m for m in messages), messages


async def test_a_deployment_without_steps_opens_empty() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, make_deployment([], status=DeploymentStatus.QUEUED))
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        await pilot.press("e", "n", "ampersand", "w", "l", "G", "g", "o")
        await settle(pilot)
        assert isinstance(app.screen, PagerScreen)


async def test_first_e_after_opening_at_an_error_goes_to_the_next_one() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert "Error line 2 of 5" in messages, messages


async def test_saving_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    existing = tmp_path / "out.log"
    existing.write_text("keep me\n", encoding="utf-8")
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one(Input).value = str(existing)
        await pilot.press("enter")
        await settle(pilot)
        # Asked again, with a free name offered.
        prompt = app.screen.query_one(Input)
        assert "already exists" in str(app.screen.query_one(Label).render())
        assert prompt.value == str(tmp_path / "out-1.log")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PagerScreen)
    assert existing.read_text(encoding="utf-8") == "keep me\n"
    assert "rsync exited with code 11" in (tmp_path / "out-1.log").read_text(encoding="utf-8")


async def test_an_unexpected_pager_failure_is_a_notice_and_the_file_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    async def broken_pager(app: object, path: Path) -> None:
        assert path.exists()
        raise RuntimeError("pager exploded")

    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend), pager_runner=broken_pager)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, PagerScreen)
        messages = [n.message for n in app._notifications]
        assert any("RuntimeError: pager exploded" in m for m in messages), messages
        assert list(tmp_path.iterdir()) == []

        # A failure while writing the file: the file is removed all the same.
        def failing_chunks(*, colours: bool = False) -> Iterator[str]:
            yield "some output\n"
            raise RuntimeError("feed broke")

        monkeypatch.setattr(pager(app), "_text_chunks", failing_chunks)
        await pilot.press("p")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, PagerScreen)
        messages = [n.message for n in app._notifications]
        assert any("RuntimeError: feed broke" in m for m in messages), messages
        assert list(tmp_path.iterdir()) == []


async def test_a_failing_search_is_a_notice_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.output import pager as pager_module

    def broken_scan(*args: object, **kwargs: object) -> object:
        raise RuntimeError("scan broke")

    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(pager_module, "scan_matches", broken_scan)
        await search(pilot, "retry")
        assert app.is_running and isinstance(app.screen, PagerScreen)
        messages = [n.message for n in app._notifications]
        assert any("search failed: RuntimeError: scan broke" in m for m in messages), messages
        assert "searching…" not in status(app)


async def test_the_title_shows_a_hostile_deployment_id_harmlessly() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", StepStatus.COMPLETED)],
        deployment_id="01J\x1b]0;owned\x07[b]X",
        status=DeploymentStatus.COMPLETED,
    )
    backend.write(deployment.id, "step-1", "ok\n")
    backend.finished.add((deployment.id, "step-1"))
    app = PagerApp(backend, deployment)
    async with app.run_test(size=(120, 12)) as pilot:
        await settle(pilot)
        title = pager(app).query_one("#pager-title", Static).render()
        text = str(title)
        assert "\x1b" not in text and "\x07" not in text and "owned" not in text
        assert "01J[b]X" in text


async def test_notices_quoting_a_query_never_parse_it_as_markup() -> None:
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await search(pilot, "[/]nothing[b]")
        assert app.is_running and isinstance(app.screen, PagerScreen)
        messages = [n.message for n in app._notifications]
        assert "No matches for '[/]nothing[b]'." in messages, messages
        notice = next(n for n in app._notifications if n.message.startswith("No matches"))
        assert notice.markup is False  # shown as typed, never parsed as markup
