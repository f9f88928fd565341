"""Benchmarks of the dashboard (headless Textual, frames observed where the app writes them).

Prints:
- cursor move with 10k deployments paged in and 200 running: keypress-to-frame p50/p95
  (goal p95 <= 30 ms);
- 5,000 step events/s for 10 s: lag of the screen behind the backend (goal <= 250 ms, no
  growing backlog) and keypress-to-frame p95 during the burst (goal <= 50 ms);
- CPU watching 20 running deployments with nothing else happening (goal <= 3% of a core);
- startup to the first full frame in a real pty, vs a bare Textual app (goal <= 1.5x);
- bytes written to the terminal for one step status change vs a full repaint (goal <= 10%).

Run: ``python -m bench.bench_tui [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import pty
import random
import select
import shutil
import statistics
import struct
import sys
import tempfile
import termios
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from textual.pilot import Pilot

from backend_client.clock import FakeClock, utc
from backend_client.contract import Backend
from backend_client.errors import NotFound
from backend_client.events import StepOutput, StepUpdated, StreamItem
from backend_client.models import (
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
from tui.app import DeploytopApp
from tui.screens.dashboard import DashboardScreen
from tui.settings import Settings
from tui.widgets.deployment_list import DeploymentList

T0 = utc(2026, 11, 26, 12, 0, 0)
TEAM = Team(id="01TEAM0000000000000000000A", name="Bench Team", role=Role.OPERATOR)
USER = User(id="01USER0000000000000000000A", name="Ada Lovelace")
STEPS = 6


def _id(n: int) -> str:
    return f"01D{n:023d}"


def make_deployment(n: int, status: DeploymentStatus, now: Any) -> Deployment:
    dep_id = _id(n)
    created = T0 - timedelta(minutes=10_000 - n / 2)
    running = status is DeploymentStatus.RUNNING
    steps = []
    for i in range(STEPS):
        if running:
            st = (
                StepStatus.COMPLETED
                if i < 2
                else StepStatus.RUNNING
                if i == 2
                else StepStatus.QUEUED
            )
        else:
            st = (
                StepStatus.COMPLETED
                if status is DeploymentStatus.COMPLETED
                else (
                    StepStatus.FAILED
                    if i == 3
                    else StepStatus.COMPLETED
                    if i < 3
                    else StepStatus.QUEUED
                )
            )
        steps.append(
            DeploymentStep(
                id=f"{dep_id}-{i}",
                deployment_id=dep_id,
                name=f"Step number {i}",
                status=st,
                sort_order=i,
                started_at=created if st is not StepStatus.QUEUED else None,
                finished_at=created + timedelta(seconds=30)
                if st.is_finished and st is not StepStatus.QUEUED
                else None,
            )
        )
    return Deployment(
        id=dep_id,
        team_id=TEAM.id,
        user_id=USER.id,
        site_id="01SITE0000000000000000000A",
        type="clone_site",
        status=status,
        operation_name=f"Clone shop-{n}.example.com → copy-{n}.example.com",
        created_at=created,
        started_at=created,
        finished_at=None if running else created + timedelta(minutes=2),
        user_name=USER.name,
        site_domain=f"shop-{n}.example.com",
        steps=steps,
    )


class BenchBackend(Backend):
    """Synthetic deployments served with cursor pagination; events pushed by the bench."""

    label = "bench"

    def __init__(self, total: int, running: int) -> None:
        self.deployments: list[Deployment] = []  # newest first
        for n in range(total - 1, -1, -1):
            status = (
                DeploymentStatus.RUNNING
                if n >= total - running
                else DeploymentStatus.FAILED
                if n % 11 == 0
                else DeploymentStatus.COMPLETED
            )
            self.deployments.append(make_deployment(n, status, T0))
        self.by_id = {d.id: d for d in self.deployments}
        self.queue: asyncio.Queue[StreamItem] = asyncio.Queue()
        self.seq = 0

    async def me(self) -> Me:
        return Me(user=USER, teams=[TEAM])

    async def list_sites(self, team_id: str) -> list[Site]:
        return []

    async def list_deployments(
        self,
        team_id: str,
        filter: DeploymentFilter | None = None,
        *,
        before: str | None = None,
        limit: int = 50,
    ) -> DeploymentPage:
        flt = filter or DeploymentFilter()
        out: list[Deployment] = []
        for dep in self.deployments:
            if before is not None and dep.id >= before:
                continue
            if flt.matches(dep):
                out.append(dep)
                if len(out) == limit + 1:
                    break
        more = len(out) > limit
        out = out[:limit]
        return DeploymentPage(
            data=out, next_before=out[-1].id if more and out else None, seq=self.seq
        )

    async def get_deployment(self, deployment_id: str) -> Deployment:
        try:
            return self.by_id[deployment_id]
        except KeyError:
            raise NotFound(deployment_id) from None

    async def read_output(
        self, deployment_id: str, step_id: str, *, offset: int = 0, limit: int = 1024 * 1024
    ) -> OutputChunk:
        return OutputChunk(offset=offset, data=b"", total_size=offset, complete=False)

    async def cancel_deployment(self, deployment_id: str, reason: str | None = None) -> Deployment:
        raise NotFound(deployment_id)

    async def trigger_deployment(
        self, team_id: str, type: str, site_id: str, meta: dict[str, Any] | None = None
    ) -> Deployment:
        raise NotFound(site_id)

    async def subscribe(self, team_id: str, since: int | None = None) -> AsyncIterator[StreamItem]:
        while True:
            yield await self.queue.get()


class FrameRecorder:
    """Wraps ``App._display``: when frames are produced, and optionally their bytes."""

    def __init__(self, app: DeploytopApp) -> None:
        self.app = app
        self.times: list[float] = []
        self.count_bytes = False
        self.bytes: list[int] = []
        self.on_frame: Callable[[], None] | None = None
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                self.times.append(time.perf_counter())
                if self.count_bytes:
                    self.bytes.append(len(renderable.render_segments(app.console).encode()))
                if self.on_frame is not None:
                    self.on_frame()
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]

    async def next_frame_after(self, t0: float, timeout: float = 2.0) -> float:
        deadline = time.perf_counter() + timeout
        while True:
            for t in reversed(self.times):
                if t > t0:
                    # the first frame after t0
                    first = min(x for x in self.times if x > t0)
                    return first - t0
                break
            if time.perf_counter() > deadline:
                return float("nan")
            await asyncio.sleep(0.001)


def pct(values: list[float], p: float) -> float:
    values = sorted(v for v in values if v == v)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def make_app(backend: Backend, clock: FakeClock | None = None, **settings: Any) -> DeploytopApp:
    return DeploytopApp(
        Settings(bell=False, notify_failures=False, **settings),
        backend,
        clock=clock or FakeClock(T0),
    )


async def ready(pilot: Pilot[Any]) -> DashboardScreen:
    app = pilot.app
    while not any(isinstance(s, DashboardScreen) for s in app.screen_stack):
        await pilot.pause(0.01)
    screen = next(s for s in app.screen_stack if isinstance(s, DashboardScreen))
    while not (screen.state.loaded and screen._started):
        await pilot.pause(0.01)
    await pilot.pause(0.05)
    return screen


async def page_in_everything(pilot: Pilot[Any], screen: DashboardScreen) -> float:
    t0 = time.perf_counter()
    lst = screen.query_one(DeploymentList)
    while not screen.state.exhausted:
        lst.action_last()
        await pilot.pause(0.005)
    return time.perf_counter() - t0


async def press_and_time(pilot: Pilot[Any], rec: FrameRecorder, key: str) -> float:
    t0 = time.perf_counter()
    await pilot.press(key)
    return await rec.next_frame_after(t0)


# -- 1. cursor moves over 10k ------------------------------------------------------------


async def bench_cursor(total: int, running: int, moves: int) -> dict[str, float]:
    backend = BenchBackend(total, running)
    app = make_app(backend, page_size=500)
    async with app.run_test(size=(160, 50)) as pilot:
        rec = FrameRecorder(app)
        screen = await ready(pilot)
        paging = await page_in_everything(pilot, screen)
        lst = screen.query_one(DeploymentList)
        lst.select((_id(total // 2), -1), center=True)
        # Expand a few on the way, as an operator would.
        for n in range(total // 2 - 5, total // 2 + 5, 3):
            screen.state.expand(_id(n))
        lst.apply_changes(screen.state.take_changes())
        await pilot.pause(0.05)
        latencies = []
        for i in range(moves):
            key = "down" if (i // 40) % 2 == 0 else "up"
            latencies.append(await press_and_time(pilot, rec, key))
        pages = []
        for _ in range(20):
            pages.append(await press_and_time(pilot, rec, "pagedown"))
        loaded = len(screen.state.deployments)
    return {
        "loaded": loaded,
        "rows": len(screen.state.rows),
        "page_in_all_s": paging,
        "cursor_p50_ms": pct(latencies, 50) * 1000,
        "cursor_p95_ms": pct(latencies, 95) * 1000,
        "pagedown_p95_ms": pct(pages, 95) * 1000,
    }


# -- 2. a burst of step events ---------------------------------------------------------


async def bench_burst(rate: int, seconds: float, total: int, running: int) -> dict[str, float]:
    backend = BenchBackend(total, running)
    app = make_app(backend, page_size=500)
    rng = random.Random(3)
    produced_at: dict[int, float] = {}
    lags: list[float] = []
    async with app.run_test(size=(160, 50)) as pilot:
        rec = FrameRecorder(app)
        screen = await ready(pilot)
        await page_in_everything(pilot, screen)
        screen.query_one(DeploymentList).action_first()
        await pilot.pause(0.05)
        state = screen.state
        run_ids = [_id(n) for n in range(total - running, total)]
        step_state: dict[str, int] = {d: 2 for d in run_ids}
        offsets: dict[str, int] = {}

        flushed = [0]
        original_flush = screen._flush

        def flush() -> None:
            flushed[0] = state.seq  # what the widgets are given now
            original_flush()

        screen._flush = flush  # type: ignore[method-assign]

        def on_frame() -> None:
            # Lag: age of the oldest event the frame being written does not show yet.
            now = time.perf_counter()
            shown = flushed[0]
            if backend.seq > shown:
                lags.append(now - produced_at.get(shown + 1, now))
            else:
                lags.append(0.0)

        rec.on_frame = on_frame

        async def produce() -> None:
            tick = 0.01
            per_tick = max(1, int(rate * tick))
            start = time.perf_counter()
            n = 0
            while time.perf_counter() - start < seconds:
                now = time.perf_counter()
                for _ in range(per_tick):
                    dep_id = rng.choice(run_ids)
                    backend.seq += 1
                    seq = backend.seq
                    produced_at[seq] = now
                    if n % 2 == 0:
                        index = step_state[dep_id]
                        step = backend.by_id[dep_id].steps[index]
                        status = StepStatus.COMPLETED if n % 4 == 0 else StepStatus.RUNNING
                        step = step.model_copy(update={"status": status})
                        if status is StepStatus.COMPLETED:
                            step_state[dep_id] = 2 + (index - 1) % (STEPS - 2)
                        backend.queue.put_nowait(
                            StepUpdated(seq=seq, team_id=TEAM.id, deployment_id=dep_id, step=step)
                        )
                    else:
                        step_id = f"{dep_id}-{step_state[dep_id]}"
                        data = f"line {n} of output for {dep_id}\n"
                        offset = offsets.get(step_id, 0)
                        offsets[step_id] = offset + len(data)
                        backend.queue.put_nowait(
                            StepOutput(
                                seq=seq,
                                team_id=TEAM.id,
                                deployment_id=dep_id,
                                step_id=step_id,
                                offset=offset,
                                data=data,
                            )
                        )
                    n += 1
                target = start + (n / rate)
                await asyncio.sleep(max(0.0, target - time.perf_counter()))
            return None

        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        producer = asyncio.create_task(produce())
        keys: list[float] = []
        while not producer.done():
            keys.append(await press_and_time(pilot, rec, "down" if len(keys) % 20 < 10 else "up"))
            await asyncio.sleep(0.1)
        await producer
        # Drain: how long until the screen caught up.
        t_end = time.perf_counter()
        while state.seq < backend.seq and time.perf_counter() - t_end < 10:
            await asyncio.sleep(0.005)
        catch_up = time.perf_counter() - t_end
        cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        absorbed = state.seq
    return {
        "events": absorbed,
        "rate_per_s": absorbed / seconds,
        "lag_p50_ms": pct(lags, 50) * 1000,
        "lag_p95_ms": pct(lags, 95) * 1000,
        "lag_max_ms": max(lags) * 1000 if lags else float("nan"),
        "catch_up_after_ms": catch_up * 1000,
        "key_p50_ms": pct(keys, 50) * 1000,
        "key_p95_ms": pct(keys, 95) * 1000,
        "cpu_core_pct": cpu * 100,
    }


# -- 3. idle CPU -------------------------------------------------------------------------


async def bench_idle(running: int, seconds: float) -> dict[str, float]:
    from backend_client.clock import SystemClock

    backend = BenchBackend(500, running)
    app = DeploytopApp(Settings(bell=False), backend, clock=SystemClock())
    async with app.run_test(size=(160, 50)) as pilot:
        rec = FrameRecorder(app)
        await ready(pilot)
        await asyncio.sleep(1.0)
        frames0 = len(rec.times)
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        await asyncio.sleep(seconds)
        cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        frames = len(rec.times) - frames0
    return {"cpu_core_pct": cpu * 100, "frames_per_s": frames / seconds}


# -- 4. bytes for one change ----------------------------------------------------------------


async def bench_bytes() -> dict[str, float]:
    backend = BenchBackend(2000, 20)
    app = make_app(backend, page_size=200)
    async with app.run_test(size=(160, 50)) as pilot:
        rec = FrameRecorder(app)
        await ready(pilot)
        await pilot.pause(0.2)
        # One step status change of a visible running deployment (not the selected one).
        rec.count_bytes = True
        rec.bytes.clear()
        dep_id = _id(2000 - 5)
        step = backend.by_id[dep_id].steps[2].model_copy(update={"status": StepStatus.COMPLETED})
        backend.seq += 1
        backend.queue.put_nowait(
            StepUpdated(seq=backend.seq, team_id=TEAM.id, deployment_id=dep_id, step=step)
        )
        await pilot.pause(0.3)
        change = sum(rec.bytes)
        rec.bytes.clear()
        app.screen.refresh(repaint=True, layout=True)
        app.refresh(repaint=True, layout=True)
        await pilot.pause(0.3)
        full = max(rec.bytes) if rec.bytes else float("nan")
    return {
        "one_change_bytes": change,
        "full_repaint_bytes": full,
        "ratio_pct": change / full * 100,
    }


# -- 5. startup in a real pty ------------------------------------------------------------------


BARE_APP = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("bare-app-ready")
Bare().run()
"""

PYDANTIC_APP = """
import gc
gc.disable()  # as deploytop does while it starts
from textual.app import App
from textual.widgets import Static
from pydantic import BaseModel
class Model(BaseModel):
    name: str = "x"
Model(name="y")  # one validation
gc.enable()
class Bare(App):
    def compose(self):
        yield Static("bare-app-ready")
Bare().run()
"""
"""The bare app plus pydantic alone: importing it and validating one model."""

STACK_APP = """
import gc
gc.disable()  # as deploytop does while it starts
from textual.app import App
from textual.widgets import Static
from backend_client.models import Deployment  # the domain models (pydantic)
from tui.settings import Settings  # settings (pydantic)
Settings()  # one validation, as every start does
gc.enable()
class Bare(App):
    def compose(self):
        yield Static("bare-app-ready")
Bare().run()
"""
"""A bare app that also loads what the issue fixes for every start: pydantic, for the
domain models and the settings. Its ratio to the bare app is the floor under deploytop's."""


def _time_to_screen(argv: list[str], marker: Callable[[bytes], bool], env: dict[str, str]) -> float:
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    t0 = time.perf_counter()
    seen = b""
    elapsed = float("nan")
    try:
        while time.perf_counter() - t0 < 30:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                seen += chunk
                if marker(seen):
                    elapsed = time.perf_counter() - t0
                    break
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
    return elapsed


def bench_startup(runs: int, history: int | None = None) -> dict[str, float]:
    exe = os.path.join(os.path.dirname(sys.executable), "deploytop")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(BARE_APP)
        bare = f.name
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(STACK_APP)
        stack = f.name
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(PYDANTIC_APP)
        pyd = f.name
    # Bytecode as an installed copy has it: cached (in a private directory, so the
    # repository stays clean), whatever PYTHONDONTWRITEBYTECODE says here. Without it every
    # run would compile deploytop's own modules from source (~65 ms) and not the bare app's.
    pycache = tempfile.mkdtemp(prefix="deploytop-bench-pycache-")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DEPLOYTOP_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        TERM="xterm-256color",
        XDG_CONFIG_HOME="/nonexistent",  # no config file
        PYTHONPYCACHEPREFIX=pycache,
    )
    if history is not None:
        env["DEPLOYTOP_DEMO__HISTORY"] = str(history)
    bare_times = []
    stack_times = []
    pyd_times = []
    dash_times = []

    def dash_ready(b: bytes) -> bool:
        # The header badge, a deployment row and the footer: the first full frame.
        return "● live".encode() in b and b"completed" in b and b"palette" in b

    def bare_ready(b: bytes) -> bool:
        return b"bare-app-ready" in b

    # One unmeasured run of each fills the bytecode cache (and the OS file cache).
    _time_to_screen([sys.executable, bare], bare_ready, env)
    _time_to_screen([exe], dash_ready, env)
    _time_to_screen([sys.executable, stack], bare_ready, env)
    _time_to_screen([sys.executable, pyd], bare_ready, env)
    for _ in range(runs):
        bare_times.append(_time_to_screen([sys.executable, bare], bare_ready, env))
        pyd_times.append(_time_to_screen([sys.executable, pyd], bare_ready, env))
        stack_times.append(_time_to_screen([sys.executable, stack], bare_ready, env))
        dash_times.append(_time_to_screen([exe], dash_ready, env))
    os.unlink(bare)
    os.unlink(stack)
    os.unlink(pyd)
    shutil.rmtree(pycache, ignore_errors=True)
    b = statistics.median(bare_times)
    y = statistics.median(pyd_times)
    p = statistics.median(stack_times)
    d = statistics.median(dash_times)
    return {
        "bare_app_s": b,
        "bare_pydantic_s": y,
        "bare_domain_s": p,
        "dashboard_s": d,
        "pydantic_ratio": y / b,
        "domain_ratio": p / b,
        "ratio": d / b,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--startup", action="store_true", help="only the startup figures")
    args = parser.parse_args()
    quick = args.quick

    def show(title: str, figures: dict[str, float]) -> None:
        print(f"\n{title}")
        for key, value in figures.items():
            print(
                f"  {key:<22} {value:,.2f}"
                if isinstance(value, float)
                else f"  {key:<22} {value:,}"
            )

    if args.startup:
        show("startup to first full frame, real pty (goal <= 1.5x bare)", bench_startup(7))
        return
    show(
        "cursor move, 10k deployments paged in, 200 running (goal p95 <= 30 ms)",
        asyncio.run(bench_cursor(10_000, 200, 100 if quick else 300)),
    )
    show(
        "5,000 step events/s (goal lag <= 250 ms, key p95 <= 50 ms)",
        asyncio.run(bench_burst(5000, 3 if quick else 10, 10_000, 200)),
    )
    show(
        "idle, 20 running deployments on screen (goal <= 3% of a core)",
        asyncio.run(bench_idle(20, 5 if quick else 10)),
    )
    show("one step status change vs full repaint (goal <= 10%)", asyncio.run(bench_bytes()))
    runs = 3 if quick else 5
    show(
        "startup to first full frame, real pty, default settings (goal <= 1.5x bare)",
        bench_startup(runs),
    )
    show("startup with the 600-deployment demo history", bench_startup(runs, history=600))


if __name__ == "__main__":
    main()
