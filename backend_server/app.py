"""The ASGI app: the wire protocol of :mod:`backend_client.wire` over an in-memory store.

Each request acts for the user its bearer token maps to, through that user's
:class:`~backend_client.memory.InMemoryBackend`, so team scoping and roles are the store's
own rules, not re-implemented here. Every error is JSON ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from backend_client import wire
from backend_client.errors import BackendError, InvalidRequest, NotFound, Unauthorized
from backend_client.memory import InMemoryBackend, InMemoryStore

from .auth import TokenTable, bearer_token
from .openapi import openapi_schema
from .stream import EventStreamer, StreamSettings, refuse_handshake

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_JSON = "application/json"


class _PayloadTooLarge(InvalidRequest):
    http_status = 413


def _json(body: bytes | str, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=_JSON)


def _model(model: BaseModel, status: int = 200) -> Response:
    return _json(model.model_dump_json(), status)


def error_response(error: BackendError, status: int | None = None) -> Response:
    """The JSON response for a typed error."""
    return _json(wire.encode_error(error), status or error.http_status)


class _InstanceHeader:
    """Adds ``X-Deploytop-Instance`` to every HTTP response."""

    def __init__(self, app: ASGIApp, instance_id: str) -> None:
        self.app = app
        self.header = (wire.HEADER_INSTANCE.lower().encode(), instance_id.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, send_with_header)


Handler = Callable[[Request], Awaitable[Response]]
_M = TypeVar("_M", bound=BaseModel)


class Api:
    """The HTTP endpoints, bound to one store and token table."""

    def __init__(self, store: InMemoryStore, tokens: TokenTable) -> None:
        self.store = store
        self.tokens = tokens
        self._backends: dict[str, InMemoryBackend] = {}

    def backend_for_token(self, token: str | None) -> InMemoryBackend:
        """The backend acting for a token's user.

        Raises:
            Unauthorized: missing token, unknown token, or a user the store lost.
        """
        if token is None:
            raise Unauthorized("missing bearer token (Authorization: Bearer TOKEN)")
        user_id = self.tokens.user_for(token)
        if user_id is None:
            raise Unauthorized("invalid token")
        backend = self._backends.get(user_id)
        if backend is None:
            try:
                backend = self.store.backend_for(user_id)
            except KeyError:
                raise Unauthorized("the token's user no longer exists") from None
            self._backends[user_id] = backend
        return backend

    def _backend(self, request: Request) -> InMemoryBackend:
        return self.backend_for_token(bearer_token(request.headers.get("authorization")))

    @staticmethod
    def _query(request: Request) -> list[tuple[str, str]]:
        return list(request.query_params.multi_items())

    @staticmethod
    def _no_query(request: Request) -> None:
        wire.parse_query_none(Api._query(request))

    @staticmethod
    async def _body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                too_big = int(declared) > wire.MAX_BODY_BYTES
            except ValueError:
                raise InvalidRequest("malformed Content-Length") from None
            if too_big:
                raise _PayloadTooLarge(f"request body exceeds {wire.MAX_BODY_BYTES} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > wire.MAX_BODY_BYTES:
                raise _PayloadTooLarge(f"request body exceeds {wire.MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _path(request: Request, name: str) -> str:
        value: str = request.path_params[name]
        if not value or len(value) > wire.MAX_QUERY_VALUE:
            raise NotFound(f"{name.replace('_', ' ')} not found")
        return value

    # -- endpoints ----------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return _json(json.dumps({"status": "ok", "instance_id": self.store.instance_id}))

    async def openapi(self, request: Request) -> Response:
        return _json(json.dumps(openapi_schema()))

    async def me(self, request: Request) -> Response:
        backend = self._backend(request)
        self._no_query(request)
        return _model(await backend.me())

    async def sites(self, request: Request) -> Response:
        backend = self._backend(request)
        self._no_query(request)
        sites = await backend.list_sites(self._path(request, "team_id"))
        return _model(wire.SitesResponse(data=sites))

    async def list_deployments(self, request: Request) -> Response:
        backend = self._backend(request)
        team_id = self._path(request, "team_id")
        query = wire.parse_list_query(self._query(request))
        page = await backend.list_deployments(
            team_id, query.filter, before=query.before, limit=query.limit
        )
        return _model(page)

    async def trigger(self, request: Request) -> Response:
        backend = self._backend(request)
        team_id = self._path(request, "team_id")
        self._no_query(request)
        body = _parse_body(wire.TriggerRequest, await self._body(request), allow_empty=False)
        deployment = await backend.trigger_deployment(team_id, body.type, body.site_id, body.meta)
        return _model(deployment, 201)

    async def deployment(self, request: Request) -> Response:
        backend = self._backend(request)
        self._no_query(request)
        return _model(await backend.get_deployment(self._path(request, "deployment_id")))

    async def cancel(self, request: Request) -> Response:
        backend = self._backend(request)
        deployment_id = self._path(request, "deployment_id")
        self._no_query(request)
        body = _parse_body(wire.CancelRequest, await self._body(request), allow_empty=True)
        return _model(await backend.cancel_deployment(deployment_id, body.reason))

    async def output(self, request: Request) -> Response:
        backend = self._backend(request)
        deployment_id = self._path(request, "deployment_id")
        step_id = self._path(request, "step_id")
        offset, limit = wire.parse_output_query(self._query(request))
        chunk = await backend.read_output(deployment_id, step_id, offset=offset, limit=limit)
        return Response(
            chunk.data,
            media_type="application/octet-stream",
            headers=wire.output_headers(chunk),
        )


def _parse_body(model: type[_M], body: bytes, *, allow_empty: bool) -> _M:
    if not body.strip():
        if allow_empty:
            return model()
        raise InvalidRequest("a JSON body is required")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidRequest(f"invalid request body: {where}: {first['msg']}") from None


def _guard(handler: Handler) -> Handler:
    """Turn typed errors into JSON error responses."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except BackendError as exc:
            return error_response(exc)

    return guarded


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "invalid_request"}.get(exc.status_code, "invalid_request")
    message = {404: "no such endpoint", 405: "method not allowed"}.get(
        exc.status_code, str(exc.detail)
    )
    body = json.dumps({"error": {"code": code, "message": message}})
    return Response(body, status_code=exc.status_code, media_type=_JSON, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    body = json.dumps({"error": {"code": "backend_error", "message": "internal server error"}})
    return Response(body, status_code=500, media_type=_JSON)


def _not_found_for(router: Router) -> ASGIApp:
    """The router's "no such endpoint", as a JSON 404 for WebSocket handshakes too.

    Starlette answers an unmatched handshake with a bare 403, which reads as "forbidden"
    (a path holding a newline never matches a route, so it ends up there too).
    """

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            websocket = WebSocket(scope, receive, send)
            await refuse_handshake(websocket, NotFound("no such endpoint"))
            return
        await router.not_found(scope, receive, send)

    return not_found


def create_app(
    store: InMemoryStore,
    tokens: TokenTable | Mapping[str, str],
    *,
    heartbeat_interval: float = wire.DEFAULT_HEARTBEAT_INTERVAL,
    queue_size: int = 1000,
    send_timeout: float = 30.0,
    batch_window: float = 0.05,
) -> Starlette:
    """The server app for a store.

    Args:
        store: What to serve (its engine is started and stopped by the caller).
        tokens: Accepted bearer tokens (token → user id, or a :class:`TokenTable`).
        heartbeat_interval: Seconds of silence after which a stream gets a heartbeat frame.
        queue_size: Events a WebSocket subscriber may have unsent before it is told to
            resync and dropped (a replay may exceed it: it is bounded by the retention).
        send_timeout: Seconds one frame may take to send before the subscriber is dropped.
        batch_window: Least seconds between two event messages to a subscriber; events in
            between go together as one batch (0: one message per event, at once).
    """
    table = tokens if isinstance(tokens, TokenTable) else TokenTable(tokens)
    api = Api(store, table)
    streamer = EventStreamer(
        store,
        api.backend_for_token,
        StreamSettings(
            heartbeat_interval=heartbeat_interval,
            queue_size=queue_size,
            send_timeout=send_timeout,
            batch_window=batch_window,
        ),
    )
    routes: list[BaseRoute] = [
        Route(wire.Routes.HEALTHZ, _guard(api.healthz), methods=["GET"]),
        Route(wire.Routes.OPENAPI, _guard(api.openapi), methods=["GET"]),
        Route(wire.Routes.ME, _guard(api.me), methods=["GET"]),
        Route(wire.Routes.SITES, _guard(api.sites), methods=["GET"]),
        Route(wire.Routes.DEPLOYMENTS, _guard(api.list_deployments), methods=["GET"]),
        Route(wire.Routes.DEPLOYMENTS, _guard(api.trigger), methods=["POST"]),
        Route(wire.Routes.DEPLOYMENT, _guard(api.deployment), methods=["GET"]),
        Route(wire.Routes.CANCEL, _guard(api.cancel), methods=["POST"]),
        Route(wire.Routes.OUTPUT, _guard(api.output), methods=["GET"]),
        WebSocketRoute(wire.Routes.EVENTS, streamer.endpoint),
    ]
    app = Starlette(
        routes=[Mount(wire.API_PREFIX, routes=routes)],
        exception_handlers={HTTPException: _http_exception, Exception: _internal_error},
    )
    mount = app.router.routes[0]
    assert isinstance(mount, Mount) and isinstance(mount.app, Router)
    for router in (app.router, mount.app):
        router.default = _not_found_for(router)
    app.state.streamer = streamer
    app.add_middleware(_InstanceHeader, instance_id=store.instance_id)
    return app
