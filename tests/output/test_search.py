"""Search: queries, matches per row, the fast bytes path, error lines, filtered rows."""

from __future__ import annotations

import pytest

from tui.output.feed import OutputHub
from tui.output.search import (
    ERROR_PATTERN,
    SearchError,
    SearchQuery,
    filter_rows,
    filter_sections,
    find_error_rows,
    find_matches_bytes,
    find_rows,
    scan_matches,
)
from tui.output.source import SEPARATOR, FeedSource

from .fakes import FakeOutputBackend

DEP = "01JDEPLOY0000000000000000A"


async def source_of(body: str) -> FeedSource:
    backend = FakeOutputBackend()
    backend.write(DEP, "s", body)
    feed = OutputHub(backend).feed(DEP, "s")
    await feed.load()
    return FeedSource(feed)


async def test_plain_and_regex_and_case() -> None:
    source = await source_of("Error one\nno\n\x1b[31mERR\x1b[0mOR two error\nerrors\n")
    assert list(scan_matches(source, SearchQuery("error"))) == [0, 2, 2, 3]
    assert list(scan_matches(source, SearchQuery("ERROR", case_sensitive=True))) == [2]
    assert list(scan_matches(source, SearchQuery(r"^err\w+$", regex=True))) == [3]
    # Non-ASCII text takes the regex path and agrees.
    source = await source_of("café\nCAFÉ\ncafe\n")
    assert list(scan_matches(source, SearchQuery("café"))) == [0, 1]
    with pytest.raises(SearchError):
        SearchQuery("([", regex=True).compile()
    with pytest.raises(SearchError):
        SearchQuery("").compile()


async def test_error_lines() -> None:
    lines = [
        "compiling",  # 0
        "ERROR: disk full",  # 1
        "0 errors",  # 2 (the word is there: still flagged, like less would find it)
        "process exited with code 0",  # 3
        "process exited with code 2",  # 4
        "Traceback (most recent call last):",  # 5
        "terror-free text",  # 6 (not a word match)
        "command returned non-zero exit status 1",  # 7
        "Fatal: bad object",  # 8
        "all good",  # 9
    ]
    source = await source_of("\n".join(lines) + "\n")
    assert list(find_rows(source.plain_blocks(), ERROR_PATTERN)) == [1, 2, 4, 5, 7, 8]
    assert list(find_error_rows(source.plain_byte_blocks())) == [1, 2, 4, 5, 7, 8]


async def test_fast_error_rows_agree_with_the_pattern() -> None:
    import random

    rng = random.Random(11)
    words = ["ok", "Error", "errors:", "FAILED", "exit code 0", "exit code 3", "panicked", "x"]
    body = "".join(" ".join(rng.choice(words) for _ in range(3)) + "\n" for _ in range(2000))
    source = await source_of(body)
    slow = find_rows(source.plain_blocks(), ERROR_PATTERN)
    assert list(find_error_rows(source.plain_byte_blocks())) == list(slow)
    assert len(slow) > 100


async def test_scan_from_a_row_reports_the_first_match_early() -> None:
    source = await source_of("".join(f"{'hit' if n % 3 == 0 else 'no'} {n}\n" for n in range(30)))
    rows = scan_matches(source, SearchQuery("hit"), start=10)
    assert list(rows) == list(range(0, 30, 3))
    seen: list[int] = []
    blocks = source.feed.plain_byte_blocks(10, None, block=20)
    rows = find_matches_bytes(blocks, b"HIT", case_sensitive=False, on_first=seen.append)
    assert seen == [12]
    assert list(rows) == list(range(12, 30, 3))


def test_filter_rows_context_and_separators() -> None:
    assert list(filter_rows([2, 2, 5], 10, 0)) == [2, 5]
    assert list(filter_rows([2, 5], 10, 1)) == [1, 2, 3, 4, 5, 6]
    assert list(filter_rows([0, 9], 10, 2)) == [0, 1, 2, SEPARATOR, 7, 8, 9]
    assert list(filter_rows([], 10, 2)) == []


async def test_regex_prefilter_agrees_with_the_full_regex_scan() -> None:
    import random

    from tui.output.search import _required_literal, find_matches

    rng = random.Random(3)
    words = ["img-123.jpg", "IMG-47.JPG", "img-7.png", "error", "\x1b[31mimg-9\x1b[0m7.jpg", "x"]
    body = "".join(" ".join(rng.choice(words) for _ in range(4)) + "\n" for _ in range(3000))
    source = await source_of(body)
    for text, case in [
        (r"img-\d+7\.jpg", False),
        (r"img-\d+7\.jpg", True),
        (r"(?:img|IMG)-4\d", True),
        (r"\.jpg$", False),
        (r"^error", False),
        (r"png\s+img", False),  # may cross lines: no prefilter
    ]:
        query = SearchQuery(text, regex=True, case_sensitive=case)
        slow = find_matches(source.plain_blocks(), query.compile())
        assert list(scan_matches(source, query)) == list(slow), text
    assert _required_literal(SearchQuery(r"img-\d+7\.jpg", regex=True)) == b"7.jpg"
    assert _required_literal(SearchQuery(r"img-\d", regex=True, case_sensitive=True)) == b"img-"
    assert _required_literal(SearchQuery(r"a|bcdef", regex=True)) is None
    assert _required_literal(SearchQuery(r"ab\ncdef", regex=True)) is None


def test_filter_sections_keep_context_inside_each_step() -> None:
    # Three steps: header rows 0, 10, 20; 30 rows in all.
    sections = [(0, 10), (10, 20), (20, 30)]
    # A match on the first line of step 2: no context from step 1, no step 1 header.
    assert list(filter_sections([11], sections, 2)) == [10, 11, 12, 13]
    # A match on step 2's last line: context stops at the step's end.
    assert list(filter_sections([19], sections, 2)) == [10, SEPARATOR, 17, 18, 19]
    assert list(filter_sections([2, 2, 25], sections, 0)) == [0, 2, 20, 25]
    assert list(filter_sections([1, 8], sections, 1)) == [0, 1, 2, SEPARATOR, 7, 8, 9]
    assert list(filter_sections([], sections, 2)) == []
