"""The dashboard's palette commands exist only on the dashboard, not on screens above it."""

from __future__ import annotations

from tui.commands import DashboardCommands
from tui.output.pager import PagerScreen

from .helpers import World, make_app, ready, wait_for


async def test_dashboard_commands_are_not_offered_from_the_pager() -> None:
    w = World()
    app = make_app(w)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        names = [name for name, _, _ in DashboardCommands(screen)._commands()]
        assert "Show failures" in names
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, PagerScreen))
        assert DashboardCommands(app.screen)._commands() == []
