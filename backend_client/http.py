"""A backend over the network: ``deploytop serve`` (or anything speaking :mod:`.wire`).

:class:`HttpBackend` implements the same :class:`~backend_client.contract.Backend` as the
in-memory one, with httpx for requests and httpx-ws for the event stream. Failures come
from the one exception tree of :mod:`backend_client.errors`, with the server's message:
network errors and timeouts are :class:`Unavailable`, answers it cannot read are
:class:`ProtocolError`.

The event stream survives the network: it reconnects forever with jittered, capped
exponential backoff, resumes after the last sequence number it yielded, never yields an
event twice, fills gaps by reconnecting (a ``Resync`` if that does not help), yields
``Resync`` when the server says so or has restarted, and reports the link's state as
:class:`~backend_client.events.ConnectionStatus` items. Malformed frames, unknown kinds and
oversized messages are logged and skipped; an oversized message is skipped only once it has
been received whole (httpx-ws has no cap on message size).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
import wsproto.events
from httpx_ws import (
    AsyncWebSocketSession,
    HTTPXWSException,
    WebSocketDisconnect,
    WebSocketNetworkError,
    WebSocketUpgradeError,
    aconnect_ws,
)
from pydantic import BaseModel, ValidationError

from . import wire
from .clock import Clock, SystemClock
from .contract import DEFAULT_PAGE_SIZE, Backend
from .errors import (
    BackendError,
    Forbidden,
    InvalidRequest,
    NotFound,
    ProtocolError,
    Unauthorized,
    Unavailable,
)
from .events import ConnectionState, ConnectionStatus, Event, Resync, StreamItem
from .models import Deployment, DeploymentFilter, DeploymentPage, Me, OutputChunk, Site
from .sanitize import sanitize_line

__all__ = ["Backoff", "HttpBackend", "StreamCursor", "check_base_url"]

log = logging.getLogger(__name__)

_M = TypeVar("_M", bound=BaseModel)
_ItemQueue = asyncio.Queue[list[StreamItem] | BaseException]
"""From the connection task to the subscriber: items of one message at a time, or the error
that ends the subscription."""

_SOCKET_READ_BYTES = 64 * 1024
"""Bytes asked per socket read on the event stream (not a limit on message size)."""

#: Errors after which reconnecting cannot help: the subscriber gets them raised.
_PERMANENT = (Unauthorized, Forbidden, NotFound, InvalidRequest)


class Backoff:
    """Capped exponential backoff with jitter: attempt n waits about base·2ⁿ⁻¹, at most cap.

    The delay is drawn from [½, 1] of that, so many clients restarted together spread out.
    """

    def __init__(self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** max(attempt - 1, 0))
        return float(ceiling * self.rng.uniform(0.5, 1.0))


class _Gap(Exception):
    """A frame arrived after a missing one: reconnect to have the server replay."""

    def __init__(self, last: int, seen: int) -> None:
        super().__init__(f"expected seq {last + 1}, got {seen}")
        self.last = last
        self.seen = seen


class StreamCursor:
    """Where a subscription is: turns frames into items, exactly once, in order.

    Args:
        team_id: The team of the stream.
        last: The last sequence number applied (``None``: take the server's head).
        instance: The server instance ``last`` belongs to, if known.
    """

    def __init__(self, team_id: str, last: int | None, instance: str | None) -> None:
        self.team_id = team_id
        self.last = last
        self.instance = instance
        self._last_resync: int | None = None
        self._gap_at: int | None = None
        self._gap_strikes = 0

    def on_hello(self, hello: wire.Hello) -> list[StreamItem]:
        items: list[StreamItem] = []
        changed = self.instance is not None and hello.instance_id != self.instance
        self.instance = hello.instance_id
        if self.last is None:
            self.last = hello.head_seq
        elif changed:
            # The server restarted: our sequence numbers mean nothing there any more.
            self.last = hello.head_seq
            self._last_resync = hello.head_seq
            items.append(
                Resync(
                    seq=hello.head_seq,
                    team_id=self.team_id,
                    reason="the server restarted and forgot its events; list again",
                )
            )
        return items

    def on_frame(self, frame: wire.Hello | wire.Heartbeat | Event) -> list[StreamItem]:
        """Items to yield for a parsed frame.

        Raises:
            _Gap: a frame is missing before this one (first time at this point).
        """
        assert self.last is not None, "on_hello first"
        if isinstance(frame, wire.Hello):
            log.warning("skipping a hello frame in the middle of a stream")
            return []
        if isinstance(frame, wire.Heartbeat):
            if frame.seq > self.last:
                return self._gap(frame.seq, None)
            return []
        if isinstance(frame, Resync):
            if frame.seq == self.last and self._last_resync == frame.seq:
                return []  # the server's copy of a resync we already gave
            self.last = frame.seq
            self._last_resync = frame.seq
            return [frame]
        if frame.seq <= self.last:
            return []  # a duplicate, or replayed after a reconnect
        if frame.seq > self.last + 1:
            return self._gap(frame.seq, frame)
        self.last = frame.seq
        self._last_resync = None
        return [frame]

    def _gap(self, seen: int, frame: Event | None) -> list[StreamItem]:
        assert self.last is not None
        if self._gap_at == self.last:
            self._gap_strikes += 1
        else:
            self._gap_at, self._gap_strikes = self.last, 1
        if self._gap_strikes < 3:
            raise _Gap(self.last, seen)
        # Reconnecting did not bring the missing events back: say so and move on.
        skip_to = seen - 1 if frame is not None else seen
        resync = Resync(
            seq=skip_to,
            team_id=self.team_id,
            reason=f"events {self.last + 1}..{skip_to} were lost in transit; list again",
        )
        self.last = skip_to
        self._last_resync = skip_to
        self._gap_at, self._gap_strikes = None, 0
        items: list[StreamItem] = [resync]
        if frame is not None:
            items.extend(self.on_frame(frame))
        return items


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class HttpBackend(Backend):
    """The backend contract over HTTP and WebSocket.

    Args:
        base_url: The server, e.g. ``http://127.0.0.1:8765``.
        token: Bearer token acting for a user.
        timeout: Seconds for each request (connect, read, write, pool).
        transport: An httpx transport (tests: ``ASGIWebSocketTransport(app)``).
        clock: Time for connection status and reconnect waits.
        rng: Jitter for reconnect waits.
        backoff_base: First reconnect wait (seconds, before jitter).
        backoff_cap: Longest reconnect wait.
        offline_after: Failed reconnect attempts after which the link is reported offline.
        keepalive_interval: WebSocket ping interval (``None``: off).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        offline_after: int = 4,
        keepalive_interval: float | None = 20.0,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.label = self.base_url
        self.timeout = timeout
        self.clock: Clock = clock or SystemClock()
        self.backoff = Backoff(backoff_base, backoff_cap, rng)
        self.offline_after = offline_after
        self.keepalive_interval = keepalive_interval
        self.instance_id: str | None = None
        """The server instance of the last answer (changes when the server restarts)."""
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "deploytop"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
            # Loading the CA bundle costs ~25 ms per client: only for https.
            verify=self.base_url.startswith("https://"),
        )
        self._frame_hook: Callable[[str], list[str]] | None = None
        self._streams: dict[asyncio.Task[None], _ItemQueue] = {}

    # -- requests -------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        try:
            response = await self._client.request(
                method, path, params=tuple(params or ()), json=json
            )
        except httpx.TimeoutException:
            raise Unavailable(f"{self.base_url} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach {self.base_url}: {_describe(exc)}") from None
        instance = response.headers.get(wire.HEADER_INSTANCE)
        if instance:
            self.instance_id = instance
        if response.status_code >= 400:
            raise wire.decode_error(response.status_code, response.content)
        return response

    @staticmethod
    def _parse(model: type[_M], response: httpx.Response) -> _M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise ProtocolError(
                f"unreadable {model.__name__} from the backend ({exc.error_count()} error(s))"
            ) from None

    async def me(self) -> Me:
        return self._parse(Me, await self._request("GET", wire.Paths.me()))

    async def list_sites(self, team_id: str) -> list[Site]:
        response = await self._request("GET", wire.Paths.sites(team_id))
        return self._parse(wire.SitesResponse, response).data

    async def list_deployments(
        self,
        team_id: str,
        filter: DeploymentFilter | None = None,
        *,
        before: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> DeploymentPage:
        params = wire.list_query_params(filter, before, limit)
        response = await self._request("GET", wire.Paths.deployments(team_id), params=params)
        return self._parse(DeploymentPage, response)

    async def get_deployment(self, deployment_id: str) -> Deployment:
        response = await self._request("GET", wire.Paths.deployment(deployment_id))
        return self._parse(Deployment, response)

    async def read_output(
        self, deployment_id: str, step_id: str, *, offset: int = 0, limit: int = 1024 * 1024
    ) -> OutputChunk:
        params = [(wire.Q_OFFSET, str(offset)), (wire.Q_LIMIT, str(limit))]
        response = await self._request(
            "GET", wire.Paths.output(deployment_id, step_id), params=params
        )
        return wire.output_chunk_from_headers(response.headers, response.content)

    async def cancel_deployment(self, deployment_id: str, reason: str | None = None) -> Deployment:
        response = await self._request(
            "POST", wire.Paths.cancel(deployment_id), json={"reason": reason}
        )
        return self._parse(Deployment, response)

    async def trigger_deployment(
        self, team_id: str, type: str, site_id: str, meta: dict[str, Any] | None = None
    ) -> Deployment:
        body = {"type": type, "site_id": site_id, "meta": meta or {}}
        response = await self._request("POST", wire.Paths.deployments(team_id), json=body)
        return self._parse(Deployment, response)

    async def aclose(self) -> None:
        # Open subscriptions end with Unavailable rather than retrying on a closed client.
        runners = list(self._streams)
        for runner, queue in list(self._streams.items()):
            runner.cancel()
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(Unavailable("the backend connection was closed"))
        # Wait for the connection tasks to end (and collect their errors, so none is left
        # "never retrieved") before the client they use is closed.
        await asyncio.gather(*runners, return_exceptions=True)
        await self._client.aclose()

    # -- the event stream -------------------------------------------------------------------

    async def subscribe(
        self, team_id: str, since: int | None = None
    ) -> AsyncGenerator[StreamItem, None]:
        # The connection lives in its own task: httpx-ws keeps anyio cancel scopes open, which
        # must not be suspended across a generator's yields (the consumer may close it from
        # another task).
        queue: _ItemQueue = asyncio.Queue(maxsize=256)
        runner = asyncio.create_task(self._run_stream(team_id, since, queue))
        self._streams[runner] = queue
        try:
            while True:
                items = await queue.get()
                if isinstance(items, BaseException):
                    raise items
                for item in items:
                    yield item
        finally:
            self._streams.pop(runner, None)
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner

    async def _run_stream(
        self,
        team_id: str,
        since: int | None,
        queue: _ItemQueue,
    ) -> None:
        cursor = StreamCursor(team_id, since, self.instance_id)
        attempt = 0
        down_since: datetime | None = None
        reported: ConnectionState | None = None

        async def connected() -> None:
            nonlocal attempt, down_since, reported
            attempt, down_since = 0, None
            if reported is not ConnectionState.CONNECTED:
                reported = ConnectionState.CONNECTED
                await queue.put(
                    [ConnectionStatus(state=ConnectionState.CONNECTED, since=self.clock.now())]
                )

        while True:
            try:
                await self._stream_once(team_id, cursor, queue, connected)
                error = "the server closed the event stream"
            except _Gap as gap:
                log.info("event stream gap (%s); reconnecting to fill it", gap)
                continue
            except Exception as exc:
                leaf = _leaf(exc)
                if isinstance(leaf, _Gap):
                    log.info("event stream gap (%s); reconnecting to fill it", leaf)
                    continue
                if isinstance(leaf, _PERMANENT):
                    await queue.put(leaf)
                    return
                error = _describe(leaf)
                log.info("event stream to %s lost: %s", self.base_url, error)
            attempt += 1
            now = self.clock.now()
            down_since = down_since or now
            delay = self.backoff.delay(attempt)
            state = (
                ConnectionState.OFFLINE
                if attempt >= self.offline_after
                else ConnectionState.RECONNECTING
            )
            reported = state
            await queue.put(
                [
                    ConnectionStatus(
                        state=state,
                        attempt=attempt,
                        next_retry_at=now + timedelta(seconds=delay),
                        since=down_since,
                        error=error,
                    )
                ]
            )
            await self.clock.sleep(delay)

    async def _stream_once(
        self,
        team_id: str,
        cursor: StreamCursor,
        queue: _ItemQueue,
        connected: Callable[[], Awaitable[None]],
    ) -> None:
        params: list[tuple[str, str]] = []
        if cursor.last is not None:
            params.append((wire.Q_SINCE, str(cursor.last)))
            if cursor.instance is not None:
                params.append((wire.Q_INSTANCE, cursor.instance))
        try:
            session: contextlib.AbstractAsyncContextManager[AsyncWebSocketSession] = aconnect_ws(
                wire.Paths.events(team_id),
                self._client,
                params=params,
                keepalive_ping_interval_seconds=self.keepalive_interval,
                keepalive_ping_timeout_seconds=self.keepalive_interval,
                # httpx-ws's name for the size of each socket read, not a cap: it buffers a
                # message whole, whatever its size (messages over MAX_FRAME_BYTES are
                # skipped once received; see docs/protocol.md).
                max_message_size_bytes=_SOCKET_READ_BYTES,
            )
            async with session as ws:
                first = await self._receive(ws, self.timeout)
                if first is None:
                    raise ProtocolError("the event stream did not start with a hello frame")
                hello = _parse_hello(first)
                self.instance_id = hello.instance_id
                restarted = cursor.on_hello(hello)
                await connected()
                if restarted:
                    await queue.put(restarted)
                idle = max(hello.heartbeat_interval * 3, 1.0)
                while True:
                    text = await self._receive(ws, idle)
                    if text is None:
                        continue
                    for frame_text in self._hooked(text):
                        items: list[StreamItem] = []
                        try:
                            for frame in wire.parse_frames(frame_text):
                                items += _items(cursor, frame)
                        finally:
                            # Even when a gap cuts the batch short: the cursor has counted
                            # the events before it, so they must reach the subscriber.
                            if items:
                                await queue.put(items)
        except WebSocketUpgradeError as exc:
            raise wire.error_from_close(exc.response.status_code, exc.response.headers) from None

    async def _receive(self, ws: AsyncWebSocketSession, timeout: float) -> str | None:
        """The next text frame (``None`` for a skipped one).

        Raises:
            Unavailable: nothing at all (not even a heartbeat) for ``timeout`` seconds.
        """
        try:
            event = await ws.receive(timeout=timeout)
        except TimeoutError:
            raise Unavailable(f"no heartbeat from the server for {timeout:g} s") from None
        except WebSocketDisconnect as exc:
            if 4400 <= exc.code < 4500:
                raise wire.error_from_close(
                    exc.code - 4000, {wire.HEADER_ERROR_MESSAGE: exc.reason}
                ) from None
            raise
        if isinstance(event, wsproto.events.TextMessage):
            return str(event.data)
        log.warning("skipping a non-text frame (%s)", type(event).__name__)
        return None

    def _hooked(self, text: str) -> list[str]:
        # Tests inject faults here (drop, garble, duplicate, reorder frames).
        return self._frame_hook(text) if self._frame_hook is not None else [text]


def check_base_url(base_url: str) -> str:
    """The server's base URL, checked (a pasted ``.../api/v1`` is accepted too).

    Raises:
        InvalidRequest: not an http(s) URL with a host.
    """
    try:
        url = httpx.URL(base_url.strip())
        valid = url.scheme in ("http", "https") and bool(url.host)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise InvalidRequest(f"invalid backend URL {base_url!r}: {exc}") from None
    if not valid:
        raise InvalidRequest(
            f"invalid backend URL {base_url!r}: expected http://host[:port] or https://host[:port]"
        )
    text = str(url).rstrip("/")
    return text.removesuffix(wire.API_PREFIX).rstrip("/")


def _parse_hello(text: str) -> wire.Hello:
    try:
        frame = wire.parse_frame(text)
    except (wire.FrameError, wire.UnknownFrame) as exc:
        raise ProtocolError(f"bad first frame on the event stream: {exc}") from None
    if not isinstance(frame, wire.Hello):
        raise ProtocolError("the event stream did not start with a hello frame")
    return frame


def _items(cursor: StreamCursor, frame: wire.ParsedFrame) -> list[StreamItem]:
    if isinstance(frame, wire.UnknownFrame):
        # Not applied, so not counted as seen: if it carried an event, the next frame shows
        # a gap, and a replay (or in the end a resync) makes the subscriber re-read.
        log.warning("skipping a frame of unknown kind %r", frame.kind)
        return []
    if isinstance(frame, wire.FrameError):
        log.warning("skipping a malformed frame: %s", frame)
        return []
    return cursor.on_frame(frame)


def _connect_failure(exc: BaseException) -> str:
    seen: BaseException | None = exc
    for _ in range(8):  # the cause chain: httpx → httpcore → anyio → OSError
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "unknown host"
        if isinstance(seen, TimeoutError):
            return "timed out connecting"
        nested = getattr(seen, "exceptions", None)  # anyio's multi-address errors
        seen = seen.__cause__ or seen.__context__ or (nested[0] if nested else None)
    return f"cannot connect ({exc})"


def _describe(exc: BaseException) -> str:
    """One line saying why a connection failed (terminal-safe: it may quote the server)."""
    return sanitize_line(_why(exc))


def _why(exc: BaseException) -> str:
    if isinstance(exc, BackendError):
        return exc.message
    if isinstance(exc, httpx.ConnectError):
        return _connect_failure(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, WebSocketDisconnect):
        return f"closed by the server (code {exc.code}{': ' + exc.reason if exc.reason else ''})"
    if isinstance(exc, WebSocketNetworkError):
        return "the connection dropped"
    if isinstance(exc, HTTPXWSException | httpx.HTTPError):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"
