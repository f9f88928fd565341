"""The dashboard's one client-side state: what is loaded, how it is shown, what changed.

One stream of backend items enters here (:meth:`DashboardState.apply`); widgets are views
of this state and read what changed with :meth:`DashboardState.take_changes`. No Textual
import: the state is plain Python, so it is tested and benchmarked without a screen.

The visible rows are a flattened list kept sorted (deployments newest first, each followed
by its steps when expanded), so finding a deployment's row is a binary search and a change
touches only that deployment's rows: the cost of an update follows what changed, not how
much history is loaded.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from backend_client.events import (
    ConnectionState,
    ConnectionStatus,
    DeploymentCreated,
    DeploymentUpdated,
    Resync,
    StepOutput,
    StepUpdated,
    StreamItem,
)
from backend_client.models import (
    Deployment,
    DeploymentFilter,
    DeploymentPage,
    DeploymentStatus,
    Team,
)

__all__ = ["ACTIVE_STATUSES", "Changes", "DashboardState", "OutputEvent", "Row", "bisect_row"]

OutputEvent = StepOutput | StepUpdated | DeploymentCreated | DeploymentUpdated
"""What the state hands on to the output hub (feeds and open pagers follow them)."""

ACTIVE_STATUSES = frozenset({DeploymentStatus.QUEUED, DeploymentStatus.RUNNING})

Row = tuple[str, int]
"""A visible row: ``(deployment id, step index)``; step index ``-1`` is the deployment itself."""

_MISSED_LIMIT = 4096


@dataclass
class Changes:
    """What changed since the last :meth:`DashboardState.take_changes`."""

    structural: bool = False
    """Rows were added, removed or reordered (the whole index may have moved)."""
    new_view: bool = False
    """The list was replaced (another filter or team): the view starts at the top unless
    the selected deployment is still there."""
    dirty: set[str] = field(default_factory=set)
    """Deployments whose rows must be repainted."""
    failed: list[Deployment] = field(default_factory=list)
    """Deployments of the current team that failed while we watched (live events only)."""
    finished_watched: list[Deployment] = field(default_factory=list)
    """Deployments the operator watches (``w``) that finished, whatever the outcome."""
    connection: bool = False
    """The connection badge changed."""
    header: bool = False
    """Something the header shows (filter, team, counts) changed."""
    latest: dict[str, Deployment] = field(default_factory=dict)
    """The newest snapshot of each deployment an event touched, even one that left the view
    (a dialog about it still follows it)."""

    def __bool__(self) -> bool:
        return bool(
            self.structural
            or self.new_view
            or self.dirty
            or self.failed
            or self.finished_watched
            or self.connection
            or self.header
        )


def bisect_row(rows: list[Row], dep_id: str, step: int) -> int:
    """Index of the first row not ordered before ``(dep_id, step)``.

    Rows are ordered by deployment id descending (ULIDs: newest first), then step ascending.
    """
    lo, hi = 0, len(rows)
    while lo < hi:
        mid = (lo + hi) // 2
        d, s = rows[mid]
        if d > dep_id or (d == dep_id and s < step):
            lo = mid + 1
        else:
            hi = mid
    return lo


class DashboardState:
    """Loaded deployments of one team, the filter, expansion and the visible rows.

    Args:
        on_output: Called with every StepOutput, StepUpdated, DeploymentCreated and
            DeploymentUpdated event (the output hub).
    """

    def __init__(self, on_output: Callable[[OutputEvent], None] | None = None) -> None:
        self.on_output = on_output
        self.team: Team | None = None
        self.teams: list[Team] = []
        self.filter = DeploymentFilter()
        self.filter_label_extra: dict[str, str] = {}
        """Human names for filter values (site id -> domain) for the header."""
        self.deployments: dict[str, Deployment] = {}
        self.rows: list[Row] = []
        self.expanded: set[str] = set()
        self.watched: set[str] = set()
        """Deployments the operator asked to be told about when they finish (``w``)."""
        self.next_before: str | None = None
        self.exhausted = False
        self.loaded = False
        self.seq = 0
        self.resync_needed: str | None = None
        """Why a re-list is needed (gap, resync), or None."""
        self.active: dict[str, DeploymentStatus] = {}
        """Every queued/running deployment of the team we know of, loaded or not."""
        self.connection = ConnectionStatus(state=ConnectionState.CONNECTED)
        self.last_event_at: datetime | None = None
        self.selected: str | None = None
        """The deployment under the cursor: it stays in the list while selected, even when
        it stops matching the filter (a finished deployment in the active view), so what the
        operator reads does not vanish; it leaves when the cursor does."""
        self._missed: OrderedDict[str, int] = OrderedDict()
        self._changes = Changes()

    # -- reading -------------------------------------------------------------------------

    def take_changes(self) -> Changes:
        """Hand over what changed and start collecting afresh."""
        changes, self._changes = self._changes, Changes()
        return changes

    def row_index(self, dep_id: str, step: int = -1) -> int | None:
        """Where a row is, or None when it is not visible."""
        i = bisect_row(self.rows, dep_id, step)
        if i < len(self.rows) and self.rows[i] == (dep_id, step):
            return i
        return None

    def row_span(self, dep_id: str) -> tuple[int, int] | None:
        """``(first, count)`` of a deployment's rows (itself and visible steps)."""
        start = self.row_index(dep_id)
        if start is None:
            return None
        count = len(self.deployments[dep_id].steps) + 1 if dep_id in self.expanded else 1
        return start, count

    @property
    def oldest_loaded(self) -> str | None:
        return self.rows[-1][0] if self.rows else None

    @property
    def active_counts(self) -> tuple[int, int]:
        """(running, queued) deployments of the team."""
        running = sum(1 for s in self.active.values() if s is DeploymentStatus.RUNNING)
        return running, len(self.active) - running

    # -- loading -------------------------------------------------------------------------

    def set_team(self, team: Team) -> None:
        """Switch team: forget everything loaded (the caller re-lists)."""
        self.team = team
        self._clear()
        self.active.clear()
        self.expanded.clear()
        self.watched.clear()  # another team's events never arrive here
        self.filter_label_extra.pop("site", None)
        if self.filter.site_id is not None:
            self.filter = self.filter.model_copy(update={"site_id": None})
        self._changes.header = True

    def set_filter(self, flt: DeploymentFilter, labels: dict[str, str] | None = None) -> None:
        """Change the filter: forget the loaded list (the caller re-lists)."""
        self.filter = flt
        if labels is not None:
            self.filter_label_extra = dict(labels)
        self._clear()
        self._changes.header = True

    def _clear(self) -> None:
        self.deployments.clear()
        self.rows.clear()
        self.next_before = None
        self.exhausted = False
        self.loaded = False
        self._missed.clear()
        self._changes.structural = True
        self._changes.new_view = True

    def reset(self, page: DeploymentPage, now: datetime | None = None) -> None:
        """Replace the loaded list with a fresh first page (a re-list read at ``now``)."""
        if now is not None:
            self.last_event_at = now
        keep_expanded = self.expanded
        self.deployments.clear()
        self.rows.clear()
        self._missed.clear()
        self.seq = page.seq
        self.resync_needed = None
        self.loaded = True
        self.exhausted = page.next_before is None
        self.next_before = page.next_before
        self.expanded = set()
        for dep in page.data:
            self._insert(dep, expand=dep.id in keep_expanded)
            self._track_active(dep)
            self.check_watched(dep)  # it may have finished while we were away
        self._changes.structural = True
        self._changes.header = True

    def set_active(self, deployments: Iterable[Deployment]) -> None:
        """Seed the set of active deployments (from a listing of queued/running ones)."""
        self.active = {d.id: d.status for d in deployments if d.status in ACTIVE_STATUSES}
        self._changes.header = True

    def add_page(self, page: DeploymentPage) -> list[str]:
        """Append an older page.

        Returns:
            Ids of deployments in the page that changed after the page was read (events we
            saw but could not apply because they were not loaded yet): fetch them again.
        """
        stale: list[str] = []
        for dep in page.data:
            if dep.id in self.deployments:
                continue
            self._insert(dep)
            self.check_watched(dep)
            missed = self._missed.pop(dep.id, None)
            if missed is not None and missed > page.seq:
                stale.append(dep.id)
        self.next_before = page.next_before
        self.exhausted = page.next_before is None
        self._changes.structural = True
        return stale

    def check_watched(self, dep: Deployment) -> None:
        """A watched deployment seen finished (by an event, a listing or a fetch) is
        reported once and no longer watched."""
        if dep.id in self.watched and dep.status.is_finished:
            self.watched.discard(dep.id)
            self._changes.finished_watched.append(dep)

    def watched_elsewhere(self) -> list[str]:
        """Watched deployments neither loaded nor active: they finished (or went away)
        while nothing told us, e.g. during a drop; fetch them to know."""
        return [d for d in self.watched if d not in self.deployments and d not in self.active]

    def replace(self, dep: Deployment) -> None:
        """Put a fresh snapshot of a loaded deployment (fetched again) in place."""
        if dep.id in self.deployments:
            self._update(dep)

    # -- expansion -----------------------------------------------------------------------

    def expand(self, dep_id: str) -> None:
        if dep_id in self.expanded or dep_id not in self.deployments:
            return
        start = self.row_index(dep_id)
        if start is None:
            return
        self.expanded.add(dep_id)
        steps = self.deployments[dep_id].steps
        self.rows[start + 1 : start + 1] = [(dep_id, i) for i in range(len(steps))]
        self._changes.structural = True

    def collapse(self, dep_id: str) -> None:
        span = self.row_span(dep_id)
        if span is None or dep_id not in self.expanded:
            return
        start, count = span
        del self.rows[start + 1 : start + count]
        self.expanded.discard(dep_id)
        self._changes.structural = True

    # -- events --------------------------------------------------------------------------

    def apply(self, item: StreamItem, now: datetime | None = None) -> None:
        """Apply one item of the team's stream.

        Events at or below the last applied ``seq`` are dropped (duplicates); a gap or a
        :class:`Resync` sets :attr:`resync_needed` (the caller re-lists).
        """
        if isinstance(item, ConnectionStatus):
            self.connection = item
            if item.state is ConnectionState.CONNECTED and now is not None:
                self.last_event_at = now  # a fresh link is news too
            self._changes.connection = True
            return
        if now is not None:
            self.last_event_at = now
        if isinstance(item, Resync):
            self.seq = max(self.seq, item.seq)
            self.resync_needed = f"resync: {item.reason}"
            return
        if item.seq <= self.seq:
            return
        if item.seq > self.seq + 1 and self.loaded:
            self.resync_needed = f"gap: expected {self.seq + 1}, got {item.seq}"
            return
        self.seq = item.seq
        if isinstance(item, StepOutput):
            if self.on_output is not None:
                self.on_output(item)
            return
        if isinstance(item, StepUpdated):
            if self.on_output is not None:
                self.on_output(item)
            self._apply_step(item)
            return
        if isinstance(item, DeploymentCreated | DeploymentUpdated):
            if self.on_output is not None:
                self.on_output(item)  # an open pager follows its deployment's status
            self._apply_deployment(item.deployment)

    def _apply_step(self, ev: StepUpdated) -> None:
        dep = self.deployments.get(ev.deployment_id)
        if dep is None:
            self._miss(ev.deployment_id, ev.seq)
            return
        steps = list(dep.steps)
        for i, step in enumerate(steps):
            if step.id == ev.step.id:
                steps[i] = ev.step
                break
        else:
            steps.append(ev.step)
            steps.sort(key=lambda s: s.sort_order)
        self._update(dep.model_copy(update={"steps": steps}))

    def _apply_deployment(self, dep: Deployment) -> None:
        known = self.deployments.get(dep.id)
        previous = known.status if known is not None else self.active.get(dep.id)
        if (
            dep.status is DeploymentStatus.FAILED
            and previous is not None
            and previous is not DeploymentStatus.FAILED
            and self.team is not None
            and dep.team_id == self.team.id
        ):
            self._changes.failed.append(dep)
        self.check_watched(dep)
        self._track_active(dep)
        self._changes.latest[dep.id] = dep
        matches = self.filter.matches(dep)
        if known is not None:
            if matches or dep.id == self.selected:
                self._update(dep)
            else:
                self._remove(dep.id)
            return
        if not matches or not self.loaded:
            self._miss(dep.id, self.seq)
            return
        oldest = self.oldest_loaded
        if self.exhausted or oldest is None or dep.id > oldest:
            self._insert(dep)
            self._changes.structural = True
        else:
            self._miss(dep.id, self.seq)

    def _track_active(self, dep: Deployment) -> None:
        was = self.active.get(dep.id)
        if dep.status in ACTIVE_STATUSES:
            if was is not dep.status:
                self.active[dep.id] = dep.status
                self._changes.header = True
        elif was is not None:
            del self.active[dep.id]
            self._changes.header = True

    def _miss(self, dep_id: str, seq: int) -> None:
        self._missed[dep_id] = seq
        self._missed.move_to_end(dep_id)
        if len(self._missed) > _MISSED_LIMIT:
            self._missed.popitem(last=False)

    def select(self, dep_id: str | None) -> None:
        """The cursor is now on ``dep_id``: a deployment kept only because it was selected
        (it no longer matches the filter) leaves the list."""
        previous, self.selected = self.selected, dep_id
        if previous is None or previous == dep_id:
            return
        dep = self.deployments.get(previous)
        if dep is not None and not self.filter.matches(dep):
            self._remove(previous)

    # -- row bookkeeping -----------------------------------------------------------------

    def _insert(self, dep: Deployment, *, expand: bool = False) -> None:
        self.deployments[dep.id] = dep
        at = bisect_row(self.rows, dep.id, -1)
        new: list[Row] = [(dep.id, -1)]
        if expand:
            self.expanded.add(dep.id)
            new.extend((dep.id, i) for i in range(len(dep.steps)))
        self.rows[at:at] = new
        self._changes.dirty.add(dep.id)

    def _update(self, dep: Deployment) -> None:
        old = self.deployments[dep.id]
        self.deployments[dep.id] = dep
        self._changes.dirty.add(dep.id)
        self._changes.latest[dep.id] = dep
        if dep.id in self.expanded and len(old.steps) != len(dep.steps):
            start = self.row_index(dep.id)
            if start is not None:
                self.rows[start + 1 : start + 1 + len(old.steps)] = [
                    (dep.id, i) for i in range(len(dep.steps))
                ]
                self._changes.structural = True

    def _remove(self, dep_id: str) -> None:
        span = self.row_span(dep_id)
        if span is not None:
            start, count = span
            del self.rows[start : start + count]
        self.deployments.pop(dep_id, None)
        self.expanded.discard(dep_id)
        self._changes.structural = True
