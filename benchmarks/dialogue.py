"""Dialogue lines per second (part of item 3): the GPT's step graph, ONNX Runtime vs PyTorch,
and whole lines through ``engine.generate``.

The step is timed as the generator runs it: one token with 24 positions already cached, at
batch 1 (what one token costs) and batch 8 (the generator samples its 8 candidates as one
batch). ``engine.generate`` is timed with the defaults (16 candidates, word mask, line
checks, judged reranking) and with ``candidates=1`` (no reranking), in lines per second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .common import median, side_by_side, summary
from .models import ItemPart, ModelSource, Skip, _no_run, torch_ratio_row, torch_thread_variants


def dialogue_step_feeds(manifest: dict[str, Any], batch: int, past: int = 0) -> dict[str, Any]:
    """Inputs of one step of the GPT's step graph: a token and a key/value cache of ``past``
    positions (small random values, as a real cache holds)."""
    m = manifest
    shape = (m["layers"], batch, m["heads"], past, m["dim"] // m["heads"])
    cache = np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 0.1
    return {"token": np.full(batch, 5, np.int64), "past_key": cache, "past_value": cache.copy()}


def torch_gpt(src: ModelSource, from_manifest: bool) -> tuple[Any, dict[str, Any]]:
    """The GPT as its PyTorch module: from the run it was trained in, or fresh from the
    manifest's training config with ``--torch-from-manifest``."""
    try:
        import torch  # noqa: F401
        from assetgen_dialogue.training import export as gpt_export
        from assetgen_dialogue.training import train as gpt_train
    except ImportError as exc:
        raise Skip(f"PyTorch is not installed (pip install -e '.[train]'): {exc}") from None
    m = src.manifest or {}
    if _no_run(src, from_manifest):
        model = gpt_train.make_model(m["training"]["config"], int(m["vocab_size"])).eval()
        info: dict[str, Any] = {"weights": "fresh (same architecture, --torch-from-manifest)"}
    else:
        model, _config, step, source = gpt_export.load_run_model(src.run_dir)
        info = {"weights": f"{src.run_dir}/{source}", "step": step}
    if (model.layers, model.dim, model.heads, model.vocab_size) != (
        m.get("layers"),
        m.get("dim"),
        m.get("heads"),
        m.get("vocab_size"),
    ):
        raise Skip(f"the run at {src.run_dir} is not the dialogue model's architecture")
    return model, info


def bench_dialogue(part: ItemPart, src: ModelSource) -> None:
    engine, settings, item = part.engine, part.settings, part.item
    bundle = part.bundle(src)
    m = bundle.manifest
    if m.get("architecture") != "gpt":
        raise Skip(
            f"{src.model_dir} is not a dialogue GPT folder (architecture 'gpt'); item 3 times the "
            "default model, the GPT (the v1 LSTM's figures are in benchmarks/README.md)"
        )
    session = bundle.session("dialogue_gpt_step.onnx")
    # one token with 24 positions cached: batch 1 (a token's own cost) and batch 8 (the
    # generator samples 8 candidates in one batch)
    feeds1 = dialogue_step_feeds(m, 1, past=24)
    feeds8 = dialogue_step_feeds(m, 8, past=24)

    def ort(feeds: dict[str, Any]) -> Any:
        return session.run(None, feeds)

    fns: dict[str, Callable[[], object]] = {
        "onnxruntime": lambda: ort(feeds1),
        "onnxruntime batch 8": lambda: ort(feeds8),
    }
    details: dict[str, Any] = {}
    torch_skip = ""
    try:
        import torch
        from assetgen_dialogue.training.model import DialogueGPTStep

        model, info = torch_gpt(src, part.from_manifest)
        step = DialogueGPTStep(model.eval()).eval()
        tfeeds = {k: torch.from_numpy(v) for k, v in feeds1.items()}

        def pt_step() -> Any:
            with torch.inference_mode():
                return step(tfeeds["token"], tfeeds["past_key"], tfeeds["past_value"])

        info["max_abs_diff_vs_onnx"] = float(np.abs(pt_step()[0].numpy() - ort(feeds1)[0]).max())
        info["same_weights"] = info["max_abs_diff_vs_onnx"] <= 1e-3
        fns.update(torch_thread_variants("pytorch step", pt_step))
        details["torch"] = info
    except Skip as exc:
        torch_skip = str(exc)
        details["torch"] = {"skipped": torch_skip}
    lines = 8 if settings.quick else 16
    produced = {"chars": 0}

    def generate(**options: Any) -> Callable[[], None]:
        def run() -> None:
            assets = engine.generate("dialogue", seed=0, count=lines, **options)
            produced["chars"] = sum(len(a.text) for a in assets)

        return run

    fns["engine.generate"] = generate()
    fns["engine.generate, one round"] = generate(rounds=1)
    fns["engine.generate, no reranking"] = generate(candidates=1)
    times = side_by_side(fns, settings.reps, settings.batch_s)
    generate()()
    chars = produced["chars"]
    details["s_per_call"] = {k: summary(v) for k, v in times.items()}
    details["generate_lines"] = lines
    details["generate_chars"] = chars
    item.details["dialogue"] = details
    rate = 1 / median(times["onnxruntime"])
    figure = "dialogue token step: ONNX Runtime / PyTorch (same step graph, batch 1)"
    if torch_ratio_row(item, details["torch"], times, "pytorch step", figure) is None:
        item.skip("dialogue token step: ONNX Runtime / PyTorch", torch_skip)
    item.row("dialogue, ONNX Runtime step (batch 1, 24 cached)", rate, "tokens/s")
    item.row(
        "dialogue, ONNX Runtime step (batch 8, 24 cached)",
        8 / median(times["onnxruntime batch 8"]),
        "tokens/s",
    )
    per_line = median(times["engine.generate"]) / lines
    item.row(
        "dialogue, engine.generate (defaults: 16 candidates a round, up to 4 rounds, judged)",
        1 / per_line,
        "lines/s",
        note=f"{chars / lines:.0f} characters a line; model + mask + sampling + reranking",
    )
    item.row(
        "dialogue, engine.generate (rounds=1: one round of 16)",
        lines / median(times["engine.generate, one round"]),
        "lines/s",
    )
    item.row(
        "dialogue, engine.generate: defaults / one round (time per line)",
        median(times["engine.generate"]) / median(times["engine.generate, one round"]),
        "x",
    )
    item.row(
        "dialogue, engine.generate (candidates=1)",
        lines / median(times["engine.generate, no reranking"]),
        "lines/s",
    )
    part.shared["dialogue_rate"] = rate
    part.shared["dialogue_unit"] = "token"
