"""Local feature-map edits (numpy only: the runtime, discovery and evaluation share it).

An edit, as found by ``assetgen_portraits.edits`` and shipped in the model's manifest, is:

- ``layer``: the synthesis layer whose output feature map is edited;
- ``channels``: the few channels that change;
- ``pattern`` (channels x H x W): what to add to those channels to go from the "off" state
  (mouth closed, eyes open) to the "on" state, already confined to a soft spatial region;
- ``reference`` (channels x H x W): the mean "off" feature map in those channels, and
  ``template`` (H x W): where those channels are active on an average face;
- ``max_shift``: how far (in feature cells) the region may move to follow a face;
- ``window`` (optional): ``crop`` (y0, y1, x0, x1 in cells of the map), ``paste`` (the same in
  output pixels) and ``graph``, a suffix graph for that crop alone: the edit changes only the
  ``paste`` box of the image, and the graph computes that box exactly from the crop, so a
  frame is the still with the box replaced (``max_shift`` 0 only: the box does not move);
- ``rest`` (optional): a linear reading of the feature map (``weights`` over every channel at
  ``cells``, plus ``bias``) that predicts how far below the reference a character's "off"
  frame must sit to read as off (a face drawn with its mouth half open needs more closing than
  one drawn closed), less ``margin``, no lower than ``floor`` (``max_shift`` 0 only).

For one character, :func:`locate` finds the shift that best lines ``template`` up with the
character's own activations in the edit channels, so the region follows the face;
:func:`state` reads how far "on" the character already is (its feature map projected on the
pattern), :func:`rest_state` where its "off" frame sits, and :func:`frame_deltas` builds the
additive edits that take it through an openness curve (0 = off, 1 = on).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LocalEdit:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.name = str(spec["name"])
        self.layer = int(spec["layer"])
        self.channels = np.asarray(spec["channels"], dtype=np.int64)
        self.pattern = np.asarray(spec["pattern"], dtype=np.float32)
        self.reference = np.asarray(spec["reference"], dtype=np.float32)
        self.template = np.asarray(spec["template"], dtype=np.float32)
        self.max_shift = int(spec.get("max_shift", 1))
        self.gain = float(spec.get("gain", 1.0))
        self.shape = tuple(int(s) for s in spec["shape"])  # C, H, W of the whole feature map
        window = spec.get("window") if self.max_shift == 0 else None
        self.window: dict[str, Any] | None = dict(window) if window else None
        rest = spec.get("rest") if self.max_shift == 0 else None
        self.rest: dict[str, Any] | None = None
        if rest:
            self.rest = {
                "cells": np.asarray(rest["cells"], dtype=np.int64).reshape(-1, 2),
                "weights": np.asarray(rest["weights"], dtype=np.float64),
                "bias": float(rest["bias"]),
                "margin": float(rest["margin"]),
                "floor": float(rest["floor"]),
            }

    def locate(self, features: np.ndarray) -> tuple[int, int]:
        """(dy, dx) that best aligns the template with this character's edit channels."""
        if self.max_shift == 0:
            return 0, 0
        act = np.abs(features[self.channels]).sum(0)
        act = act - act.mean()
        best, best_score = (0, 0), -np.inf
        for dy in range(-self.max_shift, self.max_shift + 1):
            for dx in range(-self.max_shift, self.max_shift + 1):
                t = shift(self.template, dy, dx)
                score = float((act * (t - t.mean())).sum())
                # prefer no shift on ties, then the smallest one: stable and deterministic
                score -= 1e-6 * (abs(dy) + abs(dx))
                if score > best_score:
                    best, best_score = (dy, dx), score
        return best

    def state(self, features: np.ndarray, where: tuple[int, int] | None = None) -> float:
        """How "on" the character is: 0 like the average off state, 1 like pattern + it."""
        dy, dx = where if where is not None else self.locate(features)
        p = shift(self.pattern, dy, dx)
        ref = shift(self.reference, dy, dx)
        mask = shift(np.ones_like(self.template), dy, dx) > 0
        diff = (features[self.channels] - ref) * mask
        denom = float((p * p).sum())
        return float(np.clip((diff * p).sum() / denom, 0.0, 1.0)) if denom > 0 else 0.0

    def rest_state(self, features: np.ndarray) -> float:
        """Where this character's "off" frame sits on the state scale: 0 (the reference) for
        an edit without a ``rest`` reading, else the reading less its margin, in [floor, 0]."""
        if self.rest is None:
            return 0.0
        ys, xs = self.rest["cells"].T
        x = features[:, ys, xs].astype(np.float64)  # every channel at the cells
        need = float((x * self.rest["weights"]).sum()) + self.rest["bias"] - self.rest["margin"]
        return float(np.clip(need, self.rest["floor"], 0.0))

    def frame_deltas(
        self, features: np.ndarray, curve: Any, strength: float = 1.0
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """The additive edits (N x C x H x W) that take one character through ``curve``
        (values in [0, 1]: 0 = its "off" frame, at :func:`rest_state`; 1 = "on"), scaled by
        ``strength``, and what they were made from (``shift``, ``start``, ``rest``). A value
        whose state is the character's own gives a zero delta, and strength 0 gives zeros."""
        where = self.locate(features)
        start = self.state(features, where)
        rest = self.rest_state(features)
        amounts = [
            strength * (rest + float(t) * (1.0 - rest) - start) if strength else 0.0
            for t in curve
        ]
        deltas = np.stack([self.delta(features, a, where) for a in amounts])
        return deltas, {"shift": where, "start": start, "rest": rest}

    def delta(self, features: np.ndarray, amount: float, where: tuple[int, int] | None = None):
        """The full C x H x W additive edit: ``amount`` x gain x the (shifted) pattern."""
        out = np.zeros(self.shape, dtype=np.float32)
        if amount == 0.0:
            return out
        dy, dx = where if where is not None else self.locate(features)
        out[self.channels] = np.float32(amount * self.gain) * shift(self.pattern, dy, dx)
        return out

    def region(self, where: tuple[int, int] = (0, 0), threshold: float = 0.2) -> np.ndarray:
        """The edit's region (H x W bool) at feature resolution: where the pattern acts."""
        energy = np.abs(shift(self.pattern, *where)).sum(0)
        return np.asarray(energy >= threshold * energy.max())


def shift(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Shift the last two axes by (dy, dx), filling with zeros (no wrap-around)."""
    if dy == 0 and dx == 0:
        return a
    out = np.zeros_like(a)
    h, w = a.shape[-2:]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = a[..., ys, xs]
    return out
