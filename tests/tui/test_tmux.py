"""A real terminal: tmux runs the installed ``deploytop``, we type keys and read the screen."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TMUX = shutil.which("tmux")


def _deploytop() -> str | None:
    local = Path(sys.executable).parent / "deploytop"
    return str(local) if local.exists() else shutil.which("deploytop")


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "dash")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "dash", *keys)

    def wait(self, condition: Callable[[str], bool], timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched; last screen:\n{text}")
            time.sleep(0.1)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if TMUX is None:
        pytest.skip("tmux is not installed")
    exe = _deploytop()
    if exe is None:
        pytest.skip("the deploytop console script is not installed")
    t = Tmux(f"deploytop-test-{uuid.uuid4().hex[:8]}")
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "DEPLOYTOP_DEMO__HISTORY": "150",
        "DEPLOYTOP_BELL": "false",
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = f"env {exports} {shlex.quote(exe)}; echo DEPLOYTOP-EXITED $?; sleep 30"
    t.run("new-session", "-d", "-s", "dash", "-x", "140", "-y", "36", command)
    try:
        yield t
    finally:
        t.run("kill-server")


def test_dashboard_in_a_real_terminal(tmux: Tmux) -> None:
    screen = tmux.wait(lambda s: "● live" in s and "Acme Agency" in s and "completed" in s)
    assert "all deployments" in screen
    assert "^p palette" in screen or "palette" in screen
    tmux.keys("f")
    # The header changes at once; the rows follow with the new listing.
    screen = tmux.wait(
        lambda s: "status: failed" in s and any(ln.startswith("▸") for ln in s.splitlines())
    )
    body = [line for line in screen.splitlines()[1:-1] if line.startswith("▸")]
    assert body and all("failed" in line for line in body)
    tmux.keys("f")
    tmux.wait(lambda s: "all deployments" in s)
    tmux.keys("space")
    tmux.wait(lambda s: "├" in s and "▾" in s)
    tmux.keys("?")
    tmux.wait(lambda s: "keys (Esc closes" in s)
    tmux.keys("Escape")
    tmux.wait(lambda s: "keys (Esc closes" not in s)
    tmux.keys("C-q")
    screen = tmux.wait(lambda s: "DEPLOYTOP-EXITED 0" in s)
    assert "Traceback" not in screen


@pytest.mark.skipif(os.environ.get("CI_NO_TTY") == "1", reason="no tty")
def test_bad_theme_says_one_line(tmux: Tmux) -> None:
    # The fixture's session runs the dashboard; a second window runs a bad invocation.
    exe = _deploytop()
    assert exe is not None
    tmux.run(
        "new-window",
        "-t",
        "dash",
        f"{shlex.quote(exe)} --theme nope; echo BAD-EXITED $?; sleep 30",
    )
    deadline = time.monotonic() + 20
    while True:
        text = tmux.run("capture-pane", "-p", "-t", "dash:1")
        if "BAD-EXITED" in text:
            break
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
    assert "deploytop: error: unknown theme 'nope'" in text
    assert "BAD-EXITED 2" in text
    assert "Traceback" not in text
