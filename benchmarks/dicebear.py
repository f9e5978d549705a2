"""Neural portraits vs the renderer they learnt from (7): sprites/s of the portraits model
against DiceBear + resvg drawing the *same label sets*, in the same process, one thread each.

A label-conditioned model draws a seed's label set (``LabelModel.draw``); the same codes
become a DiceBear ``Character`` (variant names; the hair and skin colours as their hex
values; a part whose value is "none" is not drawn) rendered by the data set's own
``assetgen_portraits.training.dataset_builder.render``: dicebear-core builds the SVG, resvg
rasterises it to a 64 px PNG. Both sides start from the seed, so both pay for the label draw.

- Model: ``engine.generate("portraits", seed, count=b)`` on an engine with one ONNX Runtime
  intra-op thread (``Engine(intra_op_threads=1)``; no spinning, as the product), the
  generator's real path (labels, mapping, synthesis in calls of up to 32, uint8, metadata),
  at batch (count) 1, 8, 32 and 128.
- DiceBear: one portrait per call, on the calling thread (dicebear-core is Python, resvg
  runs where it is called); it has no batching, so its rate is the same at every batch.

Figures: both rates, and the model's over DiceBear's at batch 1 and at the model's best
batch (the median over repetitions of the ratio within one repetition, all variants side by
side). The process CPU time over wall time of each side is in the JSON (``cpu_per_wall``):
about 1 (or less under load) means it ran on one thread. DiceBear's output is a PNG, the
model's raw RGBA; what decoding the PNG would add is in the JSON (``png_decode_s``). A last
row compares the pixels of the two for the same labels (how closely the model redraws them).

An unconditional model (trained on unlabelled art) takes no labels: it is timed the same way
against DiceBear drawing the data set's own label distribution, and the note says so.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .common import ItemResult, Settings, median, ratio, side_by_side, summary
from .models import ModelSource, Skip

BATCHES = (1, 8, 32, 128)
#: seeds cycled through by both sides (the same faces, in the same proportions)
SEEDS = 1024
#: faces whose pixels are compared (model vs DiceBear, same labels)
COMPARED = 16
STYLE = "adventurer"
NONE = "none"


def _dataset() -> Any:
    try:
        from assetgen_portraits.training import dataset_builder as dataset
    except ImportError as exc:  # dicebear-core, dicebear-styles, resvg-py: the train extra
        raise Skip(
            f"DiceBear or resvg is not installed (pip install -e '.[train]'): {exc}"
        ) from None
    return dataset


def character_of(labels: Any, codes: dict[str, int], spec: Any, seed: int) -> Any:
    """The DiceBear character of one label set (column -> code of ``labels``, a
    ``LabelModel``): each component's variant (None where the label is "none"), the hair and
    skin colours as their hex values, the style's one-value colours as the data set passes
    them. Raises Skip when the model's labels do not cover the style's choices."""
    dataset = _dataset()
    variants: dict[str, str | None] = {}
    for comp in spec.components:
        column = labels.by_name.get(comp.name)
        if column is None:
            if len(comp.values) == 1 and not comp.optional:
                variants[comp.name] = comp.values[0]  # e.g. the head: one drawing
                continue
            raise Skip(f"the model has no label column for DiceBear's {comp.name!r}")
        value = column.values[codes[comp.name]]
        variants[comp.name] = None if value == NONE else value
    colors: dict[str, str] = {}
    for axis in spec.colors:
        if not axis.explicit or not axis.values:
            continue
        column = labels.by_name.get(f"{axis.name}Color")
        if column is None:
            if len(axis.values) == 1:
                colors[axis.name] = axis.values[0]
                continue
            raise Skip(f"the model has no label column for DiceBear's {axis.name}Color")
        value = column.values[codes[column.name]]
        if value != NONE:  # e.g. no hair: DiceBear's own pick, never drawn
            colors[axis.name] = value
    return dataset.Character(variants, colors, f"assetgen-bench-{seed}")


class Faces:
    """seed -> the DiceBear character that side draws, for either kind of model."""

    def __init__(self, src: ModelSource) -> None:
        self.dataset = _dataset()
        self.spec = self.dataset.style_spec(STYLE)
        self.labels: Any = None
        if src.labels:
            from assetgen_portraits.labels import LabelModel

            self.labels = LabelModel(src.manifest or {})
            unknown = [
                f"{c.name}={v}"
                for c in self.labels.columns
                if c.name in self.spec.columns
                for v in c.values
                if v not in self.spec.columns[c.name]
            ]
            if unknown:
                raise Skip(
                    f"the model's labels are not DiceBear {STYLE!r} ones: {', '.join(unknown[:5])}"
                )

    def character(self, seed: int) -> Any:
        if self.labels is None:  # unconditional model: the data set's own label distribution
            rng = np.random.default_rng([seed, self.dataset.STREAM_MAIN, 0])
            return self.dataset.sample_character(self.spec, rng)
        return character_of(self.labels, self.labels.draw(seed, {}), self.spec, seed)

    def render(self, seed: int) -> bytes:
        png, _drew = self.dataset.render(STYLE, self.character(seed))
        return png


def cpu_per_wall(fn: Callable[[], object], calls: int) -> float:
    """Process CPU time over wall time across ``calls`` calls: more than 1 means more than
    one thread worked."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - cpu) / max(time.perf_counter() - wall, 1e-9)


def bench_dicebear(src: ModelSource, settings: Settings) -> ItemResult:
    item = ItemResult(
        "7", "Portraits: neural model vs DiceBear + resvg, same labels, one thread each"
    )
    src.require_model()
    faces = Faces(src)
    from assetgen import Engine

    engine = Engine(device=settings.device, plugins=["portraits"], intra_op_threads=1)
    generate = engine.generate
    counter = itertools.count()

    def dicebear() -> bytes:
        return faces.render(next(counter) % SEEDS)

    def model(batch: int) -> Callable[[], object]:
        starts = itertools.cycle(range(0, SEEDS, batch))
        return lambda: generate("portraits", seed=next(starts), count=batch)

    fns: dict[str, Callable[[], object]] = {"dicebear": dicebear}
    fns.update({f"model batch {b}": model(b) for b in BATCHES})
    times = side_by_side(fns, settings.reps, settings.batch_s)
    per_face = {
        k: [t / (1 if k == "dicebear" else int(k.split()[-1])) for t in v] for k, v in times.items()
    }
    rates = {k: 1.0 / median(v) for k, v in per_face.items()}
    best = max(BATCHES, key=lambda b: rates[f"model batch {b}"])
    same = "same label sets" if src.labels else "NOT the same faces: unconditional model"
    if settings.device != "cpu":
        same += f"; the model on --device {settings.device}"
    item.details.update(
        conditioning="labels" if src.labels else "none",
        style=STYLE,
        model_device=settings.device,  # DiceBear + resvg always run on the CPU
        per_sprite_s={k: summary(v) for k, v in per_face.items()},
        per_s=rates,
        best_batch=best,
        cpu_per_wall={
            "dicebear": cpu_per_wall(dicebear, 16),
            "model batch 1": cpu_per_wall(model(1), 16),
            f"model batch {best}": cpu_per_wall(model(best), max(1, 64 // best)),
        },
    )
    pngs = [faces.render(seed) for seed in range(COMPARED)]
    decode = side_by_side(
        {"decode": lambda: [faces.dataset.decode_png(p) for p in pngs]}, 1, settings.batch_s
    )
    item.details["png_decode_s"] = median(decode["decode"]) / len(pngs)
    item.row(
        "DiceBear + resvg, 1 thread",
        rates["dicebear"],
        "portraits/s",
        note=f"{STYLE}, SVG -> 64 px PNG (dataset.render); {same}",
    )
    item.row(
        "neural model, batch 1, 1 thread (engine.generate)", rates["model batch 1"], "sprites/s"
    )
    item.row(
        f"neural model, batch {best} (best), 1 thread", rates[f"model batch {best}"], "sprites/s"
    )
    item.row(
        "neural model / DiceBear + resvg, batch 1",
        ratio(per_face["dicebear"], per_face["model batch 1"]),
        "×",
        note=same,
    )
    item.row(
        f"neural model / DiceBear + resvg, best batch ({best})",
        ratio(per_face["dicebear"], per_face[f"model batch {best}"]),
        "×",
        note=f"DiceBear has no batching; decoding its PNG to RGBA would add "
        f"{item.details['png_decode_s'] * 1e3:.2f} ms a portrait",
    )
    if src.labels:
        sprites = generate("portraits", seed=0, count=COMPARED)
        real = np.stack([faces.dataset.decode_png(p) for p in pngs]).astype(np.float64)
        made = np.stack([s.rgba for s in sprites]).astype(np.float64)
        # colour weighted by the larger alpha of the two, alpha as is (0-255 levels)
        alpha = np.maximum(real[..., 3:], made[..., 3:]) / 255.0
        diff = np.abs(real - made)
        diff[..., :3] *= alpha
        item.details["pixels_vs_dicebear"] = {
            "faces": COMPARED,
            "mean_abs_diff_levels": float(diff.mean()),
            "alpha_mean_abs_diff_levels": float(diff[..., 3].mean()),
        }
        item.row(
            "neural model vs DiceBear pixels, same labels: mean absolute difference",
            float(diff.mean()),
            "levels of 255",
            note=f"{COMPARED} faces; colour weighted by alpha",
        )
    return item
