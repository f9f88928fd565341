"""The header line: backend, team, the active filter, activity counts and the connection badge."""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
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


def connection_badge(
    state: DashboardState, now: datetime, stale_after: float, *, short: bool = False
) -> tuple[str, str]:
    """The badge text and its kind (``live``, ``reconnecting``, ``stale``, ``offline``).

    ``short`` gives the narrow-terminal form (``✕ offline · 70 s``): state and one number.
    """
    status = state.connection
    last = state.last_event_at
    seconds = int((now - last).total_seconds()) if last is not None else None
    ago = f"{seconds} s ago" if seconds is not None else "never"
    wait: int | None = None
    retry = ""
    if status.next_retry_at is not None:
        wait = max(0, round((status.next_retry_at - now).total_seconds()))
        retry = f" · next try in {wait} s"
    if status.state is ConnectionState.RECONNECTING:
        if short:
            return f"↻ retry {status.attempt}" + (f" · {wait} s" if wait is not None else ""), (
                "reconnecting"
            )
        return f"↻ reconnecting · attempt {status.attempt}{retry}", "reconnecting"
    if status.state is ConnectionState.OFFLINE:
        if short:
            return "✕ offline" + (f" · {seconds} s" if seconds is not None else ""), "offline"
        return f"✕ offline · last update {ago}{retry}", "offline"
    if seconds is not None and seconds >= stale_after:
        if short:
            return f"◌ stale · {seconds} s", "stale"
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
        """The header, fitted to the width.

        What gives way on a narrow terminal, in order: the counts take their short form,
        then the badge (the long one says when the next try is), then the backend label
        shrinks (down to nothing); team and filter are cut only when nothing else is left.
        """
        width = self.size.width or 80
        line = self._compose_line(width, short=False, backend_room=None)
        if line.cell_len > width:
            line = self._compose_line(width, short=False, short_counts=True, backend_room=None)
        if line.cell_len > width:
            line = self._compose_line(width, short=True, backend_room=None)
        if line.cell_len > width:
            # Give the backend label what is left (it may vanish entirely).
            over = line.cell_len - width
            room = max(cell_len(self.backend_label) - over, 0)
            line = self._compose_line(width, short=True, backend_room=room)
        self._last_plain = line.plain
        return line

    def _compose_line(
        self,
        width: int,
        *,
        short: bool,
        backend_room: int | None,
        short_counts: bool | None = None,
    ) -> Text:
        state = self.state
        now = self.clock.now()
        style = self.get_component_rich_style
        dim = style("status-header--dim")
        left = Text(no_wrap=True, overflow="ellipsis", end="")
        left.append(" deploytop ", style("status-header--title"))
        backend = safe_label(self.backend_label)
        if backend_room is not None and backend.cell_len > backend_room:
            backend.truncate(backend_room, overflow="ellipsis")
        if backend.cell_len >= 4:
            left.append(" ")
            left.append_text(backend)
        left.append(" │ ", dim)
        if state.team is not None:
            left.append(safe_label(state.team.name))
            if state.team.role.value == "viewer":
                left.append(" (viewer)", dim)
        else:
            left.append("…")
        left.append(" │ ", dim)
        left.append(Text(filter_summary(state), style("status-header--filter")))
        running, queued = state.active_counts
        left.append(" │ ", dim)
        if short if short_counts is None else short_counts:
            left.append(f"◐ {running} · ○ {queued}")
        else:
            left.append(f"{running} running · {queued} queued")
        if self.read_only:
            left.append("  ")
            left.append(" READ-ONLY ", style("status-header--readonly"))
        badge, kind = connection_badge(state, now, self.stale_after, short=short)
        right = Text(f" {badge} ", style(f"status-header--{kind}"), end="")
        room = max(width - right.cell_len - 1, 0)
        if backend_room is not None and left.cell_len > room:
            left.truncate(room, overflow="ellipsis")  # the last resort: cut filter, then team
        line = Text(no_wrap=True, end="")
        line.append_text(left)
        line.append(" " * max(width - left.cell_len - right.cell_len, 1))
        line.append_text(right)
        return line
