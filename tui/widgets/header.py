"""The header line: backend, team, the active filter, activity counts and the connection badge."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from backend_client.clock import Clock
from backend_client.events import ConnectionState
from backend_client.sanitize import sanitize_line
from tui.output.text import safe_label
from tui.state import DashboardState

__all__ = ["StatusHeader", "connection_badge", "filter_summary"]


def filter_summary(state: DashboardState) -> str:
    """The active filter in words ("all deployments" when there is none)."""
    flt = state.filter
    parts: list[str] = []
    if flt.statuses:
        names = sorted(s.value for s in flt.statuses)
        if set(names) == {"queued", "running"}:
            parts.append("status: active")
        else:
            parts.append("status: " + ",".join(names))
    if flt.site_id:
        # The site's domain comes from the backend: terminal-safe, like every label here.
        parts.append("site: " + sanitize_line(state.filter_label_extra.get("site", flt.site_id)))
    if flt.types:
        parts.append("type: " + ",".join(sorted(flt.types)))
    if flt.text:
        parts.append(f"text: “{sanitize_line(flt.text)}”")
    return " · ".join(parts) if parts else "all deployments"


def connection_badge(state: DashboardState, now: datetime, stale_after: float) -> tuple[str, str]:
    """The badge text and its kind (``live``, ``reconnecting``, ``stale``, ``offline``)."""
    status = state.connection
    last = state.last_event_at
    ago = f"{int((now - last).total_seconds())} s ago" if last is not None else "never"
    retry = ""
    if status.next_retry_at is not None:
        wait = max(0, round((status.next_retry_at - now).total_seconds()))
        retry = f" · next try in {wait} s"
    if status.state is ConnectionState.RECONNECTING:
        return f"↻ reconnecting · attempt {status.attempt}{retry}", "reconnecting"
    if status.state is ConnectionState.OFFLINE:
        return f"✕ offline · last update {ago}{retry}", "offline"
    if last is not None and (now - last).total_seconds() >= stale_after:
        return f"◌ stale · last update {ago}", "stale"
    return "● live", "live"


class StatusHeader(Widget):
    """One line at the top; repaints only when its text changes."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    COMPONENT_CLASSES = {
        "status-header--title",
        "status-header--dim",
        "status-header--filter",
        "status-header--live",
        "status-header--reconnecting",
        "status-header--stale",
        "status-header--offline",
        "status-header--readonly",
    }

    def __init__(
        self,
        state: DashboardState,
        clock: Clock,
        *,
        backend_label: str,
        read_only: bool,
        stale_after: float = 30.0,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.state = state
        self.clock = clock
        self.backend_label = backend_label
        self.read_only = read_only
        self.stale_after = stale_after
        self._last_plain = ""

    def update_view(self) -> None:
        """Recompute the line; repaint only if it changed."""
        previous = self._last_plain
        if self._line().plain != previous:
            self.refresh()

    def render(self) -> Text:
        return self._line()

    def _line(self) -> Text:
        state = self.state
        now = self.clock.now()
        style = self.get_component_rich_style
        left = Text(no_wrap=True, overflow="ellipsis", end="")
        left.append(" deploytop ", style("status-header--title"))
        left.append(" ")
        left.append(safe_label(self.backend_label))
        left.append(" │ ", style("status-header--dim"))
        if state.team is not None:
            left.append(safe_label(state.team.name))
            if state.team.role.value == "viewer":
                left.append(" (viewer)", style("status-header--dim"))
        else:
            left.append("…")
        left.append(" │ ", style("status-header--dim"))
        left.append(Text(filter_summary(state), style("status-header--filter")))
        running, queued = state.active_counts
        left.append(" │ ", style("status-header--dim"))
        left.append(f"{running} running · {queued} queued")
        if self.read_only:
            left.append("  ")
            left.append(" READ-ONLY ", style("status-header--readonly"))
        badge, kind = connection_badge(state, now, self.stale_after)
        right = Text(f" {badge} ", style(f"status-header--{kind}"), end="")
        width = self.size.width or 80
        room = max(width - right.cell_len - 1, 0)
        if left.cell_len > room:
            left.truncate(room, overflow="ellipsis")
        line = Text(no_wrap=True, end="")
        line.append_text(left)
        line.append(" " * max(width - left.cell_len - right.cell_len, 1))
        line.append_text(right)
        self._last_plain = line.plain
        return line
