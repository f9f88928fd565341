"""The seeded demo history is the same on every run with the same seed.

QA saw the same deployment fail at another step, after another time, on every start of the
demo: its jobs' generator was keyed by its id, whose time part comes from the clock. These
tests build the demo under different clocks, id randomness and seeding orders, and compare
a fingerprint of the whole history.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import datetime, timedelta

import pytest

from backend_client.clock import FakeClock, utc
from backend_client.demo import build_demo, plan_demo
from backend_client.ids import IdGenerator
from backend_client.memory import InMemoryStore
from backend_client.models import DeploymentFilter
from tui.embedded import EmbeddedDemo
from tui.settings import DemoSettings

START = utc(2026, 11, 26, 12, 0, 0)
# Another day, another sub-millisecond phase: which ids share a millisecond changes too.
LATER = utc(2027, 3, 4, 5, 6, 7) + timedelta(microseconds=654_321)
HISTORY = 300

# Output may print a deployment's own time (an `aws s3 ls` listing): it moves with "now".
_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?")

Fingerprint = list[tuple[object, ...]]


class _TickingClock:
    """Real time passing: every reading is a little later than the last, by a random step."""

    def __init__(self, start: datetime, seed: int) -> None:
        self._now = start
        self._rng = random.Random(seed)

    def now(self) -> datetime:
        self._now += timedelta(microseconds=self._rng.randint(0, 3_000))
        return self._now

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("building the demo must not wait")


def _fingerprint(store: InMemoryStore, now: datetime, *, exact: bool = True) -> Fingerprint:
    """Everything a history shows, per deployment, oldest first; times relative to ``now``.

    With ``exact=False``, times printed in output and names are blanked, for runs whose
    "now" differs.
    """

    def text(value: bytes) -> bytes:
        return value if exact else _TIME.sub(b"<time>", value)

    rows: Fingerprint = []
    for r in store._deployments.values():
        assert r.started_at is not None and r.finished_at is not None
        steps = tuple(
            (
                s.name,
                s.status.value,
                None if s.started_at is None else s.started_at - r.started_at,
                None
                if s.started_at is None or s.finished_at is None
                else s.finished_at - s.started_at,
                hashlib.sha256(text(bytes(s.output))).hexdigest(),
                s.truncated,
            )
            for s in r.steps
        )
        rows.append(
            (
                r.created_at - now,
                r.type,
                r.site_domain,
                r.user_name,
                text(r.operation_name.encode()),
                r.status.value,
                r.cancel_reason,
                r.started_at - r.created_at,
                r.finished_at - r.started_at,
                steps,
            )
        )
    rows.sort(key=repr)
    return rows


def _world_ids(store: InMemoryStore) -> list[str]:
    return [t.id for t in store.teams] + [u.id for u in store.users] + sorted(store._sites)


def _built(clock: FakeClock | _TickingClock, *, seed: int = 7) -> tuple[InMemoryStore, datetime]:
    store = InMemoryStore(clock=clock, seed=seed)
    now = clock.now()
    build_demo(store, seed=seed, history=HISTORY, now=now)
    return store, now


def test_the_same_seed_gives_the_same_history_whatever_the_clock() -> None:
    first, first_now = _built(FakeClock(START))
    later, later_now = _built(FakeClock(LATER))
    ticking, ticking_now = _built(_TickingClock(LATER, seed=1))
    expected = _fingerprint(first, first_now, exact=False)
    assert len(expected) == HISTORY
    assert _fingerprint(later, later_now, exact=False) == expected
    assert _fingerprint(ticking, ticking_now, exact=False) == expected
    # Teams, people and sites get the same ids too (job output names sites by id).
    assert _world_ids(later) == _world_ids(ticking) == _world_ids(first)


def test_only_the_deployments_own_times_differ_in_output_across_clocks() -> None:
    first, first_now = _built(FakeClock(START))
    later, later_now = _built(FakeClock(LATER))
    # Without blanking times, some output differs (the deployment's own time)...
    exact_first = _fingerprint(first, first_now)
    exact_later = _fingerprint(later, later_now)
    differing = [a for a, b in zip(exact_first, exact_later, strict=True) if a != b]
    assert differing and len(differing) < len(exact_first) // 2
    # ...and nothing but output does.
    assert [row[:-1] for row in exact_first] == [row[:-1] for row in exact_later]


def test_id_randomness_and_seeding_order_change_nothing_but_ids() -> None:
    expected = _fingerprint(*_built(FakeClock(START)))

    other_ids = InMemoryStore(clock=FakeClock(START), seed=7)
    other_ids._ids = IdGenerator(random.Random(12345))  # other random parts in every id
    build_demo(other_ids, seed=7, history=HISTORY)
    assert _fingerprint(other_ids, START) == expected

    for chunk in (1, 7, 500):
        planned = InMemoryStore(clock=FakeClock(START), seed=7)
        _world, history = plan_demo(planned, seed=7, history=HISTORY)
        while not history.complete:
            history.seed(chunk)
        assert _fingerprint(planned, START) == expected, chunk
        assert _world_ids(planned) == _world_ids(other_ids)


def test_the_qa_case_fails_at_the_same_step_after_the_same_time() -> None:
    """Every failed deployment fails at the same step, after the same time, on every run."""

    def failures(store: InMemoryStore) -> list[tuple[str, str, timedelta]]:
        found: list[tuple[str, str, timedelta]] = []
        for r in sorted(store._deployments.values(), key=lambda r: r.created_at):
            failed = next((s for s in r.steps if s.status.value == "failed"), None)
            if failed is not None:
                assert failed.started_at is not None and failed.finished_at is not None
                found.append(
                    (r.operation_name, failed.name, failed.finished_at - failed.started_at)
                )
        return found

    runs = [failures(_built(clock)[0]) for clock in (FakeClock(START), FakeClock(LATER))]
    assert runs[0] and runs[0] == runs[1]


def test_another_seed_gives_another_history() -> None:
    seven = _fingerprint(*_built(FakeClock(START)))
    eight = _fingerprint(*_built(FakeClock(START), seed=8))
    assert seven != eight


async def test_live_deployments_do_not_draw_from_their_ids() -> None:
    """Live runs are keyed by creation order too: the same trigger, the same run."""

    async def run(clock: FakeClock, ids_seed: int) -> list[tuple[str, str, str]]:
        store = InMemoryStore(clock=clock, seed=7, failure_rate=0.3)
        store._ids = IdGenerator(random.Random(ids_seed))
        world = build_demo(store, seed=7, history=0)
        backend = store.backend_for(world.default_user_id)
        team_id = world.default_team_id
        sites = world.sites_of(team_id)
        await store.start()
        try:
            spec = store.registry.get("backup_site")
            made = [
                await backend.trigger_deployment(
                    team_id,
                    spec.type,
                    sites[n].id,
                    spec.demo_meta(random.Random(n), sites[n], sites),
                )
                for n in range(6)
            ]
            for _ in range(400):
                if not store.active_count:
                    break
                await clock.advance(15)
            assert not store.active_count
        finally:
            await store.stop()
        return [
            (s.name, s.status.value, hashlib.sha256(bytes(s.output)).hexdigest())
            for d in made
            for s in store.get_record(d.id).steps
        ]

    assert await run(FakeClock(START), 1) == await run(FakeClock(START), 2)


async def _embedded(
    clock: FakeClock, listings: list[tuple[int, DeploymentFilter | None]]
) -> tuple[Fingerprint, list[str]]:
    demo = EmbeddedDemo(DemoSettings(history=HISTORY, seed=7), clock, traffic=False)
    now = clock.now()
    for team, flt in listings:
        await demo._backend.list_deployments(demo.world.teams[team].id, flt, limit=20)
    await demo.history.finish(chunk=9)
    return _fingerprint(demo.store, now, exact=False), _world_ids(demo.store)


@pytest.mark.timeout(30)
async def test_the_embedded_demo_seeds_the_same_history_whatever_is_listed() -> None:
    built, built_now = _built(FakeClock(START))
    expected = _fingerprint(built, built_now, exact=False)
    plain = await _embedded(FakeClock(START), [])
    first_team = await _embedded(FakeClock(LATER), [(0, None), (0, None)])
    others = await _embedded(
        FakeClock(START + timedelta(hours=5, microseconds=777)),
        [
            (2, DeploymentFilter.of(types=["backup_site"])),
            (1, DeploymentFilter.of(statuses=["failed"])),
            (0, DeploymentFilter.of(text="staging")),
        ],
    )
    assert plain == first_team == others == (expected, _world_ids(built))
