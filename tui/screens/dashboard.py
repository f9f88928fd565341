"""The main screen: header, deployment list, detail pane, footer; and the one event stream.

The screen owns the stream worker: it lists the team's deployments, subscribes from the
listing's ``seq``, and feeds every item to :class:`~tui.state.DashboardState`. Changes are
flushed to the widgets at most every 50 ms inside one ``batch_update`` so a burst of events
costs a handful of frames, each repainting only the rows that changed.
"""

from __future__ import annotations

import asyncio
import gc
import time
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from backend_client.clock import Clock
from backend_client.contract import Backend
from backend_client.errors import (
    BackendError,
    DeploymentFinished,
    Forbidden,
    NotFound,
    Unauthorized,
    Unavailable,
)
from backend_client.events import ConnectionState, ConnectionStatus
from backend_client.models import (
    PIPELINE_TYPES,
    Deployment,
    DeploymentFilter,
    DeploymentStatus,
    Role,
)
from backend_client.sanitize import sanitize_line
from tui.format import duration_text
from tui.screens.cancel import CancelRequest, CancelScreen
from tui.screens.help import HelpScreen, binding_rows
from tui.screens.pickers import Choice, PickerScreen, TextPromptScreen
from tui.state import ACTIVE_STATUSES, Changes, DashboardState
from tui.widgets.deployment_list import DeploymentList
from tui.widgets.detail import DetailPane
from tui.widgets.footer import DashboardFooter
from tui.widgets.header import StatusHeader

if TYPE_CHECKING:
    from tui.app import DeploytopApp

__all__ = ["DashboardScreen"]

_FLUSH_INTERVAL = 0.05
_YIELD_EVERY = 200
_RETRY_SECONDS = 3.0
_SIDE_BY_SIDE = 180
"""Terminal width from which the detail pane sits beside the list instead of under it."""
_FIRST_PAGE_MARGIN = 10
"""Rows beyond the terminal's height in a listing's first page: the rest pages in at once,
after the first frame (a full page of the embedded demo costs ~20 ms of startup to seed)."""


def _settle() -> None:
    """Move what is loaded out of the garbage collector's way.

    Thousands of loaded deployments make each full collection take 100-200 ms: a visible
    freeze under a burst of events. They are long-lived and acyclic (freed by reference
    counting when replaced), so after each listing the garbage is collected and what is
    left is frozen; later collections only look at what came after, so this costs a few
    milliseconds except the first time.
    """
    gc.collect()
    gc.freeze()


class DashboardScreen(Screen[None]):
    """Deployments of one team, live."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "cancel", "Cancel", id="cancel"),
        Binding("c", "cancel_refused", "Cancel", show=False, id="cancel.read_only"),
        Binding("f", "failures", "Failures", id="failures"),
        Binding("a", "active", "Active", id="active"),
        Binding("s", "pick_status", "Status", id="filter.status", priority=True),
        Binding("S", "pick_site", "Site", show=False, id="filter.site", priority=True),
        Binding("p", "pick_type", "Pipeline", show=False, id="filter.type", priority=True),
        Binding("slash", "search", "Search", id="filter.text", priority=True),
        Binding("x", "clear_filters", "Clear filters", show=False, id="filter.clear"),
        Binding("t", "pick_team", "Team", id="team", priority=True),
        # Priority (as for the prompts): the pager is up before the next keys are routed,
        # so "o/error⏎" typed in one burst searches in it.
        Binding("o", "output", "Output", id="output", priority=True),
        Binding(
            "O", "failed_output", "Failed output", show=False, id="output.failed", priority=True
        ),
        Binding("r", "refresh", "Refresh", show=False, id="refresh"),
        Binding("d", "toggle_detail", "Details", show=False, id="detail.toggle"),
        Binding("w", "watch", "Watch", show=False, id="watch"),
        Binding("y", "copy_id", "Copy id", show=False, id="copy.id"),
        Binding("q", "app.quit", "Quit", show=False, id="quit.q"),
        Binding("question_mark", "help", "Help", id="help"),
    ]

    def __init__(
        self,
        backend: Backend,
        state: DashboardState,
        clock: Clock,
        *,
        read_only: bool = False,
        team_id: str | None = None,
        page_size: int = 100,
        stale_after: float = 30.0,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.state = state
        self.clock = clock
        self.read_only = read_only
        self.initial_team_id = team_id
        self.page_size = page_size
        self.stale_after = stale_after
        self._flush_pending = False
        self._last_flush = 0.0
        self._generation = 0
        self._started = False
        self._team_lost = False
        """The backend said the team is gone (NotFound): pick it again on the next try."""
        self.failures_seen = 0
        """Deployments that failed while watched (notifications raised)."""

    @property
    def deploytop(self) -> DeploytopApp:
        from tui.app import DeploytopApp

        app = self.app
        assert isinstance(app, DeploytopApp)
        return app

    # -- composition ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusHeader(
            self.state,
            self.clock,
            backend_label=self.backend.label,
            read_only=self.read_only,
            stale_after=self.stale_after,
            id="header",
        )
        with Horizontal(id="body"):
            yield DeploymentList(self.state, self.clock, id="deployments")
            yield DetailPane(self.clock, id="detail")
        yield DashboardFooter()

    @property
    def deployment_list(self) -> DeploymentList:
        return self.query_one(DeploymentList)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    @property
    def header(self) -> StatusHeader:
        return self.query_one(StatusHeader)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notices often carry backend text (names, server messages): every one passes the
        sanitizer and none is parsed as markup."""
        super().notify(
            sanitize_line(message),
            title=sanitize_line(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def on_mount(self) -> None:
        self.deployment_list.focus()
        self.set_interval(1.0, self._tick)
        self._watch()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place for failures nobody expected: say so, keep the dashboard alive."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        self.notify(
            f"{type(error).__name__}: {error}",
            title="Unexpected error",
            severity="error",
            markup=False,
        )
        if event.worker.group == "stream":
            self.set_timer(_RETRY_SECONDS, self._watch)
        elif event.worker.group == "page":
            self.deployment_list.loading_more = False

    def on_resize(self) -> None:
        # Side by side only where the list keeps room for every column of a row (site and
        # pipeline type included); below that, the detail pane goes under the list.
        self.query_one("#body").set_class(self.size.width < _SIDE_BY_SIDE, "-narrow")

    def action_toggle_detail(self) -> None:
        """Hide the detail pane (the list takes the whole screen), or show it again."""
        detail = self.detail
        detail.display = not detail.display
        self.query_one("#body").set_class(not detail.display, "-no-detail")
        if not detail.display and self.focused is not None and detail in self.focused.ancestors:
            self.deployment_list.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return not self.read_only
        if action == "cancel_refused":
            return self.read_only
        return True

    # -- the stream ----------------------------------------------------------------------

    @work(exclusive=True, group="stream", exit_on_error=False)
    async def _watch(self) -> None:
        """List, subscribe, apply; re-list on resync; restarted on team or filter change."""
        state = self.state
        failures = 0
        down_since = self.clock.now()
        while True:
            try:
                if state.team is None or self._team_lost:
                    await self._choose_team()
                    self._team_lost = False
                await self._relist()
                self._started = True
                if failures:
                    state.apply(ConnectionStatus(state=ConnectionState.CONNECTED), self.clock.now())
                    failures = 0
                await self._follow()
                raise Unavailable("the event stream ended")
            except Unauthorized as exc:
                self.deploytop.fail(f"the backend refused the credentials: {exc}")
                return
            except BackendError as exc:
                if not self._started:
                    self.deploytop.fail(f"cannot load deployments: {exc}")
                    return
                failures += 1
                if isinstance(exc, NotFound):
                    # The team went away (or the server came back with other data): pick
                    # the team again from what the caller can see now, by the same name if
                    # it is still there; until then the header keeps showing this one.
                    self._team_lost = True
                now = self.clock.now()
                if failures == 1:
                    down_since = now
                    self.notify(str(exc), title="Backend error", severity="warning", markup=False)
                state.apply(
                    ConnectionStatus(
                        state=ConnectionState.OFFLINE,
                        attempt=failures,
                        since=down_since,
                        next_retry_at=now + timedelta(seconds=_RETRY_SECONDS),
                        error=str(exc),
                    )
                )
                self._flush()
                await self.clock.sleep(_RETRY_SECONDS)

    async def _choose_team(self) -> None:
        me = await self.backend.me()
        state = self.state
        state.teams = list(me.teams)
        self.detail.team_names = {t.id: t.name for t in me.teams}
        if not me.teams:
            raise BackendError(f"{me.user.name} is not a member of any team")
        previous = state.team if self._team_lost else None
        if previous is not None:
            # The same team again: by id, else by name (a restarted server has new ids).
            team = next((t for t in me.teams if t.id == previous.id), None) or next(
                (t for t in me.teams if t.name == previous.name), None
            )
            if team is not None:
                if team != previous:
                    state.set_team(team)
                    if team.id != previous.id:
                        self.detail.show(None)  # a deployment of the old server's data
                return
        wanted = self.initial_team_id
        team = (
            next(
                (
                    t
                    for t in me.teams
                    if wanted in (t.id, t.name) or t.name.casefold() == wanted.casefold()
                ),
                None,
            )
            if wanted
            else None
        )
        if wanted and team is None:
            names = ", ".join(t.name for t in me.teams)
            raise BackendError(
                f"no team {self.initial_team_id!r} for {me.user.name} (teams: {names})"
            )
        state.set_team(team or me.teams[0])

    async def _relist(self) -> None:
        state = self.state
        assert state.team is not None
        self._generation += 1  # a page of older history still in flight is now stale
        team_id = state.team.id
        # A screenful first: the list asks for the next page as soon as it has drawn it.
        limit = min(self.page_size, self.app.size.height + _FIRST_PAGE_MARGIN)
        page = await self.backend.list_deployments(team_id, state.filter, limit=limit)
        state.reset(page, self.clock.now())
        self._flush()  # show the list now; the active counts follow
        active = await self.backend.list_deployments(
            team_id, DeploymentFilter(statuses=ACTIVE_STATUSES), limit=500
        )
        state.set_active(active.data)
        self.deployment_list.loading_more = False
        await self._settle_watched()
        self._flush()
        self.set_timer(1.0, _settle)

    async def _settle_watched(self) -> None:
        """Watched deployments that finished out of sight (during a drop, outside the
        filter, beyond the first page) are still announced."""
        state = self.state
        for dep_id in state.watched_elsewhere():
            try:
                dep = await self.backend.get_deployment(dep_id)
            except NotFound:
                state.watched.discard(dep_id)  # gone: nothing will ever finish
                continue
            except BackendError:
                continue  # asked again on the next re-list
            state.check_watched(dep)

    async def _follow(self) -> None:
        state = self.state
        assert state.team is not None
        while True:
            stream = self.backend.subscribe(state.team.id, since=state.seq)
            count = 0
            resubscribe = False
            try:
                async for item in stream:
                    state.apply(item, self.clock.now())
                    if state.resync_needed is not None:
                        resubscribe = state.resync_needed.startswith("gap")
                        await self._relist()
                        if resubscribe:
                            break
                    self._schedule_flush()
                    count += 1
                    if count % _YIELD_EVERY == 0:
                        # A backlog arrives without awaiting: let keys and frames through.
                        await asyncio.sleep(0)
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            if not resubscribe:
                return

    def _schedule_flush(self) -> None:
        if self._flush_pending:
            return
        self._flush_pending = True
        delay = self._last_flush + _FLUSH_INTERVAL - time.monotonic()
        if delay <= 0:
            self.call_next(self._flush)
        else:
            self.set_timer(delay, self._flush)

    def _flush(self) -> None:
        """Hand what changed to the widgets, in one batch."""
        self._flush_pending = False
        self._last_flush = time.monotonic()
        changes = self.state.take_changes()
        if not changes:
            return
        with self.app.batch_update():
            self.deployment_list.apply_changes(changes)
            if changes.header or changes.connection or changes.structural:
                self.header.update_view()
            self._refresh_detail(changes)
            self._refresh_dialogs(changes)
        if changes.failed:
            self._announce_failures(changes)
        if changes.finished_watched:
            self._announce_watched(changes.finished_watched, rang=bool(changes.failed))

    def _refresh_detail(self, changes: Changes) -> None:
        detail = self.detail
        current = detail.deployment
        if current is None:
            return
        fresh = self.state.deployments.get(current.id)
        if fresh is not None and fresh is not current:
            detail.show(fresh, detail.step_index)

    def _refresh_dialogs(self, changes: Changes) -> None:
        """An open cancel dialog follows its deployment (even one that left the view)."""
        for screen in self.app.screen_stack:
            if isinstance(screen, CancelScreen):
                dep_id = screen.deployment.id
                latest = changes.latest.get(dep_id) or self.state.deployments.get(dep_id)
                if latest is not None:
                    screen.follow(latest)

    def _announce_failures(self, changes: Changes) -> None:
        settings = self.deploytop.settings
        failed = changes.failed
        self.failures_seen += len(failed)
        if settings.notify_failures:
            if len(failed) == 1:
                dep = failed[0]
                step = dep.failed_step
                where = f" at “{step.name}”" if step is not None else ""
                message = f"{dep.operation_name}{where}"
            else:
                message = f"{len(failed)} deployments failed"
            self.notify(message, title="Deployment failed", severity="error", markup=False)
        if settings.bell:
            self.app.bell()

    def _announce_watched(self, finished: list[Deployment], *, rang: bool = False) -> None:
        """A watched deployment finished: say how (a failure may have been announced
        already, without the time it took), and ring the bell unless that just rang it."""
        now = self.clock.now()
        for dep in finished:
            took = dep.duration(now)
            how = f"{dep.status.value}" + (f" in {duration_text(took)}" if took is not None else "")
            self.notify(
                f"{dep.operation_name}: {how}",
                title="Watched deployment finished",
                severity="error" if dep.status is DeploymentStatus.FAILED else "information",
                markup=False,
            )
        settings = self.deploytop.settings
        if settings.bell and not rang:  # a failure in this batch rang it already
            self.app.bell()
        self.header.update_view()

    def action_watch(self) -> None:
        """Be told when the selected deployment finishes (again: stop watching it)."""
        dep = self._selected_deployment()
        if dep is None:
            self.notify("Select a deployment to watch.", severity="warning")
            return
        watched = self.state.watched
        if dep.id in watched:
            watched.discard(dep.id)
            self.notify(f"Stopped watching {dep.operation_name}", markup=False)
        elif dep.status.is_finished:
            self.notify(
                f"It already {dep.status.value}: nothing to wait for.",
                title="Not watched",
                severity="warning",
            )
            return
        else:
            watched.add(dep.id)
            self.notify(
                f"You will be told when {dep.operation_name} finishes",
                title="Watching",
                markup=False,
            )
        self.deployment_list.repaint_deployment(dep.id)
        self.header.update_view()

    def action_copy_id(self) -> None:
        """Copy the selected deployment's id (or step id) to the clipboard (OSC 52)."""
        row = self.deployment_list.cursor_row
        if row is None:
            return
        dep = self.state.deployments[row[0]]
        ident = dep.steps[row[1]].id if 0 <= row[1] < len(dep.steps) else dep.id
        self.app.copy_to_clipboard(ident)
        what = "step id" if ident != dep.id else "deployment id"
        self.notify(f"Copied the {what} {ident}", title="Clipboard", markup=False)

    def _tick(self) -> None:
        with self.app.batch_update():
            self.deployment_list.tick()
            self.header.update_view()
            self.detail.update_view()

    # -- list events ---------------------------------------------------------------------

    def on_deployment_list_highlighted(self, event: DeploymentList.Highlighted) -> None:
        row = event.row
        self.state.select(row[0] if row is not None else None)
        self._schedule_flush()  # a deployment kept only while selected may leave now
        if row is None:
            self.detail.show(None)
            self.deploytop.show_output(self.detail, None, None)
            return
        dep_id, step = row
        # The row may have left the list (a flush ran since the message was posted).
        dep = self.state.deployments.get(dep_id)
        if dep is None:
            return
        self.detail.show(dep, step if step >= 0 else None)
        step_id = dep.steps[step].id if 0 <= step < len(dep.steps) else None
        self.deploytop.show_output(self.detail, dep, step_id)

    def on_deployment_list_need_more(self, event: DeploymentList.NeedMore) -> None:
        self._load_more()

    def on_deployment_list_activated(self, event: DeploymentList.Activated) -> None:
        self.action_output()

    @work(exclusive=True, group="page", exit_on_error=False)
    async def _load_more(self) -> None:
        state = self.state
        generation = self._generation
        if state.team is None or state.exhausted or state.next_before is None:
            self.deployment_list.loading_more = False
            return
        try:
            page = await self.backend.list_deployments(
                state.team.id, state.filter, before=state.next_before, limit=self.page_size
            )
            if generation != self._generation:
                return
            stale = state.add_page(page)
            for dep_id in stale:
                fresh = await self.backend.get_deployment(dep_id)
                if generation != self._generation:
                    return
                state.replace(fresh)
            self.set_timer(1.0, _settle)
        except BackendError as exc:
            self.notify(f"cannot load older deployments: {exc}", severity="warning")
        finally:
            self.deployment_list.loading_more = False
        self._flush()

    # -- actions: filters and team -------------------------------------------------------

    def _restart(self) -> None:
        """Re-list and re-subscribe (after the team or the filter changed)."""
        self._generation += 1
        self.workers.cancel_group(self, "page")
        self.deployment_list.loading_more = False
        self._flush()
        self._watch()

    def _set_filter(self, flt: DeploymentFilter, labels: dict[str, str] | None = None) -> None:
        self.state.set_filter(flt, labels)
        self._restart()

    def action_failures(self) -> None:
        """Toggle the failures view."""
        failed = frozenset({DeploymentStatus.FAILED})
        statuses = frozenset() if self.state.filter.statuses == failed else failed
        self._set_filter(self.state.filter.model_copy(update={"statuses": statuses}))

    def action_active(self) -> None:
        """Toggle the view of queued and running deployments."""
        statuses = frozenset() if self.state.filter.statuses == ACTIVE_STATUSES else ACTIVE_STATUSES
        self._set_filter(self.state.filter.model_copy(update={"statuses": statuses}))

    def action_clear_filters(self) -> None:
        self.deployment_list.go_top_on_next_view()
        self._set_filter(DeploymentFilter(), {})

    def action_pick_status(self) -> None:
        choices: list[Choice] = [("", "all"), ("active", "active (queued + running)")]
        choices += [(s.value, s.value) for s in DeploymentStatus]
        statuses = self.state.filter.statuses
        current = (
            ""
            if not statuses
            else "active"
            if statuses == ACTIVE_STATUSES
            else next(iter(statuses)).value
            if len(statuses) == 1
            else None
        )

        def chosen(value: str | None) -> None:
            if value is None:
                return
            new: frozenset[DeploymentStatus] = (
                frozenset()
                if value == ""
                else ACTIVE_STATUSES
                if value == "active"
                else frozenset({DeploymentStatus(value)})
            )
            self._set_filter(self.state.filter.model_copy(update={"statuses": new}))

        self.app.push_screen(PickerScreen("Show deployments with status", choices, current), chosen)

    def action_pick_site(self) -> None:
        state = self.state
        if state.team is None:
            return
        team_id = state.team.id
        domains: dict[str, str] = {}

        async def sites() -> list[Choice]:
            found = await self.backend.list_sites(team_id)
            domains.update((site.id, site.domain) for site in found)
            return [(site.id, site.domain) for site in found]

        def chosen(value: str | None) -> None:
            if value is None or state.team is None or state.team.id != team_id:
                return
            labels = dict(state.filter_label_extra)
            if value:
                labels["site"] = domains[value]
            else:
                labels.pop("site", None)
            self._set_filter(state.filter.model_copy(update={"site_id": value or None}), labels)

        # Pushed now (not from a worker), the sites following: keys typed right after "S"
        # reach the picker and narrow the list.
        picker = PickerScreen(
            "Show deployments of site", [("", "any site")], state.filter.site_id or "", load=sites
        )
        self.app.push_screen(picker, chosen)

    def action_pick_type(self) -> None:
        choices: list[Choice] = [("", "any pipeline")] + [(t, t) for t in PIPELINE_TYPES]
        types = self.state.filter.types
        current = "" if not types else next(iter(types))

        def chosen(value: str | None) -> None:
            if value is None:
                return
            new = frozenset({value}) if value else frozenset()
            self._set_filter(self.state.filter.model_copy(update={"types": new}))

        self.app.push_screen(PickerScreen("Show pipeline type", choices, current), chosen)

    def action_search(self) -> None:
        def chosen(value: str | None) -> None:
            if value is None:
                return
            text = value.strip() or None
            self._set_filter(self.state.filter.model_copy(update={"text": text}))

        prompt = TextPromptScreen(
            "Search operation, site, pipeline, person or id (empty: clear)",
            self.state.filter.text or "",
        )
        self.app.push_screen(prompt, chosen)

    def action_pick_team(self) -> None:
        state = self.state
        choices: list[Choice] = [
            (team.id, f"{team.name}  ({team.role.value})") for team in state.teams
        ]

        def chosen(value: str | None) -> None:
            if value is None or (state.team is not None and value == state.team.id):
                return
            team = next((t for t in state.teams if t.id == value), None)
            if team is None:  # the team list changed while the picker was open
                return
            self.switch_team(team.id)
            self.notify(f"Team: {team.name}", markup=False)

        current = state.team.id if state.team else None
        self.app.push_screen(PickerScreen("Switch team", choices, current), chosen)

    def switch_team(self, team_id: str) -> None:
        """Show another team (one the caller is in)."""
        team = next((t for t in self.state.teams if t.id == team_id), None)
        if team is None:
            return
        if self.state.watched:
            # Another team's events never arrive here: say so rather than wait in silence.
            count = len(self.state.watched)
            self.notify(
                f"Stopped watching {count} deployment{'s' if count > 1 else ''} (another team)",
                title="Watching",
                markup=False,
            )
        self.state.set_team(team)
        self.detail.show(None)
        self._restart()

    def action_refresh(self) -> None:
        self._restart()
        # After a refresh the operator looks at the newest: go to the top now and again when
        # the fresh listing lands.
        self.deployment_list.go_top_on_next_view()
        self.deployment_list.action_first()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(binding_rows(self)))

    # -- actions: cancel -----------------------------------------------------------------

    def _selected_deployment(self) -> Deployment | None:
        row = self.deployment_list.cursor_row
        return self.state.deployments.get(row[0]) if row is not None else None

    def action_cancel_refused(self) -> None:
        self.notify(
            "Read-only mode: cancelling is turned off (started with --read-only).",
            title="Not allowed",
            severity="warning",
        )

    def action_cancel(self) -> None:
        if self.read_only:
            self.action_cancel_refused()
            return
        dep = self._selected_deployment()
        if dep is None:
            self.notify("Select a deployment to cancel.", severity="warning")
            return
        if dep.status.is_finished:
            self.notify(
                f"This deployment already {dep.status.value}: there is nothing to cancel.",
                title="Cannot cancel",
                severity="warning",
            )
            return
        team = self.state.team
        if team is not None and team.role is Role.VIEWER:
            self.notify(
                f"You are a viewer in {team.name}: cancelling needs the operator role.",
                title="Not allowed",
                severity="warning",
                markup=False,
            )
            return

        def confirmed(request: CancelRequest | None) -> None:
            if request is not None:
                self._cancel(request)

        self.app.push_screen(CancelScreen(dep), confirmed)

    @work(group="cancel", exit_on_error=False)
    async def _cancel(self, request: CancelRequest) -> None:
        try:
            dep = await self.backend.cancel_deployment(request.deployment_id, request.reason)
        except DeploymentFinished:
            self.notify("It finished before the cancel arrived.", title="Not cancelled")
            return
        except Forbidden as exc:
            self.notify(str(exc), title="Not allowed", severity="error", markup=False)
            return
        except BackendError as exc:
            self.notify(str(exc), title="Cancel failed", severity="error", markup=False)
            return
        self.notify(f"Cancelling {dep.operation_name}", title="Cancel requested", markup=False)

    # -- actions: output -----------------------------------------------------------------

    def action_output(self) -> None:
        self._open_pager(failed_only=False)

    def action_failed_output(self) -> None:
        self._open_pager(failed_only=True)

    def _open_pager(self, *, failed_only: bool) -> None:
        row = self.deployment_list.cursor_row
        if row is None:
            return
        dep = self.state.deployments[row[0]]
        step_id = dep.steps[row[1]].id if 0 <= row[1] < len(dep.steps) else None
        if failed_only and dep.failed_step is None:
            self.notify("No failed step in this deployment.", severity="information")
            return
        self.deploytop.open_pager(
            dep, step_id=None if failed_only else step_id, failed_only=failed_only
        )
