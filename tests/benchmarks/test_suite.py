"""The benchmark suite (benchmarks/, ``make bench``) stays runnable: the FLOP counter on tiny
hand-built ONNX graphs, the table, and ``python -m benchmarks --quick`` end to end on tiny
shoes and dialogue models exported from untrained weights (seconds, not a benchmark)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the suite is a folder of the repository, not an installed package
    sys.path.insert(0, str(ROOT))

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from benchmarks import common, suite  # noqa: E402
from benchmarks.flops import count_flops  # noqa: E402

from .conftest import QUICK, keep_model_dirs  # noqa: E402


def _model(nodes, inputs, outputs, initializers=()):  # type: ignore[no-untyped-def]
    from onnx import helper

    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)], ir_version=8)


def _weight(name: str, shape: tuple[int, ...]):  # type: ignore[no-untyped-def]
    from onnx import numpy_helper

    return numpy_helper.from_array(np.ones(shape, np.float32), name)


def test_flop_counter_on_tiny_graphs() -> None:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        # 3 -> 4 channels, 3x3, same padding: 4 x 8 x 8 outputs x 3 x 3 x 3 MACs each
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        # transposed 4 -> 2 channels, 2x2 stride 2: 4 x 8 x 8 inputs x 2 x 2 x 2 MACs each
        helper.make_node("ConvTranspose", ["c1", "w2"], ["c2"], strides=[2, 2]),
        helper.make_node("Flatten", ["c2"], ["f"]),  # N x 512
        helper.make_node("Gemm", ["f", "w3"], ["g"]),  # 512 -> 10
        helper.make_node("Reshape", ["g", "shape"], ["r"]),  # N x 2 x 5
        helper.make_node("MatMul", ["r", "w4"], ["y"]),  # (2 x 5) @ (5 x 7) per item
    ]
    inits = [
        _weight("w1", (4, 3, 3, 3)),
        _weight("w2", (4, 2, 2, 2)),
        _weight("w3", (512, 10)),
        _weight("w4", (5, 7)),
        onnx.numpy_helper.from_array(np.array([-1, 2, 5], np.int64), "shape"),
    ]
    model = _model(nodes, [x], [y], inits)
    per_item = {
        "Conv": 4 * 8 * 8 * 27,
        "ConvTranspose": 4 * 8 * 8 * 8,
        "Gemm": 512 * 10,
        "MatMul": 2 * 5 * 7,
    }
    one = count_flops(model, batch=1)
    assert one.by_op == {k: 2 * v for k, v in per_item.items()}
    assert one.flops == 2 * sum(per_item.values()) and one.nodes == 4 and not one.unknown
    assert count_flops(model, batch=3).flops == 3 * one.flops


def test_flop_counter_runs_the_graph_where_inference_cannot_follow() -> None:
    """A Conv fed by an Expand to a computed shape: shape inference gives up at batch 1
    (as with the portraits exporter's constant input), so the counter runs the graph."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
        helper.make_node("Concat", ["n1", "rest"], ["target"], axis=0),
        helper.make_node("Equal", ["target", "minus1"], ["eq"]),
        helper.make_node("Where", ["eq", "ones4", "target"], ["target2"]),
        helper.make_node("Expand", ["const", "target2"], ["e"]),
        helper.make_node("Conv", ["e", "w"], ["y"]),
    ]
    ints = onnx.numpy_helper.from_array
    inits = [
        ints(np.array(0, np.int64), "zero"),
        ints(np.array([0], np.int64), "axes"),
        ints(np.array([-1, -1, -1], np.int64), "rest"),
        ints(np.array([-1, -1, -1, -1], np.int64), "minus1"),
        ints(np.ones(4, np.int64), "ones4"),
        _weight("const", (1, 5, 4, 4)),
        _weight("w", (6, 5, 1, 1)),
    ]
    count = count_flops(_model(nodes, [x], [y], inits), batch=1)
    assert count.flops == 2 * 6 * 4 * 4 * 5 and not count.unknown


def test_table_and_statuses() -> None:
    rows = [
        common.Row("1", "ratio met", 2.5, "×", target=2.0),
        common.Row("2", "ratio missed", 1.5, "×", target=3.0, note="why"),
        common.Row("4", "share", 0.612, "%", target=0.8),
        common.Row("5", "peak", 6.5e10, "GFLOP/s"),
        common.Row("6", "skipped one", None, note="Mono is not installed"),
    ]
    assert [r.status for r in rows] == ["met", "NOT met", "NOT met", "", "skipped"]
    text = common.table(rows)
    lines = text.splitlines()
    assert len(lines) == 2 + len(rows) and len({len(line) for line in lines}) == 1
    assert "2.50×" in text and "≥ 3.00×" in text and "61.2 %" in text and "≥ 80.0 %" in text
    assert "65.0 GFLOP/s" in text and "Mono is not installed" in text


def test_side_by_side_pairs_repetitions() -> None:
    times = common.side_by_side({"a": lambda: None, "b": lambda: sum(range(50))}, 3, 0.002)
    assert set(times) == {"a", "b"} and all(len(v) == 3 for v in times.values())
    assert common.ratio([2.0, 4.0, 9.0], [1.0, 1.0, 3.0]) == 3.0


# -- the suite end to end, on tiny models ------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny shoes and dialogue models: a run folder (checkpoint.pt) and its export (shoes
    untrained, the dialogue GPT trained 2 steps on a tiny data set)."""
    torch = pytest.importorskip("torch")
    from assetgen_dialogue.training import export as gpt_export
    from assetgen_dialogue.training import train as gpt_train
    from assetgen_shoes.training import export as shoes_export
    from assetgen_shoes.training.model import ShoeGenerator

    root = tmp_path_factory.mktemp("bench-models")
    torch.manual_seed(0)
    shoes_config = {"z_dim": 8, "width": 4, "type_names": ["boot", "sandal"]}
    (root / "shoes_run").mkdir()
    torch.save(
        {
            "G_ema": ShoeGenerator(8, 2, 4).state_dict(),
            "config": json.dumps(shoes_config),
            "step": 0,
        },
        root / "shoes_run" / "checkpoint.pt",
    )
    shoes_export.export(root / "shoes_run", root / "shoes_model")

    # the dialogue GPT: the tiny data set of tests/dialogue/conftest.py, a 2-step run
    pytest.importorskip("sentencepiece")
    spec = importlib.util.spec_from_file_location(
        "dialogue_test_data", Path(__file__).parents[1] / "dialogue" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    dialogue_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dialogue_conftest)
    data = dialogue_conftest.write_v2_data(root / "dialogue_data")
    config = {**gpt_train.DEFAULT_CONFIG, **dialogue_conftest.TINY_GPT, "steps": 2}
    gpt_train.train(root / "dialogue_run", data, config, resume=False)
    gpt_export.export(root / "dialogue_run", root / "dialogue_model")
    return {"root": root}


def test_quick_suite_end_to_end(tiny_models, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    keep_model_dirs(monkeypatch)
    root = tiny_models["root"]
    out = tmp_path / "results.json"
    status = suite.main(
        [
            *QUICK,
            "--only",
            "1,3,5",
            "--out",
            str(out),
            "--portraits-model",
            str(tmp_path / "no-such-model"),
            "--shoes-model",
            str(root / "shoes_model"),
            "--shoes-run",
            str(root / "shoes_run"),
            "--dialogue-model",
            str(root / "dialogue_model"),
            "--dialogue-run",
            str(root / "dialogue_run"),
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    rows = {r["figure"]: r for item in report["items"] for r in item["rows"]}
    # portraits: no model, a clear skip naming the option to pass
    (portraits,) = [i for i in report["items"] if i["key"] == "1"]
    assert portraits["rows"][0]["status"] == "skipped"
    assert "--portraits-model" in portraits["rows"][0]["note"]
    # shoes and dialogue measured against PyTorch on the same (untrained) weights
    shoes = rows["shoes icons/s: ONNX Runtime / PyTorch (batch 1)"]
    assert shoes["value"] > 0 and shoes["note"].startswith("same weights")
    step = rows["dialogue token step: ONNX Runtime / PyTorch (same step graph, batch 1)"]
    assert step["value"] > 0 and step["note"].startswith("same weights")
    defaults = "dialogue, engine.generate (defaults: 16 candidates a round, up to 4 rounds, judged)"
    assert rows[defaults]["value"] > 0
    assert rows["dialogue, engine.generate (rounds=1: one round of 16)"]["value"] > 0
    assert rows["dialogue, engine.generate: defaults / one round (time per line)"]["value"] > 0
    assert rows["dialogue, engine.generate (candidates=1)"]["value"] > 0
    assert rows["dialogue: FLOPs per token"]["value"] > 0
    # FLOPs from the graphs and shares of the measured peak
    assert rows["shoes: FLOPs per icon"]["value"] > 0
    assert 0 < rows["shoes, ONNX Runtime batch 1: share of peak"]["value"] < 1
    assert rows["portraits: share of peak"]["status"] == "skipped"
    assert "| 3 " in printed and "share of peak" in printed and str(out) in printed
