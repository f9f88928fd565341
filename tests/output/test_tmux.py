"""The $PAGER hand-off in a real terminal (tmux): less shows the output, the app comes back
intact and its live updates kept flowing meanwhile."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(shutil.which("less") is None, reason="less is not installed"),
]


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def screen(self) -> str:
        """The pane's text; empty once the app has quit (its session is gone with it)."""
        try:
            return self.run("capture-pane", "-p", "-t", "t")
        except subprocess.CalledProcessError:
            return ""

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")


@pytest.fixture
def tick_file(tmp_path: Path) -> Path:
    return tmp_path / "ticks"


@contextmanager
def _session(tick_file: Path, pager: str) -> Iterator[Tmux]:
    session = Tmux(f"deploytop-output-{os.getpid()}")
    command = (
        f"cd {ROOT} && PYTHONPATH={ROOT} PAGER={shlex.quote(pager)} TERM=xterm-256color "
        f"DEPLOYTOP_TEST_TICK_FILE={tick_file} {sys.executable} -m tests.output.live_app"
    )
    session.run("new-session", "-d", "-s", "t", "-x", "110", "-y", "30", command)
    socket_path = session.run("display-message", "-p", "#{socket_path}").strip()
    try:
        yield session
    finally:
        subprocess.run(["tmux", "-L", session.socket, "kill-server"], capture_output=True)
        if socket_path:
            Path(socket_path).unlink(missing_ok=True)


@pytest.fixture
def tmux(tick_file: Path) -> Iterator[Tmux]:
    with _session(tick_file, "less -R") as session:
        yield session


@pytest.fixture
def tmux_missing_pager(tick_file: Path) -> Iterator[Tmux]:
    with _session(tick_file, "nosuchpager") as session:
        yield session


def tick(screen: str) -> int:
    match = re.search(r"DASHBOARD tick (\d+)", screen)
    assert match is not None, screen
    return int(match.group(1))


def _ticks(tick_file: Path) -> int:
    try:
        return int(tick_file.read_text() or 0)
    except (OSError, ValueError):
        return 0


def test_pager_hand_off_returns_to_a_live_screen(tmux: Tmux, tick_file: Path) -> None:
    tmux.wait_for(lambda s: "DASHBOARD tick" in s and "tick 3 copying" in s, "the dashboard")
    tmux.keys("o")
    tmux.wait_for(lambda s: "━━ 1/1" in s and "Search" in s, "the pager")
    tmux.keys("p")
    screen = tmux.wait_for(
        lambda s: "deploytop-" in s and "Search" not in s and "started" in s, "less"
    )
    assert "DASHBOARD" not in screen
    handed = max(int(n) for n in re.findall(r"tick (\d+) copying", screen))
    # less -R got the colours (SGR) and nothing else.
    coloured = tmux.run("capture-pane", "-p", "-e", "-t", "t")
    assert "\x1b[32mstarted" in coloured or "\x1b[32m" in coloured
    # The app keeps ticking while less owns the terminal: wait until it has, visibly.
    deadline = time.monotonic() + 15
    while _ticks(tick_file) < handed + 8:
        assert time.monotonic() < deadline, f"no ticks while less ran: {_ticks(tick_file)}"
        time.sleep(0.05)
    tmux.keys("q")
    screen = tmux.wait_for(
        lambda s: "Search" in s and re.search(r"Output \S+ \w+ · Clone", s) is not None,
        "the pager again",
    )
    last = max(int(n) for n in re.findall(r"tick (\d+) copying", screen))
    assert last >= handed + 5, screen  # ticks kept coming while less owned the terminal
    # A query typed in one burst right after "/" lands in the search line.
    tmux.keys("/", "t", "i", "c", "k", "Space", "1", "2", "Enter")
    tmux.wait_for(lambda s: re.search(r"/tick 12\s+\d+ of \d+", s) is not None, "the search")
    tmux.keys("Escape")
    first = tick(tmux.wait_for(lambda s: "DASHBOARD tick" in s, "the dashboard again"))
    assert first >= last - 1
    later = tick(tmux.wait_for(lambda s: tick(s) >= first + 5, "the dashboard to keep ticking"))
    assert later >= first + 5
    screen = tmux.screen()
    assert "copying" in screen and "Pager" in screen  # output pane and footer intact


def test_a_missing_pager_is_a_notice_and_the_app_stays_live(tmux_missing_pager: Tmux) -> None:
    tmux = tmux_missing_pager
    tmux.wait_for(lambda s: "DASHBOARD tick" in s and "tick 3 copying" in s, "the dashboard")
    tmux.keys("o")
    tmux.wait_for(lambda s: "━━ 1/1" in s and "Search" in s, "the pager")
    tmux.keys("p")
    # (The toast may wrap: its words are checked, not the whole line.)
    tmux.wait_for(
        lambda s: "cannot start pager 'nosuchpager'" in s and "not found" in s, "the notice"
    )
    # The terminal was never handed over: the pager still answers keys and keeps growing.
    tmux.keys("Escape")
    first = tick(tmux.wait_for(lambda s: "DASHBOARD tick" in s, "the dashboard again"))
    later = tick(tmux.wait_for(lambda s: tick(s) >= first + 5, "the dashboard to keep ticking"))
    assert later >= first + 5
    tmux.keys("C-q")
    tmux.wait_for(lambda s: "DASHBOARD" not in s, "the app to quit")


def test_go_to_line_typed_in_one_burst_lands_in_the_prompt(tmux: Tmux) -> None:
    """``:12`` Enter sent as one write to the terminal: the pager goes to line 12.

    Before the prompt held type-ahead, the digits reached the pager before the prompt had
    opened (and were lost) and Enter then answered an empty prompt.
    """
    tmux.wait_for(lambda s: "DASHBOARD tick" in s, "the dashboard")
    tmux.keys("o")
    # Enough lines that line 12 is far above the followed bottom of the output.
    tmux.wait_for(
        lambda s: re.search(r"line \d+ of (4\d|[5-9]\d|\d{3,})\b", s) is not None, "output"
    )
    tmux.keys(":", "1", "2", "Enter")
    screen = tmux.wait_for(lambda s: "Build · line 12 of" in s, "line 12 at the top")
    assert "Go to line" not in screen  # the prompt answered and closed
    # Same for a search typed with a correction in one burst.
    tmux.keys("/", "t", "i", "c", "j", "BSpace", "k", "Space", "3", "0", "Space", "c", "Enter")
    tmux.wait_for(lambda s: re.search(r"/tick 30 c\s+1 of 1\b", s) is not None, "the search")
