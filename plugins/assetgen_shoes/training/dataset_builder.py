"""Build the shoes training set from footwear icons in npm Iconify icon sets.

No package registry ships shoe photos, but several permissively licensed npm icon sets contain
hand-drawn footwear (emoji sets in colour, game-icons as silhouettes). This module installs
those packages into a cache folder with npm, picks the footwear drawings by icon name, checks
every set's licence (share-alike, non-commercial and no-derivatives licences are refused), and
renders each drawing to a 64x64 RGBA PNG with a transparent background, scaled to fill the
frame with a small margin so that all samples share one scale.

Outputs in ``out_dir`` (written into a temporary sibling folder, then swapped in, so a failed
or interrupted build never leaves a half-written data set):

- ``<source>__<icon>.png``: one 64x64 RGBA image per drawing;
- ``labels.csv``: file, footwear type, type id, source set, icon name, licence, recolouring;
- ``LICENSES.md``: every source set with version, licence, attribution and its files;
- ``shoes_64.npz``: uint8 images (N, 64, 64, 4), int64 type and source ids, and their names.

Run: ``python -m assetgen_shoes.training.dataset_builder --out plugins/assetgen_shoes/data``
(``python -m assetgen_shoes.dataset``, the model card's command, forwards here).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from assetgen.training import replace_dir

IMAGE_SIZE = 64
# Margin (pixels, each side) left around the drawing's bounding box in the 64x64 frame, so
# augmentations such as small shifts do not push the shoe off the canvas.
MARGIN_PX = 3
# Size of the first, measuring render; large enough that the 1-pixel padding we add around the
# measured box is far below one output pixel, so nothing gets clipped.
MEASURE_SIZE = 512

# Footwear types, in id order. The ids are stored in the .npz; append new types at the end
# so existing ids keep their meaning.
FOOTWEAR_TYPES: tuple[str, ...] = (
    "boot",
    "hiking_boot",
    "sneaker",
    "dress_shoe",
    "high_heel",
    "flat_shoe",
    "ballet_shoe",
    "sandal",
    "flip_flop",
    "slipper",
    "clog",
    "ice_skate",
    "roller_skate",
)


@dataclass(frozen=True)
class SourceSpec:
    """One npm icon package. Versions are pinned so that a rebuild gives the same data set."""

    package: str
    version: str
    # Fill colour for drawings that use ``currentColor`` (monochrome silhouettes); None keeps
    # the drawing's own colours. Without it resvg paints currentColor black, which is nearly
    # invisible on a transparent background in most viewers and carries no colour to learn.
    fill: str | None = None
    # Extra attribution note for LICENSES.md, where the package's own credit is not the whole
    # story.
    note: str = ""

    @property
    def prefix(self) -> str:
        return self.package.split("/", 1)[1]


# game-icons are single-colour silhouettes: a mid leather brown reads as "shoe" and stays
# visible on both light and dark backgrounds.
GAME_ICONS_FILL = "#7b4f2c"

SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("@iconify-json/emojione", "1.2.3"),
    SourceSpec("@iconify-json/fluent-emoji", "1.2.7"),
    SourceSpec("@iconify-json/fluent-emoji-flat", "1.2.6"),
    SourceSpec("@iconify-json/fxemoji", "1.2.2"),
    SourceSpec(
        "@iconify-json/game-icons",
        "1.2.4",
        fill=GAME_ICONS_FILL,
        note=(
            "the package credits the collective 'GameIcons' only; each icon's individual"
            " author is named on https://game-icons.net (CC BY 3.0 asks to credit them)"
        ),
    ),
    SourceSpec("@iconify-json/noto", "1.2.9"),
    SourceSpec("@iconify-json/streamline-emojis", "1.2.4"),
    SourceSpec("@iconify-json/twemoji", "1.2.5"),
)

# Icon name -> footwear type. An explicit table rather than a pattern, because names such as
# "stiletto" (a dagger in game-icons) or "horseshoe" would fool any pattern; the same name means
# the same thing in every set listed here, so one table serves all of them.
ICON_TYPES: dict[str, str] = {
    # Unicode footwear emoji (noto, twemoji, fluent, emojione, streamline names).
    "mans-shoe": "dress_shoe",
    "running-shoe": "sneaker",
    "high-heeled-shoe": "high_heel",
    "womans-sandal": "sandal",
    "womans-boot": "boot",
    "hiking-boot": "hiking_boot",
    "flat-shoe": "flat_shoe",
    "ballet-shoes": "ballet_shoe",
    "thong-sandal": "flip_flop",
    "ice-skate": "ice_skate",
    "roller-skate": "roller_skate",
    # fxemoji spells the same emoji without separators.
    "mensshoe": "dress_shoe",
    "heels": "high_heel",
    "sandals": "sandal",
    "boot": "boot",
    "mensrunner": "sneaker",  # fxemoji's name for U+1F45F athletic shoe
    # game-icons.
    "ballerina-shoes": "ballet_shoe",
    "boots": "boot",
    "chelsea-boot": "boot",
    "cowboy-boot": "boot",
    "fur-boot": "boot",
    "leather-boot": "boot",
    "metal-boot": "boot",
    "rubber-boot": "boot",
    "ski-boot": "boot",
    "steeltoe-boots": "boot",
    "tabi-boot": "boot",
    "walking-boot": "hiking_boot",
    "converse-shoe": "sneaker",
    "sonic-shoes": "sneaker",
    "high-heel": "high_heel",
    "sandal": "sandal",
    "flip-flops": "flip_flop",
    "slippers": "slipper",
    "wooden-clogs": "clog",
}

# Names that look like footwear but are not (or are not a clean drawing of a shoe, or are left
# out on purpose, with the reason). Listed so that the keyword scan below can tell "looked at
# and rejected" from "new, never looked at".
EXCLUDED_ICONS: dict[str, str] = {
    "horseshoe": "horse shoe, not footwear",
    "shoe-prints": "footprints, not footwear",
    "boot-prints": "footprints, not footwear",
    "footprint": "footprint, not footwear",
    "footprints": "footprints, not footwear",
    "footsteps": "footprints, not footwear",
    "paw-prints": "animal footprints",
    "stiletto": "game-icons 'stiletto' is a dagger",
    "cement-shoes": "a person standing in a bucket of cement",
    "sticky-boot": "boot stuck in a splash of goo; the goo dominates the drawing",
    "boot-stomp": "boot with an impact burst; an action effect, not an item",
    "boot-kick": "a kicking leg with an impact burst",
    "skiandskiboot": "skis on a snow slope with a boot in them; a scene, not an item",
    "skis": "skis, not footwear",
    "socks": "socks, not footwear",
    "greaves": "leg armour, not footwear",
    "leg-armor": "leg armour, not footwear",
    "wingfoot": "a winged foot",
    "winged-leg": "a winged leg",
    "achilles-heel": "a bare foot with an arrow",
    "barefoot": "bare feet",
    "foot": "bare foot",
    "ballet-dancer": "a person, not footwear",
    "shoebill-stork": "a bird",
    "skateboard": "a skateboard, not footwear",
    "swimfins": "swim fins, diving gear rather than footwear",
    "tread": "a shoe sole seen from below, mid-step; an action icon, not a side view",
    # Footwear, but left out of training: with it, 'slipper' had two drawings with nothing in
    # common (two plain soles; two rabbit faces), and the generator drew fragments of both.
    # Measured by training with and without it (plugins/assetgen_shoes/model/MODEL_CARD.md).
    "bunny-slippers": "slippers with rabbit faces; unlike the type's other drawing, see above",
}

# Words that suggest footwear; any icon whose name contains one and is neither selected nor
# excluded above is reported, so a new package version with new shoes does not go unnoticed.
FOOTWEAR_WORDS = re.compile(
    r"shoe|boot|sneaker|heel|sandal|flip-?flop|ballet|ballerina|skate|clog|slipper|loafer"
    r"|moccasin|espadrille|galosh|sabot|(^|-)geta($|-)|footwear|trainer|runner|stiletto|swim-?fins?"
)
# Names that contain a footwear word by accident (heel/skate/... inside other words) or are
# skin-tone and person variants; checked before reporting an unknown candidate.
NOT_FOOTWEAR_WORDS = re.compile(
    r"wheel|skateboard|dancer|person|^man-|^woman-|bootstrap|reboot|booth|mail-?box"
)

# Licences accepted for art that is shipped inside the repository and used to train models
# whose outputs are shipped too. Everything here only asks for attribution.
ALLOWED_LICENSES = frozenset({"MIT", "Apache-2.0", "CC-BY-3.0", "CC-BY-4.0", "CC0-1.0", "ISC"})
# Licence markers refused outright: share-alike would bind the generated assets, NC forbids
# commercial games, ND forbids the rendering/recolouring we do.
REFUSED_LICENSE_MARKERS = re.compile(r"(^|[-_ ])(SA|NC|ND)([-_ ]|$)|share-?alike", re.IGNORECASE)


class DatasetBuildError(RuntimeError):
    """A build step failed in a way the user must fix (npm missing, install failed...)."""


@dataclass(frozen=True)
class SourceInfo:
    """What we read from an installed package: its set, licence and attribution."""

    spec: SourceSpec
    installed_version: str
    name: str
    license_title: str
    license_spdx: str
    license_url: str
    author_name: str
    author_url: str
    icons: dict[str, Any]


@dataclass(frozen=True)
class Drawing:
    """One selected footwear drawing."""

    source: SourceInfo
    icon: str
    footwear_type: str

    @property
    def filename(self) -> str:
        return f"{self.source.spec.prefix}__{self.icon}.png"


def _log(progress: bool, message: str) -> None:
    if progress:
        print(message, flush=True)


# --------------------------------------------------------------------------------------------
# npm


def install_packages(cache_dir: Path, sources: Sequence[SourceSpec], progress: bool) -> None:
    """Install the pinned packages into ``cache_dir/node_modules`` unless already there."""
    if all(_installed_version(cache_dir, s) == s.version for s in sources):
        _log(progress, f"icon packages already in {cache_dir}")
        return
    npm = shutil.which("npm")
    if npm is None:
        raise DatasetBuildError("npm not found on PATH; install Node.js/npm to build the data set")
    specs = [f"{s.package}@{s.version}" for s in sources]
    _log(progress, f"npm install {' '.join(specs)} (into {cache_dir})")
    cache_dir.mkdir(parents=True, exist_ok=True)
    cmd = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(cache_dir)]
    try:
        done = subprocess.run(cmd + specs, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatasetBuildError(f"npm install failed: {exc}") from exc
    if done.returncode != 0:
        # npm's own error lines are the useful part ("npm error notarget No matching version
        # found for ..."); keep the first informative one so the message stays on one line.
        detail = f"exit status {done.returncode}"
        for line in done.stderr.splitlines():
            m = re.match(r"npm (?:error|ERR!)\s+(.*)", line.strip())
            if m and not re.match(r"(code\s|A complete log|$)", m.group(1)):
                detail = m.group(1).strip()
                break
        raise DatasetBuildError(f"npm install failed: {detail}")
    for s in sources:
        got = _installed_version(cache_dir, s)
        if got != s.version:
            raise DatasetBuildError(f"{s.package}@{s.version} not installed (found {got})")


def _installed_version(cache_dir: Path, spec: SourceSpec) -> str | None:
    path = cache_dir / "node_modules" / spec.package / "package.json"
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def read_source(cache_dir: Path, spec: SourceSpec) -> SourceInfo:
    """Read icons and licence of one installed package.

    The licence is taken from ``icons.json``'s ``info`` block when present; current
    @iconify-json packages moved that block to ``info.json`` next to it, so we read that too,
    and check both against ``package.json``'s licence so a mismatch cannot slip through.
    """
    root = cache_dir / "node_modules" / spec.package
    icon_set = json.loads((root / "icons.json").read_text(encoding="utf-8"))
    info = icon_set.get("info")
    if not info and (root / "info.json").is_file():
        info = json.loads((root / "info.json").read_text(encoding="utf-8"))
    if not info or "license" not in info:
        raise DatasetBuildError(f"{spec.package}: no licence information in icons.json/info.json")
    package_json = json.loads((root / "package.json").read_text(encoding="utf-8"))
    lic = info["license"]
    spdx = str(lic.get("spdx") or "")
    if package_json.get("license") and spdx and package_json["license"] != spdx:
        raise DatasetBuildError(
            f"{spec.package}: licence mismatch, info says {spdx}, "
            f"package.json says {package_json['license']}"
        )
    author = info.get("author") or {}
    return SourceInfo(
        spec=spec,
        installed_version=str(package_json["version"]),
        name=str(info.get("name") or spec.prefix),
        license_title=str(lic.get("title") or spdx),
        license_spdx=spdx,
        license_url=str(lic.get("url") or ""),
        author_name=str(author.get("name") or ""),
        author_url=str(author.get("url") or ""),
        icons=icon_set,
    )


def license_refusal(source: SourceInfo) -> str | None:
    """Why a source's licence is not usable here, or None if it is."""
    text = f"{source.license_spdx} {source.license_title}"
    if REFUSED_LICENSE_MARKERS.search(text):
        return f"licence {source.license_title!r} is share-alike/non-commercial/no-derivatives"
    if source.license_spdx not in ALLOWED_LICENSES:
        return f"licence {source.license_title!r} ({source.license_spdx}) is not on the allow list"
    return None


# --------------------------------------------------------------------------------------------
# selection


def select_drawings(source: SourceInfo) -> tuple[list[Drawing], list[str]]:
    """Footwear drawings of one set (sorted by icon name) and unreviewed candidate names.

    Only real icons are taken, not aliases: in these sets an alias is another name for the
    same drawing (e.g. noto's "womans-flat-shoe" -> "flat-shoe") and would duplicate it.
    """
    names = sorted(source.icons["icons"])
    picked = [Drawing(source, n, ICON_TYPES[n]) for n in names if n in ICON_TYPES]
    aliases: dict[str, dict[str, Any]] = source.icons.get("aliases", {})
    # An alias of a drawing already picked or excluded needs no second look.
    reviewed = ICON_TYPES.keys() | EXCLUDED_ICONS.keys()
    unreviewed = [
        n
        for n in names + sorted(a for a in aliases if aliases[a].get("parent") not in reviewed)
        if n not in ICON_TYPES
        and n not in EXCLUDED_ICONS
        and FOOTWEAR_WORDS.search(n)
        and not NOT_FOOTWEAR_WORDS.search(n)
    ]
    return picked, unreviewed


# --------------------------------------------------------------------------------------------
# SVG and rendering


def icon_svg(icon_set: dict[str, Any], name: str, fill: str | None = None) -> str:
    """Full SVG document for one icon of an Iconify JSON set.

    Iconify stores only the inner ``body``; size and origin come from the icon or, when
    missing, from the set (defaults: left/top 0, width/height 16). Flips and rotations are
    applied as a transform, as Iconify's own renderer does.
    """
    icon = icon_set["icons"][name]

    def prop(key: str, default: float) -> float:
        return float(icon.get(key, icon_set.get(key, default)))

    left, top = prop("left", 0), prop("top", 0)
    width, height = prop("width", 16), prop("height", 16)
    body: str = icon["body"]
    if fill is not None:
        body = body.replace("currentColor", fill)
    transforms: list[str] = []
    if icon.get("hFlip"):
        transforms.append(f"translate({2 * left + width} 0) scale(-1 1)")
    if icon.get("vFlip"):
        transforms.append(f"translate(0 {2 * top + height}) scale(1 -1)")
    rotate = int(icon.get("rotate", 0)) % 4
    if rotate:
        cx, cy = left + width / 2, top + height / 2
        transforms.append(f"rotate({90 * rotate} {cx} {cy})")
    if transforms:
        body = f'<g transform="{" ".join(transforms)}">{body}</g>'
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="{_num(left)} {_num(top)} {_num(width)} {_num(height)}">{body}</svg>'
    )


def _num(x: float) -> str:
    return f"{x:.6g}"


_VIEWBOX = re.compile(r'viewBox="([^"]*)"')


def _render(svg: str, width: int, height: int) -> np.ndarray:
    """Rasterise with resvg; returns (H, W, 4) uint8 RGBA, straight (not premultiplied) alpha."""
    import resvg_py  # imported here so reading/testing this module needs no resvg

    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, width=width, height=height))
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGBA"), dtype=np.uint8).copy()


def render_fitted(svg: str, size: int = IMAGE_SIZE, margin: int = MARGIN_PX) -> np.ndarray:
    """Render so the drawing's visible part is centred and fills ``size - 2*margin`` pixels.

    Icon sets pad their drawings differently (game-icons leave wide borders, emoji nearly
    none), so rendering the viewBox as-is would give each set its own scale. We render once
    large to measure the visible (alpha > 0) box, then render again through a square viewBox
    around that box: a vector re-render, sharper than cropping and resizing pixels, and the
    aspect ratio is kept because the viewBox is square.
    """
    match = _VIEWBOX.search(svg)
    if match is None:
        raise ValueError("SVG without viewBox")
    vx, vy, vw, vh = (float(v) for v in match.group(1).split())
    scale = MEASURE_SIZE / max(vw, vh)
    mw, mh = max(1, round(vw * scale)), max(1, round(vh * scale))
    alpha = _render(svg, mw, mh)[:, :, 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    if rows.size == 0:
        raise ValueError("drawing renders empty")
    # One measuring pixel of padding on each side covers anti-aliasing we could not see.
    x0 = vx + (cols[0] - 1) / scale
    x1 = vx + (cols[-1] + 2) / scale
    y0 = vy + (rows[0] - 1) / scale
    y1 = vy + (rows[-1] + 2) / scale
    side = max(x1 - x0, y1 - y0) * size / (size - 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    fitted = _VIEWBOX.sub(
        f'viewBox="{_num(cx - side / 2)} {_num(cy - side / 2)} {_num(side)} {_num(side)}"',
        svg,
        count=1,
    )
    fitted = re.sub(r'\swidth="[^"]*"', f' width="{size}"', fitted, count=1)
    fitted = re.sub(r'\sheight="[^"]*"', f' height="{size}"', fitted, count=1)
    image = _render(fitted, size, size)
    # Fully transparent pixels may carry stray colour; zero them so files and the .npz are
    # canonical (and compress better).
    image[image[:, :, 3] == 0] = 0
    return image


# --------------------------------------------------------------------------------------------
# writing


def _png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image, mode="RGBA").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but byte-for-byte reproducible.

    numpy stamps each zip member with the current time, so every rebuild would change the
    committed file; a fixed timestamp keeps unchanged data unchanged in git.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def _licenses_md(
    sources: Sequence[SourceInfo],
    files: dict[str, list[str]],
    refused: dict[str, str],
) -> str:
    lines = [
        "# Licences of the shoes data set",
        "",
        "Every image here is a rendering of a footwear icon from an npm Iconify icon set,",
        "made by `assetgen_shoes.dataset` (resvg, 64x64 RGBA, transparent background, the",
        f"drawing scaled to fill the frame with a {MARGIN_PX}-pixel margin). Licence and",
        "attribution are as given in each package's `info.json` (the `info` block of",
        "`icons.json`), cross-checked with its `package.json`. Share-alike, non-commercial and",
        "no-derivatives licences are refused.",
        "",
        "Changes made to the original art: rendering to 64x64 pixels, cropping to the",
        "drawing and centring; game-icons drawings (monochrome `currentColor` silhouettes)",
        f"are filled with `{GAME_ICONS_FILL}` (mid brown) instead of the current text colour.",
        "",
    ]
    for src in sources:
        names = files.get(src.spec.package, [])
        lines += [
            f"## {src.name} — `{src.spec.package}` {src.installed_version}",
            "",
            f"- Licence: {src.license_title} (SPDX `{src.license_spdx}`), {src.license_url}",
            f"- Author / attribution: {src.author_name}, {src.author_url}",
        ]
        if src.spec.fill:
            lines.append(f"- Recoloured: `currentColor` rendered as `{src.spec.fill}`")
        if src.spec.note:
            lines.append(f"- Note: {src.spec.note}")
        lines.append(f"- Files ({len(names)}): " + ", ".join(f"`{n}`" for n in names))
        lines.append("")
    if refused:
        lines += ["## Sources not used", ""]
        lines += [f"- `{pkg}`: {why}" for pkg, why in sorted(refused.items())]
        lines.append("")
    return "\n".join(lines)


def _iter_progress(items: Sequence[Drawing], progress: bool) -> Iterator[tuple[int, Drawing]]:
    for i, item in enumerate(items):
        _log(progress, f"[{i + 1:3d}/{len(items)}] {item.filename} ({item.footwear_type})")
        yield i, item


def build_dataset(
    out_dir: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Install the icon packages, select and render the footwear drawings into ``out_dir``.

    ``cache_dir`` keeps the npm packages between runs (a rebuild with the packages already
    there needs neither npm nor network); without it a temporary folder is used and removed.
    Returns a summary: ``count``, ``per_type``, ``per_source``, ``licenses``, ``excluded``,
    ``refused_sources``, ``unreviewed`` and ``out_dir``.
    """
    out = Path(out_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="assetgen-shoes-npm-") as tmp_cache:
        cache = Path(cache_dir).resolve() if cache_dir is not None else Path(tmp_cache)
        install_packages(cache, SOURCES, progress)
        infos = [read_source(cache, spec) for spec in SOURCES]

    used: list[SourceInfo] = []
    refused: dict[str, str] = {}
    for info in infos:
        why = license_refusal(info)
        if why is None:
            used.append(info)
        else:
            refused[info.spec.package] = why
            _log(progress, f"skipping {info.spec.package}: {why}")

    drawings: list[Drawing] = []
    unreviewed: dict[str, list[str]] = {}
    excluded: dict[str, list[str]] = {}
    for info in used:
        picked, unknown = select_drawings(info)
        drawings += picked
        if unknown:
            unreviewed[info.spec.prefix] = unknown
            _log(progress, f"{info.spec.prefix}: unreviewed footwear-like names: {unknown}")
        hits = sorted(n for n in info.icons["icons"] if n in EXCLUDED_ICONS)
        if hits:
            excluded[info.spec.prefix] = hits
    drawings.sort(key=lambda d: d.filename)
    if not drawings:
        raise DatasetBuildError("no footwear drawings found in the icon packages")

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    # mkdtemp makes the folder private (0700); the data set is an ordinary repository folder.
    tmp_dir.chmod(0o755)
    try:
        images = np.zeros((len(drawings), IMAGE_SIZE, IMAGE_SIZE, 4), dtype=np.uint8)
        rows: list[dict[str, str]] = []
        files: dict[str, list[str]] = {}
        for i, d in _iter_progress(drawings, progress):
            svg = icon_svg(d.source.icons, d.icon, d.source.spec.fill)
            images[i] = render_fitted(svg)
            (tmp_dir / d.filename).write_bytes(_png_bytes(images[i]))
            files.setdefault(d.source.spec.package, []).append(d.filename)
            rows.append(
                {
                    "file": d.filename,
                    "type": d.footwear_type,
                    "type_id": str(FOOTWEAR_TYPES.index(d.footwear_type)),
                    "source": d.source.spec.prefix,
                    "icon": d.icon,
                    "package": f"{d.source.spec.package}@{d.source.installed_version}",
                    "license": d.source.license_spdx,
                    "recolor": d.source.spec.fill or "",
                }
            )
        with (tmp_dir / "labels.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        (tmp_dir / "LICENSES.md").write_text(_licenses_md(used, files, refused), encoding="utf-8")
        source_names = [s.spec.prefix for s in used]
        _write_npz(
            tmp_dir / "shoes_64.npz",
            {
                "images": images,
                "labels": np.array([FOOTWEAR_TYPES.index(d.footwear_type) for d in drawings]),
                "sources": np.array([source_names.index(d.source.spec.prefix) for d in drawings]),
                "type_names": np.array(FOOTWEAR_TYPES),
                "source_names": np.array(source_names),
                "files": np.array([d.filename for d in drawings]),
            },
        )
        replace_dir(tmp_dir, out)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise

    per_type = Counter(d.footwear_type for d in drawings)
    per_source = Counter(d.source.spec.prefix for d in drawings)
    summary: dict[str, Any] = {
        "out_dir": str(out),
        "count": len(drawings),
        "per_type": {t: per_type[t] for t in FOOTWEAR_TYPES},
        "per_source": dict(sorted(per_source.items())),
        "licenses": {s.spec.package: s.license_spdx for s in infos},
        "refused_sources": refused,
        "excluded": excluded,
        "unreviewed": unreviewed,
    }
    _log(progress, f"wrote {len(drawings)} drawings to {out}")
    _log(progress, f"per type: {summary['per_type']}")
    _log(progress, f"per source: {summary['per_source']}")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assetgen_shoes.training.dataset_builder",
        description="Build the 64x64 shoes data set from footwear icons in npm icon sets.",
    )
    parser.add_argument("--out", required=True, help="output folder (replaced as a whole)")
    parser.add_argument("--cache-dir", default=None, help="keep npm packages here between runs")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    try:
        build_dataset(args.out, cache_dir=args.cache_dir, progress=not args.quiet)
    except DatasetBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
