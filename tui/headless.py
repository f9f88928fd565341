"""Headless commands for scripts and quick looks: ``ls``, ``show``, ``logs``, ``cancel``, ``watch``.

They talk to any backend over HTTP and never import Textual, so they start fast and work
without a screen. Where and as whom comes from the dashboard's settings (``tui.settings``):
flags (``--backend URL --token T --team ID``, given before or after the command) over the
``DEPLOYTOP_*`` environment over the config file; ``read_only`` there makes ``cancel``
refuse. Everything that comes from the backend is made terminal-safe first (colours kept
only when stdout is a terminal; ``--json`` output is ASCII-escaped JSON).

Exit codes: 0 success; 2 usage or settings error (bad flag, no backend, bad config file,
``cancel`` while read-only); 3 the backend failed (unreachable, bad token, not found,
refused). ``watch`` exits 0 completed, 1 failed, 2 cancelled.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

import click

from backend_client.contract import Backend
from backend_client.errors import (
    BackendError,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthorized,
    Unavailable,
)
from backend_client.events import (
    ConnectionState,
    ConnectionStatus,
    DeploymentCreated,
    DeploymentUpdated,
    Resync,
    StepOutput,
    StepUpdated,
)
from backend_client.http import HttpBackend, check_base_url
from backend_client.models import (
    Deployment,
    DeploymentFilter,
    DeploymentStatus,
    DeploymentStep,
    StepStatus,
)
from backend_client.sanitize import sanitize_line, sanitize_text
from tui.format import GLYPHS, absolute_time, duration_text, status_glyph, step_display_status
from tui.settings import Settings, SettingsError, config_path, load_settings

__all__ = ["EXIT_BACKEND_ERROR", "cancel", "commands", "logs", "ls", "show", "watch"]

EXIT_BACKEND_ERROR = 3
_READ_CHUNK = 1024 * 1024
_T = TypeVar("_T")


# --- plumbing ---------------------------------------------------------------------------


def _settings(url: str | None, token: str | None, team: str | None) -> Settings:
    """The dashboard's settings, the command's flags on top (flags > env > config file).

    Raises:
        click.UsageError: the file or a value is bad; the dashboard's one-line message.
    """
    flags: dict[str, Any] = {"backend": url, "token": token, "team": team, "read_only": None}
    # ``deploytop --backend URL ls`` puts the options on the group: take them from there
    # (the command's own flag wins when both are given).
    ctx = click.get_current_context(silent=True)
    parent = ctx.parent if ctx is not None else None
    if parent is not None:
        for name in flags:
            if flags[name] is None:
                flags[name] = parent.params.get(name)
    try:
        return load_settings(**flags)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


def _read_only_source() -> str:
    """Which source set ``read_only`` (for the refusal message)."""
    ctx = click.get_current_context(silent=True)
    parent = ctx.parent if ctx is not None else None
    if parent is not None and parent.params.get("read_only"):
        return "--read-only"
    if any(name.upper() == "DEPLOYTOP_READ_ONLY" for name in os.environ):
        return "DEPLOYTOP_READ_ONLY"
    return f"the config file {config_path()}"


class Connection:
    """Where and as whom the commands talk to the backend.

    Args:
        url: ``--backend`` given to the command (None: from the group, env or config file).
        token: ``--token``, likewise.
        team: ``--team``, likewise.
        changes: what the command changes (``"cancel"``), refused when ``read_only`` is set;
            None for a command that only reads.
    """

    def __init__(
        self,
        url: str | None,
        token: str | None,
        team: str | None,
        *,
        changes: str | None = None,
    ) -> None:
        settings = _settings(url, token, team)
        if changes is not None and settings.read_only:
            # Before any backend check: nothing to connect to when the answer is no anyway.
            raise click.UsageError(
                f"read-only: {changes} is refused (read_only is set by {_read_only_source()})"
            )
        if not settings.backend:
            raise click.UsageError(
                "no backend: pass --backend URL or set DEPLOYTOP_BACKEND"
                f" (or backend in {config_path()})"
            )
        try:
            self.url = check_base_url(settings.backend)  # the client's own check
        except InvalidRequest as exc:
            raise click.UsageError(f"--backend: {exc.message}") from None
        if settings.token is None or not settings.token.get_secret_value():
            raise click.UsageError(
                f"no token: pass --token TOKEN or set DEPLOYTOP_TOKEN (or token in {config_path()})"
            )
        self.token = settings.token.get_secret_value()
        self.team = settings.team

    def backend(self) -> HttpBackend:
        return HttpBackend(self.url, self.token, timeout=10.0)


def _connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    # No click envvar: the environment (and the config file) are read by load_settings, so
    # a flag given to the group (``deploytop --backend URL ls``) still beats the environment.
    func = click.option(
        "--team",
        help="Team id or name (default: your first team) [DEPLOYTOP_TEAM]",
    )(func)
    func = click.option("--token", help="Bearer token [DEPLOYTOP_TOKEN]")(func)
    func = click.option(
        "--backend",
        metavar="URL",
        help="Server URL, e.g. http://127.0.0.1:8765 [DEPLOYTOP_BACKEND]",
    )(func)
    return func


def _hint(error: BackendError, url: str) -> str:
    if isinstance(error, Unauthorized):
        return (
            f"{url} refused the token ({error.message});"
            " check --token, DEPLOYTOP_TOKEN or token in the config file"
        )
    if isinstance(error, Unavailable):
        return error.message
    if isinstance(error, Forbidden):
        return f"not allowed: {error.message}"
    return error.message


def _run(conn: Connection, work: Callable[[HttpBackend], Awaitable[_T]]) -> _T:
    """Run ``work`` against the backend; any backend failure is one line and exit 3."""

    async def main() -> _T:
        backend = conn.backend()
        try:
            return await work(backend)
        finally:
            await backend.aclose()

    try:
        return asyncio.run(main())
    except BackendError as exc:
        click.echo(f"deploytop: {sanitize_line(_hint(exc, conn.url))}", err=True)
        sys.exit(EXIT_BACKEND_ERROR)
    except KeyboardInterrupt:
        sys.exit(130)


def _colour() -> bool:
    return sys.stdout.isatty()


def _safe(text: str | None) -> str:
    return sanitize_line(text or "")


def _echo_json(payload: Any) -> None:
    # ensure_ascii escapes every control character, so JSON output cannot drive a terminal.
    click.echo(json.dumps(payload, indent=2, ensure_ascii=True))


def _now() -> datetime:
    return datetime.now(UTC)


async def _team_id(backend: Backend, team: str | None) -> str:
    """The team to act in: ``team`` (an id or a name, as in the dashboard) or the first one.

    Without ``team`` a member of several teams gets the first, like the dashboard; which
    one (and how to pick another) is said on stderr, so stdout stays the listing.
    """
    me = await backend.me()
    if not me.teams:
        raise NotFound("you belong to no team")
    choices = ", ".join(f"{_safe(t.id)} ({_safe(t.name)})" for t in me.teams)
    if team:
        found = me.find_team(team)
        if found is None:
            raise NotFound(f"no team {_safe(team)!r} of yours (one of: {choices})")
        return found.id
    first = me.teams[0]
    if len(me.teams) > 1:
        click.echo(
            f"deploytop: team {_safe(first.name)} ({_safe(first.id)}); "
            f"pass --team for another (one of: {choices})",
            err=True,
        )
    return first.id


def _clip(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, an ellipsis marking a cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


class _Where(NamedTuple):
    """Where a deployment is in its steps (see :func:`_where`)."""

    word: str
    """``"at"`` (failed, cancelled or running at ``step``), ``"before"`` (cancelled before
    step ``number``), or ``""``: ``number`` is just the count of finished steps."""
    number: int
    total: int
    step: str | None = None
    """The name of the step it is at, terminal-safe."""

    @property
    def text(self) -> str:
        """``"at step 4/5"``, ``"before step 1/3"``, ``"3/3 steps"``."""
        if self.word:
            return f"{self.word} step {self.number}/{self.total}"
        return f"{self.number}/{self.total} steps"


def _where(d: Deployment) -> _Where:
    """Where a deployment stopped (failed, cancelled) or is (running), else a step count.

    ``Deployment.progress`` counts finished steps (the dashboard's ``4/5 finished``); for a
    failed deployment that count includes the failed step, so ``4/4`` alone reads as "all
    done". A failed or cancelled one says the step it stopped at instead (the same number:
    the steps before it all finished), and a running one the step it is running.
    """
    done, total = d.progress
    at = {
        DeploymentStatus.FAILED: StepStatus.FAILED,
        DeploymentStatus.CANCELLED: StepStatus.CANCELLED,
        DeploymentStatus.RUNNING: StepStatus.RUNNING,
    }.get(d.status)
    if at is not None:
        steps = sorted(d.steps, key=lambda s: s.sort_order)
        for position, step in enumerate(steps, 1):
            if step.status is at:
                return _Where("at", position, total, _safe(step.name))
    if d.status is DeploymentStatus.CANCELLED and done < total:
        return _Where("before", done + 1, total)  # cancelled between steps, or while queued
    return _Where("", done, total)


def _steps_cell(d: Deployment) -> str:
    """The STEPS column of ``ls``: ``2/5``, or ``✘ 4/5`` for one that failed at step 4."""
    where = _where(d)
    if d.status in (DeploymentStatus.FAILED, DeploymentStatus.CANCELLED):
        return f"{status_glyph(d.status)} {where.number}/{where.total}"
    done, total = d.progress  # as the dashboard's list shows an active one
    return f"{done}/{total}"


def _step_line(
    step: DeploymentStep, now: datetime, dep_status: DeploymentStatus | None = None
) -> str:
    # With the deployment's status, a Queued step of a finished deployment reads "not run".
    shown = step.status.value
    if dep_status is not None:
        shown = step_display_status(dep_status, step.status)
    glyph = GLYPHS.get(shown, status_glyph(step.status))
    return (
        f"  {glyph} {step.sort_order:>2}. {_safe(step.name):<36}"
        f" {shown:<10} {duration_text(step.duration(now)):>8}"
    )


# --- ls -----------------------------------------------------------------------------------


@click.command("ls")
@_connection_options
@click.option("--site", help="Only this site (id or domain).")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in DeploymentStatus]),
    help="Only these statuses (repeatable).",
)
@click.option("--type", "types", multiple=True, help="Only these pipeline types (repeatable).")
@click.option("--search", "-q", "text", help="Text in operation, site, user, type or id.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ls(
    backend: str | None,
    token: str | None,
    team: str | None,
    site: str | None,
    statuses: tuple[str, ...],
    types: tuple[str, ...],
    text: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List a team's deployments, newest first."""
    conn = Connection(backend, token, team)

    async def work(client: HttpBackend) -> None:
        team_id = await _team_id(client, conn.team)
        site_id = await _site_id(client, team_id, site) if site else None
        page = await client.list_deployments(
            team_id,
            DeploymentFilter.of(site_id=site_id, statuses=statuses, types=types, text=text),
            limit=limit,
        )
        if as_json:
            _echo_json(page.model_dump(mode="json"))
            return
        if not page.data:
            click.echo("no deployments")
            return
        now = _now()
        click.echo(
            f"{'ID':<26}  {'STATUS':<9}  {'TYPE':<20}  {'SITE':<28}  {'CREATED':<23}"
            f"  {'TIME':>7}  {'STEPS':>7}  OPERATION"
        )
        for d in page.data:
            click.echo(
                f"{_safe(d.id):<26}  {d.status.value:<9}  {_clip(_safe(d.type), 20):<20}  "
                f"{_clip(_safe(d.site_domain or d.site_id), 28):<28}  "
                f"{absolute_time(d.created_at):<23}"
                f"  {duration_text(d.duration(now)):>7}  {_steps_cell(d):>7}"
                f"  {_safe(d.operation_name)}"
            )
        if page.next_before:
            click.echo(f"(more: older than {_safe(page.next_before)})")

    _run(conn, work)


async def _site_id(client: Backend, team_id: str, site: str) -> str:
    sites = await client.list_sites(team_id)
    for candidate in sites:
        if site in (candidate.id, candidate.domain):
            return candidate.id
    raise NotFound(f"no site {site!r} in team {team_id}")


# --- show -----------------------------------------------------------------------------------


@click.command("show")
@_connection_options
@click.argument("deployment_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(
    backend: str | None, token: str | None, team: str | None, deployment_id: str, as_json: bool
) -> None:
    """Show one deployment and its steps."""
    conn = Connection(backend, token, team)

    async def work(client: HttpBackend) -> None:
        d = await client.get_deployment(deployment_id)
        if as_json:
            _echo_json(d.model_dump(mode="json"))
            return
        for line in _describe(d, _now()):
            click.echo(line)

    _run(conn, work)


def _status_text(d: Deployment) -> str:
    """``failed at step 4/5 (“Copy files”)``, ``completed  (3/3 steps)``."""
    where = _where(d)
    if not where.word:
        return f"{d.status.value}  ({where.text})"
    named = f" (\u201c{where.step}\u201d)" if where.step is not None else ""
    return f"{d.status.value} {where.text}{named}"


def _describe(d: Deployment, now: datetime) -> Iterator[str]:
    yield f"{_safe(d.operation_name)}"
    yield f"  id        {_safe(d.id)}"
    yield f"  status    {_status_text(d)}"
    yield f"  type      {_safe(d.type)}"
    yield f"  site      {_safe(d.site_domain or d.site_id)}"
    yield f"  by        {_safe(d.user_name or d.user_id)}"
    yield f"  created   {absolute_time(d.created_at)}"
    yield f"  started   {absolute_time(d.started_at)}"
    yield f"  finished  {absolute_time(d.finished_at)}"
    yield f"  duration  {duration_text(d.duration(now))}"
    if d.cancel_reason:
        yield f"  reason    {_safe(d.cancel_reason)}"
    yield "steps:"
    for step in sorted(d.steps, key=lambda s: s.sort_order):
        yield _step_line(step, now, d.status)


# --- logs -----------------------------------------------------------------------------------


@click.command("logs")
@_connection_options
@click.argument("deployment_id")
@click.option("--step", "step_ref", metavar="NAME|N", help="Only this step (name or number).")
@click.option("--failed", is_flag=True, help="Only the failed step(s).")
def logs(
    backend: str | None,
    token: str | None,
    team: str | None,
    deployment_id: str,
    step_ref: str | None,
    failed: bool,
) -> None:
    """Print a deployment's step output (like `gh run view --log-failed`)."""
    conn = Connection(backend, token, team)

    async def work(client: HttpBackend) -> None:
        d = await client.get_deployment(deployment_id)
        steps = sorted(d.steps, key=lambda s: s.sort_order)
        if step_ref is not None:
            steps = [_pick_step(steps, step_ref)]
        if failed:
            steps = [s for s in steps if s.status is StepStatus.FAILED]
            if not steps:
                click.echo(f"no failed step in {_safe(d.id)} ({d.status.value})", err=True)
                return
        colour = _colour()
        for step in steps:
            click.echo(f"== {step.sort_order}. {_safe(step.name)} ({step.status.value}) ==")
            await _print_output(client, d.id, step, colour)

    _run(conn, work)


def _pick_step(steps: list[DeploymentStep], ref: str) -> DeploymentStep:
    if ref.isdigit():
        for step in steps:
            if step.sort_order == int(ref):
                return step
    folded = ref.casefold()
    for step in steps:
        if step.name.casefold() == folded or step.id == ref:
            return step
    matches = [s for s in steps if folded in s.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(f"{s.sort_order}. {_safe(s.name)}" for s in steps)
    raise NotFound(f"no step {ref!r} (steps: {names})")


class _LinePrinter:
    """Decodes UTF-8 output as it arrives and prints whole lines, terminal-safe."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes | str) -> None:
        text = self._decoder.decode(data) if isinstance(data, bytes) else data
        text = self._pending + text
        cut = text.rfind("\n")
        if cut < 0:
            # Keep an unterminated line for the next chunk, but never hold too much.
            if len(text) > _READ_CHUNK:
                self._write(text + "\n")
                text = ""
            self._pending = text
            return
        self._pending = text[cut + 1 :]
        self._write(text[: cut + 1])

    def flush(self) -> None:
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        if rest:
            self._write(rest + "\n")

    def _write(self, text: str) -> None:
        click.echo(sanitize_text(text, keep_sgr=self.colour), nl=False)


async def _print_output(
    client: Backend, deployment_id: str, step: DeploymentStep, colour: bool
) -> int:
    """Print a step's whole output; returns the number of bytes read."""
    printer = _LinePrinter(colour)
    offset = 0
    while True:
        chunk = await client.read_output(deployment_id, step.id, offset=offset, limit=_READ_CHUNK)
        if chunk.data:
            printer.feed(chunk.data)
        offset = chunk.end
        if not chunk.data or offset >= chunk.total_size:
            break
    printer.flush()
    if chunk.truncated:
        click.echo("[output truncated by the backend]")
    return offset


# --- cancel ---------------------------------------------------------------------------------


@click.command("cancel")
@_connection_options
@click.argument("deployment_id")
@click.option("--reason", help="Why (kept with the deployment).")
def cancel(
    backend: str | None,
    token: str | None,
    team: str | None,
    deployment_id: str,
    reason: str | None,
) -> None:
    """Cancel a queued or running deployment (refused when read_only is set: exit 2)."""
    conn = Connection(backend, token, team, changes="cancel")

    async def work(client: HttpBackend) -> None:
        d = await client.cancel_deployment(deployment_id, reason)
        click.echo(f"cancelled {_safe(d.id)}: {_safe(d.operation_name)}")

    _run(conn, work)


# --- watch ----------------------------------------------------------------------------------


def _progress(status: StepStatus) -> int:
    """How far along a step status is: queued 0, running 1, finished 2 (never goes back)."""
    if status.is_finished:
        return 2
    return 1 if status is StepStatus.RUNNING else 0


_EXIT_FOR = {
    DeploymentStatus.COMPLETED: 0,
    DeploymentStatus.FAILED: 1,
    DeploymentStatus.CANCELLED: 2,
}


@click.command("watch")
@_connection_options
@click.argument("deployment_id")
@click.option("--no-output", is_flag=True, help="Only step changes, not their output.")
def watch(
    backend: str | None,
    token: str | None,
    team: str | None,
    deployment_id: str,
    no_output: bool,
) -> None:
    """Follow a deployment live; exit 0 completed, 1 failed, 2 cancelled."""
    conn = Connection(backend, token, team)
    watcher = _Watcher(not no_output, _colour())
    status = _run(conn, lambda client: watcher.run(client, deployment_id))
    sys.exit(_EXIT_FOR.get(status, EXIT_BACKEND_ERROR))


class _Watcher:
    """Prints a deployment's steps and output as they happen."""

    def __init__(self, show_output: bool, colour: bool) -> None:
        self.show_output = show_output
        self.colour = colour
        self.steps: dict[str, DeploymentStep] = {}
        self.offsets: dict[str, int] = {}
        self.printers: dict[str, _LinePrinter] = {}
        self.current: str | None = None

    async def run(self, client: Backend, deployment_id: str) -> DeploymentStatus:
        first = await client.get_deployment(deployment_id)
        page = await client.list_deployments(first.team_id, limit=1)
        deployment = await client.get_deployment(deployment_id)
        click.echo(f"watching {_safe(deployment.id)}: {_safe(deployment.operation_name)}")
        await self._catch_up(client, deployment)
        if deployment.is_finished:
            return self._finish(deployment)
        async for item in client.subscribe(deployment.team_id, since=page.seq):
            if isinstance(item, ConnectionStatus):
                if item.state is not ConnectionState.CONNECTED:
                    click.echo(
                        f"[{item.state.value}: {_safe(item.error)}; attempt {item.attempt}]",
                        err=True,
                    )
                continue
            if isinstance(item, Resync):
                deployment = await client.get_deployment(deployment_id)
                await self._catch_up(client, deployment)
            elif isinstance(item, StepOutput) and item.deployment_id == deployment_id:
                await self._output(client, deployment_id, item)
                continue
            elif isinstance(item, StepUpdated) and item.deployment_id == deployment_id:
                self._step(item.step)
                continue
            elif isinstance(item, DeploymentUpdated | DeploymentCreated):
                if item.deployment.id != deployment_id:
                    continue
                deployment = item.deployment
            else:
                continue
            if deployment.is_finished:
                # The last output may still be in flight behind the status: read it.
                await self._catch_up(client, await client.get_deployment(deployment_id))
                return self._finish(deployment)
        raise AssertionError("unreachable: a subscription does not end")  # pragma: no cover

    def _printer(self, step: DeploymentStep) -> _LinePrinter:
        printer = self.printers.get(step.id)
        if printer is None:
            printer = self.printers[step.id] = _LinePrinter(self.colour)
        return printer

    def _step(self, step: DeploymentStep) -> None:
        known = self.steps.get(step.id)
        if known is not None and _progress(step.status) < _progress(known.status):
            # A stale update replayed from before the snapshot (the stream starts at a seq
            # read before it): a finished step never runs again, a running one never queues.
            return
        if known is not None and known.status.is_finished and step.status is not known.status:
            return  # a finished step does not change
        self.steps[step.id] = step
        if known is not None and known.status is step.status:
            return
        if step.status is StepStatus.QUEUED:
            return
        if step.status.is_finished and step.id in self.printers:
            self.printers[step.id].flush()
        click.echo(_step_line(step, _now()))

    async def _catch_up(self, client: Backend, deployment: Deployment) -> None:
        for step in sorted(deployment.steps, key=lambda s: s.sort_order):
            new = self.steps.get(step.id) is None
            if new and step.output_size and step.status is not StepStatus.QUEUED:
                # A header before the output we are about to print.
                self._step(step.model_copy(update={"status": StepStatus.RUNNING}))
            if self.show_output and step.output_size > self.offsets.get(step.id, 0):
                await self._read(client, deployment.id, step, step.output_size)
            self._step(step)

    async def _read(
        self, client: Backend, deployment_id: str, step: DeploymentStep, upto: int
    ) -> None:
        offset = self.offsets.get(step.id, 0)
        while offset < upto:
            chunk = await client.read_output(
                deployment_id, step.id, offset=offset, limit=min(_READ_CHUNK, upto - offset)
            )
            if not chunk.data:
                break
            self._printer(step).feed(chunk.data)
            offset = chunk.end
        self.offsets[step.id] = offset

    async def _output(self, client: Backend, deployment_id: str, event: StepOutput) -> None:
        if not self.show_output:
            return
        have = self.offsets.get(event.step_id, 0)
        step = self.steps.get(event.step_id)
        if step is None:
            return
        data = event.data.encode("utf-8")
        if event.offset > have:
            # Missed some output (e.g. after a resync): read the gap and this chunk by range
            # rather than printing the chunk after a hole. A short read leaves the rest to
            # the next event or the final catch-up, still in order.
            await self._read(client, deployment_id, step, event.offset + len(data))
            return
        if event.offset + len(data) <= have:
            return
        self._printer(step).feed(data[have - event.offset :])
        self.offsets[event.step_id] = event.offset + len(data)

    def _finish(self, deployment: Deployment) -> DeploymentStatus:
        for printer in self.printers.values():
            printer.flush()
        where = _where(deployment)
        named = f" \u201c{where.step}\u201d" if where.step is not None else ""
        click.echo(
            f"{deployment.status.value}: {_safe(deployment.operation_name)}"
            f" ({where.text}{named}, {duration_text(deployment.duration(_now()))})"
            + (f" - {_safe(deployment.cancel_reason)}" if deployment.cancel_reason else "")
        )
        return deployment.status


commands: list[click.Command] = [ls, show, logs, cancel, watch]
"""The headless commands, for the ``deploytop`` click group to add."""
