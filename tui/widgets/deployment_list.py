"""The deployment list: a line-API ScrollView over the state's flattened rows.

Only visible lines are drawn, each from a small per-row cache. A change repaints only the
rows it touched that are on screen; once a second every visible row whose running duration
or relative time ("42s ago") moved is repainted, all in the same frame.
The cursor and the top of the view follow row *identity* (deployment id, step), so rows
appearing above (a new deployment, a page of history, an expansion) never make the view
jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from backend_client.clock import Clock
from backend_client.models import Deployment, DeploymentStatus, DeploymentStep, StepStatus
from backend_client.sanitize import sanitize_line
from tui.format import (
    GLYPHS,
    NOT_RUN,
    duration_text,
    relative_time,
    status_glyph,
    step_display_status,
)
from tui.state import Changes, DashboardState, Row, bisect_row

__all__ = ["DeploymentList"]

_STATUS_WIDTH = 12  # glyph, space, "cancelled", padding
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class _Columns:
    """Widths of the optional columns of a deployment row (0 = hidden)."""

    name: int
    type: int
    site: int
    who: int
    when: int
    who_short: bool = False
    """The who column holds only a first name (a narrow terminal)."""


_WHO_SHORT = 10
_WHO = 18
_GROW = {"site": 44, "who": 24, "type": 24}
"""How wide the site, who and type columns may grow on a wide terminal."""


def _layout(width: int) -> _Columns:
    # Fixed: caret 2 + status 12 + duration 8 + progress 6. Optional columns are added in
    # order of importance, each only while the operation name (which often names the site)
    # keeps enough room: who triggered it (as a first name) and when, which nothing else on
    # the row says, from 80 columns; the site and the pipeline type (the longest, 20 cells,
    # fits) from ~120; the whole name of who while the operation keeps 40. Room left over
    # on a wide terminal is shared: the operation name takes most, the others grow to a cap.
    fixed = 2 + _STATUS_WIDTH + 8 + 6
    columns = {"site": 0, "when": 0, "type": 0, "who": 0}
    room = width - fixed
    for key, size, keep in (
        ("who", _WHO_SHORT, 20),
        ("when", 10, 26),
        ("site", 23, 28),
        ("type", 21, 28),
        ("who", _WHO - _WHO_SHORT, 40),
    ):
        if room - size >= keep and (size != _WHO - _WHO_SHORT or columns["who"]):
            columns[key] += size
            room -= size
    short = 0 < columns["who"] < _WHO
    spare = room - 60
    if spare > 0:
        for key in ("site", "who", "type"):
            if columns[key] and not (key == "who" and short):
                grow = min(_GROW[key] - columns[key], spare // 6)
                if grow > 0:
                    columns[key] += grow
                    room -= grow
    return _Columns(name=max(room, 1), who_short=short, **columns)


def _first_name(name: str) -> str:
    """What the narrow who column shows: the first name ("Ada" for "Ada Lovelace")."""
    parts = name.split()
    return parts[0] if parts else name


def _cell(text: str, width: int, style: Style | None = None, *, right: bool = False) -> Text:
    t = Text(text, style=style or "", no_wrap=True, overflow="ellipsis", end="")
    if t.cell_len > width:
        t.truncate(width, overflow="ellipsis")
    pad = width - t.cell_len
    if pad > 0:
        if right:
            t = Text(" " * pad, end="") + t
        else:
            t.append(" " * pad)
    return t


class DeploymentList(ScrollView, can_focus=True, inherit_bindings=False):
    """Deployments newest first; each expands into its steps."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="list.page_down"),
        Binding("home,g", "first", "First", show=False, id="list.first"),
        Binding("end,G", "last", "Last", show=False, id="list.last"),
        Binding("right,l", "expand", "Expand", show=False, id="list.expand"),
        Binding("left,h", "collapse", "Collapse", show=False, id="list.collapse"),
        Binding("space", "toggle_expand", "Expand/collapse", id="list.toggle"),
        Binding("enter", "activate", "Open", show=False, id="list.activate"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "deployment-list--cursor",
        "deployment-list--dim",
        "deployment-list--more",
        "deployment-list--marker",
        "deployment-list--queued",
        "deployment-list--running",
        "deployment-list--completed",
        "deployment-list--failed",
        "deployment-list--cancelled",
        "deployment-list--skipped",
    }

    DEFAULT_CSS = """
    DeploymentList {
        background: $surface;
        overflow-x: hidden;
    }
    DeploymentList > .deployment-list--cursor { background: $block-cursor-blurred-background; }
    DeploymentList:focus > .deployment-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    DeploymentList > .deployment-list--dim { color: $text-muted; }
    DeploymentList > .deployment-list--more { color: $text-muted; text-style: italic; }
    DeploymentList > .deployment-list--marker { background: $accent; color: $text; }
    DeploymentList > .deployment-list--queued { color: $status-queued; }
    DeploymentList > .deployment-list--running { color: $status-running; text-style: bold; }
    DeploymentList > .deployment-list--completed { color: $status-completed; }
    DeploymentList > .deployment-list--failed { color: $status-failed; text-style: bold; }
    DeploymentList > .deployment-list--cancelled { color: $status-cancelled; }
    DeploymentList > .deployment-list--skipped { color: $status-skipped; }
    """

    class Highlighted(Message):
        """The cursor moved to another row (or the row under it went away)."""

        def __init__(self, deployment_list: DeploymentList, row: Row | None) -> None:
            super().__init__()
            self.deployment_list = deployment_list
            self.row = row

        @property
        def control(self) -> DeploymentList:
            return self.deployment_list

    class NeedMore(Message):
        """The view is near the end of what is loaded: page in older history."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DeploymentList.NeedMore)

    class Activated(Message):
        """Enter on a step row (the screen opens its output)."""

        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    def __init__(
        self,
        state: DashboardState,
        clock: Clock,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.state = state
        self.clock = clock
        self.cursor = 0
        self._cursor_key: Row | None = None
        self._anchor: Row | None = None
        self._cache: dict[Row, tuple[tuple[object, ...], Strip]] = {}
        self.loading_more = False
        self._announced: Row | None = None
        self._new_view = False
        self._top_on_new_view = False
        self._newest: str | None = None
        self._unseen: set[str] = set()
        """Deployments that arrived live while the operator was not at the top."""

    # -- public --------------------------------------------------------------------------

    @property
    def cursor_row(self) -> Row | None:
        rows = self.state.rows
        return rows[self.cursor] if 0 <= self.cursor < len(rows) else None

    def select(self, row: Row, *, center: bool = False) -> None:
        """Move the cursor to a row (if it is visible)."""
        index = self.state.row_index(*row)
        if index is not None:
            self._move(index, center=center)

    def go_top_on_next_view(self) -> None:
        """When the next listing arrives (refresh, cleared filters), start at its top."""
        self._top_on_new_view = True

    @property
    def new_above(self) -> int:
        """New deployments that arrived above the view, out of sight (the "▲ n new" marker)."""
        top = round(self.scroll_y)
        if top <= 0 or not self._unseen:
            return 0
        rows = self.state.rows
        hidden = 0
        for dep_id in self._unseen:
            index = self.state.row_index(dep_id, -1)
            if index is not None and index < top:
                hidden += 1
        if hidden and top < len(rows) and rows[top][1] < 0 and rows[top][0] in self._unseen:
            hidden += 1  # the row under the marker is hidden too
        return hidden

    def _note_arrivals(self) -> None:
        """Remember deployments that appeared above the newest one seen before."""
        rows = self.state.rows
        newest = self._newest
        if newest is not None:
            for dep_id, step in rows:
                if dep_id <= newest:
                    break
                if step < 0:
                    self._unseen.add(dep_id)
        self._newest = rows[0][0] if rows else newest

    def _forget_seen(self) -> None:
        if self._unseen and round(self.scroll_y) <= 0:
            self._unseen.clear()
        elif self._unseen:
            self._unseen = {d for d in self._unseen if d in self.state.deployments}

    def apply_changes(self, changes: Changes) -> None:
        """Bring the view up to date with what changed in the state."""
        state = self.state
        if changes.new_view:
            self._new_view = True
        if changes.structural:
            self._cache.clear()
            old_top = round(self.scroll_y)
            self._sync_size()
            key = self._cursor_key
            if (self._new_view or self._top_on_new_view) and state.loaded:
                # Another filter or team: keep the selected deployment if it is still
                # listed, else start at the top (refresh and "clear filters" always do).
                self._new_view = False
                self._unseen.clear()
                self._newest = state.rows[0][0] if state.rows else None
                if self._top_on_new_view:
                    self._top_on_new_view = False
                    self.cursor = 0
                    self.set_scroll(None, 0)
                elif key is not None and key[0] in state.deployments:
                    self.cursor = self._nearest(key)
                    self.scroll_cursor_visible(center=True)
                else:
                    self.cursor = 0
                    self.set_scroll(None, 0)
            else:
                self._note_arrivals()
                if key is not None:
                    self.cursor = self._nearest(key)
                if old_top > 0 and self._anchor is not None:
                    # Rows came or went above the view: keep the same rows in view.
                    self.set_scroll(None, self._nearest(self._anchor))
            self.cursor = min(self.cursor, max(len(state.rows) - 1, 0))
            self.scroll_cursor_visible()
            self._forget_seen()
            self._remember()
            self.refresh()
            self._announce()
            self._check_more()
            return
        if changes.dirty:
            # Re-render the changed rows that are on screen, and repaint only those whose
            # text or colours really changed (a step starting often changes nothing shown).
            top = round(self.scroll_y)
            bottom = min(top + self.size.height, len(state.rows))
            width = self.scrollable_content_region.width
            rows = state.rows
            for dep_id in changes.dirty:
                span = state.row_span(dep_id)
                if span is None:
                    continue
                start, count = span
                for y in range(max(start, top), min(start + count, bottom)):
                    row = rows[y]
                    cached = self._cache.get(row)
                    before = cached[1] if cached is not None else None
                    if self._row_strip(row, width, y == self.cursor) != before:
                        self.refresh_line(y)

    def tick(self) -> None:
        """Repaint the visible rows that time changed: running durations, "ago" labels.

        All of them in the same tick, so adjacent rows never look out of order.
        """
        rows = self.state.rows
        top = round(self.scroll_y)
        width = self.scrollable_content_region.width
        for y in range(top, min(top + self.size.height, len(rows))):
            row = rows[y]
            cached = self._cache.get(row)
            strip = self._row_strip(row, width, y == self.cursor)
            if cached is None or strip is not cached[1]:
                self.refresh_line(y)

    # -- actions -------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor - max(self.size.height - 1, 1))

    def action_page_down(self) -> None:
        self._move(self.cursor + max(self.size.height - 1, 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self.state.rows) - 1)

    def action_expand(self) -> None:
        row = self.cursor_row
        if row is None:
            return
        dep_id, step = row
        if step >= 0:
            return
        if dep_id in self.state.expanded:
            self._move(self.cursor + 1)
            return
        self._expand(dep_id)

    def action_collapse(self) -> None:
        row = self.cursor_row
        if row is None:
            return
        dep_id, step = row
        if step >= 0 or dep_id in self.state.expanded:
            self.state.collapse(dep_id)
            self._cursor_key = (dep_id, -1)
            self.apply_changes(self.state.take_changes())

    def action_toggle_expand(self) -> None:
        row = self.cursor_row
        if row is None:
            return
        dep_id, _ = row
        if dep_id in self.state.expanded:
            self.state.collapse(dep_id)
            self._cursor_key = (dep_id, -1)
            self.apply_changes(self.state.take_changes())
        else:
            self._expand(dep_id)

    def action_activate(self) -> None:
        row = self.cursor_row
        if row is None:
            return
        if row[1] < 0:
            self.action_toggle_expand()
        else:
            self.post_message(self.Activated(row))

    def _expand(self, dep_id: str) -> None:
        self.state.expand(dep_id)
        dep = self.state.deployments[dep_id]
        target: Row = (dep_id, -1)
        failed = dep.failed_step
        if failed is not None:
            # A failed deployment opens at its failed step: that is what the operator wants.
            target = (dep_id, dep.steps.index(failed))
        self._cursor_key = target
        self.apply_changes(self.state.take_changes())
        index = self.state.row_index(*target)
        if index is not None:
            self._move(index)
        span = self.state.row_span(dep_id)
        if span is not None:
            # Bring the whole expansion into view when it fits.
            start, count = span
            if count <= self.size.height:
                end = start + count
                if end > self.scroll_y + self.size.height:
                    self.scroll_to(y=end - self.size.height, animate=False)

    # -- events --------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = round(self.scroll_y) + offset.y
        if not 0 <= index < len(self.state.rows):
            return
        if index == self.cursor or offset.x < 2:
            self.action_toggle_expand()
        else:
            self._move(index)

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        self._sync_size()
        self._check_more()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._forget_seen()
        self._remember()
        self._check_more()

    # -- internals -----------------------------------------------------------------------

    def _sync_size(self) -> None:
        height = len(self.state.rows) + (0 if self.state.exhausted and not self.state.rows else 1)
        self.virtual_size = Size(self.scrollable_content_region.width, height)

    def _nearest(self, row: Row) -> int:
        rows = self.state.rows
        if not rows:
            return 0
        index = bisect_row(rows, *row)
        return min(index, len(rows) - 1)

    def _remember(self) -> None:
        rows = self.state.rows
        if not rows:
            return  # a list being reloaded: keep what was selected
        top = round(self.scroll_y)
        self._anchor = rows[top] if 0 <= top < len(rows) else None
        self._cursor_key = rows[self.cursor] if 0 <= self.cursor < len(rows) else None

    def _move(self, index: int, *, center: bool = False) -> None:
        rows = self.state.rows
        if not rows:
            return
        index = max(0, min(index, len(rows) - 1))
        old = self.cursor
        self.cursor = index
        self._cursor_key = rows[index]
        if old != index:
            self.refresh_line(old)
            self.refresh_line(index)
        self.scroll_cursor_visible(center=center)
        self._announce()
        self._check_more()

    def scroll_cursor_visible(self, *, center: bool = False) -> None:
        height = self.size.height
        if height <= 0:
            return
        top = round(self.scroll_y)
        if center:
            self.scroll_to(y=max(self.cursor - height // 2, 0), animate=False, immediate=True)
        elif self.cursor < top or (self.cursor == top and top > 0 and self.new_above):
            # Under the "▲ n new" marker a row is hidden: keep the cursor below it.
            target = self.cursor
            if target > 0 and any(
                (i := self.state.row_index(d, -1)) is not None and i < target for d in self._unseen
            ):
                target -= 1
            self.scroll_to(y=target, animate=False, immediate=True)
        else:
            # On the last row, the line under it ("— end of history —", "loading older
            # deployments…") comes into view too.
            bottom = self.cursor + (1 if self.cursor == len(self.state.rows) - 1 else 0)
            if bottom >= top + height:
                self.scroll_to(y=bottom - height + 1, animate=False, immediate=True)
        self._remember()

    def _columns_width(self, width: int) -> int:
        """The width the columns are laid out in: the same whether the scrollbar shows or
        not, so no column comes and goes (or moves) when a list grows past the screen."""
        bar = self.styles.scrollbar_size_vertical
        return max(min(width, self.size.width - bar), 1) if self.size.width > bar else width

    def repaint_deployment(self, dep_id: str) -> None:
        """Draw a deployment's row again (its watched mark changed)."""
        index = self.state.row_index(dep_id, -1)
        if index is not None:
            self._cache.pop((dep_id, -1), None)
            self.refresh_line(index)

    def _announce(self) -> None:
        row = self.cursor_row
        if row != self._announced:
            self._announced = row
            self.post_message(self.Highlighted(self, row))

    def _check_more(self) -> None:
        state = self.state
        if not state.loaded or state.exhausted or self.loading_more:
            return
        height = max(self.size.height, 10)
        if max(round(self.scroll_y) + height, self.cursor) + 2 * height >= len(state.rows):
            self.loading_more = True
            self.post_message(self.NeedMore())

    # -- rendering -----------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"deployment-list--{name}")

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_y) + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        rows = self.state.rows
        if y == 0 and self._unseen:
            count = self.new_above
            if count:
                return self._marker(count, width)
        if index < len(rows):
            strip = self._row_strip(rows[index], width, index == self.cursor)
        elif index == len(rows):
            strip = self._end_strip(width)
        else:
            return Strip.blank(width, base)
        return strip

    def _marker(self, count: int, width: int) -> Strip:
        # Mirrors the output pane's "▼ n new lines — End to follow".
        label = f" ▲ {count:,} new — Home "
        style = self._style("marker")
        return Strip([Segment(label, style)]).crop_extend(0, width, style)

    def _end_strip(self, width: int) -> Strip:
        state = self.state
        if not state.loaded:
            label = "  loading…"
        elif state.exhausted and state.rows:
            label = "  — end of history —"
        elif state.exhausted:
            label = (
                "  — no deployments —"
                if state.filter.is_empty
                else "  — nothing matches the filter (x clears it) —"
            )
        else:
            label = "  loading older deployments…"
        text = _cell(label, width, self._style("more"))
        return self._to_strip(text, width)

    def _to_strip(self, text: Text, width: int, post: Style | None = None) -> Strip:
        # One Strip per line: Strip objects are costly to make (each carries caches).
        if text.cell_len != width:
            text.truncate(width, overflow="ellipsis", pad=True)
        segments = Segment.apply_style(
            text.render(self.app.console), self.rich_style, post_style=post
        )
        return Strip(list(segments), width)

    def _row_strip(self, row: Row, width: int, is_cursor: bool) -> Strip:
        dep_id, step = row
        dep = self.state.deployments[dep_id]
        running = dep.status is DeploymentStatus.RUNNING
        if step >= 0 and step < len(dep.steps):
            running = dep.steps[step].status is StepStatus.RUNNING
        now = self.clock.now()
        # What changes with time: a running duration (every second) and the relative time
        # ("42s ago"); the key holds the label itself, so every row whose label moved is
        # repainted in the same tick (never some rows a minute behind their neighbours).
        tick = int(now.timestamp()) if running else 0
        when = relative_time(dep.created_at, now) if step < 0 else ""
        expanded = dep_id in self.state.expanded
        watched = step < 0 and dep_id in self.state.watched
        key = (dep, width, is_cursor, tick, expanded, when, watched)
        cached = self._cache.get(row)
        if cached is not None and cached[0] == key:
            return cached[1]
        if step < 0:
            text = self._deployment_text(dep, width, now, expanded, watched)
        else:
            text = self._step_text(dep, step, width, now)
        strip = self._to_strip(text, width, self._style("cursor") if is_cursor else None)
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        self._cache[row] = (key, strip)
        return strip

    def _status_cell(self, status: DeploymentStatus | StepStatus) -> Text:
        word = f"{status_glyph(status)} {status.value}"
        return _cell(word, _STATUS_WIDTH, self._style(status.value))

    def _step_status_cell(self, dep_status: DeploymentStatus, status: StepStatus) -> Text:
        shown = step_display_status(dep_status, status)
        if shown == NOT_RUN:
            # Never ran (an earlier step failed / the deployment was cancelled): dim, not "queued".
            return _cell(f"{GLYPHS[NOT_RUN]} {NOT_RUN}", _STATUS_WIDTH, self._style("dim"))
        return self._status_cell(status)

    def _deployment_text(
        self, dep: Deployment, width: int, now: datetime, expanded: bool, watched: bool = False
    ) -> Text:
        cols = _layout(self._columns_width(width))
        dim = self._style("dim")
        parts: list[Text] = [
            Text("▾" if expanded else "▸", style=dim, end=""),
            # Watched (w): told when it finishes.
            (
                Text("◎", style=self._style(dep.status.value), end="")
                if watched
                else Text(" ", end="")
            ),
            self._status_cell(dep.status),
            _cell(sanitize_line(dep.operation_name), cols.name - 1),
            Text(" ", end=""),
        ]
        # Each column keeps a one-cell gap after it, even when its text is cut short.
        if cols.type:
            parts.append(_cell(sanitize_line(dep.type), cols.type - 1, dim))
            parts.append(Text(" ", end=""))
        if cols.site:
            parts.append(_cell(sanitize_line(dep.site_domain or dep.site_id), cols.site - 1))
            parts.append(Text(" ", end=""))
        if cols.who:
            who = sanitize_line(dep.user_name or dep.user_id)
            if cols.who_short:
                who = _first_name(who)
            parts.append(_cell(who, cols.who - 1, dim))
            parts.append(Text(" ", end=""))
        if cols.when:
            parts.append(_cell(relative_time(dep.created_at, now), cols.when, dim, right=True))
        duration = dep.duration(now)
        # A deployment that failed at once lasted "0s": only an unknown duration is blank.
        parts.append(_cell(duration_text(duration) if duration is not None else "", 8, right=True))
        if dep.status.is_active:
            done, total = dep.progress
            # Right-aligned with a cell to spare: never against the pane's edge.
            parts.append(_cell(f"{done}/{total}", 5, self._style(dep.status.value), right=True))
            parts.append(Text(" ", end=""))
        else:
            parts.append(Text(" " * 6, end=""))
        return Text("", end="").join(parts)

    def _step_text(self, dep: Deployment, index: int, width: int, now: datetime) -> Text:
        if index >= len(dep.steps):
            return Text("")
        step: DeploymentStep = dep.steps[index]
        dim = self._style("dim")
        last = index == len(dep.steps) - 1
        lead = Text(("    └ " if last else "    ├ "), style=dim, end="")
        name_width = max(self._columns_width(width) - 6 - _STATUS_WIDTH - 8 - 6, 1)
        duration = step.duration(now)
        return Text("", end="").join(
            [
                lead,
                self._step_status_cell(dep.status, step.status),
                _cell(sanitize_line(step.name), name_width),
                _cell(duration_text(duration) if duration is not None else "", 8, right=True),
                Text(" " * 6, end=""),
            ]
        )
