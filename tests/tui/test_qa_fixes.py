"""Fixes from the operator QA pass: each test pins one of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from textual.binding import Binding
from textual.color import Color
from textual.containers import VerticalScroll
from textual.widgets import Button, Static
from textual.widgets._footer import FooterKey

from backend_client.clock import utc
from backend_client.events import ConnectionState, ConnectionStatus
from backend_client.models import Deployment, DeploymentStatus, DeploymentStep, StepStatus
from tui.format import NOT_RUN, relative_time, step_display_status
from tui.headless import _describe
from tui.keys import keymap_conflicts
from tui.screens.cancel import CancelScreen
from tui.themes import STATUS_DEFAULTS, STATUS_DEFAULTS_LIGHT, status_defaults
from tui.widgets.deployment_list import DeploymentList, _layout
from tui.widgets.detail import DetailPane, deployment_fields, step_fields
from tui.widgets.footer import DashboardFooter, fit_bindings
from tui.widgets.header import StatusHeader

from .helpers import (
    World,
    advance_until,
    make_app,
    open_cancel_dialog,
    ready,
    run_until_finished,
    trigger,
    wait_for,
)

T0 = utc(2026, 11, 26, 12, 0, 0)


def failed_at_first_step() -> Deployment:
    """A failed deployment whose first step failed and whose other two never ran."""
    dep_id = "01D" + "0" * 23
    statuses = [StepStatus.FAILED, StepStatus.QUEUED, StepStatus.QUEUED]
    return Deployment(
        id=dep_id,
        team_id="T1",
        user_id="U",
        user_name="Ada Lovelace",
        site_id="S",
        type="backup_site",
        status=DeploymentStatus.FAILED,
        operation_name="op",
        created_at=T0,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=3),
        steps=[
            DeploymentStep(
                id=f"{dep_id}-s{i}",
                deployment_id=dep_id,
                name=f"step {i}",
                status=status,
                sort_order=i + 1,
                started_at=T0 if i == 0 else None,
                finished_at=T0 + timedelta(seconds=3) if i == 0 else None,
            )
            for i, status in enumerate(statuses)
        ],
    )


def test_step_display_status_says_not_run_only_when_the_deployment_is_over() -> None:
    for finished in (
        DeploymentStatus.FAILED,
        DeploymentStatus.CANCELLED,
        DeploymentStatus.COMPLETED,
    ):
        assert step_display_status(finished, StepStatus.QUEUED) == NOT_RUN == "not run"
        assert step_display_status(finished, StepStatus.FAILED) == "failed"
    for active in (DeploymentStatus.QUEUED, DeploymentStatus.RUNNING):
        assert step_display_status(active, StepStatus.QUEUED) == "queued"
    assert step_display_status(DeploymentStatus.RUNNING, StepStatus.RUNNING) == "running"


def test_a_running_step_shows_the_output_bytes_received_so_far() -> None:
    dep = failed_at_first_step()
    running = dep.steps[0].model_copy(update={"status": StepStatus.RUNNING, "output_size": 0})
    fields = dict(step_fields(dep, running, T0, {}, received=1408))
    assert fields["Output"].plain == "1,408 bytes so far"
    # Still reading what came before the pane opened: no count that the tail contradicts.
    reading = dict(step_fields(dep, running, T0, {}, received=0, reading=True))
    assert reading["Output"].plain == "reading…"
    # Finished: the record's size is the whole output; a partial read never shows less.
    done = dep.steps[0].model_copy(update={"output_size": 5000})
    assert dict(step_fields(dep, done, T0, {}, received=1408))["Output"].plain == "5,000 bytes"


def test_the_team_field_names_the_team() -> None:
    dep = failed_at_first_step()
    fields = dict(deployment_fields(dep, T0, {}, team_name="Acme Agency"))
    assert fields["Team"].plain == "Acme Agency  (T1)"
    assert dict(deployment_fields(dep, T0, {}))["Team"].plain == "T1"  # name unknown: the id


def test_detail_and_headless_show_say_not_run() -> None:
    dep = failed_at_first_step()
    fields = dict(step_fields(dep, dep.steps[1], T0, {}))
    assert fields["Status"].plain == "\u2013 not run"
    assert dict(step_fields(dep, dep.steps[0], T0, {}))["Status"].plain == "✘ failed"
    lines = list(_describe(dep, T0))
    step_lines = lines[lines.index("steps:") + 1 :]
    assert "failed" in step_lines[0] and "not run" not in step_lines[0]
    assert all("not run" in line and "queued" not in line for line in step_lines[1:])


async def test_list_step_rows_say_not_run_for_steps_that_never_ran() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        d = await trigger(w, fail_step="Export database")
        await run_until_finished(pilot, w, screen, d.id)
        dep = screen.state.deployments[d.id]
        never_ran = [i for i, s in enumerate(dep.steps) if s.status is StepStatus.QUEUED]
        assert never_ran, "the forced failure must leave steps that never ran"
        lst = screen.query_one(DeploymentList)
        lst.select((d.id, -1))
        await pilot.press("enter")
        await pilot.pause()
        for i in never_ran:
            text = lst._row_strip((d.id, i), 120, False).text
            assert "not run" in text and "queued" not in text


# --- 1. new deployments above the view are announced -------------------------------------------


async def test_new_deployments_above_the_view_show_a_marker_until_home() -> None:
    w = World(history=200)
    app = make_app(w)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        lst = screen.query_one(DeploymentList)
        await pilot.press("pagedown", "pagedown", "down")
        await pilot.pause()
        assert round(lst.scroll_y) > 0
        assert "new" not in lst.render_line(0).text
        cursor_row = lst.cursor_row
        first = await trigger(w, "create_snapshot")
        second = await trigger(w, "create_snapshot")
        await wait_for(pilot, lambda: second.id in state.deployments)
        await wait_for(pilot, lambda: first.id in state.deployments)
        await pilot.pause()
        assert lst.new_above == 2
        assert lst.render_line(0).text.startswith(" ▲ 2 new — Home ")
        assert lst.cursor_row == cursor_row  # the view did not move
        await pilot.press("home")
        await pilot.pause()
        assert lst.new_above == 0 and round(lst.scroll_y) == 0
        assert lst.cursor_row == (second.id, -1)
        assert "▲" not in lst.render_line(0).text


async def test_the_cursor_never_hides_under_the_marker() -> None:
    w = World(history=200)
    app = make_app(w)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        lst = screen.query_one(DeploymentList)
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        top = round(lst.scroll_y)
        lst.select(state.rows[top])  # the cursor on the first line of the view
        await pilot.pause()
        dep = await trigger(w, "create_snapshot")
        await wait_for(pilot, lambda: dep.id in state.deployments)
        await pilot.pause()
        assert lst.new_above >= 1
        assert lst.cursor > round(lst.scroll_y)  # below the marker line


async def test_refresh_and_clear_filters_go_to_the_top() -> None:
    w = World(history=200)
    app = make_app(w)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        lst = screen.query_one(DeploymentList)
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert lst.cursor > 0
        await pilot.press("r")
        await wait_for(pilot, lambda: not lst._top_on_new_view)  # the fresh listing landed
        await pilot.pause()
        assert lst.cursor == 0 and lst.cursor_row == state.rows[0]
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert lst.cursor > 0
        await pilot.press("x")
        await wait_for(pilot, lambda: state.loaded and bool(state.rows))
        await pilot.pause()
        assert lst.cursor == 0 and round(lst.scroll_y) == 0


def contrast(a: Color, b: Color) -> float:
    """WCAG contrast ratio of two opaque colours."""

    def luminance(c: Color) -> float:
        def channel(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


async def test_the_scrollbar_thumb_stands_out_in_every_bundled_theme() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await ready(pilot)
        lst = screen.query_one(DeploymentList)
        for theme in ("deploytop-dark", "deploytop-light", "textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            background = lst.styles.scrollbar_background
            thumb = background + lst.styles.scrollbar_color  # blended as drawn
            assert contrast(thumb, background) >= 3.0, theme  # Textual default: 1.5-2.1


# --- 2. the cancel dialog follows its deployment to the end ------------------------------------


async def test_cancel_dialog_says_finished_even_when_the_deployment_left_the_view() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        state = screen.state
        await pilot.press("a")  # the active view: a finished deployment leaves it
        dep, dialog = await open_cancel_dialog(pilot, w, screen)
        what = dialog.query_one("#cancel-what", Static)
        assert "is running now and will be stopped" in str(what.render())
        w.store.release(dep.id)
        await advance_until(pilot, w, lambda: dep.id not in state.deployments)
        await wait_for(pilot, lambda: "nothing to cancel" in str(what.render()))
        assert str(what.render()) == "It finished (completed) — nothing to cancel."
        assert dialog.query_one("#yes", Button).disabled
        assert dialog.query_one("#no", Button).has_focus
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, CancelScreen))


# --- 3. narrow terminals ----------------------------------------------------------------------


def footer_text(app: Any) -> str:
    footer = app.screen.query_one(DashboardFooter)
    keys = footer.query(FooterKey)
    return "  ".join(f"{k.key_display} {k.description}".strip() for k in keys)


async def test_help_and_quit_stay_in_the_footer_at_80_columns() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.pause()
        text = footer_text(app)
        assert "? Help" in text and "^q Quit" in text, text
        assert "c Cancel" in text
        # What is shown fits on the line: no key reaches under the palette key.
        footer = app.screen.query_one(DashboardFooter)
        keys = [k for k in footer.query(FooterKey) if not k.has_class("-command-palette")]
        palette = next(k for k in footer.query(FooterKey) if k.has_class("-command-palette"))
        assert max(k.region.right for k in keys) <= palette.region.x
        await pilot.resize_terminal(160, 30)
        await wait_for(pilot, lambda: "Expand/collapse" in footer_text(app))
        assert "/ Search" in footer_text(app) and "? Help" in footer_text(app)


def test_fit_bindings_shortens_then_drops_the_least_important() -> None:
    entries = [
        (
            Binding("space", "toggle", "Expand/collapse", id="list.toggle"),
            "space",
            "Expand/collapse",
        ),
        (Binding("t", "team", "Team", id="team"), "t", "Team"),
        (Binding("?", "help", "Help", id="help"), "?", "Help"),
        (Binding("ctrl+q", "quit", "Quit", id="quit"), "^q", "Quit"),
    ]
    assert fit_bindings(entries, 200) == entries
    shortened = fit_bindings(entries, 40)
    assert [d for _, _, d in shortened] == ["Expand", "Team", "Help", "Quit"]
    dropped = fit_bindings(entries, 31)
    assert [b.id for b, _, _ in dropped] == ["list.toggle", "help", "quit"]
    tiny = fit_bindings(entries, 5)
    assert [b.id for b, _, _ in tiny] == ["help", "quit"]


async def test_the_header_keeps_team_and_filter_on_a_narrow_terminal() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        header = screen.query_one(StatusHeader)
        header.backend_label = "http://deploy-backend.internal.example.com:8765"
        await pilot.press("f")
        await wait_for(pilot, lambda: screen.state.loaded)
        await pilot.pause()
        screen.state.connection = ConnectionStatus(
            state=ConnectionState.OFFLINE,
            attempt=4,
            since=w.clock.now(),
            next_retry_at=w.clock.now() + timedelta(seconds=12),
        )
        line = header._line().plain
        assert len(line) == 80
        team = screen.state.team
        assert team is not None
        assert f"│ {team.name} │ status: failed │" in line, line
        assert "✕ offline" in line and "◐ " in line
        # Wide: the long forms.
        await pilot.resize_terminal(200, 24)
        await pilot.pause()
        wide = header._line().plain
        assert "http://deploy-backend.internal.example.com:8765" in wide
        assert "running ·" in wide and "✕ offline · last update" in wide


async def test_every_row_names_who_triggered_it_at_80_columns() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        lst = screen.query_one(DeploymentList)
        for y in range(5):
            dep_id, _ = screen.state.rows[y]
            dep = screen.state.deployments[dep_id]
            assert dep.user_name
            first = dep.user_name.split()[0]
            assert f" {first} " in lst.render_line(y).text


# --- 4. the columns use the width ---------------------------------------------------------------


def test_the_operation_column_grows_with_the_width() -> None:
    # 80 columns: who and when (nothing else on the row says them), the operation keeps 30.
    assert _layout(78).name >= 30 and _layout(78).who and _layout(78).who_short
    assert _layout(78).when
    names = [_layout(width).name for width in (92, 136, 196, 260)]
    assert names == sorted(names) and names[-1] > 100
    # From ~120 columns a row has every column the issue lists; the type fits whole.
    for width in (120, 139):
        cols = _layout(width)
        assert cols.site and cols.type >= 21 and cols.when and cols.who and cols.name >= 28
    wide = _layout(196)
    assert wide.site and wide.who and wide.type and not wide.who_short


async def test_a_cut_site_keeps_a_gap_before_the_user() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(200, 30)) as pilot:
        screen = await ready(pilot)
        lst = screen.query_one(DeploymentList)
        width = lst.scrollable_content_region.width
        long_site = next(
            d
            for d in screen.state.deployments.values()
            if d.site_domain and len(d.site_domain) > _layout(width).site
        )
        text = lst._row_strip((long_site.id, -1), width, False).text
        assert long_site.user_name
        who = long_site.user_name.split()[0] if _layout(width).who_short else long_site.user_name
        assert f"… {who} " in text, text


# --- 5. status colours readable on light themes ------------------------------------------------


def test_status_defaults_follow_the_dark_flag() -> None:
    assert status_defaults(True) == STATUS_DEFAULTS
    assert status_defaults(False) == STATUS_DEFAULTS_LIGHT
    assert status_defaults(False) is not STATUS_DEFAULTS_LIGHT  # a copy


async def test_status_colours_are_readable_in_every_textual_theme() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        for name in sorted(app.available_themes):
            if name.startswith("ansi-"):
                continue  # ANSI colours: the terminal's palette decides
            app.theme = name
            await pilot.pause()
            css = app.get_css_variables()
            for key in STATUS_DEFAULTS:
                colour = Color.parse(css[key])
                for ground in ("background", "surface"):
                    ratio = contrast(colour, Color.parse(css[ground]))
                    assert ratio >= 3.5, (name, key, ground, round(ratio, 2))
        app.theme = "textual-light"
        await pilot.pause()
        css = app.get_css_variables()
        for key in STATUS_DEFAULTS:
            assert css[key] == STATUS_DEFAULTS_LIGHT[key]
            assert contrast(Color.parse(css[key]), Color.parse(css["background"])) >= 4.5


# --- 6. keymap conflicts are reported -----------------------------------------------------------


def test_keymap_conflicts_name_the_key_and_both_ids() -> None:
    assert keymap_conflicts({"cancel": "f"}) == [("f", ["cancel", "failures"])]
    assert keymap_conflicts({"help": "?"}) == []  # its own key, written as a character
    assert keymap_conflicts({"cancel": "x", "filter.clear": "escape"}) == []
    assert keymap_conflicts({"list.down": "j,c"}) == [("c", ["cancel", "list.down"])]
    # Bindings of screens never shown together do not conflict.
    assert keymap_conflicts({"pager.wrap": "f"}) == []
    assert keymap_conflicts({}) == []


async def test_a_conflicting_keymap_is_reported_at_startup() -> None:
    w = World()
    app = make_app(w, keymap={"cancel": "f"})
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        messages = [n.message for n in app._notifications]
        assert any(
            "'f' is bound to 'cancel' and 'failures'" in m and "only one of them" in m
            for m in messages
        ), messages


# --- 8. small things ---------------------------------------------------------------------------


async def test_every_visible_ago_label_moves_in_the_same_tick() -> None:
    w = World()
    app = make_app(w, start_engine=False)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        lst = screen.query_one(DeploymentList)
        state = screen.state
        top = round(lst.scroll_y)
        visible = range(top, min(top + lst.size.height, len(state.rows)))
        refreshed: list[int] = []
        real_refresh_line = lst.refresh_line

        def spy(y: int) -> None:
            refreshed.append(y)
            real_refresh_line(y)

        lst.refresh_line = spy  # type: ignore[method-assign]

        def labels() -> dict[int, str]:
            now = w.clock.now()
            return {
                y: relative_time(state.deployments[state.rows[y][0]].created_at, now)
                for y in visible
                if state.rows[y][1] < 0
            }

        changes = 0
        for step in (timedelta(seconds=3), timedelta(minutes=7, seconds=13), timedelta(hours=5)):
            before = labels()
            refreshed.clear()
            w.clock.set(w.clock.now() + step)
            screen._tick()
            after = labels()
            changed = {y for y in before if before[y] != after[y]}
            assert changed <= set(refreshed), sorted(changed - set(refreshed))
            changes += len(changed)
            await pilot.pause()
            for y, label in after.items():
                assert label in lst.render_line(y - top).text
        assert changes > 5  # the test saw labels move


def test_a_zero_duration_reads_0s_not_blank() -> None:
    dep = failed_at_first_step().model_copy(update={"finished_at": T0})
    assert dep.duration(T0) == timedelta(0)
    assert dep.steps[0].duration(T0) is not None


async def test_a_failed_row_that_lasted_no_time_shows_0s() -> None:
    w = World()
    app = make_app(w, start_engine=False)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        lst = screen.query_one(DeploymentList)
        dep = screen.state.deployments[screen.state.rows[0][0]]
        instant = dep.model_copy(
            update={
                "status": DeploymentStatus.FAILED,
                "started_at": dep.created_at,
                "finished_at": dep.created_at,
            }
        )
        screen.state.deployments[dep.id] = instant
        lst._cache.clear()
        text = lst._row_strip((dep.id, -1), lst.scrollable_content_region.width, False).text
        assert text.rstrip().endswith("0s"), text


async def test_the_detail_pane_starts_at_the_top_for_another_selection() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 16)) as pilot:
        screen = await ready(pilot)
        detail = screen.query_one(DetailPane)
        scroll = detail.query_one("#detail-scroll", VerticalScroll)
        await wait_for(pilot, lambda: scroll.max_scroll_y > 0)
        scroll.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert scroll.scroll_y > 0
        before = screen.query_one(DeploymentList).cursor_row
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.query_one(DeploymentList).cursor_row != before)
        await pilot.pause()
        assert scroll.scroll_y == 0


async def test_the_end_of_history_line_comes_into_view_on_the_last_row() -> None:
    w = World(history=60)
    app = make_app(w)
    async with app.run_test(size=(120, 20)) as pilot:
        screen = await ready(pilot)
        lst = screen.query_one(DeploymentList)
        state = screen.state
        for _ in range(20):  # End pages in the rest of the history
            await pilot.press("end")
            await wait_for(pilot, lambda: not lst.loading_more)
            if state.exhausted:
                break
        await pilot.press("end")
        await pilot.pause()
        assert state.exhausted and len(state.rows) > lst.size.height
        assert lst.cursor == len(state.rows) - 1
        shown = [lst.render_line(y).text for y in range(lst.size.height)]
        assert "end of history" in shown[-1], shown[-3:]


def test_a_token_without_a_backend_is_an_error_not_a_silent_demo() -> None:
    from click.testing import CliRunner

    from tui.cli import main

    result = CliRunner().invoke(main, ["--token", "demo-ada"])
    assert result.exit_code == 2
    assert result.output == "deploytop: error: --token needs --backend URL (or DEPLOYTOP_BACKEND)\n"


def test_remapping_a_binding_remaps_its_twin() -> None:
    # End / F: "follow" while output can grow, its hidden twin "bottom" once it cannot;
    # remapping follow must move both, as for cancel and its read-only twin.
    app = make_app(World(history=5), keymap={"output-view.follow": "ctrl+e", "cancel": "x"})
    assert app._keymap["output-view.bottom"] == "ctrl+e"
    assert app._keymap["cancel.read_only"] == "x"


async def test_columns_do_not_depend_on_the_scrollbar() -> None:
    # 120 columns: a long list (scrollbar) and a short one (no scrollbar) lay out the same.
    w = World()
    app = make_app(w)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await ready(pilot)
        lst = screen.query_one(DeploymentList)
        dep_id, _ = screen.state.rows[0]
        long_row = lst._row_strip((dep_id, -1), lst.scrollable_content_region.width, False).text
        full = lst.size.width  # what a list without a scrollbar is given
        short_row = lst._row_strip((dep_id, -1), full, False).text
        assert short_row.startswith(long_row.rstrip())
        assert short_row[len(long_row.rstrip()) :].strip() == ""


def test_cancel_wording_counts_queued_steps_naturally() -> None:
    from tui.screens.cancel import _will_not_run

    assert _will_not_run(0, " after it") == "no step is queued after it"
    assert _will_not_run(1, " after it") == "1 queued step after it will not run"
    assert _will_not_run(3) == "3 queued steps will not run"
