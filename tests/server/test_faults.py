"""Faults: a server killed and restarted mid-stream, frames lost, garbled, doubled, reordered.

In every case the client must not crash, must never yield an event twice (the mirror checks
that ``seq`` goes up by exactly one), and must end with exactly the server's state.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backend_client import ConnectionState, ConnectionStatus, StreamItem
from backend_client.http import HttpBackend

from . import fault_server
from .conftest import STEP_SECONDS, World
from .harness import Served, serve
from .mirror import Mirror, server_summary

ROOT = Path(__file__).resolve().parents[2]


class FrameFaults:
    """Mangles the frames a client receives, from a seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.held: str | None = None
        self.counts = {"dropped": 0, "garbled": 0, "duplicated": 0, "reordered": 0}

    def __call__(self, text: str) -> list[str]:
        out: list[str] = []
        roll = self.rng.random()
        if roll < 0.10:
            self.counts["dropped"] += 1
        elif roll < 0.18:
            self.counts["garbled"] += 1
            out.append(self._garble(text))
        elif roll < 0.28:
            self.counts["duplicated"] += 1
            out += [text, text]
        elif roll < 0.38 and self.held is None:
            self.counts["reordered"] += 1
            self.held = text
            return []
        else:
            out.append(text)
        if self.held is not None:
            out.append(self.held)
            self.held = None
        return out

    def _garble(self, text: str) -> str:
        choice = self.rng.randrange(6)
        if choice == 0:
            return text[: len(text) // 2]
        if choice == 1:
            return "\x00\xff" + text[::-1]
        if choice == 2:
            frame = json.loads(text)
            frame["kind"] = "deployment.exploded"  # an unknown kind that keeps its seq
            return json.dumps(frame)
        if choice == 3:
            return json.dumps({"kind": "step.output", "seq": "x"})
        if choice == 4:
            return "[1, 2, 3]"
        return json.dumps({"kind": "step.output", "data": "x" * (2 * 1024 * 1024)})


async def _consume(stream: AsyncIterator[StreamItem], mirror: Mirror) -> None:
    async for item in stream:
        await mirror.apply(item)


@pytest.mark.parametrize("batch_window", [0.0, 0.01], ids=["one-per-message", "batched"])
async def test_mangled_frames_never_double_apply_and_converge(
    world: World, batch_window: float
) -> None:
    async with serve(
        world.store, world.tokens(), heartbeat_interval=0.2, batch_window=batch_window
    ) as served:
        await _mangled(served, world, batch_window)


async def _mangled(served: Served, world: World, batch_window: float) -> None:
    client = served.client(world.op_token)
    faults = FrameFaults(seed=3)
    client._frame_hook = faults
    mirror = Mirror(client, world.team_a.id)
    since = await mirror.relist()
    consumer = asyncio.create_task(_consume(client.subscribe(world.team_a.id, since), mirror))
    backend = world.store.backend_for(world.operator.id)
    site_ids = [world.site_a.id] + [
        world.store.add_site(world.team_a.id, f"s{n}.example.com").id for n in range(3)
    ]
    for n in range(12):
        await backend.trigger_deployment(world.team_a.id, "quick", site_ids[n % 4])
        for _ in range(4):
            await world.advance(STEP_SECONDS / 16)
            await asyncio.sleep(0.02)
    for _ in range(30):
        await world.advance(STEP_SECONDS / 2)
        await asyncio.sleep(0.01)
    await world.store.wait_idle()
    truth = await server_summary(backend, world.team_a.id)
    head = world.store.head_seq(world.team_a.id)
    async with asyncio.timeout(20):
        while not (mirror.last_seq == head and mirror.summary() == truth):
            assert not consumer.done(), consumer
            await asyncio.sleep(0.02)
    if batch_window == 0:
        assert all(count > 0 for count in faults.counts.values()), faults.counts
    assert sum(faults.counts.values()) >= 5, faults.counts
    assert len(mirror.seqs) == len(set(mirror.seqs))
    consumer.cancel()
    await asyncio.gather(consumer, return_exceptions=True)
    await client.aclose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start_server(port: int, count: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.server.fault_server",
        str(port),
        str(count),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(20):
        line = await proc.stdout.readline()
    assert line.strip() == b"READY", line
    return proc


@pytest.mark.slow
async def test_server_killed_and_restarted_mid_stream_repeatedly() -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await _start_server(port, 40)
    client = HttpBackend(url, fault_server.TOKEN, backoff_base=0.05, backoff_cap=0.3, timeout=5)
    mirror = Mirror(client, fault_server.TEAM_ID)
    since = await mirror.relist()
    consumer = asyncio.create_task(_consume(client.subscribe(fault_server.TEAM_ID, since), mirror))
    instances = {client.instance_id}
    try:
        for _ in range(3):
            # Let it stream a while, then kill it without warning, mid-stream.
            seen = len(mirror.seqs)
            async with asyncio.timeout(20):
                while len(mirror.seqs) < seen + 15:
                    assert not consumer.done(), consumer
                    await asyncio.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            async with asyncio.timeout(10):  # the client notices and keeps trying
                while not any(
                    s.state is not ConnectionState.CONNECTED for s in mirror.statuses[-1:]
                ):
                    await asyncio.sleep(0.01)
            resyncs = len(mirror.resyncs)
            proc = await _start_server(port, 40)
            async with asyncio.timeout(20):  # a new instance: the client must re-list
                while len(mirror.resyncs) == resyncs:
                    assert not consumer.done(), consumer
                    await asyncio.sleep(0.01)
            assert "restarted" in mirror.resyncs[-1].reason
            instances.add(client.instance_id)
        # The last server finishes its work; the client must end with exactly its state.
        truth_client = HttpBackend(url, fault_server.TOKEN)
        async with asyncio.timeout(30):
            while True:
                truth = await server_summary(truth_client, fault_server.TEAM_ID)
                if len(truth) == 40 and all(v[0] == "completed" for v in truth.values()):
                    break
                await asyncio.sleep(0.05)
        async with asyncio.timeout(10):
            while mirror.summary() != truth:
                assert not consumer.done(), consumer
                await asyncio.sleep(0.02)
        await truth_client.aclose()
        assert len(instances) == 4
        states = [s.state for s in mirror.statuses]
        assert ConnectionState.RECONNECTING in states
        assert states[-1] is ConnectionState.CONNECTED
        assert all(isinstance(s, ConnectionStatus) for s in mirror.statuses)
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        await client.aclose()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_silent_link_is_noticed_by_the_missing_heartbeats() -> None:
    # A fake server that says hello, then goes quiet without closing (a dead tunnel).
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    from backend_client import wire

    from .harness import uvicorn_app

    hellos = 0

    async def events(ws: WebSocket) -> None:
        nonlocal hellos
        await ws.accept()
        hellos += 1
        await ws.send_text(
            wire.Hello(instance_id="I", head_seq=0, heartbeat_interval=0.1).model_dump_json()
        )
        await asyncio.sleep(60)

    app = Starlette(routes=[WebSocketRoute(wire.API_PREFIX + wire.Routes.EVENTS, events)])
    async with uvicorn_app(app) as url:
        client = HttpBackend(url, "t", backoff_base=0.01, backoff_cap=0.05)
        stream = client.subscribe("T")
        first = await anext(stream)
        assert isinstance(first, ConnectionStatus) and first.state is ConnectionState.CONNECTED
        async with asyncio.timeout(5):
            lost = await anext(stream)
        assert isinstance(lost, ConnectionStatus)
        assert lost.state is ConnectionState.RECONNECTING and lost.attempt == 1
        assert lost.error is not None and "no heartbeat" in lost.error
        again = await anext(stream)
        assert isinstance(again, ConnectionStatus) and again.state is ConnectionState.CONNECTED
        assert hellos == 2
        await stream.aclose()
        await client.aclose()


async def test_an_unreachable_server_goes_from_reconnecting_to_offline() -> None:
    port = _free_port()
    client = HttpBackend(f"http://127.0.0.1:{port}", "t", backoff_base=0.01, backoff_cap=0.02)
    stream = client.subscribe("T", since=5)
    statuses: list[ConnectionStatus] = []
    async with asyncio.timeout(10):
        while len(statuses) < 6:
            item = await anext(stream)
            assert isinstance(item, ConnectionStatus)
            statuses.append(item)
    assert [s.attempt for s in statuses] == [1, 2, 3, 4, 5, 6]
    assert [s.state.value for s in statuses] == ["reconnecting"] * 3 + ["offline"] * 3
    assert len({s.since for s in statuses}) == 1  # down since the first failure
    assert all(s.next_retry_at and s.since and s.next_retry_at >= s.since for s in statuses)
    assert all(s.error == "connection refused" for s in statuses), statuses[0].error
    await stream.aclose()
    await client.aclose()
