"""Installing a test plugin package the way a user installs one from PyPI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def pip_install(source: Path, target: Path) -> Path:
    """pip-install the package at ``source`` (no dependencies, no index, no build isolation)
    into the private folder ``target``, never into the virtual environment; ``target``."""
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
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    return target
