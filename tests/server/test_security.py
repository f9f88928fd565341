"""Auth on every endpoint: no token, a bad token, another team's token, a viewer acting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend_client import Forbidden, NotFound, Unauthorized, wire

from .conftest import World
from .harness import Served

# (name, method, path from (team, deployment, step), json body)
Endpoint = tuple[str, str, Callable[[str, str, str], str], dict[str, Any] | None]

ENDPOINTS: list[Endpoint] = [
    ("me", "GET", lambda t, d, s: wire.Paths.me(), None),
    ("sites", "GET", lambda t, d, s: wire.Paths.sites(t), None),
    ("list", "GET", lambda t, d, s: wire.Paths.deployments(t), None),
    (
        "trigger",
        "POST",
        lambda t, d, s: wire.Paths.deployments(t),
        {"type": "quick", "site_id": "X"},
    ),
    ("get", "GET", lambda t, d, s: wire.Paths.deployment(d), None),
    ("cancel", "POST", lambda t, d, s: wire.Paths.cancel(d), {"reason": "x"}),
    ("output", "GET", lambda t, d, s: wire.Paths.output(d, s), None),
]
TEAM_SCOPED = [e for e in ENDPOINTS if e[0] != "me"]


async def _target(world: World) -> tuple[str, str, str]:
    backend = world.store.backend_for(world.operator.id)
    d = await backend.trigger_deployment(
        world.team_a.id, "quick", world.site_a.id, {"simulate": {"hold": True}}
    )
    return world.team_a.id, d.id, d.steps[0].id


async def _call(
    served: Served, endpoint: Endpoint, ids: tuple[str, str, str], token: str | None
) -> httpx.Response:
    _, method, path, body = endpoint
    if body is not None and "site_id" in body:
        body = {**body}
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with httpx.AsyncClient(base_url=served.url, headers=headers) as raw:
        return await raw.request(method, path(*ids), json=body)


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return str(error["message"])


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
async def test_no_token_is_401(served: Served, world: World, endpoint: Endpoint) -> None:
    response = await _call(served, endpoint, await _target(world), None)
    assert "bearer token" in _error(response, 401, "unauthorized")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
@pytest.mark.parametrize("header", ["Bearer nope", "Basic b3A6cGFzcw==", "Bearer", "nope"])
async def test_bad_token_is_401(
    served: Served, world: World, endpoint: Endpoint, header: str
) -> None:
    ids = await _target(world)
    _, method, path, body = endpoint
    async with httpx.AsyncClient(base_url=served.url, headers={"Authorization": header}) as raw:
        response = await raw.request(method, path(*ids), json=body)
    _error(response, 401, "unauthorized")


@pytest.mark.parametrize("endpoint", TEAM_SCOPED, ids=[e[0] for e in TEAM_SCOPED])
async def test_another_teams_things_are_404(
    served: Served, world: World, endpoint: Endpoint
) -> None:
    ids = await _target(world)
    response = await _call(served, endpoint, ids, world.outsider_token)
    message = _error(response, 404, "not_found")
    # Same answer as for something that does not exist: nothing is revealed.
    missing = ("01HZZZZZZZZZZZZZZZZZZZZZZZ",) * 3
    assert (await _call(served, endpoint, missing, world.outsider_token)).status_code == 404
    assert "Team A" not in message


async def test_viewer_may_read_but_not_cancel_or_trigger(served: Served, world: World) -> None:
    team, deployment, _ = await _target(world)
    viewer = served.client(world.viewer_token)
    assert (await viewer.get_deployment(deployment)).id == deployment
    with pytest.raises(Forbidden) as info:
        await viewer.cancel_deployment(deployment, "nope")
    assert "viewer" in info.value.message
    with pytest.raises(Forbidden):
        await viewer.trigger_deployment(team, "quick", world.site_a.id)
    response = await _call(served, ENDPOINTS[5], (team, deployment, ""), world.viewer_token)
    _error(response, 403, "forbidden")
    assert not (await viewer.get_deployment(deployment)).is_finished
    await viewer.aclose()


async def test_event_stream_refuses_bad_tokens_and_other_teams(
    served: Served, world: World
) -> None:
    for token, team, error in [
        ("wrong", world.team_a.id, Unauthorized),
        (world.outsider_token, world.team_a.id, NotFound),
        (world.op_token, "01HZZZZZZZZZZZZZZZZZZZZZZZ", NotFound),
    ]:
        client = served.client(token)
        stream = client.subscribe(team)
        with pytest.raises(error):
            await anext(stream)
        await client.aclose()


async def test_event_stream_handshake_status_and_headers(served: Served, world: World) -> None:
    # What a non-deploytop client sees: the HTTP status and the error headers.
    async with httpx.AsyncClient(base_url=served.url) as raw:
        response = await raw.get(
            wire.Paths.events(world.team_a.id),
            headers={
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
    assert response.status_code == 401
    assert response.headers[wire.HEADER_ERROR_CODE] == "unauthorized"
    assert response.json()["error"]["code"] == "unauthorized"


_UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/teams/x%0Ay/events",  # a newline: no route can match it
        "/api/v1/teams/x%0Dy%1B%5D0;owned%07/events",  # reaches the endpoint, quoted
        "/api/v1/teams/%C3%A9t%C3%A9/events",  # not ASCII
        "/api/v1/no-such-stream",
        "/elsewhere",
    ],
)
async def test_a_refused_handshake_is_a_404_with_safe_headers(
    served: Served, world: World, path: str
) -> None:
    # The team id from the path is quoted in the message: a header must still be valid.
    headers = {**_UPGRADE, "Authorization": f"Bearer {world.op_token}"}
    async with httpx.AsyncClient(base_url=served.url) as raw:
        response = await raw.get(path, headers=headers)
    assert response.status_code == 404, (response.status_code, response.headers)
    assert response.json()["error"]["code"] == "not_found"
    assert response.headers[wire.HEADER_ERROR_CODE] == "not_found"
    message = response.headers[wire.HEADER_ERROR_MESSAGE]
    assert message.isascii() and message.isprintable() and "owned" not in message


async def test_a_token_file_maps_tokens_to_users(tmp_path: Path, world: World) -> None:
    from backend_server import TokenFileError, load_tokens_file

    good = tmp_path / "tokens.toml"
    good.write_text(f'[tokens]\n"t1" = "{world.operator.id}"\n"t2" = "VICTOR@example.com"\n')
    assert load_tokens_file(good, world.store.users) == {
        "t1": world.operator.id,
        "t2": world.viewer.id,
    }
    as_json = tmp_path / "tokens.json"
    as_json.write_text(f'{{"tokens": {{"t3": "{world.outsider.id}"}}}}')
    assert load_tokens_file(as_json, world.store.users) == {"t3": world.outsider.id}
    for text, message in [
        ('[tokens]\n"t" = "nobody@example.com"\n', "no user"),
        ("tokens = 3\n", "needs a"),
        ("[tokens\n", "malformed"),
    ]:
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(TokenFileError, match=message):
            load_tokens_file(bad, world.store.users)
    with pytest.raises(TokenFileError, match="cannot read"):
        load_tokens_file(tmp_path / "missing.toml", world.store.users)
