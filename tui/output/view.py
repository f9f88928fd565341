"""OutputView: a line-API widget that shows step output and follows it while it grows.

Only visible rows are rendered (through the feed's text cache and a strip cache). Changes
from the feed are batched: the widget redraws at most every :attr:`OutputView.flush_interval`
seconds however fast lines arrive, so a step printing 10,000 lines a second costs a redraw
of one screen ~15 times a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from .feed import OutputFeed
from .source import FeedSource, LineSource

__all__ = ["OutputView"]


class OutputView(ScrollView, can_focus=True):
    """Shows one output (a :class:`~tui.output.feed.OutputFeed` or any ``LineSource``).

    While :attr:`following`, new lines scroll into view. Scrolling up stops following; End
    (or ``F``, as in less) follows again. While not following, a marker on the last row
    counts the lines that arrived since.
    """

    ALLOW_SELECT = True

    DEFAULT_CSS = """
    OutputView {
        background: $surface;
        color: $text;
        overflow: auto auto;
        &:focus { background-tint: $foreground 4%; }
    }
    OutputView > .output-view--gutter { color: $text-muted; }
    OutputView > .output-view--marker { background: $accent; color: $text; text-style: bold; }
    OutputView > .output-view--match { background: $warning 35%; }
    OutputView > .output-view--current-match {
        background: $warning; color: $background; text-style: bold;
    }
    OutputView > .output-view--current-line { background: $accent 30%; }
    """

    COMPONENT_CLASSES = {
        "output-view--gutter",
        "output-view--marker",
        "output-view--match",
        "output-view--current-match",
        "output-view--current-line",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("end,F", "follow", "Follow", id="output-view.follow"),
        # The same keys once nothing can arrive (the Follow binding is then hidden): the end.
        Binding("end,F", "bottom", "Bottom", show=False, id="output-view.bottom"),
        Binding("home", "top", "Top", show=False, id="output-view.top"),
        Binding("up", "scroll_up", "Up", show=False, id="output-view.up"),
        Binding("down", "scroll_down", "Down", show=False, id="output-view.down"),
        Binding("left", "scroll_left", "Left", show=False, id="output-view.left"),
        Binding("right", "scroll_right", "Right", show=False, id="output-view.right"),
        Binding("pageup", "page_up", "Page up", show=False, id="output-view.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="output-view.page_down"),
    ]

    following: var[bool] = var(True, init=False)
    """Whether new lines scroll into view."""
    wrap: var[bool] = var(False, init=False)
    """Wrap long lines instead of scrolling sideways."""
    line_numbers: var[bool] = var(False, init=False)
    """Show output line numbers in a gutter."""

    flush_interval: float = 1 / 15
    """Seconds between redraws while output arrives (changes are batched in between)."""

    class FollowChanged(Message):
        """Following was turned on or off."""

        def __init__(self, view: OutputView, following: bool) -> None:
            super().__init__()
            self.view = view
            self.following = following

        @property
        def control(self) -> OutputView:
            return self.view

    def __init__(
        self,
        feed: OutputFeed | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._source: LineSource | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._strips: LRUCache[int, Strip] = LRUCache(1024)
        self._wrap_layout: tuple[tuple[int, int, int, int], list[tuple[int, int, Strip]]] | None
        self._wrap_layout = None
        self._bottom_top: tuple[tuple[int, int, int], int] | None = None
        self._flush_pending = False
        self._version_seen = -1
        self._live_mark = 0
        self._scrolling = False  # our own scroll_to calls, not the user's
        self._highlight: re.Pattern[str] | None = None
        self._current: tuple[int, int] | None = None
        self._marked: int | None = None
        self._initial_feed = feed
        self._could_grow = False

    # -- public API ----------------------------------------------------------------------

    @property
    def source(self) -> LineSource | None:
        """What the view shows."""
        return self._source

    @property
    def new_rows(self) -> int:
        """Rows that arrived while not following."""
        if self.following or self._source is None:
            return 0
        return max(self._source.live_rows - self._live_mark, 0)

    def set_feed(self, feed: OutputFeed | None) -> None:
        """Show a step's output (``None``: show nothing), following its tail.

        Showing the feed already shown changes nothing (following, position, marker stay).
        """
        current = self._source
        if feed is not None and isinstance(current, FeedSource) and current.feed is feed:
            return
        self.set_source(FeedSource(feed) if feed is not None else None)

    def set_source(self, source: LineSource | None, *, follow: bool = True) -> None:
        """Show any line source; ``follow`` scrolls to its end and keeps following."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._source = source
        self._marked = None
        if source is not None and self.is_attached:
            self._unsubscribe = source.subscribe(self._source_changed)
        self._reset_caches()
        self._version_seen = source.version if source is not None else -1
        self._live_mark = source.live_rows if source is not None else 0
        self._could_grow = self.can_grow
        if self.is_attached:
            self.refresh_bindings()
        self._set_following(follow)
        self._update_virtual_size()
        with self._own_scroll():
            if follow:
                self._scroll_to_end()
            else:
                self.scroll_to(0, 0, animate=False, immediate=True, force=True)
        self.refresh()

    def set_highlight(
        self, pattern: re.Pattern[str] | None, current: tuple[int, int] | None = None
    ) -> None:
        """Highlight every match of ``pattern``; ``current`` is (row, n-th match in row)."""
        self._highlight = pattern
        self._current = current
        self._reset_caches()
        self.refresh()

    @property
    def marked_row(self) -> int | None:
        """The row marked as the current line (``None``: none)."""
        return self._marked

    def mark_row(self, row: int | None) -> None:
        """Mark ``row`` as the current line (the line a jump went to): a tinted background,
        and ``▶`` in the line number gutter. ``None`` removes the mark; so does a new source."""
        if row != self._marked:
            self._marked = row
            self._wrap_layout = None
            self.refresh()

    def scroll_to_row(self, row: int, *, context: int = 3) -> None:
        """Stop following and bring ``row`` into view, ``context`` rows below the top."""
        self._set_following(False)
        height = max(self._visible_size().height, 1)
        rows = self._row_count()
        if self.wrap:
            target = max(0, min(row - min(context, height // 3), rows))
        else:
            top = self.scroll_offset.y
            if top <= row < top + height - 1:
                self.refresh()
                return
            target = max(0, row - min(context, height // 3))
        with self._own_scroll():
            self.scroll_to(y=target, animate=False, immediate=True, force=True)
        self.refresh()

    @property
    def top_row(self) -> int:
        """The first visible row."""
        return self.scroll_offset.y

    def flush(self) -> None:
        """Apply pending source changes now (the batch timer normally does this)."""
        self._flush_pending = False
        self._apply_changes()

    # -- actions -------------------------------------------------------------------------

    def action_follow(self) -> None:
        """Stick to the bottom and follow new lines."""
        self._set_following(True)
        with self._own_scroll():
            self._scroll_to_end()
        self.refresh()

    def action_bottom(self) -> None:
        """Go to the last line (what End does when the output cannot grow)."""
        self.action_follow()

    def action_top(self) -> None:
        self._set_following(False)
        self.scroll_to(y=0, animate=False, immediate=True, force=True)

    @property
    def can_grow(self) -> bool:
        """Whether the output shown may still grow (following means something)."""
        return self._source is not None and self._source.can_grow

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "Follow" is hidden (and End goes to the end) when nothing more can arrive.
        if action == "follow":
            return self.can_grow
        if action == "bottom":
            return not self.can_grow
        return True

    # -- internals -----------------------------------------------------------------------

    def on_mount(self) -> None:
        if self._initial_feed is not None:
            self.set_feed(self._initial_feed)
            self._initial_feed = None
        elif self._source is not None and self._unsubscribe is None:
            self._unsubscribe = self._source.subscribe(self._source_changed)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _own_scroll(self) -> _OwnScroll:
        return _OwnScroll(self)

    def _set_following(self, value: bool) -> None:
        if self.following != value:
            self.following = value
            if not value and self._source is not None:
                self._live_mark = self._source.live_rows
            self.post_message(self.FollowChanged(self, value))

    def _reset_caches(self) -> None:
        self._strips.clear()
        self._wrap_layout = None
        self._bottom_top = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._reset_caches()

    def watch_wrap(self) -> None:
        self._reset_caches()
        self._update_virtual_size()
        if self.following:
            with self._own_scroll():
                self._scroll_to_end()
        self.refresh()

    def watch_line_numbers(self) -> None:
        self._reset_caches()
        self._update_virtual_size()
        self.refresh()

    def on_resize(self) -> None:
        self._reset_caches()
        self._update_virtual_size()
        if self.following:
            with self._own_scroll():
                self._scroll_to_end()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._wrap_layout = None
        if self._scrolling:
            return
        at_end = new_value >= self.max_scroll_y
        if new_value < old_value and self.following and not at_end:
            self._set_following(False)
        elif new_value > old_value and not self.following and at_end:
            # The operator scrolled back to the bottom: follow again.
            self._set_following(True)
            self.refresh()

    def _source_changed(self) -> None:
        if not self._flush_pending and self.is_attached:
            self._flush_pending = True
            self.set_timer(self.flush_interval, self.flush, name="output-flush")

    def _apply_changes(self) -> None:
        source = self._source
        if source is None or not self.is_attached:
            return
        version = source.version
        if version == self._version_seen:
            return
        self._version_seen = version
        if self.can_grow != self._could_grow:
            self._could_grow = self.can_grow
            self.refresh_bindings()  # "Follow" shows only while output can grow
        self._reset_caches()
        self._update_virtual_size()
        if self.following:
            with self._own_scroll():
                self._scroll_to_end()
        self.refresh()

    def _visible_size(self) -> Size:
        """The size of the area rows are drawn in (scrollbars excluded)."""
        return self.scrollable_content_region.size

    def _row_count(self) -> int:
        return self._source.row_count if self._source is not None else 0

    def _gutter_width(self) -> int:
        if not self.line_numbers or self._source is None:
            return 0
        return len(str(max(self._source.last_line_number, 1))) + 1

    def _update_virtual_size(self) -> None:
        rows = self._row_count()
        if self.wrap:
            visible = self._visible_size()
            height = max(visible.height, 1)
            self.virtual_size = Size(visible.width, self._wrap_bottom_top() + height)
        else:
            width = self._gutter_width() + (self._source.max_width if self._source else 0)
            self.virtual_size = Size(width, rows)

    def _scroll_to_end(self) -> None:
        self._scroll_to_end_now()
        # Scrollbars appear at the next layout and may hide the last rows: scroll again then.
        self.call_after_refresh(self._refollow)

    def _refollow(self) -> None:
        if self.following:
            with self._own_scroll():
                self._scroll_to_end_now()

    def _scroll_to_end_now(self) -> None:
        if self.wrap:
            target = self._wrap_bottom_top()
        else:
            target = max(0, self._row_count() - self._visible_size().height, self.max_scroll_y)
        self.scroll_to(x=0, y=target, animate=False, immediate=True, force=True)

    # -- rendering -----------------------------------------------------------------------

    def _content_strip(self, row: int) -> Strip:
        """A row's text (with search highlights) as an uncropped strip (cached)."""
        strip = self._strips.get(row)
        if strip is not None:
            return strip
        assert self._source is not None
        text = self._source.row_text(row)
        if self._highlight is not None and self._source.line_number(row) is not None:
            # Only output lines: headers and notices are not searched, so not highlighted.
            text = self._highlighted(text, row, self._highlight)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(row)) is not None:
            start, end = span
            text = text.copy()
            style = self.screen.get_component_rich_style("screen--selection")
            text.stylize(style, start, len(text) if end == -1 else end)
        strip = Strip(text.render(self.app.console), text.cell_len)
        self._strips[row] = strip
        return strip

    def _highlighted(self, text: Text, row: int, pattern: re.Pattern[str]) -> Text:
        matches = [m for m in pattern.finditer(text.plain) if m.end() > m.start()]
        if not matches:
            return text
        text = text.copy()
        match_style = self.get_component_rich_style("output-view--match", partial=True)
        current_style = self.get_component_rich_style("output-view--current-match", partial=True)
        current = self._current
        for index, match in enumerate(matches):
            is_current = current is not None and current == (row, index)
            text.stylize(current_style if is_current else match_style, *match.span())
        return text

    def _gutter(self, row: int, width: int, first: bool = True) -> Strip:
        assert self._source is not None
        number = self._source.line_number(row) if first else None
        label = f"{number:>{width - 1}} " if number is not None else " " * width
        style = self.get_component_rich_style("output-view--gutter")
        if row == self._marked and first:
            label = label[:-1] + "▶"
            style += self.get_component_rich_style("output-view--current-line")
        return Strip([Segment(label, style)], width)

    def _mark(self, strip: Strip, row: int) -> Strip:
        """The current line gets a tinted background (and ``▶`` in the line number gutter).

        Applied before the widget's own style, which would otherwise paint over it."""
        if row != self._marked:
            return strip
        return strip.apply_style(self.get_component_rich_style("output-view--current-line"))

    def _marker(self, width: int) -> Strip:
        count = self.new_rows
        noun = "line" if count == 1 else "lines"
        if self.can_grow:
            label = f" ▼ {count:,} new {noun} — End to follow "
        else:  # nothing more can arrive: there is nothing to follow
            label = f" ▼ {count:,} new {noun} below "
        style = self.get_component_rich_style("output-view--marker")
        return Strip([Segment(label, style)]).crop_extend(0, width, style)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base_style = self.rich_style
        if y == self._visible_size().height - 1 and self.new_rows > 0:
            return self._marker(width)
        if self._source is None:
            return Strip.blank(width, base_style)
        if self.wrap:
            return self._render_wrapped(y, width, base_style)
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        if row >= self._source.row_count:
            return Strip.blank(width, base_style)
        gutter = self._gutter_width()
        content_width = max(width - gutter, 0)
        strip = self._content_strip(row)
        strip = strip.crop_extend(scroll_x, scroll_x + content_width, None)
        strip = self._mark(strip, row)
        strip = strip.apply_style(base_style).apply_offsets(scroll_x, row)
        if gutter:
            strip = Strip.join([self._gutter(row, gutter), strip])
        return strip

    def _wrap_parts(self, row: int, width: int) -> list[Strip]:
        strip = self._content_strip(row)
        if strip.cell_length <= width or width <= 0:
            return [strip]
        cuts = [*range(width, strip.cell_length, width), strip.cell_length]
        return list(strip.divide(cuts))

    def _wrap_bottom_top(self) -> int:
        """The top row that shows the last rows exactly filling the screen when wrapped."""
        rows = self._row_count()
        visible = self._visible_size()
        height = max(visible.height, 1)
        width = max(visible.width - self._gutter_width(), 1)
        key = (rows, width, height)
        if self._bottom_top is not None and self._bottom_top[0] == key:
            return self._bottom_top[1]
        used = 0
        top = rows
        while top > 0:
            need = len(self._wrap_parts(top - 1, width))
            if used + need > height:
                break
            used += need
            top -= 1
        top = min(top, max(rows - 1, 0))
        self._bottom_top = (key, top)
        return top

    def _render_wrapped(self, y: int, width: int, base_style: Style) -> Strip:
        assert self._source is not None
        gutter = self._gutter_width()
        top = self.scroll_offset.y
        visible = self._visible_size()
        content_width = max(visible.width - gutter, 1)
        key = (top, visible.width, visible.height, gutter)
        if self._wrap_layout is None or self._wrap_layout[0] != key:
            layout: list[tuple[int, int, Strip]] = []
            row = top
            rows = self._source.row_count
            while len(layout) < visible.height and row < rows:
                x = 0
                for part in self._wrap_parts(row, content_width):
                    layout.append((row, x, part))
                    x += part.cell_length
                row += 1
            self._wrap_layout = (key, layout)
        layout = self._wrap_layout[1]
        if y >= len(layout):
            return Strip.blank(width, base_style)
        row, x, part = layout[y]
        strip = self._mark(part.crop_extend(0, content_width, None), row)
        strip = strip.apply_style(base_style).apply_offsets(x, row)
        if gutter:
            strip = Strip.join([self._gutter(row, gutter, first=x == 0), strip])
        return strip

    # -- selection -----------------------------------------------------------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text (plain), for Textual's copy (ctrl+c) and the pager's copy key."""
        if self._source is None:
            return None
        rows = self._source.row_count
        start_row = selection.start.y if selection.start is not None else 0
        end_row = selection.end.y if selection.end is not None else rows - 1
        end_row = min(end_row, rows - 1)
        if end_row < start_row:
            return None
        lines = [self._source.row_plain(row) for row in range(start_row, end_row + 1)]
        if selection.end is not None:
            lines[-1] = lines[-1][: selection.end.x]
        if selection.start is not None:
            lines[0] = lines[0][selection.start.x :]
        return "\n".join(lines), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self._reset_caches()
        self.refresh()


class _OwnScroll:
    """Marks scrolls made by the view itself, so they are not taken as the operator's."""

    def __init__(self, view: OutputView) -> None:
        self.view = view

    def __enter__(self) -> None:
        self.view._scrolling = True

    def __exit__(self, *_: object) -> None:
        self.view._scrolling = False
