"""Every binding id the keymap setting can name (for checking a user's keymap)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding

__all__ = ["known_binding_ids", "unknown_binding_ids"]


def _ids(classes: Iterable[type]) -> set[str]:
    ids: set[str] = set()
    for cls in classes:
        for binding in getattr(cls, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.id:
                ids.add(binding.id)
    return ids


def known_binding_ids() -> set[str]:
    """Ids of the dashboard's bindings and of the output pane and pager."""
    from tui.app import DeploytopApp
    from tui.output.pager import PagerScreen, PromptScreen
    from tui.output.view import OutputView
    from tui.screens.cancel import CancelScreen
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.help import HelpScreen
    from tui.screens.pickers import PickerScreen, TextPromptScreen
    from tui.widgets.deployment_list import DeploymentList

    return _ids(
        (
            DeploytopApp,
            DashboardScreen,
            DeploymentList,
            CancelScreen,
            HelpScreen,
            PickerScreen,
            TextPromptScreen,
            PagerScreen,
            PromptScreen,
            OutputView,
        )
    )


def unknown_binding_ids(keymap: Iterable[str]) -> list[str]:
    """The ids of a keymap that name no binding (typos), sorted."""
    wanted = set(keymap)
    if not wanted:
        return []
    return sorted(wanted - known_binding_ids())
