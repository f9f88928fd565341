"""Demo data for the bundled backend: teams, people, sites, history, and live traffic.

Everything comes from a seeded random generator, so the same seed gives the same world
(tests and snapshots rely on it): the same ids for teams, people and sites, and the same
history (types, sites, people, outcomes, failing steps, step durations and output), whatever
the clock says, however fast the machine is and in whatever order the history is seeded.
Only times are taken from the clock: history ends "now", so its times (and the deployments'
ids, whose first part is their creation time) move with it, and the output that prints a
deployment's own time moves with them.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .clock import Clock, utc
from .ids import IdGenerator
from .memory import InMemoryStore
from .models import DeploymentFilter, DeploymentPage, DeploymentStatus, Role, Site, Team, User
from .pipeline import PipelineSpec

__all__ = ["DemoHistory", "DemoTraffic", "DemoWorld", "build_demo", "plan_demo"]

_TEAMS = ("Acme Agency", "Northwind Hosting", "Bluebird Studio")
_PEOPLE = (
    ("Ada Lovelace", "ada"),
    ("Grace Hopper", "grace"),
    ("Linus Okafor", "linus"),
    ("Margaret Hamilton", "margaret"),
    ("Ken Tanaka", "ken"),
    ("Sofia Marin", "sofia"),
)
# (team index, user index, role)
_MEMBERS = (
    (0, 0, Role.OPERATOR),
    (1, 0, Role.OPERATOR),
    (2, 0, Role.VIEWER),
    (0, 1, Role.OPERATOR),
    (0, 2, Role.OPERATOR),
    (1, 2, Role.OPERATOR),
    (0, 3, Role.VIEWER),
    (1, 4, Role.OPERATOR),
    (2, 4, Role.OPERATOR),
    (2, 5, Role.OPERATOR),
    (1, 5, Role.VIEWER),
)
_SITES = (
    (0, "shop.acme-outdoors.com", "forge-eu-1"),
    (0, "staging.shop.acme-outdoors.com", "forge-eu-1"),
    (0, "blog.acme-outdoors.com", "forge-eu-1"),
    (0, "acme-outdoors.com", "forge-eu-2"),
    (0, "careers.acme-outdoors.com", "forge-eu-2"),
    (0, "docs.acmecloud.io", "forge-us-1"),
    (0, "status.acmecloud.io", "forge-us-1"),
    (0, "kidsclub-summer.org", "forge-eu-2"),
    (0, "bakery-lumiere.fr", "forge-eu-3"),
    (0, "vintage-vinyl.co.uk", "forge-eu-3"),
    (0, "build [prod].acme-intranet.local", "forge-eu-1"),
    (0, "api.acmecloud.io", "forge-us-1"),
    (1, "northwind-traders.com", "nw-web-01"),
    (1, "shop.northwind-traders.com", "nw-web-01"),
    (1, "intranet.northwind.net", "nw-web-02"),
    (1, "recipes.northwind-kitchen.com", "nw-web-02"),
    (1, "harbourside-dental.com.au", "nw-web-03"),
    (1, "greenleaf-landscaping.ca", "nw-web-03"),
    (1, "mountain-yoga-retreat.com", "nw-web-01"),
    (1, "fjord-cycling.no", "nw-web-02"),
    (2, "bluebird.studio", "bb-forge-1"),
    (2, "portfolio.bluebird.studio", "bb-forge-1"),
    (2, "client-preview.bluebird.studio", "bb-forge-2"),
    (2, "wedding-of-sam-and-alex.com", "bb-forge-2"),
)
_CANCEL_REASONS = (
    "Wrong site selected",
    "Client asked to wait until after the sale",
    "Superseded by a newer deployment",
    None,
    "Maintenance window closed",
)
_WORLD_TIME = utc(2024, 1, 1)
"""The time part of the demo world's ids: fixed, so the same seed gives the same ids (job
output names sites by id) however long the world took to build, and on any day."""


@dataclass
class DemoWorld:
    """What :func:`build_demo` created."""

    teams: list[Team]
    users: list[User]
    sites: list[Site]
    tokens: dict[str, str] = field(default_factory=dict)
    """Demo bearer tokens → user id."""
    default_user_id: str = ""
    """The operator the dashboard acts as on the embedded backend."""
    default_team_id: str = ""

    def sites_of(self, team_id: str) -> list[Site]:
        return [s for s in self.sites if s.team_id == team_id]


def build_demo(
    store: InMemoryStore,
    *,
    seed: int = 7,
    history: int = 600,
    days: float = 14.0,
    now: datetime | None = None,
) -> DemoWorld:
    """Create demo teams, users, sites and ``history`` finished deployments.

    Args:
        store: The store to fill (empty).
        seed: Seeds every choice.
        history: Finished deployments to create, spread over the last ``days`` days.
        days: How far back history goes.
        now: The end of history (default: the store's clock).
    """
    world, planned = _plan(store, seed=seed, history=history, days=days, now=now)
    for item in planned:  # oldest first
        item.seed(store)
    return world


def plan_demo(
    store: InMemoryStore,
    *,
    seed: int = 7,
    history: int = 600,
    days: float = 14.0,
    now: datetime | None = None,
) -> tuple[DemoWorld, DemoHistory]:
    """Like :func:`build_demo`, but the history is only planned: :class:`DemoHistory` seeds it.

    The same deployments as :func:`build_demo` (types, sites, people, times, outcomes,
    failing steps, durations, output), seeded in another order, so only their ids' random
    parts differ from :func:`build_demo`'s.
    """
    world, planned = _plan(store, seed=seed, history=history, days=days, now=now)
    return world, DemoHistory(store, planned, first_team_id=world.default_team_id)


@dataclass(frozen=True)
class _Planned:
    """One finished deployment of the demo history, decided but not run yet."""

    team_id: str
    type: str
    site_id: str
    meta: dict[str, object]
    user_id: str
    created_at: datetime
    outcome: DeploymentStatus
    queue_delay: float
    cancel_reason: str | None
    index: int
    """Its place in the history, oldest first: keys its jobs' generator, so what it does
    depends neither on when nor in what order it is seeded."""

    def seed(self, store: InMemoryStore) -> None:
        store.seed_deployment(
            self.team_id,
            self.type,
            self.site_id,
            self.meta,
            self.user_id,
            self.created_at,
            outcome=self.outcome,
            queue_delay=self.queue_delay,
            cancel_reason=self.cancel_reason,
            rng_key=str(self.index),
        )


def _plan(
    store: InMemoryStore, *, seed: int, history: int, days: float, now: datetime | None
) -> tuple[DemoWorld, list[_Planned]]:
    """The world, created in the store, and its history, planned oldest first."""
    rng = random.Random(seed)
    now = now if now is not None else store.clock.now()
    # Ids of their own, not the store's: those take their time from the clock.
    ids = IdGenerator(random.Random(f"demo-world:{seed}"))
    teams = [store.add_team(name, team_id=ids.new(_WORLD_TIME)) for name in _TEAMS]
    users = [
        store.add_user(name, f"{handle}@example.com", user_id=ids.new(_WORLD_TIME))
        for name, handle in _PEOPLE
    ]
    for team_index, user_index, role in _MEMBERS:
        store.add_member(teams[team_index].id, users[user_index].id, role)
    sites = [
        store.add_site(teams[t].id, domain, server=server, site_id=ids.new(_WORLD_TIME))
        for t, domain, server in _SITES
    ]
    world = DemoWorld(
        teams=teams,
        users=users,
        sites=sites,
        default_user_id=users[0].id,
        default_team_id=teams[0].id,
    )
    for (_, handle), user in zip(_PEOPLE, users, strict=True):
        world.tokens[f"demo-{handle}"] = user.id

    specs = store.registry.specs()
    weights = [spec.weight for spec in specs]
    start = now - timedelta(days=days)
    step = timedelta(days=days) / max(history, 1)
    planned: list[_Planned] = []
    for n in range(history):
        created_at = start + step * n + timedelta(seconds=rng.uniform(0, step.total_seconds()))
        team = rng.choices(teams, weights=(6, 3, 1))[0]
        spec = rng.choices(specs, weights=weights)[0]
        site = rng.choice(world.sites_of(team.id))
        user_id = _member_who_operates(store, team.id, rng)
        roll = rng.random()
        outcome = (
            DeploymentStatus.FAILED
            if roll < 0.09
            else DeploymentStatus.CANCELLED
            if roll < 0.13
            else DeploymentStatus.COMPLETED
        )
        planned.append(
            _Planned(
                team_id=team.id,
                type=spec.type,
                site_id=site.id,
                meta=_demo_meta(spec, rng, site, world.sites_of(team.id)),
                user_id=user_id,
                created_at=created_at,
                outcome=outcome,
                queue_delay=rng.uniform(0.5, 20.0),
                cancel_reason=rng.choice(_CANCEL_REASONS),
                index=n,
            )
        )
    return world, planned


class DemoHistory:
    """Demo history still to be seeded, in a fixed order: newest first.

    Seeding runs each deployment's jobs (~0.5 ms each), so a dashboard on the embedded demo
    seeds what a listing needs when it needs it (:meth:`settles`, :meth:`seed`) and the rest
    in the background. What each deployment does never depends on when or in what order it
    is seeded (its jobs' generator is keyed by its place in the plan); the order never
    depends on timing either (the default team's deployments first, newest first, then the
    other teams' newest first), so the ids' random parts are the same for the same seed too.
    Every seeded deployment is finished and older than anything created live; none emits an
    event.

    Args:
        store: The store the history goes into.
        planned: The history, oldest first (from :func:`plan_demo`).
        first_team_id: The team whose history comes first (the one a dashboard opens).
    """

    def __init__(
        self, store: InMemoryStore, planned: list[_Planned], *, first_team_id: str = ""
    ) -> None:
        self.store = store
        newest_first = planned[::-1]
        self._order = [p for p in newest_first if p.team_id == first_team_id] + [
            p for p in newest_first if p.team_id != first_team_id
        ]
        self._next = 0
        # Per team, its history newest first, and how much of it is seeded: each team's
        # seeded part is always its newest deployments (the order keeps each team's).
        self._of_team: dict[str, list[_Planned]] = {}
        for p in self._order:
            self._of_team.setdefault(p.team_id, []).append(p)
        self._seeded_of_team = dict.fromkeys(self._of_team, 0)

    @property
    def total(self) -> int:
        """Deployments in the whole history."""
        return len(self._order)

    @property
    def remaining(self) -> int:
        """Deployments not seeded yet."""
        return len(self._order) - self._next

    @property
    def complete(self) -> bool:
        return self._next >= len(self._order)

    def seed(self, count: int) -> int:
        """Seed up to ``count`` more deployments, in order; returns how many."""
        stop = min(self._next + count, len(self._order))
        done = 0
        while self._next < stop:
            item = self._order[self._next]
            # Advanced first: a failure in one deployment must not make callers retry it.
            self._next += 1
            self._seeded_of_team[item.team_id] += 1
            item.seed(self.store)
            done += 1
        return done

    async def finish(self, chunk: int = 25) -> None:
        """Seed the rest, ``chunk`` at a time, giving the event loop a turn in between."""
        while not self.complete:
            self.seed(chunk)
            await asyncio.sleep(0)

    def newest_pending(self, team_id: str) -> datetime | None:
        """When the newest deployment of the team still to seed was created (None: none)."""
        items = self._of_team.get(team_id, [])
        seeded = self._seeded_of_team.get(team_id, 0)
        return items[seeded].created_at if seeded < len(items) else None

    def settles(self, team_id: str, filter: DeploymentFilter | None, page: DeploymentPage) -> bool:
        """Whether a listing is final: no deployment still to seed could belong in it.

        True when the team has nothing left to seed, when the filter only wants active
        deployments (history is finished), or when the page is full (another follows) and
        its oldest deployment is newer than everything still to seed: a page's deployments
        are the newest that match, and what is still to seed is older.
        """
        pending = self.newest_pending(team_id)
        if pending is None:
            return True
        statuses = filter.statuses if filter is not None else frozenset()
        if statuses and not any(status.is_finished for status in statuses):
            return True
        if page.next_before is None or not page.data:
            return False
        # Ids order by creation time to the millisecond: compare at that resolution.
        return _ms(page.data[-1].created_at) > _ms(pending)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _member_who_operates(store: InMemoryStore, team_id: str, rng: random.Random) -> str:
    # In the order people were added, not by id: nothing but order may depend on an id.
    members = store.members_of(team_id)
    operators = [u.id for u in store.users if members.get(u.id) is Role.OPERATOR]
    return rng.choice(operators)


def _demo_meta(
    spec: PipelineSpec, rng: random.Random, site: Site, sites: list[Site]
) -> dict[str, object]:
    return dict(spec.demo_meta(rng, site, sites))


class DemoTraffic:
    """Keeps triggering new deployments at about ``rate_per_minute`` (clock time).

    Args:
        store: The store to trigger on (started).
        world: The demo world (teams, sites, operators).
        rate_per_minute: Mean new deployments per minute of the store's clock.
        seed: Seeds the choices.
        clock: Time to wait on (default: the store's clock).
    """

    def __init__(
        self,
        store: InMemoryStore,
        world: DemoWorld,
        *,
        rate_per_minute: float = 20.0,
        seed: int = 7,
        clock: Clock | None = None,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.store = store
        self.world = world
        self.rate_per_minute = rate_per_minute
        self.clock = clock if clock is not None else store.clock
        self._rng = random.Random(seed ^ 0xDE70)
        self.triggered = 0

    def trigger_one(self) -> str:
        """Trigger one random deployment now; returns its id."""
        rng = self._rng
        specs = self.store.registry.specs()
        team = rng.choices(self.world.teams, weights=(6, 3, 1))[0]
        spec = rng.choices(specs, weights=[s.weight for s in specs])[0]
        sites = self.world.sites_of(team.id)
        site = rng.choice(sites)
        deployment = self.store.create_deployment(
            team.id,
            spec.type,
            site.id,
            _demo_meta(spec, rng, site, sites),
            _member_who_operates(self.store, team.id, rng),
        )
        self.triggered += 1
        return deployment.id

    async def run(self, *, limit: int | None = None) -> None:
        """Trigger deployments until cancelled (or ``limit`` of them)."""
        while limit is None or self.triggered < limit:
            await self.clock.sleep(self._rng.expovariate(self.rate_per_minute / 60.0))
            self.trigger_one()
            # Give the loop a turn even under a clock that does not really wait.
            await asyncio.sleep(0)
