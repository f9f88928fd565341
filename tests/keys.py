"""Key bursts for pilot tests: every key posted at once, as the driver does for one read
from the terminal (``pilot.press`` waits for the app to go idle after each key, which hides
type-ahead problems)."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot

NAMED = {"enter": "\r", "escape": "\x1b", "backspace": "\x7f", "ctrl+u": "\x15"}
"""Key names a burst may use, with the character the terminal sends."""


def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Post every key at once.

    Args:
        pilot: The running app's pilot.
        keys: Single characters (``"1"``, ``":"``) or key names (``"enter"``, ``"escape"``).
    """
    for key in keys:
        if key in NAMED:
            event = events.Key(key, NAMED[key])
        else:
            event = events.Key(_character_to_key(key) if len(key) == 1 else key, key)
        pilot.app.post_message(event)
