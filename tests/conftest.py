"""Shared test set-up.

SVG snapshots live in the top-level ``snapshots/`` folder (one sub-folder per test module)
rather than the plugin's default ``tests/__snapshots__``: the plugin looks its extension
class up at call time, so swapping in a subclass with another ``dirname`` is enough.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest_textual_snapshot

SNAPSHOT_ROOT = Path(__file__).resolve().parent.parent / "snapshots"


class _TopLevelSVGExtension(pytest_textual_snapshot.SVGImageExtension):  # type: ignore[misc]
    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(SNAPSHOT_ROOT / Path(test_location.filepath).stem)


pytest_textual_snapshot.SVGImageExtension = _TopLevelSVGExtension  # type: ignore[misc]
