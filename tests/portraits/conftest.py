"""Helpers of the portraits tests: an engine on a given model folder, a model folder with an
edited manifest, and the evaluations set up on the tiny label model."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from assetgen import Engine, ModelError
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


def refused_naming(
    source: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, field: str, value: object,
    named: str,
) -> None:
    """A copy of ``source`` (in ``folder``) whose manifest sets ``field`` to ``value`` cannot
    generate: the :class:`ModelError` names manifest.json and ``named``."""
    broken = edited_model(source, folder, lambda m: m.update({field: value}))
    engine = portraits_engine(broken, monkeypatch)
    with pytest.raises(ModelError, match=rf"manifest.json.*{named}"):
        engine.generate("portraits", seed=1)


@dataclass(frozen=True)
class TinyEvaluation:
    """An evaluation's setting on the tiny label model (the fixture below)."""

    #: ``assetgen_portraits.training.commands``: the evaluations and their configs
    tools: ModuleType
    #: the tiny label model's folder, where the portraits plugin's MODEL_DIR points
    model: Path
    #: what every evaluation of it reads and writes: its data, and the judge it trains
    files: dict[str, str]


@pytest.fixture
def tiny_label_evaluation(
    tiny_label_model: Path, tiny_label_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> TinyEvaluation:
    """The portraits evaluations run on the tiny label model: the plugin pointed at it, its
    data, and a judge trained under ``tmp_path``."""
    from assetgen_portraits import plugin
    from assetgen_portraits.training import commands as tools

    monkeypatch.setattr(plugin, "MODEL_DIR", tiny_label_model)
    files = {"data": str(tiny_label_data), "judge": str(tmp_path / "judge.pt")}
    return TinyEvaluation(tools, tiny_label_model, files)
