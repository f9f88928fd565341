"""The dashboard app: a composition root that wires settings, a backend and the screens."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType

from backend_client.clock import Clock, SystemClock
from backend_client.contract import Backend
from backend_client.models import Deployment
from tui.commands import DashboardCommands
from tui.screens.dashboard import DashboardScreen
from tui.settings import Settings
from tui.state import DashboardState, OutputEvent
from tui.themes import THEMES, status_defaults
from tui.widgets.detail import DetailPane

if TYPE_CHECKING:
    from tui.output.feed import OutputHub

__all__ = ["DeploytopApp", "Service"]


def _stylesheet() -> Path:
    """The dashboard's TCSS: ``tui/styles/`` in an installed wheel, ``styles/`` in a checkout."""
    here = Path(__file__).resolve().parent
    shipped = here / "styles" / "dashboard.tcss"
    return shipped if shipped.is_file() else here.parent / "styles" / "dashboard.tcss"


class Service(Protocol):
    """Something that runs alongside the app (the embedded demo backend)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class DeploytopApp(App[int]):
    """Deployments, live, for one caller of one backend.

    Args:
        settings: What the operator configured.
        backend: Where deployments come from.
        clock: Time for relative times, durations and staleness (tests pass a FakeClock).
        services: Started on mount, stopped on exit (e.g. the embedded demo engine).
    """

    TITLE = "deploytop"
    CSS_PATH = _stylesheet()
    COMMANDS = App.COMMANDS | {DashboardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
        Binding("ctrl+c", "help_quit", show=False, system=True, id="help_quit"),
    ]

    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        *,
        clock: Clock | None = None,
        services: Sequence[Service] = (),
    ) -> None:
        super().__init__()
        self.settings = settings
        self.backend = backend
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.services = list(services)
        self.fatal_error: str | None = None
        """Set when the app exits because it cannot work (bad token, unreachable backend)."""
        self._hub: OutputHub | None = None
        self._held_input: list[events.Key | events.Paste] | None = None
        """Keys and pastes held while a screen is being put up (``None``: not holding)."""
        self.state = DashboardState(on_output=self._dispatch_output)
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = settings.theme
        keymap = dict(settings.keymap)
        if keymap:
            from tui.keys import TWINS, usable_keymap

            keymap = usable_keymap(keymap)  # a bad key name is reported on mount, not used

            # A twin (the read-only "cancel" that explains the refusal, End going to the
            # bottom of a finished output) follows the keys of the binding it stands in for.
            for twin, of in TWINS.items():
                if of in keymap:
                    keymap.setdefault(twin, keymap[of])
        self.set_keymap(keymap)

    @property
    def hub(self) -> OutputHub:
        """Every step output the app follows (made on first use: startup need not load it)."""
        if self._hub is None:
            from tui.output.feed import OutputHub

            self._hub = OutputHub(self.backend)
        return self._hub

    def _dispatch_output(self, event: OutputEvent) -> None:
        # No hub yet means no step output is followed: nothing to update.
        if self._hub is not None:
            self._hub.dispatch(event)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Themes without deploytop's status colours get defaults readable on their background.
        return status_defaults(self.current_theme.dark)

    async def on_mount(self) -> None:
        if self.settings.keymap:
            from tui.keys import bad_keys_notice, keymap_conflicts, unknown_binding_ids

            unknown = unknown_binding_ids(self.settings.keymap)
            if unknown:
                self.notify(
                    "keymap: no binding with id " + ", ".join(repr(i) for i in unknown),
                    title="Settings",
                    severity="warning",
                    markup=False,
                )
            bad_keys = bad_keys_notice(self.settings.keymap)
            if bad_keys:
                self.notify(bad_keys, title="Settings", severity="warning", markup=False)
            conflicts = keymap_conflicts(self.settings.keymap)
            if conflicts:
                self.notify(
                    "keymap: "
                    + "; ".join(
                        f"{key!r} is bound to " + " and ".join(repr(i) for i in ids)
                        for key, ids in conflicts
                    )
                    + " (only one of them will work)",
                    title="Settings",
                    severity="warning",
                    markup=False,
                )
        for service in self.services:
            await service.start()
        await self.push_screen(
            DashboardScreen(
                self.backend,
                self.state,
                self.clock,
                read_only=self.settings.read_only,
                team_id=self.settings.team,
                page_size=self.settings.page_size,
                stale_after=self.settings.stale_after,
            )
        )

    async def on_unmount(self) -> None:
        if self._hub is not None:
            self._hub.close()
        for service in reversed(self.services):
            await service.stop()
        await self.backend.aclose()

    def fail(self, message: str) -> None:
        """Exit because the dashboard cannot work; the CLI prints ``message`` in one line."""
        self.fatal_error = message
        self.exit(1, return_code=1)

    # -- output (helper "output"'s widgets) ----------------------------------------------

    def show_output(self, pane: DetailPane, dep: Deployment | None, step_id: str | None) -> None:
        """Point the detail pane's output view at a step (or at nothing)."""
        if dep is None or step_id is None:
            pane.set_feed(None)  # no step: no need to wake the output machinery
            return
        pane.set_feed(self.hub.feed(dep.id, step_id))

    def open_pager(self, dep: Deployment, *, step_id: str | None, failed_only: bool) -> None:
        """Open the full-screen output pager.

        Keys typed right after the key that opens it (``o/error⏎`` in one burst over SSH)
        wait until it is up, then reach it in order: its own keys, not the dashboard's.
        """
        from tui.output.pager import PagerScreen

        self._held_input = []
        try:
            mounted = self.push_screen(
                PagerScreen(self.hub, dep, step_id=step_id, failed_only=failed_only)
            )
        except BaseException:
            self._release_input()
            raise

        async def release_when_up() -> None:
            try:
                await mounted
            except BaseException:
                self._release_input()
                raise
            # After the screen's own start-up (its focus is set on a later turn).
            self.call_after_refresh(self._release_input)

        self.call_next(release_when_up)

    async def on_event(self, event: events.Event) -> None:
        if (
            self._held_input is not None
            and isinstance(event, (events.Key, events.Paste))
            and not event.is_forwarded
        ):
            self._held_input.append(event)  # a screen is being put up: see open_pager
            return
        await super().on_event(event)

    def _release_input(self) -> None:
        from tui.typeahead import fresh_copy

        held, self._held_input = self._held_input, None
        for event in held or []:
            self.post_message(fresh_copy(event))
