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
  frame is the still with the box replaced (``max_shift`` 0 only: the box does not move).

For one character, :func:`locate` finds the shift that best lines ``template`` up with the
character's own activations in the edit channels, so the region follows the face;
:func:`state` reads how far "on" the character already is (its feature map projected on the
pattern), and :func:`delta` builds the additive edit that moves it to a target state.
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
