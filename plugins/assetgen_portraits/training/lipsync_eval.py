"""``assetgen eval lipsync``: the nine mouth shapes on generated faces, and the drivers' timing.

**Shapes** (``faces`` seeds, each through the runtime's ``mouths`` animation, the nine frames
A-H and X that a game's shape sheet holds):

- *read*: the portraits evaluation's judge (trained on real renders, the speech mouths
  included; ``training.evaluate.load_judge``) reads the mouth of every frame; the share that is
  the mouth variant the shape asks for, per shape and over all; beside the judge's own reading
  of real renders (DiceBear) of as many random characters drawn with each shape's mouth (its
  ceiling: the speech mouths had ~200 training images each);
- *locality*: the share of the frame's change from the face's still (premultiplied RGBA) that
  falls inside the mouth region: every pixel any of the style's mouths draws on a real render
  (the model's ``regions.mouth`` footprints), grown by 2 px; and the *PSNR outside* it. Both
  beside the same frames as the model draws them whole, before the runtime keeps the change to
  the two mouths' footprints (``labels.keep_local``): the baseline the method is measured
  against;
- *speed*: shape frames per second through the runtime, beside still sprites per second made
  in the same process (the ratio is what to compare across machines).

**Timing** (``lipsync.evaluate.evaluate_timing``): speech synthesised with espeak-ng from known
sentences; silence shown as X, vowels shown open, text vs speech agreement, cue extraction as a
multiple of real time. Skipped, with the reason, when espeak-ng is not installed.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from .evaluate import (
    LABEL_EVAL_CONFIG,
    Runner,
    _dilate,
    judge_read,
    load_judge,
    log,
    premultiplied_u8,
)

LIPSYNC_EVAL_CONFIG: dict[str, Any] = {
    "faces": 200,
    "seed": 300000,
    "sentences": 20,
    **{k: LABEL_EVAL_CONFIG[k] for k in (
        "data", "judge", "judge_steps", "judge_width", "judge_min_accuracy", "judge_augment",
    )},
}


def _change_stats(still: np.ndarray, frames: np.ndarray, region: np.ndarray) -> dict[str, float]:
    """Locality and PSNR outside ``region`` of ``frames`` (N x H x W x 4) against ``still``."""
    d = np.abs(premultiplied_u8(frames) - premultiplied_u8(still[None])).sum(-1)
    inside = float((d * region).sum())
    total = float(d.sum())
    sq = ((premultiplied_u8(frames) - premultiplied_u8(still[None])) / 255) ** 2
    outside = ~np.broadcast_to(region, d.shape)
    mse = float(sq[outside].mean()) if outside.any() else 0.0
    return {"inside": inside, "total": total, "mse_outside": mse}


def _summary(parts: list[dict[str, float]]) -> dict[str, float]:
    inside = sum(p["inside"] for p in parts)
    total = sum(p["total"] for p in parts)
    mse = float(np.mean([p["mse_outside"] for p in parts]))
    return {
        "locality": inside / max(total, 1e-9),
        "psnr_outside_db": float(10 * np.log10(1 / max(mse, 1e-10))),
    }


def real_reads(clf: Any, mouths: dict[str, str], mouth_values: tuple[str, ...], faces: int,
               seed: int) -> dict[str, float]:
    """The judge's ceiling: how often it reads each shape's mouth on real renders (DiceBear)
    of ``faces`` random characters drawn with that mouth."""
    from . import dataset_builder as D

    spec = D.style_spec(D.DEFAULT_STYLE)
    rng = np.random.default_rng([seed, 21])
    bases = [D.sample_character(spec, rng) for _ in range(faces)]
    out = {}
    for shape, mouth in mouths.items():
        images = np.stack(
            [D.decode_png(D.render(D.DEFAULT_STYLE, D._with(b, mouth=mouth))[0]) for b in bases]
        )
        _, read = judge_read(clf, images)
        out[shape] = float(np.mean([mouth_values[int(r)] == mouth for r in read["mouth"]]))
    return out


def evaluate_shapes(run: Runner, clf: Any, config: dict[str, Any]) -> dict[str, Any]:
    from .. import lipsync
    from ..plugin import PortraitAnimationOptions

    labels = run.labels
    assert labels is not None
    if not labels.mouth_shapes or not labels.footprints:
        raise ValueError("the model's manifest has no mouth_shapes or regions.mouth")
    seeds = list(range(int(config["seed"]), int(config["seed"]) + int(config["faces"])))
    region = np.zeros(next(iter(labels.footprints.values())).shape, bool)
    for mask in labels.footprints.values():
        region |= mask
    region = _dilate(region[None], 2)[0]
    options = PortraitAnimationOptions.parse({"animation": "mouths"})
    mouth_values = labels.by_name["mouth"].values
    shapes = lipsync.SHAPES
    started = time.perf_counter()
    stills, _ = run.seeds(seeds)
    still_seconds = time.perf_counter() - started
    reads: dict[str, list[bool]] = {s: [] for s in shapes}
    kept: dict[str, list[dict[str, float]]] = {s: [] for s in shapes}
    whole: dict[str, list[dict[str, float]]] = {s: [] for s in shapes}
    anim_seconds = 0.0
    for n, seed in enumerate(seeds):
        started = time.perf_counter()
        anim = run.gen.animate(seed, len(shapes), options)
        anim_seconds += time.perf_counter() - started
        frames = np.stack([f.rgba for f in anim.frames])
        wanted = anim.metadata["frame_states"]
        _, read = judge_read(clf, frames)
        # the same mouths drawn whole by the model (no keep_local): the baseline
        ws, _, _, (codes,) = run.gen.label_batch([seed], run.options, run.model)
        weights = labels.frames_of(labels.weights(codes), "mouth", wanted)
        _, m16, m32 = run.gen.map_labels(weights, run.model)
        drawn = run.gen.synthesise(
            np.repeat(ws, len(wanted), axis=0).astype(np.float32), m16, m32, run.model
        )
        for k, shape in enumerate(shapes):
            reads[shape].append(mouth_values[int(read["mouth"][k])] == wanted[k])
            kept[shape].append(_change_stats(stills[n], frames[k : k + 1], region))
            whole[shape].append(_change_stats(stills[n], drawn[k : k + 1], region))
        if (n + 1) % 50 == 0:
            log(f"lipsync shapes: {n + 1}/{len(seeds)} faces")
    frames_per_second = len(seeds) * len(shapes) / anim_seconds
    stills_per_second = len(seeds) / still_seconds
    ceiling = real_reads(clf, labels.mouth_shapes, mouth_values, len(seeds), int(config["seed"]))
    per_shape = {
        s: {
            "mouth": labels.mouth_shapes.get(s),
            "read": float(np.mean(reads[s])),
            "read_on_real_renders": ceiling[s],
            **_summary(kept[s]),
            "drawn_whole": _summary(whole[s]),
        }
        for s in shapes
    }
    all_kept = [p for s in shapes for p in kept[s]]
    all_whole = [p for s in shapes for p in whole[s]]
    return {
        "faces": len(seeds),
        "read": float(np.mean([r for s in shapes for r in reads[s]])),
        "min_read": min(v["read"] for v in per_shape.values()),
        "read_on_real_renders": float(np.mean(list(ceiling.values()))),
        **_summary(all_kept),
        "drawn_whole": _summary(all_whole),
        "mouth_region_pixels": int(region.sum()),
        "shape_frames_per_second": frames_per_second,
        "still_sprites_per_second": stills_per_second,
        "shape_frames_vs_stills": frames_per_second / stills_per_second,
        "per_shape": per_shape,
    }


def evaluate(model_dir: Path | None, out: Path | None, config: dict[str, Any]) -> dict[str, Any]:
    from assetgen import write_atomic

    run = Runner(model_dir)
    clf, judge_info = load_judge(config)
    report: dict[str, Any] = {
        "command": "assetgen eval lipsync",
        "model_sha256": run.model.bundle.sha256,
        "judge": judge_info,
        "shapes": evaluate_shapes(run, clf, config),
    }
    if shutil.which("espeak-ng") is None:
        report["timing"] = {"skipped": "espeak-ng is not installed (apt-get install espeak-ng)"}
    else:
        from ..lipsync.evaluate import evaluate_timing

        report["timing"] = evaluate_timing(
            sentences=int(config["sentences"]), seed=int(config["seed"])
        )
    if out is not None:
        write_atomic(out, (json.dumps(report, indent=2) + "\n").encode())
    return report
