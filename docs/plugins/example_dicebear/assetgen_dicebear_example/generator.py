"""The ``dicebear`` generator: DiceBear avatars in any style, drawn without a model.

DiceBear (``dicebear-core``) turns a seed and a style definition (``dicebear-styles``) into
an SVG; ``resvg-py`` rasterises it. Both are pure functions of their input, so the same
seed, style and options give the same pixels, and AssetGen's seeding rule holds with no
extra work: item k of a request with seed s is DiceBear's avatar for the seed text
``str(s + k)`` (``f"{name} {s + k}"`` with the ``name`` option), the same avatar DiceBear's
own tools draw for that seed.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import metadata
from typing import Any

import numpy as np
import resvg_py
from assetgen import Generator, ImageAsset, InvalidOptionsError, Options, option
from dicebear import Avatar, ValidationError
from PIL import Image

from .style_options import PARAMETER, parse_style_options
from .styles import DEFAULT_STYLE, load_style, style_licence, style_names


class DiceBearOptions(Options):
    style: str = option(
        DEFAULT_STYLE,
        "DiceBear style; 'assetgen dicebear-styles' lists them with their licences.",
        choices=style_names(),
    )
    size: int = option(128, "Width and height in pixels.", ge=32, le=512)
    background: bool = option(
        False,
        "Keep the style's background colour; by default the avatar is on transparency "
        "(a backgroundColor in style_options always wins).",
    )
    name: str = option(
        "",
        "Text DiceBear's seed starts with, before the seed number: the initials styles draw "
        "its first letters; empty for the number alone.",
        max_length=100,
    )
    style_options: str = option(
        "",
        "The style's own DiceBear options, as in a DiceBear URL: name=value&name=a,b (or a "
        "JSON object); 'assetgen dicebear-styles STYLE' lists them.",
        max_length=4000,
    )


class DiceBearGenerator(Generator):
    id = "dicebear"
    kind = "image"
    description = "DiceBear avatars in any of its styles (procedural; licence in metadata)"
    Options = DiceBearOptions

    def validate(self, options: DiceBearOptions) -> None:
        parse_style_options(options.style, options.style_options)

    def generate(self, seed: int, options: DiceBearOptions) -> ImageAsset:
        settings = dicebear_settings(seed, options)
        try:
            svg = Avatar(load_style(options.style), settings).to_string()
        except ValidationError as exc:  # a value DiceBear's own schema refuses
            raise InvalidOptionsError(f"option '{PARAMETER}': {exc}", parameter=PARAMETER) from None
        return ImageAsset(
            rasterise(svg, options.size),
            metadata={
                "licence": style_licence(options.style).to_dict(),
                "dicebear": {"style": options.style, "seed": settings["seed"], **versions()},
            },
        )


def dicebear_settings(seed: int, options: DiceBearOptions) -> dict[str, Any]:
    """Everything DiceBear is told for one avatar."""
    settings: dict[str, Any] = {"seed": f"{options.name} {seed}" if options.name else str(seed)}
    if not options.background:
        settings["backgroundColor"] = []  # none: the avatar sits on transparency
    settings.update(parse_style_options(options.style, options.style_options))
    return settings


def rasterise(svg: str, size: int) -> np.ndarray:
    """``size`` x ``size`` RGBA pixels of an SVG."""
    png = resvg_py.svg_to_bytes(
        svg_string=svg,
        width=size,
        height=size,
        # Loading the system's fonts is slow, and they differ between machines; only the
        # styles that write letters (initials, initial-face) need them.
        skip_system_fonts="<text" not in svg,
    )
    with Image.open(io.BytesIO(bytes(png))) as img:
        return np.asarray(img.convert("RGBA"), dtype=np.uint8)


@cache
def versions() -> dict[str, str]:
    """Recorded in each avatar's metadata: a new release of a style may redraw it."""
    return {
        "dicebear_core": metadata.version("dicebear-core"),
        "dicebear_styles": metadata.version("dicebear-styles"),
    }
