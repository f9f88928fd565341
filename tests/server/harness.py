"""A real deploytop server under uvicorn on 127.0.0.1, in the test's own event loop.

Running uvicorn as a task of the test's loop means the server shares the test's store (and
its FakeClock): a test drives the engine directly and watches the effect over the network.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette

from backend_client.http import HttpBackend
from backend_client.memory import InMemoryStore
from backend_client.models import User
from backend_server import create_app


@dataclass
class Served:
    """A running server."""

    url: str
    app: Starlette
    server: uvicorn.Server
    store: InMemoryStore

    def client(self, token: str, **options: Any) -> HttpBackend:
        """An HttpBackend on this server, reconnecting quickly (tests are impatient)."""
        options.setdefault("backoff_base", 0.02)
        options.setdefault("backoff_cap", 0.2)
        options.setdefault("timeout", 5.0)
        return HttpBackend(self.url, token, **options)


@asynccontextmanager
async def serve(
    store: InMemoryStore, tokens: Mapping[str, str], **app_options: Any
) -> AsyncIterator[Served]:
    """Serve ``store`` on a free port of 127.0.0.1 until the block ends."""
    app = create_app(store, tokens, **app_options)
    async with _uvicorn(app) as (url, server):
        yield Served(url, app, server, store)


@asynccontextmanager
async def uvicorn_app(app: Any) -> AsyncIterator[str]:
    """Serve any ASGI app on a free port of 127.0.0.1; yields its URL."""
    async with _uvicorn(app) as (url, _):
        yield url


@asynccontextmanager
async def _uvicorn(app: Any) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        ws="wsproto",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before starting")
            await asyncio.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        server.force_exit = True  # tests close their own clients; do not linger
        try:
            async with asyncio.timeout(5):
                await task
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def token_for(user_id: str) -> str:
    return f"token-{user_id}"


@asynccontextmanager
async def http_backends(
    store: InMemoryStore, users: list[User]
) -> AsyncIterator[Callable[[str], HttpBackend]]:
    """The contract suite's "http" kind: the same store, through the server, over HTTP."""
    tokens = {token_for(u.id): u.id for u in users}
    async with serve(store, tokens, heartbeat_interval=1.0) as served:
        yield lambda user_id: served.client(token_for(user_id))
