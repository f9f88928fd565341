"""Benchmarks of the in-memory backend (foundation issue).

Prints:
- list p95 (and p50) with filters over N deployments (goal: p95 <= 5 ms at 100k);
- events per second the engine sustains with 1,000 deployments running at once
  (goal: >= 20,000/s);
- memory per 10k finished deployments (Python heap, measured with tracemalloc).

Run: ``python -m bench.bench_backend [--deployments 100000] [--running 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import time
import tracemalloc

from backend_client import DeploymentFilter, Role
from backend_client.clock import FakeClock, SystemClock
from backend_client.demo import build_demo
from backend_client.memory import InMemoryStore


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_list(deployments: int) -> None:
    store = InMemoryStore(clock=FakeClock(), seed=1)
    started = time.perf_counter()
    world = build_demo(store, seed=1, history=deployments, days=365)
    seeded = time.perf_counter() - started
    # What a long-running process does after loading history: keep it out of GC scans.
    gc.freeze()
    team = world.teams[0]
    backend = store.backend_for(world.default_user_id)
    sites = world.sites_of(team.id)
    rng = random.Random(2)
    filters = [
        None,
        DeploymentFilter.of(statuses=["failed"]),
        DeploymentFilter.of(statuses=["failed", "cancelled"]),
        DeploymentFilter.of(statuses=["queued", "running"]),
        DeploymentFilter.of(types=["clone_site"]),
        DeploymentFilter.of(site_id=sites[3].id),
        DeploymentFilter.of(site_id=sites[5].id, statuses=["failed"]),
        DeploymentFilter.of(site_id=sites[1].id, types=["push_staging"], statuses=["completed"]),
        DeploymentFilter.of(text="shop"),
    ]
    # Cursors spread over the whole history, so deep pages are measured too.
    page = await backend.list_deployments(team.id, limit=500)
    cursors: list[str | None] = [None]
    while page.next_before and len(cursors) < 200:
        cursors.append(page.next_before)
        page = await backend.list_deployments(team.id, before=page.next_before, limit=500)
    print(
        f"list: {store.deployment_count():,} deployments seeded in {seeded:.1f} s "
        f"({store.deployment_count(team.id):,} in the listed team)"
    )
    print(f"  {'filter':<58} {'p50 ms':>8} {'p95 ms':>8}")
    worst = 0.0
    for flt in filters:
        samples = []
        for _ in range(200):
            before = rng.choice(cursors)
            t = time.perf_counter()
            await backend.list_deployments(team.id, flt, before=before, limit=50)
            samples.append((time.perf_counter() - t) * 1000)
        p95 = _percentile(samples, 0.95)
        worst = max(worst, p95)
        label = "none" if flt is None else flt.model_dump_json(exclude_defaults=True)
        print(f"  {label[:58]:<58} {statistics.median(samples):8.3f} {p95:8.3f}")
    print(f"  worst p95: {worst:.3f} ms (goal <= 5 ms)")


async def bench_events(running: int) -> None:
    # Real asyncio scheduling; time compressed so jobs barely wait.
    store = InMemoryStore(clock=SystemClock(), seed=3, workers=running, speed=1e7)
    team = store.add_team("Bench")
    user = store.add_user("Bench")
    store.add_member(team.id, user.id, Role.OPERATOR)
    sites = [store.add_site(team.id, f"site{n}.example.com") for n in range(running)]
    counted = 0

    def count(_event: object) -> None:
        nonlocal counted
        counted += 1

    store.add_listener(count)
    rng = random.Random(4)
    specs = store.registry.specs()
    for site in sites:
        spec = rng.choice(specs)
        store.create_deployment(
            team.id, spec.type, site.id, spec.demo_meta(rng, site, sites), user.id
        )
    created = counted
    started = time.perf_counter()
    await store.start()
    peak = len(store._running)
    await store.wait_idle(timeout=600)
    elapsed = time.perf_counter() - started
    events = counted - created
    await store.stop()
    print(
        f"engine: {running:,} deployments ({peak:,} running at once) produced {events:,} events "
        f"in {elapsed:.2f} s = {events / elapsed:,.0f} events/s (goal >= 20,000/s)"
    )


async def bench_memory(count: int = 10_000) -> None:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = InMemoryStore(clock=FakeClock(), seed=5)
    build_demo(store, seed=5, history=count, days=90)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    output = sum(len(s.output) for r in store._deployments.values() for s in r.steps)
    finished = sum(1 for r in store._deployments.values() if r.status.is_finished)
    per = (after - before) / finished * 10_000
    print(
        f"memory: {finished:,} finished deployments take {(after - before) / 2**20:.1f} MiB "
        f"(of which step output {output / 2**20:.1f} MiB) = {per / 2**20:.1f} MiB per 10k"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=100_000)
    parser.add_argument("--running", type=int, default=1_000)
    parser.add_argument("--skip", action="append", default=[], choices=["list", "events", "memory"])
    args = parser.parse_args()
    if "list" not in args.skip:
        asyncio.run(bench_list(args.deployments))
    if "events" not in args.skip:
        asyncio.run(bench_events(args.running))
    if "memory" not in args.skip:
        asyncio.run(bench_memory())


if __name__ == "__main__":
    main()
