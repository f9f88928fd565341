"""Bad input gets a 4xx JSON error with a message, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend_client import InvalidRequest, wire

from .conftest import World
from .harness import Served

ULID = "01HZZZZZZZZZZZZZZZZZZZZZZZ"


async def _request(
    served: Served, world: World, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {world.op_token}", **kwargs.pop("headers", {})}
    async with httpx.AsyncClient(base_url=served.url, headers=headers) as raw:
        return await raw.request(method, path, **kwargs)


def _assert_error(response: httpx.Response, status: int, needle: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert needle in error["message"], error
    assert error["code"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ([("limit", "0")], "limit must be between 1 and 500"),
        ([("limit", "501")], "limit must be between 1 and 500"),
        ([("limit", "ten")], "limit must be an integer"),
        ([("limit", "5"), ("limit", "6")], "more than once"),
        ([("status", "exploded")], "unknown status 'exploded'"),
        ([("status", "queued,nope")], "unknown status 'nope'"),
        ([("type", "not_a_pipeline")], "unknown pipeline type"),
        ([("before", "not-a-cursor")], "malformed cursor"),
        ([("sort", "asc")], "unknown query parameter 'sort'"),
        ([("q", "x" * 5000)], "too long"),
        ([("site_id", "bad id!")], "malformed site_id"),
    ],
)
async def test_bad_list_queries(
    served: Served, world: World, params: list[tuple[str, str]], needle: str
) -> None:
    response = await _request(
        served, world, "GET", wire.Paths.deployments(world.team_a.id), params=params
    )
    _assert_error(response, 400, needle)


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"offset": "-1"}, "offset must be between"),
        ({"limit": "0"}, "limit must be between"),
        ({"limit": str(64 * 1024 * 1024)}, "limit must be between"),
        ({"offset": "1e3"}, "offset must be an integer"),
        ({"from": "3"}, "unknown query parameter"),
    ],
)
async def test_bad_output_queries(
    served: Served, world: World, params: dict[str, str], needle: str
) -> None:
    backend = world.store.backend_for(world.operator.id)
    d = await backend.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    response = await _request(
        served, world, "GET", wire.Paths.output(d.id, d.steps[0].id), params=params
    )
    _assert_error(response, 400, needle)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "invalid request body"),
        (b"[]", "invalid request body"),
        (b'{"type": "quick"}', "site_id"),
        (b'{"type": "quick", "site_id": "S", "meta": []}', "meta"),
        (b'{"type": "quick", "site_id": "S", "colour": "red"}', "colour"),
        (b"", "a JSON body is required"),
        (b'{"type": "warp_drive", "site_id": "S"}', "unknown pipeline type"),
    ],
)
async def test_bad_trigger_bodies(served: Served, world: World, body: bytes, needle: str) -> None:
    body = body.replace(b'"S"', f'"{world.site_a.id}"'.encode())
    response = await _request(
        served,
        world,
        "POST",
        wire.Paths.deployments(world.team_a.id),
        content=body,
        headers={"Content-Type": "application/json"},
    )
    _assert_error(response, 400, needle)


async def test_unknown_site_on_trigger_is_404(served: Served, world: World) -> None:
    response = await _request(
        served,
        world,
        "POST",
        wire.Paths.deployments(world.team_a.id),
        json={"type": "quick", "site_id": world.site_b.id},
    )
    _assert_error(response, 404, "not found")


async def test_oversized_bodies_are_413(served: Served, world: World) -> None:
    big = {"type": "quick", "site_id": world.site_a.id, "meta": {"x": "y" * wire.MAX_BODY_BYTES}}
    response = await _request(
        served, world, "POST", wire.Paths.deployments(world.team_a.id), json=big
    )
    _assert_error(response, 413, "exceeds")

    async def chunked() -> Any:  # no Content-Length: the limit still holds while reading
        for _ in range(80):
            yield b"x" * 1024

    response = await _request(served, world, "POST", wire.Paths.cancel(ULID), content=chunked())
    _assert_error(response, 413, "exceeds")


async def test_bad_cancel_bodies(served: Served, world: World) -> None:
    backend = world.store.backend_for(world.operator.id)
    d = await backend.trigger_deployment(world.team_a.id, "quick", world.site_a.id)
    for body, needle in [
        ({"reason": "x" * 5000}, "reason"),
        ({"reason": 5}, "reason"),
        ({"why": "x"}, "why"),
    ]:
        response = await _request(served, world, "POST", wire.Paths.cancel(d.id), json=body)
        _assert_error(response, 400, needle)
    assert not (await backend.get_deployment(d.id)).is_finished


async def test_unknown_paths_and_methods_are_json(served: Served, world: World) -> None:
    response = await _request(served, world, "GET", "/api/v1/nothing-here")
    _assert_error(response, 404, "no such endpoint")
    response = await _request(served, world, "DELETE", wire.Paths.deployment(ULID))
    _assert_error(response, 405, "method not allowed")
    response = await _request(served, world, "GET", wire.Paths.me(), params={"x": "1"})
    _assert_error(response, 400, "unknown query parameter")
    response = await _request(served, world, "GET", wire.Paths.deployment("%00" * 3))
    assert response.status_code == 404


async def test_bad_stream_queries_are_refused(served: Served, world: World) -> None:
    client = served.client(world.op_token)
    stream = client.subscribe(world.team_a.id, since=-5)
    with pytest.raises(InvalidRequest, match="since"):
        await anext(stream)
    await client.aclose()


async def test_the_client_passes_bad_arguments_through_as_typed_errors(
    served: Served, world: World
) -> None:
    client = served.client(world.op_token)
    with pytest.raises(InvalidRequest, match="limit"):
        await client.list_deployments(world.team_a.id, limit=0)
    with pytest.raises(InvalidRequest, match="cursor"):
        await client.list_deployments(world.team_a.id, before="nope")
    await client.aclose()
