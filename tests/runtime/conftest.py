"""The C# runtime built once for the session (``make runtime-build``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "dotnet_runtime" / "build"


@pytest.fixture(scope="session")
def runtime_build() -> Path:
    """``make runtime-build`` (the library, its test, parity and bench programs) with Mono.
    Without Mono the C# tests are skipped on a developer's machine and fail in CI."""
    missing = [tool for tool in ("mono", "mcs", "make") if shutil.which(tool) is None]
    if missing:
        message = f"the C# runtime tests need {', '.join(missing)} (scripts/install-system-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    build = subprocess.run(
        ["make", "--no-print-directory", "-s", "runtime-build", f"PY={sys.executable}"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert build.returncode == 0, f"make runtime-build failed:\n{build.stdout}\n{build.stderr}"
    return BUILD
