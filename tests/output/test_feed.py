"""OutputFeed / OutputHub: reading by range, applying events, the line index."""

from __future__ import annotations

import asyncio

from backend_client.models import StepStatus
from tui.output.feed import MAX_RENDER_BYTES, OutputFeed, OutputHub

from .fakes import FakeOutputBackend, make_deployment

DEP = "01JDEPLOY0000000000000000A"


async def test_load_reads_by_range_and_indexes_lines() -> None:
    backend = FakeOutputBackend()
    body = "".join(f"line {n}\n" for n in range(1000))
    backend.write(DEP, "step-1", body + "partial")
    feed = OutputFeed(backend, DEP, "step-1", read_chunk=1000)
    await feed.load()
    assert feed.loaded and feed.size == len(body) + len("partial")
    assert feed.line_count == 1001
    assert feed.line_bytes(0) == b"line 0"
    assert feed.line_bytes(999) == b"line 999"
    assert feed.plain_line(1000) == "partial"
    assert len(backend.reads) > 5  # really read by range
    assert all(limit == 1000 for *_, limit in backend.reads)
    assert feed.max_line_bytes == len("line 999")


async def test_events_append_dedupe_and_fill_gaps() -> None:
    backend = FakeOutputBackend()
    hub = OutputHub(backend)
    backend.write(DEP, "step-1", "one\n")
    feed = hub.feed(DEP, "step-1")
    await feed.load()
    seen: list[int] = []
    feed.subscribe(lambda f: seen.append(f.line_count))
    ev = backend.write(DEP, "step-1", "two\nthr")
    hub.dispatch(ev)
    hub.dispatch(ev)  # duplicate: ignored
    assert feed.line_count == 3 and feed.plain_line(2) == "thr"
    assert seen == [3]
    # A lost event leaves a gap: the next one triggers a re-read of the missing range.
    backend.write(DEP, "step-1", "ee\nfour\n")  # never dispatched
    hub.dispatch(backend.write(DEP, "step-1", "five\n"))
    assert feed.line_count == 3  # not applied out of order
    await asyncio.wait_for(feed.load(), 2)
    assert [feed.plain_line(i) for i in range(feed.line_count)] == [
        "one",
        "two",
        "three",
        "four",
        "five",
    ]
    # Events for steps nobody watches are ignored cheaply.
    hub.dispatch(backend.write(DEP, "step-9", "x"))
    assert hub.get(DEP, "step-9") is None


async def test_event_racing_the_initial_read_is_not_lost() -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "step-1", "a\n")
    backend.gate = asyncio.Event()
    hub = OutputHub(backend)
    feed = hub.feed(DEP, "step-1")
    await asyncio.sleep(0)
    hub.dispatch(backend.write(DEP, "step-1", "b\n"))  # offset 2 while we hold 0 bytes
    backend.gate.set()
    await asyncio.wait_for(feed.load(), 2)
    assert feed.plain_text() == "a\nb"


async def test_partial_line_redraws_and_progress_is_resolved() -> None:
    backend = FakeOutputBackend()
    hub = OutputHub(backend)
    feed = hub.feed(DEP, "step-1")
    backend.write(DEP, "step-1", "")
    await feed.load()
    hub.dispatch(backend.write(DEP, "step-1", "downloading  10%"))
    assert feed.line_text(0).plain == "downloading  10%"
    hub.dispatch(backend.write(DEP, "step-1", "\rdownloading 100%\n"))
    assert feed.line_count == 1
    assert feed.line_text(0).plain == "downloading 100%"


async def test_finished_and_truncated_flags() -> None:
    backend = FakeOutputBackend()
    deployment = make_deployment([("Copy files", StepStatus.RUNNING)])
    backend.write(DEP, "step-1", "x\n")
    backend.truncated.add((DEP, "step-1"))
    hub = OutputHub(backend)
    feed = hub.feed(DEP, "step-1")
    await feed.load()
    assert feed.truncated and not feed.finished
    hub.dispatch(backend.finish(deployment, "step-1", StepStatus.FAILED))
    assert feed.finished


async def test_read_errors_are_kept_not_raised() -> None:
    backend = FakeOutputBackend()
    feed = OutputHub(backend).feed(DEP, "missing")
    await feed.load()
    assert feed.error is not None and "no output" in feed.error
    assert feed.line_count == 0


async def test_lines_are_sanitized_and_clipped() -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "step-1", "\x1b]52;c;SGVsbG8=\x07\x1b[31mred\x1b[0m\n" + "x" * 50_000)
    feed = OutputHub(backend).feed(DEP, "step-1")
    await feed.load()
    text = feed.line_text(0)
    assert text.plain == "red" and text.spans
    assert len(feed.line_text(1).plain) < MAX_RENDER_BYTES + 10
    assert len(feed.plain_line(1)) == 50_000


async def test_plain_blocks_cover_every_line_once() -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "step-1", "".join(f"\x1b[1m{n}\x1b[0m\n" for n in range(5000)))
    feed = OutputHub(backend).feed(DEP, "step-1")
    await feed.load()
    lines: list[str] = []
    for first, text in feed.plain_blocks(block=1000):
        assert first == len(lines)
        lines.extend(text.split("\n"))
    assert lines == [str(n) for n in range(5000)]


async def test_hub_evicts_least_recently_used_unwatched_feeds() -> None:
    backend = FakeOutputBackend()
    hub = OutputHub(backend, max_feeds=2)
    first = hub.feed(DEP, "a")
    unsubscribe = first.subscribe(lambda f: None)
    hub.feed(DEP, "b")
    hub.feed(DEP, "c")
    assert hub.get(DEP, "a") is first  # watched: kept
    assert hub.get(DEP, "b") is None
    unsubscribe()
    hub.feed(DEP, "d")
    assert hub.get(DEP, "a") is None
    hub.close()
    assert len(hub) == 0


async def test_byte_blocks_match_text_blocks_on_hostile_output() -> None:
    import random

    rng = random.Random(7)
    pieces = ["ok ", "\x1b[31m", "\x1b[0m", "\x1b]0;t\x07", "\r", "é", "\x9b2J", "needle", "\t"]
    body = "".join(
        "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) + "\n" for _ in range(3000)
    )
    backend = FakeOutputBackend()
    backend.write(DEP, "s", body)
    feed = OutputHub(backend).feed(DEP, "s")
    await feed.load()
    text = [t for _, t in feed.plain_blocks(block=2000)]
    data = [d.decode("utf-8") for _, d in feed.plain_byte_blocks(block=2000)]
    assert text == data
    # Blocks agree with sanitizing each line on its own (the str path).
    per_line = [feed.plain_line(i) for i in range(feed.line_count)]
    assert "\n".join(text).split("\n") == per_line
    assert all("\x1b" not in line and "\r" not in line for line in per_line)


async def test_unexpected_transport_errors_become_a_notice() -> None:
    class Broken(FakeOutputBackend):
        async def read_output(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            raise RuntimeError("socket closed")

    feed = OutputHub(Broken()).feed(DEP, "s")
    await feed.load()
    assert feed.error == "could not read output: RuntimeError: socket closed"
    assert feed.loaded


async def test_colour_carries_over_line_ends_like_a_terminal() -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "s", "plain\n\x1b[31mred starts\nstill red\n")
    hub = OutputHub(backend)
    feed = hub.feed(DEP, "s")
    await feed.load()
    hub.dispatch(backend.write(DEP, "s", "red too\x1b[0m then plain\nplain again\n\x1b[1;32mgr"))
    hub.dispatch(backend.write(DEP, "s", "een\nbold green\n"))

    def colour(line: int, offset: int = 0) -> str:
        spans = [s for s in feed.line_text(line).spans if s.start <= offset < s.end]
        return " ".join(str(s.style) for s in spans)

    assert colour(0) == ""
    assert "color(1)" in colour(1) and "color(1)" in colour(2) and "color(1)" in colour(3)
    assert colour(3, len("red too ") + 2) == ""  # after the reset
    assert colour(4) == ""
    assert "color(2)" in colour(6) and "bold" in colour(6)
    assert feed.colour_at(4) == "" and feed.colour_at(6) == "\x1b[1;32m"
    assert feed.plain_line(2) == "still red"


async def test_one_very_long_colour_code_leaves_no_stray_characters() -> None:
    # A single SGR code longer than the kept state used to leave "m" behind (find() gave
    # -1), which then showed at the start of every later line.
    huge = "\x1b[" + "1;" * 300 + "31m"
    backend = FakeOutputBackend()
    backend.write(DEP, "s", f"\x1b[32mgreen\n{huge}long\nnext\nafter\n")
    hub = OutputHub(backend)
    feed = hub.feed(DEP, "s")
    await feed.load()
    for line in range(1, 4):
        state = feed.colour_at(line)
        assert state == "" or (state.startswith("\x1b[") and state.endswith("m")), state
        assert feed.line_text(line).plain == ("long", "next", "after")[line - 1]
    hub.dispatch(backend.write(DEP, "s", "\x1b[33mx\n" + huge + "\nlast\n"))
    assert feed.line_text(feed.line_count - 1).plain == "last"


def test_hub_watchers_get_step_and_deployment_snapshots_of_their_deployment() -> None:
    backend = FakeOutputBackend()
    hub = OutputHub(backend)
    deployment = make_deployment(
        [("Build", StepStatus.RUNNING), ("Deploy", StepStatus.QUEUED)], deployment_id=DEP
    )
    other = make_deployment([("Build", StepStatus.RUNNING)], deployment_id=DEP[:-1] + "B")
    seen: list[object] = []
    unwatch = hub.watch(DEP, seen.append)
    # No feed was asked for: watchers hear of every step of the deployment anyway.
    step_event = backend.finish(deployment, "step-2", StepStatus.COMPLETED)
    hub.dispatch(step_event)
    hub.dispatch(backend.finish(other, "step-1", StepStatus.COMPLETED))  # not watched
    deployment_event = backend.update(deployment)
    hub.dispatch(deployment_event)
    hub.dispatch(backend.write(DEP, "step-1", "output\n"))  # output is for feeds only
    assert seen == [step_event.step, deployment]
    assert len(hub) == 0  # watching creates no feed
    unwatch()
    unwatch()  # twice is harmless
    hub.dispatch(backend.update(deployment))
    assert len(seen) == 2
