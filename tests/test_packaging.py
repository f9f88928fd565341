"""The built wheel holds everything the dashboard needs, styles included."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _listed_packages() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = config["tool"]["setuptools"]["packages"]
    assert isinstance(packages, list)
    return packages


def test_every_python_package_is_listed_in_pyproject() -> None:
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("backend_client", "backend_server", "tui")
        for init in (ROOT / top).rglob("__init__.py")
    }
    listed = set(_listed_packages())
    assert found - listed == set(), "packages missing from [tool.setuptools] packages"
    assert listed - found == {"tui.styles"}  # the top-level styles/ folder, mapped in


@pytest.mark.slow
def test_wheel_ships_the_stylesheet_and_the_app_finds_it(tmp_path: Path) -> None:
    built = subprocess.run(
        # The build backend comes from the test extras: no download, works offline.
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("deploytop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for tcss in (ROOT / "styles").glob("*.tcss"):
        assert f"tui/styles/{tcss.name}" in names
    target = tmp_path / "site"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    # Imported from the installed copy (PYTHONPATH comes before the editable finder).
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import tui.app as a; p = a.DeploytopApp.CSS_PATH; print(a.__file__); "
            "print(p); print(p.is_file())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(target), "PATH": ""},
        cwd=tmp_path,  # not the checkout: `python -c` puts the working directory first
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    module, css, exists = probe.stdout.split("\n")[:3]
    assert module.startswith(str(target))
    assert css == str(target / "tui" / "styles" / "dashboard.tcss")
    assert exists == "True"
