"""``assetgen eval portraits``: quality, memorisation, attribute edits and the talking edit.

Everything runs through the shipped model folder (ONNX Runtime, the same path users get), with
the model's own ``classifier.onnx`` as the judge and as the embedding for FID/KID and
precision/recall (k = 3, Kynkaanniemi et al. 2019). Features are divided by one constant (the
RMS of the held-out real features) so KID's cubic kernel sees values of order 1.

- quality: generated vs held-out real images (``eval_data``: a set rendered with another seed,
  never trained on), with the real-vs-real figures (training images vs held-out) as the floor;
- memorisation: each generated face's nearest training image (RGBA pixels) vs each training
  image's nearest other training image;
- attribute edits: for each shipped vector at its strength, over ``attribute_seeds`` faces that
  lack the attribute, how often the classifier's reading flips, and how often every other
  attribute's reading stays put;
- talking (issue "Talking portraits"): the local feature-map edit vs the W "mouth open" vector at
  the same strength the vector ships with, over ``talk_seeds`` faces: effectiveness, locality,
  identity outside the mouth, and the cached-prefix speed-up; blink the same way against the
  "eyes closed" vector, in the eye region.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from assetgen.training.metrics import frechet, kid, precision_recall, sq_dists

EVAL_CONFIG: dict[str, Any] = {
    "samples": 10000,
    "truncation": 1.0,
    "eval_data": "data/portraits_eval",
    "data": "data/portraits",
    "memorisation_samples": 1000,
    "attribute_seeds": 200,
    "talk_seeds": 200,
    "speed_repeats": 5,
    "seed": 100000,
    "picture": "",  # where to write the edit-vs-latent picture ("" = next to --out)
    "baseline_run": "runs/portraits-dcgan",  # DCGAN baseline run folder; skipped if missing
}


def classify(bundle: Any, images_u8: np.ndarray, batch: int = 256) -> dict[str, np.ndarray]:
    """features (N x F) and per-head probabilities from the shipped classifier."""
    session = bundle.session("classifier.onnx")
    names = [o.name for o in session.get_outputs()]
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for start in range(0, len(images_u8), batch):
        x = images_u8[start : start + batch].astype(np.float32).transpose(0, 3, 1, 2) / 255
        for name, value in zip(names, session.run(None, {"rgba": x}), strict=True):
            parts[name].append(value)
    out = {n: np.concatenate(v) for n, v in parts.items()}
    for n in names[1:]:
        e = np.exp(out[n] - out[n].max(1, keepdims=True))
        out[n] = e / e.sum(1, keepdims=True)
    return out


def _quality(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    p, r = precision_recall(real, fake)
    return {"fid": frechet(fake, real), "kid": kid(fake, real), "precision": p, "recall": r}


def _load_npz(path: Path, n: int | None = None) -> np.ndarray:
    from .data import BUILD_HINT

    file = path / "portraits_64.npz" if path.is_dir() else path
    if not file.is_file():
        from assetgen import InvalidOptionsError

        raise InvalidOptionsError(
            f"{file} not found; {BUILD_HINT} (for eval_data use --seed 1 --count 10000)",
            parameter="data",
        )
    with np.load(file) as npz:
        images = npz["images"]
    return images if n is None else images[:n]


def _nearest(query: np.ndarray, ref: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    q = query.reshape(len(query), -1).astype(np.float32) / 255
    r = ref.reshape(len(ref), -1).astype(np.float32) / 255
    out = []
    for s in range(0, len(q), 250):
        d = sq_dists(q[s : s + 250], r)
        if exclude_self:
            d[np.arange(len(d)), np.arange(s, s + len(d))] = np.inf
        out.append(np.sqrt(d.min(1)))
    return np.concatenate(out)


def _psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    diff = (a.astype(np.float64) - b.astype(np.float64))[mask]
    mse = float((diff**2).mean()) if diff.size else 0.0
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def evaluate(model_dir: Path | None, out: Path | None, config: dict[str, Any]) -> dict[str, Any]:
    from assetgen import Engine, write_atomic

    from .. import plugin

    if model_dir is not None:
        plugin.MODEL_DIR = model_dir.resolve()
    engine = Engine(device="cpu", plugins=["portraits"])
    gen = plugin.PortraitsGenerator(engine._instance("portraits").runtime)
    model = gen.model()
    bundle = model.bundle
    n = int(config["samples"])
    seed0 = int(config["seed"])
    t0 = time.monotonic()
    fake = np.stack(
        [a.rgba for a in engine.generate("portraits", seed=seed0, count=n,
                                          truncation=config["truncation"])]
    )
    gen_seconds = time.monotonic() - t0
    real_eval = _load_npz(Path(config["eval_data"]), n)
    train = _load_npz(Path(config["data"]))
    holdout = int(bundle.manifest["training"]["config"].get("holdout", 0))
    train = train[: len(train) - holdout]
    f_fake = classify(bundle, fake)["features"].astype(np.float64)
    f_eval = classify(bundle, real_eval)["features"].astype(np.float64)
    f_train = classify(bundle, train[:n])["features"].astype(np.float64)
    # one scale for every feature set, so KID's cubic kernel sees values of order 1
    scale = float(np.sqrt((f_eval**2).mean())) or 1.0
    f_fake, f_eval, f_train = f_fake / scale, f_eval / scale, f_train / scale
    report: dict[str, Any] = {
        "model_dir": str(plugin.MODEL_DIR),
        "model_sha256": bundle.sha256,
        "samples": n,
        "truncation": config["truncation"],
        "generation_seconds": round(gen_seconds, 1),
        "quality": _quality(f_eval, f_fake),
        "quality_real_vs_real_floor": _quality(f_eval, f_train),
    }
    baseline = Path(config["baseline_run"]) if config["baseline_run"] else None
    if baseline is not None and (baseline / "checkpoint.pt").is_file():
        from .baseline import sample as baseline_sample

        base_imgs = baseline_sample(baseline, n, seed0)
        f_base = classify(bundle, base_imgs)["features"].astype(np.float64) / scale
        report["quality_dcgan_baseline"] = _quality(f_eval, f_base)
        report["dcgan_baseline_run"] = str(baseline)
    else:
        report["quality_dcgan_baseline"] = None
    # memorisation, in RGBA pixels
    m = int(config["memorisation_samples"])
    gen_nn = _nearest(fake[:m], train)
    train_nn = _nearest(train[:m], train, exclude_self=True)
    report["memorisation"] = {
        "generated_to_train_nn_median": float(np.median(gen_nn)),
        "train_to_train_nn_median": float(np.median(train_nn)),
        "ratio": float(np.median(gen_nn) / np.median(train_nn)),
        "generated_closer_than_train_p5": float((gen_nn < np.percentile(train_nn, 5)).mean()),
    }
    report["attributes"] = _attributes(engine, bundle, model, config)
    for which in EDITS:
        report[which.key] = _edit_vs_latent(gen, model, bundle, config, out, which)
    report["command"] = "assetgen eval portraits " + " ".join(
        f"--set {k}={v}" for k, v in config.items()
    )
    if out is not None:
        write_atomic(out, (json.dumps(report, indent=2) + "\n").encode())
    return report


def _attributes(engine: Any, bundle: Any, model: Any, config: dict[str, Any]) -> dict[str, Any]:
    from .analysis import others_kept, readings

    seeds = int(config["attribute_seeds"])
    s0 = int(config["seed"]) + 500000
    base_imgs = np.stack([a.rgba for a in engine.generate("portraits", seed=s0, count=seeds)])
    base = readings(classify(bundle, base_imgs))
    results = {}
    for name, attr in sorted(model.attributes.items()):
        lacking = ~base[name]
        if name.startswith("hair_color_"):
            lacking &= ~base["bald"]
        idx = np.flatnonzero(lacking)
        if len(idx) == 0:
            continue
        imgs = np.stack([
            engine.generate("portraits", seed=s0 + int(i),
                            attributes={name: attr["strength"]})[0].rgba
            for i in idx
        ])
        after = readings(classify(bundle, imgs))
        kept_all, kept_mean = others_kept(name, base, after, idx)
        results[name] = {
            "strength": attr["strength"],
            "tested": int(len(idx)),
            "flip_rate": float(after[name].mean()),
            "others_kept_rate": kept_all,
            "others_kept_mean": kept_mean,
        }
    flips = [r["flip_rate"] for r in results.values()]
    return {
        "per_attribute": results,
        "definition": "flip_rate: share of faces lacking the attribute that show it after the "
        "edit; others_kept_rate: share where every other attribute group reads the same; "
        "others_kept_mean: mean over the other groups of the share where that group does",
        "meeting_targets_all": sum(
            1 for r in results.values() if r["flip_rate"] >= 0.8 and r["others_kept_rate"] >= 0.8
        ),
        "meeting_targets_mean": sum(
            1 for r in results.values() if r["flip_rate"] >= 0.8 and r["others_kept_mean"] >= 0.8
        ),
        "total": len(results),
        "flip_rate_median": float(np.median(flips)) if flips else 0.0,
    }


def _region(bundle: Any, name: str) -> np.ndarray:
    rows = bundle.manifest["regions"][name]
    return np.array([[c == "1" for c in row] for row in rows])


class MeasuredEdit(NamedTuple):
    """A local edit measured against its latent vector."""

    name: str  # the edit in the manifest
    head: str  # the classifier head, and the attribute vector of the same name
    region: str  # the labelled pairs' region the change should stay in
    key: str  # the report's key
    state: str  # what the picture's rows call the "on" state
    picture_suffix: str  # added to the picture's file name ("": the configured name)
    timed: bool  # the report includes the cached-prefix speed-up


EDITS = (MeasuredEdit("mouth", "mouth_open", "mouth", "talk", "open", "", True),
         MeasuredEdit("blink", "eyes_closed", "eyes", "blink", "eyes closed", "-blink", False))


def _edit_vs_latent(
    gen: Any, model: Any, bundle: Any, config: dict[str, Any], out: Path | None,
    which: MeasuredEdit,
) -> dict:
    from ..plugin import PortraitOptions
    from .analysis import locality

    name, head, region_name, _, state, suffix, timed = which
    options = PortraitOptions()
    region = _region(bundle, region_name)
    edit = model.edits[name]
    latent = model.attributes.get(head)
    if latent is None:  # no vector shipped: compare with no change at all
        vector, strength = np.zeros(model.w_dim, np.float32), 0.0
    else:
        vector, strength = latent["vector"], float(latent["strength"])
    first = int(config["seed"]) + 900000
    seeds = range(first, first + int(config["talk_seeds"]))
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("e0", "e1", "l0", "l1", "still")}
    for s in seeds:
        ws = gen.ws_of(s, options, model)
        features, skip = gen.prefix(ws, model)
        still = gen.render(ws, model)
        # the edit's frames as animations make them (the window graph, pasted on the still)
        deltas, made = edit.frame_deltas(features[0], (0.0, 1.0))
        closed, opened = gen.edit_frames(features, skip, ws, deltas, edit, model, still)
        rows["e0"].append(closed)
        rows["e1"].append(opened)
        rows["still"].append(still)
        # the latent method from the same still: only the frame that must change moves
        is_open = made["start"] >= 0.5
        rows["l1"].append(still if is_open else gen.render(ws + strength * vector, model))
        rows["l0"].append(gen.render(ws - strength * vector, model) if is_open else still)
    arr = {k: np.stack(v) for k, v in rows.items()}
    p = {k: classify(bundle, arr[k])[head][:, 1] for k in ("e0", "e1", "l0", "l1")}
    outside = ~region

    def summary(closed: str, opened: str) -> dict[str, float]:
        eff = (p[opened] >= 0.9) & (p[closed] <= 0.1)
        loc = locality(arr[closed], arr[opened], region)
        psnr = [_psnr(a, b, outside) for a, b in zip(arr[closed], arr[opened], strict=True)]
        finite = [x for x in psnr if np.isfinite(x)]
        return {
            "effective_share": float(eff.mean()),
            "p_on_median": float(np.median(p[opened])),
            "p_on_off_frames_median": float(np.median(p[closed])),
            "locality_median": float(np.median(loc)),
            "locality_share_ge_0_9": float((loc >= 0.9).mean()),
            "psnr_outside_median_db": float(np.median(finite)) if finite else float("inf"),
            "psnr_outside_share_ge_35": float(np.mean([x >= 35 for x in psnr])),
        }

    report = {
        "state": f"{head}: the classifier's P on the frames switched on (p_on_median) and off",
        "seeds": len(arr["still"]),
        "edit_layer": edit.layer,
        "edit_channels": len(edit.channels),
        "latent_strength": strength,
        "feature_map_edit": summary("e0", "e1"),
        "latent_direction": summary("l0", "l1"),
    }
    if timed:
        report["speed"] = talk_speed(gen, model, int(config["speed_repeats"]))
    picture = config.get("picture") or (str(out.with_suffix(".png")) if out else "")
    if picture:
        from assetgen import write_atomic

        path = Path(picture)
        path = path.with_name(f"{path.stem}{suffix}{path.suffix}")
        sheet = np.concatenate([arr[k][:8] for k in ("still", "e1", "e0", "l1", "l0")])
        write_atomic(path, _sheet(sheet, columns=8))
        report["picture"] = str(path)
        report["picture_rows"] = ["still", f"edit: {state}", f"edit: not {state}",
                                  f"latent: {state}", f"latent: not {state}"]
    return report


def _sheet(images: np.ndarray, columns: int) -> bytes:
    from assetgen.training.run import contact_sheet

    return contact_sheet(images, columns=columns, scale=2)


def talk_speed(gen: Any, model: Any, repeats: int, frames: int = 8, seed: int = 7) -> dict:
    """Frames per second for an 8-frame talk animation as the generator makes it (one prefix
    run, the frames in one suffix call) vs recomputing every frame from w (prefix + suffix per
    frame), timed alternately in one process."""
    from ..plugin import PortraitAnimationOptions

    options = PortraitAnimationOptions()
    edit = model.edits["mouth"]

    def cached() -> None:
        gen.animate(seed, frames, options)

    def recompute() -> None:
        ws = gen.ws_of(seed, options, model)
        curve = gen.curve(seed, frames, options)
        for target in curve:
            features, skip = gen.prefix(ws, model)
            deltas, _ = edit.frame_deltas(features[0], (target,))
            gen.suffix(features, skip, ws, deltas[0], model)

    cached()
    recompute()  # warm up both paths
    times: dict[str, list[float]] = {"cached": [], "recompute": []}
    for _ in range(repeats):
        for name, fn in (("cached", cached), ("recompute", recompute)):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    med = {k: float(np.median(v)) for k, v in times.items()}
    return {
        "frames": frames,
        "repeats": repeats,
        "cached_fps": frames / med["cached"],
        "recompute_fps": frames / med["recompute"],
        "speedup": med["recompute"] / med["cached"],
    }
