"""The WebSocket event stream: resume, resync, restart detection, heartbeats, slow clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws

from backend_client import (
    ConnectionState,
    ConnectionStatus,
    DeploymentCreated,
    DeploymentUpdated,
    Event,
    Resync,
    StepOutput,
    StepUpdated,
    StreamItem,
    Unavailable,
    wire,
)

from .conftest import STEP_SECONDS, World, eventually, make_world
from .harness import Served, serve, token_for
from .mirror import Mirror, server_summary


def _connect(
    path: str, client: httpx.AsyncClient
) -> AbstractAsyncContextManager[AsyncWebSocketSession]:
    return aconnect_ws(path, client)


async def _next_events(stream: AsyncIterator[StreamItem], count: int) -> list[Event]:
    events: list[Event] = []
    async with asyncio.timeout(5):
        while len(events) < count:
            item = await anext(stream)
            if not isinstance(item, ConnectionStatus):
                events.append(item)
    return events


async def test_live_events_arrive_in_order(served: Served, world: World) -> None:
    client = served.client(world.op_token)
    page = await client.list_deployments(world.team_a.id)
    stream = client.subscribe(world.team_a.id, since=page.seq)
    first = await anext(stream)
    assert isinstance(first, ConnectionStatus) and first.state is ConnectionState.CONNECTED
    d = await client.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    await world.advance(1)
    events = await _next_events(stream, 3)
    assert isinstance(events[0], DeploymentCreated) and events[0].deployment.id == d.id
    assert [e.seq for e in events] == [page.seq + 1, page.seq + 2, page.seq + 3]
    await stream.aclose()
    await client.aclose()


async def test_resume_from_since_replays_exactly_what_followed(
    served: Served, world: World
) -> None:
    backend = world.store.backend_for(world.operator.id)
    for _ in range(3):
        await backend.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    await world.advance(STEP_SECONDS)
    head = world.store.head_seq(world.team_a.id)
    assert head > 6
    client = served.client(world.op_token)
    stream = client.subscribe(world.team_a.id, since=2)
    events = await _next_events(stream, head - 2)
    assert [e.seq for e in events] == list(range(3, head + 1))
    await stream.aclose()
    await client.aclose()


async def test_since_the_server_no_longer_holds_gets_a_resync() -> None:
    world = make_world(event_retention=20)
    async with serve(world.store, world.tokens()) as served:
        await _resync_when_too_old(served, world)


async def _resync_when_too_old(served: Served, world: World) -> None:
    backend = world.store.backend_for(world.operator.id)
    for _ in range(30):  # more events than the store's retention of 20
        await backend.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    head = world.store.head_seq(world.team_a.id)
    assert head > 20
    client = served.client(world.op_token)
    stream = client.subscribe(world.team_a.id, since=1)
    (resync,) = await _next_events(stream, 1)
    assert isinstance(resync, Resync) and resync.seq == head
    assert "no longer held" in resync.reason
    await backend.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    (created,) = await _next_events(stream, 1)
    assert created.seq == head + 1
    await stream.aclose()
    await client.aclose()


async def test_another_server_instance_means_resync(served: Served, world: World) -> None:
    backend = world.store.backend_for(world.operator.id)
    await backend.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    client = served.client(world.op_token)
    await client.me()
    client.instance_id = "01HOLDSERVERINSTANCE000000"  # as if listed on an earlier run
    stream = client.subscribe(world.team_a.id, since=0)
    (resync,) = await _next_events(stream, 1)
    assert isinstance(resync, Resync) and "restarted" in resync.reason
    assert resync.seq == world.store.head_seq(world.team_a.id)
    # Exactly one resync, then live events.
    await backend.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    (created,) = await _next_events(stream, 1)
    assert isinstance(created, DeploymentCreated)
    await stream.aclose()
    await client.aclose()


async def test_hello_then_heartbeats_when_idle(served: Served, world: World) -> None:
    async with (
        httpx.AsyncClient(
            base_url=served.url, headers={"Authorization": f"Bearer {world.op_token}"}
        ) as raw,
        _connect(wire.Paths.events(world.team_a.id), raw) as ws,
    ):
        hello = wire.parse_frame(await ws.receive_text(timeout=5))
        assert isinstance(hello, wire.Hello)
        assert hello.instance_id == world.store.instance_id
        assert hello.head_seq == 0 and hello.heartbeat_interval == 0.2
        beat = wire.parse_frame(await ws.receive_text(timeout=5))
        assert beat == wire.Heartbeat(seq=0)
        await world.store.backend_for(world.operator.id).trigger_deployment(
            world.team_a.id, "quick", world.site_a.id
        )
        last = 0
        frame: object = None
        while not isinstance(frame, wire.Heartbeat):
            # The deployment is created and starts (events, maybe batched), then silence.
            for frame in wire.parse_frames(await ws.receive_text(timeout=5)):
                if isinstance(frame, wire.Heartbeat):
                    break
                assert isinstance(
                    frame, DeploymentCreated | DeploymentUpdated | StepUpdated | StepOutput
                )
                assert frame.seq == last + 1
                last = frame.seq
        assert last > 1
        assert frame == wire.Heartbeat(seq=last)
        assert last == world.store.head_seq(world.team_a.id)


async def test_a_slow_subscriber_is_resynced_and_dropped() -> None:
    world = make_world()
    await world.store.start()
    async with (
        serve(world.store, world.tokens(), queue_size=8, heartbeat_interval=5) as served,
        httpx.AsyncClient(
            base_url=served.url, headers={"Authorization": f"Bearer {world.op_token}"}
        ) as raw,
        _connect(wire.Paths.events(world.team_a.id), raw) as ws,
    ):
        hello = wire.parse_frame(await ws.receive_text(timeout=5))
        assert isinstance(hello, wire.Hello)
        streamer = served.app.state.streamer
        assert streamer.connections == 1
        # The link to this subscriber is stuck (as when its socket is full): sends wait.
        link_open = asyncio.Event()
        send_text = streamer._send_text

        async def stuck(websocket: object, text: str) -> None:
            await link_open.wait()
            await send_text(websocket, text)

        streamer._send_text = stuck
        backend = world.store.backend_for(world.operator.id)
        await backend.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
        await world.advance(0.1)
        await eventually(lambda: streamer.overflows == 0 and streamer.connections == 1)
        # 40 more events while stuck: the queue of 8 stays full past the grace period.
        for _ in range(40):
            await backend.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
        await eventually(lambda: streamer.overflows == 1)
        head = world.store.head_seq(world.team_a.id)
        link_open.set()
        kinds: list[str] = []
        last: object = None
        closed = None
        async with asyncio.timeout(10):
            while True:
                try:
                    text = await ws.receive_text()
                except WebSocketDisconnect as exc:
                    closed = exc.code
                    break
                for frame in wire.parse_frames(text):
                    assert not isinstance(frame, Exception)
                    kinds.append(frame.kind)
                    last = frame
        assert closed == wire.WSClose.RESYNC
        assert isinstance(last, Resync) and "behind" in last.reason
        assert 0 < last.seq <= head
        assert kinds.count("resync") == 1
        assert len(kinds) <= 9  # what was in flight, then the resync: nothing piled up
    async with asyncio.timeout(5):
        while streamer.connections:
            await asyncio.sleep(0.01)
    await world.store.stop()


async def test_the_client_resumes_after_a_slow_subscriber_resync() -> None:
    world = make_world()
    await world.store.start()
    async with serve(world.store, world.tokens(), queue_size=8, heartbeat_interval=0.2) as served:
        client = served.client(world.op_token)
        mirror = Mirror(client, world.team_a.id)
        since = await mirror.relist()
        stream = client.subscribe(world.team_a.id, since=since)
        await mirror.apply(await anext(stream))
        streamer = served.app.state.streamer
        # The link stalls (the first connection only) while a burst of events arrives.
        link_open = asyncio.Event()
        send_text = streamer._send_text

        async def stalls(websocket: object, text: str) -> None:
            if not link_open.is_set():
                await link_open.wait()
            await send_text(websocket, text)

        streamer._send_text = stalls
        backend = world.store.backend_for(world.operator.id)
        other = world.store.add_site(world.team_a.id, "second.example.com")
        await backend.trigger_deployment(world.team_a.id, "flood", world.site_a.id)
        await backend.trigger_deployment(world.team_a.id, "quick", other.id)
        await world.advance(0.1)
        await eventually(lambda: streamer.overflows == 1)
        link_open.set()
        for _ in range(8):
            await world.advance(STEP_SECONDS / 2)
        await world.store.wait_idle()
        head = world.store.head_seq(world.team_a.id)
        async with asyncio.timeout(15):
            while mirror.last_seq != head:
                await mirror.apply(await anext(stream))
        assert len(mirror.resyncs) == 1 and "behind" in mirror.resyncs[0].reason
        assert mirror.summary() == await server_summary(
            world.store.backend_for(world.operator.id), world.team_a.id
        )
        await stream.aclose()
        await client.aclose()
    await world.store.stop()


async def test_closing_the_stream_releases_the_connection(served: Served, world: World) -> None:
    client = served.client(token_for(world.operator.id))
    stream = client.subscribe(world.team_a.id)
    await anext(stream)
    streamer = served.app.state.streamer
    assert streamer.connections == 1
    await stream.aclose()
    await client.aclose()
    async with asyncio.timeout(5):
        while streamer.connections:
            await asyncio.sleep(0.01)


async def test_closing_the_backend_ends_its_subscriptions(served: Served, world: World) -> None:
    client = served.client(world.op_token)
    stream = client.subscribe(world.team_a.id)
    await anext(stream)
    await client.aclose()
    with pytest.raises(Unavailable, match="closed"):
        async with asyncio.timeout(5):
            await anext(stream)


@pytest.mark.filterwarnings("error")
async def test_closing_the_backend_waits_for_its_stream_tasks(
    served: Served, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    import gc

    client = served.client(world.op_token)
    streams = [client.subscribe(world.team_a.id), client.subscribe(world.team_a.id)]
    for stream in streams:
        await anext(stream)
    runners = list(client._streams)
    assert len(runners) == 2
    await client.aclose()
    # Finished, not merely asked to stop, before the HTTP client they used was closed.
    assert all(runner.done() for runner in runners)
    for stream in streams:
        with pytest.raises(Unavailable):
            await anext(stream)
    del runners
    gc.collect()
    assert "never retrieved" not in caplog.text
