"""The bundled in-memory backend: a store, a real pipeline engine, and per-caller views.

:class:`InMemoryStore` holds teams, users, sites and deployments, runs pipelines on a
limited pool of workers (deployments on the same site wait behind each other, so Queued is
a real state), and records every change as a sequenced event per team. Callers never touch
the store: :meth:`InMemoryStore.backend_for` gives an :class:`InMemoryBackend` that acts for
one user and implements :class:`~backend_client.contract.Backend`.

All state changes happen on the event loop's thread, between awaits, so a cancel racing a
step's completion is decided by whichever runs first and the other sees a finished record.
"""

from __future__ import annotations

import asyncio
import bisect
import copy
import functools
import random
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock, SystemClock
from .contract import MAX_OUTPUT_READ, MAX_PAGE_SIZE, Backend
from .errors import DeploymentFinished, Forbidden, InvalidRequest, NotFound
from .events import (
    ConnectionState,
    ConnectionStatus,
    DeploymentCreated,
    DeploymentUpdated,
    Event,
    Resync,
    StepOutput,
    StepUpdated,
    StreamItem,
)
from .ids import IdGenerator, is_ulid
from .models import (
    Deployment,
    DeploymentFilter,
    DeploymentPage,
    DeploymentStatus,
    DeploymentStep,
    Me,
    OutputChunk,
    Role,
    Site,
    StepStatus,
    Team,
    User,
)
from .pipeline import JobContext, PipelineRegistry, PipelineSpec, StepFailed, StepSkipped

__all__ = ["InMemoryBackend", "InMemoryStore"]

_SUBSCRIBER_BUFFER = 50_000
"""Events a subscriber may fall behind by before it is told to resync."""
_SNAPSHOT_CACHE = 4_096
"""Deployment snapshots kept ready for listing."""


# --------------------------------------------------------------------------- records


@dataclass(eq=False)
class _StepRecord:
    id: str
    deployment_id: str
    name: str
    sort_order: int
    status: StepStatus = StepStatus.QUEUED
    output: bytearray = field(default_factory=bytearray)
    truncated: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def snapshot(self) -> DeploymentStep:
        return DeploymentStep.model_construct(
            id=self.id,
            deployment_id=self.deployment_id,
            name=self.name,
            status=self.status,
            sort_order=self.sort_order,
            output=None,
            output_size=len(self.output),
            output_truncated=self.truncated,
            started_at=self.started_at,
            finished_at=self.finished_at,
        )


@dataclass(eq=False)
class _DeploymentRecord:
    id: str
    team_id: str
    user_id: str
    user_name: str
    site_id: str
    site_domain: str
    type: str
    operation_name: str
    meta: dict[str, Any]
    created_at: datetime
    steps: list[_StepRecord]
    status: DeploymentStatus = DeploymentStatus.QUEUED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_reason: str | None = None
    search_text: str = ""
    rng_key: str = ""
    """Seeds the jobs' generator with the store's seed: never the id, whose time part comes
    from the clock (see :meth:`InMemoryStore._rng_for`)."""
    cache: _SnapshotCache | None = None
    task: asyncio.Task[None] | None = None
    hold: asyncio.Event | None = None
    _snapshot: Deployment | None = None

    def changed(self) -> None:
        self._snapshot = None

    def snapshot(self) -> Deployment:
        """The deployment with its steps (without output); cached until the next change."""
        if self._snapshot is None:
            self._snapshot = Deployment.model_construct(
                id=self.id,
                team_id=self.team_id,
                user_id=self.user_id,
                site_id=self.site_id,
                type=self.type,
                status=self.status,
                operation_name=self.operation_name,
                # Shared, not copied: the store never changes meta after creation and
                # snapshots are read-only by contract.
                meta=self.meta,
                created_at=self.created_at,
                started_at=self.started_at,
                finished_at=self.finished_at,
                cancel_reason=self.cancel_reason,
                user_name=self.user_name,
                site_domain=self.site_domain,
                steps=[step.snapshot() for step in self.steps],
            )
        if self.cache is not None:
            self.cache.touch(self)
        return self._snapshot

    def step(self, step_id: str) -> _StepRecord | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def simulate(self) -> dict[str, Any]:
        value = self.meta.get("simulate")
        return value if isinstance(value, dict) else {}


class _SnapshotCache:
    """Keeps the snapshots of the most recently read deployments; older ones are dropped
    and rebuilt on demand (~25 µs each), so a long history does not hold two copies."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._records: OrderedDict[str, _DeploymentRecord] = OrderedDict()

    def touch(self, record: _DeploymentRecord) -> None:
        self._records[record.id] = record
        self._records.move_to_end(record.id)
        while len(self._records) > self.size:
            _, oldest = self._records.popitem(last=False)
            oldest._snapshot = None


class _Subscriber:
    """A live subscription's buffer. Overflow drops the buffer and asks for a resync."""

    __slots__ = ("buffer", "limit", "overflowed", "wake")

    def __init__(self, limit: int) -> None:
        self.buffer: deque[Event] = deque()
        self.limit = limit
        self.overflowed = False
        self.wake = asyncio.Event()

    def push(self, event: Event) -> None:
        if self.overflowed:
            return
        if len(self.buffer) >= self.limit:
            self.buffer.clear()
            self.overflowed = True
        else:
            self.buffer.append(event)
        self.wake.set()


class _TeamData:
    """A team's deployments, indexes for listing, and its event log."""

    def __init__(self, team: Team, retention: int) -> None:
        self.team = team
        self.members: dict[str, Role] = {}
        self.sites: dict[str, Site] = {}
        self.ids: list[str] = []
        self.by_status: dict[DeploymentStatus, list[str]] = {s: [] for s in DeploymentStatus}
        self.by_site: dict[str, list[str]] = {}
        self.by_type: dict[str, list[str]] = {}
        self.seq = 0
        self.events: deque[Event] = deque(maxlen=retention)
        self.subscribers: set[_Subscriber] = set()

    def index(self, record: _DeploymentRecord) -> None:
        for ids in (
            self.ids,
            self.by_status[record.status],
            self.by_site.setdefault(record.site_id, []),
            self.by_type.setdefault(record.type, []),
        ):
            _insert_sorted(ids, record.id)

    def move_status(self, record: _DeploymentRecord, old: DeploymentStatus) -> None:
        _remove_sorted(self.by_status[old], record.id)
        _insert_sorted(self.by_status[record.status], record.id)


def _insert_sorted(ids: list[str], item: str) -> None:
    if not ids or ids[-1] < item:
        ids.append(item)  # the usual case: new ids are the newest
    else:
        bisect.insort(ids, item)


def _remove_sorted(ids: list[str], item: str) -> None:
    i = bisect.bisect_left(ids, item)
    if i < len(ids) and ids[i] == item:
        del ids[i]


def _descending(ids: list[str], before: str | None) -> Iterator[str]:
    end = len(ids) if before is None else bisect.bisect_left(ids, before)
    for i in range(end - 1, -1, -1):
        yield ids[i]


def _merge_descending(lists: list[list[str]], before: str | None) -> Iterator[str]:
    if len(lists) == 1:
        return _descending(lists[0], before)
    pointers = [len(ids) if before is None else bisect.bisect_left(ids, before) for ids in lists]

    def merged() -> Iterator[str]:
        while True:
            best = -1
            best_id = ""
            for n, ids in enumerate(lists):
                p = pointers[n]
                if p > 0 and ids[p - 1] > best_id:
                    best, best_id = n, ids[p - 1]
            if best < 0:
                return
            pointers[best] -= 1
            yield best_id

    return merged()


# --------------------------------------------------------------------------- job contexts


class _InjectedFailure(Exception):
    """Raised inside a job's ``work`` when the engine decided this step fails."""


class _EngineContext(JobContext):
    """What both job contexts share: the step, and the failure the engine may inject."""

    def __init__(
        self, deployment: Deployment, step: _StepRecord, rng: random.Random, fail_after: int | None
    ) -> None:
        self.deployment = deployment
        self.step_name = step.name
        self.rng = rng
        self._step = step
        self._fail_after = fail_after

    def _spend_work(self) -> None:
        """Count one unit of work; raise the injected failure once the budget is used up."""
        if self._fail_after is not None:
            if self._fail_after <= 0:
                raise _InjectedFailure
            self._fail_after -= 1


class _LiveContext(_EngineContext):
    def __init__(
        self,
        store: InMemoryStore,
        record: _DeploymentRecord,
        step: _StepRecord,
        rng: random.Random,
        fail_after: int | None,
    ) -> None:
        super().__init__(record.snapshot(), step, rng, fail_after)
        self._store = store
        self._record = record

    def log(self, text: str) -> None:
        if self._record.status.is_finished:
            return
        self._store._append_output(self._record, self._step, text)

    async def work(self, seconds: float) -> None:
        self._spend_work()
        await self._store.clock.sleep(seconds / self._store.speed)


class _VirtualContext(_EngineContext):
    """Runs a job without waiting: ``work`` only moves a virtual clock (for seeded history)."""

    def __init__(
        self,
        deployment: Deployment,
        step: _StepRecord,
        rng: random.Random,
        start: datetime,
        fail_after: int | None,
        output_limit: int,
    ) -> None:
        super().__init__(deployment, step, rng, fail_after)
        self.now = start
        self._limit = output_limit

    def log(self, text: str) -> None:
        data = text.encode("utf-8")
        if len(self._step.output) + len(data) > self._limit:
            self._step.truncated = True
            return
        self._step.output += data

    async def work(self, seconds: float) -> None:
        self._spend_work()
        self.now += timedelta(seconds=seconds)


def _run_now(coro: Any) -> None:
    """Drive a coroutine that never really waits to its end."""
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise RuntimeError("a pipeline job awaited something other than JobContext.work")


# --------------------------------------------------------------------------- the store


class InMemoryStore:
    """Teams, users, sites and deployments in memory, with a pipeline engine.

    Args:
        clock: Time for timestamps and for the jobs' work (a FakeClock in tests).
        seed: Seeds ids, job output and injected failures: same seed, same run. A
            deployment's jobs draw from a generator keyed by the seed and the deployment's
            place in the store's creation order (or the key given to
            :meth:`seed_deployment`), never by its id or the clock.
        registry: The pipelines this store can run.
        workers: How many deployments run at once.
        speed: Pipeline seconds per clock second (10 makes a 60 s pipeline take 6 s).
        failure_rate: Chance that a step fails by itself (0 in tests unless wanted).
        event_retention: Events kept per team for subscribers that resume.
        output_limit: Bytes of output kept per step; past it the output is cut short.
        subscriber_buffer: Events a subscriber may fall behind before it must resync.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        registry: PipelineRegistry | None = None,
        workers: int = 8,
        speed: float = 1.0,
        failure_rate: float = 0.0,
        event_retention: int = 10_000,
        output_limit: int = 64 * 1024 * 1024,
        subscriber_buffer: int = _SUBSCRIBER_BUFFER,
    ) -> None:
        if registry is None:
            from .pipelines import default_registry

            registry = default_registry()
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.seed = seed
        self.registry = registry
        self.workers = workers
        self.speed = speed
        self.failure_rate = failure_rate
        self.event_retention = event_retention
        self.output_limit = output_limit
        self.subscriber_buffer = subscriber_buffer
        self._rng = random.Random(seed)
        self._ids = IdGenerator(random.Random(seed ^ 0x5EED))
        self.instance_id = IdGenerator(random.Random()).new(self.clock.now())
        self._teams: dict[str, _TeamData] = {}
        self._users: dict[str, User] = {}
        self._sites: dict[str, Site] = {}
        self._deployments: dict[str, _DeploymentRecord] = {}
        self._pending: deque[_DeploymentRecord] = deque()
        self._busy_sites: set[str] = set()
        self._running: set[_DeploymentRecord] = set()
        self._started = False
        self._listeners: list[Callable[[Event], None]] = []
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._snapshots = _SnapshotCache(_SNAPSHOT_CACHE)
        self._created = 0
        """Deployments created live so far: the next one's generator key."""
        self._seeded = 0
        """Deployments seeded without a key so far: the next one's generator key."""

    # -- set-up -----------------------------------------------------------------------

    def add_team(self, name: str, *, team_id: str | None = None) -> Team:
        team = Team.model_construct(
            id=team_id or self._ids.new(self.clock.now()), name=str(name), role=Role.VIEWER
        )
        self._teams[team.id] = _TeamData(team, self.event_retention)
        return team

    def add_user(self, name: str, email: str | None = None, *, user_id: str | None = None) -> User:
        user = User.model_construct(
            id=user_id or self._ids.new(self.clock.now()), name=str(name), email=email
        )
        self._users[user.id] = user
        return user

    def add_member(self, team_id: str, user_id: str, role: Role = Role.OPERATOR) -> None:
        if user_id not in self._users:
            raise KeyError(f"no user {user_id}")
        self._team(team_id).members[user_id] = Role(role)

    def add_site(
        self, team_id: str, domain: str, *, server: str | None = None, site_id: str | None = None
    ) -> Site:
        site = Site.model_construct(
            id=site_id or self._ids.new(self.clock.now()),
            team_id=team_id,
            domain=domain,
            server=server,
        )
        self._team(team_id).sites[site.id] = site
        self._sites[site.id] = site
        return site

    def backend_for(self, user_id: str) -> InMemoryBackend:
        """A backend acting for ``user_id``."""
        if user_id not in self._users:
            raise KeyError(f"no user {user_id}")
        return InMemoryBackend(self, user_id)

    @property
    def teams(self) -> list[Team]:
        return [t.team for t in self._teams.values()]

    @property
    def users(self) -> list[User]:
        return list(self._users.values())

    def sites_of(self, team_id: str) -> list[Site]:
        return sorted(self._team(team_id).sites.values(), key=lambda s: s.domain)

    def members_of(self, team_id: str) -> dict[str, Role]:
        return dict(self._team(team_id).members)

    def head_seq(self, team_id: str) -> int:
        return self._team(team_id).seq

    def deployment_count(self, team_id: str | None = None) -> int:
        if team_id is None:
            return len(self._deployments)
        return len(self._team(team_id).ids)

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener`` with every event of every team (for the server and benches)."""
        self._listeners.append(listener)

    # -- life -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start running queued deployments (needs a running event loop)."""
        self._started = True
        self._pump()

    async def stop(self) -> None:
        """Stop the engine: running deployments' tasks are cancelled (records stay as they are)."""
        self._started = False
        tasks = [r.task for r in self._running if r.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def active_count(self) -> int:
        """Deployments queued or running."""
        return len(self._pending) + len(self._running)

    def release(self, deployment_id: str) -> None:
        """Let a deployment created with ``meta["simulate"]["hold"]`` go on."""
        record = self._deployments[deployment_id]
        if record.hold is not None:
            record.hold.set()

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait (at most ``timeout`` real seconds) until nothing is queued or running."""
        if not self.active_count:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._idle_waiters.append(waiter)
        async with asyncio.timeout(timeout):
            await waiter

    # -- operations (checked by InMemoryBackend) --------------------------------------

    def _team(self, team_id: str) -> _TeamData:
        try:
            return self._teams[team_id]
        except KeyError:
            raise NotFound(f"team {team_id} not found") from None

    def create_deployment(
        self,
        team_id: str,
        type: str,
        site_id: str,
        meta: dict[str, Any] | None,
        user_id: str,
    ) -> Deployment:
        """Queue a new deployment (no access check: use a backend for that)."""
        team = self._team(team_id)
        spec = self.registry.get(type)
        site = team.sites.get(site_id)
        if site is None:
            raise NotFound(f"site {site_id} not found")
        record = self._new_record(
            team, spec, site, meta or {}, user_id, self.clock.now(), f"live:{self._created}"
        )
        self._created += 1
        if record.simulate.get("hold"):
            record.hold = asyncio.Event()
        self._add(team, record)
        self._emit(
            team,
            DeploymentCreated.model_construct(
                seq=team.seq + 1,
                team_id=team.team.id,
                deployment=record.snapshot(),
                kind="deployment.created",
            ),
        )
        self._pending.append(record)
        self._pump()
        return record.snapshot()

    def _new_record(
        self,
        team: _TeamData,
        spec: PipelineSpec,
        site: Site,
        meta: dict[str, Any],
        user_id: str,
        created_at: datetime,
        rng_key: str,
    ) -> _DeploymentRecord:
        deployment_id = self._ids.new(created_at)
        user = self._users.get(user_id)
        user_name = user.name if user else user_id
        meta = copy.deepcopy(dict(meta))
        operation_name = spec.operation_name(meta, site)
        steps = [
            _StepRecord(
                id=self._ids.new(created_at),
                deployment_id=deployment_id,
                name=step.name,
                sort_order=n + 1,
            )
            for n, step in enumerate(spec.steps)
        ]
        return _DeploymentRecord(
            cache=self._snapshots,
            id=deployment_id,
            team_id=team.team.id,
            user_id=user_id,
            user_name=user_name,
            site_id=site.id,
            site_domain=site.domain,
            type=spec.type,
            operation_name=operation_name,
            meta=meta,
            created_at=created_at,
            steps=steps,
            rng_key=rng_key,
            search_text=" ".join(
                (deployment_id, operation_name, spec.type, site.domain, user_name)
            ).casefold(),
        )

    def _add(self, team: _TeamData, record: _DeploymentRecord) -> None:
        self._deployments[record.id] = record
        team.index(record)

    def get_record(self, deployment_id: str) -> _DeploymentRecord:
        try:
            return self._deployments[deployment_id]
        except KeyError:
            raise NotFound(f"deployment {deployment_id} not found") from None

    def cancel(self, deployment_id: str, reason: str | None) -> Deployment:
        """Cancel now: deployment Cancelled, the running step Cancelled, the rest unchanged."""
        record = self.get_record(deployment_id)
        if record.status.is_finished:
            raise DeploymentFinished(
                f"deployment {deployment_id} already {record.status.value}; nothing to cancel"
            )
        team = self._teams[record.team_id]
        now = self.clock.now()
        for step in record.steps:
            if step.status is StepStatus.RUNNING:
                step.status = StepStatus.CANCELLED
                step.finished_at = now
                record.changed()
                self._emit_step(team, record, step)
        record.cancel_reason = reason.strip() if reason and reason.strip() else None
        self._set_status(team, record, DeploymentStatus.CANCELLED, now)
        if record in self._pending:
            self._pending.remove(record)
        if record.task is not None and record.task is not asyncio.current_task():
            record.task.cancel()
        return record.snapshot()

    # -- the engine -------------------------------------------------------------------

    def _pump(self) -> None:
        """Start pending deployments while workers are free and their site is idle."""
        if not self._started or not self._pending:
            return
        waiting: deque[_DeploymentRecord] = deque()
        while self._pending and len(self._running) < self.workers:
            record = self._pending.popleft()
            if record.site_id in self._busy_sites:
                waiting.append(record)
                continue
            self._busy_sites.add(record.site_id)
            self._running.add(record)
            task = asyncio.get_running_loop().create_task(
                self._run(record), name=f"deployment {record.id}"
            )
            # A done callback, not a finally: a task cancelled before its first step never
            # runs its coroutine's finally blocks.
            task.add_done_callback(functools.partial(self._finished, record))
            record.task = task
        waiting.extend(self._pending)
        self._pending = waiting

    def _rng_for(self, record: _DeploymentRecord) -> random.Random:
        # Not the id: its time part comes from the clock, so a seeded history (created
        # relative to "now") would fail at other steps, take other times and print other
        # output on every run. A str seed hashes the same in every process.
        return random.Random(f"{self.seed}:{record.rng_key}")

    def _plan_failure(
        self, record: _DeploymentRecord, step_name: str, rng: random.Random
    ) -> int | None:
        """How many units of work a step does before an injected failure (None: no failure)."""
        forced = record.simulate.get("fail_step")
        if forced == step_name or (self.failure_rate and rng.random() < self.failure_rate):
            return rng.randint(0, 2)
        return None

    async def _run(self, record: _DeploymentRecord) -> None:
        team = self._teams[record.team_id]
        spec = self.registry.get(record.type)
        rng = self._rng_for(record)
        for step, step_spec in zip(record.steps, spec.steps, strict=True):
            if record.status.is_finished:
                return
            if step_spec.applies is not None and not step_spec.applies(record.meta):
                now = self.clock.now()
                self._start_deployment(team, record, now)
                step.status = StepStatus.SKIPPED
                step.started_at = step.finished_at = now
                self._append_output(record, step, f"Skipped: {step_spec.skip_reason}\n")
                record.changed()
                self._emit_step(team, record, step)
                continue
            now = self.clock.now()
            self._start_deployment(team, record, now)
            step.status = StepStatus.RUNNING
            step.started_at = now
            record.changed()
            self._emit_step(team, record, step)
            if record.hold is not None:
                await record.hold.wait()
            fail_after = self._plan_failure(record, step.name, rng)
            context = _LiveContext(self, record, step, rng, fail_after)
            failure: str | None = None
            skipped: str | None = None
            try:
                await step_spec.job(context)
                if fail_after is not None:
                    raise _InjectedFailure
            except _InjectedFailure:
                failure = step_spec.failure
            except StepFailed as exc:
                failure = exc.message
            except StepSkipped as exc:
                skipped = exc.reason
            except Exception as exc:  # a job's own bug must not kill the engine
                failure = f"internal error in step '{step.name}': {exc!r}"
            if record.status.is_finished:
                return  # cancelled while the job ran; cancel() already recorded it
            now = self.clock.now()
            if failure is not None:
                self._append_output(record, step, failure.rstrip("\n") + "\n")
                step.status = StepStatus.FAILED
                step.finished_at = now
                record.changed()
                self._emit_step(team, record, step)
                self._set_status(team, record, DeploymentStatus.FAILED, now)
                return
            if skipped is not None:
                self._append_output(record, step, f"Skipped: {skipped}\n")
                step.status = StepStatus.SKIPPED
            else:
                step.status = StepStatus.COMPLETED
            step.finished_at = now
            record.changed()
            self._emit_step(team, record, step)
        if not record.status.is_finished:
            now = self.clock.now()
            self._start_deployment(team, record, now)
            self._set_status(team, record, DeploymentStatus.COMPLETED, now)

    def _finished(self, record: _DeploymentRecord, _task: object = None) -> None:
        self._running.discard(record)
        self._busy_sites.discard(record.site_id)
        record.task = None
        if self._started:
            self._pump()
        if not self.active_count:
            for waiter in self._idle_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._idle_waiters.clear()

    def _start_deployment(self, team: _TeamData, record: _DeploymentRecord, now: datetime) -> None:
        if record.status is DeploymentStatus.QUEUED:
            record.started_at = now
            self._set_status(team, record, DeploymentStatus.RUNNING, None)

    def _set_status(
        self,
        team: _TeamData,
        record: _DeploymentRecord,
        status: DeploymentStatus,
        finished_at: datetime | None,
    ) -> None:
        old = record.status
        record.status = status
        if status.is_finished:
            record.finished_at = finished_at
        record.changed()
        team.move_status(record, old)
        self._emit(
            team,
            DeploymentUpdated.model_construct(
                seq=team.seq + 1,
                team_id=team.team.id,
                deployment=record.snapshot(),
                kind="deployment.updated",
            ),
        )

    def _append_output(self, record: _DeploymentRecord, step: _StepRecord, text: str) -> None:
        if not text or step.truncated:
            return
        data = text.encode("utf-8")
        if len(step.output) + len(data) > self.output_limit:
            step.truncated = True
            record.changed()
            self._emit_step(self._teams[record.team_id], record, step)
            return
        offset = len(step.output)
        step.output += data
        record.changed()  # snapshots carry output_size
        team = self._teams[record.team_id]
        self._emit(
            team,
            StepOutput.model_construct(
                seq=team.seq + 1,
                team_id=record.team_id,
                deployment_id=record.id,
                step_id=step.id,
                offset=offset,
                data=text,
                kind="step.output",
            ),
        )

    def _emit_step(self, team: _TeamData, record: _DeploymentRecord, step: _StepRecord) -> None:
        self._emit(
            team,
            StepUpdated.model_construct(
                seq=team.seq + 1,
                team_id=team.team.id,
                deployment_id=record.id,
                step=step.snapshot(),
                kind="step.updated",
            ),
        )

    def _emit(self, team: _TeamData, event: Event) -> None:
        # Every event is built with ``team.seq + 1``; numbering happens only here.
        assert event.seq == team.seq + 1, "events must be built with the team's next seq"
        team.seq = event.seq
        team.events.append(event)
        for subscriber in team.subscribers:
            subscriber.push(event)
        for listener in self._listeners:
            listener(event)

    # -- seeded history ----------------------------------------------------------------

    def seed_deployment(
        self,
        team_id: str,
        type: str,
        site_id: str,
        meta: dict[str, Any] | None,
        user_id: str,
        created_at: datetime,
        *,
        outcome: DeploymentStatus = DeploymentStatus.COMPLETED,
        queue_delay: float = 2.0,
        cancel_reason: str | None = None,
        rng_key: str | None = None,
    ) -> Deployment:
        """Add a finished deployment to history, its jobs run on a virtual clock.

        ``outcome`` Failed fails a step chosen by the seeded generator (or
        ``meta["simulate"]["fail_step"]``); Cancelled stops it during a chosen step. No
        events are emitted: history is what a first listing shows.

        Args:
            rng_key: Keys the jobs' generator (with the store's seed): the same key gives
                the same failing step, durations and output whatever the time or the order
                of seeding. Default: the deployment's place among those seeded without one.
        """
        if not outcome.is_finished:
            raise ValueError("seeded deployments are finished")
        team = self._team(team_id)
        spec = self.registry.get(type)
        site = team.sites.get(site_id)
        if site is None:
            raise NotFound(f"site {site_id} not found")
        if rng_key is None:
            rng_key = f"seeded:{self._seeded}"
            self._seeded += 1
        record = self._new_record(
            team, spec, site, meta or {}, user_id, created_at, f"history:{rng_key}"
        )
        rng = self._rng_for(record)
        runnable = [
            n for n, s in enumerate(spec.steps) if s.applies is None or s.applies(record.meta)
        ]
        forced = record.simulate.get("fail_step")
        stop_at = -1
        if outcome is not DeploymentStatus.COMPLETED and runnable:
            names = [spec.steps[n].name for n in runnable]
            stop_at = runnable[names.index(forced)] if forced in names else rng.choice(runnable)
        now = created_at + timedelta(seconds=queue_delay)
        record.started_at = now
        record.status = DeploymentStatus.RUNNING
        inputs = record.snapshot()
        for n, (step, step_spec) in enumerate(zip(record.steps, spec.steps, strict=True)):
            if n not in runnable:
                step.status = StepStatus.SKIPPED
                step.started_at = step.finished_at = now
                step.output += f"Skipped: {step_spec.skip_reason}\n".encode()
                continue
            step.started_at = now
            fail_after = rng.randint(0, 2) if n == stop_at else None
            # One snapshot for every step: jobs read the deployment's inputs, which do not
            # change, and rebuilding it per step made seeding quadratic in the step count.
            context = _VirtualContext(inputs, step, rng, now, fail_after, self.output_limit)
            failure: str | None = None
            skipped: str | None = None
            try:
                _run_now(step_spec.job(context))
                if fail_after is not None:
                    raise _InjectedFailure
            except _InjectedFailure:
                failure = step_spec.failure
            except StepFailed as exc:
                failure = exc.message
            except StepSkipped as exc:
                skipped = exc.reason
            now = context.now
            step.finished_at = now
            if n == stop_at and outcome is DeploymentStatus.CANCELLED:
                step.status = StepStatus.CANCELLED
                break
            if failure is not None:
                context.log(failure.rstrip("\n") + "\n")
                step.status = StepStatus.FAILED
                break
            if skipped is not None:
                context.log(f"Skipped: {skipped}\n")
                step.status = StepStatus.SKIPPED
            else:
                step.status = StepStatus.COMPLETED
        else:
            if outcome is not DeploymentStatus.COMPLETED:
                # Every step was skipped: nothing left to fail or cancel.
                outcome = DeploymentStatus.COMPLETED
        failed = any(s.status is StepStatus.FAILED for s in record.steps)
        record.status = DeploymentStatus.FAILED if failed else outcome
        if record.status is DeploymentStatus.CANCELLED:
            record.cancel_reason = cancel_reason
        record.finished_at = now
        record.changed()
        self._add(team, record)
        return record.snapshot()

    # -- reads -------------------------------------------------------------------------

    def list_records(
        self,
        team_id: str,
        filter: DeploymentFilter,
        before: str | None,
        limit: int,
    ) -> tuple[list[_DeploymentRecord], str | None]:
        team = self._team(team_id)
        candidates: list[list[list[str]]] = [[team.ids]]
        if filter.site_id is not None:
            candidates.append([team.by_site.get(filter.site_id, [])])
        if filter.statuses:
            candidates.append([team.by_status[s] for s in filter.statuses])
        if filter.types:
            candidates.append([team.by_type.get(t, []) for t in filter.types])
        # Walk the smallest index; check the rest of the filter on each candidate.
        smallest = min(candidates, key=lambda lists: sum(len(ids) for ids in lists))
        needle = filter.text.casefold() if filter.text else None
        found: list[_DeploymentRecord] = []
        deployments = self._deployments
        for deployment_id in _merge_descending(smallest, before):
            record = deployments[deployment_id]
            if filter.site_id is not None and record.site_id != filter.site_id:
                continue
            if filter.statuses and record.status not in filter.statuses:
                continue
            if filter.types and record.type not in filter.types:
                continue
            if needle is not None and needle not in record.search_text:
                continue
            found.append(record)
            if len(found) > limit:
                break
        if len(found) > limit:
            return found[:limit], found[limit - 1].id
        return found, None

    def subscribe_events(self, team_id: str, since: int | None) -> AsyncIterator[StreamItem]:
        team = self._team(team_id)
        return self._subscription(team, since)

    def events_since(self, team_id: str, since: int | None) -> list[Event]:
        """The team's held events after ``since`` (``None``: none), or a single Resync when
        they cannot all be given: ``since`` is older than what is held, or not yet reached.
        """
        team = self._team(team_id)
        head = team.seq
        if since is None or since == head:
            return []
        oldest = team.events[0].seq if team.events else head + 1
        if since > head:
            reason = f"events after {since} do not exist here (newest {head}); list again"
        elif since + 1 < oldest:
            reason = (
                f"events after {since} are no longer held (oldest {oldest}, newest {head}); "
                "list again"
            )
        else:
            start = since + 1 - oldest
            return [team.events[i] for i in range(start, len(team.events))]
        return [Resync(seq=head, team_id=team.team.id, reason=reason)]

    async def _subscription(self, team: _TeamData, since: int | None) -> AsyncIterator[StreamItem]:
        # Set up before the first yield, so events that happen after the caller received
        # the "connected" report are buffered for it.
        backlog = self.events_since(team.team.id, since)
        subscriber = _Subscriber(self.subscriber_buffer)
        team.subscribers.add(subscriber)
        try:
            yield ConnectionStatus(state=ConnectionState.CONNECTED, since=self.clock.now())
            for event in backlog:
                yield event
            while True:
                if not subscriber.buffer and not subscriber.overflowed:
                    subscriber.wake.clear()
                    await subscriber.wake.wait()
                if subscriber.overflowed:
                    subscriber.overflowed = False
                    yield Resync(
                        seq=team.seq,
                        team_id=team.team.id,
                        reason="the subscriber fell too far behind; list again",
                    )
                    continue
                while subscriber.buffer:
                    yield subscriber.buffer.popleft()
                    if subscriber.overflowed:
                        break
        finally:
            team.subscribers.discard(subscriber)


# --------------------------------------------------------------------------- a caller's view


class InMemoryBackend(Backend):
    """The in-memory store as seen by one user: team-scoped and role-checked."""

    label = "embedded"

    def __init__(self, store: InMemoryStore, user_id: str) -> None:
        self.store = store
        self.user_id = user_id

    def _role(self, team_id: str) -> Role:
        team = self.store._teams.get(team_id)
        role = team.members.get(self.user_id) if team is not None else None
        if role is None:
            raise NotFound(f"team {team_id} not found")
        return role

    def _record(self, deployment_id: str) -> _DeploymentRecord:
        record = self.store._deployments.get(deployment_id)
        if record is None or self.user_id not in self.store._teams[record.team_id].members:
            raise NotFound(f"deployment {deployment_id} not found")
        return record

    def _require_operator(self, team_id: str, action: str) -> None:
        if self._role(team_id) is not Role.OPERATOR:
            raise Forbidden(f"your role in this team is viewer: you may not {action}")

    async def me(self) -> Me:
        user = self.store._users[self.user_id]
        teams = [
            Team.model_construct(id=t.team.id, name=t.team.name, role=t.members[self.user_id])
            for t in self.store._teams.values()
            if self.user_id in t.members
        ]
        return Me.model_construct(user=user, teams=teams)

    async def list_sites(self, team_id: str) -> list[Site]:
        self._role(team_id)
        return self.store.sites_of(team_id)

    async def list_deployments(
        self,
        team_id: str,
        filter: DeploymentFilter | None = None,
        *,
        before: str | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        self._role(team_id)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
        if before is not None and not is_ulid(before):
            raise InvalidRequest(f"malformed cursor {before!r}: expected a deployment id")
        filter = filter or DeploymentFilter()
        _check_types(self.store.registry.types, filter.types)
        records, next_before = self.store.list_records(team_id, filter, before, limit)
        return DeploymentPage.model_construct(
            data=[r.snapshot() for r in records],
            next_before=next_before,
            seq=self.store.head_seq(team_id),
        )

    async def get_deployment(self, deployment_id: str) -> Deployment:
        return self._record(deployment_id).snapshot()

    async def read_output(
        self, deployment_id: str, step_id: str, *, offset: int = 0, limit: int = 1024 * 1024
    ) -> OutputChunk:
        record = self._record(deployment_id)
        step = record.step(step_id)
        if step is None:
            raise NotFound(f"step {step_id} not found in deployment {deployment_id}")
        if offset < 0:
            raise InvalidRequest(f"offset must not be negative, not {offset}")
        if not 1 <= limit <= MAX_OUTPUT_READ:
            raise InvalidRequest(f"limit must be between 1 and {MAX_OUTPUT_READ}, not {limit}")
        return OutputChunk(
            offset=offset,
            data=bytes(step.output[offset : offset + limit]),
            total_size=len(step.output),
            truncated=step.truncated,
            complete=step.status.is_finished,
        )

    async def cancel_deployment(self, deployment_id: str, reason: str | None = None) -> Deployment:
        record = self._record(deployment_id)
        self._require_operator(record.team_id, "cancel deployments")
        return self.store.cancel(deployment_id, reason)

    async def trigger_deployment(
        self, team_id: str, type: str, site_id: str, meta: dict[str, Any] | None = None
    ) -> Deployment:
        self._require_operator(team_id, "trigger deployments")
        return self.store.create_deployment(team_id, type, site_id, meta, self.user_id)

    async def subscribe(self, team_id: str, since: int | None = None) -> AsyncIterator[StreamItem]:
        # Checked on first iteration, like a remote backend that learns it on connecting.
        self._role(team_id)
        async for item in self.store.subscribe_events(team_id, since):
            yield item


def _check_types(known: Iterable[str], wanted: Iterable[str]) -> None:
    known_set = set(known)
    unknown = sorted(set(wanted) - known_set)
    if unknown:
        raise InvalidRequest(
            f"unknown pipeline type(s) {', '.join(unknown)} (known: {', '.join(sorted(known_set))})"
        )
