"""Every binding id the keymap setting can name, and checks of a user's keymap.

Two mistakes are reported when the dashboard starts: an id that names no binding (a typo),
and a key that the keymap gives to two bindings active at the same time (``cancel = "f"``
would silently take ``f`` from the failures view).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding
from textual.keys import _character_to_key

__all__ = ["keymap_conflicts", "known_binding_ids", "unknown_binding_ids"]

_TWINS = {"cancel.read_only": "cancel"}
"""Ids that follow another id's keys on purpose (only one of the two is active at a time)."""


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


def _contexts() -> list[tuple[type, ...]]:
    """Classes whose bindings are active together (the app's apply on every screen)."""
    from tui.app import DeploytopApp
    from tui.output.pager import PagerScreen, PromptScreen
    from tui.output.view import OutputView
    from tui.screens.cancel import CancelScreen
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.help import HelpScreen
    from tui.screens.pickers import PickerScreen, TextPromptScreen
    from tui.widgets.deployment_list import DeploymentList

    return [
        (DeploytopApp, DashboardScreen, DeploymentList),
        (DeploytopApp, DashboardScreen, OutputView),
        (DeploytopApp, CancelScreen),
        (DeploytopApp, HelpScreen),
        (DeploytopApp, PickerScreen),
        (DeploytopApp, TextPromptScreen),
        (DeploytopApp, PagerScreen, OutputView),
        (DeploytopApp, PromptScreen),
    ]


def _keys(spec: str) -> list[str]:
    """A comma separated key list in Textual's key names (``?`` is ``question_mark``)."""
    keys = [key.strip() for key in spec.split(",") if key.strip()]
    return [_character_to_key(key) if len(key) == 1 else key for key in keys]


def keymap_conflicts(keymap: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """Keys the keymap gives to two or more bindings that are active at the same time.

    Only conflicts the keymap causes are reported (at least one of the ids is remapped).

    Returns:
        ``(key, ids)`` pairs sorted by key, ``ids`` sorted: e.g. ``("f", ["cancel",
        "failures"])`` for ``cancel = "f"``.
    """
    if not keymap:
        return []
    remapped = set(keymap)
    keymap = dict(keymap)
    for twin, of in _TWINS.items():
        if of in keymap:
            keymap.setdefault(twin, keymap[of])  # as the app applies it
    found: dict[str, set[str]] = {}
    for context in _contexts():
        by_key: dict[str, set[str]] = {}
        for cls in context:
            for binding in getattr(cls, "BINDINGS", []):
                if not isinstance(binding, Binding) or not binding.id:
                    continue
                spec = keymap.get(binding.id, binding.key)
                for key in _keys(spec):
                    # A twin counts as the id it follows.
                    by_key.setdefault(key, set()).add(_TWINS.get(binding.id, binding.id))
        for key, ids in by_key.items():
            if len(ids) >= 2 and ids & remapped:
                found.setdefault(key, set()).update(ids)
    return [(key, sorted(ids)) for key, ids in sorted(found.items())]
