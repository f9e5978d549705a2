"""The machine's limit (5): FLOPs per item from the ONNX graphs × measured throughput, against
the machine's measured peak FLOP/s."""

from __future__ import annotations

from typing import Any

from .common import ItemResult, Settings
from .flops import count_flops
from .machine import peak_flops
from .models import ModelSource, Skip, needed_files


def model_flops(src: ModelSource) -> dict[str, Any]:
    """FLOPs per item of the graphs each generator runs (batch 1)."""
    folder = src.require_model()
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise Skip("the onnx package is not installed (pip install -e '.[dev]')") from None
    # portraits: a sprite is every graph the folder holds: mapping + synthesis on a
    # label-conditioned model (its mapping also makes the label maps: a MatMul of the label
    # weights by the tables), mapping + prefix + suffix on an unconditional one
    files = needed_files(src.name, src.manifest)
    counts = {f: count_flops(folder / f).to_dict() for f in files}
    if src.name == "portraits":
        per_item = sum(c["flops"] for c in counts.values())
    else:
        per_item = counts[files[0]]["flops"]
    return {"per_item": per_item, "graphs": counts}


def bench_limit(
    sources: dict[str, ModelSource], settings: Settings, shared: dict[str, Any]
) -> ItemResult:
    item = ItemResult("5", "Share of the machine's peak FLOP/s (FLOPs from the ONNX graphs)")
    peak = peak_flops(settings.quick, settings.device)
    item.details["peak"] = peak
    p = peak["flops_per_s"]
    item.row(f"machine peak, float32 {peak['n']}² matmul ({peak['library']})", p, "GFLOP/s")
    measured = {
        "portraits": [(f"batch {b}", r) for b, r in shared.get("portraits_rates", {}).items()],
        "shoes": [(f"batch {b}", r) for b, r in shared.get("shoes_rates", {}).items()],
        "dialogue": [("step", shared["dialogue_rate"])] if "dialogue_rate" in shared else [],
    }
    unit = {
        "portraits": "sprite",
        "shoes": "icon",
        "dialogue": shared.get("dialogue_unit", "character"),
    }
    for name in ("portraits", "shoes", "dialogue"):
        try:
            flops = model_flops(sources[name])
        except Skip as exc:
            item.skip(f"{name}: share of peak", str(exc))
            continue
        item.details[name] = flops
        per = flops["per_item"]
        item.row(
            f"{name}: FLOPs per {unit[name]}", per, "MFLOP", note="Conv/ConvTranspose/MatMul/Gemm"
        )
        if not measured[name]:
            item.skip(f"{name}: share of peak", "its throughput was not measured (item 1 or 3)")
            continue
        rates = measured[name]
        if name == "portraits":  # batch 1 (how the generator runs) and the best batch
            best = max(rates[1:], key=lambda r: r[1], default=None)
            rates = [rates[0]] + ([best] if best else [])
        for label, rate in rates:
            achieved = per * rate
            item.details[name][f"achieved_{label.replace(' ', '_')}"] = achieved
            item.row(
                f"{name}, ONNX Runtime {label}: share of peak",
                achieved / p,
                "%",
                note=f"{achieved / 1e9:.2f} GFLOP/s",
            )
    return item
