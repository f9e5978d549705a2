"""Portraits: ONNX Runtime vs PyTorch and throughput by batch (1), talk caching (2), batch
export vs the model alone (4).

Two kinds of model folder (``manifest.json`` ``"conditioning"``): unconditional (z ->
``mapping.onnx`` -> w; the generator's ``synthesis_prefix.onnx`` /
``synthesis_suffix.onnx`` split) and label-conditioned (a seed's label set as ``label_weights``
-> ``mapping.onnx`` -> w, maps16, maps32 -> ``synthesis.onnx``; no z, no split). Every item
measures the same thing for both through :func:`portrait_sessions`; what has no meaning for a
label model (the cached-prefix talk speed-up) is a skipped row that says why.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .common import ItemResult, Settings, median, ratio, side_by_side, summary
from .models import (
    ModelSource,
    Skip,
    best_of,
    torch_portraits,
    torch_thread_variants,
    weights_note,
)

BATCHES = (1, 8, 32, 128)
TALK_FRAMES = 8


TUNED = "ONNX Runtime (intra_op_threads=1, no spinning)"


def _session_maker(engine: Any, bundle: Any, tuned: bool) -> Callable[[str], Any]:
    """Sessions by file name: the engine runtime's (product settings), or with ``tuned`` the
    tuning experiments' best setting (one intra-op thread, no spinning)."""
    if not tuned:
        return bundle.session  # type: ignore[no-any-return]
    import onnxruntime as ort

    opts = engine.runtime.session_options()
    opts.intra_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")

    def session(name: str) -> Any:
        return ort.InferenceSession(
            str(bundle.directory / name), opts, providers=engine.runtime.providers()
        )

    return session


class PortraitSessions:
    """An unconditional model's ONNX sessions (z; prefix and suffix graphs), created by the
    engine's runtime (product settings), or with ``tuned`` one intra-op thread, no spinning."""

    labels = False
    #: what the generator's still path runs, for the table's notes
    still_path = "mapping + prefix + suffix"

    def __init__(self, engine: Any, model_dir: Path, tuned: bool = False) -> None:
        self.bundle = engine.runtime.load_model(model_dir)
        m = self.bundle.manifest
        self.z_dim, self.num_ws = int(m["z_dim"]), int(m["num_ws"])
        self.w_avg = np.asarray(m["w_avg"], np.float32)
        session = _session_maker(engine, self.bundle, tuned)
        self.mapping = session("mapping.onnx")
        self.prefix = session("synthesis_prefix.onnx")
        self.suffix = session("synthesis_suffix.onnx")

    def z(self, batch: int, seed: int = 0) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal((batch, self.z_dim)).astype(np.float32)

    def inputs(self, batch: int, seed: int = 0) -> np.ndarray:
        """What :meth:`sprite` takes for ``batch`` sprites: z."""
        return self.z(batch, seed)

    def sprite(self, z: np.ndarray) -> np.ndarray:
        """z -> RGBA in [0, 1] through mapping.onnx and the synthesis split (prefix, then
        suffix with a zero edit: the whole synthesis is not shipped) at any batch."""
        (w,) = self.mapping.run(None, {"z": z})
        ws = np.ascontiguousarray(np.repeat(w[:, None], self.num_ws, axis=1))
        features, skip = self.prefix.run(None, {"ws": ws})
        (rgba,) = self.suffix.run(
            None, {"features": features, "skip": skip, "ws": ws, "delta": np.zeros_like(features)}
        )
        return np.asarray(rgba)

    def generator_calls_batch(self, seeds: Sequence[int], truncation: float = 0.7) -> np.ndarray:
        """:meth:`generator_calls` for many seeds in one call of each graph (an experiment)."""
        z = np.stack(
            [np.random.default_rng(seed).standard_normal(self.z_dim) for seed in seeds]
        ).astype(np.float32)
        (w,) = self.mapping.run(None, {"z": z})
        w = self.w_avg + np.float32(truncation) * (w - self.w_avg)
        ws = np.ascontiguousarray(np.repeat(w[:, None], self.num_ws, axis=1))
        features, skip = self.prefix.run(None, {"ws": ws})
        delta = np.zeros_like(features)
        (rgba,) = self.suffix.run(
            None, {"features": features, "skip": skip, "ws": ws, "delta": delta}
        )
        return np.asarray(rgba)

    def generator_calls(self, seed: int, truncation: float = 0.7) -> np.ndarray:
        """The model calls the generator makes for one still: mapping, prefix, suffix at
        batch 1 with a zero edit (no uint8 conversion, no asset)."""
        z = np.random.default_rng(seed).standard_normal(self.z_dim).astype(np.float32)
        (w,) = self.mapping.run(None, {"z": z[None]})
        w = self.w_avg + np.float32(truncation) * (w[0] - self.w_avg)
        ws = np.repeat(w[None], self.num_ws, axis=0)[None]
        features, skip = self.prefix.run(None, {"ws": ws})
        delta = np.zeros_like(features)
        (rgba,) = self.suffix.run(
            None, {"features": features, "skip": skip, "ws": ws, "delta": delta}
        )
        return np.asarray(rgba)


class LabelSessions:
    """A label-conditioned model's two graphs, with :class:`PortraitSessions`' interface: the
    inputs are the label weights of seeds' label sets (drawn as the generator draws them,
    ``LabelModel.draw`` with no options) instead of z, and the generator's still is
    ``mapping.onnx`` -> truncation on w -> ``synthesis.onnx`` (there is no prefix / suffix)."""

    labels = True
    still_path = "mapping + synthesis"

    def __init__(self, engine: Any, model_dir: Path, tuned: bool = False) -> None:
        from assetgen_portraits.labels import LabelModel

        self.bundle = engine.runtime.load_model(model_dir)
        m = self.bundle.manifest
        self.label_model = LabelModel(m)
        self.num_ws = int(m["num_ws"])
        self.w_avg = np.asarray(m["w_avg"], np.float32)
        session = _session_maker(engine, self.bundle, tuned)
        self.mapping = session("mapping.onnx")
        self.synthesis = session("synthesis.onnx")

    def weights(self, seeds: Sequence[int]) -> np.ndarray:
        """len(seeds) x V label weights: each seed's label set, one-hot per column."""
        lm = self.label_model
        return np.stack([lm.weights(lm.draw(seed, {})) for seed in seeds])

    def inputs(self, batch: int, seed: int = 0) -> np.ndarray:
        """What :meth:`sprite` takes for ``batch`` sprites: the label weights of seeds
        ``seed`` .. ``seed + batch - 1``."""
        return self.weights(range(seed, seed + batch))

    def _run(self, weights: np.ndarray, truncation: float | None) -> np.ndarray:
        w, maps16, maps32 = self.mapping.run(None, {"label_weights": weights})
        if truncation is not None:
            w = self.w_avg + np.float32(truncation) * (w - self.w_avg)
        ws = np.ascontiguousarray(np.repeat(w[:, None], self.num_ws, axis=1), np.float32)
        (rgba,) = self.synthesis.run(None, {"ws": ws, "maps16": maps16, "maps32": maps32})
        return np.asarray(rgba)

    def sprite(self, weights: np.ndarray) -> np.ndarray:
        """label weights -> straight RGBA in [0, 1] through mapping.onnx and synthesis.onnx."""
        return self._run(weights, None)

    def generator_calls_batch(self, seeds: Sequence[int], truncation: float = 1.0) -> np.ndarray:
        """:meth:`generator_calls` for many seeds in one call of each graph."""
        return self._run(self.weights(seeds), truncation)

    def generator_calls(self, seed: int, truncation: float = 1.0) -> np.ndarray:
        """The model calls the generator makes for one still (its label draw included):
        mapping and synthesis at batch 1 (no uint8 conversion, no asset)."""
        return self._run(self.weights([seed]), truncation)


def portrait_sessions(
    engine: Any, model_dir: Path, tuned: bool = False
) -> PortraitSessions | LabelSessions:
    """The sessions of the model folder's kind (``"conditioning"`` in its manifest)."""
    from .models import conditioning

    if conditioning(engine.runtime.load_model(model_dir).manifest) == "labels":
        return LabelSessions(engine, model_dir, tuned)
    return PortraitSessions(engine, model_dir, tuned)


def torch_sprite(G: Any, num_ws: int, device: str) -> Callable[[np.ndarray], np.ndarray]:
    import torch
    from assetgen_portraits.training.unconditional_export import _Synthesis

    G = G.to(device)
    synthesis = _Synthesis(G).eval()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run(z: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            w = G.mapping(torch.from_numpy(z).to(device))
            ws = w[:, None].repeat(1, num_ws, 1)
            out = synthesis(ws)
            sync()
            return np.asarray(out.cpu().numpy())

    return run


def torch_label_sprite(G: Any, device: str) -> Callable[[np.ndarray], np.ndarray]:
    """label weights -> straight RGBA through the PyTorch ``LabelGenerator`` and the export's
    own output wrapper (``training.export._Synthesis``): what the two graphs compute."""
    import torch
    from assetgen_portraits.training.export import _Synthesis as LabelSynthesisOut

    G = G.to(device)
    synthesis = LabelSynthesisOut(G).eval()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run(weights: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            w, maps16, maps32 = G.mapping(torch.from_numpy(weights).to(device))
            ws = w[:, None].expand(-1, G.num_ws, -1).contiguous()
            out = synthesis(ws, maps16, maps32)
            sync()
            return np.asarray(out.cpu().numpy())

    return run


def visible_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference of two straight-RGBA batches where it can be seen: colour weighted
    by alpha (colour under alpha ~0 is undefined), alpha as is (the export's parity rule)."""
    alpha = np.maximum(a[:, 3:], b[:, 3:])
    seen = np.abs(a - b) * np.concatenate([np.repeat(alpha, 3, axis=1), np.ones_like(alpha)], 1)
    return float(seen.max())


# -- 1. ONNX Runtime vs PyTorch, throughput by batch ---------------------------------------------


def bench_sprite(
    engine: Any,
    src: ModelSource,
    settings: Settings,
    from_manifest: bool,
    shared: dict[str, Any],
    experiments: bool = False,
) -> ItemResult:
    item = ItemResult("1", "Portrait sprite: ONNX Runtime vs PyTorch eager; throughput by batch")
    model_dir = src.require_model()
    s = portrait_sessions(engine, model_dir)
    item.details["conditioning"] = "labels" if s.labels else "none"
    z1 = s.inputs(1)
    fns: dict[str, Callable[[], object]] = {"onnxruntime": lambda: s.sprite(z1)}
    torch_skip = ""
    try:
        G, info = torch_portraits(src, from_manifest)
        device = "cuda" if settings.device == "cuda" else "cpu"
        if s.labels:
            # the map tables are float16 in mapping.onnx: the export's parity threshold
            tsprite = torch_label_sprite(G, device)
            diff = visible_diff(tsprite(z1), s.sprite(z1))
            threshold = float((src.manifest or {}).get("parity", {}).get("threshold", 2e-2))
        else:
            tsprite = torch_sprite(G, s.num_ws, device)
            diff = float(np.abs(tsprite(z1) - s.sprite(z1)).max())
            threshold = 1e-3
        info["max_abs_diff_vs_onnx"] = diff
        info["same_weights"] = diff <= threshold
        fns.update(torch_thread_variants("pytorch", lambda: tsprite(z1)))
        item.details["torch"] = info
    except Skip as exc:
        item.details["torch"] = {"skipped": str(exc)}
        torch_skip = str(exc)
    if experiments:
        tuned = portrait_sessions(engine, model_dir, tuned=True)
        fns[TUNED] = lambda: tuned.sprite(z1)
    times = side_by_side(fns, settings.reps, settings.batch_s)
    item.details["batch1_s"] = {k: summary(v) for k, v in times.items()}
    best = best_of(times, "pytorch")
    if best is not None:
        item.details["torch"]["best"] = best
        item.row(
            "sprite batch 1: PyTorch time / ONNX Runtime time",
            ratio(times[best], times["onnxruntime"]),
            "×",
            target=2.0,
            note=weights_note(item.details["torch"]) + f"; PyTorch at its best: {best}",
        )
        item.row(
            "sprite batch 1, ONNX Runtime",
            median(times["onnxruntime"]),
            "ms",
            note="mapping + synthesis",
        )
        for k in times:
            if k.startswith("pytorch"):
                item.row(
                    f"sprite batch 1, {k.replace('pytorch', 'PyTorch eager')}",
                    median(times[k]),
                    "ms",
                )
        if experiments:
            item.row(
                f"experiment: PyTorch time / {TUNED} time", ratio(times[best], times[TUNED]), "×"
            )
    else:
        item.skip("sprite batch 1: PyTorch time / ONNX Runtime time", torch_skip, 2.0, "×")
        item.row(
            "sprite batch 1, ONNX Runtime",
            median(times["onnxruntime"]),
            "ms",
            note="mapping + synthesis",
        )

    # throughput by batch size (ONNX Runtime), measured side by side
    zs = {b: s.inputs(b) for b in BATCHES}
    by_batch = side_by_side(
        {str(b): functools.partial(s.sprite, zs[b]) for b in BATCHES},
        settings.reps,
        settings.batch_s,
    )
    rates = {b: b / median(by_batch[str(b)]) for b in BATCHES}
    item.details["throughput_per_s"] = {str(b): rates[b] for b in BATCHES}
    item.details["throughput_s_per_call"] = {k: summary(v) for k, v in by_batch.items()}
    for b in BATCHES:
        item.row(f"ONNX Runtime throughput, batch {b}", rates[b], "sprites/s")
    # the product's own path: what one engine.generate of one sprite costs
    gen_times = side_by_side(
        {
            "engine.generate": lambda: engine.generate("portraits", seed=1),
            "generator model calls": lambda: s.generator_calls(1),
        },
        settings.reps,
        settings.batch_s,
    )
    item.details["engine_generate_s"] = summary(gen_times["engine.generate"])
    item.details["generator_calls_s"] = summary(gen_times["generator model calls"])
    item.row(
        "engine.generate, 1 sprite ("
        + ("mapping + synthesis" if s.labels else "prefix + suffix")
        + " path)",
        median(gen_times["engine.generate"]),
        "ms",
    )
    # sprites/s by batch through the generator's real path: engine.generate of `count`
    # seeds (label draw or z, mapping, W arithmetic, synthesis in calls of up to CALL_BATCH
    # faces, uint8, metadata), side by side
    by_count = side_by_side(
        {str(b): functools.partial(engine.generate, "portraits", seed=0, count=b) for b in BATCHES},
        settings.reps,
        settings.batch_s,
    )
    generate_rates = {b: b / median(by_count[str(b)]) for b in BATCHES}
    item.details["engine_generate_per_s"] = {str(b): generate_rates[b] for b in BATCHES}
    item.details["engine_generate_s_per_call"] = {k: summary(v) for k, v in by_count.items()}
    for b in BATCHES:
        item.row(
            f"engine.generate throughput, count {b} (generator path)",
            generate_rates[b],
            "sprites/s",
        )
    if experiments:
        batch_experiment(s, settings, item)
    shared["portraits_rates"] = rates
    shared["portraits_generate_rates"] = generate_rates
    shared["portraits_generate_s"] = median(gen_times["engine.generate"])
    return item


def batch_experiment(
    s: PortraitSessions | LabelSessions, settings: Settings, item: ItemResult
) -> None:
    """Could the generator (and so the batch export) run its model calls 32 seeds at a time?
    Only if the pixels stay those of one call per seed (the seeding rule), and if it pays."""
    from assetgen_portraits.plugin import to_uint8

    seeds = list(range(100, 132))
    batched = [to_uint8(x) for x in s.generator_calls_batch(seeds)]
    single = [to_uint8(s.generator_calls(seed)[0]) for seed in seeds]
    pairs = list(zip(batched, single, strict=True))
    same = sum(np.array_equal(a, b) for a, b in pairs)
    worst = max(int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in pairs)
    times = side_by_side(
        {
            "32 x batch 1": lambda: [s.generator_calls(seed) for seed in seeds],
            "1 x batch 32": lambda: s.generator_calls_batch(seeds),
        },
        settings.reps,
        settings.batch_s,
    )
    item.details["generator_path_batch32"] = {
        "identical": same,
        "of": len(seeds),
        "max_pixel_diff": worst,
        "s_per_32": {k: summary(v) for k, v in times.items()},
    }
    item.row(
        f"experiment: generator path ({s.still_path.replace(' +', ',')}) at batch 32, speed-up",
        ratio(times["32 x batch 1"], times["1 x batch 32"]),
        "×",
        note=f"{same}/{len(seeds)} sprites identical to batch 1, max pixel difference {worst}",
    )


# -- 2. talk animation: cached prefix vs full recompute ------------------------------------------


def talk_full_recompute(gen: Any, seed: int, frames: int, options: Any) -> list[np.ndarray]:
    """The talk animation without the cache: every frame from the seed (mapping, prefix,
    suffix), the same edit as ``PortraitsGenerator.animate`` applies."""
    model = gen.model(options)
    edit = model.edits["mouth"]
    curve = gen.curve(seed, frames, options)
    images = []
    for target in curve:
        ws = gen.ws_of(seed, options, model)
        features, skip = gen.prefix(ws, model)
        deltas, _ = edit.frame_deltas(features[0], (target,), options.strength)
        images.append(gen.suffix(features, skip, ws, deltas[0], model))
    return images


def talk_batched_suffix(gen: Any, seed: int, frames: int, options: Any) -> list[np.ndarray]:
    """Experiment: the cached animation with every frame from the whole suffix graph in one
    batch (what animations did before the edit window graphs)."""
    model = gen.model(options)
    edit = model.edits["mouth"]
    curve = gen.curve(seed, frames, options)
    ws = gen.ws_of(seed, options, model)
    features, skip = gen.prefix(ws, model)
    deltas, _ = edit.frame_deltas(features[0], curve, options.strength)
    return list(gen.suffix_frames(features, skip, ws, deltas, model))


def talk_flop_bound(src: ModelSource, frames: int, window: str | None) -> float | None:
    """Full recompute / cached in FLOPs: frames x (mapping + prefix + suffix) over mapping +
    prefix + frames x suffix, or, with the mouth edit's ``window`` graph, mapping + prefix +
    the still's suffix + frames x the window's suffix (None without the onnx package)."""
    try:
        from .flops import count_flops

        folder = src.require_model()
        m, p, s = (
            count_flops(folder / f).flops
            for f in ("mapping.onnx", "synthesis_prefix.onnx", "synthesis_suffix.onnx")
        )
        w = count_flops(folder / window).flops if window else None
    except ImportError:
        return None
    if w is None:
        return frames * (m + p + s) / (m + p + frames * s)
    return frames * (m + p + s) / (m + p + s + frames * w)


#: why the cached-prefix figures are skipped for a label-conditioned model
NO_PREFIX = (
    "label-conditioned model: no prefix / suffix split to cache; the mouth moves through its "
    "label maps, so every frame runs mapping + the whole synthesis (one batch-{n} call); "
    "see the talk rows below"
)


def bench_talk_labels(
    engine: Any, src: ModelSource, settings: Settings, item: ItemResult
) -> ItemResult:
    """Item 2 for a label-conditioned model: what a talk animation costs through the
    generator (``_animate_labels``: the still's labels mapped, the mouth weights blended
    along the curve and mapped in one call, the frames synthesised in one call), against
    the stills of as many faces made in one call (``generate_batch``)."""
    from assetgen_portraits.plugin import PortraitsGenerator

    n = TALK_FRAMES
    item.title = f"Talk animation, {n} frames (label-conditioned model: label-map blend)"
    gen = PortraitsGenerator(engine.runtime)
    options = engine.parse_options("portraits", {"animation": "talk"}, animate=True)
    still_options = engine.parse_options("portraits", {})
    seed = 3
    frames = [f.rgba for f in gen.animate(seed, n, options).frames]
    still = gen.generate(seed, still_options).rgba
    seeds = list(range(seed, seed + n))
    item.details.update(
        conditioning="labels",
        frames=len(frames),
        frames_unlike_the_still=sum(not np.array_equal(f, still) for f in frames),
    )
    times = side_by_side(
        {
            "talk": lambda: gen.animate(seed, n, options),
            "stills": lambda: gen.generate_batch(seeds, still_options),
        },
        settings.reps,
        settings.batch_s,
    )
    item.details["animation_s"] = {k: summary(v) for k, v in times.items()}
    reason = NO_PREFIX.format(n=n)
    item.skip(f"talk {n} frames: full recompute time / cached time", reason, 3.0, "×")
    item.skip(f"talk {n} frames: the same ratio in FLOPs (the most caching can give)", reason)
    item.row(f"talk {n} frames (generator.animate)", median(times["talk"]), "ms")
    item.row(
        "talk frames/s",
        n / median(times["talk"]),
        "frames/s",
        note=f"{item.details['frames_unlike_the_still']} of {n} frames differ from the still",
    )
    item.row(
        f"talk {n} frames time / {n} stills in one call (generate_batch)",
        ratio(times["talk"], times["stills"]),
        "×",
        note="the animation's extra: the still's own mapping run and the blend",
    )
    return item


def bench_talk(engine: Any, src: ModelSource, settings: Settings, experiments: bool) -> ItemResult:
    item = ItemResult("2", f"Talk animation, {TALK_FRAMES} frames: cached prefix vs recompute")
    src.require_model()
    if src.labels:
        return bench_talk_labels(engine, src, settings, item)
    from assetgen_portraits.plugin import PortraitsGenerator

    gen = PortraitsGenerator(engine.runtime)
    options = engine.parse_options("portraits", {"animation": "talk"}, animate=True)
    seed = 3
    cached = [f.rgba for f in gen.animate(seed, TALK_FRAMES, options).frames]
    full = talk_full_recompute(gen, seed, TALK_FRAMES, options)
    # the same frames: bit for bit from the whole suffix, to within float rounding (one level
    # of 255) from an edit's window graph (docs/portraits.md, "Speed")
    item.details["max_pixel_diff"] = int(
        max(np.abs(a.astype(int) - b.astype(int)).max() for a, b in zip(cached, full, strict=True))
    )
    fns: dict[str, Callable[[], object]] = {
        "cached": lambda: gen.animate(seed, TALK_FRAMES, options),
        "full": lambda: talk_full_recompute(gen, seed, TALK_FRAMES, options),
    }
    if experiments:
        batched = talk_batched_suffix(gen, seed, TALK_FRAMES, options)
        item.details["batched_suffix_max_pixel_diff"] = int(
            max(
                np.abs(a.astype(int) - b.astype(int)).max()
                for a, b in zip(cached, batched, strict=True)
            )
        )
        fns["batched suffix"] = lambda: talk_batched_suffix(gen, seed, TALK_FRAMES, options)
    times = side_by_side(fns, settings.reps, settings.batch_s)
    item.details["animation_s"] = {k: summary(v) for k, v in times.items()}
    model = gen.model(options)
    item.details["split_layer"] = int(model.split_layer)
    window = model.edits["mouth"].window
    item.details["window"] = window
    note = "" if item.details["max_pixel_diff"] <= 1 else "frames differ from the cached ones!"
    item.row(
        "talk 8 frames: full recompute time / cached time",
        ratio(times["full"], times["cached"]),
        "×",
        target=3.0,
        note=note,
    )
    bound = talk_flop_bound(src, TALK_FRAMES, window["graph"] if window else None)
    if bound is not None:
        item.details["flop_bound"] = bound
        item.row(
            "talk 8 frames: the same ratio in FLOPs (the most caching can give)",
            bound,
            "×",
            note=f"split at layer {item.details['split_layer']}"
            + (f", frames from {window['graph']}" if window else ""),
        )
    item.row("talk 8 frames, cached (generator.animate)", median(times["cached"]), "ms")
    item.row("talk 8 frames, full recompute", median(times["full"]), "ms")
    if experiments:
        diff = item.details["batched_suffix_max_pixel_diff"]
        item.row(
            "experiment: batch-8 suffix, full recompute time / its time",
            ratio(times["full"], times["batched suffix"]),
            "×",
            note=f"max pixel difference vs cached: {diff}",
        )
    return item


# -- 4. batch export vs the model alone ----------------------------------------------------------

#: Opt-in experiments (``--tune``): one export each per repetition, with these flags.
EXPORT_EXPERIMENTS = {
    "without fsync (bound for fewer fsyncs)": ("--no-fsync",),
    "with ONNX Runtime intra_op_threads=1, no spinning": ("--intra-op", "1", "--no-spin"),
    "with PNG compress_level 1": ("--png-level", "1"),
}

JOB = """\
out = "out"

[[run]]
name = "portraits"
generator = "portraits"
seed = 0
count = {count}
formats = ["png"]
"""


def run_export(
    model_dir: Path, count: int, device: str, extra: Sequence[str] = ()
) -> dict[str, Any]:
    """One ``assetgen batch`` of ``count`` portraits as PNG, in a fresh process and folder
    (``extra``: experiment flags of benchmarks/export_child.py)."""
    tmp = Path(tempfile.mkdtemp(prefix="assetgen-bench-export-"))
    try:
        job = tmp / "job.toml"
        job.write_text(JOB.format(count=count), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "benchmarks.export_child",
            "--job",
            str(job),
            "--out",
            str(tmp / "out"),
            "--model",
            str(model_dir),
            "--device",
            device,
            *extra,
        ]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).resolve().parents[1]), *filter(None, [env.get("PYTHONPATH")])]
        )
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise Skip(f"assetgen batch failed: {proc.stderr.strip()[-500:]}")
        report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        pngs = len(list((tmp / "out" / "portraits").glob("*.png")))
        if pngs != count:
            raise Skip(f"assetgen batch wrote {pngs} PNGs, expected {count}")
        report["process_s"] = wall
        report["bytes"] = sum(p.stat().st_size for p in (tmp / "out").rglob("*") if p.is_file())
        return report
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_export(
    engine: Any, src: ModelSource, settings: Settings, shared: dict[str, Any], experiments: bool
) -> ItemResult:
    n = settings.export_count
    item = ItemResult("4", f"Batch export of {n} portraits as PNG vs the model alone")
    model_dir = src.require_model()
    s = portrait_sessions(engine, model_dir)

    def model_only() -> float:
        start = time.perf_counter()
        for seed in range(n):
            s.generator_calls(seed)
        return time.perf_counter() - start

    s.generator_calls(0)  # warm-up
    reps = 2 if settings.quick else 3
    variants = EXPORT_EXPERIMENTS if experiments else {}
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "export": lambda: run_export(model_dir, n, settings.device),
        "model only": lambda: {"command_s": model_only()},
        **{
            name: functools.partial(run_export, model_dir, n, settings.device, flags)
            for name, flags in variants.items()
        },
    }
    names = list(runners)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for rep in range(reps):  # all side by side, the order rotating every repetition
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            runs[name].append(runners[name]())
    exports = runs["export"]
    models = [r["command_s"] for r in runs["model only"]]
    tried = {name: runs[name] for name in variants}
    command_s = [e["command_s"] for e in exports]
    process_s = [e["process_s"] for e in exports]
    item.details.update(
        count=n,
        model_only_s=summary(models),
        command_s=summary(command_s),
        process_s=summary(process_s),
        reports=exports,
    )
    share = ratio(models, command_s)
    names = list(dict.fromkeys(k for e in exports for k in e["parts_s"]))
    parts = {k: median([e["parts_s"].get(k, 0.0) for e in exports]) for k in names}
    cmd = median(command_s)
    part_share = {k: v / cmd for k, v in parts.items()}
    part_share["generator overhead beyond the model calls"] = (
        parts["generate (engine + generator + model)"] - median(models)
    ) / cmd
    item.details["parts_share_of_command"] = part_share
    # parts on the batch command's writer thread overlap the main thread's: listed apart
    writer = "writer thread: "
    lost = ", ".join(
        f"{k.split(' (')[0]} {v * 100:.0f}%"
        for k, v in part_share.items()
        if not k.startswith(("generate", writer))
    )
    overlapped = ", ".join(
        f"{k.removeprefix(writer).split(' (')[0]} {v * 100:.0f}%"
        for k, v in part_share.items()
        if k.startswith(writer)
    )
    if overlapped:
        lost += f"; on the writer thread, overlapped: {overlapped}"
    item.row(
        "export throughput / model-only throughput (same calls, batch 1)",
        share,
        "%",
        target=0.8,
        note=f"time lost: {lost}",
    )
    item.row(
        "export, whole process (start-up included) / model-only",
        ratio(models, process_s),
        "%",
        note=f"start-up + load ≈ {median(process_s) - cmd:.2f} s",
    )
    item.row(f"assetgen batch, {n} PNGs", n / cmd, "sprites/s")
    item.row(f"model only, {n} sprites ({s.still_path})", n / median(models), "sprites/s")
    rates = shared.get("portraits_rates")
    if rates:
        best = max(rates, key=rates.get)
        item.row(
            f"export throughput / ONNX Runtime batch-{best} throughput",
            (n / cmd) / rates[best],
            "%",
            note="what batching the export could reach",
        )
    for name, exp_runs in tried.items():
        times = [r["command_s"] for r in exp_runs]
        item.details.setdefault("experiments", {})[name] = {
            "command_s": summary(times),
            "reports": exp_runs,
        }
        item.row(
            f"experiment: export {name} (speed-up)",
            ratio(command_s, times),
            "×",
            note=f"{ratio(models, times) * 100:.0f}% of model-only (product settings)",
        )
    if experiments:
        item.details["png_experiment"] = png_experiment(s, settings)
        pe = item.details["png_experiment"]
        item.row(
            "experiment: PNG encoding, compress_level 1 vs 6 (speed-up)",
            pe["speedup_level1"],
            "×",
            note=f"files {pe['bytes_ratio_level1']:.2f}× the size",
        )
        item.row(
            "experiment: PNG encoding in 2 threads vs 1 (speed-up)", pe["speedup_2_threads"], "×"
        )
    return item


def png_experiment(s: PortraitSessions | LabelSessions, settings: Settings) -> dict[str, Any]:
    """Encoding the same sprites: PNG compress level 6 (the product's) vs 1; 1 vs 2 threads."""
    import io
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    from assetgen.assets import encode_png

    rgba = s.sprite(s.inputs(64, seed=5))
    sprites = [
        np.ascontiguousarray(np.rint(np.clip(x, 0, 1).transpose(1, 2, 0) * 255).astype(np.uint8))
        for x in rgba
    ]

    def level(n: int) -> Callable[[np.ndarray], bytes]:
        def enc(a: np.ndarray) -> bytes:
            buf = io.BytesIO()
            Image.fromarray(a, mode="RGBA").save(buf, format="PNG", compress_level=n)
            return buf.getvalue()

        return enc

    pool = ThreadPoolExecutor(2)
    try:
        times = side_by_side(
            {
                "level 6 (product)": lambda: [encode_png(a) for a in sprites],
                "level 1": lambda: [level(1)(a) for a in sprites],
                "level 6, 2 threads": lambda: list(pool.map(encode_png, sprites)),
            },
            settings.reps,
            settings.batch_s,
        )
    finally:
        pool.shutdown()
    size6 = sum(len(encode_png(a)) for a in sprites)
    size1 = sum(len(level(1)(a)) for a in sprites)
    return {
        "sprites": len(sprites),
        "s_per_64": {k: summary(v) for k, v in times.items()},
        "per_sprite_s_level6": median(times["level 6 (product)"]) / len(sprites),
        "speedup_level1": ratio(times["level 6 (product)"], times["level 1"]),
        "speedup_2_threads": ratio(times["level 6 (product)"], times["level 6, 2 threads"]),
        "bytes_ratio_level1": size1 / size6,
    }
