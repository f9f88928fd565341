"""Access is per team: another team's data is not found; a viewer may only read."""

from __future__ import annotations

import pytest

from backend_client import Forbidden, NotFound, Role

from .conftest import World


async def test_me_lists_the_callers_teams_with_roles(world: World) -> None:
    me = await world.operator.me()
    assert me.user.name == "Olga Operator"
    assert [(t.name, t.role) for t in me.teams] == [("Team A", Role.OPERATOR)]
    viewer = await world.viewer.me()
    assert [(t.name, t.role) for t in viewer.teams] == [("Team A", Role.VIEWER)]
    outsider = await world.outsider.me()
    assert [t.id for t in outsider.teams] == [world.team_b.id]


async def test_sites_are_team_scoped(world: World) -> None:
    sites = await world.operator.list_sites(world.team_a.id)
    assert [s.domain for s in sites] == ["blog [beta].example.com", "shop.example.com"]
    assert {s.team_id for s in sites} == {world.team_a.id}
    with pytest.raises(NotFound):
        await world.outsider.list_sites(world.team_a.id)


async def test_another_teams_deployment_is_not_found_anywhere(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    step_id = d.steps[0].id
    calls = [
        world.outsider.get_deployment(d.id),
        world.outsider.read_output(d.id, step_id),
        world.outsider.cancel_deployment(d.id),
        world.outsider.list_deployments(world.team_a.id),
        world.outsider.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            await call
    # Unknown ids look exactly the same as other teams' ones.
    with pytest.raises(NotFound):
        await world.operator.get_deployment("01J0000000000000000000000Z")
    with pytest.raises(NotFound):
        await world.operator.read_output(d.id, "01J0000000000000000000000Z")
    with pytest.raises(NotFound):
        await world.operator.list_deployments("no-such-team")


async def test_a_viewer_reads_but_cannot_change(world: World) -> None:
    d = await world.operator.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
    assert (await world.viewer.get_deployment(d.id)).id == d.id
    page = await world.viewer.list_deployments(world.team_a.id)
    assert [x.id for x in page.data] == [d.id]
    with pytest.raises(Forbidden, match="viewer"):
        await world.viewer.cancel_deployment(d.id)
    with pytest.raises(Forbidden, match="viewer"):
        await world.viewer.trigger_deployment(world.team_a.id, "three_steps", world.site_a1.id)
