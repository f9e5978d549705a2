"""Image exporters: one PNG per image, sprite sheets with a frame table, GIF previews."""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from assetgen import (
    ANIMATION,
    IMAGE,
    AnimationAsset,
    Asset,
    Exporter,
    ImageAsset,
    InvalidOptionsError,
    OutputFile,
    check_int,
    encode_png,
    show_value,
)


class PngExporter(Exporter):
    """``<stem>.png`` per image; an animation gives ``<stem>_000.png``, ``<stem>_001.png``..."""

    id = "png"
    description = "one PNG file per image (animations: one per frame)"
    accepts = (IMAGE, ANIMATION)
    per_asset = True

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        (asset,) = assets
        if isinstance(asset, AnimationAsset):
            return [
                OutputFile(f"{stem}_{i:03d}.png", encode_png(frame.rgba))
                for i, frame in enumerate(asset.frames)
            ]
        assert isinstance(asset, ImageAsset)
        return [OutputFile(f"{stem}.png", asset.to_png())]


#: Named pivots, as fractions of the frame: x from the left edge, y from the top edge (image
#: coordinates, like every rect in the frame table). The names are Unity's sprite alignments.
PIVOTS: dict[str, tuple[float, float]] = {
    "center": (0.5, 0.5),
    "top-left": (0.0, 0.0),
    "top-center": (0.5, 0.0),
    "top-right": (1.0, 0.0),
    "left-center": (0.0, 0.5),
    "right-center": (1.0, 0.5),
    "bottom-left": (0.0, 1.0),
    "bottom-center": (0.5, 1.0),
    "bottom-right": (1.0, 1.0),
}
#: Most pixels of extruded border around each frame.
MAX_PADDING = 64


def check_pivot(pivot: Any) -> tuple[float, float]:
    """``pivot`` as an (x, y) pair of fractions: a name of :data:`PIVOTS`, or two numbers from
    0 to 1 (x from the left, y from the top); otherwise an :class:`InvalidOptionsError`."""
    if isinstance(pivot, str) and pivot in PIVOTS:
        return PIVOTS[pivot]
    if (
        isinstance(pivot, (tuple, list))
        and len(pivot) == 2
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0
            for v in pivot
        )
    ):
        return float(pivot[0]), float(pivot[1])
    raise InvalidOptionsError(
        "pivot must be one of " + ", ".join(PIVOTS) + " or an (x, y) pair of numbers from 0 "
        f"to 1 (x from the left, y from the top); got {show_value(pivot)}",
        parameter="pivot",
        value=pivot,
    )


class SheetExporter(Exporter):
    """A sprite sheet PNG plus a JSON frame table in Aseprite's ``--format json-array`` layout.

    Every image (or animation frame) of the request is packed into one grid, row by row, each
    frame surrounded by ``padding`` pixels of its own border pixels repeated outwards
    (extruded), so texture filtering and mipmaps never pull in a neighbour's pixels. Frames
    are named like files (``portraits_7_talk_0.png``, Aseprite and TexturePacker style), carry
    a ``pivot``, and ``meta.frameTags`` names each animation's frame range after the
    animation (``talk``, ``blink``...). Images keep their own size; cells are the size of the
    largest. An animation whose frames have names (``metadata["frame_names"]``, e.g. the mouth
    shapes A-H and X of a portrait's ``mouths`` animation) names its frames after them and tags
    each one. docs/plugins/exporters.md describes every field.

    ``padding`` (0 to 64, default 2) and ``pivot`` (default ``"center"``) are keywords of the
    constructor: the engine creates the exporter with the defaults; the command line's
    ``--padding`` / ``--pivot`` remake it with the values given (assetgen/cli.py), and the
    Python API can render with others,
    ``SheetExporter(padding=0, pivot="bottom-center").render(assets, stem)``.
    """

    id = "sheet"
    description = "sprite sheet PNG + JSON frame table (Aseprite json-array layout, padded)"
    accepts = (IMAGE, ANIMATION)
    per_asset = False

    def __init__(self, *, padding: int = 2, pivot: str | tuple[float, float] = "center") -> None:
        self.padding = check_int("padding", padding, 0, MAX_PADDING)
        self.pivot = check_pivot(pivot)

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        entries: list[tuple[str, ImageAsset, int]] = []
        tags: list[dict[str, Any]] = []
        for asset in assets:
            prefix = f"{asset.metadata.get('generator', 'asset')}_{asset.metadata.get('seed', 0)}"
            if not isinstance(asset, AnimationAsset):
                assert isinstance(asset, ImageAsset)
                entries.append((f"{prefix}.png", asset, 100))
                continue
            animation = _animation_name(asset)
            # one animation: its tag is the animation's name; several: each under its asset
            tag = animation if len(assets) == 1 else f"{prefix}_{animation}"
            names = _frame_names(asset)
            start = len(entries)
            entries += [
                (
                    f"{prefix}_{animation}_{names[i] if names else i}.png",
                    frame,
                    asset.frame_duration_ms,
                )
                for i, frame in enumerate(asset.frames)
            ]
            tags.append(_tag(tag, start, len(entries) - 1))
            # named frames (a talking head's mouth shapes A-H, X) get a tag each: the name
            # alone when the sheet holds one animation, else under the animation's tag
            tags += [
                _tag(name if len(assets) == 1 else f"{tag}/{name}", start + i, start + i)
                for i, name in enumerate(names)
            ]
        pad = self.padding
        cell_w = max(e[1].width for e in entries) + 2 * pad
        cell_h = max(e[1].height for e in entries) + 2 * pad
        columns = math.ceil(math.sqrt(len(entries)))
        if len(assets) == 1 and isinstance(assets[0], AnimationAsset) and len(entries) <= 16:
            columns = len(entries)  # a short animation reads best as one strip
        rows = math.ceil(len(entries) / columns)
        sheet = np.zeros((rows * cell_h, columns * cell_w, 4), dtype=np.uint8)
        pivot = {"x": self.pivot[0], "y": self.pivot[1]}
        frames_json = []
        for i, (name, frame, duration) in enumerate(entries):
            x, y = (i % columns) * cell_w, (i // columns) * cell_h
            extruded = np.pad(frame.rgba, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
            sheet[y : y + extruded.shape[0], x : x + extruded.shape[1]] = extruded
            w, h = frame.width, frame.height
            frames_json.append(
                {
                    "filename": name,
                    "frame": {"x": x + pad, "y": y + pad, "w": w, "h": h},
                    "rotated": False,
                    "trimmed": False,
                    "spriteSourceSize": {"x": 0, "y": 0, "w": w, "h": h},
                    "sourceSize": {"w": w, "h": h},
                    "pivot": dict(pivot),
                    "duration": duration,
                }
            )
        meta = {
            "app": "assetgen",
            "version": str(assets[0].metadata.get("assetgen_version", "")),
            "image": f"{stem}.png",
            "format": "RGBA8888",
            "size": {"w": int(sheet.shape[1]), "h": int(sheet.shape[0])},
            "scale": "1",
            "padding": pad,
            "frameTags": tags,
            "source": [_source(a) for a in assets],
        }
        table = json.dumps({"frames": frames_json, "meta": meta}, indent=1, sort_keys=False)
        return [
            OutputFile(f"{stem}.png", encode_png(sheet)),
            OutputFile(f"{stem}.json", (table + "\n").encode("utf-8")),
        ]


def _tag(name: str, first: int, last: int) -> dict[str, Any]:
    return {"name": name, "from": first, "to": last, "direction": "forward"}


def _animation_name(asset: AnimationAsset) -> str:
    """The animation's name from its metadata (``talk``, ``blink``, ``mouths``,
    ``interpolate``...), made safe for a file name; ``animation`` when the generator gave
    none."""
    name = asset.metadata.get("animation")
    if isinstance(name, str):
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40]
    return name or "animation"


def _frame_names(asset: AnimationAsset) -> list[str]:
    """The animation's per-frame names (``metadata["frame_names"]``), when it has one unique
    name per frame."""
    names = asset.metadata.get("frame_names")
    if (
        isinstance(names, list)
        and len(names) == len(asset.frames)
        and all(isinstance(n, str) and n for n in names)
        and len(set(names)) == len(names)
    ):
        return names
    return []


def _source(asset: Asset) -> dict[str, Any]:
    keys = ("generator", "seed", "options", "model_sha256")
    return {k: asset.metadata.get(k) for k in keys}


class GifExporter(Exporter):
    """An animated GIF preview (transparent background, loops forever)."""

    id = "gif"
    description = "animated GIF preview of an animation"
    accepts = (ANIMATION,)
    per_asset = True

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        (anim,) = assets
        assert isinstance(anim, AnimationAsset)
        images = [_gif_frame(f.rgba) for f in anim.frames]
        buf = io.BytesIO()
        images[0].save(
            buf,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=anim.frame_duration_ms,
            loop=0,
            disposal=2,
            transparency=255,
            optimize=False,
        )
        return [OutputFile(f"{stem}.gif", buf.getvalue())]


def _gif_frame(rgba: np.ndarray) -> Image.Image:
    """Quantise to 255 colours and reserve index 255 for fully transparent pixels.

    GIF has 1-bit transparency; pixels under half opacity become transparent.
    """
    rgb = Image.fromarray(np.ascontiguousarray(rgba[..., :3]), mode="RGB")
    pal = rgb.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    indices = np.array(pal, dtype=np.uint8)
    indices[rgba[..., 3] < 128] = 255
    out = Image.fromarray(indices, mode="P")
    palette = pal.getpalette() or []
    palette = (palette + [0] * 768)[:765] + [0, 0, 0]
    out.putpalette(palette)
    out.info["transparency"] = 255
    return out
