"""What an output view shows: rows of text, from one feed or from every step of a deployment.

A :class:`LineSource` is a read-only list of rows. :class:`FeedSource` shows one step's
feed; :class:`StepsSource` shows several steps one after another, each under a header row
(like ``gh run view --log``); :class:`FilteredSource` shows a subset of another source's rows
(the pager's "only matching lines" mode). Row texts are built on demand.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

from rich.text import Text

from backend_client.models import DeploymentStep, StepStatus
from tui.format import GLYPHS, NOT_RUN

from .feed import MAX_RENDER_BYTES, OutputFeed
from .text import safe_label

__all__ = [
    "SEPARATOR",
    "FeedSource",
    "FilteredSource",
    "LineSource",
    "StepsSource",
]

SEPARATOR = -1
"""A row of a :class:`FilteredSource` that stands for skipped lines (``--`` like grep)."""


class LineSource(Protocol):
    """Rows an :class:`~tui.output.view.OutputView` can draw."""

    @property
    def version(self) -> int:
        """Changes whenever rows change (grow, shift)."""
        ...

    @property
    def row_count(self) -> int: ...

    @property
    def live_rows(self) -> int:
        """Rows that arrived live (after the initial read), for "new lines" markers."""
        ...

    @property
    def max_width(self) -> int:
        """An upper bound of the widest row, in cells."""
        ...

    @property
    def last_line_number(self) -> int:
        """The largest line number shown in the gutter (sizes the gutter)."""
        ...

    @property
    def can_grow(self) -> bool:
        """Whether rows may still arrive (a step that may still print): following and
        "new lines" markers mean something only then."""
        ...

    def row_text(self, row: int) -> Text:
        """The styled text of a row (never modify it: it is cached)."""
        ...

    def row_plain(self, row: int) -> str:
        """The plain text of a row (search, copy)."""
        ...

    def line_number(self, row: int) -> int | None:
        """The 1-based output line number of a row, or ``None`` for headers and notices."""
        ...

    def plain_blocks(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str]]:
        """``(first row, text)`` blocks of consecutive searchable rows joined by ``\\n``,
        for rows ``[start, end)`` (every row a block starts on is in that range)."""
        ...

    def plain_byte_blocks(
        self, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """:meth:`plain_blocks` as UTF-8 (faster to scan for ASCII text)."""
        ...

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` after changes; returns the unsubscribe function."""
        ...


def _notice(feed: OutputFeed) -> Text | None:
    if feed.error is not None:
        return Text(f"⚠ {feed.error}", style="bold red", end="")
    if feed.truncated and feed.loaded and (feed.finished or not feed.loading):
        return Text(
            "⚠ Output cut short: the backend stopped storing it at its size limit.",
            style="bold yellow",
            end="",
        )
    return None


def _empty_text(feed: OutputFeed, settled: bool = False) -> Text:
    if not feed.loaded:
        return Text("Loading output…", style="dim italic", end="")
    if feed.finished or settled:
        return Text("(no output)", style="dim italic", end="")
    return Text("(no output yet)", style="dim italic", end="")


class FeedSource:
    """One step's output, a row per line, plus a notice row when it was cut short."""

    def __init__(self, feed: OutputFeed, *, settled: bool = False) -> None:
        self.feed = feed
        self.settled = settled
        """The step will not print anything (its deployment ended): no "yet" when empty."""

    @property
    def version(self) -> int:
        return self.feed.version

    @property
    def live_rows(self) -> int:
        return self.feed.live_lines

    @property
    def row_count(self) -> int:
        lines = self.feed.line_count
        notice = _notice(self.feed) is not None
        return max(lines, 0 if notice else 1) + notice

    @property
    def max_width(self) -> int:
        return min(self.feed.max_line_bytes, MAX_RENDER_BYTES) + 2

    @property
    def last_line_number(self) -> int:
        return self.feed.line_count

    @property
    def can_grow(self) -> bool:
        feed = self.feed
        step = feed.step
        return not (self.settled or feed.finished or (step is not None and step.status.is_finished))

    def row_text(self, row: int) -> Text:
        lines = self.feed.line_count
        if row < lines:
            return self.feed.line_text(row)
        if lines == 0 and row == 0 and _notice(self.feed) is None:
            return _empty_text(self.feed, self.settled)
        return _notice(self.feed) or Text("", end="")

    def row_plain(self, row: int) -> str:
        if row < self.feed.line_count:
            return self.feed.plain_line(row)
        return self.row_text(row).plain

    def line_number(self, row: int) -> int | None:
        return row + 1 if row < self.feed.line_count else None

    def plain_blocks(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str]]:
        return self.feed.plain_blocks(start, end)

    def plain_byte_blocks(
        self, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        return self.feed.plain_byte_blocks(start, end)

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        return self.feed.subscribe(lambda _feed: listener())


STATUS_COLOURS: Mapping[str, str] = {
    "queued": "dim",
    "running": "yellow",
    "completed": "green",
    "failed": "red",
    "cancelled": "magenta",
    "skipped": "dim",
}
"""Colour per status value when no theme gives its ``status-*`` colours (the pager passes
the theme's, as the dashboard uses)."""


def step_header(
    step: DeploymentStep,
    index: int,
    total: int,
    *,
    settled: bool = False,
    colours: Mapping[str, str] = STATUS_COLOURS,
) -> Text:
    """``━━ 2/5 ✘ Copy files · failed ━━``: a step's header row in a deployment's output.

    Glyphs are the dashboard's (:data:`tui.format.GLYPHS`).

    Args:
        step: The step (its status as last known).
        index: The step's 1-based position in its pipeline.
        total: The number of steps in the pipeline.
        settled: The deployment ended: a step still queued never ran and never will, so it
            reads "not run" rather than "queued" (its status stays ``queued`` in the data).
        colours: A colour per status value (the theme's ``status-*`` variables).
    """
    label = step.status.value
    glyph, style = GLYPHS.get(label, "?"), colours.get(label, "")
    if settled and step.status is StepStatus.QUEUED:
        # The dashboard's words for a step that never ran.
        glyph, style, label = GLYPHS[NOT_RUN], "dim", NOT_RUN
    text = Text(end="", no_wrap=True)
    text.append(f"━━ {index}/{total} ", style="bold")
    text.append(f"{glyph} ", style=f"bold {style}".strip())
    text.append_text(safe_label(step.name))
    text.stylize("bold")
    text.append(" · ")
    text.append(label, style=style)
    text.append(" ━━", style="bold")
    return text


class StepsSource:
    """Several steps' output in order, each under a header row.

    Args:
        parts: ``(step, feed)`` pairs in pipeline order.
        settled: The deployment ended: steps that never ran will not print anything
            (:meth:`settle` says so later, when it ends while shown).
        positions: Each part's ``(position, steps in the pipeline)`` for its header, when
            only some of the pipeline's steps are shown (default: ``i/len(parts)``).
    """

    colours: Mapping[str, str] = STATUS_COLOURS
    """A colour per status value for headers (the pager sets the theme's)."""

    def __init__(
        self,
        parts: Sequence[tuple[DeploymentStep, OutputFeed]],
        *,
        settled: bool = False,
        positions: Sequence[tuple[int, int]] | None = None,
    ) -> None:
        self.parts = list(parts)
        self.settled = settled
        self.positions = (
            list(positions)
            if positions is not None
            else [(i + 1, len(self.parts)) for i in range(len(self.parts))]
        )
        self._bases: list[int] = []
        self._listeners: list[Callable[[], None]] = []
        self._sources = [
            FeedSource(feed, settled=settled or step.status.is_finished)
            for step, feed in self.parts
        ]
        self._layout_key: tuple[int, ...] = ()
        self._settle_version = 0
        self._relayout()

    def settle(self, settled: bool = True) -> None:
        """The deployment ended (or, ``False``, runs again): steps that never ran will not
        print anything; headers read "not run"; nothing can grow. Listeners are told."""
        if settled == self.settled:
            return
        self.settled = settled
        for (step, _), source in zip(self.parts, self._sources, strict=True):
            source.settled = settled or step.status.is_finished
        self._settle_version += 1
        for listener in list(self._listeners):
            listener()

    def _relayout(self) -> None:
        key = tuple(source.feed.version for source in self._sources)
        if key == self._layout_key and self._bases:
            return
        self._layout_key = key
        bases = []
        row = 0
        for source in self._sources:
            bases.append(row)
            row += 1 + source.row_count
        self._bases = bases
        self._rows = row

    @property
    def version(self) -> int:
        return self._settle_version + sum(source.feed.version for source in self._sources)

    @property
    def live_rows(self) -> int:
        return sum(source.feed.live_lines for source in self._sources)

    @property
    def can_grow(self) -> bool:
        return not self.settled and any(source.can_grow for source in self._sources)

    @property
    def row_count(self) -> int:
        self._relayout()
        return self._rows

    @property
    def max_width(self) -> int:
        return max((source.max_width for source in self._sources), default=0)

    @property
    def last_line_number(self) -> int:
        return max((source.last_line_number for source in self._sources), default=0)

    def part_of_row(self, row: int) -> tuple[int, int]:
        """``(part index, row within the part's source)``; -1 is the part's header."""
        self._relayout()
        part = bisect_right(self._bases, row) - 1
        return part, row - self._bases[part] - 1

    def header_row(self, part: int) -> int:
        """The row of a part's header."""
        self._relayout()
        return self._bases[part]

    def row_text(self, row: int) -> Text:
        part, inner = self.part_of_row(row)
        if inner < 0:
            step, feed = self.parts[part]
            index, total = self.positions[part]
            return step_header(
                feed.step or step, index, total, settled=self.settled, colours=self.colours
            )
        return self._sources[part].row_text(inner)

    def row_plain(self, row: int) -> str:
        part, inner = self.part_of_row(row)
        if inner < 0:
            return self.row_text(row).plain
        return self._sources[part].row_plain(inner)

    def line_number(self, row: int) -> int | None:
        part, inner = self.part_of_row(row)
        return None if inner < 0 else self._sources[part].line_number(inner)

    def _ranges(self, start: int, end: int | None) -> Iterator[tuple[int, OutputFeed, int, int]]:
        """``(first row of lines, feed, first line, end line)`` of each part within rows."""
        self._relayout()
        stop = self._rows if end is None else end
        for base, source in zip(list(self._bases), self._sources, strict=True):
            lines_at = base + 1
            first = max(start - lines_at, 0)
            last = min(stop - lines_at, source.feed.line_count)
            if first < last:
                yield lines_at, source.feed, first, last

    def plain_blocks(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str]]:
        for lines_at, feed, first, last in self._ranges(start, end):
            for line, text in feed.plain_blocks(first, last):
                yield lines_at + line, text

    def plain_byte_blocks(
        self, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        for lines_at, feed, first, last in self._ranges(start, end):
            for line, data in feed.plain_byte_blocks(first, last):
                yield lines_at + line, data

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        unsubscribers = [source.subscribe(listener) for source in self._sources]
        self._listeners.append(listener)

        def unsubscribe() -> None:
            for unsub in unsubscribers:
                unsub()
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe


class FilteredSource:
    """A subset of another source's rows, in order, with separators between gaps.

    Args:
        base: The source filtered.
        rows: Sorted base rows to show (:data:`SEPARATOR` for a gap marker).
    """

    def __init__(self, base: LineSource, rows: array[int]) -> None:
        self.base = base
        self.rows = rows
        self._real = array("q", (r for r in rows if r != SEPARATOR))
        self._real_index = array("q", (i for i, r in enumerate(rows) if r != SEPARATOR))

    @property
    def version(self) -> int:
        return self.base.version

    @property
    def live_rows(self) -> int:
        return self.base.live_rows

    @property
    def row_count(self) -> int:
        return len(self.rows) or 1

    @property
    def max_width(self) -> int:
        return self.base.max_width

    @property
    def last_line_number(self) -> int:
        return self.base.last_line_number

    @property
    def can_grow(self) -> bool:
        return self.base.can_grow

    def base_row(self, row: int) -> int:
        """The base row shown at ``row`` (:data:`SEPARATOR` for a gap marker)."""
        return self.rows[row] if row < len(self.rows) else SEPARATOR

    def row_of_base(self, base_row: int) -> int:
        """The row showing ``base_row``, or the nearest one after it (the last row if none)."""
        index = bisect_left(self._real, base_row)
        if index >= len(self._real):
            return max(len(self.rows) - 1, 0)
        return self._real_index[index]

    def row_text(self, row: int) -> Text:
        if not self.rows:
            return Text("No matching lines.", style="dim italic", end="")
        base = self.base_row(row)
        if base == SEPARATOR:
            # Not "--": output lines may begin with "--" too (copied text keeps "--").
            return Text("┄" * 12, style="dim italic", end="")
        return self.base.row_text(base)

    def row_plain(self, row: int) -> str:
        base = self.base_row(row)
        return "--" if base == SEPARATOR else self.base.row_plain(base)

    def line_number(self, row: int) -> int | None:
        base = self.base_row(row)
        return None if base == SEPARATOR else self.base.line_number(base)

    def plain_blocks(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str]]:
        stop = len(self.rows) if end is None else min(end, len(self.rows))
        for row in range(start, stop):
            base = self.rows[row]
            if base != SEPARATOR:
                yield row, self.base.row_plain(base)

    def plain_byte_blocks(
        self, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        for row, text in self.plain_blocks(start, end):
            yield row, text.encode("utf-8")

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        return self.base.subscribe(listener)
