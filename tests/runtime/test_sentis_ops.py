"""Sentis compatibility, checked not claimed (issue 24, point 4; docs/sentis.md).

Every ``.onnx`` graph a shipped manifest lists is read with the ``onnx`` package
(``scripts/sentis_ops.py``): its opset, every operator with its attribute values, the types of
its stored tensors and inputs / outputs, and its largest tensor rank. Each is checked against
``docs/sentis_operators.json``, Unity Sentis's (``com.unity.ai.inference``) operator table kept
with its source and version: opset 7-15, only operators, attribute values and tensor types the
table marks "yes", no tensor above rank 8 and none of unknown rank. A failure names the graph
and the operator.

A shipped graph that genuinely uses something Sentis does not support goes in
``KNOWN_EXCEPTIONS`` with the reason (and in docs/sentis.md); a new problem still fails, and so
does an exception that no longer occurs. This checks our reading of Unity's documentation and
importer source; it does not import the graphs into the Unity editor.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TABLE_PATH = ROOT / "docs" / "sentis_operators.json"

# (graph relative to the repository root, the problem sentence check() gives) -> why it ships.
# Empty: every shipped graph passes. An entry must match a problem exactly.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _load_script() -> ModuleType:
    script = ROOT / "scripts" / "sentis_ops.py"
    spec = importlib.util.spec_from_file_location("assetgen_sentis_ops", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


sentis_ops = _load_script()
GRAPHS = sentis_ops.shipped_graphs(ROOT)


@pytest.fixture(scope="module")
def table() -> dict[str, Any]:
    return sentis_ops.load_table(TABLE_PATH)  # type: ignore[no-any-return]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_table_records_its_source_and_version(table: dict[str, Any]) -> None:
    package = table["package"]
    assert package["name"] == "com.unity.ai.inference"
    assert package["version"] == "2.4.0"
    assert package["sources"]["operators"] == (
        "https://docs.unity3d.com/Packages/com.unity.ai.inference@2.4/manual/supported-operators.html"
    )
    assert "12c709b7db036d2ce42ac478f21bdcaeb6c736b7" in package["read_from"]
    assert table["limits"] == {**table["limits"], "opset_min": 7, "opset_max": 15, "max_rank": 8}

    def verdict_ok(v: str) -> bool:
        return v == "yes" or v.startswith(("no:", "unconfirmed:")) or v in ("no", "unconfirmed")

    for name, entry in table["operators"].items():
        assert verdict_ok(entry["supported"]), name
        assert set(entry["types"]) == {"CPU", "GPUCompute", "GPUPixel"}, name
        assert verdict_ok(entry["sentis_2_1_3"]), name
        for attr, spec in entry.get("attributes", {}).items():
            assert spec["values"], (name, attr)
            assert all(verdict_ok(v) for v in spec["values"].values()), (name, attr)
    for dtype, entry in table["tensor_types"].items():
        assert verdict_ok(entry["supported"]), dtype
        for storage, v in entry.get("storage", {}).items():
            assert storage in ("raw", "typed", "external") and verdict_ok(v), (dtype, storage)
    # pixel shuffle (DepthToSpace) in both layouts: a retrained portraits model may use it
    modes = table["operators"]["DepthToSpace"]["attributes"]["mode"]["values"]
    assert modes == {"DCR": "yes", "CRD": "yes"}


def test_every_shipped_model_folder_has_its_graphs_listed() -> None:
    folders = sentis_ops.model_dirs(ROOT)
    assert {_rel(f) for f in folders} >= {
        "plugins/assetgen_portraits/model",
        "plugins/assetgen_shoes/model",
        "plugins/assetgen_dialogue/model",
        "plugins/assetgen_dialogue/shakespeare_model",
    }
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        if manifest.get("format") == "onnx":
            assert any(g.parent == folder for g in GRAPHS), folder
    assert len(GRAPHS) >= 5


@pytest.mark.parametrize("graph", GRAPHS, ids=[_rel(g) for g in GRAPHS])
def test_shipped_graph_loads_in_sentis(graph: Path, table: dict[str, Any]) -> None:
    listing = sentis_ops.list_graph(graph, ROOT)
    assert listing.ops, f"{listing.graph}: no operators listed"
    problems = sentis_ops.check(listing, table)
    known = {p for (g, p) in KNOWN_EXCEPTIONS if g == listing.graph}
    unexpected = [p for p in problems if p not in known]
    assert not unexpected, "Sentis check:\n" + "\n".join(unexpected)
    stale = sorted(known - set(problems))
    assert not stale, "KNOWN_EXCEPTIONS entries that no longer occur:\n" + "\n".join(stale)


# ---- the checker itself: each kind of problem is caught, naming the graph and the operator


def _graph(
    tmp_path: Path,
    nodes: list[Any],
    inputs: list[Any],
    outputs: list[Any],
    opset: int = 15,
    initializers: list[Any] | None = None,
    domains: tuple[tuple[str, int], ...] = (),
) -> Any:
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=initializers or [])
    opsets = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, v) for d, v in domains)]
    model = helper.make_model(g, opset_imports=opsets)
    model.ir_version = 8
    path = tmp_path / "g.onnx"
    onnx.save(model, str(path))
    return sentis_ops.list_graph(path, tmp_path)


def _vi(name: str, shape: list[int], elem: int = TensorProto.FLOAT) -> Any:
    return helper.make_tensor_value_info(name, elem, shape)


def test_check_passes_a_plain_graph(tmp_path: Path, table: dict[str, Any]) -> None:
    x, y = _vi("x", [1, 8, 4, 4]), _vi("y", [1, 2, 8, 8])
    for mode in ("DCR", "CRD"):
        node = helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode=mode)
        assert sentis_ops.check(_graph(tmp_path, [node], [x], [y]), table) == []


def test_check_names_graph_and_operator(tmp_path: Path, table: dict[str, Any]) -> None:
    x = _vi("x", [1, 8, 4, 4])
    cases: list[tuple[list[Any], list[Any], dict[str, Any], str]] = [
        (
            [helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode="XYZ")],
            [_vi("y", [1, 2, 8, 8])],
            {},
            "g.onnx: operator DepthToSpace with mode=XYZ: missing from the table",
        ),
        (
            [helper.make_node("Resize", ["x", "", "s"], ["y"], mode="cubic")],
            [_vi("y", [1, 8, 8, 8])],
            {"initializers": [helper.make_tensor("s", TensorProto.FLOAT, [4], [1, 1, 2, 2])]},
            "g.onnx: operator Resize with mode=cubic: no: the importer warns and uses nearest",
        ),
        (
            [helper.make_node("Relu", ["x"], ["y"])],
            [_vi("y", [1, 8, 4, 4])],
            {"opset": 17},
            "g.onnx: opset 17 is outside 7-15",
        ),
        (
            [helper.make_node("HardSwish", ["x"], ["y"])],
            [_vi("y", [1, 8, 4, 4])],
            {},
            "g.onnx: operator HardSwish is missing from the Sentis table",
        ),
        (
            [helper.make_node("Unique", ["x"], ["y"])],
            [_vi("y", [None])],  # type: ignore[list-item]
            {"opset": 11},
            "g.onnx: operator Unique: Sentis support is 'no'",
        ),
        (
            [helper.make_node("Reshape", ["x", "shape"], ["y"])],
            [_vi("y", [1, 2, 1, 2, 1, 2, 1, 2, 8])],
            {
                "initializers": [
                    helper.make_tensor("shape", TensorProto.INT64, [9], [1, 2, 1, 2, 1, 2, 1, 2, 8])
                ]
            },
            "g.onnx: tensor y has rank 9 (more than 8)",
        ),
        (
            [
                helper.make_node("Cast", ["t"], ["c"], to=TensorProto.FLOAT),
                helper.make_node("Add", ["x", "c"], ["y"]),
            ],
            [_vi("y", [1, 8, 4, 4])],
            {"initializers": [helper.make_tensor("t", TensorProto.FLOAT16, [1], [0.5])]},
            "g.onnx: initialiser of type FLOAT16 (typed data): no: the importer reads float16",
        ),
        (
            [helper.make_node("Foo", ["x"], ["y"], domain="com.example")],
            [_vi("y", [1, 8, 4, 4])],
            {"domains": (("com.example", 1),)},
            "g.onnx: imports the opset domain 'com.example' (version 1)",
        ),
    ]
    for nodes, outputs, kwargs, expected in cases:
        problems = sentis_ops.check(_graph(tmp_path, nodes, [x], outputs, **kwargs), table)
        assert any(p.startswith(expected) for p in problems), (expected, problems)


def test_float16_tables_in_raw_bytes_then_cast_pass(tmp_path: Path, table: dict[str, Any]) -> None:
    """The shipped mapping graph's pattern: a float16 initialiser (raw bytes) and a Cast."""
    t = helper.make_tensor("t", TensorProto.FLOAT16, [1], np.float16([0.5]).tobytes(), raw=True)
    nodes = [
        helper.make_node("Cast", ["t"], ["c"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["x", "c"], ["y"]),
    ]
    listing = _graph(tmp_path, nodes, [_vi("x", [1])], [_vi("y", [1])], initializers=[t])
    assert listing.initializer_dtypes == {"FLOAT16:raw": 1}
    assert listing.casts == {"FLOAT16->FLOAT": 1}
    assert sentis_ops.check(listing, table) == []


def test_pixel_shuffle_exports_as_depth_to_space_crd(tmp_path: Path, table: dict[str, Any]) -> None:
    """torch's pixel_shuffle, through our exporter (TorchScript, opset 15), is DepthToSpace with
    mode CRD; the DCR layout would put the pixels elsewhere, so the mode matters."""
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    from assetgen.training.onnx_export import export_onnx

    class Shuffle(torch.nn.Module):  # type: ignore[misc]
        def forward(self, x: Any) -> Any:
            return torch.nn.functional.pixel_shuffle(x, 2)

    x = torch.arange(1 * 8 * 3 * 5, dtype=torch.float32).reshape(1, 8, 3, 5)
    path = tmp_path / "shuffle.onnx"
    export_onnx(Shuffle(), (x,), path, ["x"], ["y"], {"x": {0: "batch"}, "y": {0: "batch"}})
    listing = sentis_ops.list_graph(path, tmp_path)
    assert listing.ops["DepthToSpace"].attributes["mode"] == {"CRD"}
    assert sentis_ops.check(listing, table) == []

    want = Shuffle()(x).numpy()
    model = onnx.load(str(path))
    outs = {}
    for mode in ("CRD", "DCR"):
        for node in model.graph.node:
            if node.op_type == "DepthToSpace":
                for a in node.attribute:
                    if a.name == "mode":
                        a.s = mode.encode()
        session = ort.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        outs[mode] = session.run(None, {"x": x.numpy()})[0]
    assert np.array_equal(outs["CRD"], want)
    assert not np.array_equal(outs["DCR"], want)
