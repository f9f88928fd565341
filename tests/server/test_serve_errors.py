"""``deploytop serve`` says its errors like the rest of deploytop: one line, exit 2."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from backend_server.cli import EXIT_CANNOT_START, serve
from tui.cli import main

Runner = Callable[..., tuple[int, str]]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def _deploytop(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["serve", *args], catch_exceptions=False)
    return result.exit_code, result.output


def _serve_alone(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(serve, list(args), prog_name="deploytop serve")
    return result.exit_code, result.output


@pytest.mark.parametrize("run", [_deploytop, _serve_alone])
def test_a_taken_port_is_one_line_and_exit_2(run: Runner, taken_port: int) -> None:
    code, output = run("--port", str(taken_port))
    assert code == EXIT_CANNOT_START == 2
    assert output == (
        f"deploytop: error: cannot listen on 127.0.0.1:{taken_port}: Address already in use\n"
    )


@pytest.mark.parametrize("run", [_deploytop, _serve_alone])
def test_a_bad_tokens_file_is_one_line_and_exit_2(run: Runner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    code, output = run("--port", "0", "--tokens", str(missing))
    assert (code, output) == (
        2,
        f"deploytop: error: cannot read tokens file {missing}: No such file or directory\n",
    )


def test_a_tokens_path_cannot_drive_the_terminal(tmp_path: Path) -> None:
    evil = tmp_path / "to\x1b]0;owned\x07kens.toml"
    code, output = _serve_alone("--port", "0", "--tokens", str(evil))
    assert code == 2
    assert output.startswith("deploytop: error: cannot read tokens file ")
    assert "\x1b" not in output and "\x07" not in output and output.count("\n") == 1


def test_usage_errors_are_one_line_under_deploytop_and_alone() -> None:
    cases = {
        ("--port", "abc"): (
            "deploytop: error: invalid value for '--port': 'abc' is not a valid integer range\n"
        ),
        ("--prot", "1"): "deploytop: error: no such option: --prot (did you mean --port?)\n",
        ("--bogus",): "deploytop: error: no such option: --bogus\n",
        ("--port",): "deploytop: error: option '--port' requires an argument\n",
    }
    for args, expected in cases.items():
        assert _deploytop(*args) == (2, expected), args
        assert _serve_alone(*args) == (2, expected), args
    helped = _serve_alone("--help")
    assert helped[0] == 0 and helped[1].startswith("Usage: deploytop serve [OPTIONS]")
