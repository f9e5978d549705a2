"""Shared fixtures: the third-party-style test plugin, installed the way a user installs one."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTKIT_SRC = ROOT / "tests" / "fixtures" / "testkit_plugin"


@pytest.fixture(scope="session")
def testkit_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the test plugin package into a private folder and put it on sys.path.

    It is then found through its ``assetgen`` entry points, like any plugin from PyPI, without
    touching the virtual environment other tests and users see.
    """
    target = tmp_path_factory.mktemp("testkit")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(TESTKIT_SRC),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    return target


@pytest.fixture
def plugins_env(testkit_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Load only the built-in exporters and the working test plugin (not whatever is installed)."""
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters,testkit")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(testkit_path), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(autouse=True, scope="session")
def _private_models_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Installed models come from an empty folder of the suite's own, never from the user's
    ~/.local/share/assetgen/models (tests that install models point it elsewhere)."""
    path = tmp_path_factory.mktemp("installed-models")
    previous = os.environ.get("ASSETGEN_MODELS")
    os.environ["ASSETGEN_MODELS"] = str(path)
    yield
    if previous is None:
        os.environ.pop("ASSETGEN_MODELS", None)
    else:
        os.environ["ASSETGEN_MODELS"] = previous
