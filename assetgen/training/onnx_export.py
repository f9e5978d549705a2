"""ONNX export with a parity check against PyTorch, as every model plugin needs."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

MAX_OPSET = 15  # Unity's own ONNX runtime documents opsets 7-15


def export_onnx(
    module: torch.nn.Module,
    example: tuple[torch.Tensor, ...],
    path: Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: dict[str, dict[int, str]],
    opset: int = MAX_OPSET,
) -> None:
    module.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".onnx.tmp")
    # The TorchScript exporter is chosen on purpose: it writes classic opsets (<= 15) that
    # Unity's runtime loads; its deprecation warning is noise here.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module,
            example,
            str(tmp),
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    tmp.replace(path)


def graph_opset(path: Path) -> int:
    import onnx

    model = onnx.load(str(path))
    return max(op.version for op in model.opset_import if op.domain in ("", "ai.onnx"))


def previous_metrics(out: Path, **same: Any) -> dict[str, Any]:
    """The ``metrics`` of the manifest already in ``out`` (an export over a shipped model keeps
    its evaluation figures until the next ``assetgen eval``), or ``{}`` when there is none, it is
    unreadable, or one of the ``same`` manifest fields differs (another kind of model)."""
    import json

    try:
        old = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(old, dict) or any(old.get(k) != v for k, v in same.items()):
        return {}
    metrics = old.get("metrics", {})
    return metrics if isinstance(metrics, dict) else {}
