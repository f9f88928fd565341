from tests.tui.helpers import World, make_app, ready


async def test_overview_lists_newest_first() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        rows = screen.state.rows
        assert rows, "the first page is listed"
        ids = [dep_id for dep_id, _ in rows]
        assert ids == sorted(ids, reverse=True)
        assert screen.state.team is not None
        assert screen.state.team.id == w.team_id
