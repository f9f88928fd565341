"""The WebSocket event stream: replay after ``since``, then live, with a bounded queue.

The streamer listens to the store once (``store.add_listener``) and keeps, per team, the
outboxes of the team's open streams; replays come from the store's own retained events
(``store.events_since``, the same rule the in-memory subscription uses). Each event is
appended to every outbox (no task switch per subscriber and event); each stream's sender
wakes at most once per ``batch_window``, encodes what piled up (every event is encoded once
and shared by all subscribers) and sends it as one message. Heartbeats fill silences.

A subscriber whose outbox stays full (it does not read, or reads too slowly) gets a
``resync`` frame and is closed, so a slow client costs bounded memory; one that asks for a
``since`` the server no longer holds, or from another server instance, is told to resync
instead of silently missing events.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from backend_client import wire
from backend_client.errors import BackendError, NotFound
from backend_client.events import Event, Resync
from backend_client.memory import InMemoryBackend, InMemoryStore
from backend_client.sanitize import sanitize_line

from .auth import bearer_token

__all__ = ["EventStreamer", "StreamSettings", "refuse_handshake"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamSettings:
    heartbeat_interval: float = wire.DEFAULT_HEARTBEAT_INTERVAL
    queue_size: int = 1000
    """Events a subscriber may have unsent before it is resynced and dropped."""
    send_timeout: float = 30.0
    batch_window: float = 0.05
    """Least seconds between two event messages to one subscriber; events in between go
    together in one batch message (the first event after a quiet spell goes at once)."""
    encode_cache: int = 4096
    """Encoded frames kept (events shared by many subscribers are encoded once)."""
    encode_cache_bytes: int = 16 * 1024 * 1024


class _Outbox:
    """A subscriber's bounded backlog of events not sent yet.

    A replay may exceed the bound (it is itself bounded by the retention): ``extra`` is the
    room granted for it, used up as the sender takes events. When a live event does not
    fit, the backlog is dropped and ``overflow`` keeps its seq, for the sender to resync
    the subscriber and close.
    """

    __slots__ = ("events", "extra", "limit", "overflow", "wake")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.extra = 0
        self.events: deque[Event] = deque()
        self.overflow: int | None = None
        self.wake = asyncio.Event()

    def replay(self, events: list[Event]) -> None:
        self.events.extend(events)
        self.extra = len(events)
        if events:
            self.wake.set()

    def put(self, event: Event) -> bool:
        if self.overflow is not None:
            return False
        if len(self.events) >= self.limit + self.extra:
            self.events.clear()
            self.overflow = event.seq
            self.wake.set()
            return False
        self.events.append(event)
        self.wake.set()
        return True

    def take(self) -> list[Event]:
        events = list(self.events)
        self.events.clear()
        self.extra = max(0, self.extra - len(events))
        return events


class _TeamLog:
    """A team's open streams."""

    __slots__ = ("outboxes",)

    def __init__(self) -> None:
        self.outboxes: set[_Outbox] = set()


class EventStreamer:
    """The WebSocket endpoint ``/teams/{team_id}/events`` of one store."""

    def __init__(
        self,
        store: InMemoryStore,
        authenticate: Callable[[str | None], InMemoryBackend],
        settings: StreamSettings,
    ) -> None:
        self.store = store
        self.authenticate = authenticate
        self.settings = settings
        self._teams: dict[str, _TeamLog] = {}
        self._encoded: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._encoded_bytes = 0
        self.connections = 0
        """Open streams (for tests and benches)."""
        self.overflows = 0
        """Subscribers resynced and dropped for falling behind."""
        store.add_listener(self._on_event)

    # -- the store's events --------------------------------------------------------------

    def _team_log(self, team_id: str) -> _TeamLog:
        team_log = self._teams.get(team_id)
        if team_log is None:
            team_log = self._teams[team_id] = _TeamLog()
        return team_log

    def _on_event(self, event: Event) -> None:
        # Called inside the engine: must be cheap and must not raise.
        try:
            team_log = self._team_log(event.team_id)
            if team_log.outboxes:
                for outbox in [o for o in team_log.outboxes if not o.put(event)]:
                    team_log.outboxes.discard(outbox)
                    self.overflows += 1
        except Exception:  # pragma: no cover - defensive: never break the engine
            log.exception("event stream listener failed")

    def _encode(self, event: Event) -> str:
        if isinstance(event, Resync):
            return wire.encode_event(event)
        key = (event.team_id, event.seq)
        text = self._encoded.get(key)
        if text is None:
            text = wire.encode_event(event)
            if len(text) > wire.MAX_FRAME_BYTES:
                # Too big for one frame: tell the client to re-read instead of losing it.
                text = wire.encode_event(
                    Resync(
                        seq=event.seq,
                        team_id=event.team_id,
                        reason=f"event {event.seq} was too large to send; list again",
                    )
                )
            self._encoded[key] = text
            self._encoded_bytes += len(text)
            # Bounded by count and by size (output chunks can be large).
            while (
                len(self._encoded) > self.settings.encode_cache
                or self._encoded_bytes > self.settings.encode_cache_bytes
            ):
                _, old = self._encoded.popitem(last=False)
                self._encoded_bytes -= len(old)
        return text

    # -- connections -----------------------------------------------------------------------

    async def endpoint(self, websocket: WebSocket) -> None:
        try:
            backend = self.authenticate(bearer_token(websocket.headers.get("authorization")))
            team_id: str = websocket.path_params["team_id"]
            since, instance = wire.parse_events_query(list(websocket.query_params.multi_items()))
            if backend.user_id not in self._members(team_id):
                raise NotFound(f"team {team_id} not found")
        except BackendError as exc:
            await refuse_handshake(websocket, exc)
            return
        await websocket.accept()
        self.connections += 1
        try:
            await self._serve(websocket, team_id, since, instance)
        finally:
            self.connections -= 1

    def _members(self, team_id: str) -> set[str]:
        try:
            return set(self.store.members_of(team_id))
        except NotFound:
            return set()

    def _backlog(self, team_id: str, since: int | None, instance: str | None) -> list[Event]:
        """What a new stream starts with (called with no await before registering it)."""
        if since is not None and instance is not None and instance != self.store.instance_id:
            reason = "the server restarted and forgot its events; list again"
            return [Resync(seq=self.store.head_seq(team_id), team_id=team_id, reason=reason)]
        return self.store.events_since(team_id, since)

    async def _serve(
        self, websocket: WebSocket, team_id: str, since: int | None, instance: str | None
    ) -> None:
        store = self.store
        # No await from here to registering the outbox: no event can slip in between.
        head = store.head_seq(team_id)
        outbox = _Outbox(self.settings.queue_size)
        backlog = self._backlog(team_id, since, instance)
        outbox.replay(backlog)
        team_log = self._team_log(team_id)
        team_log.outboxes.add(outbox)
        resynced = bool(backlog) and isinstance(backlog[0], Resync)
        start = head if since is None or resynced else since
        try:
            hello = wire.Hello(
                instance_id=store.instance_id,
                head_seq=head,
                heartbeat_interval=self.settings.heartbeat_interval,
                server_time=store.clock.now(),
            )
            await websocket.send_text(hello.model_dump_json())
            tasks = [
                asyncio.create_task(self._send(websocket, team_id, outbox, start)),
                asyncio.create_task(self._receive(websocket)),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    exc = task.exception()
                    if exc is None or isinstance(exc, _GONE):
                        log.debug("event stream for team %s ended: %r", team_id, exc)
                    else:
                        log.warning("event stream for team %s ended: %r", team_id, exc)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            team_log.outboxes.discard(outbox)

    async def _send(self, websocket: WebSocket, team_id: str, outbox: _Outbox, last: int) -> None:
        settings = self.settings
        loop = asyncio.get_running_loop()
        last_sent = 0.0
        while True:
            if not outbox.events and outbox.overflow is None:
                outbox.wake.clear()
                try:
                    async with asyncio.timeout(settings.heartbeat_interval):
                        await outbox.wake.wait()
                except TimeoutError:
                    await self._send_text(websocket, wire.Heartbeat(seq=last).model_dump_json())
                    continue
            # At most one message per batch_window: an event after a quiet spell goes at
            # once, a busy stream goes in batches (far less overhead per event, both ends).
            wait = last_sent + settings.batch_window - loop.time()
            if wait > 0 and outbox.overflow is None:
                await asyncio.sleep(wait)
            if outbox.overflow is not None:
                # Resume at the head: replaying the backlog would only overflow it again.
                resync = Resync(
                    seq=max(outbox.overflow, self.store.head_seq(team_id)),
                    team_id=team_id,
                    reason="the subscriber fell too far behind; list again",
                )
                async with asyncio.timeout(settings.send_timeout):
                    await websocket.send_text(wire.encode_event(resync))
                    await websocket.close(wire.WSClose.RESYNC, "resync")
                return
            events = outbox.take()
            if not events:
                continue
            for message in wire.encode_batch([self._encode(e) for e in events]):
                await self._send_text(websocket, message)
            last = events[-1].seq
            last_sent = loop.time()

    async def _send_text(self, websocket: WebSocket, text: str) -> None:
        try:
            async with asyncio.timeout(self.settings.send_timeout):
                await websocket.send_text(text)
        except TimeoutError:
            log.info("dropping an event subscriber that stopped reading")
            raise _Disconnected from None

    async def _receive(self, websocket: WebSocket) -> None:
        # Clients send nothing we act on; this notices them leaving.
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    raise _Disconnected
        except WebSocketDisconnect:
            raise _Disconnected from None


class _Disconnected(Exception):
    pass


#: How a stream normally ends: the client left, or its connection broke.
_GONE = (_Disconnected, WebSocketDisconnect, OSError)  # uvicorn: ClientDisconnected(OSError)


async def refuse_handshake(websocket: WebSocket, error: BackendError) -> None:
    """Refuse a WebSocket handshake with the error's HTTP status and JSON body.

    Clients that cannot read the body get the error in ``X-Deploytop-Error-*`` headers.
    The message may quote the request (a team id from the URL path): it is made one line
    of printable ASCII first, since a control character in a header would make the server
    drop the whole response for a bare 403.
    """
    message = _ascii_line(error.message)
    headers = {wire.HEADER_ERROR_CODE: error.code, wire.HEADER_ERROR_MESSAGE: message}
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(
            Response(
                wire.encode_error(error),
                status_code=error.http_status,
                media_type="application/json",
                headers=headers,
            )
        )
    else:
        # No denial responses (e.g. an in-process test transport): accept, then close
        # with 4000 + HTTP status so the client can still tell what went wrong. A close
        # reason is at most 123 bytes: ASCII, so 120 characters fit.
        await websocket.accept()
        await websocket.close(4000 + error.http_status, message[:120])


def _ascii_line(text: str) -> str:
    """Text fit for an HTTP header or a close reason: one line, printable ASCII only."""
    return sanitize_line(text).encode("ascii", "replace").decode("ascii")
