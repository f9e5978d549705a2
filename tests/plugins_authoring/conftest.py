"""Plugin packages installed the way a user installs them, into private folders.

Each package is pip-installed into its own folder (never into the virtual environment), which
a test puts on ``sys.path`` or on a subprocess's ``PYTHONPATH``; the engine then finds it
through its ``assetgen`` entry point like any plugin from PyPI.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Offline, without dependencies (the tests' environment has them) and without an isolated
# build environment (which would fetch setuptools from an index).
PIP_INSTALL = ("-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index")


def _pip_install(target: Path, *projects: Path) -> None:
    result = subprocess.run(
        [sys.executable, *PIP_INSTALL, "--target", str(target), *map(str, projects)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"pip could not install {[p.name for p in projects]}:\n{result.stderr}")


def _run_pytest(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env.pop("ASSETGEN_LOAD_PLUGINS", None)  # the suite picks its plugins itself
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="session")
def pip_install() -> Callable[..., None]:
    """``pip_install(target, *project_folders)``; fails the test with pip's message."""
    return _pip_install


@pytest.fixture(scope="session")
def run_pytest() -> Callable[[Path, Path], subprocess.CompletedProcess[str]]:
    """``run_pytest(project, site)``: a package's own test suite, in a fresh interpreter that
    sees the packages installed in ``site``."""
    return _run_pytest


@pytest.fixture
def load_only(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``load_only(site, "a", "b")``: the engine and CLI see ``site`` and load only a, b and
    the built-in exporters (not whatever else happens to be installed)."""

    def use(site: Path, *plugins: str) -> None:
        monkeypatch.syspath_prepend(str(site))
        importlib.invalidate_caches()
        monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", ",".join([*plugins, "exporters"]))

    return use
