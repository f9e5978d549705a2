"""A portraits model folder with a bad manifest field or attribute vector is refused at load,
with a message naming the file and the field (issue "Reliability II", item 1), for both kinds
of model; and the unconditional export never ships a degenerate edit."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from assetgen_portraits import plugin

from assetgen import ModelError

from .conftest import edited_model, portraits_engine


def _broken(source: Path, tmp_path: Path, change: Callable[[dict[str, Any], Path], None]) -> Path:
    folder = tmp_path / "model"
    return edited_model(source, folder, lambda manifest: change(manifest, folder))


def _refused(folder: Path, monkeypatch: pytest.MonkeyPatch, pattern: str) -> None:
    engine = portraits_engine(folder, monkeypatch)
    with pytest.raises(ModelError, match=pattern):
        engine.generate("portraits", seed=1)


def _set(key: str, value: Any) -> Callable[[dict[str, Any], Path], None]:
    def change(manifest: dict[str, Any], folder: Path) -> None:
        manifest[key] = value

    return change


def _edit(field: str, value: Any) -> Callable[[dict[str, Any], Path], None]:
    def change(manifest: dict[str, Any], folder: Path) -> None:
        manifest["edits"]["mouth"][field] = value(manifest["edits"]["mouth"][field])

    return change


def _attribute_value(value: float) -> Callable[[dict[str, Any], Path], None]:
    """Every number of the first vector in attributes.csv set to ``value``."""

    def change(manifest: dict[str, Any], folder: Path) -> None:
        path = folder / "attributes.csv"
        rows = list(csv.reader(path.open()))
        rows[1] = rows[1][:5] + [repr(value)] * (len(rows[1]) - 5)
        with path.open("w", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)

    return change


UNCONDITIONAL = [
    (_set("z_dim", 64), r"manifest.json: field 'z_dim' is 64; mapping.onnx takes z of size"),
    (_set("w_avg", [0.0] * 3), r"manifest.json: field 'w_avg' has 3 values"),
    (_set("w_avg", [float("nan")] * 16), r"manifest.json: field 'w_avg' holds NaN"),
    (_set("num_ws", 7), r"manifest.json: field 'num_ws'"),
    (_set("split_layer", 40), r"manifest.json: field 'split_layer' is 40"),
    (_edit("channels", lambda c: [*c[:-1], 999]), r"field 'edits.mouth.channels' must be 0 to"),
    (_edit("pattern", lambda p: np.zeros_like(np.asarray(p)).tolist()),
     r"field 'edits.mouth.pattern' is all zero"),
    (_attribute_value(float("nan")), r"attributes.csv: field '.*' holds NaN"),
    (_attribute_value(0.0), r"attributes.csv: field '.*' is a zero vector"),
]


@pytest.mark.parametrize("change, message", UNCONDITIONAL)
def test_a_bad_unconditional_model_is_refused_naming_the_field(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    change: Callable[[dict[str, Any], Path], None], message: str,
) -> None:
    _refused(_broken(tiny_model, tmp_path, change), monkeypatch, message)


def _drop_a_hair(manifest: dict[str, Any], folder: Path) -> None:
    hair = next(c for c in manifest["label_space"] if c["name"] == "hair")
    hair["values"] = hair["values"][:-1]
    sampling = manifest["label_sampling"]
    sampling["marginal"] = sampling["marginal"][:-1]
    for name, table in sampling["conditional"].items():
        sampling["conditional"][name] = table[:-1]


LABELS = [
    (_drop_a_hair, r"manifest.json: field 'label_space' has \d+ values in all; mapping.onnx"),
    (_set("w_avg", [1.0] * 5), r"manifest.json: field 'w_avg' has 5 values"),
    (_set("num_ws", 3), r"manifest.json: field 'num_ws'"),
    (_attribute_value(float("inf")), r"attributes.csv: field '.*' holds NaN or infinite"),
]


@pytest.mark.parametrize("change, message", LABELS)
def test_a_bad_label_model_is_refused_naming_the_field(
    tiny_label_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    change: Callable[[dict[str, Any], Path], None], message: str,
) -> None:
    _refused(_broken(tiny_label_model, tmp_path, change), monkeypatch, message)


def test_the_tiny_unconditional_model_ships_working_edits(tiny_model: Path) -> None:
    """The fixture other tests animate with: its vectors and edits are not degenerate, on
    whatever CPU float path builds it (make test runs this file twice)."""
    manifest = json.loads((tiny_model / "manifest.json").read_text())
    for name in ("mouth", "blink"):
        pattern = np.asarray(manifest["edits"][name]["pattern"])
        assert np.isfinite(pattern).all() and np.abs(pattern).max() > 0, name
    for row in plugin.read_attributes(tiny_model / "attributes.csv"):
        assert np.isfinite(row["vector"]).all() and np.abs(row["vector"]).max() > 0


def test_an_all_zero_difference_is_not_an_edit() -> None:
    from assetgen_portraits.training.analysis import DegenerateEditError, _edit_spec

    zero = np.zeros((4, 8, 8), np.float32)
    with pytest.raises(DegenerateEditError, match="all zero"):
        _edit_spec("mouth", 3, zero, np.zeros((2, 4, 8, 8), np.float32), 2, 0)


def test_install_model_refuses_a_bad_folder_naming_the_field(
    tiny_label_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from assetgen.cli import main as cli_main

    broken = _broken(tiny_label_model, tmp_path, _set("num_ws", 3))
    code = cli_main(["install-model", "portraits", str(broken), "--name", "broken"])
    err = capsys.readouterr().err
    assert code != 0 and "manifest.json: field 'num_ws'" in err and "Traceback" not in err
    code = cli_main(["models", "portraits"])
    assert "broken" not in capsys.readouterr().out
