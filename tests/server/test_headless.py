"""The headless commands (ls, show, logs, cancel, watch) through click, against a real server.

The server runs in a thread with its own event loop (click commands run their own loop),
on the real clock with fast pipelines.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import pytest
from click.testing import CliRunner, Result

from backend_client import Deployment, SystemClock
from tui import headless

from .conftest import World, make_world
from .harness import serve

T = TypeVar("T")


@dataclass
class Threaded:
    url: str
    world: World
    loop: asyncio.AbstractEventLoop

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def trigger(self, type: str = "quick", meta: dict[str, Any] | None = None) -> Deployment:
        backend = self.world.store.backend_for(self.world.operator.id)
        return self.call(
            backend.trigger_deployment(self.world.team_a.id, type, self.world.site_a.id, meta)
        )

    def settle(self) -> None:
        self.call(self.world.store.wait_idle(10))


@pytest.fixture
def threaded() -> Iterator[Threaded]:
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        world = make_world(SystemClock(), speed=300.0)
        await world.store.start()
        stop = asyncio.Event()
        box["stop"] = stop
        async with serve(world.store, world.tokens(), heartbeat_interval=0.5) as served:
            box["threaded"] = Threaded(served.url, world, asyncio.get_running_loop())
            ready.set()
            await stop.wait()
        await world.store.stop()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(10)
    threaded: Threaded = box["threaded"]
    try:
        yield threaded
    finally:
        threaded.loop.call_soon_threadsafe(box["stop"].set)
        thread.join(10)


@click.group()
def cli() -> None:
    pass


for command in headless.commands:
    cli.add_command(command)


def run(threaded: Threaded | None, *args: str, token: str | None = None) -> Result:
    env: dict[str, str | None] = {
        "DEPLOYTOP_BACKEND": None,
        "DEPLOYTOP_TOKEN": None,
        "DEPLOYTOP_TEAM": None,
    }
    if threaded is not None:
        env["DEPLOYTOP_BACKEND"] = threaded.url
        env["DEPLOYTOP_TOKEN"] = token or threaded.world.op_token
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_the_module_does_not_import_textual() -> None:
    import subprocess
    import sys

    code = "import sys, tui.headless; print(any(m.startswith('textual') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ls_lists_newest_first_with_filters(threaded: Threaded) -> None:
    first = threaded.trigger()
    second = threaded.trigger(meta={"simulate": {"fail_step": "Prepare"}})
    threaded.settle()
    result = run(threaded, "ls")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATUS", "TYPE"]
    assert lines[1].startswith(second.id) and "failed" in lines[1]
    assert lines[2].startswith(first.id) and "completed" in lines[2]
    failed = run(threaded, "ls", "--status", "failed", "--site", "shop.example.com")
    assert [line.split()[0] for line in failed.stdout.splitlines()[1:]] == [second.id]
    as_json = json.loads(run(threaded, "ls", "--json", "--limit", "1").stdout)
    assert [d["id"] for d in as_json["data"]] == [second.id]
    assert as_json["next_before"] == second.id
    none = run(threaded, "ls", "--type", "flood")
    assert none.stdout.strip() == "no deployments"


def test_show_prints_the_deployment_and_steps(threaded: Threaded) -> None:
    d = threaded.trigger()
    threaded.settle()
    result = run(threaded, "show", d.id)
    assert result.exit_code == 0, result.output
    assert f"id        {d.id}" in result.stdout
    assert "status    completed  (3/3 steps)" in result.stdout
    assert "Copy files" in result.stdout
    body = json.loads(run(threaded, "show", d.id, "--json").stdout)
    assert body["id"] == d.id and len(body["steps"]) == 3


def test_logs_prints_output_terminal_safe(threaded: Threaded) -> None:
    ok = threaded.trigger()
    bad = threaded.trigger(meta={"simulate": {"fail_step": "Copy files"}})
    hostile = threaded.trigger("hostile")
    threaded.settle()
    result = run(threaded, "logs", ok.id)
    assert result.exit_code == 0, result.output
    assert "== 1. Prepare (completed) ==" in result.stdout
    assert "copy: line 4 ok" in result.stdout  # colours stripped: stdout is not a terminal
    only = run(threaded, "logs", ok.id, "--step", "2")
    assert "== 2. Copy files" in only.stdout and "Prepare" not in only.stdout
    by_name = run(threaded, "logs", ok.id, "--step", "finish")
    assert "== 3. Finish" in by_name.stdout
    failed = run(threaded, "logs", bad.id, "--failed")
    assert failed.stdout.startswith("== 2. Copy files (failed) ==")
    assert "rsync error (code 23)" in failed.stdout
    assert "Prepare" not in failed.stdout
    nothing = run(threaded, "logs", ok.id, "--failed")
    assert nothing.exit_code == 0 and "no failed step" in nothing.stderr
    evil = run(threaded, "logs", hostile.id)
    for out in (evil.stdout, run(threaded, "show", hostile.id).stdout):
        assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert "red" in evil.stdout and "clip" in evil.stdout
    missing = run(threaded, "logs", ok.id, "--step", "nope")
    assert missing.exit_code == 3 and "no step 'nope'" in missing.stderr


def test_cancel_and_the_viewer_cannot(threaded: Threaded) -> None:
    d = threaded.trigger(meta={"simulate": {"hold": True}})
    viewer = run(threaded, "cancel", d.id, token=threaded.world.viewer_token)
    assert viewer.exit_code == 3
    assert viewer.stderr.startswith("deploytop: not allowed")
    result = run(threaded, "cancel", d.id, "--reason", "wrong branch")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"cancelled {d.id}")
    again = run(threaded, "cancel", d.id)
    assert again.exit_code == 3 and "already cancelled" in again.stderr


@pytest.mark.parametrize(
    ("meta", "code", "word"),
    [
        (None, 0, "completed"),
        ({"simulate": {"fail_step": "Copy files"}}, 1, "failed"),
    ],
)
def test_watch_follows_to_the_end(
    threaded: Threaded, meta: dict[str, Any] | None, code: int, word: str
) -> None:
    blocker = threaded.trigger(meta={"simulate": {"hold": True}})  # ours waits behind it
    d = threaded.trigger(meta=meta)
    threaded.loop.call_later(0.3, threaded.world.store.release, blocker.id)
    result = run(threaded, "watch", d.id)
    assert result.exit_code == code, result.output
    out = result.stdout
    assert out.startswith(f"watching {d.id}")
    assert out.rstrip().splitlines()[-1].startswith(f"{word}: Quick on shop.example.com")
    assert "prepare: line 2 ok" in out
    if code == 0:
        assert out.count("copy: line") == 4  # every line once, none twice


def test_watch_exits_2_when_cancelled(threaded: Threaded) -> None:
    d = threaded.trigger(meta={"simulate": {"hold": True}})
    backend = threaded.world.store.backend_for(threaded.world.operator.id)
    threaded.loop.call_later(
        0.3, lambda: asyncio.ensure_future(backend.cancel_deployment(d.id, "stop it"))
    )
    result = run(threaded, "watch", d.id)
    assert result.exit_code == 2, result.output
    assert result.stdout.rstrip().splitlines()[-1].startswith("cancelled:")
    assert "stop it" in result.stdout


def test_watch_of_a_finished_deployment_exits_at_once(threaded: Threaded) -> None:
    d = threaded.trigger(meta={"simulate": {"fail_step": "Prepare"}})
    threaded.settle()
    result = run(threaded, "watch", d.id)
    assert result.exit_code == 1
    assert "prepare blew up" in result.stdout


def test_unreachable_backend_is_one_line(unused_tcp_port: int) -> None:
    result = CliRunner().invoke(
        cli,
        ["ls", "--backend", f"http://127.0.0.1:{unused_tcp_port}", "--token", "t", "--team", "x"],
        catch_exceptions=False,
    )
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"deploytop: cannot reach http://127.0.0.1:{unused_tcp_port}")
    assert "Traceback" not in result.output


def test_bad_token_is_one_line(threaded: Threaded) -> None:
    for args in (["ls"], ["show", "01HZZZZZZZZZZZZZZZZZZZZZZZ"], ["watch", "x"], ["cancel", "x"]):
        result = run(threaded, *args, token="wrong")
        assert result.exit_code == 3
        assert result.stderr.count("\n") == 1
        assert "refused the token" in result.stderr and "DEPLOYTOP_TOKEN" in result.stderr


def test_missing_settings_are_usage_errors() -> None:
    result = run(None, "ls")
    assert result.exit_code == 2
    assert "DEPLOYTOP_BACKEND" in result.stderr
    result = CliRunner().invoke(
        cli, ["ls", "--backend", "ftp://x", "--token", "t"], catch_exceptions=False
    )
    assert result.exit_code == 2 and "http://" in result.stderr


def test_not_found_and_unknown_ids(threaded: Threaded) -> None:
    result = run(threaded, "show", "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert result.exit_code == 3
    assert result.stderr.startswith("deploytop: deployment 01HZZZZZZZZZZZZZZZZZZZZZZZ not found")


@click.group()
@click.option("--backend")
@click.option("--token")
@click.option("--team")
def cli_with_options(backend: str | None, token: str | None, team: str | None) -> None:
    """Like deploytop's own group, which takes --backend/--token/--team itself."""


for command in headless.commands:
    cli_with_options.add_command(command)


def test_connection_options_given_to_the_group_reach_the_commands(threaded: Threaded) -> None:
    d = threaded.trigger()
    threaded.settle()
    result = CliRunner().invoke(
        cli_with_options,
        ["--backend", threaded.url, "--token", threaded.world.op_token, "show", d.id],
        env={"DEPLOYTOP_BACKEND": None, "DEPLOYTOP_TOKEN": None},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert f"id        {d.id}" in result.stdout
