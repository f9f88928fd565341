"""``deploytop serve``: run the deployment server on the bundled in-memory backend.

Errors are one line, as everywhere in ``deploytop``: ``deploytop: error: cannot listen on
127.0.0.1:8765: Address already in use``, exit 2 (a usage error, a taken port, a bad tokens
file: the command cannot start as asked).
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import ipaddress
import logging
import socket
from pathlib import Path
from typing import IO, Any

import click
import uvicorn

from backend_client.clock import SystemClock
from backend_client.demo import DemoTraffic, DemoWorld, build_demo
from backend_client.memory import InMemoryStore
from backend_client.sanitize import sanitize_line

from .app import create_app
from .auth import TokenFileError, load_tokens_file

__all__ = ["EXIT_CANNOT_START", "ServeError", "serve"]

EXIT_CANNOT_START = 2
"""Exit code of ``serve`` when it cannot start as asked (the same as a usage error)."""


def _one_line(message: str) -> str:
    # Paths and OS messages come from the user and the system: keep them one plain line.
    return f"deploytop: error: {sanitize_line(' '.join(message.split()))}"


class ServeError(click.ClickException):
    """``serve`` cannot start as asked: one line, ``deploytop: error: ...``, exit 2."""

    exit_code = EXIT_CANNOT_START

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(_one_line(self.format_message()), err=True, file=file)


class _OneLineUsageError(click.UsageError):
    """A usage error of ``serve`` run on its own, said like ``deploytop``'s own."""

    def show(self, file: IO[Any] | None = None) -> None:
        message = self.format_message().rstrip(".")
        click.echo(_one_line(message[:1].lower() + message[1:]), err=True, file=file)


class _ServeCommand(click.Command):
    """``serve``'s usage errors in one line when it runs without the ``deploytop`` group.

    Under ``deploytop`` the group already says them its way (with "did you mean"), so a
    context with a parent is left alone.
    """

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            if parent is not None or isinstance(exc, _OneLineUsageError):
                raise
            message = " ".join(exc.format_message().split())
            if isinstance(exc, click.NoSuchOption):
                message = f"no such option: {exc.option_name}"
                # Only a near miss ("--prot") is worth a suggestion, as in deploytop's group.
                close = difflib.get_close_matches(exc.option_name, exc.possibilities or (), 1, 0.8)
                if close:
                    message += f" (did you mean {close[0]}?)"
            raise _OneLineUsageError(message, exc.ctx) from None


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves, so a taken port is one clear line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(512)
    sock.setblocking(False)
    return sock


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _describe_tokens(store: InMemoryStore, world: DemoWorld, tokens: dict[str, str]) -> list[str]:
    names = {u.id: u.name for u in store.users}
    lines = []
    for token, user_id in tokens.items():
        roles = []
        for team in store.teams:
            role = store.members_of(team.id).get(user_id)
            if role is not None:
                roles.append(f"{team.name} ({role.value}, team {team.id})")
        lines.append(f"  {token:<16} {names.get(user_id, user_id)}: {'; '.join(roles) or '-'}")
    return lines


@click.command(cls=_ServeCommand)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--demo", is_flag=True, help="Seed history and keep triggering demo deployments.")
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the demo world.")
@click.option(
    "--tokens",
    "tokens_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML/JSON file of accepted tokens (token = user id or email); replaces demo tokens.",
)
@click.option(
    "--speed",
    default=15.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Pipeline seconds per real second.",
)
@click.option(
    "--rate",
    default=20.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Demo deployments per minute (with --demo).",
)
@click.option(
    "--history", default=600, show_default=True, type=click.IntRange(0), help="Seeded deployments."
)
def serve(
    host: str,
    port: int,
    demo: bool,
    seed: int,
    tokens_file: Path | None,
    speed: float,
    rate: float,
    history: int,
) -> None:
    """Serve the bundled backend over HTTP and WebSocket (API under /api/v1).

    The demo teams, people and sites always exist (so there is someone to log in as);
    --demo adds history and live traffic. Without --tokens the demo tokens are accepted
    and printed.
    """
    store = InMemoryStore(clock=SystemClock(), seed=seed, speed=speed, workers=8)
    world = build_demo(store, seed=seed, history=history if demo else 0)
    if tokens_file is not None:
        try:
            tokens = load_tokens_file(tokens_file, store.users)
        except TokenFileError as exc:
            raise ServeError(str(exc)) from None
    else:
        tokens = dict(world.tokens)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    url = f"http://{host if ':' not in host else f'[{host}]'}:{bound_port}"
    click.echo(f"deploytop serve: {url}  (API under /api/v1; instance {store.instance_id})")
    if not _is_loopback(host):
        click.echo("warning: listening beyond this machine without TLS; tokens travel in clear.")
    click.echo("tokens accepted:" if tokens_file else "demo tokens:")
    for line in _describe_tokens(store, world, tokens):
        click.echo(line)
    click.echo(
        f"try: DEPLOYTOP_BACKEND={url} DEPLOYTOP_TOKEN={next(iter(tokens), 'TOKEN')} deploytop ls"
    )
    app = create_app(store, tokens)
    # uvicorn re-raises the Ctrl-C it handled gracefully; it is not an error here.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(store, world, app, sock, demo=demo, rate=rate, seed=seed))
    click.echo("deploytop serve: stopped")


async def _run(
    store: InMemoryStore,
    world: DemoWorld,
    app: object,
    sock: socket.socket,
    *,
    demo: bool,
    rate: float,
    seed: int,
) -> None:
    await store.start()
    traffic_task: asyncio.Task[None] | None = None
    if demo:
        traffic = DemoTraffic(store, world, rate_per_minute=rate, seed=seed)
        traffic_task = asyncio.create_task(traffic.run())
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        lifespan="off",
        ws="wsproto",
        log_level="warning",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    try:
        await server.serve(sockets=[sock])
    finally:
        if traffic_task is not None:
            traffic_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await traffic_task
        await store.stop()
        logging.getLogger(__name__).info("stopped")
