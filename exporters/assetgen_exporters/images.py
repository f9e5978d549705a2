"""Image exporters: one PNG per image, sprite sheets with a frame table, GIF previews."""

from __future__ import annotations

import io
import json
import math
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
    OutputFile,
    encode_png,
)


def _frames(asset: Asset) -> list[ImageAsset]:
    return list(asset.frames) if isinstance(asset, AnimationAsset) else [asset]  # type: ignore[list-item]


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


class SheetExporter(Exporter):
    """A sprite sheet PNG plus a JSON frame table in the Aseprite "array" layout.

    Every image (or animation frame) of the request is packed into one grid, row by row.
    The JSON lists each frame's rect and duration, and ``meta.frameTags`` names the frame range
    of each animation, so Aseprite importers, TexturePacker readers and Unity scripts can slice
    it. Images keep their own size; cells are the size of the largest. An animation whose
    frames have names (``metadata["frame_names"]``, e.g. the mouth shapes A-H and X of a
    portrait's ``mouths`` animation) names its frames after them and tags each one.
    """

    id = "sheet"
    description = "sprite sheet PNG + JSON frame table (Aseprite/TexturePacker 'frames' layout)"
    accepts = (IMAGE, ANIMATION)
    per_asset = False

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        entries: list[tuple[str, ImageAsset, int]] = []
        tags: list[dict[str, Any]] = []
        for asset in assets:
            seed = asset.metadata.get("seed", 0)
            frames = _frames(asset)
            if isinstance(asset, AnimationAsset):
                start = len(entries)
                tag = f"{asset.metadata.get('generator', 'anim')}_{seed}"
                names = _frame_names(asset)
                entries += [
                    (f"{tag}_{names[i] if names else f'{i:03d}'}", f, asset.frame_duration_ms)
                    for i, f in enumerate(frames)
                ]
                tags.append(
                    {"name": tag, "from": start, "to": len(entries) - 1, "direction": "forward"}
                )
                # named frames (a talking head's mouth shapes A-H, X) get a tag each: the
                # name alone when the sheet holds one animation, else under the animation's
                for i, name in enumerate(names):
                    tags.append(
                        {
                            "name": name if len(assets) == 1 else f"{tag}/{name}",
                            "from": start + i,
                            "to": start + i,
                            "direction": "forward",
                        }
                    )
            else:
                entries.append(
                    (f"{asset.metadata.get('generator', 'image')}_{seed}", frames[0], 100)
                )
        cell_w = max(e[1].width for e in entries)
        cell_h = max(e[1].height for e in entries)
        columns = math.ceil(math.sqrt(len(entries)))
        if len(assets) == 1 and isinstance(assets[0], AnimationAsset) and len(entries) <= 16:
            columns = len(entries)  # a short animation reads best as one strip
        rows = math.ceil(len(entries) / columns)
        sheet = np.zeros((rows * cell_h, columns * cell_w, 4), dtype=np.uint8)
        frames_json = []
        for i, (name, frame, duration) in enumerate(entries):
            x, y = (i % columns) * cell_w, (i // columns) * cell_h
            sheet[y : y + frame.height, x : x + frame.width] = frame.rgba
            rect = {"x": x, "y": y, "w": frame.width, "h": frame.height}
            frames_json.append(
                {
                    "filename": name,
                    "frame": rect,
                    "rotated": False,
                    "trimmed": False,
                    "spriteSourceSize": {"x": 0, "y": 0, "w": frame.width, "h": frame.height},
                    "sourceSize": {"w": frame.width, "h": frame.height},
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
            "frameTags": tags,
            "source": [_source(a) for a in assets],
        }
        table = json.dumps({"frames": frames_json, "meta": meta}, indent=1, sort_keys=False)
        return [
            OutputFile(f"{stem}.png", encode_png(sheet)),
            OutputFile(f"{stem}.json", (table + "\n").encode("utf-8")),
        ]


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
