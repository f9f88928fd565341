"""The output widgets over the real in-memory backend (engine, events, read by range)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from textual.app import App, ComposeResult

from backend_client.clock import FakeClock
from backend_client.contract import Backend
from backend_client.memory import InMemoryStore
from backend_client.models import Deployment, Role
from backend_client.pipelines import default_registry
from tui.output import OutputHub, OutputView, PagerScreen
from tui.output.search import ERROR_PATTERN


class StreamApp(App[None]):
    """Feeds the team's event stream into the hub, like the dashboard does."""

    def __init__(self, backend: Backend, team_id: str, since: int) -> None:
        super().__init__()
        self.backend = backend
        self.hub = OutputHub(backend)
        self.team_id = team_id
        self.since = since

    def compose(self) -> ComposeResult:
        yield OutputView(id="out")

    def on_mount(self) -> None:
        self.run_worker(self.stream(), exclusive=True, group="stream")

    async def stream(self) -> None:
        async for item in self.backend.subscribe(self.team_id, self.since):
            self.hub.dispatch(item)


@pytest.fixture
async def store() -> AsyncIterator[InMemoryStore]:
    store = InMemoryStore(
        clock=FakeClock(), seed=5, registry=default_registry(), output_limit=64 * 1024
    )
    yield store
    await store.stop()


async def run_until_finished(store: InMemoryStore, backend: Backend, dep_id: str) -> Deployment:
    clock = store.clock
    assert isinstance(clock, FakeClock)
    async with asyncio.timeout(10):
        while True:
            deployment = await backend.get_deployment(dep_id)
            if deployment.is_finished:
                return deployment
            await clock.advance(1)


async def test_live_failed_backup_follows_then_pager_opens_at_error(store: InMemoryStore) -> None:
    team = store.add_team("Acme")
    user = store.add_user("Ada")
    store.add_member(team.id, user.id, Role.OPERATOR)
    site = store.add_site(team.id, "shop.example.com", server="forge-eu-1")
    await store.start()
    backend = store.backend_for(user.id)
    page = await backend.list_deployments(team.id)
    app = StreamApp(backend, team.id, page.seq)
    async with app.run_test(size=(100, 30)) as pilot:
        deployment = await backend.trigger_deployment(
            team.id, "backup_site", site.id, {"simulate": {"fail_step": "Upload to S3"}}
        )
        upload = next(s for s in deployment.steps if s.name == "Upload to S3")
        view = app.query_one(OutputView)
        feed = app.hub.feed(deployment.id, upload.id)
        view.set_feed(feed)
        finished = await run_until_finished(store, backend, deployment.id)
        assert finished.failed_step is not None and finished.failed_step.id == upload.id
        chunk = await backend.read_output(deployment.id, upload.id, limit=1024 * 1024)
        # Wait for the stream worker to deliver the last events (not for a fixed time).
        async with asyncio.timeout(5):
            while not (feed.finished and feed.size == len(chunk.data)):
                await pilot.pause()
        view.flush()
        # Events and range reads agree with the backend, byte for byte.
        assert feed.size == len(chunk.data) > 0
        expected = chunk.data.split(b"\n")
        if expected[-1] == b"":
            expected.pop()
        assert [feed.line_bytes(i) for i in range(feed.line_count)] == expected
        assert feed.finished
        assert view.following
        app.push_screen(PagerScreen(app.hub, finished))
        await pilot.pause()
        pager = app.screen
        assert isinstance(pager, PagerScreen)
        # The stream worker never ends: wait for the pager itself, not for all workers.
        await asyncio.wait_for(pager.ready.wait(), 5)
        await pilot.pause()
        lines = [
            "".join(s.text for s in pager.view.render_line(y))
            for y in range(pager.view.size.height)
        ]
        # Opened scrolled down to the failed step's first error line.
        assert any(ERROR_PATTERN.search(line) for line in lines), "\n".join(lines)
        assert "✘ Upload to S3 · failed" in "\n".join(lines)
        assert pager.view.top_row > 0
        assert not pager.view.following
