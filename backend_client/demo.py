"""Demo data for the bundled backend: teams, people, sites, history, and live traffic.

Everything comes from a seeded random generator and the store's clock, so the same seed
gives the same world (tests and snapshots rely on it).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .clock import Clock
from .memory import InMemoryStore
from .models import DeploymentStatus, Role, Site, Team, User
from .pipeline import PipelineSpec

__all__ = ["DemoTraffic", "DemoWorld", "build_demo"]

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
    rng = random.Random(seed)
    now = now if now is not None else store.clock.now()
    teams = [store.add_team(name) for name in _TEAMS]
    users = [store.add_user(name, f"{handle}@example.com") for name, handle in _PEOPLE]
    for team_index, user_index, role in _MEMBERS:
        store.add_member(teams[team_index].id, users[user_index].id, role)
    sites = [store.add_site(teams[t].id, domain, server=server) for t, domain, server in _SITES]
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
        store.seed_deployment(
            team.id,
            spec.type,
            site.id,
            _demo_meta(spec, rng, site, world.sites_of(team.id)),
            user_id,
            created_at,
            outcome=outcome,
            queue_delay=rng.uniform(0.5, 20.0),
            cancel_reason=rng.choice(_CANCEL_REASONS),
        )
    return world


def _member_who_operates(store: InMemoryStore, team_id: str, rng: random.Random) -> str:
    operators = sorted(u for u, r in store.members_of(team_id).items() if r is Role.OPERATOR)
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
