"""Command palette entries (ctrl+p) for the dashboard's main actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

__all__ = ["DashboardCommands"]

_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Show failures", "failures", "Toggle the view of failed deployments"),
    ("Show active deployments", "active", "Toggle the view of queued and running deployments"),
    ("Filter by status…", "pick_status", "All, active, failed or one status"),
    ("Filter by site…", "pick_site", "Only one site's deployments"),
    ("Filter by pipeline type…", "pick_type", "Only one pipeline type"),
    ("Search…", "search", "Free text: operation, site, pipeline, person, id"),
    ("Clear filters", "clear_filters", "Show every deployment"),
    ("Switch team…", "pick_team", "Show another team's deployments"),
    ("Cancel selected deployment", "cancel", "Asks first; says what will stop"),
    ("Watch selected deployment", "watch", "Be told (and the bell) when it finishes"),
    ("Copy id", "copy_id", "The selected deployment's (or step's) id, to the clipboard"),
    ("Open output", "output", "Pager for the selected step or deployment"),
    ("Open failed output", "failed_output", "Pager with only the failed step"),
    ("Refresh", "refresh", "Re-list from the backend"),
    ("Show / hide details", "toggle_detail", "The detail pane (hidden: the list takes the screen)"),
    ("Keys (help)", "help", "Every key binding"),
)


class DashboardCommands(Provider):
    """The dashboard's actions by name."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        from tui.screens.dashboard import DashboardScreen

        # Only on the dashboard itself: from the pager (or any screen above the dashboard)
        # these actions would change the dashboard hidden underneath.
        screen = self.screen
        if not isinstance(screen, DashboardScreen):
            return []
        read_only = screen.read_only
        return [
            (name, partial(self.app.call_later, screen.run_action, action), help_text)
            for name, action, help_text in _COMMANDS
            if not (read_only and action == "cancel")
        ]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
