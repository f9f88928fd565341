"""Searching output: queries, every match of a query, error lines, filtered row lists.

Pure functions over ``(first row, text)`` blocks (see ``LineSource.plain_blocks``), so the
pager can run them in a thread worker over a million lines.
"""

from __future__ import annotations

import importlib
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .source import SEPARATOR, LineSource

__all__ = [
    "ERROR_PATTERN",
    "SearchError",
    "SearchQuery",
    "filter_rows",
    "filter_sections",
    "find_error_rows",
    "find_matches",
    "find_matches_bytes",
    "find_matches_prefiltered",
    "find_rows",
    "scan_matches",
]

ERROR_PATTERN = re.compile(
    r"\b(?:errors?|fatal|failed|failure|exception|traceback|panic(?:ked)?)\b"
    r"|non-zero exit|exit(?:ed)?(?: with)? (?:code|status):? *[1-9]\d*"
    r"|returned non-zero",
    re.IGNORECASE | re.MULTILINE,
)
"""What counts as an error line: error, fatal, failed, exception, traceback, non-zero exit,
exit code N (N ≠ 0)."""


# Every error line contains one of these (lower-cased): a cheap prefilter before the regex.
_ERROR_KEYWORDS = (
    b"error",
    b"fatal",
    b"fail",
    b"exception",
    b"traceback",
    b"panic",
    b"non-zero",
    b"exit",
)


# Regex sources that may match a newline (then a match could span lines): no prefilter.
_MAY_CROSS_LINES = ("\\n", "\\s", "\\W", "\\D", "[^", "(?s", "\\x0a", "\\x0A", "\\012", "\\Z")
# ASCII letters that match a non-ASCII character case-insensitively (U+0130, U+0131,
# U+212A, U+017F): a lower-cased bytes search would miss those.
_UNICODE_FOLDED = frozenset(b"iksIKS")


def _required_literal(query: SearchQuery) -> bytes | None:
    """A literal (ASCII, 3+ characters) every match of a regex query must contain, if the
    pattern has one at its top level and cannot match across lines."""
    if not query.regex or any(token in query.text for token in _MAY_CROSS_LINES):
        return None
    parser: Any = importlib.import_module("re._parser")
    flags = 0 if query.case_sensitive else re.IGNORECASE
    try:
        items = list(parser.parse(query.text, flags))
    except re.error:
        return None
    literal = parser.LITERAL
    best: list[int] = []
    run: list[int] = []
    for op, value in [*items, (None, None)]:
        usable = (
            op is literal
            and isinstance(value, int)
            and 32 <= value < 127
            and (query.case_sensitive or value not in _UNICODE_FOLDED)
        )
        if usable:
            run.append(value)
            continue
        if len(run) > len(best):
            best = run
        run = []
    return bytes(best) if len(best) >= 3 else None


class SearchError(ValueError):
    """A query that cannot be searched (an invalid regular expression, an empty query)."""


@dataclass(frozen=True)
class SearchQuery:
    """What the operator searches for."""

    text: str
    regex: bool = False
    """Treat ``text`` as a regular expression (otherwise a plain substring)."""
    case_sensitive: bool = False

    def compile(self) -> re.Pattern[str]:
        """The compiled pattern.

        Raises:
            SearchError: empty text, or an invalid regular expression.
        """
        if not self.text:
            raise SearchError("Nothing to search for.")
        flags = re.MULTILINE | (0 if self.case_sensitive else re.IGNORECASE)
        source = self.text if self.regex else re.escape(self.text)
        try:
            return re.compile(source, flags)
        except re.error as error:
            raise SearchError(f"Invalid regular expression: {error}") from None

    def describe(self) -> str:
        """``/text/ (regex, case)`` for the status line."""
        mode = ["regex" if self.regex else "text", "Aa" if self.case_sensitive else "aA"]
        return f"{self.text}  [{', '.join(mode)}]"


Cancelled = Callable[[], bool]


def find_matches(
    blocks: Iterable[tuple[int, str]],
    pattern: re.Pattern[str],
    *,
    cancelled: Cancelled | None = None,
    on_first: Callable[[int], None] | None = None,
) -> array[int]:
    """The row of every (non-empty) match, in order: one entry per match.

    Args:
        blocks: ``(first row, text)`` blocks, rows joined by ``\\n``.
        pattern: A compiled pattern (MULTILINE so ``^``/``$`` work per row).
        cancelled: Polled between blocks; stop early when it returns True.
        on_first: Called with the row of the first match, as soon as it is found.
    """
    rows = array("q")
    append = rows.append
    for first, text in blocks:
        if cancelled is not None and cancelled():
            break
        if on_first is not None and rows:
            on_first(rows[0])
            on_first = None
        row = first
        last = 0
        count = text.count
        for match in pattern.finditer(text):
            start = match.start()
            if start == match.end():
                continue
            row += count("\n", last, start)
            last = start
            append(row)
    return rows


def find_matches_bytes(
    blocks: Iterable[tuple[int, bytes]],
    needle: bytes,
    *,
    case_sensitive: bool,
    cancelled: Cancelled | None = None,
    on_first: Callable[[int], None] | None = None,
) -> array[int]:
    """:func:`find_matches` for a plain ASCII needle over UTF-8 blocks (no regex engine:
    ``bytes.find``, on a lower-cased copy when case does not matter)."""
    rows = array("q")
    append = rows.append
    if not case_sensitive:
        needle = needle.lower()
    step = len(needle)
    for first, data in blocks:
        if cancelled is not None and cancelled():
            break
        if on_first is not None and rows:
            on_first(rows[0])
            on_first = None
        hay = data if case_sensitive else data.lower()
        find = hay.find
        count = hay.count
        row = first
        last = 0
        pos = find(needle)
        while pos >= 0:
            row += count(b"\n", last, pos)
            last = pos
            append(row)
            pos = find(needle, pos + step)
    return rows


def find_matches_prefiltered(
    blocks: Iterable[tuple[int, bytes]],
    pattern: re.Pattern[str],
    literal: bytes,
    *,
    case_sensitive: bool,
    cancelled: Cancelled | None = None,
    on_first: Callable[[int], None] | None = None,
) -> array[int]:
    """:func:`find_matches` for a regex with a required literal: ``bytes.find`` picks the
    lines holding the literal, the regex runs on those lines only."""
    rows = array("q")
    append = rows.append
    needle = literal if case_sensitive else literal.lower()
    for first, data in blocks:
        if cancelled is not None and cancelled():
            break
        if on_first is not None and rows:
            on_first(rows[0])
            on_first = None
        hay = data if case_sensitive else data.lower()
        find = hay.find
        row = first
        last = 0
        pos = find(needle)
        while pos >= 0:
            row += hay.count(b"\n", last, pos)
            start = hay.rfind(b"\n", 0, pos) + 1
            end = find(b"\n", pos)
            end = len(hay) if end < 0 else end
            last = end
            line = data[start:end].decode("utf-8", "replace")
            for match in pattern.finditer(line):
                if match.end() > match.start():
                    append(row)
            pos = find(needle, end)
    return rows


def scan_matches(
    source: LineSource,
    query: SearchQuery,
    *,
    start: int = 0,
    on_first: Callable[[int], None] | None = None,
    cancelled: Cancelled | None = None,
) -> array[int]:
    """Every match of ``query`` in ``source``, choosing the fastest scan for the query.

    Scans from row ``start`` to the end first, calling ``on_first(row)`` as soon as a match
    is found (so the pager can jump before the count is known), then the rows before.

    Raises:
        SearchError: the query cannot be compiled.
    """
    pattern = query.compile()

    literal = _required_literal(query)

    def scan(first: int, end: int | None) -> array[int]:
        if literal is not None:
            return find_matches_prefiltered(
                source.plain_byte_blocks(first, end),
                pattern,
                literal,
                case_sensitive=query.case_sensitive,
                cancelled=cancelled,
                on_first=on_first,
            )
        if not query.regex and query.text.isascii():
            return find_matches_bytes(
                source.plain_byte_blocks(first, end),
                query.text.encode("ascii"),
                case_sensitive=query.case_sensitive,
                cancelled=cancelled,
                on_first=on_first,
            )
        return find_matches(
            source.plain_blocks(first, end), pattern, cancelled=cancelled, on_first=on_first
        )

    after = scan(start, None)
    if start <= 0:
        return after
    if after:
        on_first = None
    before = scan(0, start)
    before.extend(after)
    return before


def find_rows(
    blocks: Iterable[tuple[int, str]],
    pattern: re.Pattern[str],
    *,
    cancelled: Cancelled | None = None,
) -> array[int]:
    """Each row holding at least one match, once, in order."""
    rows = array("q")
    append = rows.append
    for first, text in blocks:
        if cancelled is not None and cancelled():
            break
        row = first
        last = 0
        pos = 0
        search = pattern.search
        find = text.find
        count = text.count
        while True:
            match = search(text, pos)
            if match is None:
                break
            start = match.start()
            row += count("\n", last, start)
            last = start
            append(row)
            newline = find("\n", match.end() if match.end() > start else start)
            if newline < 0:
                break
            # Count the newline we skip over on the next iteration.
            pos = newline + 1
    return rows


def find_error_rows(
    blocks: Iterable[tuple[int, bytes]], *, cancelled: Cancelled | None = None
) -> array[int]:
    """Rows that look like errors (:data:`ERROR_PATTERN`), each once, in order.

    Finds candidate lines with ``bytes.find`` on keywords, then checks only those lines with
    the pattern: an alternation scanned over a whole output is ~10x slower.
    """
    rows = array("q")
    for first, data in blocks:
        if cancelled is not None and cancelled():
            break
        hay = data.lower()
        hits: list[int] = []
        for keyword in _ERROR_KEYWORDS:
            find = hay.find
            pos = find(keyword)
            while pos >= 0:
                hits.append(pos)
                # Skip the rest of this line: one hit per line and keyword is enough.
                newline = find(b"\n", pos)
                if newline < 0:
                    break
                pos = find(keyword, newline + 1)
        if not hits:
            continue
        hits.sort()
        row = first
        last = 0
        previous_row = -1
        for pos in hits:
            row += hay.count(b"\n", last, pos)
            last = pos
            if row == previous_row:
                continue
            previous_row = row
            start = hay.rfind(b"\n", 0, pos) + 1
            end = hay.find(b"\n", pos)
            line = data[start : end if end >= 0 else len(data)].decode("utf-8", "replace")
            if ERROR_PATTERN.search(line):
                rows.append(row)
    return rows


def filter_rows(match_rows: Iterable[int], row_count: int, context: int = 0) -> array[int]:
    """The rows to show in "only matching lines" mode: each matching row once, with
    ``context`` rows around it and (with context) a :data:`SEPARATOR` where rows are skipped."""
    out = array("q")
    append = out.append
    shown_until = -1  # last row already in ``out``
    previous = -1
    for row in match_rows:
        if row == previous:
            continue
        previous = row
        start = max(row - context, shown_until + 1, 0)
        end = min(row + context, row_count - 1)
        if start > end:
            continue
        if out and context and start > shown_until + 1:
            append(SEPARATOR)
        if context == 0:
            append(row)
        else:
            out.extend(range(start, end + 1))
        shown_until = end
    return out


def filter_sections(
    match_rows: Sequence[int], sections: Sequence[tuple[int, int]], context: int = 0
) -> array[int]:
    """:func:`filter_rows` per step: each step with matches under its header row.

    Context never crosses a step's bounds (a step's last lines are not shown as context
    of the next step's first match), and a step without matches is left out, header and
    all.

    Args:
        match_rows: Sorted matching rows (never header rows).
        sections: ``(header row, end row)`` of each step, ascending; a step's lines are the
            rows after its header, up to ``end`` (excluded).
        context: Rows shown around each match.
    """
    out = array("q")
    append = out.append
    for header, end in sections:
        low = bisect_left(match_rows, header + 1)
        high = bisect_left(match_rows, end)
        if low >= high:
            continue
        append(header)
        shown_until = header  # last row already in ``out``
        previous = -1
        for index in range(low, high):
            row = match_rows[index]
            if row == previous:
                continue
            previous = row
            start = max(row - context, shown_until + 1)
            stop = min(row + context, end - 1)
            if start > stop:
                continue
            if context and start > shown_until + 1:
                append(SEPARATOR)
            out.extend(range(start, stop + 1))
            shown_until = stop
    return out
