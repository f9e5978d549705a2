"""Shoes icons per second and dialogue lines per second: ONNX Runtime vs PyTorch (3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .common import ItemResult, Settings, median, side_by_side, summary
from .dialogue import bench_dialogue
from .models import (
    ItemPart,
    ModelSource,
    Skip,
    torch_ratio_row,
    torch_shoes,
    torch_thread_variants,
)


def bench_shoes(part: ItemPart, src: ModelSource) -> None:
    engine, settings, item = part.engine, part.settings, part.item
    bundle = part.bundle(src)
    session = bundle.session("shoes.onnx")
    z_dim = int(bundle.manifest["z_dim"])
    rng = np.random.default_rng(0)
    z1 = rng.standard_normal((1, z_dim)).astype(np.float32)
    t1 = np.array([0], np.int64)
    z32 = rng.standard_normal((32, z_dim)).astype(np.float32)
    t32 = np.arange(32, dtype=np.int64) % len(bundle.manifest["type_names"])

    def ort(z: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, {"z": z, "type": t})[0])

    fns: dict[str, Callable[[], object]] = {"onnxruntime": lambda: ort(z1, t1)}
    details: dict[str, Any] = {}
    torch_skip = ""
    try:
        import torch

        wrapper, info = torch_shoes(src, part.from_manifest)

        def pt(z: np.ndarray, t: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return np.asarray(wrapper(torch.from_numpy(z), torch.from_numpy(t)).numpy())

        info["max_abs_diff_vs_onnx"] = float(np.abs(pt(z1, t1) - ort(z1, t1)).max())
        info["same_weights"] = info["max_abs_diff_vs_onnx"] <= 1e-3
        fns.update(torch_thread_variants("pytorch", lambda: pt(z1, t1)))
        details["torch"] = info
    except Skip as exc:
        torch_skip = str(exc)
        details["torch"] = {"skipped": torch_skip}
    fns["onnxruntime batch 32"] = lambda: ort(z32, t32)
    fns["engine.generate"] = lambda: engine.generate("shoes", seed=0, count=8)
    times = side_by_side(fns, settings.reps, settings.batch_s)
    details["s_per_call"] = {k: summary(v) for k, v in times.items()}
    item.details["shoes"] = details
    rate = 1 / median(times["onnxruntime"])
    figure = "shoes icons/s: ONNX Runtime / PyTorch (batch 1)"
    if torch_ratio_row(item, details["torch"], times, "pytorch", figure) is not None:
        for k in times:
            if k.startswith("pytorch"):
                item.row(
                    f"shoes batch 1, {k.replace('pytorch', 'PyTorch eager')}",
                    1 / median(times[k]),
                    "icons/s",
                )
    else:
        item.skip("shoes icons/s: ONNX Runtime / PyTorch (batch 1)", torch_skip)
    item.row("shoes, ONNX Runtime, batch 1", rate, "icons/s")
    item.row("shoes, ONNX Runtime, batch 32", 32 / median(times["onnxruntime batch 32"]), "icons/s")
    item.row(
        "shoes, engine.generate (8 per call)",
        8 / median(times["engine.generate"]),
        "icons/s",
        note="model + uint8 + recolour + metadata",
    )
    part.shared["shoes_rates"] = {"1": rate, "32": 32 / median(times["onnxruntime batch 32"])}


def bench_small(
    engine: Any,
    sources: dict[str, ModelSource],
    settings: Settings,
    from_manifest: bool,
    shared: dict[str, Any],
) -> ItemResult:
    item = ItemResult("3", "Shoes icons/s and dialogue lines/s: ONNX Runtime vs PyTorch")
    part = ItemPart(engine, settings, from_manifest, shared, item)
    for name, fn in (("shoes", bench_shoes), ("dialogue", bench_dialogue)):
        try:
            fn(part, sources[name])
        except Skip as exc:
            item.skip(f"{name}: ONNX Runtime / PyTorch", str(exc))
    return item
