"""Error messages from a hostile (or broken) server reach the operator terminal-safe.

The client sanitizes server text once, where it builds the error (``wire.decode_error``,
``wire.error_from_close``, the connection status), so nothing downstream has to remember.
"""

from __future__ import annotations

import json

import httpx
import pytest
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from backend_client import BackendError, ConnectionStatus, Forbidden, NotFound, Unavailable, wire
from backend_client.http import HttpBackend

EVIL = "a\x1b]52;c;ZXZpbA==\x07b\x1b]0;owned\x1b\\c [b]bold[/b] \x9b31md\x1b[31me\x1b[0m\x07\n!"


def _assert_safe(text: str) -> None:
    for bad in ("\x1b", "\x07", "\x9b", "\x9c", "\n", "\r"):
        assert bad not in text, repr(text)
    assert "ZXZpbA" not in text and "owned" not in text  # OSC payloads go with them
    # Markup is kept as literal text: the screen shows it as Text, never parses it.
    assert "[b]bold[/b]" in text


@pytest.mark.parametrize(("status", "code"), [(403, "forbidden"), (500, "backend_error")])
def test_decode_error_sanitizes_the_message(status: int, code: str) -> None:
    body = json.dumps({"error": {"code": code, "message": EVIL}}).encode()
    error = wire.decode_error(status, body)
    _assert_safe(str(error))
    _assert_safe(error.message)


def test_error_from_close_sanitizes_the_message() -> None:
    error = wire.error_from_close(
        404, {wire.HEADER_ERROR_CODE: "not_found", wire.HEADER_ERROR_MESSAGE: EVIL}
    )
    assert isinstance(error, NotFound)
    _assert_safe(str(error))
    # A message with nothing left after sanitizing still says something.
    empty = wire.error_from_close(403, {wire.HEADER_ERROR_MESSAGE: "\x1b]0;x\x07"})
    assert str(empty) == "event stream refused (HTTP 403)"


async def test_an_http_error_from_the_server_is_sanitized() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": {"code": "forbidden", "message": EVIL}})

    client = HttpBackend("http://evil.example", "t", transport=httpx.MockTransport(handler))
    with pytest.raises(Forbidden) as info:
        await client.get_deployment("01HZZZZZZZZZZZZZZZZZZZZZZZ")
    await client.aclose()
    _assert_safe(str(info.value))


def _closing_app(code: int, reason: str) -> Starlette:
    async def events(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(code, reason)

    return Starlette(routes=[WebSocketRoute(wire.API_PREFIX + wire.Routes.EVENTS, events)])


async def test_a_close_reason_from_the_server_is_sanitized() -> None:
    # 4000 + HTTP status: a refusal without denial responses. Close reasons are at most
    # 123 bytes, so the payload is a shorter one.
    reason = "x\x1b]52;c;QQ==\x07y [b]z[/b]\x9b2J"
    async with ASGIWebSocketTransport(_closing_app(4404, reason)) as transport:
        client = HttpBackend("http://evil.example", "t", transport=transport)
        with pytest.raises(NotFound) as info:
            await anext(client.subscribe("T"))
        await client.aclose()
    message = str(info.value)
    assert "\x1b" not in message and "\x07" not in message and "\x9b" not in message
    assert "[b]z[/b]" in message and "QQ==" not in message


async def test_a_transient_close_reason_in_the_connection_status_is_sanitized() -> None:
    reason = "bye\x1b]0;owned\x07 now\x1bc"
    async with ASGIWebSocketTransport(_closing_app(1011, reason)) as transport:
        client = HttpBackend(
            "http://evil.example", "t", transport=transport, backoff_base=0.001, backoff_cap=0.001
        )
        stream = client.subscribe("T")
        item = await anext(stream)
        await stream.aclose()
        await client.aclose()
    assert isinstance(item, ConnectionStatus)
    assert item.error is not None
    assert "\x1b" not in item.error and "\x07" not in item.error and "owned" not in item.error


def test_every_backend_error_message_from_the_wire_is_one_line() -> None:
    body = json.dumps({"error": {"code": "unavailable", "message": "a\nb\r\nc"}}).encode()
    error = wire.decode_error(503, body)
    assert isinstance(error, Unavailable) and isinstance(error, BackendError)
    assert "\n" not in str(error) and "\r" not in str(error)
