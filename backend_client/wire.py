"""The wire protocol between ``deploytop serve`` and :class:`~backend_client.http.HttpBackend`.

Defined once, here, and used by both ends: paths, query parameter names, header names,
error bodies, WebSocket frames and limits. ``docs/protocol.md`` describes the same thing in
prose.

HTTP (JSON unless said otherwise; every error is ``{"error": {"code", "message"}}``)::

    GET  /api/v1/healthz                                      no auth
    GET  /api/v1/openapi.json                                 no auth
    GET  /api/v1/me                                           Me
    GET  /api/v1/teams/{team_id}/sites                        {"data": [Site]}
    GET  /api/v1/teams/{team_id}/deployments?site_id=&status=&type=&q=&before=&limit=
                                                              DeploymentPage
    POST /api/v1/teams/{team_id}/deployments                  201 Deployment
    GET  /api/v1/deployments/{id}                             Deployment
    POST /api/v1/deployments/{id}/cancel                      Deployment
    GET  /api/v1/deployments/{id}/steps/{step_id}/output?offset=&limit=
                                                              raw bytes + X-Deploytop-* headers
    WS   /api/v1/teams/{team_id}/events?since=&instance=      frames, see below

WebSocket frames are JSON text, each an object with a ``kind``:

- ``hello`` (first frame): the server's ``instance_id``, the ``head_seq`` the stream starts
  after when no ``since`` was given, and the ``heartbeat_interval``.
- an event (``deployment.created``, ``deployment.updated``, ``step.updated``,
  ``step.output``): exactly :data:`~backend_client.events.event_adapter` JSON, with ``seq``.
- ``resync``: the stream cannot be gap-free; re-list. Continues after its ``seq``.
- ``heartbeat``: sent when idle; ``seq`` is the last sequence number the server sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .contract import DEFAULT_PAGE_SIZE, MAX_OUTPUT_READ, MAX_PAGE_SIZE
from .errors import BackendError, InvalidRequest, ProtocolError, error_for_code
from .events import Event, event_adapter
from .ids import is_ulid
from .models import DeploymentFilter, DeploymentStatus, OutputChunk, Site
from .sanitize import sanitize_line

__all__ = [
    "API_PREFIX",
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_OUTPUT_READ",
    "HEADER_COMPLETE",
    "HEADER_ERROR_CODE",
    "HEADER_ERROR_MESSAGE",
    "HEADER_INSTANCE",
    "HEADER_OFFSET",
    "HEADER_TOTAL_SIZE",
    "HEADER_TRUNCATED",
    "MAX_BODY_BYTES",
    "MAX_FRAME_BYTES",
    "MAX_QUERY_VALUE",
    "MAX_REASON_LENGTH",
    "Q_BEFORE",
    "Q_INSTANCE",
    "Q_LIMIT",
    "Q_OFFSET",
    "Q_SINCE",
    "Q_SITE",
    "Q_STATUS",
    "Q_TEXT",
    "Q_TYPE",
    "CancelRequest",
    "FrameError",
    "Heartbeat",
    "Hello",
    "ListQuery",
    "ParsedFrame",
    "Paths",
    "Routes",
    "SitesResponse",
    "TriggerRequest",
    "UnknownFrame",
    "WSClose",
    "decode_error",
    "encode_batch",
    "encode_error",
    "encode_event",
    "error_from_close",
    "list_query_params",
    "output_chunk_from_headers",
    "output_headers",
    "parse_events_query",
    "parse_frame",
    "parse_frames",
    "parse_list_query",
    "parse_output_query",
    "parse_query_none",
]

API_PREFIX = "/api/v1"

HEADER_INSTANCE = "X-Deploytop-Instance"
"""On every response: the id of this run of the server (changes when it restarts)."""
HEADER_OFFSET = "X-Deploytop-Offset"
HEADER_TOTAL_SIZE = "X-Deploytop-Total-Size"
HEADER_TRUNCATED = "X-Deploytop-Truncated"
HEADER_COMPLETE = "X-Deploytop-Complete"
HEADER_ERROR_CODE = "X-Deploytop-Error-Code"
"""On a refused WebSocket handshake, whose body a client cannot read: the error code."""
HEADER_ERROR_MESSAGE = "X-Deploytop-Error-Message"

MAX_BODY_BYTES = 64 * 1024
"""Largest request body the server reads (trigger meta, cancel reason)."""
MAX_FRAME_BYTES = 1024 * 1024
"""Largest WebSocket message the server sends (a bigger event becomes a ``resync``).

The client skips a bigger message, but only after receiving it whole: httpx-ws buffers
each message to its end and offers no size cap."""
MAX_QUERY_VALUE = 512
"""Longest query parameter value (text search, ids)."""
MAX_REASON_LENGTH = 1000
DEFAULT_HEARTBEAT_INTERVAL = 15.0
DEFAULT_OUTPUT_READ = 1024 * 1024

# Query parameter names.
Q_SITE = "site_id"
Q_STATUS = "status"
Q_TYPE = "type"
Q_TEXT = "q"
Q_BEFORE = "before"
Q_LIMIT = "limit"
Q_OFFSET = "offset"
Q_SINCE = "since"
Q_INSTANCE = "instance"

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class WSClose:
    """WebSocket close codes the server uses after the handshake."""

    NORMAL = 1000
    GOING_AWAY = 1001
    RESYNC = 4000
    """The subscriber fell behind (or an event was too big): it got a ``resync`` frame first."""
    SERVER_SHUTDOWN = 4001


class Routes:
    """Starlette route patterns (the server's view of :class:`Paths`)."""

    HEALTHZ = "/healthz"
    OPENAPI = "/openapi.json"
    ME = "/me"
    SITES = "/teams/{team_id}/sites"
    DEPLOYMENTS = "/teams/{team_id}/deployments"
    DEPLOYMENT = "/deployments/{deployment_id}"
    CANCEL = "/deployments/{deployment_id}/cancel"
    OUTPUT = "/deployments/{deployment_id}/steps/{step_id}/output"
    EVENTS = "/teams/{team_id}/events"


def _seg(value: str) -> str:
    return quote(value, safe="")


class Paths:
    """Paths a client requests (with the API prefix)."""

    @staticmethod
    def healthz() -> str:
        return API_PREFIX + Routes.HEALTHZ

    @staticmethod
    def openapi() -> str:
        return API_PREFIX + Routes.OPENAPI

    @staticmethod
    def me() -> str:
        return API_PREFIX + Routes.ME

    @staticmethod
    def sites(team_id: str) -> str:
        return f"{API_PREFIX}/teams/{_seg(team_id)}/sites"

    @staticmethod
    def deployments(team_id: str) -> str:
        return f"{API_PREFIX}/teams/{_seg(team_id)}/deployments"

    @staticmethod
    def deployment(deployment_id: str) -> str:
        return f"{API_PREFIX}/deployments/{_seg(deployment_id)}"

    @staticmethod
    def cancel(deployment_id: str) -> str:
        return f"{API_PREFIX}/deployments/{_seg(deployment_id)}/cancel"

    @staticmethod
    def output(deployment_id: str, step_id: str) -> str:
        return f"{API_PREFIX}/deployments/{_seg(deployment_id)}/steps/{_seg(step_id)}/output"

    @staticmethod
    def events(team_id: str) -> str:
        return f"{API_PREFIX}/teams/{_seg(team_id)}/events"


# --- errors -----------------------------------------------------------------------------


def encode_error(error: BackendError) -> bytes:
    """The JSON body of an error response."""
    return json.dumps({"error": {"code": error.code, "message": error.message}}).encode()


def decode_error(status: int, body: bytes) -> BackendError:
    """Turn an error response back into the typed error, keeping the server's message.

    A body that does not follow the protocol still gives a typed error, chosen by status.
    The message is server text, so it is made terminal-safe here, once, at the boundary
    (:func:`~backend_client.sanitize.sanitize_line`): no error a client raises can carry an
    escape sequence to the operator's terminal.
    """
    try:
        payload = json.loads(body)
        error = payload["error"]
        code, message = error["code"], error["message"]
        if not isinstance(code, str) or not isinstance(message, str):
            raise TypeError("code and message must be strings")
    except (ValueError, KeyError, TypeError):
        return _error_for_status(status, f"HTTP {status} from the backend")
    message = sanitize_line(message)
    return (
        error_for_code(code, message)
        if code != "backend_error"
        else _error_for_status(status, message)
    )


def _error_for_status(status: int, message: str) -> BackendError:
    by_status = {
        400: "invalid_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        413: "invalid_request",
        422: "invalid_request",
        502: "protocol_error",
    }
    if status in by_status:
        return error_for_code(by_status[status], message)
    if status >= 500:
        return error_for_code("unavailable", message)
    return error_for_code("protocol_error", message)


def error_from_close(status: int, headers: Mapping[str, str]) -> BackendError:
    """The error of a refused WebSocket handshake (status and ``X-Deploytop-Error-*``).

    The message (server text) is made terminal-safe, as in :func:`decode_error`.
    """
    code = headers.get(HEADER_ERROR_CODE)
    message = sanitize_line(headers.get(HEADER_ERROR_MESSAGE) or "")
    message = message or f"event stream refused (HTTP {status})"
    if code:
        return error_for_code(code, message)
    return _error_for_status(status, message)


# --- request bodies ---------------------------------------------------------------------


class TriggerRequest(BaseModel):
    """Body of ``POST /teams/{team_id}/deployments``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(min_length=1, max_length=64)
    site_id: str = Field(min_length=1, max_length=128)
    meta: dict[str, Any] = Field(default_factory=dict)


class CancelRequest(BaseModel):
    """Body of ``POST /deployments/{id}/cancel`` (may be empty)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str | None = Field(default=None, max_length=MAX_REASON_LENGTH)


class SitesResponse(BaseModel):
    """Body of ``GET /teams/{team_id}/sites``."""

    data: list[Site]


# --- queries ----------------------------------------------------------------------------


class ListQuery(BaseModel):
    """A parsed deployment list query."""

    model_config = ConfigDict(frozen=True)

    filter: DeploymentFilter
    before: str | None = None
    limit: int = DEFAULT_PAGE_SIZE


def list_query_params(
    filter: DeploymentFilter | None, before: str | None, limit: int
) -> list[tuple[str, str]]:
    """Query parameters for a deployment list (``status`` and ``type`` repeat)."""
    params: list[tuple[str, str]] = []
    if filter is not None:
        if filter.site_id is not None:
            params.append((Q_SITE, filter.site_id))
        params.extend((Q_STATUS, str(s)) for s in sorted(filter.statuses))
        params.extend((Q_TYPE, t) for t in sorted(filter.types))
        if filter.text is not None:
            params.append((Q_TEXT, filter.text))
    if before is not None:
        params.append((Q_BEFORE, before))
    params.append((Q_LIMIT, str(limit)))
    return params


def _check_known(items: Iterable[tuple[str, str]], allowed: set[str]) -> None:
    for key, value in items:
        if key not in allowed:
            hint = f"allowed: {', '.join(sorted(allowed))}" if allowed else "none allowed"
            raise InvalidRequest(f"unknown query parameter {key!r} ({hint})")
        if len(value) > MAX_QUERY_VALUE:
            raise InvalidRequest(f"query parameter {key!r} is too long")


def _single(items: Sequence[tuple[str, str]], key: str) -> str | None:
    values = [v for k, v in items if k == key]
    if len(values) > 1:
        raise InvalidRequest(f"query parameter {key!r} given more than once")
    return values[0] if values else None


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value, 10)
    except ValueError:
        raise InvalidRequest(f"{name} must be an integer, not {value!r}") from None
    if not low <= number <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}, not {number}")
    return number


def parse_query_none(items: Sequence[tuple[str, str]]) -> None:
    """Check that an endpoint without query parameters got none.

    Raises:
        InvalidRequest: any parameter.
    """
    _check_known(items, set())


def parse_list_query(items: Sequence[tuple[str, str]]) -> ListQuery:
    """Validate a deployment list query (server side).

    Raises:
        InvalidRequest: unknown parameter, bad status, limit out of range, bad cursor.
    """
    _check_known(items, {Q_SITE, Q_STATUS, Q_TYPE, Q_TEXT, Q_BEFORE, Q_LIMIT})
    statuses: list[DeploymentStatus] = []
    for _, value in (kv for kv in items if kv[0] == Q_STATUS):
        for part in value.split(","):
            try:
                statuses.append(DeploymentStatus(part.strip()))
            except ValueError:
                allowed = ", ".join(s.value for s in DeploymentStatus)
                raise InvalidRequest(f"unknown status {part!r} (one of: {allowed})") from None
    types = [t.strip() for _, v in items if _ == Q_TYPE for t in v.split(",") if t.strip()]
    site = _single(items, Q_SITE)
    if site is not None and not _ID.match(site):
        raise InvalidRequest(f"malformed site_id {site!r}")
    before = _single(items, Q_BEFORE)
    if before is not None and not is_ulid(before):
        raise InvalidRequest(f"malformed cursor {before!r} (expected a deployment id)")
    limit_raw = _single(items, Q_LIMIT)
    limit = DEFAULT_PAGE_SIZE if limit_raw is None else _int(limit_raw, "limit", 1, MAX_PAGE_SIZE)
    return ListQuery(
        filter=DeploymentFilter.of(
            site_id=site, statuses=statuses, types=types, text=_single(items, Q_TEXT)
        ),
        before=before,
        limit=limit,
    )


def parse_output_query(items: Sequence[tuple[str, str]]) -> tuple[int, int]:
    """Validate an output range query: ``(offset, limit)``.

    Raises:
        InvalidRequest: unknown parameter, negative offset, limit outside 1..MAX_OUTPUT_READ.
    """
    _check_known(items, {Q_OFFSET, Q_LIMIT})
    offset_raw = _single(items, Q_OFFSET)
    limit_raw = _single(items, Q_LIMIT)
    offset = 0 if offset_raw is None else _int(offset_raw, "offset", 0, 2**62)
    limit = (
        DEFAULT_OUTPUT_READ if limit_raw is None else _int(limit_raw, "limit", 1, MAX_OUTPUT_READ)
    )
    return offset, limit


def parse_events_query(items: Sequence[tuple[str, str]]) -> tuple[int | None, str | None]:
    """Validate an event stream query: ``(since, instance)``."""
    _check_known(items, {Q_SINCE, Q_INSTANCE})
    since_raw = _single(items, Q_SINCE)
    since = None if since_raw is None else _int(since_raw, "since", 0, 2**62)
    return since, _single(items, Q_INSTANCE)


# --- output ranges ----------------------------------------------------------------------


def output_headers(chunk: OutputChunk) -> dict[str, str]:
    """Headers describing a raw output range response."""
    return {
        HEADER_OFFSET: str(chunk.offset),
        HEADER_TOTAL_SIZE: str(chunk.total_size),
        HEADER_TRUNCATED: "1" if chunk.truncated else "0",
        HEADER_COMPLETE: "1" if chunk.complete else "0",
    }


def output_chunk_from_headers(headers: Mapping[str, str], data: bytes) -> OutputChunk:
    """Rebuild an :class:`OutputChunk` from a raw output range response.

    Raises:
        ProtocolError: a header is missing or malformed.
    """
    try:
        offset = int(headers[HEADER_OFFSET])
        total = int(headers[HEADER_TOTAL_SIZE])
        truncated = headers[HEADER_TRUNCATED] == "1"
        complete = headers[HEADER_COMPLETE] == "1"
    except (KeyError, ValueError) as exc:
        raise ProtocolError(f"output response without valid range headers ({exc})") from None
    if offset < 0 or total < 0:
        raise ProtocolError("output response with a negative offset or size")
    return OutputChunk(
        offset=offset, data=data, total_size=total, truncated=truncated, complete=complete
    )


# --- WebSocket frames -------------------------------------------------------------------


class Hello(BaseModel):
    """First frame of a stream: who the server is and where the stream starts."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["hello"] = "hello"
    instance_id: str
    head_seq: int
    """The team's sequence number when the stream started."""
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    server_time: datetime | None = None


class Heartbeat(BaseModel):
    """Sent when the stream is idle. ``seq``: the last sequence number the server sent."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["heartbeat"] = "heartbeat"
    seq: int


class FrameError(ValueError):
    """A frame that is not valid JSON or does not follow the protocol."""


class UnknownFrame(ValueError):
    """A well-formed frame of a kind this client does not know (skipped, not an error).

    ``seq`` is the frame's sequence number if it carried one, so a newer server's event
    kinds do not look like a gap.
    """

    def __init__(self, kind: str, seq: int | None) -> None:
        super().__init__(f"unknown frame kind {kind!r}")
        self.kind = kind
        self.seq = seq


_EVENT_KINDS = frozenset(
    {"deployment.created", "deployment.updated", "step.updated", "step.output", "resync"}
)


def _frame_of(obj: object) -> Hello | Heartbeat | Event:
    if not isinstance(obj, dict):
        raise FrameError("frame is not a JSON object")
    kind = obj.get("kind")
    try:
        if kind == "hello":
            return Hello.model_validate(obj)
        if kind == "heartbeat":
            return Heartbeat.model_validate(obj)
        if kind in _EVENT_KINDS:
            return event_adapter.validate_python(obj)
    except ValidationError as exc:
        raise FrameError(f"invalid {kind} frame: {exc.error_count()} error(s)") from None
    seq = obj.get("seq")
    raise UnknownFrame(str(kind), seq if isinstance(seq, int) else None)


def _load(text: str | bytes) -> object:
    if len(text) > MAX_FRAME_BYTES:
        raise FrameError(f"frame of {len(text)} bytes exceeds {MAX_FRAME_BYTES}")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise FrameError(f"frame is not JSON: {exc}") from None


def parse_frame(text: str | bytes) -> Hello | Heartbeat | Event:
    """Parse one server frame (not a batch).

    Raises:
        FrameError: too big, not JSON, not an object, or invalid for its kind.
        UnknownFrame: a valid object of an unknown kind.
    """
    return _frame_of(_load(text))


ParsedFrame = Hello | Heartbeat | Event | FrameError | UnknownFrame
"""A frame, or why one (inside a batch, or the whole message) could not be read."""


def parse_frames(text: str | bytes) -> list[ParsedFrame]:
    """Parse a server message: one frame, or a ``batch`` of event frames, in order.

    Never raises: what cannot be read comes back as a :class:`FrameError` or
    :class:`UnknownFrame` in its place, for the caller to log and skip.
    """
    try:
        obj = _load(text)
    except FrameError as exc:
        return [exc]
    if isinstance(obj, dict) and obj.get("kind") == "batch":
        frames = obj.get("frames")
        if not isinstance(frames, list):
            return [FrameError("batch frame without a frames list")]
        return [_parse_one(item) for item in frames]
    return [_parse_one(obj)]


def _parse_one(obj: object) -> ParsedFrame:
    try:
        return _frame_of(obj)
    except (FrameError, UnknownFrame) as exc:
        return exc


def encode_batch(texts: Sequence[str]) -> list[str]:
    """Messages carrying already-encoded event frames, in order.

    One frame goes as it is; several go as ``{"kind": "batch", "frames": [...]}``
    messages of at most :data:`MAX_FRAME_BYTES` each (fewer messages, far less overhead
    per event when a team is busy).
    """
    if len(texts) == 1:
        return [texts[0]]
    messages: list[str] = []
    group: list[str] = []
    size = 0
    for text in texts:
        if group and size + len(text) + 1 > MAX_FRAME_BYTES - 64:
            messages.append(_batch(group))
            group, size = [], 0
        group.append(text)
        size += len(text) + 1
    if group:
        messages.append(_batch(group) if len(group) > 1 else group[0])
    return messages


def _batch(texts: list[str]) -> str:
    return '{"kind":"batch","frames":[' + ",".join(texts) + "]}"


def encode_event(event: Event) -> str:
    """An event frame."""
    return event_adapter.dump_json(event).decode()
