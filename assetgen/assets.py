"""The asset types generators return: images, animations and text.

Assets are plain containers with metadata; turning them into files is the exporters' job.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

AssetKind = str
IMAGE: AssetKind = "image"
ANIMATION: AssetKind = "animation"
TEXT: AssetKind = "text"
ASSET_KINDS = (IMAGE, ANIMATION, TEXT)


def encode_png(rgba: np.ndarray) -> bytes:
    """PNG bytes of an H×W×4 uint8 array; the same pixels always give the same bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


@dataclass(eq=False)
class ImageAsset:
    """One RGBA sprite.

    ``rgba`` is an H×W×4 ``uint8`` array with straight (not premultiplied) alpha.
    ``metadata`` records how it was made: generator, seed, options, model sha256.
    """

    rgba: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)
    kind = IMAGE

    def __post_init__(self) -> None:
        arr = np.asarray(self.rgba)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 4:
            raise TypeError(f"ImageAsset.rgba must be H×W×4 uint8, got {arr.dtype} {arr.shape}")
        self.rgba = np.ascontiguousarray(arr)

    @property
    def width(self) -> int:
        return int(self.rgba.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgba.shape[0])

    def to_png(self) -> bytes:
        return encode_png(self.rgba)


@dataclass(eq=False)
class AnimationAsset:
    """A sequence of same-sized frames played at ``fps`` frames per second."""

    frames: list[ImageAsset]
    fps: float = 12.0
    metadata: dict[str, Any] = field(default_factory=dict)
    kind = ANIMATION

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("an AnimationAsset needs at least one frame")
        sizes = {(f.width, f.height) for f in self.frames}
        if len(sizes) != 1:
            raise ValueError(f"animation frames differ in size: {sorted(sizes)}")

    @property
    def width(self) -> int:
        return self.frames[0].width

    @property
    def height(self) -> int:
        return self.frames[0].height

    @property
    def frame_duration_ms(self) -> int:
        return round(1000 / self.fps)


@dataclass(eq=False)
class TextAsset:
    """A line of text, e.g. an NPC's dialogue line, with the speaker it belongs to."""

    text: str
    speaker: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    kind = TEXT


Asset = ImageAsset | AnimationAsset | TextAsset
