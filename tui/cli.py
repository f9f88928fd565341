"""``deploytop``: the dashboard (default) and its subcommands.

Imports are lazy: ``deploytop --help`` and the dashboard's first frame should not pay for
the server or the headless commands.
"""

from __future__ import annotations

import gc
import re
import sys
from typing import IO, Any

import click

__all__ = ["main"]


def _fail(message: str) -> None:
    from backend_client.sanitize import sanitize_line  # messages may quote the backend

    click.echo(f"deploytop: error: {sanitize_line(message)}", err=True)
    sys.exit(2)


class _OneLineUsageError(click.UsageError):
    """A usage error said the documented way: ``deploytop: error: no such option: --nope``."""

    def show(self, file: IO[Any] | None = None) -> None:
        from backend_client.sanitize import sanitize_line  # the message quotes the user

        message = self.format_message()
        message = message[:1].lower() + message[1:]
        click.echo(f"deploytop: error: {sanitize_line(message)}", err=True, file=file)


def _one_line(exc: click.UsageError) -> _OneLineUsageError:
    """click's message in the documented words, on one line."""
    if isinstance(exc, _OneLineUsageError):
        return exc
    if isinstance(exc, click.NoSuchOption):
        message = f"no such option: {exc.option_name}"
        import difflib

        # Only a near miss ("--no-bel") is worth a suggestion; click offers far ones too.
        close = difflib.get_close_matches(exc.option_name, exc.possibilities or (), 1, 0.8)
        if close:
            message += f" (did you mean {close[0]}?)"
    else:
        message = " ".join(exc.format_message().split())
        # "No such command 'x'." reads like "no such option: --x".
        found = re.fullmatch(r"No such command '(.*)'\.?", message)
        message = f"no such command: {found.group(1)}" if found else message.rstrip(".")
    return _OneLineUsageError(message, exc.ctx)


class _Group(click.Group):
    """A group whose subcommands are registered lazily (and only if they exist yet).

    Usage errors (of the group or of a subcommand) print one line and exit 2, instead of
    click's usage block and ``Error: ...``; ``--help`` is untouched.
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
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    _LAZY: dict[str, tuple[str, str]] = {
        "serve": ("backend_server.cli", "serve"),
    }
    _LAZY_GROUPS: tuple[tuple[str, str], ...] = (("tui.headless", "commands"),)

    def _load_lazy(self) -> None:
        if getattr(self, "_lazy_loaded", False):
            return
        self._lazy_loaded = True
        import importlib

        for name, (module_name, attr) in self._LAZY.items():
            try:
                command = getattr(importlib.import_module(module_name), attr)
            except (ImportError, AttributeError):
                continue
            if isinstance(command, click.Command):
                self.add_command(command, name)
        for module_name, attr in self._LAZY_GROUPS:
            try:
                commands = getattr(importlib.import_module(module_name), attr)
            except (ImportError, AttributeError):
                continue
            if isinstance(commands, click.Group):
                for sub_name, sub in commands.commands.items():
                    self.add_command(sub, sub_name)
            elif isinstance(commands, click.Command):
                self.add_command(commands)
            else:
                for sub in commands:
                    if isinstance(sub, click.Command):
                        self.add_command(sub)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_lazy()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._load_lazy()
            command = super().get_command(ctx, cmd_name)
        return command


@click.group(
    cls=_Group,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--backend", metavar="URL", help="A deploytop server (default: embedded demo).")
@click.option("--token", metavar="TOKEN", help="API token for --backend.")
@click.option("--team", metavar="TEAM", help="Team id or name to open (default: your first team).")
@click.option(
    "--read-only",
    is_flag=True,
    default=None,
    help="Hide and refuse every action that changes anything.",
)
@click.option("--theme", metavar="NAME", help="deploytop-dark, deploytop-light, textual-dark, ...")
@click.option(
    "--no-bell",
    "bell",
    flag_value=False,
    default=None,
    help="Do not ring the bell when a deployment fails.",
)
@click.version_option(None, "--version", package_name="deploytop", prog_name="deploytop")
@click.pass_context
def main(
    ctx: click.Context,
    backend: str | None,
    token: str | None,
    team: str | None,
    read_only: bool | None,
    theme: str | None,
    bell: bool | None,
) -> None:
    """A live terminal dashboard for deployment pipelines.

    With no command, opens the dashboard: on the embedded demo backend, or on a deploytop
    server with --backend URL --token TOKEN. Settings also come from DEPLOYTOP_* variables
    and the config file ($XDG_CONFIG_HOME/deploytop/config.toml, or $DEPLOYTOP_CONFIG).
    """
    if ctx.invoked_subcommand is not None:
        return
    # Starting up allocates ~90k objects that live as long as the process (modules, models,
    # the demo world) and almost no garbage: collecting while it happens costs ~40 ms of the
    # first frame. run_dashboard turns collection back on, with all that frozen out of its way.
    gc.disable()
    try:
        from tui.settings import SettingsError, load_settings

        try:
            settings = load_settings(
                backend=backend,
                token=token,
                team=team,
                read_only=read_only,
                theme=theme,
                bell=bell,
            )
        except SettingsError as exc:
            _fail(str(exc))
            return
        if token is not None and not settings.backend:
            # Without a backend the token would go unused and the demo open instead.
            _fail("--token needs --backend URL (or DEPLOYTOP_BACKEND)")
        sys.exit(run_dashboard(settings))
    finally:
        gc.enable()


def run_dashboard(settings: Any) -> int:
    """Build the backend, run the app, and turn a fatal error into one line."""
    from tui.settings import Settings

    assert isinstance(settings, Settings)
    services: list[Any] = []
    if settings.backend:
        if settings.token is None:
            _fail("--backend needs --token (or DEPLOYTOP_TOKEN)")
        try:
            from backend_client.http import HttpBackend
        except ImportError:
            _fail("this build has no HTTP client (backend_client.http)")
            return 2
        assert settings.token is not None
        try:
            backend: Any = HttpBackend(settings.backend, settings.token.get_secret_value())
        except Exception as exc:  # a malformed URL, said in one line
            _fail(f"cannot use backend {settings.backend!r}: {exc}")
            return 2
    else:
        from tui.embedded import EmbeddedDemo

        demo = EmbeddedDemo(settings.demo)
        backend = demo.backend
        services.append(demo)

    from textual.app import InvalidThemeError

    from backend_client.sanitize import sanitize_line
    from tui.app import DeploytopApp

    try:
        app = DeploytopApp(settings, backend, services=services)
    except InvalidThemeError:
        _fail(f"unknown theme {settings.theme!r} (try deploytop-dark, deploytop-light)")
        return 2
    gc.freeze()  # what startup loaded is long-lived: later collections need not scan it
    gc.enable()
    code = app.run()
    if app.fatal_error:
        click.echo(f"deploytop: error: {sanitize_line(app.fatal_error)}", err=True)
        return 1
    return code or 0
