"""Layering: the backend layer never pulls in the screen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_backend_client_does_not_import_textual_or_tui() -> None:
    modules = sorted(
        f"backend_client.{p.stem}"
        for p in (ROOT / "backend_client").glob("*.py")
        if p.stem != "__init__"
    )
    code = (
        "import sys, importlib\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')"
        " or m == 'tui' or m.startswith('tui.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert len(modules) >= 8
    assert result.stdout.strip() == "", f"backend_client imported: {result.stdout}"
