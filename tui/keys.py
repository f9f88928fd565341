"""Every binding id the keymap setting can name, and checks of a user's keymap.

Three mistakes are reported when the dashboard starts: an id that names no binding (a typo),
a key that the keymap gives to two bindings active at the same time (``cancel = "f"``
would silently take ``f`` from the failures view), and a key name no keyboard can produce
(``cancel = "ctrl+nonsense"`` would leave cancel with no working key).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from textual._keyboard_protocol import FUNCTIONAL_KEYS
from textual.binding import Binding
from textual.keys import (
    KEY_DISPLAY_ALIASES,
    KEY_TO_UNICODE_NAME,
    REPLACED_KEYS,
    Keys,
    _character_to_key,
)

__all__ = [
    "TWINS",
    "BadKey",
    "bad_key_names",
    "bad_keys_notice",
    "keymap_conflicts",
    "known_binding_ids",
    "unknown_binding_ids",
    "usable_keymap",
]

TWINS = {"cancel.read_only": "cancel", "output-view.bottom": "output-view.follow"}
"""Ids that follow another id's keys on purpose (only one of the two is active at a time):
remapping the second remaps the first too."""


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
    for twin, of in TWINS.items():
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
                    by_key.setdefault(key, set()).add(TWINS.get(binding.id, binding.id))
        for key, ids in by_key.items():
            if len(ids) >= 2 and ids & remapped:
                found.setdefault(key, set()).update(ids)
    return [(key, sorted(ids)) for key, ids in sorted(found.items())]


# --- key names ------------------------------------------------------------------------------
#
# Textual matches a binding by comparing its key string with the name of the key pressed,
# exactly (``App._check_bindings``). The names pressed keys get are made by Textual's input
# parser (``textual/_xterm_parser.py``): a ``Keys`` value (``enter``, ``pageup``, ``f5``,
# ``ctrl+shift+left``), a kitty-protocol functional key (``_keyboard_protocol.FUNCTIONAL_KEYS``),
# or a character: letters and digits as themselves, other characters by their Unicode name
# (``_character_to_key``: ``?`` is ``question_mark``). Modifiers come first, sorted:
# ``alt``, ``ctrl``, ``hyper``, ``meta``, ``shift``, ``super``. A keymap key that is none of
# these never matches a key press. (``App.set_keymap`` already turns a lone ``?`` into
# ``question_mark`` and strips spaces around commas; those are fine.)

MODIFIERS: tuple[str, ...] = ("alt", "ctrl", "hyper", "meta", "shift", "super")
"""Modifier names, in the order Textual puts them in a key name."""

_MODIFIER_ALIASES = {
    "control": "ctrl",
    "cmd": "super",
    "command": "super",
    "win": "super",
    "option": "alt",
    "opt": "alt",
}
_KEY_ALIASES = {
    **{shown: key for key, shown in KEY_DISPLAY_ALIASES.items() if len(shown) > 1},
    "esc": "escape",
    "del": "delete",
    "ins": "insert",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "bs": "backspace",
    "spacebar": "space",
}


@cache
def _named_keys() -> frozenset[str]:
    """Key names (no modifiers) that are not single characters: ``enter``, ``f5``, ..."""
    names = {key.value.rpartition("+")[2] for key in Keys}
    names.update(FUNCTIONAL_KEYS.values())
    # "<any>", "<ignore>", "<scroll-up>" are never pressed; "ctrl-at" is a legacy alias.
    return frozenset(n for n in names if len(n) > 1 and n.isidentifier())


def _is_character_name(name: str) -> bool:
    """Whether ``name`` is what Textual calls a character key (``question_mark``, ``slash``)."""
    original = REPLACED_KEYS.get(name, name)  # "slash" is Unicode's "solidus"
    unicode_name = KEY_TO_UNICODE_NAME.get(original, original.replace("_", " ").upper())
    try:
        char = unicodedata.lookup(unicode_name)
    except KeyError:
        return False
    return len(char) == 1 and _character_to_key(char) == name


def _is_key(name: str) -> bool:
    """Whether ``name`` (no modifiers) is the name of a key Textual can report."""
    if len(name) == 1:
        return name.isalnum()  # other characters are reported by name
    return name in _named_keys() or _is_character_name(name)


def _key_suggestion(name: str) -> str | None:
    if len(name) == 1 and name.isprintable() and not name.isspace():
        return _character_to_key(name)
    folded = name.lower()
    if folded != name and _is_key(folded):
        return folded
    alias = _KEY_ALIASES.get(folded)
    if alias is not None:
        return alias
    close = difflib.get_close_matches(folded, sorted(_named_keys()), 1, 0.8)
    return close[0] if close else None


def _modifier_suggestion(name: str) -> str | None:
    folded = name.lower()
    if folded in MODIFIERS:
        return folded
    if folded in _MODIFIER_ALIASES:
        return _MODIFIER_ALIASES[folded]
    close = difflib.get_close_matches(folded, MODIFIERS, 1, 0.75)
    return close[0] if close else None


def _rank(modifier: str) -> int:
    return MODIFIERS.index(modifier) if modifier in MODIFIERS else len(MODIFIERS)


@dataclass(frozen=True)
class BadKey:
    """A key in the keymap that no key press can match."""

    binding_id: str
    """The keymap entry it is in."""
    key: str
    """The key as written."""
    reason: str
    """Why it can never match, for the operator."""
    suggestion: str | None = None
    """A key name that would work, when one is likely meant."""

    def describe(self) -> str:
        """``cancel = 'ctrl+nonsense': 'nonsense' is not a key name``, and a suggestion."""
        text = f"{self.binding_id} = {self.key!r}: {self.reason}"
        if self.suggestion is not None:
            text += f" (did you mean {self.suggestion!r}?)"
        return text


def _check_key(binding_id: str, key: str) -> BadKey | None:
    """Why ``key`` (one of a comma separated list) can never match, or None if it can."""
    if len(key) == 1 or key in {k.value for k in Keys}:
        return None  # a lone character (set_keymap names it) or a name Textual itself uses
    *modifiers, name = key.split("+")
    if not name:
        return BadKey(binding_id, key, "no key after the last '+'")
    if any(not m for m in modifiers):
        return BadKey(binding_id, key, "an empty modifier ('++')")
    if " " in key or "\t" in key:
        squeezed = "".join(key.split())
        return BadKey(binding_id, key, "spaces inside a key name", squeezed)
    fixed_mods: list[str] = []
    unknown = [m for m in modifiers if m not in MODIFIERS]
    for modifier in modifiers:
        fixed_mods.append(_modifier_suggestion(modifier) or modifier)
    key_ok = _is_key(name)
    fixed_name = name if key_ok else (_key_suggestion(name) or name)
    order = sorted(set(fixed_mods), key=lambda m: (m not in MODIFIERS, _rank(m), m))
    fixed = "+".join([*order, fixed_name])
    fixable = all(m in MODIFIERS for m in fixed_mods) and _is_key(fixed_name)
    suggestion = fixed if fixable and fixed != key else None
    if unknown:
        words = ", ".join(repr(m) for m in unknown)
        kind = "a modifier" if len(unknown) == 1 else "modifiers"
        return BadKey(
            binding_id,
            key,
            f"{words} {'is not' if len(unknown) == 1 else 'are not'} {kind}"
            f" (modifiers: {', '.join(MODIFIERS)})",
            suggestion,
        )
    if not key_ok:
        return BadKey(binding_id, key, f"{name!r} is not a key name", suggestion)
    if len(set(modifiers)) != len(modifiers):
        return BadKey(binding_id, key, "a modifier given twice", suggestion)
    if modifiers != sorted(modifiers, key=_rank):
        return BadKey(
            binding_id,
            key,
            f"Textual puts modifiers in the order {'+'.join(MODIFIERS)}",
            suggestion,
        )
    return None


def bad_key_names(keymap: Mapping[str, str]) -> list[BadKey]:
    """Keys in the keymap that no key press can ever match, in keymap order.

    Args:
        keymap: binding id -> keys, comma separated (the ``keymap`` setting).

    Returns:
        One :class:`BadKey` per bad key, e.g. for ``{"cancel": "ctrl+shift+super+nonsense"}``
        ``'nonsense' is not a key name``.
    """
    found: list[BadKey] = []
    for binding_id, spec in keymap.items():
        for key in (part.strip() for part in spec.split(",")):
            if key:  # an empty entry binds nothing and harms nothing
                bad = _check_key(binding_id, key)
                if bad is not None:
                    found.append(bad)
    return found


def bad_keys_notice(keymap: Mapping[str, str]) -> str | None:
    """The startup notice for bad key names in ``keymap``, or None when there are none.

    Bad keys are left out of the keymap the app applies (:func:`usable_keymap`); a binding
    all of whose keys are bad keeps its default keys, and the notice says so.
    """
    bad = bad_key_names(keymap)
    if not bad:
        return None
    parts = [b.describe() for b in bad]
    bad_by_id: dict[str, int] = {}
    for b in bad:
        bad_by_id[b.binding_id] = bad_by_id.get(b.binding_id, 0) + 1
    dead = [
        binding_id
        for binding_id, count in bad_by_id.items()
        if count == len([k for k in keymap[binding_id].split(",") if k.strip()])
    ]
    text = "keymap: " + "; ".join(parts)
    if dead:
        text += " — default keys kept for " + ", ".join(repr(i) for i in dead)
    return text


def usable_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """``keymap`` without the keys no key press can match (they would only show in the
    footer); an entry left with none is dropped, so its binding keeps its default keys."""
    bad: dict[str, set[str]] = {}
    for b in bad_key_names(keymap):
        bad.setdefault(b.binding_id, set()).add(b.key)
    usable: dict[str, str] = {}
    for binding_id, spec in keymap.items():
        keys = [k.strip() for k in spec.split(",") if k.strip()]
        good = [k for k in keys if k not in bad.get(binding_id, set())]
        if good:
            usable[binding_id] = ",".join(good)
    return usable
