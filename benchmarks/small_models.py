"""Shoes icons per second and dialogue characters per second: ONNX Runtime vs PyTorch (3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .common import ItemResult, Settings, median, ratio, side_by_side, summary
from .models import (
    ModelSource,
    Skip,
    best_of,
    torch_dialogue,
    torch_shoes,
    torch_thread_variants,
    weights_note,
)


def bench_shoes(
    engine: Any,
    src: ModelSource,
    settings: Settings,
    from_manifest: bool,
    shared: dict[str, Any],
    item: ItemResult,
) -> None:
    model_dir = src.require_model()
    bundle = engine.runtime.load_model(model_dir)
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

        wrapper, info = torch_shoes(src, from_manifest)

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
    best = best_of(times, "pytorch")
    if best is not None:
        details["torch"]["best"] = best
        item.row(
            "shoes icons/s: ONNX Runtime / PyTorch (batch 1)",
            ratio(times[best], times["onnxruntime"]),
            "×",
            note=weights_note(details["torch"]) + f"; PyTorch at its best: {best}",
        )
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
    shared["shoes_rates"] = {"1": rate, "32": 32 / median(times["onnxruntime batch 32"])}


def bench_dialogue(
    engine: Any,
    src: ModelSource,
    settings: Settings,
    from_manifest: bool,
    shared: dict[str, Any],
    item: ItemResult,
) -> None:
    model_dir = src.require_model()
    bundle = engine.runtime.load_model(model_dir)
    session = bundle.session("dialogue_step.onnx")
    m = bundle.manifest
    layers, hidden = int(m["layers"]), int(m["hidden"])
    feeds = {
        "char": np.array([5], np.int64),
        "archetype": np.array([0], np.int64),
        "h": np.zeros((layers, 1, hidden), np.float32),
        "c": np.zeros((layers, 1, hidden), np.float32),
    }

    def ort() -> Any:
        return session.run(None, feeds)

    fns: dict[str, Callable[[], object]] = {"onnxruntime": ort}
    details: dict[str, Any] = {}
    torch_skip = ""
    try:
        import torch
        from assetgen_dialogue.model import DialogueStep

        model, info = torch_dialogue(src, from_manifest)
        step = DialogueStep(model).eval()
        tfeeds = {k: torch.from_numpy(v) for k, v in feeds.items()}
        chars = tfeeds["char"][:, None]
        state = (tfeeds["h"], tfeeds["c"])

        def pt_step() -> Any:
            with torch.inference_mode():
                return step(tfeeds["char"], tfeeds["archetype"], tfeeds["h"], tfeeds["c"])

        def pt_lstm() -> Any:
            with torch.inference_mode():
                return model(chars, tfeeds["archetype"], state)

        logits = pt_step()[0].numpy()
        info["max_abs_diff_vs_onnx"] = float(np.abs(logits - ort()[0]).max())
        info["same_weights"] = info["max_abs_diff_vs_onnx"] <= 1e-3
        fns.update(torch_thread_variants("pytorch step", pt_step))
        fns.update(torch_thread_variants("pytorch nn.LSTM", pt_lstm))
        details["torch"] = info
    except Skip as exc:
        torch_skip = str(exc)
        details["torch"] = {"skipped": torch_skip}
    lines = 2 if settings.quick else 4
    produced = {"chars": 0}

    def generate() -> None:
        assets = engine.generate("dialogue", seed=0, count=lines)
        produced["chars"] = sum(len(a.text) for a in assets)

    generate()
    fns["engine.generate"] = generate
    times = side_by_side(fns, settings.reps, settings.batch_s)
    details["s_per_call"] = {k: summary(v) for k, v in times.items()}
    details["generate_chars"] = produced["chars"]
    item.details["dialogue"] = details
    rate = 1 / median(times["onnxruntime"])
    best_step = best_of(times, "pytorch step")
    best_lstm = best_of(times, "pytorch nn.LSTM")
    if best_step is not None and best_lstm is not None:
        details["torch"]["best"] = [best_step, best_lstm]
        item.row(
            "dialogue chars/s: ONNX Runtime / PyTorch (same step graph)",
            ratio(times[best_step], times["onnxruntime"]),
            "×",
            note=weights_note(details["torch"]) + f"; PyTorch at its best: {best_step}",
        )
        item.row(
            "dialogue chars/s: ONNX Runtime / PyTorch nn.LSTM step",
            ratio(times[best_lstm], times["onnxruntime"]),
            "×",
            note=f"PyTorch at its best: {best_lstm}",
        )
        for k in (best_step, best_lstm):
            item.row(
                f"dialogue, {k.replace('pytorch', 'PyTorch eager')}",
                1 / median(times[k]),
                "chars/s",
            )
    else:
        item.skip("dialogue chars/s: ONNX Runtime / PyTorch (same step graph)", torch_skip)
    item.row("dialogue, ONNX Runtime step", rate, "chars/s")
    item.row(
        "dialogue, engine.generate",
        produced["chars"] / median(times["engine.generate"]),
        "chars/s",
        note="model + numpy sampling",
    )
    shared["dialogue_rate"] = rate


def bench_small(
    engine: Any,
    sources: dict[str, ModelSource],
    settings: Settings,
    from_manifest: bool,
    shared: dict[str, Any],
) -> ItemResult:
    item = ItemResult("3", "Shoes icons/s and dialogue characters/s: ONNX Runtime vs PyTorch")
    for name, fn in (("shoes", bench_shoes), ("dialogue", bench_dialogue)):
        try:
            fn(engine, sources[name], settings, from_manifest, shared, item)
        except Skip as exc:
            item.skip(f"{name}: ONNX Runtime / PyTorch", str(exc))
    return item
