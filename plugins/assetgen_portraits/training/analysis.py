"""Attribute vectors and local-edit discovery for a trained portraits generator (PyTorch).

Both run once per model, at export, and ship with it:

- **Attribute vectors** the way the source found them: generate many faces, let the attribute
  classifier say which show an attribute, and take the mean W of those minus the mean W of all.
  Attributes whose labels are correlated in the generated faces (|r| > 0.1, e.g. earrings only
  show with hair that leaves the ears free) are untangled by projecting the other group's vectors
  out of each one. Each vector's strength is the smallest on a grid that flips the classifier's
  reading on at least 80% of faces that lacked it.
- **Local edits** (talking and blinking): the same faces pushed both ways along the attribute
  vector (mouth open / mouth closed) differ, at a candidate layer, mostly where the mouth is
  drawn: that energy map, kept to the region the labelled pairs show (feathered at its border,
  :func:`soft_region`), is the edit's region, found from the model's own feature maps. The
  channels that carry most of it are the edit's channels; the weighted mean difference in those
  channels is the pattern that is added. Without a vector, the faces the classifier reads as on
  and off are compared instead. Layer, channel count and gain are chosen on held-out faces by
  effectiveness + locality (the issue asks >= 0.9 of each), the smaller gain on ties.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from assetgen import ModelError

from ..labels import grow_mask
from ..local_edits import LocalEdit
from . import classifier as clf_mod
from .stylegan import AttributeClassifier, PortraitGenerator


class DegenerateEditError(ValueError):
    """An edit built from a difference that is all zero or not finite (never shipped)."""

ATTRIBUTE_GRID = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
FLIP_TARGET = 0.8
# How far past its tuned strength an attribute vector is pushed to find a paired edit, each way:
# the "on" faces are pushed +PAIRED_PUSH x strength along it, the "off" faces as far the
# other way, and the pattern is their difference (the reference state is the faces as drawn,
# nudged by REST_PUSH; see build_paired_edit). The tuned strength (chosen to flip the
# attribute while keeping the rest, 4 for mouth_open) moves the mouth in the feature maps too
# little to draw. The export's log lists every candidate's effective share and locality
# (`assetgen export portraits RUN --out DIR`); the trials also ship in the manifest
# (`edit_trials`). The edit stays local whatever the push: only the region's channels change,
# weighted by `soft_region`.
PAIRED_PUSH = 9.0
# Where the edit's reference (closed) state sits on that push: the faces moved this share of
# the push toward closed. At 0 (the faces as drawn) the classifier reads many resting mouths as
# partly open; far toward closed the "closed" frames lose the mouth for a pale patch. The
# choice was made on the closed frames of held-out faces at 0, 0.15, 0.3 and 0.5 (figures and
# contact sheet: `python scripts/portraits_edit_sweep.py rest-push RUN`): at 0.15 the faces'
# own small mouths are still drawn.
REST_PUSH = 0.15
# Each face's off frame: how far below the reference (in state units) the off frames of held-out
# faces are tried; a face whose off frame never reads as off takes the last (lowest) value,
# which still draws a faint mouth (further down it fades into a pale patch). A ridge reading of
# the edited layer (every channel at the pattern's cells) learns the needed value per face
# (fit_rest); its margin is the smallest of REST_MARGINS under which REST_TARGET of the
# validation faces read as off. Figures: the export's log and the manifest (edits.*.rest).
REST_GRID = (0.0, -0.05, -0.1, -0.15, -0.2, -0.25, -0.3, -0.4)
REST_MARGINS = (0.0, 0.025, 0.05, 0.075, 0.1, 0.15)
REST_TARGET = 0.95
REST_RIDGE = 10.0
OFF_READING = 0.1  # the classifier's P(state) at or below which a face reads as off

#: Sample counts of the analysis (tests shrink them for tiny models).
SIZES = {
    "attr_samples": 10000,  # faces classified to find the vectors
    "attr_test": 200,  # faces the strength of each vector is tuned on
    "attr_min_group": 20,  # an attribute needs this many faces with and without it
    "edit_samples": 1500,  # faces classified to find an edit
    "edit_val": 96,  # held-out faces each edit candidate is judged on
    "edit_min_group": 10,  # "on" and "off" faces needed; fewer: split at the median reading
    "rest_samples": 1500,  # faces the per-face off frame is learnt from (a fifth validates)
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def to_u8(images: torch.Tensor) -> np.ndarray:
    arr = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    out = arr.permute(0, 2, 3, 1).numpy().copy()
    out[out[..., 3] == 0] = 0
    return out


def sample_ws(G: PortraitGenerator, n: int, seed: int, truncation: float) -> torch.Tensor:
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return G.ws(z, truncation)


def render(G: PortraitGenerator, ws: torch.Tensor, batch: int = 128) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([to_u8(G.synthesis(b)) for b in ws.split(batch)])


def readings(probs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Hard per-attribute readings (N bools) for every attribute name."""
    out = {}
    for head in clf_mod.BINARY_HEADS:
        out[head] = probs[head][:, 1] > 0.5
    for head, names in (("hair_color", clf_mod.HAIR_COLOURS), ("skin", clf_mod.SKIN_TONES)):
        arg = probs[head].argmax(1)
        for i, name in enumerate(names.values()):
            out[f"{head}_{name}"] = arg == i
    return out


def attribute_group(name: str) -> str:
    for prefix in ("hair_color_", "skin_"):
        if name.startswith(prefix):
            return prefix[:-1]
    return name


def attribute_vectors(
    G: PortraitGenerator, clf: AttributeClassifier, seed: int = 11
) -> list[dict[str, Any]]:
    n, test_seeds, min_group = SIZES["attr_samples"], SIZES["attr_test"], SIZES["attr_min_group"]
    log(f"attribute vectors: classifying {n} generated faces")
    ws = sample_ws(G, n, seed, 1.0)
    w = ws[:, 0].numpy().astype(np.float64)
    read = readings(clf_mod.predict(clf, render(G, ws)))
    bald = read["bald"]
    names = [k for k in read if read[k].sum() >= min_group and (~read[k]).sum() >= min_group]
    if not names:
        log("  no attribute is both present and absent in the generated faces: none shipped")
        return []
    raw: dict[str, np.ndarray] = {}
    for name in names:
        # colours of the hair are meaningless on bald faces: compare with haired ones
        base = ~bald if name.startswith("hair_color_") else np.ones(n, bool)
        raw[name] = w[read[name] & base].mean(0) - w[base].mean(0)
    labels = np.stack([read[k].astype(np.float64) for k in names], 1)
    corr = np.nan_to_num(np.corrcoef(labels, rowvar=False))
    vectors = {}
    for i, a in enumerate(names):
        # never untangle from an attribute the faces show exactly when (or exactly when not)
        # this one shows: that would subtract the vector from itself and leave zero
        others = [
            raw[b] for j, b in enumerate(names)
            if attribute_group(b) != attribute_group(a) and abs(corr[i, j]) > 0.1
            and not (read[a] == read[b]).all() and not (read[a] != read[b]).all()
        ]
        v = raw[a]
        if others:
            basis, _ = np.linalg.qr(np.stack(others, 1))
            v = v - basis @ (basis.T @ v)
        if not np.isfinite(v).all() or not np.linalg.norm(v) > 1e-6 * np.linalg.norm(raw[a]):
            log(f"  {a}: the vector is zero or not finite after untangling; dropped")
            continue
        vectors[a] = v
    names = [a for a in names if a in vectors]
    rows = []
    test_ws = sample_ws(G, test_seeds, seed + 1, 0.7)
    base_read = read_of(G, clf, test_ws)
    for name in names:
        row = _strength(G, clf, name, vectors[name], test_ws, base_read)
        row["correlated_with"] = [
            b for j, b in enumerate(names)
            if attribute_group(b) != attribute_group(name) and abs(corr[names.index(name), j]) > 0.1
        ]
        rows.append(row)
        log(
            f"  {name}: strength {row['strength']:g} flips {row['flip_rate']:.2f}, "
            f"others kept {row['others_kept_rate']:.2f} all / {row['others_kept_mean']:.2f} mean"
        )
    return rows


def read_of(G: PortraitGenerator, clf: AttributeClassifier, ws: torch.Tensor) -> dict:
    return readings(clf_mod.predict(clf, render(G, ws)))


def _strength(
    G: PortraitGenerator, clf: AttributeClassifier, name: str, vector: np.ndarray,
    ws: torch.Tensor, base: dict[str, np.ndarray],
) -> dict[str, Any]:
    lacking = ~base[name]
    if name.startswith("hair_color_"):
        lacking &= ~base["bald"]
    idx = np.flatnonzero(lacking)
    v = torch.from_numpy(vector.astype(np.float32))
    best: dict[str, Any] | None = None
    if len(idx) == 0:  # every test face already shows it: nothing to tune on
        best = {"strength": 1.0, "flip_rate": 0.0, "others_kept_rate": 1.0,
                "others_kept_mean": 1.0, "tested": 0}
    for s in ATTRIBUTE_GRID if len(idx) else ():
        edited = read_of(G, clf, ws[idx] + s * v)
        flip = float(edited[name].mean())
        kept_all, kept_mean = others_kept(name, base, edited, idx)
        result = {"strength": s, "flip_rate": flip, "others_kept_rate": kept_all,
                  "others_kept_mean": kept_mean, "tested": len(idx)}
        if best is None or flip > best["flip_rate"]:
            best = result
        if flip >= FLIP_TARGET:
            best = result
            break
    assert best is not None
    return {
        "name": name,
        "group": attribute_group(name),
        "vector": vector.astype(np.float32),
        "strength_min": -best["strength"] * 1.5,
        "strength_max": best["strength"] * 1.5,
        **best,
    }


def others_kept(
    name: str, base: dict[str, np.ndarray], edited: dict[str, np.ndarray], idx: np.ndarray
) -> tuple[float, float]:
    """How well the other attributes stay put: (share of faces where every other attribute
    group reads the same, mean over the other groups of the share where that group does)."""
    group = attribute_group(name)
    groups = sorted({attribute_group(k) for k in base} - {group})
    per_group = []
    for g in groups:
        same = np.ones(len(idx), bool)
        for k in base:
            if attribute_group(k) == g:
                same &= base[k][idx] == edited[k]
        per_group.append(same)
    if not per_group:
        return 1.0, 1.0
    stacked = np.stack(per_group)
    return float(stacked.all(0).mean()), float(stacked.mean())


# -- local edits --------------------------------------------------------------------------------


def prefix_features(
    G: PortraitGenerator, ws: torch.Tensor, layer: int, batch: int = 128
) -> tuple[torch.Tensor, torch.Tensor]:
    feats, skips = [], []
    with torch.no_grad():
        for b in ws.split(batch):
            f, s = G.synthesis.prefix(b, layer)
            feats.append(f)
            skips.append(s)
    return torch.cat(feats), torch.cat(skips)


def finish(
    G: PortraitGenerator, feats: torch.Tensor, skips: torch.Tensor, ws: torch.Tensor,
    layer: int, deltas: np.ndarray | None = None, batch: int = 128,
) -> np.ndarray:
    out = []
    with torch.no_grad():
        for start in range(0, len(ws), batch):
            sl = slice(start, start + batch)
            f = feats[sl]
            if deltas is not None:
                f = f + torch.from_numpy(deltas[sl])
            out.append(to_u8(G.synthesis.suffix(f, skips[sl], ws[sl], layer)))
    return np.concatenate(out)


def pixel_region(before: np.ndarray, after: np.ndarray, share: float = 0.02, grow: int = 2):
    """Pixels (64x64 bool) that differ in at least ``share`` of real before/after pairs,
    grown by ``grow`` pixels: the image-space region an edit is judged against."""
    diff = (np.abs(before.astype(np.int16) - after.astype(np.int16)).max(-1) > 24).mean(0)
    region = diff >= share
    for _ in range(grow):
        region = grow_mask(region)
    return region


def locality(still: np.ndarray, edited: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Per-image share of the total absolute pixel change that falls inside ``region``."""
    change = np.abs(edited.astype(np.float64) - still.astype(np.float64)).sum(-1)
    total = change.sum((1, 2))
    inside = (change * region).sum((1, 2))
    return np.where(total > 0, inside / np.maximum(total, 1e-9), 1.0)


def build_edit(
    name: str, layer: int, feats: np.ndarray, on: np.ndarray, k: int, max_shift: int
) -> dict[str, Any]:
    """An edit from two groups of faces (the classifier's "on" and "off" readings)."""
    delta = feats[on].mean(0) - feats[~on].mean(0)  # C x H x W
    return _edit_spec(name, layer, delta, feats[~on], k, max_shift)


def build_paired_edit(
    name: str, layer: int, off: np.ndarray, on: np.ndarray, region: np.ndarray, k: int,
    max_shift: int, rest: np.ndarray | None = None,
) -> dict[str, Any]:
    """An edit from the same faces pushed toward the state (``on``) and away from it (``off``):
    the difference of paired feature maps is free of the faces' other differences (identity,
    hair, pose), which swamp a comparison of two groups when the model rarely draws the state.
    ``region`` (H x W weights from :func:`soft_region`, after the labelled pairs) keeps the
    pattern where the state lives. ``rest`` (the faces as drawn, or nudged a little toward
    off: :data:`REST_PUSH`) is the reference state 0, so a face's "off" frame stays close to
    the face as drawn (the far ``off`` side draws no mouth at all, a pale patch)."""
    delta = (on - off).mean(0)
    return _edit_spec(name, layer, delta, off if rest is None else rest, k, max_shift, region)


def soft_region(region_px: np.ndarray, size: int) -> np.ndarray:
    """Weights (size x size, in [0, 1]) that keep an edit inside a 64 x 64 pixel region: 1 two
    pixels or more inside its border, 0.5 on the pixel ring inside that, 0.2 on the border ring
    and 0 outside, averaged down to the feature map's resolution. An edit at 64 x 64 reaches one
    pixel further through the last 3 x 3 convolution; the feathered border keeps that spill
    small while the border still carries some of the edit. (The model shipped before this
    used the region grown by a cell: locality 0.71 in `assetgen eval portraits`, 0.94 now.)"""
    px = np.asarray(region_px, dtype=bool)
    inner1 = _erode(px)
    inner2 = _erode(inner1)
    weights = 0.2 * px + 0.3 * inner1 + 0.5 * inner2
    cell = px.shape[0] // size
    return weights.reshape(size, cell, size, cell).mean(axis=(1, 3)).astype(np.float32)


def _erode(mask: np.ndarray) -> np.ndarray:
    """The mask shrunk by one pixel: the complement grown (outside the image counts as full)."""
    return ~grow_mask(~mask)


def _edit_spec(
    name: str, layer: int, delta: np.ndarray, off: np.ndarray, k: int, max_shift: int,
    region: np.ndarray | None = None,
) -> dict[str, Any]:
    energy = np.abs(delta).sum(0)
    if not np.isfinite(delta).all() or not energy.max() > 0:
        raise DegenerateEditError(f"edit '{name}' at layer {layer}: the difference it was "
                                  "built from is all zero or not finite")
    weights = np.ones_like(energy)
    if region is not None and (energy * region).max() > 0:
        weights = region
        energy = energy * (region > 0)
    soft = energy / energy.max()
    soft = np.where(soft >= 0.25, soft, 0.0)  # the region: where the difference lives
    scores = (np.abs(delta) * (soft > 0)).sum((1, 2))
    channels = np.sort(np.argsort(-scores, kind="stable")[:k])
    return {
        "name": name,
        "layer": layer,
        "channels": channels.tolist(),
        "pattern": (delta[channels] * soft * weights).astype(np.float32),
        "reference": off.mean(0)[channels].astype(np.float32),
        "template": np.abs(off[:, channels]).mean((0, 1)).astype(np.float32),
        "max_shift": max_shift,
        "gain": 1.0,
        "shape": list(off.shape[1:]),
    }


def edit_frames(
    G: PortraitGenerator, edit: LocalEdit, feats: torch.Tensor, skips: torch.Tensor,
    ws: torch.Tensor, targets: Sequence[float],
) -> list[np.ndarray]:
    """Images of each face at each target (0 = its off frame, 1 = on) under ``edit``, made
    the way animations make them (:meth:`LocalEdit.frame_deltas`)."""
    per_face = np.stack([edit.frame_deltas(f, targets)[0] for f in feats.numpy()])
    return [finish(G, feats, skips, ws, edit.layer, per_face[:, i]) for i in range(len(targets))]


def judge_edit(
    G: PortraitGenerator, clf: AttributeClassifier, edit: LocalEdit, head: str,
    region_px: np.ndarray, feats: torch.Tensor, skips: torch.Tensor, ws: torch.Tensor,
) -> tuple[float, float, tuple[np.ndarray, np.ndarray]]:
    """An edit on held-out faces, the way the evaluation judges it: the share of faces the
    classifier reads as off (<= 0.1) at state 0 and on (>= 0.9) at state 1, the median share
    of the pixel change inside ``region_px``, and the (off, on) images."""
    off_img, on_img = edit_frames(G, edit, feats, skips, ws, (0.0, 1.0))
    p_off = clf_mod.predict(clf, off_img)[head][:, 1]
    p_on = clf_mod.predict(clf, on_img)[head][:, 1]
    effective = float(((p_on >= 0.9) & (p_off <= 0.1)).mean())
    local = float(np.median(locality(off_img, on_img, region_px)))
    return effective, local, (off_img, on_img)


def discover_edit(
    G: PortraitGenerator, clf: AttributeClassifier, name: str, head: str, region_px: np.ndarray,
    layers: Sequence[int], seed: int = 21, direction: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Find the best (layer, channel count, gain) local edit that turns ``head`` on and off.

    With ``direction`` (the attribute vector for ``head``: name, vector, strength), each
    candidate comes from paired feature maps (:func:`build_paired_edit`); without it, from the
    faces the classifier reads as on and off (:func:`build_edit`)."""
    n, n_val = SIZES["edit_samples"], SIZES["edit_val"]
    if direction is not None:  # a paired difference needs far fewer faces than two groups
        n = min(n, 512)
    ws = sample_ws(G, n, seed, 0.8)
    on = np.zeros(0, bool)
    if direction is not None:
        push = PAIRED_PUSH * float(direction["strength"]) * torch.from_numpy(
            np.asarray(direction["vector"], np.float32)
        )
        ws_on, ws_off, ws_rest = ws + push, ws - push, ws - REST_PUSH * push
        split = f"paired: latent '{direction['name']}' x +-{PAIRED_PUSH * direction['strength']:g}"
        log(f"edit '{name}': {n} faces, each pushed both ways along the latent vector ({split})")
    else:
        log(f"edit '{name}': classifying {n} generated faces")
        on, split = _classifier_split(G, clf, ws, head, name)
    val_ws = sample_ws(G, n_val, seed + 1, 0.7)
    trials = []
    best: tuple[tuple[float, float], dict[str, Any]] | None = None
    val_sets: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # held-out faces per layer
    for layer in layers:
        f_np = prefix_features(G, ws if direction is None else ws_rest, layer)[0].numpy()
        f_on = f_off = None
        if direction is not None:
            f_off = prefix_features(G, ws_off, layer)[0].numpy()
            f_on = prefix_features(G, ws_on, layer)[0].numpy()
        val_sets[layer] = val_feats, val_skips = prefix_features(G, val_ws, layer)
        channels = f_np.shape[1]
        for k in sorted({max(2, channels // 8), max(2, channels // 4), max(2, channels // 2)}):
            try:
                if f_on is not None and f_off is not None:
                    region = soft_region(region_px, f_np.shape[-1])
                    spec = build_paired_edit(name, layer, f_off, f_on, region, k, 0, rest=f_np)
                else:
                    spec = build_edit(name, layer, f_np, on, k, max_shift=0)
            except DegenerateEditError as exc:
                log(f"  layer {layer} channels {k}: {exc}; skipped")
                continue
            for gain in (1.0, 1.5, 2.0, 3.0):
                spec["gain"] = gain
                effective, local, _ = judge_edit(
                    G, clf, LocalEdit(spec), head, region_px, val_feats, val_skips, val_ws
                )
                trial = {"layer": layer, "channels": k, "gain": gain, "effective": effective,
                         "locality": local}
                trials.append(trial)
                log(f"  layer {layer} channels {k} gain {gain}: effective {effective:.2f} "
                    f"locality {local:.2f}")
                # both targets count alike: the issue asks >= 0.9 of each
                score = (round(effective + local, 2), -gain)
                if best is None or score > best[0]:
                    best = (score, {**spec, "discovery": {**trial, "split": split}})
    if best is None:
        raise ModelError(
            f"export: every candidate of the '{name}' edit came out all zero or not finite (the "
            f"'{head}' faces could not be told apart); the model cannot animate it"
        )
    spec = best[1]
    spec["rest"] = fit_rest(G, clf, spec, head, seed + 2)
    if spec["rest"] is not None:
        val_feats, val_skips = val_sets[int(spec["layer"])]
        effective, local, _ = judge_edit(
            G, clf, LocalEdit(spec), head, region_px, val_feats, val_skips, val_ws
        )
        spec["discovery"].update(effective_with_rest=effective, locality_with_rest=local)
        log(f"  with each face's off frame: effective {effective:.2f} locality {local:.2f}")
    return spec, trials


def _read_at(
    G: PortraitGenerator, clf: AttributeClassifier, edit: LocalEdit, head: str,
    feats: torch.Tensor, skips: torch.Tensor, ws: torch.Tensor, amounts: np.ndarray,
) -> np.ndarray:
    """The classifier's P(``head``) for each face moved by its own amount along ``edit``."""
    f_np = feats.numpy()
    deltas = np.stack([edit.delta(f, float(a)) for f, a in zip(f_np, amounts, strict=True)])
    return clf_mod.predict(clf, finish(G, feats, skips, ws, edit.layer, deltas))[head][:, 1]


def fit_rest(
    G: PortraitGenerator, clf: AttributeClassifier, spec: dict[str, Any], head: str, seed: int
) -> dict[str, Any] | None:
    """How far below the edit's reference each face's off frame must sit to read as off,
    learnt as a ridge regression from the edited layer's feature map (every channel at the
    pattern's cells) to the first value of :data:`REST_GRID` at which the face reads as off.
    A face drawn with its mouth half open needs more closing than one drawn closed, and a
    single value for every face either leaves the first open or fades the second's mouth.
    None when there are too few faces to learn from."""
    n = SIZES["rest_samples"]
    n_fit = int(n * 0.8)
    if n_fit < 8 or n - n_fit < 2:
        return None
    edit = LocalEdit({**spec, "rest": None, "max_shift": 0})
    log(f"edit '{spec['name']}': learning each face's off frame from {n} faces")
    ws = sample_ws(G, n, seed, 0.7)
    feats, skips = prefix_features(G, ws, edit.layer)
    f_np = feats.numpy()
    starts = np.array([edit.state(f, (0, 0)) for f in f_np])
    grid = np.array(REST_GRID)
    reads_off = np.stack(
        [_read_at(G, clf, edit, head, feats, skips, ws, t - starts) <= OFF_READING for t in grid],
        1,
    )
    need = np.where(reads_off.any(1), grid[reads_off.argmax(1)], grid[-1])
    cells = np.argwhere(np.abs(edit.pattern).sum(0) > 0)
    x = f_np[:, :, cells[:, 0], cells[:, 1]].reshape(n, -1).astype(np.float64)
    mu, sd = x[:n_fit].mean(0), x[:n_fit].std(0) + 1e-6
    a = (x[:n_fit] - mu) / sd
    target = need[:n_fit] - need[:n_fit].mean()
    coef = np.linalg.solve(a.T @ a + REST_RIDGE * np.eye(a.shape[1]), a.T @ target)
    weights = coef / sd
    bias = float(need[:n_fit].mean() - weights @ mu)
    val = slice(n_fit, n)
    predicted = x[val] @ weights + bias
    chosen: dict[str, Any] = {}
    for margin in REST_MARGINS:
        rest = np.clip(predicted - margin, grid[-1], 0.0)
        p = _read_at(G, clf, edit, head, feats[val], skips[val], ws[val], rest - starts[val])
        chosen = {"margin": margin, "off_share": float((p <= OFF_READING).mean()),
                  "mean_rest": float(rest.mean())}
        if chosen["off_share"] >= REST_TARGET:
            break
    fixed = reads_off[val].mean(0)
    spread = predicted.std() > 0 and need[val].std() > 0
    r = float(np.corrcoef(predicted, need[val])[0, 1]) if spread else float("nan")
    log(f"  faces needing no more than the reference: {float((need == 0).mean()):.2f}; "
        f"validation: reading r = {r:.2f}, "
        f"margin {chosen['margin']:g}: {chosen['off_share']:.2f} read as off "
        f"(mean rest {chosen['mean_rest']:.3f}; one value for all: "
        + ", ".join(f"{t:g} -> {v:.2f}" for t, v in zip(grid, fixed, strict=True)) + ")")
    return {
        "cells": cells.tolist(),
        "weights": weights.reshape(len(f_np[0]), len(cells)).astype(np.float32),
        "bias": bias,
        "margin": chosen["margin"],
        "floor": float(grid[-1]),
        "validation": {
            "faces": n - n_fit,
            "off_share": chosen["off_share"],
            "mean_rest": chosen["mean_rest"],
            "fixed_off_share": {f"{t:g}": float(v) for t, v in zip(grid, fixed, strict=True)},
            "needing_none": float((need == 0).mean()),
            "reading_r": r if np.isfinite(r) else None,
        },
    }


def _classifier_split(
    G: PortraitGenerator, clf: AttributeClassifier, ws: torch.Tensor, head: str, name: str
) -> tuple[np.ndarray, str]:
    n = len(ws)
    probs = clf_mod.predict(clf, render(G, ws))[head][:, 1]
    on = probs > 0.5
    split = "p > 0.5"
    if min(on.sum(), (~on).sum()) < SIZES["edit_min_group"]:
        # a model that (almost) never draws one state: compare its likeliest half with the rest
        log(f"  only {on.sum()} of {n} faces read as on: splitting at the median reading")
        on = probs > np.median(probs)
        split = "median"
        if on.sum() == 0 or on.all():
            raise RuntimeError(f"edit '{name}': the classifier reads every face the same")
    return on, split


def serialisable(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.round(6).tolist() if isinstance(v, np.ndarray)
            else serialisable(v) if isinstance(v, dict) else v)
        for k, v in spec.items()
    }
