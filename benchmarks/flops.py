"""FLOPs of one ONNX graph run, counted from the graph itself with ONNX shape inference.

Only the operators that carry the arithmetic of these models are counted: ``Conv``,
``ConvTranspose``, ``MatMul`` and ``Gemm``, at 2 FLOPs (a multiply and an add) per
multiply-accumulate. Element-wise operators (activations, the modulation scales, bias adds,
``Resize``) are left out: they are a few percent of the work and bound by memory, not
arithmetic, so "share of peak" is about the matrix work a CPU's peak FLOP/s refers to.

Symbolic dimensions of the inputs (the batch) are fixed to ``batch`` before inference, so
the count is per run of ``batch`` items. Where ONNX shape inference cannot follow a shape (the
exporter's ``Expand`` of the learned constant to the batch size is one: its target shape goes
through ``Where``/``Equal``), the graph is run once on zeros with ONNX Runtime, those tensors
added as outputs, and their actual shapes are used (``FlopCount.measured``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COUNTED = ("Conv", "ConvTranspose", "MatMul", "Gemm")


@dataclass
class FlopCount:
    flops: int = 0
    by_op: dict[str, int] = field(default_factory=dict)
    nodes: int = 0  # counted nodes
    unknown: list[str] = field(default_factory=list)  # counted ops with no shape at all
    measured: int = 0  # tensors whose shapes came from running the graph, not from inference

    def to_dict(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "by_op": dict(self.by_op),
            "nodes": self.nodes,
            "unknown": list(self.unknown),
            "measured": self.measured,
        }


def _fix_batch(model: Any, batch: int) -> Any:
    """A copy of ``model`` whose graph inputs have every symbolic dimension set to ``batch``."""
    import onnx

    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    initializers = {init.name for init in fixed.graph.initializer}
    for inp in fixed.graph.input:
        if inp.name in initializers or not inp.type.HasField("tensor_type"):
            continue
        for dim in inp.type.tensor_type.shape.dim:
            if not dim.HasField("dim_value") or dim.dim_value <= 0:
                dim.Clear()
                dim.dim_value = batch
    # drop stale intermediate shapes (they may hold the symbolic batch)
    del fixed.graph.value_info[:]
    return fixed


def _shapes(model: Any) -> dict[str, tuple[int, ...] | None]:
    shapes: dict[str, tuple[int, ...] | None] = {}
    for init in model.graph.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    shapes[node.output[0]] = tuple(int(d) for d in attr.t.dims)
    for vi in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
        if vi.name in shapes or not vi.type.HasField("tensor_type"):
            continue
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            shapes[vi.name] = None
            continue
        known = all(d.HasField("dim_value") for d in tt.shape.dim)
        shapes[vi.name] = tuple(int(d.dim_value) for d in tt.shape.dim) if known else None
    return shapes


def _attr(node: Any, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(a.i)
    return default


def _macs(node: Any, shapes: dict[str, tuple[int, ...] | None]) -> int | None:
    """Multiply-accumulates of one counted node, or None if a shape is unknown."""

    def shape(i: int, outputs: bool = False) -> tuple[int, ...] | None:
        names = node.output if outputs else node.input
        return shapes.get(names[i]) if i < len(names) and names[i] else None

    op = node.op_type
    if op == "Conv":
        y, w = shape(0, outputs=True), shape(1)
        if y is None or w is None:
            return None
        return math.prod(y) * math.prod(w[1:])  # out elements x (cin/group x kernel)
    if op == "ConvTranspose":
        x, w = shape(0), shape(1)
        if x is None or w is None:
            return None
        return math.prod(x) * math.prod(w[1:])  # in elements x (cout/group x kernel)
    if op == "MatMul":
        a, y = shape(0), shape(0, outputs=True)
        if a is None or y is None:
            return None
        return math.prod(y) * a[-1]
    if op == "Gemm":
        a, y = shape(0), shape(0, outputs=True)
        if a is None or y is None:
            return None
        k = a[0] if _attr(node, "transA", 0) else a[-1]
        return math.prod(y) * k
    return 0


def _run_shapes(model: Any, names: list[str]) -> dict[str, tuple[int, ...]]:
    """Actual shapes of tensors ``names``: run ``model`` (batch fixed) once on zeros."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    present = {o.name for o in probe.graph.output}
    for name in names:
        if name not in present:
            probe.graph.output.append(onnx.ValueInfoProto(name=name))
    initializers = {init.name for init in probe.graph.initializer}
    feeds = {}
    for inp in probe.graph.input:
        if inp.name in initializers:
            continue
        tt = inp.type.tensor_type
        dims = [int(d.dim_value) for d in tt.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
        feeds[inp.name] = np.zeros(dims, dtype)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        probe.SerializeToString(), opts, providers=["CPUExecutionProvider"]
    )
    values = session.run(names, feeds)
    return {name: tuple(int(d) for d in v.shape) for name, v in zip(names, values, strict=True)}


def count_flops(model: Any, batch: int = 1) -> FlopCount:
    """FLOPs of one run of ``model`` (a path or an ``onnx.ModelProto``) on ``batch`` items."""
    import onnx

    if isinstance(model, (str, Path)):
        model = onnx.load(str(model))
    fixed = _fix_batch(model, batch)
    inferred = onnx.shape_inference.infer_shapes(fixed, data_prop=True)
    shapes = _shapes(inferred)
    result = FlopCount()
    missing = sorted(
        {
            name
            for node in inferred.graph.node
            if node.op_type in COUNTED
            for name in [*node.input[:2], node.output[0]]
            if name and shapes.get(name) is None
        }
    )
    if missing:
        shapes.update(_run_shapes(fixed, missing))
        result.measured = len(missing)
    for node in inferred.graph.node:
        if node.op_type not in COUNTED:
            continue
        macs = _macs(node, shapes)
        if macs is None:
            result.unknown.append(node.name or node.op_type)
            continue
        result.nodes += 1
        result.flops += 2 * macs
        result.by_op[node.op_type] = result.by_op.get(node.op_type, 0) + 2 * macs
    return result
