"""PagerScreen: opening position, search, filter, errors, toggles, save, copy, $PAGER."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Static

from backend_client.models import DeploymentStatus, StepStatus
from tui.output import OutputView, PagerScreen

from .apps import DEP, PagerApp, failed_deployment, pager, recording_runner, settle, until
from .fakes import FakeOutputBackend, make_deployment


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
        # A finished deployment's output cannot grow: no follow state to show.
        assert "paused" not in status(app) and "following" not in status(app)


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
        assert "━━ 1/3" in text  # the header of a step with matches stays
        assert "━━ 2/3" not in text and "━━ 3/3" not in text  # steps without matches don't
        assert "only matching lines" in status(app)
        await pilot.press("plus")
        await settle(pilot)
        text = "\n".join(view_lines(app))
        assert "checking file group 02" in text and "checking file group 08" in text
        assert "┄┄┄┄" in text  # a gap between the two groups, unlike any output line
        assert "\n--" not in text
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
        # The line gone to is marked: ▶ in the gutter.
        assert any(line.startswith("150▶line 150 ") for line in view_lines(app))
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
        assert "◐ Build · running" in text and "(no output yet)" in text
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


def test_pager_command_is_resolved_or_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from tui.output.pager import PagerCommandError, pager_command

    sh = shutil.which("sh")
    assert sh is not None
    assert pager_command("sh -c 'cat'") == [sh, "-c", "cat"]
    with pytest.raises(PagerCommandError, match="cannot start pager 'nosuchpager': not found"):
        pager_command("nosuchpager --flag")
    with pytest.raises(PagerCommandError, match="cannot start pager"):
        pager_command("less 'unclosed")
    monkeypatch.setenv("PAGER", "nosuchpager")
    with pytest.raises(PagerCommandError, match="'nosuchpager': not found"):
        pager_command()


async def test_a_missing_pager_is_refused_before_the_terminal_is_handed_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.output.pager import run_external_pager

    class NeverSuspend:
        """An app stand-in: suspending (or batching) is a failure of the test."""

        def batch_update(self) -> object:
            raise AssertionError("batch_update() called for a missing pager")

        def suspend(self) -> object:
            raise AssertionError("suspend() called for a missing pager")

    monkeypatch.setenv("PAGER", "nosuchpager")
    with pytest.raises(OSError, match="cannot start pager 'nosuchpager': not found"):
        await run_external_pager(NeverSuspend(), Path("/dev/null"))  # type: ignore[arg-type]

    # The default runner in the app: a notice, and the app keeps answering keys.
    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert "cannot start pager 'nosuchpager': not found" in messages, messages
        await pilot.press("w")
        assert "wrap" in status(app)
        await pilot.press("q")
        assert not isinstance(app.screen, PagerScreen)


async def test_a_pager_failing_while_suspended_still_resumes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from contextlib import contextmanager

    from tui.output import pager as pager_module

    events: list[str] = []

    class RecordingApp:
        @contextmanager
        def batch_update(self) -> Iterator[None]:
            yield
            events.append("batch end")

        @contextmanager
        def suspend(self) -> Iterator[None]:
            # Like Textual 8.2.8: the resume is skipped if the block raises.
            events.append("suspend")
            yield
            events.append("resume")

    async def failing_exec(*args: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pager_module, "pager_command", lambda: ["/bin/true"])
    monkeypatch.setattr(asyncio, "create_subprocess_exec", failing_exec)
    with pytest.raises(PermissionError):
        await pager_module.run_external_pager(RecordingApp(), Path("/dev/null"))  # type: ignore[arg-type]
    assert events == ["suspend", "resume", "batch end"]


async def test_question_mark_lists_every_pager_key() -> None:
    from tui.screens.help import HelpScreen

    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        by_id = {ident: (section, keys, what) for section, keys, what, ident in help_screen.rows}
        for ident in (
            "pager.search",
            "pager.next_error",
            "pager.go_to_line",
            "pager.external",
            "pager.help",
            "pager.close",
            "output-view.follow",
        ):
            assert ident in by_id, ident
        assert by_id["pager.go_to_line"][1] == ":"
        assert by_id["pager.close"][1] == "esc q"
        assert by_id["output-view.follow"][0] == "Output (scrolling)"
        assert by_id["pager.next_match"][2] == "Next search match"  # the tooltip, not "Next"
        await pilot.press("escape")
        assert isinstance(app.screen, PagerScreen)
        # In the search line, "?" is a character.
        await pilot.press("slash", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, PagerScreen)
        assert app.screen.query_one("#pager-search-input", Input).value == "?"


async def test_the_palette_on_the_pager_lists_pager_actions() -> None:
    from textual.command import CommandList, CommandPalette

    backend = FakeOutputBackend()
    app = PagerApp(backend, failed_deployment(backend))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        shown = pager(app)
        assert not shown.view.wrap
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        for character in "wrap long":
            await pilot.press("space" if character == " " else character)
        commands = palette.query_one(CommandList)

        def prompts() -> list[str]:
            count = commands.option_count
            return [str(commands.get_option_at_index(i).prompt) for i in range(count)]

        await until(pilot, lambda: any("Wrap long lines" in p for p in prompts()))
        assert "Wrap long lines" in prompts()[0]
        await pilot.press("enter")
        await until(pilot, lambda: shown.view.wrap)
        assert app.screen is shown


async def test_status_counts_lines_from_one_and_headers_keep_real_positions() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [
            ("Back up", StepStatus.COMPLETED),
            ("Copy files", StepStatus.FAILED),
            ("Migrate", StepStatus.QUEUED),
        ],
        deployment_id=DEP,
        status=DeploymentStatus.FAILED,
    )
    backend.write(DEP, "step-1", "".join(f"backup {n}\n" for n in range(1, 7)))
    backend.write(DEP, "step-2", "copy\nERROR: disk full\n")
    for step_id in ("step-1", "step-2"):
        backend.finished.add((DEP, step_id))
    app = PagerApp(backend, deployment)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        assert "Back up · line 1 of 6" in status(app)  # the header at the top: line 1
        text = "\n".join(view_lines(app))
        # Never ran, never will: "not run", not "queued".
        assert "3/3 \u2013 Migrate · not run" in text and "queued" not in text
        await pilot.press("o")  # failed step only: still step 2 of 3
        await settle(pilot)
        assert "━━ 2/3 ✘ Copy files · failed" in "\n".join(view_lines(app))

    app = PagerApp(backend, deployment, step_id="step-3")
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        assert "━━ 3/3 \u2013 Migrate · not run" in "\n".join(view_lines(app))
        assert "Migrate · no lines" in status(app)


async def test_follow_state_shows_only_while_output_can_grow() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", StepStatus.RUNNING)], deployment_id=DEP, status=DeploymentStatus.RUNNING
    )
    backend.write(DEP, "step-1", "compiling\n")
    app = PagerApp(backend, deployment)
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        assert "following" in status(app)
        app.hub.dispatch(backend.finish(deployment, "step-1", StepStatus.COMPLETED))
        await until(pilot, lambda: "following" not in status(app))
        assert "paused" not in status(app)


def row_backgrounds(app: PagerApp) -> list[str | None]:
    """Each screen row's background colour at its middle cell."""
    view = pager(app).view
    out: list[str | None] = []
    for y in range(view.size.height):
        segments = list(view.render_line(y))
        cells: list[str | None] = []
        for segment in segments:
            bgcolor = segment.style.bgcolor if segment.style else None
            cells += [bgcolor.name if bgcolor else None] * len(segment.text)
        out.append(cells[len(cells) // 2] if cells else None)
    return out


async def test_lines_gone_to_are_marked() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", StepStatus.COMPLETED)], status=DeploymentStatus.COMPLETED
    )
    backend.write(DEP, "step-1", "".join(f"line {n}\n" for n in range(1, 31)))
    backend.write(DEP, "step-1", "ERROR: one\nok\nERROR: two\n")
    backend.finished.add((DEP, "step-1"))
    app = PagerApp(backend, deployment, step_id="step-1")
    async with app.run_test(size=(80, 14)) as pilot:
        await settle(pilot)
        shown = pager(app)
        await pilot.press("g")
        await pilot.pause()
        assert shown.view.marked_row is None
        plain = row_backgrounds(app)[4]
        # ":4" while line 4 is on screen: nothing scrolls, but the line is marked.
        await pilot.press("colon")
        app.screen.query_one(Input).value = "4"
        await pilot.press("enter")
        await pilot.pause()
        assert shown.view.top_row == 0
        assert shown.view.marked_row == 4  # header row 0, line 4 is row 4
        lines, backgrounds = view_lines(app), row_backgrounds(app)
        assert lines[4].startswith("line 4")
        assert backgrounds[4] != plain and backgrounds[3] == plain == backgrounds[5]
        await pilot.press("l")
        await pilot.pause()
        assert view_lines(app)[4].startswith(" 4▶line 4")
        # "e": the error line is marked.
        await pilot.press("e")
        await settle(pilot)
        assert shown.view.marked_row == 31
        row = (shown.view.marked_row or 0) - shown.view.top_row
        assert "ERROR: one" in view_lines(app)[row] and "▶" in view_lines(app)[row]
        await pilot.press("e")
        await settle(pilot)
        row = (shown.view.marked_row or 0) - shown.view.top_row
        assert "ERROR: two" in view_lines(app)[row]
        assert row_backgrounds(app)[row] != row_backgrounds(app)[row - 1]


async def test_search_never_highlights_headers() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Back up staging", StepStatus.FAILED)], deployment_id=DEP, status=DeploymentStatus.FAILED
    )
    backend.write(DEP, "step-1", "copying\nbackup failed: disk full\n")
    backend.finished.add((DEP, "step-1"))
    app = PagerApp(backend, deployment)
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        await search(pilot, "failed")
        assert "1 of 1" in status(app)
        view = pager(app).view
        header = view._content_strip(0)
        assert "Back up staging · failed" in header.text
        current = view.get_component_rich_style("output-view--current-match", partial=True)
        match = view.get_component_rich_style("output-view--match", partial=True)
        header_bgs = {s.style.bgcolor for s in header if s.style is not None}
        assert current.bgcolor not in header_bgs and match.bgcolor not in header_bgs
        line = view._content_strip(2)
        assert any(s.text == "failed" for s in line)  # the output line's match is highlighted


async def test_the_mark_stays_on_its_line_while_earlier_steps_grow() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment(
        [("Build", StepStatus.RUNNING), ("Test", StepStatus.RUNNING)],
        deployment_id=DEP,
        status=DeploymentStatus.RUNNING,
    )
    backend.write(DEP, "step-1", "compiling\n")
    backend.write(DEP, "step-2", "ERROR: flaky test\n")
    app = PagerApp(backend, deployment)
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        shown = pager(app)
        await pilot.press("g", "e")
        await settle(pilot)
        assert shown.view.marked_row == 3  # header, line, header, the error line
        app.hub.dispatch(backend.write(DEP, "step-1", "linking\n"))
        await until(pilot, lambda: shown.view.marked_row == 4)
        row = 4 - shown.view.top_row
        assert "ERROR: flaky test" in view_lines(app)[row]
