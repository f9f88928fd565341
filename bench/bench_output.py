"""Benchmarks of step output: big outputs in the pager, search, filter, live following.

Prints:
- opening a 1M-line (~100 MB) output in the pager: time to the first screen, time until the
  whole output is indexed, and RSS growth relative to the output's size (goal: <= 1 s,
  <= 2x);
- search across the 1M lines: the full scan that finds every match (what ``n`` waits for
  once) and then each ``n`` (goal <= 200 ms);
- filter to the matching lines (goal <= 1 s);
- following a step that writes 10,000 lines a second: lag between the backend appending a
  line and the screen showing it, p50/p95/max (goal <= 250 ms), and CPU used.

Run: ``python -m bench.bench_output [--lines 1000000] [--rate 10000] [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import time
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from backend_client.models import DeploymentStatus, StepStatus
from tests.output.fakes import FakeOutputBackend, make_deployment
from tui.output import OutputHub, OutputView, PagerScreen
from tui.output.search import SearchQuery, filter_rows, find_error_rows, scan_matches
from tui.output.source import FeedSource, FilteredSource

DEP = "01JBENCH00000000000000000A"
PAGE = 4096


def rss() -> int:
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * PAGE


def make_output(lines: int) -> bytes:
    """~100 bytes a line, some colour, a rare "needle" and some error lines."""
    parts = []
    for n in range(lines):
        if n % 100_000 == 99_999:
            parts.append(f"\x1b[1;31mERROR\x1b[0m needle {n}: upload failed, retrying".ljust(99))
        elif n % 10 == 0:
            parts.append(
                f"\x1b[32m[{n:>8}]\x1b[0m copy wp-content/uploads/2026/{n % 12:02d}/img-{n}.jpg"
                f" … done ({n % 977} kB)".ljust(99)
            )
        else:
            parts.append(
                f"[{n:>8}] sync wp-content/plugins/plugin-{n % 53}/file-{n}.php ok"
                f" checksum={n * 2654435761 % 2**32:08x}".ljust(99)
            )
    return ("\n".join(parts) + "\n").encode()


class BenchApp(App[None]):
    def __init__(self, hub: OutputHub) -> None:
        super().__init__()
        self.hub = hub

    def compose(self) -> ComposeResult:
        yield Static("dashboard")
        yield OutputView(id="out")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_open_and_search(lines: int) -> None:
    backend = FakeOutputBackend()
    data = make_output(lines)
    backend.outputs[(DEP, "step-1")] = bytearray(data)
    backend.finished.add((DEP, "step-1"))
    del data
    gc.collect()
    size = len(backend.outputs[(DEP, "step-1")])
    deployment = make_deployment(
        [("Copy files", StepStatus.COMPLETED)], deployment_id=DEP, status=DeploymentStatus.COMPLETED
    )
    hub = OutputHub(backend)
    app = BenchApp(hub)
    print(f"output: {lines:,} lines, {size / 1e6:.1f} MB")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        before = rss()
        started = time.perf_counter()
        screen = PagerScreen(hub, deployment, step_id="step-1")
        app.push_screen(screen)
        view: OutputView | None = None
        first_screen = None
        while True:
            await asyncio.sleep(0.005)
            if view is None:
                try:
                    view = screen.view
                except Exception:
                    continue
            source = view.source
            if first_screen is None and source is not None and source.row_count > view.size.height:
                # Render the whole visible screen once: that is the first screen.
                for y in range(view.size.height):
                    view.render_line(y)
                first_screen = time.perf_counter() - started
            feed = hub.get(DEP, "step-1")
            if feed is not None and feed.loaded and not feed.loading:
                break
        indexed = time.perf_counter() - started
        if first_screen is None:
            first_screen = indexed
        await pilot.pause()
        gc.collect()
        growth = rss() - before
        print(
            f"open: first screen {first_screen * 1000:.0f} ms,"
            f" fully indexed {indexed * 1000:.0f} ms"
        )
        print(
            f"memory: RSS +{growth / 1e6:.1f} MB for a {size / 1e6:.1f} MB output"
            f" = {growth / size:.2f}x (goal <= 2x)"
        )
        feed = hub.get(DEP, "step-1")
        assert feed is not None and feed.line_count == lines
        source = FeedSource(feed)

        for label, query in (
            ("rare term 'needle'", SearchQuery("needle")),
            ("common term 'done' (10% of lines)", SearchQuery("done")),
            ("regex 'img-\\d+00\\.jpg'", SearchQuery(r"img-\d+00\.jpg", regex=True)),
            ("regex 'rsync|upl.ad' (no literal)", SearchQuery(r"rsync|upl.ad", regex=True)),
            ("case-sensitive 'ERROR'", SearchQuery("ERROR", case_sensitive=True)),
        ):
            t0 = time.perf_counter()
            matches = scan_matches(source, query)
            scan = time.perf_counter() - t0
            t0 = time.perf_counter()
            filtered = FilteredSource(source, filter_rows(matches, source.row_count, 0))
            filter_time = time.perf_counter() - t0 + scan
            print(
                f"search {label}: {len(matches):,} matches, full scan {scan * 1000:.0f} ms;"
                f" filter to {filtered.row_count:,} rows {filter_time * 1000:.0f} ms"
            )
        t0 = time.perf_counter()
        errors = find_error_rows(source.plain_byte_blocks())
        print(f"error lines: {len(errors):,} found in {(time.perf_counter() - t0) * 1000:.0f} ms")

        # In the pager: from the middle of the output, search for a rare term.
        view = screen.view
        view.scroll_to_row(lines // 2 + 2, context=0)
        await pilot.pause()
        top = view.top_row
        t0 = time.perf_counter()
        screen._start_search(SearchQuery("needle"), jump=True)
        while view.top_row == top and screen._searching:
            await asyncio.sleep(0.001)
        for y in range(view.size.height):
            view.render_line(y)
        first_match = time.perf_counter() - t0
        while screen._searching:
            await asyncio.sleep(0.002)
        counted = time.perf_counter() - t0
        timings = []
        for _ in range(9):
            t0 = time.perf_counter()
            screen.action_next_match()
            for y in range(view.size.height):
                view.render_line(y)
            timings.append(time.perf_counter() - t0)
        print(
            f"pager: search 'needle' from the middle: next match on screen"
            f" {first_match * 1000:.0f} ms, all {len(screen._matches)} counted"
            f" {counted * 1000:.0f} ms; then each n p50 {statistics.median(timings) * 1000:.1f} ms,"
            f" max {max(timings) * 1000:.1f} ms"
        )
        t0 = time.perf_counter()
        screen.action_toggle_filter()
        for y in range(view.size.height):
            view.render_line(y)
        print(
            f"pager: toggle filter (10 matching lines) {(time.perf_counter() - t0) * 1000:.0f} ms"
        )
        screen.action_toggle_filter()
        t0 = time.perf_counter()
        screen._start_search(SearchQuery("done"), jump=False)
        while screen._searching:
            await asyncio.sleep(0.002)
        screen.action_toggle_filter()
        for y in range(view.size.height):
            view.render_line(y)
        print(
            f"pager: search 'done' + filter to {len(screen._matches):,} lines"
            f" {(time.perf_counter() - t0) * 1000:.0f} ms"
        )
    hub.close()


async def bench_follow(rate: int, seconds: float) -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "live", "")
    hub = OutputHub(backend)
    app = BenchApp(hub)
    produced: list[tuple[float, int]] = []  # (time, last line number written)
    shown: list[tuple[float, int]] = []  # (time, last line number visible)
    original_render = OutputView.render_line

    def render_line(self: OutputView, y: int) -> Any:
        strip = original_render(self, y)
        if self.id == "out" and y == self.size.height - 1 and self.source is not None:
            # The line number of the last row drawn: its text starts with "line N".
            text = "".join(segment.text for segment in strip)
            if text.startswith("line "):
                shown.append((time.perf_counter(), int(text.split()[1])))
        return strip

    OutputView.render_line = render_line  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            view = app.query_one(OutputView)
            feed = hub.feed(DEP, "live")
            await feed.load()
            view.set_feed(feed)
            await pilot.pause()
            cpu0 = time.process_time()
            wall0 = time.perf_counter()
            line = 0
            deadline = wall0 + seconds
            while (now := time.perf_counter()) < deadline:
                # Write what is due at ``rate`` lines a second since the start.
                due = int((now - wall0) * rate) - line
                if due > 0:
                    chunk = "".join(
                        f"line {n} copying file {n} of many\n" for n in range(line, line + due)
                    )
                    hub.dispatch(backend.write(DEP, "live", chunk))
                    line += due
                    produced.append((time.perf_counter(), line - 1))
                await asyncio.sleep(0.005)
            await pilot.pause(0.3)
            cpu = time.process_time() - cpu0
            wall = time.perf_counter() - wall0
    finally:
        OutputView.render_line = original_render  # type: ignore[method-assign]
    lags = []
    index = 0
    for at, number in produced:
        while index < len(shown) and (shown[index][1] < number or shown[index][0] < at):
            index += 1
        if index >= len(shown):
            break
        lags.append(shown[index][0] - at)
    actual_rate = produced[-1][1] / (produced[-1][0] - produced[0][0])
    print(
        f"follow: {actual_rate:,.0f} lines/s for {seconds:.0f} s; lag to screen p50"
        f" {percentile(lags, 0.5) * 1000:.0f} ms, p95 {percentile(lags, 0.95) * 1000:.0f} ms,"
        f" max {max(lags) * 1000:.0f} ms ({len(lags)}/{len(produced)} batches seen);"
        f" CPU {cpu / wall * 100:.0f}% of a core (producer included)"
    )
    hub.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    asyncio.run(bench_open_and_search(args.lines))
    asyncio.run(bench_follow(args.rate, args.seconds))


if __name__ == "__main__":
    main()
