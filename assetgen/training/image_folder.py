"""Training on your own art: a plain folder of images, prepared the same way every time.

``assetgen train portraits --data MY_FOLDER`` (and ``shoes``) reads every ``.png`` (also
``.jpg``/``.jpeg``/``.webp``) in the folder and its sub-folders, in sorted path order, and
prepares each one by these rules (docs/training.md, "Your own art"):

1. Converted to RGBA. An image with no alpha channel is treated as fully opaque.
2. An image with transparency is cropped to the bounding box of its visible pixels
   (alpha > 0), then padded with transparent pixels to a centred square with a margin of
   1/16 of the side on every edge, so sprites of any size and framing line up.
3. A fully opaque image is centre-cropped to a square (the shorter side), its background kept.
4. Resized to the model's resolution (64 x 64) with a Lanczos filter on premultiplied
   colour, so no dark or light fringe appears along transparent edges.

An optional ``labels.csv`` in the folder gives labels: a ``file`` column (the path relative
to the folder, with ``/``) and one column per label (``type`` for shoes). Every image must
have a row; an image without one is an error, not a silent guess.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidOptionsError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
LABELS_FILE = "labels.csv"
MIN_IMAGES = 8
MAX_IMAGES = 500_000
MIN_SIDE = 8


@dataclass
class ImageFolder:
    """Prepared images (uint8 N x size x size x 4), their relative paths, and labels."""

    folder: Path
    images: np.ndarray
    files: list[str]
    labels: dict[str, list[str]]


def is_image_folder(path: Path) -> bool:
    """True for a folder holding images directly or in sub-folders."""
    return path.is_dir() and any(_image_files(path))


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def prepare(image: object, size: int) -> np.ndarray:
    """One PIL image -> uint8 size x size x 4, by the module's rules."""
    from PIL import Image

    assert isinstance(image, Image.Image)
    rgba = image.convert("RGBA")
    alpha = np.asarray(rgba)[..., 3]
    if (alpha < 255).any():
        box = rgba.getchannel("A").point(lambda a: 255 if a > 0 else 0).getbbox()
        if box is None:
            raise ValueError("every pixel is fully transparent")
        rgba = rgba.crop(box)
        side = max(rgba.size)
        margin = max(1, side // 16)
        canvas = Image.new("RGBA", (side + 2 * margin,) * 2, (0, 0, 0, 0))
        canvas.paste(rgba, ((canvas.width - rgba.width) // 2, (canvas.height - rgba.height) // 2))
        rgba = canvas
    else:
        side = min(rgba.size)
        left, top = (rgba.width - side) // 2, (rgba.height - side) // 2
        rgba = rgba.crop((left, top, left + side, top + side))
    # premultiplied resize: transparent pixels' colours cannot bleed into the edge
    pre = rgba.convert("RGBa").resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(pre.convert("RGBA"), dtype=np.uint8).copy()


def load_image_folder(folder: Path, size: int = 64, *, progress: bool = True) -> ImageFolder:
    """Read and prepare every image under ``folder``; errors name the file and the rule."""
    from PIL import Image, UnidentifiedImageError

    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidOptionsError(f"--data: {folder} is not a folder", parameter="--data")
    files = _image_files(folder)
    if not MIN_IMAGES <= len(files) <= MAX_IMAGES:
        raise InvalidOptionsError(
            f"--data: {folder} holds {len(files)} images ({', '.join(IMAGE_SUFFIXES)}); "
            f"training needs {MIN_IMAGES} to {MAX_IMAGES}",
            parameter="--data",
        )
    images = np.empty((len(files), size, size, 4), np.uint8)
    names = [p.relative_to(folder).as_posix() for p in files]
    for i, path in enumerate(files):
        try:
            with Image.open(path) as img:
                if min(img.size) < MIN_SIDE:
                    raise ValueError(f"it is {img.width}x{img.height}; the minimum is {MIN_SIDE}")
                images[i] = prepare(img, size)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
            raise InvalidOptionsError(
                f"--data: {path} cannot be used: {exc}", parameter="--data"
            ) from None
        if progress and (i + 1) % 1000 == 0:
            print(f"prepared {i + 1}/{len(files)} images", flush=True)
    return ImageFolder(folder, images, names, _labels(folder, names))


def _labels(folder: Path, names: list[str]) -> dict[str, list[str]]:
    path = folder / LABELS_FILE
    if not path.is_file():
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            columns = [c for c in (reader.fieldnames or []) if c != "file"]
            if "file" not in (reader.fieldnames or []) or not columns:
                raise ValueError("it needs a 'file' column and at least one label column")
            rows = {row["file"]: row for row in reader}
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        raise InvalidOptionsError(f"--data: {path}: {exc}", parameter="--data") from None
    missing = [n for n in names if n not in rows]
    if missing:
        raise InvalidOptionsError(
            f"--data: {path} has no row for {len(missing)} image(s), e.g. {missing[0]!r}; "
            "label every image or remove the labels file",
            parameter="--data",
        )
    labels = {c: [(rows[n][c] or "").strip() for n in names] for c in columns}
    for column, values in labels.items():
        if any(v == "" for v in values):
            first = names[values.index("")]
            raise InvalidOptionsError(
                f"--data: {path}: column '{column}' is empty for {first!r}", parameter="--data"
            )
    return labels
