"""The portraits benchmarks (items 1, 2, 4, 5, 7 of ``python -m benchmarks``) on both kinds
of portraits model: the label-conditioned one (tests/conftest.py's tiny label model and its
run) and the unconditional one (the tiny StyleGAN with its prefix / suffix split). Each item
runs and reports its fields; what has no meaning for a label model is a skipped row with its
reason; item 7 (the model vs DiceBear + resvg drawing the same labels) reports both rates and
their ratios. No timing figure is checked, only that it was measured (seconds, not a
benchmark)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the suite is a folder of the repository, not an installed package
    sys.path.insert(0, str(ROOT))

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("torch")
pytest.importorskip("dicebear")
pytest.importorskip("resvg_py")

from benchmarks import suite  # noqa: E402
from benchmarks.models import ModelSource  # noqa: E402

from .conftest import QUICK, keep_model_dirs  # noqa: E402

BATCHES = (1, 8, 32, 128)


def _run_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: Path, run: Path, only: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], str]:
    keep_model_dirs(monkeypatch)
    out = tmp_path / "results.json"
    status = suite.main(
        [
            *QUICK,
            "--only",
            only,
            "--export-count",
            "4",
            "--out",
            str(out),
            "--portraits-model",
            str(model),
            "--portraits-run",
            str(run),
            "--shoes-model",
            str(tmp_path / "no-shoes"),
            "--dialogue-model",
            str(tmp_path / "no-dialogue"),
        ]
    )
    assert status == 0
    report = json.loads(out.read_text())
    rows = {r["figure"]: r for item in report["items"] for r in item["rows"]}
    failed = [r for r in rows.values() if r["note"].startswith("FAILED")]
    assert not failed, failed
    return report, rows, str(out)


def _item(report: dict[str, Any], key: str) -> dict[str, Any]:
    (item,) = [i for i in report["items"] if i["key"] == key]
    return item


def test_quick_suite_on_a_label_conditioned_model(  # type: ignore[no-untyped-def]
    tiny_label_model, tiny_label_run, tmp_path, monkeypatch, capsys
) -> None:
    report, rows, out = _run_suite(
        tmp_path, monkeypatch, tiny_label_model, tiny_label_run, "1,2,4,5,7,8"
    )
    printed = capsys.readouterr().out
    assert report["models"]["portraits"]["conditioning"] == "labels"
    # 1: ONNX Runtime vs the run's LabelGenerator (load_label_generator), same weights
    torch_row = rows["sprite batch 1: PyTorch time / ONNX Runtime time"]
    assert torch_row["value"] > 0 and torch_row["note"].startswith("same weights")
    assert _item(report, "1")["details"]["torch"]["same_weights"] is True
    assert rows["engine.generate, 1 sprite (mapping + synthesis path)"]["value"] > 0
    for b in BATCHES:
        assert rows[f"ONNX Runtime throughput, batch {b}"]["value"] > 0
        assert rows[f"engine.generate throughput, count {b} (generator path)"]["value"] > 0
    # 2: the cached-prefix figures are skipped with their reason; the talk frames are timed
    for figure in (
        "talk 8 frames: full recompute time / cached time",
        "talk 8 frames: the same ratio in FLOPs (the most caching can give)",
    ):
        assert rows[figure]["status"] == "skipped"
        assert "label-conditioned" in rows[figure]["note"]
    assert rows["talk 8 frames (generator.animate)"]["value"] > 0
    assert rows["talk frames/s"]["value"] > 0
    assert rows["talk 8 frames time / 8 stills in one call (generate_batch)"]["value"] > 0
    assert _item(report, "2")["details"]["frames"] == 8
    # 4: the batch export of the label model against its own model calls
    assert rows["export throughput / model-only throughput (same calls, batch 1)"]["value"] > 0
    assert rows["model only, 4 sprites (mapping + synthesis)"]["value"] > 0
    # 5: FLOPs of the two graphs, share of the peak
    assert rows["portraits: FLOPs per sprite"]["value"] > 0
    assert rows["portraits, ONNX Runtime batch 1: share of peak"]["value"] > 0
    graphs = _item(report, "5")["details"]["portraits"]["graphs"]
    assert set(graphs) == {"mapping.onnx", "synthesis.onnx"}
    # 7: the model vs DiceBear + resvg on the same label sets
    seven = _item(report, "7")
    best = seven["details"]["best_batch"]
    assert best in BATCHES and seven["details"]["conditioning"] == "labels"
    dicebear = rows["DiceBear + resvg, 1 thread"]
    assert dicebear["value"] > 0 and "same label sets" in dicebear["note"]
    assert rows["neural model, batch 1, 1 thread (engine.generate)"]["value"] > 0
    assert rows[f"neural model, batch {best} (best), 1 thread"]["value"] > 0
    assert rows["neural model / DiceBear + resvg, batch 1"]["value"] > 0
    assert rows[f"neural model / DiceBear + resvg, best batch ({best})"]["value"] > 0
    assert (
        rows["neural model vs DiceBear pixels, same labels: mean absolute difference"]["value"] >= 0
    )
    assert set(seven["details"]["cpu_per_wall"]) >= {"dicebear", "model batch 1"}
    assert seven["details"]["png_decode_s"] > 0
    assert "| 7 " in printed and "DiceBear" in printed and out in printed
    # 8: lip sync: the drivers against real time, a lip-synced talk against stills
    assert rows["text driver"]["value"] > 0
    speech = rows["speech driver, aligned to the text"]
    assert speech["value"] is not None or "espeak-ng" in speech["note"]
    assert rows["lip-synced talk / as many stills (engine.generate)"]["value"] > 0
    assert rows["nine-shape sheet (animation=mouths)"]["value"] > 0


def test_a_label_set_becomes_the_dicebear_character_with_those_labels(
    tiny_label_model: Path,
) -> None:
    """What DiceBear reports it drew is the model's label set, but for a part another one
    hides (earrings under long hair: read back as "none")."""
    from assetgen_portraits.labels import LabelModel
    from assetgen_portraits.training import dataset_builder as dataset

    from benchmarks.dicebear import STYLE, character_of

    labels = LabelModel(json.loads((tiny_label_model / "manifest.json").read_text()))
    spec = dataset.style_spec(STYLE)
    for seed in range(6):
        codes = labels.draw(seed, {})
        char = character_of(labels, codes, spec, seed)
        assert char.variants["head"] == "default"
        for column in labels.columns:
            value = column.values[codes[column.name]]
            if column.name in char.variants:
                assert char.variants[column.name] == (None if value == "none" else value)
        hair_color = labels.by_name["hairColor"].values[codes["hairColor"]]
        assert char.colors.get("hair", "none") == hair_color
        _png, drew = dataset.render(STYLE, char)
        row = dataset.label_row(spec, drew)
        for column in labels.columns:
            ours = column.values[codes[column.name]]
            assert row[column.name] == ours or row[column.name] == "none", (column.name, ours)


def test_an_unconditional_model_is_timed_against_the_data_sets_faces(tmp_path: Path) -> None:
    from assetgen_portraits.training import dataset_builder as dataset

    from benchmarks.dicebear import Faces

    src = ModelSource("portraits", tmp_path, "", tmp_path, manifest={"z_dim": 8})
    faces = Faces(src)
    assert faces.labels is None
    char = faces.character(3)
    assert isinstance(char, dataset.Character) and char == faces.character(3)
    assert faces.render(3).startswith(b"\x89PNG")


# the tiny StyleGAN fixture takes a minute or two to train and analyse when this folder runs
# alone; in the whole suite tests/portraits has already built it
@pytest.mark.slow
def test_quick_suite_on_an_unconditional_model(  # type: ignore[no-untyped-def]
    tiny_model, tiny_run, tmp_path, monkeypatch
) -> None:
    report, rows, _out = _run_suite(tmp_path, monkeypatch, tiny_model, tiny_run, "1,2,7")
    assert report["models"]["portraits"]["conditioning"] == "none"
    torch_row = rows["sprite batch 1: PyTorch time / ONNX Runtime time"]
    assert torch_row["value"] > 0 and torch_row["note"].startswith("same weights")
    assert rows["engine.generate, 1 sprite (prefix + suffix path)"]["value"] > 0
    assert rows["engine.generate throughput, count 8 (generator path)"]["value"] > 0
    talk = rows["talk 8 frames: full recompute time / cached time"]
    assert talk["value"] > 0 and talk["status"] in ("met", "NOT met")
    dicebear = rows["DiceBear + resvg, 1 thread"]
    assert dicebear["value"] > 0 and "unconditional" in dicebear["note"]
    assert rows["neural model / DiceBear + resvg, batch 1"]["value"] > 0
    assert not any("pixels" in figure for figure in rows)
