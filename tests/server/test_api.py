"""Every endpoint, through HttpBackend and raw HTTP, against the real server."""

from __future__ import annotations

import httpx
import pytest

from backend_client import (
    DeploymentFilter,
    DeploymentFinished,
    DeploymentStatus,
    InvalidRequest,
    NotFound,
    StepStatus,
    wire,
)
from backend_server.openapi import openapi_schema

from .conftest import STEP_SECONDS, World, eventually
from .harness import Served


async def test_healthz_needs_no_token_and_names_the_instance(served: Served, world: World) -> None:
    async with httpx.AsyncClient(base_url=served.url) as raw:
        response = await raw.get(wire.Paths.healthz())
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "instance_id": world.store.instance_id}
    assert response.headers[wire.HEADER_INSTANCE] == world.store.instance_id


async def test_me_lists_the_callers_teams_with_roles(served: Served, world: World) -> None:
    client = served.client(world.viewer_token)
    me = await client.me()
    assert me.user.id == world.viewer.id
    assert [(t.id, t.role.value) for t in me.teams] == [(world.team_a.id, "viewer")]
    assert client.instance_id == world.store.instance_id
    await client.aclose()


async def test_sites_of_a_team(served: Served, world: World) -> None:
    client = served.client(world.op_token)
    sites = await client.list_sites(world.team_a.id)
    assert [(s.id, s.domain) for s in sites] == [(world.site_a.id, "shop.example.com")]
    await client.aclose()


async def test_trigger_get_list_filter_and_paginate(served: Served, world: World) -> None:
    client = served.client(world.op_token)
    created = [
        await client.trigger_deployment(world.team_a.id, "quick", world.site_a.id, {"n": n})
        for n in range(7)
    ]
    assert all(d.status is DeploymentStatus.QUEUED for d in created)
    assert created[0].meta == {"n": 0}
    got = await client.get_deployment(created[0].id)
    assert got.id == created[0].id and len(got.steps) == 3
    assert all(s.output is None for s in got.steps)

    seen: list[str] = []
    before = None
    while True:
        page = await client.list_deployments(world.team_a.id, before=before, limit=3)
        seen += [d.id for d in page.data]
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == sorted((d.id for d in created), reverse=True)
    assert page.seq == world.store.head_seq(world.team_a.id)

    queued = await client.list_deployments(
        world.team_a.id, DeploymentFilter.of(statuses=["queued", "running"], types=["quick"])
    )
    assert {d.id for d in queued.data} == {d.id for d in created}
    none = await client.list_deployments(world.team_a.id, DeploymentFilter.of(text="no-such"))
    assert none.data == []
    by_site = await client.list_deployments(
        world.team_a.id, DeploymentFilter.of(site_id=world.site_a.id, statuses=["completed"])
    )
    assert by_site.data == []
    await client.aclose()


async def test_output_ranges_carry_size_and_completion(served: Served, world: World) -> None:
    client = served.client(world.op_token)
    d = await client.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    for _ in range(12):
        await world.advance(STEP_SECONDS / 2)
    done = await client.get_deployment(d.id)
    assert done.status is DeploymentStatus.COMPLETED
    step = done.steps[1]
    whole = await client.read_output(d.id, step.id, offset=0, limit=1 << 20)
    assert whole.complete and not whole.truncated
    assert whole.total_size == step.output_size == len(whole.data)
    assert b"copy: line 4" in whole.data
    part = await client.read_output(d.id, step.id, offset=5, limit=10)
    assert part.data == whole.data[5:15] and part.offset == 5
    assert part.total_size == whole.total_size
    past = await client.read_output(d.id, step.id, offset=whole.total_size + 100, limit=10)
    assert past.data == b"" and past.total_size == whole.total_size
    with pytest.raises(NotFound):
        await client.read_output(d.id, "01HZZZZZZZZZZZZZZZZZZZZZZZ")
    with pytest.raises(InvalidRequest):
        await client.read_output(d.id, step.id, offset=-1)
    await client.aclose()


async def test_output_is_raw_bytes_with_range_headers(served: Served, world: World) -> None:
    client = served.client(world.op_token)
    d = await client.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    await world.advance(1)
    running = await client.get_deployment(d.id)
    step = running.steps[0]
    async with httpx.AsyncClient(
        base_url=served.url, headers={"Authorization": f"Bearer {world.op_token}"}
    ) as raw:
        response = await raw.get(wire.Paths.output(d.id, step.id), params={"limit": "4"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b"prep"
    assert response.headers[wire.HEADER_OFFSET] == "0"
    assert int(response.headers[wire.HEADER_TOTAL_SIZE]) > 4
    assert response.headers[wire.HEADER_COMPLETE] == "0"
    assert response.headers[wire.HEADER_TRUNCATED] == "0"
    await client.aclose()


async def test_cancel_keeps_the_reason_and_refuses_twice(served: Served, world: World) -> None:
    client = served.client(world.op_token)
    d = await client.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    await world.advance(1)
    cancelled = await client.cancel_deployment(d.id, "wrong branch")
    assert cancelled.status is DeploymentStatus.CANCELLED
    assert cancelled.cancel_reason == "wrong branch"
    assert cancelled.steps[0].status is StepStatus.CANCELLED
    with pytest.raises(DeploymentFinished) as info:
        await client.cancel_deployment(d.id)
    assert "already cancelled" in info.value.message
    # An empty body is a cancel without a reason.
    other = await client.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    async with httpx.AsyncClient(
        base_url=served.url, headers={"Authorization": f"Bearer {world.op_token}"}
    ) as raw:
        response = await raw.post(wire.Paths.cancel(other.id))
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        again = await raw.post(wire.Paths.cancel(other.id))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "deployment_finished"
    await client.aclose()


async def test_trigger_answers_201(served: Served, world: World) -> None:
    async with httpx.AsyncClient(
        base_url=served.url, headers={"Authorization": f"Bearer {world.op_token}"}
    ) as raw:
        response = await raw.post(
            wire.Paths.deployments(world.team_a.id),
            json={"type": "quick", "site_id": world.site_a.id, "meta": {"branch": "main"}},
        )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued" and body["meta"] == {"branch": "main"}
    await eventually(lambda: world.store.deployment_count(world.team_a.id) == 1)


async def test_openapi_is_served_and_describes_every_endpoint(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url) as raw:
        response = await raw.get(wire.Paths.openapi())
    assert response.status_code == 200
    doc = response.json()
    assert doc == openapi_schema()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {
        wire.Paths.healthz(),
        wire.Paths.openapi(),
        wire.Paths.me(),
        wire.API_PREFIX + wire.Routes.SITES,
        wire.API_PREFIX + wire.Routes.DEPLOYMENTS,
        wire.API_PREFIX + wire.Routes.DEPLOYMENT,
        wire.API_PREFIX + wire.Routes.CANCEL,
        wire.API_PREFIX + wire.Routes.OUTPUT,
        wire.API_PREFIX + wire.Routes.EVENTS,
    }
    # Every reference resolves, and every operation is well-formed.
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/")
        target: object = doc
        for part in ref[2:].split("/"):
            assert isinstance(target, dict) and part in target, ref
            target = target[part]
    operation_ids = set()
    for path, item in doc["paths"].items():
        for name in path.split("{")[1:]:
            param = name.split("}")[0]
            for op in item.values():
                assert any(p["name"] == param and p["in"] == "path" for p in op["parameters"])
        for method, op in item.items():
            assert method in {"get", "post"}
            assert op["responses"] and op["operationId"] not in operation_ids
            operation_ids.add(op["operationId"])
