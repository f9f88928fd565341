"""Hostile output in a real terminal: only SGR reaches the bytes written to the pty."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

from .hostile_app import HOSTILE

ROOT = Path(__file__).resolve().parents[2]


def run_in_pty(*args: str, timeout: float = 20.0) -> bytes:
    pid, fd = pty.fork()
    if pid == 0:  # child: become the app
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.chdir(ROOT)
        env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
        env["PYTHONPATH"] = str(ROOT)
        env.pop("TEXTUAL", None)
        os.execve(sys.executable, [sys.executable, "-m", "tests.output.hostile_app", *args], env)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
    return bytes(output)


SGR = rb"(?:\x1b\[[0-9;:]*m)*"


@pytest.mark.parametrize("pager", [False, True], ids=["output-view", "pager"])
def test_hostile_sequences_never_reach_the_terminal(pager: bool) -> None:
    args = ["--pager"] if pager else []
    output = run_in_pty(*args, "--exit-after", "2.5")
    assert b"red0" in output, output[-2000:]  # the app really drew the output
    for n, (name, _) in enumerate(HOSTILE):
        # Between the markers, the terminal received nothing but colour sequences.
        pattern = rb"A%d" % n + SGR + rb"B%d" % n
        assert re.search(pattern, output), f"{name}: {output[-3000:]!r}"
    assert b"SE9TVElMRV9DTElQ" not in output  # no clipboard payload at all
    assert b"HOSTILE_TITLE" not in output
    assert b"HOSTILE_DCS" not in output
    assert b"\x1b]52" not in output
    assert b"\x1bc" not in output
    assert b"\x9b" not in output and b"\x9d" not in output  # no C1 (raw or UTF-8 encoded)
    if pager:
        assert re.search(rb"Copy" + SGR + rb" " + SGR + rb"files", output)  # the step header
        assert re.search(rb"shop" + SGR + rb"\.example\.com", output)  # the title
    else:
        assert re.search(rb"AL" + SGR + rb"BL", output)


def test_the_check_catches_a_leak() -> None:
    """Control: unsanitized text in a Static does leak, and the checks above would see it."""
    output = run_in_pty("--unsafe", "--exit-after", "2.5")
    assert b"red0" in output
    assert b"SE9TVElMRV9DTElQ" in output or b"\x1b]52" in output
