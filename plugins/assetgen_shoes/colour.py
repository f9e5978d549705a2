"""Hue rotation that keeps luminance, so a recoloured icon stays as readable as the original.

Rotating chroma in YIQ space leaves Y (luma) unchanged. Used by the runtime colour options and
by the training data pipeline (recolouring real icons), so both agree exactly.
"""

from __future__ import annotations

import math

import numpy as np

_RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], dtype=np.float64
)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ)


def colour_matrix(hue_degrees: float, saturation: float = 1.0) -> np.ndarray:
    """3×3 matrix M so that rgb' = M @ rgb rotates hue and scales saturation, luma fixed."""
    theta = math.radians(hue_degrees)
    c, s = math.cos(theta) * saturation, math.sin(theta) * saturation
    rotate = np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)
    return (_YIQ_TO_RGB @ rotate @ _RGB_TO_YIQ).astype(np.float32)


def recolour(rgba: np.ndarray, hue_degrees: float, saturation: float = 1.0) -> np.ndarray:
    """Apply :func:`colour_matrix` to uint8 N×H×W×4 (or H×W×4) images; alpha untouched."""
    if hue_degrees == 0 and saturation == 1:
        return rgba
    m = colour_matrix(hue_degrees, saturation)
    rgb = rgba[..., :3].astype(np.float32) @ m.T
    out = rgba.copy()
    out[..., :3] = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    return out
