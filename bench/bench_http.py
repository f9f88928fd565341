"""Benchmarks of the server and the HTTP client (server issue).

Prints:
- WebSocket delivery latency p50/p99 with S subscribers and R events/s for D seconds
  (goal: p99 <= 250 ms at 200 subscribers, 200 events/s, 30 s), with the server's RSS at the
  start, during and at the end (goal: flat);
- list p95 through HTTP over N deployments (goal: <= 20 ms at 100k).

The server runs in a subprocess (``deploytop serve``'s app under uvicorn), the clients in
this process, so both sides pay their real costs. Latency is measured end to end: the
pipeline writes the wall-clock time into each output chunk; a subscriber subtracts it from
the time it receives the event from ``HttpBackend.subscribe`` (parsed, deduplicated).

Run: ``python -m bench.bench_http [--subscribers 200] [--rate 200] [--duration 30]
[--deployments 100000] [--only ws|list]``. ``--quick`` runs a short version.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEAM_ID = "01J00000000000000000000TEA"
USER_ID = "01J00000000000000000000USR"
SITE_ID = "01J00000000000000000000S1T"
TOKEN = "bench-token"


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- server side (subprocess) -------------------------------------------------------------


def _ticker_registry() -> Any:
    from backend_client.pipeline import JobContext, PipelineRegistry, PipelineSpec, StepSpec

    async def tick(ctx: JobContext) -> None:
        rate = float(ctx.meta["rate"])
        count = int(rate * float(ctx.meta["duration"]))
        start = time.time()
        for n in range(count):
            ctx.log(f"{time.time():.6f}\n")
            # Pace by absolute time so the rate holds whatever each wake-up costs.
            await ctx.work(max(0.0, start + (n + 1) / rate - time.time()))

    return PipelineRegistry(
        [
            PipelineSpec(
                type="ticker",
                title="Ticker",
                steps=(StepSpec("Tick", tick),),
                operation_name=lambda meta, site: f"Tick on {site.domain}",
            )
        ]
    )


async def _serve(port: int, mode: str, deployments: int) -> None:
    import uvicorn

    from backend_client.clock import SystemClock
    from backend_client.demo import build_demo
    from backend_client.memory import InMemoryStore
    from backend_client.models import Role
    from backend_server import create_app

    tokens: Mapping[str, str]
    if mode == "ws":
        store = InMemoryStore(clock=SystemClock(), seed=1, registry=_ticker_registry())
        store.add_team("Bench", team_id=TEAM_ID)
        store.add_user("Bea", "bea@example.com", user_id=USER_ID)
        store.add_member(TEAM_ID, USER_ID, Role.OPERATOR)
        store.add_site(TEAM_ID, "bench.example.com", site_id=SITE_ID)
        tokens = {TOKEN: USER_ID}
        info = TEAM_ID
    else:
        store = InMemoryStore(clock=SystemClock(), seed=1)
        world = build_demo(store, seed=1, history=deployments, days=365)
        tokens = {TOKEN: world.default_user_id}
        info = world.default_team_id
    await store.start()
    app = create_app(store, tokens, queue_size=2000)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", ws="wsproto", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    print(f"READY {info}", flush=True)
    await task


# --- client side --------------------------------------------------------------------------


def _start_server(mode: str, deployments: int = 0) -> tuple[subprocess.Popen[str], str, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_http", "--serve", mode, str(port), str(deployments)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if not line or line[0] != "READY":
        proc.kill()
        raise SystemExit(f"bench server did not start: {line}")
    return proc, f"http://127.0.0.1:{port}", line[1]


async def bench_ws(subscribers: int, rate: float, duration: float, full: int) -> None:
    import json

    import httpx
    from httpx_ws import aconnect_ws

    from backend_client import ConnectionStatus, Resync, StepOutput, wire
    from backend_client.http import HttpBackend

    full = min(full, subscribers)
    proc, url, team = _start_server("ws")
    # Arrays, not lists: the garbage collector does not walk them, so the bench's own
    # bookkeeping does not add collector pauses to what it measures.
    latencies = [array("d") for _ in range(subscribers)]
    resyncs = [0]
    connected = asyncio.Event()
    ready = [0]
    clients = [HttpBackend(url, TOKEN, timeout=30) for _ in range(full)]

    def one_ready() -> None:
        ready[0] += 1
        if ready[0] == subscribers:
            connected.set()

    async def light(n: int) -> None:
        # A bare WebSocket reader (json only): stands in for dashboards on other machines,
        # so this process's CPU does not cap what the server delivers.
        mine = latencies[n]
        async with (
            httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as raw,
            aconnect_ws(wire.Paths.events(team), raw) as ws,  # type: ignore[var-annotated]
        ):
            await ws.receive_text()
            one_ready()
            while True:
                obj = json.loads(await ws.receive_text())
                now = time.time()
                frames = obj["frames"] if obj.get("kind") == "batch" else [obj]
                for frame in frames:
                    if frame.get("kind") == "step.output":
                        mine.append(now - float(frame["data"]))

    async def subscriber(n: int, client: HttpBackend) -> None:
        mine = latencies[n]
        async for item in client.subscribe(team):
            if isinstance(item, StepOutput):
                mine.append(time.time() - float(item.data))
            elif isinstance(item, ConnectionStatus):
                one_ready()
            elif isinstance(item, Resync):
                resyncs[0] += 1

    tasks = [asyncio.create_task(subscriber(n, c)) for n, c in enumerate(clients)]
    tasks += [asyncio.create_task(light(n)) for n in range(full, subscribers)]
    try:
        async with asyncio.timeout(60):
            await connected.wait()
        rss_start = _rss_mb(proc.pid)
        client_start = _rss_mb(os.getpid())
        meta = {"rate": rate, "duration": duration}
        await clients[0].trigger_deployment(team, "ticker", SITE_ID, meta)
        expected = int(rate * duration)
        rss_samples = [rss_start]
        deadline = time.monotonic() + duration + 30
        while time.monotonic() < deadline:
            await asyncio.sleep(min(5.0, max(duration / 6, 0.5)))
            rss_samples.append(_rss_mb(proc.pid))
            if all(len(lat) >= expected for lat in latencies):
                break
        rss_end = _rss_mb(proc.pid)
        samples = [x * 1000 for lat in latencies for x in lat]
        full_samples = [x * 1000 for lat in latencies[:full] for x in lat]
        delivered = sum(len(lat) for lat in latencies)
        print(
            f"websocket: {subscribers} subscribers ({full} HttpBackend.subscribe,"
            f" {subscribers - full} bare readers), {rate:g} events/s for {duration:g} s"
            f" ({expected} events each, {expected * subscribers:,} deliveries expected)"
        )
        print(
            f"  delivered {delivered:,} ({delivered / max(expected * subscribers, 1):.1%}),"
            f" resyncs {resyncs[0]}"
        )
        if samples:
            print(
                f"  latency ms: p50 {statistics.median(samples):.1f}  p90"
                f" {_percentile(samples, 0.90):.1f}  p99 {_percentile(samples, 0.99):.1f}"
                f"  max {max(samples):.1f}  (goal p99 <= 250 ms)"
            )
        # Each subscriber gets every event once, in order: index n was sent at n / rate.
        per_window = max(int(rate * 10), 1)
        windows = []
        for start in range(0, expected, per_window):
            chunk = [x * 1000 for lat in latencies for x in lat[start : start + per_window]]
            if chunk:
                windows.append(f"{_percentile(chunk, 0.99):.0f}")
        print(f"  p99 ms by 10 s of the run: {', '.join(windows)}")
        if full_samples and full < subscribers:
            print(
                f"  latency ms at the {full} HttpBackend subscribers: p50"
                f" {statistics.median(full_samples):.1f}  p99 {_percentile(full_samples, 0.99):.1f}"
            )
        print(
            f"  server RSS MB: start {rss_start:.1f}, end {rss_end:.1f}, samples "
            + ", ".join(f"{x:.0f}" for x in rss_samples)
        )
        print(
            f"  client RSS MB (this process): start {client_start:.1f}, end"
            f" {_rss_mb(os.getpid()):.1f}"
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients:
            await client.aclose()
        proc.terminate()
        proc.wait(10)


async def bench_list(deployments: int) -> None:
    from backend_client import DeploymentFilter
    from backend_client.http import HttpBackend

    started = time.perf_counter()
    proc, url, team = _start_server("list", deployments)
    print(
        f"list: server seeded {deployments:,} deployments in {time.perf_counter() - started:.1f} s"
    )
    client = HttpBackend(url, TOKEN, timeout=30)
    try:
        sites = await client.list_sites(team)
        rng = random.Random(2)
        filters = [
            None,
            DeploymentFilter.of(statuses=["failed"]),
            DeploymentFilter.of(statuses=["failed", "cancelled"]),
            DeploymentFilter.of(types=["clone_site"]),
            DeploymentFilter.of(site_id=sites[3].id),
            DeploymentFilter.of(
                site_id=sites[1].id, types=["push_staging"], statuses=["completed"]
            ),
            DeploymentFilter.of(text="shop"),
        ]
        page = await client.list_deployments(team, limit=500)
        cursors: list[str | None] = [None]
        while page.next_before and len(cursors) < 200:
            cursors.append(page.next_before)
            page = await client.list_deployments(team, before=page.next_before, limit=500)
        for _ in range(20):  # warm the connection
            await client.list_deployments(team)
        print(f"  {'filter (limit 50, random cursors)':<58} {'p50 ms':>8} {'p95 ms':>8}")
        every: list[float] = []
        for flt in filters:
            samples = []
            for _ in range(200):
                before = rng.choice(cursors)
                t = time.perf_counter()
                await client.list_deployments(team, flt, before=before, limit=50)
                samples.append((time.perf_counter() - t) * 1000)
            every += samples
            label = "none" if flt is None else flt.model_dump_json(exclude_defaults=True)
            print(
                f"  {label[:58]:<58} {statistics.median(samples):8.2f}"
                f" {_percentile(samples, 0.95):8.2f}"
            )
        print(
            f"  all: p50 {statistics.median(every):.2f} ms, p95 {_percentile(every, 0.95):.2f} ms"
            " (goal p95 <= 20 ms)"
        )
    finally:
        await client.aclose()
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_http", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--full",
        type=int,
        default=20,
        help="subscribers using HttpBackend (the rest are bare WebSocket readers)",
    )
    parser.add_argument("--deployments", type=int, default=100_000)
    parser.add_argument("--only", choices=["ws", "list"])
    parser.add_argument("--quick", action="store_true", help="20 subscribers, 5 s, 10k rows")
    parser.add_argument("--serve", nargs=3, metavar=("MODE", "PORT", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        mode, port, n = args.serve
        asyncio.run(_serve(int(port), mode, int(n)))
        return
    if args.quick:
        args.subscribers, args.duration, args.deployments = 20, 5.0, 10_000
        args.full = min(args.full, 5)
    if args.only in (None, "ws"):
        asyncio.run(bench_ws(args.subscribers, args.rate, args.duration, args.full))
    if args.only in (None, "list"):
        asyncio.run(bench_list(args.deployments))


if __name__ == "__main__":
    main()
