"""``assetgen eval portraits`` for a label-conditioned model: the figures in its model card.

Every generated image comes from the runtime path users get (ONNX Runtime through
``PortraitsGenerator``). The judge is a classifier trained here on the real training renders
(one head per label column; cached in ``judge`` so reruns are quick); its penultimate features
are the embedding for FID / KID and precision / recall (k = 3) against held-out real faces
(``eval_data``: rendered with another seed, never trained on), with real-vs-real (training
renders vs held-out) as the floor.

- **quality**: ``samples`` faces from seeds, and the floor;
- **label fidelity**: per label column, how often the judge reads back the label the face was
  asked for, beside the judge's own accuracy on held-out real faces (the ceiling);
- **reconstruction** of held-out label sets against their real renders: L1, PSNR, and
  **outline sharpness**, the mean absolute pixel-to-pixel difference (alpha and premultiplied
  colour) of the generated sprite over that of the real render of the same labels, at 1:1
  (1.0 = as crisp as the real renders; a blurred outline scores lower);
- **transparency**: share of sprites whose four 4 x 4 corners all have alpha < 16, and the haze:
  pixels with alpha > 0 where the real render of the same labels is transparent, beyond 1 px
  of its silhouette;
- **talk / blink** on the labelled pairs' label sets: locality (share of the closed -> open
  change inside the real pair's mouth or eye region, grown by 2 px), effectiveness (the judge
  reads the open mouth / closed eyes), PSNR outside the region. Talk frames are measured as the
  runtime serves them, kept to the two mouths' footprints (``labels.keep_local``). Pixel
  differences here and in the reconstruction are taken on premultiplied RGBA (what shows once
  composited);
- **interpolation**: quality of the in-between frames (t = 0.25, 0.5, 0.75) of the shipped morph
  (parts change over one after another) against a plain cross-fade of every label at once;
- **attributes**: for each attribute at its strength, applied as the runtime applies it (a
  per-face swap toward the same face with that colour, for hair and skin colour), over faces
  lacking the value, how often the judge reads the value afterwards (flip) and how often every
  other column's reading stays put (others kept).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from assetgen import InvalidOptionsError
from assetgen.training.metrics import frechet, kid, precision_recall

from .stylegan import AttributeClassifier
from .train import CONDITION_COLUMNS, load_labelled

LABEL_EVAL_CONFIG: dict[str, Any] = {
    "samples": 5000,
    "eval_data": "data/portraits_eval",
    "data": "data/portraits",
    "judge": "runs/portraits-judge-augmented.pt",
    "judge_steps": 2500,
    "judge_width": 24,
    "judge_min_accuracy": 0.9,
    "judge_augment": True,
    "reconstruction_images": 1000,
    "talk_pairs": 300,
    "interpolation_pairs": 400,
    "attribute_seeds": 200,
    "seed": 100000,
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _input(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1


def _judge_heads(space: Any) -> dict[str, int]:
    return {c: len(space.values(c)) for c in CONDITION_COLUMNS}


def soften(x: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """Blend each image toward its 3x3 binomial blur by ``amount`` (N values in [0, 1])."""
    k = torch.tensor([1.0, 2.0, 1.0])
    kernel = (k[:, None] * k[None, :] / 16).expand(x.shape[1], 1, 3, 3)
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=x.shape[1])
    a = amount[:, None, None, None]
    return (1 - a) * x + a * blurred


def train_judge(config: dict[str, Any]) -> tuple[AttributeClassifier, dict[str, Any]]:
    """The judge: trained on the training renders (main set minus its held-out tail, plus
    the speech-mouth images), its batch-norm statistics re-estimated at the end.

    With ``judge_augment``, each image is also softened by a random amount and given a little
    noise: a judge trained on exact renders alone read the hair of near-perfect
    reconstructions (L1 0.026) right only 9% of the time, so it judged pixel-exact
    anti-aliasing, not the parts."""
    data = load_labelled(Path(config["data"]))
    images, codes = data["images"][:-2000], data["codes"][:-2000]
    if data["speech_images"] is not None:
        images = np.concatenate([images, data["speech_images"]])
        codes = np.concatenate([codes, data["speech_codes"]])
    heads = _judge_heads(data["space"])
    torch.manual_seed(0)
    clf = AttributeClassifier(heads, width=int(config["judge_width"]))
    opt = torch.optim.Adam(clf.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    steps = int(config["judge_steps"])
    started = time.monotonic()
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(images), 64)
        x = _input(images[idx])
        # up to 1 px of shift, so the judge reads parts, not exact pixel positions
        dy, dx = (int(v) for v in rng.integers(-1, 2, 2))
        x = torch.roll(x, (dy, dx), dims=(2, 3))
        if config["judge_augment"]:
            amount = torch.from_numpy(rng.random(len(x)).astype(np.float32))
            x = soften(x, amount) + 0.03 * float(rng.random()) * torch.randn_like(x)
        out = clf(x)
        y = torch.from_numpy(codes[idx])
        loss = sum(F.cross_entropy(out[c], y[:, k]) for k, c in enumerate(CONDITION_COLUMNS))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 250 == 0 or step == steps:
            rate = step / (time.monotonic() - started)
            log(f"judge: step {step}/{steps} loss {loss.item():.3f} {rate:.1f} it/s")
    # batch norm: an even average over fixed batches, not the last few training batches
    for m in clf.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    clf.train()
    with torch.no_grad():
        for k in range(32):
            clf(_input(images[k * 64 : (k + 1) * 64]))
    clf.eval()
    return clf, {"steps": steps, "width": int(config["judge_width"]), "heads": heads,
                 "augment": bool(config["judge_augment"])}


def load_judge(config: dict[str, Any]) -> tuple[AttributeClassifier, dict[str, Any]]:
    path = Path(config["judge"])
    if path.is_file():
        state = torch.load(path, map_location="cpu", weights_only=True)
        info = json.loads(state["info"])
        if (
            info.get("data") == str(Path(config["data"]).resolve())
            and info["steps"] == int(config["judge_steps"])
            and info.get("augment", False) == bool(config["judge_augment"])
        ):
            clf = AttributeClassifier(info["heads"], width=info["width"])
            clf.load_state_dict(state["model"])
            log(f"judge: loaded {path}")
            return clf.eval(), info
    clf, info = train_judge(config)
    info["data"] = str(Path(config["data"]).resolve())
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": clf.state_dict(), "info": json.dumps(info)}, path)
    return clf, info


@torch.no_grad()
def judge_read(clf: AttributeClassifier, images: np.ndarray) -> tuple[np.ndarray, dict]:
    feats, reads = [], {c: [] for c in clf.heads}
    for i in range(0, len(images), 256):
        x = _input(images[i : i + 256])
        f = clf.features(x)
        feats.append(f.numpy().astype(np.float64))
        for c, head in clf.heads.items():
            reads[c].append(head(f).argmax(1).numpy())
    return np.concatenate(feats), {c: np.concatenate(v) for c, v in reads.items()}


def _quality(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    p, r = precision_recall(real, fake)
    return {"fid": frechet(fake, real), "kid": kid(fake, real), "precision": p, "recall": r}


def _fidelity(reads: dict[str, np.ndarray], codes: np.ndarray, columns: list[str]) -> dict:
    return {c: float((reads[c] == codes[:, k]).mean()) for k, c in enumerate(columns)}


def _sharpness(img: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels, alpha and premultiplied colour."""
    x = img.astype(np.float64) / 255
    x = np.concatenate([x[..., :3] * x[..., 3:], x[..., 3:]], -1)
    return float(np.abs(np.diff(x, axis=1)).mean() + np.abs(np.diff(x, axis=2)).mean())


def _dilate(mask: np.ndarray, px: int) -> np.ndarray:
    t = torch.from_numpy(mask.astype(np.float32))[:, None]
    return (F.max_pool2d(t, 2 * px + 1, 1, px)[:, 0] > 0).numpy()


def premultiplied_u8(images: np.ndarray) -> np.ndarray:
    """uint8 straight RGBA -> float premultiplied RGBA in [0, 255]: what a viewer sees once the
    sprite is composited. Differences are measured here, not on straight RGB, whose values
    under a near-zero alpha are invisible but swing widely (a division by alpha)."""
    x = images.astype(np.float64)
    return np.concatenate([x[..., :3] * x[..., 3:] / 255, x[..., 3:]], -1)


def _psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """PSNR of premultiplied RGBA over the pixels in ``mask`` (N x H x W)."""
    d = ((premultiplied_u8(a) - premultiplied_u8(b)) / 255) ** 2
    mse = d[mask].mean() if mask.any() else 0.0
    return float(10 * np.log10(1 / max(mse, 1e-10)))


class Runner:
    """The shipped runtime path, on label codes given directly."""

    def __init__(self, model_dir: Path | None) -> None:
        from assetgen import Engine

        from .. import plugin

        if model_dir is not None:
            plugin.MODEL_DIR = model_dir.resolve()
        engine = Engine(device="cpu", plugins=["portraits"])
        self.gen = plugin.PortraitsGenerator(engine._instance("portraits").runtime)
        self.model = self.gen.model()
        self.labels = self.model.labels
        if self.labels is None:
            raise InvalidOptionsError("this evaluation is for label-conditioned models")
        self.options = plugin.PortraitOptions.parse({})
        names = [c.name for c in self.labels.columns]
        self.order = [names.index(c) for c in CONDITION_COLUMNS]

    def weights(self, codes: np.ndarray) -> np.ndarray:
        """N x K codes in CONDITION_COLUMNS order -> label weights."""
        out = []
        for row in codes:
            codes = dict(zip(CONDITION_COLUMNS, map(int, row), strict=True))
            out.append(self.labels.weights(codes))
        return np.stack(out)

    def codes(self, per_seed: list[dict[str, int]]) -> np.ndarray:
        return np.array([[c[name] for name in CONDITION_COLUMNS] for c in per_seed], np.int64)

    def render_weights(self, weights: np.ndarray, ws: np.ndarray | None = None) -> np.ndarray:
        w, m16, m32 = self.gen.map_labels(weights.astype(np.float32), self.model)
        if ws is None:
            ws = np.repeat(w[:, None], self.model.num_ws, axis=1)
        return self.gen.synthesise(ws.astype(np.float32), m16, m32, self.model)

    def seeds(self, seeds: list[int], options: Any = None) -> tuple[np.ndarray, np.ndarray]:
        options = options or self.options
        images, codes = [], []
        for i in range(0, len(seeds), 256):
            ws, m16, m32, c = self.gen.label_batch(seeds[i : i + 256], options, self.model)
            images.append(self.gen.synthesise(ws, m16, m32, self.model))
            codes.extend(c)
        return np.concatenate(images), self.codes(codes)


def evaluate(model_dir: Path | None, out: Path | None, config: dict[str, Any]) -> dict[str, Any]:
    from assetgen import write_atomic

    run = Runner(model_dir)
    clf, judge_info = load_judge(config)
    real = load_labelled(Path(config["eval_data"]))
    train = load_labelled(Path(config["data"]))
    n = min(int(config["samples"]), len(real["images"]))
    f_real, reads_real = judge_read(clf, real["images"][:n])
    accuracy_real = _fidelity(reads_real, real["codes"][:n], list(CONDITION_COLUMNS))
    # the judge on real faces softened halfway to their 3x3 blur: it must still read the parts
    m = min(1000, len(real["images"]))
    softened = soften(_input(real["images"][:m]), torch.full((m,), 0.5))
    soft_u8 = ((softened + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    accuracy_soft = _fidelity(judge_read(clf, soft_u8)[1], real["codes"][:m],
                              list(CONDITION_COLUMNS))
    if min(accuracy_real.values()) < config["judge_min_accuracy"]:
        raise InvalidOptionsError(
            f"the judge reads held-out real faces at {accuracy_real}, below "
            f"{config['judge_min_accuracy']} on some part: raise --set judge_steps=N",
            parameter="judge_steps",
        )
    scale = float(np.sqrt((f_real**2).mean())) or 1.0
    f_real /= scale
    f_train = judge_read(clf, train["images"][:n])[0] / scale
    seed0 = int(config["seed"])
    log(f"eval: generating {n} portraits")
    t0 = time.monotonic()
    fake, fake_codes = run.seeds(list(range(seed0, seed0 + n)))
    seconds = time.monotonic() - t0
    f_fake, reads_fake = judge_read(clf, fake)
    report: dict[str, Any] = {
        "model_sha256": run.model.bundle.sha256,
        "samples": n,
        "generation_seconds": round(seconds, 1),
        "judge": {**{k: v for k, v in judge_info.items() if k != "data"},
                  "held_out_real_accuracy": accuracy_real,
                  "held_out_real_softened_accuracy": accuracy_soft},
        "quality": _quality(f_real, f_fake / scale),
        "quality_real_vs_real_floor": _quality(f_real, f_train),
        "label_fidelity": _fidelity(reads_fake, fake_codes, list(CONDITION_COLUMNS)),
        "transparency": _transparency(fake),
    }
    log("eval: reconstruction of held-out label sets")
    report["reconstruction"] = _reconstruction(run, real, int(config["reconstruction_images"]))
    log("eval: talk and blink")
    report["talk"], report["blink"] = _states(run, clf, train, int(config["talk_pairs"]))
    log("eval: interpolation")
    report["interpolation"] = _interpolation(run, clf, f_real, scale, config)
    log("eval: attribute vectors")
    report["attributes"] = _attributes(run, clf, config)
    report["command"] = "assetgen eval portraits " + " ".join(
        f"--set {k}={v}" for k, v in config.items() if LABEL_EVAL_CONFIG.get(k) != v
    )
    if out is not None:
        write_atomic(out, (json.dumps(report, indent=2) + "\n").encode())
    return report


def _transparency(images: np.ndarray) -> dict[str, float]:
    a = images[..., 3]
    corners = np.stack([a[:, :4, :4], a[:, :4, -4:], a[:, -4:, :4], a[:, -4:, -4:]], 1)
    return {
        "corners_clear": float((corners.max(axis=(1, 2, 3)) < 16).mean()),
        "corner_alpha_max": int(corners.max()),
        "rgb_under_alpha0_max": int(images[..., :3][a == 0].max(initial=0)),
    }


def _reconstruction(run: Runner, real: dict[str, Any], count: int) -> dict[str, float]:
    images, codes = real["images"][:count], real["codes"][:count]
    fake = run.render_weights(run.weights(codes))
    solid = real["images"][:count][..., 3] > 0
    outside = ~_dilate(solid, 1)
    haze = (fake[..., 3] > 0) & outside
    diff = np.abs(premultiplied_u8(fake) - premultiplied_u8(images)) / 255
    return {
        "images": count,
        "l1_premultiplied": float(diff.mean()),
        "psnr_db": _psnr(fake, images, np.ones(images.shape[:3], bool)),
        "outline_sharpness_vs_real": _sharpness(fake) / _sharpness(images),
        "haze_pixels_per_image": float(haze.sum() / count),
        "haze_alpha_max": int(fake[..., 3][outside].max(initial=0)),
    }


def _states(
    run: Runner, clf: AttributeClassifier, train: dict[str, Any], count: int
) -> tuple[dict[str, float], dict[str, float]]:
    path = Path(train["path"]).parent / "pairs" / "pairs.npz"
    with np.load(path) as p:
        names = [str(v) for v in p["label_names"]]
        keep = [names.index(c) for c in CONDITION_COLUMNS]
        closed_codes = p["labels"][:count][:, keep].astype(np.int64)
        frames = {k: p[k][:count] for k in ("closed", "open", "eyes_closed")}
        open_mouth = p["open_mouth"][:count].astype(np.int64)
        shut_eyes = p["closed_eyes"][:count].astype(np.int64)
    base = run.weights(closed_codes)
    w, _, _ = run.gen.map_labels(base.astype(np.float32), run.model)
    ws = np.repeat(w[:, None], run.model.num_ws, axis=1)
    still = run.render_weights(base, ws)
    out = []
    for column, codes, real_frame in (
        ("mouth", open_mouth, frames["open"]),
        ("eyes", shut_eyes, frames["eyes_closed"]),
    ):
        k = CONDITION_COLUMNS.index(column)
        moved_codes = closed_codes.copy()
        moved_codes[:, k] = codes
        moved = run.render_weights(run.weights(moved_codes), ws)
        if column == "mouth":  # as the runtime serves talk frames: kept to the two mouths
            moved = _keep_mouths(run, still, moved, closed_codes[:, k], codes)
        change = np.abs(real_frame.astype(np.int16) - frames["closed"].astype(np.int16)).max(-1)
        region = _dilate(change > 24, 2)
        d = np.abs(premultiplied_u8(moved) - premultiplied_u8(still)).sum(-1)
        reads = judge_read(clf, moved)[1][column]
        out.append(
            {
                "pairs": count,
                "locality": float((d * region).sum() / max(d.sum(), 1e-9)),
                "effective": float((reads == codes).mean()),
                "psnr_outside_db": _psnr(moved, still, ~region),
            }
        )
    return out[0], out[1]


def _keep_mouths(
    run: Runner, still: np.ndarray, moved: np.ndarray, before: np.ndarray, after: np.ndarray
) -> np.ndarray:
    """Each moved frame kept to the footprints of its two mouths (``labels.keep_local``)."""
    from ..labels import keep_local

    labels = run.labels
    values = labels.by_name["mouth"].values
    size = still.shape[1]
    return np.stack([
        keep_local(s, m[None], [labels.mouth_weights(values[a], values[b], size)])[0]
        for s, m, a, b in zip(still, moved, before, after, strict=True)
    ])


def _interpolation(
    run: Runner, clf: AttributeClassifier, f_real: np.ndarray, scale: float, config: dict
) -> dict[str, Any]:
    n = int(config["interpolation_pairs"])
    seed0 = int(config["seed"]) + 500000
    _, codes_a = run.seeds(list(range(seed0, seed0 + n)))
    _, codes_b = run.seeds(list(range(seed0 + n, seed0 + 2 * n)))
    wa, wb = run.weights(codes_a), run.weights(codes_b)
    t = np.array([0.25, 0.5, 0.75], np.float32)
    result: dict[str, Any] = {"pairs": n, "t": t.tolist()}
    for name in ("morph", "crossfade"):
        frames = []
        for a, b in zip(wa, wb, strict=True):
            if name == "morph":
                frames.append(run.labels.morph(a, b, t))
            else:
                frames.append(a[None] + t[:, None] * (b - a)[None])
        weights = np.concatenate(frames)
        w, _, _ = run.gen.map_labels(wa.astype(np.float32), run.model)
        w2, _, _ = run.gen.map_labels(wb.astype(np.float32), run.model)
        w_t = w[:, None] + t[None, :, None] * (w2 - w)[:, None]
        ws = np.repeat(w_t.reshape(-1, w.shape[1])[:, None], run.model.num_ws, axis=1)
        images = run.render_weights(weights, ws)
        f = judge_read(clf, images)[0] / scale
        result[name] = _quality(f_real[: len(f)], f)
    return result


def _attributes(run: Runner, clf: AttributeClassifier, config: dict[str, Any]) -> dict[str, Any]:
    n = int(config["attribute_seeds"])
    seed0 = int(config["seed"]) + 900000
    seeds = list(range(seed0, seed0 + 4 * n))
    base_images, codes = run.seeds(seeds)
    base_reads = judge_read(clf, base_images)[1]
    rows = {}
    for name, attr in run.model.attributes.items():
        meta = next(a for a in run.model.bundle.manifest["attributes"] if a["name"] == name)
        k = CONDITION_COLUMNS.index(meta["column"])
        target = run.labels.by_name[meta["column"]].values.index(meta["value"])
        lacking = [s for s, c in zip(seeds, codes[:, k], strict=True) if c != target][:n]
        idx = [seeds.index(s) for s in lacking]
        # through the runtime: per-face label swaps where the model has them, else the vector
        options = type(run.options).parse({"attributes": {name: float(attr["strength"])}})
        ws, m16, m32, _ = run.gen.label_batch(lacking, options, run.model)
        edited = run.gen.synthesise(ws.astype(np.float32), m16, m32, run.model)
        reads = judge_read(clf, edited)[1]
        others = [c for c in CONDITION_COLUMNS if c != meta["column"]]
        kept = np.all([reads[c] == base_reads[c][idx] for c in others], axis=0)
        rows[name] = {
            "faces": len(lacking),
            "flip_rate": float((reads[meta["column"]] == target).mean()),
            "others_kept_rate": float(kept.mean()),
        }
    flips = [r["flip_rate"] for r in rows.values()]
    return {"strength": "each vector's shipped strength", "vectors": rows,
            "min_flip_rate": min(flips) if flips else None}
