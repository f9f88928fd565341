"""Startup: the embedded demo seeds its history as listings need it, settings skip
pydantic-settings when there is nothing to read, and the CLI leaves the GC as it found it."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from backend_client.clock import FakeClock, utc
from backend_client.demo import build_demo, plan_demo
from backend_client.memory import InMemoryStore
from backend_client.models import DeploymentFilter, DeploymentStatus
from tui.cli import main
from tui.embedded import EmbeddedDemo, SeedingBackend
from tui.settings import DemoSettings, load_settings

START = utc(2026, 11, 26, 12, 0, 0)


def _demo(history: int = 300, seed: int = 7) -> EmbeddedDemo:
    return EmbeddedDemo(DemoSettings(history=history, seed=seed), FakeClock(START), traffic=False)


async def _all_pages(
    backend: SeedingBackend, team_id: str, flt: DeploymentFilter | None, limit: int
) -> list[str]:
    ids: list[str] = []
    before: str | None = None
    while True:
        page = await backend.list_deployments(team_id, flt, before=before, limit=limit)
        ids.extend(d.id for d in page.data)
        if page.next_before is None:
            return ids
        before = page.next_before


def test_plan_demo_plans_what_build_demo_builds() -> None:
    def key(store: InMemoryStore) -> Counter[tuple[object, ...]]:
        return Counter(
            (r.team_id, r.type, r.site_id, r.operation_name, r.created_at)
            for r in store._deployments.values()
        )

    built = InMemoryStore(clock=FakeClock(START), seed=7)
    build_demo(built, seed=7, history=200)
    planned = InMemoryStore(clock=FakeClock(START), seed=7)
    _world, history = plan_demo(planned, seed=7, history=200)
    assert planned.deployment_count() == 0 and history.remaining == 200
    assert history.seed(500) == 200 and history.complete
    assert key(planned) == key(built)


async def test_first_page_comes_before_the_whole_history_and_paging_sees_all_of_it() -> None:
    demo = _demo()
    backend = demo._backend
    team_id = demo.world.default_team_id
    page = await backend.list_deployments(team_id, limit=50)
    assert len(page.data) == 50 and page.next_before is not None
    assert 0 < demo.history.remaining < demo.history.total  # answered early
    ids = await _all_pages(backend, team_id, None, 50)
    assert ids == sorted(set(ids), reverse=True)
    # Everything the team has, once all is seeded: the same list straight from the store.
    await demo.history.finish()
    everything = await demo.store.backend_for(demo.world.default_user_id).list_deployments(
        team_id, limit=500
    )
    assert ids == [d.id for d in everything.data]
    assert ids[:50] == [d.id for d in page.data]


@pytest.mark.parametrize(
    "flt",
    [
        DeploymentFilter.of(statuses=["failed"]),
        DeploymentFilter.of(types=["backup_site"]),
        DeploymentFilter.of(text="staging"),
        DeploymentFilter.of(statuses=["queued", "running"]),
    ],
)
async def test_filtered_listings_on_a_partial_history_are_complete(
    flt: DeploymentFilter,
) -> None:
    demo = _demo()
    team_id = demo.world.teams[1].id  # not the team seeded first
    ids = await _all_pages(demo._backend, team_id, flt, 20)
    await demo.history.finish()
    inner = demo.store.backend_for(demo.world.default_user_id)
    expected = await inner.list_deployments(team_id, flt, limit=500)
    assert ids == [d.id for d in expected.data]


async def test_the_same_seed_gives_the_same_history_whatever_is_listed_first() -> None:
    async def build(list_first: int) -> list[tuple[str, str, bytes]]:
        demo = _demo(history=150, seed=5)
        await demo._backend.list_deployments(demo.world.teams[list_first].id, limit=30)
        await demo.history.finish(chunk=7)
        return [
            (r.id, r.status.value, bytes(r.steps[0].output))
            for r in sorted(demo.store._deployments.values(), key=lambda r: r.id)
        ]

    assert await build(0) == await build(2)


async def test_triggering_finishes_the_history_first() -> None:
    demo = _demo(history=120)
    team_id = demo.world.default_team_id
    site = demo.world.sites_of(team_id)[0]
    await demo.start()
    try:
        deployment = await demo.backend.trigger_deployment(team_id, "backup_site", site.id)
        assert demo.history.complete
        seeded = [r.id for r in demo.store._deployments.values() if r.id != deployment.id]
        assert len(seeded) == 120 and max(seeded) < deployment.id
    finally:
        await demo.stop()


async def test_the_rest_of_the_history_is_seeded_in_the_background() -> None:
    demo = _demo(history=400)
    await demo.start()
    try:
        await demo.backend.list_deployments(demo.world.default_team_id, limit=100)
        assert not demo.history.complete
        async with asyncio.timeout(10):
            while not demo.history.complete:
                await asyncio.sleep(0.01)
        assert demo.store.deployment_count() == 400
        statuses = Counter(r.status for r in demo.store._deployments.values())
        assert set(statuses) <= {
            DeploymentStatus.COMPLETED,
            DeploymentStatus.FAILED,
            DeploymentStatus.CANCELLED,
        }
    finally:
        await demo.stop()


def test_settings_without_file_or_variables_match_the_full_sources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quick = load_settings(theme="textual-dark")
    monkeypatch.setenv("DEPLOYTOP_DEMO__SEED", "7")  # the default: read by pydantic-settings
    sourced = load_settings(theme="textual-dark")
    assert quick == sourced
    assert type(quick) is type(sourced)


def test_settings_without_file_or_variables_skip_pydantic_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPLOYTOP_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    code = (
        "import sys; from tui.settings import load_settings; load_settings(bell=False); "
        "print('pydantic_settings' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "False"
    env["DEPLOYTOP_BELL"] = "false"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "True"


def test_the_cli_turns_garbage_collection_back_on_after_an_error() -> None:
    assert gc.isenabled()
    result = CliRunner().invoke(main, ["--theme", "no-such-theme"])
    assert result.exit_code == 2
    assert gc.isenabled()
