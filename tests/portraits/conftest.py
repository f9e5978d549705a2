"""Helpers of the portraits tests: an engine on a given model folder, and a model folder with
an edited manifest."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetgen import Engine
from assetgen.runtime import write_manifest


def portraits_engine(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A CPU engine with only the portraits plugin, its MODEL_DIR pointed at ``model_dir`` for
    the test."""
    from assetgen_portraits import plugin

    monkeypatch.setattr(plugin, "MODEL_DIR", model_dir)
    return Engine(device="cpu", plugins=["portraits"])


def edited_model(source: Path, folder: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    """``folder``: a copy of the model folder ``source`` whose manifest ``change`` edited in
    place (rewritten with the files' sha256, so only the edit is wrong)."""
    shutil.copytree(source, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    write_manifest(folder, manifest, list(manifest["files"]))
    return folder
