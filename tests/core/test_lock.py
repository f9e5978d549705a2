"""The lock of tested versions (constraints.txt, scripts/lock.py, docs/install.md): the suite
runs with the locked versions, the lock agrees with pyproject.toml, and every install step of
the Makefile uses it."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _load_lock_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("assetgen_lock_script", ROOT / "scripts/lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


lock = _load_lock_script()


def test_the_suite_runs_with_the_locked_versions() -> None:
    """What `make test` installed is exactly the lock: nothing newer, nothing unlocked."""
    try:
        installed = lock.closure()
    except lock.LockError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"not the full test install: {exc}")
    diff = lock.differences(installed, lock.read_lock())
    assert diff == [], (
        "this environment differs from constraints.txt (reinstall with `make test`, or after a "
        "deliberate upgrade run `make lock`):\n" + "\n".join(diff)
    )


def test_every_pin_satisfies_pyproject() -> None:
    """A pin outside what pyproject.toml allows would make every locked install fail."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = lock.read_lock()
    requirements = [Requirement(r) for r in project["dependencies"]]
    for extra in lock.EXTRAS:
        requirements += [Requirement(r) for r in project["optional-dependencies"][extra]]
    for req in requirements:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a dependency of assetgen but not in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject.toml's {req}"
        )
    assert pins["torch"] == "2.13.0"  # the CPU build satisfies it; other specs pull CUDA


def test_every_install_in_the_makefile_uses_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK := constraints\.txt$", makefile, re.M)
    extras = re.search(r"^TEST_EXTRAS := (.+)$", makefile, re.M)
    assert extras is not None and tuple(extras.group(1).split(",")) == lock.EXTRAS
    installs = [
        line.strip() for line in makefile.splitlines() if re.search(r"\$\(PIP\) install", line)
    ]
    unlocked = [line for line in installs if "-c $(LOCK)" not in line]
    # lock-upgrade alone installs without the lock: it is how newer versions come in
    assert len(installs) >= 6
    assert all("--upgrade" in line for line in unlocked), unlocked
    assert len(unlocked) == 2, unlocked
    for target in ("$(STAMP_DEMO):", "$(STAMP_TEST):", "$(STAMP_BRIDGE):"):
        rule = next(line for line in makefile.splitlines() if line.startswith(target))
        assert "$(LOCK)" in rule, f"{target} is not rebuilt when the lock changes"


def test_render_and_read_round_trip_without_local_labels(tmp_path: Path) -> None:
    path = tmp_path / "constraints.txt"
    path.write_text(lock.render({"torch": "2.13.0+cpu", "numpy": "2.4.6", "typing-extensions":
                                 "4.16.0"}))
    text = path.read_text()
    assert "torch==2.13.0\n" in text and "+cpu" not in text
    assert lock.read_lock(path) == {"numpy": "2.4.6", "torch": "2.13.0",
                                    "typing-extensions": "4.16.0"}
    assert lock.differences({"torch": "2.13.0+cpu", "numpy": "2.4.6",
                             "typing-extensions": "4.16.0"}, lock.read_lock(path)) == []
    assert lock.differences({"torch": "2.14.0", "numpy": "2.4.6", "attrs": "26.1.0"},
                            lock.read_lock(path)) == [
        "attrs 26.1.0 is installed but not locked",
        "torch 2.14.0 is installed; the lock has 2.13.0",
        "typing-extensions==4.16.0 is locked but no longer part of the install",
    ]
    path.write_text("numpy>=2\n")
    with pytest.raises(lock.LockError, match=r"constraints.txt:1: expected NAME==VERSION"):
        lock.read_lock(path)
