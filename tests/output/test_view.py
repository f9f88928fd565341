"""OutputView: follows the tail, stops when scrolled up, marker, End follows again."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.output import OutputHub, OutputView

from .fakes import FakeOutputBackend

DEP = "01JDEPLOY0000000000000000A"


class ViewApp(App[None]):
    def __init__(self, hub: OutputHub) -> None:
        super().__init__()
        self.hub = hub

    def compose(self) -> ComposeResult:
        yield OutputView(id="out")


def screen_text(app: App[None]) -> str:
    view = app.query_one(OutputView)
    return "\n".join(
        "".join(seg.text for seg in view.render_line(y)) for y in range(view.size.height)
    )


async def test_follows_stops_on_scroll_up_and_marks_new_lines() -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "s", "".join(f"line {n}\n" for n in range(100)))
    hub = OutputHub(backend)
    app = ViewApp(hub)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(OutputView)
        feed = hub.feed(DEP, "s")
        view.set_feed(feed)
        await feed.load()
        view.flush()
        await pilot.pause()
        assert view.following
        assert "line 99" in screen_text(app)
        hub.dispatch(backend.write(DEP, "s", "line 100\n"))
        view.flush()
        await pilot.pause()
        assert "line 100" in screen_text(app)
        view.focus()
        await pilot.press("pageup")
        assert not view.following
        for n in range(101, 138):
            hub.dispatch(backend.write(DEP, "s", f"line {n}\n"))
        view.flush()
        await pilot.pause()
        text = screen_text(app)
        assert "▼ 37 new lines — End to follow" in text
        assert "line 137" not in text
        await pilot.press("end")
        view.flush()
        await pilot.pause()
        assert view.following
        text = screen_text(app)
        assert "line 137" in text and "new lines" not in text


async def test_batches_many_appends_into_one_redraw() -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "s", "")
    hub = OutputHub(backend)
    app = ViewApp(hub)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(OutputView)
        feed = hub.feed(DEP, "s")
        await feed.load()
        view.set_feed(feed)
        for n in range(5000):
            hub.dispatch(backend.write(DEP, "s", f"burst {n}\n"))
        # Nothing redrawn yet: one timer flush is pending.
        assert view._flush_pending
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(view.flush_interval * 3)
        assert not view._flush_pending
        assert "burst 4999" in screen_text(app)


async def test_hostile_output_renders_only_text_and_colour() -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "s", "\x1b]52;c;UFdORUQ=\x07\x1b[31mred\x1b[0m\x1b[2J\x1bc [b]x[/b]\n")
    hub = OutputHub(backend)
    app = ViewApp(hub)
    async with app.run_test(size=(40, 5)) as pilot:
        view = app.query_one(OutputView)
        feed = hub.feed(DEP, "s")
        await feed.load()
        view.set_feed(feed)
        await pilot.pause()
        strip = view.render_line(0)
        text = "".join(seg.text for seg in strip)
        assert text.startswith("red [b]x[/b]")
        assert "\x1b" not in text
        assert any(seg.style and seg.style.color for seg in strip if seg.text == "red")


async def test_set_feed_none_shows_nothing_and_empty_feed_says_so() -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "s", "")
    hub = OutputHub(backend)
    app = ViewApp(hub)
    async with app.run_test(size=(40, 5)) as pilot:
        view = app.query_one(OutputView)
        feed = hub.feed(DEP, "s")
        await feed.load()
        view.set_feed(feed)
        await pilot.pause()
        assert "(no output yet)" in screen_text(app)
        view.set_feed(None)
        await pilot.pause()
        assert screen_text(app).strip() == ""


async def test_setting_the_same_feed_again_keeps_position() -> None:
    backend = FakeOutputBackend()
    backend.write(DEP, "s", "".join(f"line {n}\n" for n in range(100)))
    hub = OutputHub(backend)
    app = ViewApp(hub)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(OutputView)
        feed = hub.feed(DEP, "s")
        await feed.load()
        view.set_feed(feed)
        await pilot.pause()
        view.focus()
        await pilot.press("pageup", "pageup")
        top = view.scroll_offset.y
        assert not view.following
        view.set_feed(hub.feed(DEP, "s"))  # the dashboard re-selecting the same step
        await pilot.pause()
        assert not view.following and view.scroll_offset.y == top


async def test_marker_stays_visible_above_a_horizontal_scrollbar() -> None:
    from .screen_text import screen_text as whole_screen

    backend = FakeOutputBackend()
    backend.write(DEP, "s", "".join(f"line {n} " + "x" * 200 + "\n" for n in range(100)))
    hub = OutputHub(backend)
    app = ViewApp(hub)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(OutputView)
        feed = hub.feed(DEP, "s")
        await feed.load()
        view.set_feed(feed)
        await pilot.pause()
        assert "line 99 " in whole_screen(app)  # the last line is above the scrollbar
        view.focus()
        await pilot.press("pageup")
        hub.dispatch(backend.write(DEP, "s", "line 100\nline 101\n"))
        view.flush()
        await pilot.pause()
        assert "▼ 2 new lines — End to follow" in whole_screen(app)
