"""``deploytop serve`` as a process, and the client over an in-process ASGI transport."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from httpx_ws.transport import ASGIWebSocketTransport

from backend_client import ConnectionState, ConnectionStatus, DeploymentCreated, Unauthorized
from backend_client.http import HttpBackend
from backend_server import create_app

from .conftest import World

ROOT = Path(__file__).resolve().parents[2]
SERVE = "from backend_server.cli import serve; serve(prog_name='deploytop serve')"


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVE, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_serve_prints_its_url_and_demo_tokens_and_stops_cleanly() -> None:
    proc = _serve("--port", "0", "--history", "5", "--demo", "--rate", "60")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("deploytop serve: http://127.0.0.1:")
        url = first.split()[2]
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].strip() == "demo tokens:"
        assert lines[1].split()[0] == "demo-ada"
        me = httpx.get(f"{url}/api/v1/me", headers={"Authorization": "Bearer demo-ada"})
        assert me.status_code == 200 and me.json()["user"]["name"] == "Ada Lovelace"
        team = me.json()["teams"][0]["id"]
        page = httpx.get(
            f"{url}/api/v1/teams/{team}/deployments",
            headers={"Authorization": "Bearer demo-ada"},
        ).json()
        assert page["data"], "the demo seeds history"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert out.rstrip().endswith("deploytop serve: stopped")
    assert "Traceback" not in err and "Aborted" not in err


def test_serve_refuses_a_bad_tokens_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "tokens.toml"
    bad.write_text('[tokens]\n"t" = "nobody@example.com"\n')
    proc = _serve("--port", "0", "--tokens", str(bad))
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert err.splitlines() == [
        f"deploytop: error: tokens file {bad}: no user 'nobody@example.com' in this backend"
    ]


def test_serve_says_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _serve("--port", str(port))
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert err.splitlines() == [
        f"deploytop: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


async def test_the_client_works_over_an_in_process_transport(world: World) -> None:
    # No denial responses there: refusals arrive as close codes 4000 + status.
    app = create_app(world.store, world.tokens(), heartbeat_interval=0.2)
    async with ASGIWebSocketTransport(app) as transport:
        await _in_process(world, transport)


async def _in_process(world: World, transport: ASGIWebSocketTransport) -> None:
    bad = HttpBackend("http://deploytop.test", "nope", transport=transport)
    with pytest.raises(Unauthorized):
        await anext(bad.subscribe(world.team_a.id))
    client = HttpBackend("http://deploytop.test", world.op_token, transport=transport)
    stream = client.subscribe(world.team_a.id)
    status = await anext(stream)
    assert isinstance(status, ConnectionStatus) and status.state is ConnectionState.CONNECTED
    d = await client.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    created = await anext(stream)
    assert isinstance(created, DeploymentCreated) and created.deployment.id == d.id
    await stream.aclose()
    assert json.loads((await client._client.get("/api/v1/healthz")).text)["status"] == "ok"
    await client.aclose()
    await bad.aclose()
