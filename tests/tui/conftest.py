"""Isolate the dashboard tests from the operator's environment and config file."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("DEPLOYTOP_"):
            monkeypatch.delenv(name)
    # No config file: an empty XDG config dir (DEPLOYTOP_CONFIG must name a real file).
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture(autouse=True)
def _unfreeze_gc() -> Iterator[None]:
    # The dashboard freezes what it loaded (gc.freeze) so full collections stay short; in
    # a test session of many apps, hand everything back to the collector after each test.
    yield
    gc.unfreeze()
