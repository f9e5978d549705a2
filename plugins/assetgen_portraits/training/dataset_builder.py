"""Build the portraits training set: labelled 64x64 DiceBear faces, rendered offline.

DiceBear style definitions (``dicebear-styles``) are drawn in pure Python by ``dicebear-core``
and rasterised by ``resvg-py``. We pick every option ourselves with numpy's ``default_rng``
and pass it to DiceBear explicitly, so each image comes with its exact labels, and the same
(seed, count) always gives byte-identical PNGs and labels, whatever the number of worker
processes: image ``i`` draws from its own generator seeded with ``(seed, stream, i)``.
The labels written are read back from the options DiceBear reports it actually drew, so a
part that was picked but not drawn (earrings under hair that covers the ears) reads "none".

Default style ``adventurer``: "Adventurer" by Lisa Wischofsky, CC BY 4.0 (see
``STYLE_LICENCES``). Other styles from ``dicebear-styles`` work through ``style=``: every
variant and colour of the definition, the definition's own probabilities, no curation and no
mouth/eye states, so ``pairs`` needs a curated style.

Curation of ``adventurer`` (judged on renders of every variant; the goal is a plausible game
cast, not a catalogue of gags):

- mouth: 18 of 30 variants. Dropped as grotesque or gag expressions: 10 (puckered
  whistle), 11 (clenched teeth), 12 and 16 (tongue out), 13 (drooling), 14 (yelling),
  15 (screaming), 17 and 20 (kissing), 18 (black "o" blot), 22 (grimace), 24 (heart-shaped
  tongue). Each variant's open/closed state is in ``ADVENTURER_MOUTH_STATE``: "open" is any
  mouth that shows the inside (throat, teeth or tongue), which is also what its SVG paints.
- eyes: 18 of 26. Dropped: 04 (lid line across the eye), 08 (dazed spirals), 14 (slits),
  16 and 18 (eye rolls), 17 (half-shut, bored), 21 and 22 (winks). 19 and 20 are the two
  closed-eye variants (happy arcs); they stay in the main set (about 1 face in 9) and are
  the "eyes closed" frames of the pairs. Mapping in ``ADVENTURER_EYES_STATE``.
- eyebrows: 14 of 15; 01 (a thick black bar) covers the top of the eyes at 64 px.
- glasses: 4 of 5, drawn on 15% of faces; 01 (sunglasses) hides the eyes, which would make
  the eye labels and the eyes-closed pairs meaningless.
- earrings: all 6, on 30% of faces, visible only with the hair styles that show the ears.
- details (birthmark, blush, freckles, mustache): all 4, on 20% of faces.
- hair: 44 of 45; long06 (a big mane) is cut square by the canvas edge. A few others touch
  the frame a little (long09, long16 at the bottom, long17, long18, long22 at the side,
  short15, short16 at the top) and stay.
- hair colour (14, fantasy colours included), skin colour (4): all, uniform.
- no background: the SVG background is left empty, so images are RGBA with transparency.
- pairs: the closed mouth is uniform over the 7 curated closed ones, the open mouth comes
  from the same family (plain 02 04 09 19 29 -> 01 03 21 23 25 26 27 28 30; red lips
  06 08 -> 05 07), the eyes are one of the 16 curated open variants, then 19 or 20 closed.
- not curated away: combinations. A mustache can meet red lips, and small open mouths (03,
  07, 21) change only 25-50 pixels at 64 px, against 60-100 for the laughing ones.

Outputs in ``out_dir`` (built in a temporary sibling folder, then swapped in with renames,
so an interrupted build never leaves a half-written data set):

- ``images/000000.png ...``: 64x64 RGBA PNGs, unless ``write_png=False``;
- ``labels.csv``: index, file, then one column per label: each component's variant ("none"
  when not drawn) and, for optional ones, ``<component>Present`` (0/1); every colour with a
  choice (``hairColor``, ``skinColor``: "#rrggbb", "none" when not drawn, e.g. bald); and
  ``mouthState`` (closed/open) and ``eyesState`` (open/closed) for curated styles;
- ``portraits_64.npz``: ``images`` uint8 (N, 64, 64, 4), ``labels`` int16 (N, K) coded as
  indices into ``vocab_<column>`` (index 0 is "none", or "0" for flags), ``label_names`` (K,);
- ``pairs/`` when ``pairs > 0``: the same character with the mouth closed (``closed``), the
  mouth open (``open``) and the eyes closed with the mouth closed (``eyes_closed``), as PNGs
  ``pairs/000000_<frame>.png``; ``pairs/labels.csv`` (the closed frame's labels plus
  ``openMouth`` and ``closedEyes``, the variants that change in the other two frames) and
  ``pairs/pairs.npz`` (arrays ``closed``, ``open``, ``eyes_closed``, ``labels`` of the closed
  frame, ``open_mouth`` and ``closed_eyes`` coded in ``vocab_mouth`` / ``vocab_eyes``);
- ``speech_images`` / ``speech_labels`` in ``portraits_64.npz`` when ``speech > 0``: faces whose
  mouth is any of the style's 30 mouths (``Curation.speech_mouths``; the ``mouth`` column's
  values list them all, so the still set's codes are unchanged by it), from their own random
  stream, for the lip-sync shapes; never PNG, never held out;
- ``dataset.json``: style, licence, attribution, seed, counts, every column's value list, the
  curation, package versions and the command line.

Run: ``python -m assetgen_portraits.training.dataset_builder --out data/portraits --count 30000
--pairs 2000 --speech 6000`` (``python -m assetgen_portraits.dataset``, the model card's
command, forwards here).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import resvg_py
from dicebear import Avatar, Style
from PIL import Image

from assetgen import InvalidOptionsError, check_int
from assetgen.training import Progress, replace_dir

IMAGE_SIZE = 64
DEFAULT_STYLE = "adventurer"

# Upper bounds keep typos (an extra zero or three) from starting a week-long build.
MAX_COUNT = 10_000_000
MAX_SEED = 2**63 - 1
MAX_WORKERS = 256

# Images per task sent to a worker: big enough to amortise inter-process overhead, small
# enough that progress updates stay smooth and the pool stays balanced.
CHUNK = 64

# Independent random streams, so that adding pairs never changes the main images.
STREAM_MAIN = 0
STREAM_PAIRS = 1
STREAM_SPEECH = 2

NONE = "none"
PAIR_FRAMES: tuple[str, ...] = ("closed", "open", "eyes_closed")


@dataclass(frozen=True)
class StyleLicence:
    """Licence of a style's artwork, to be repeated in every model card trained on it."""

    name: str
    url: str
    creator: str
    source: str
    attribution: str


# Copied from the style definition's ``meta`` (checked by the tests), so the attribution is
# visible in code review and not only inside a JSON file of a dependency.
STYLE_LICENCES: dict[str, StyleLicence] = {
    "adventurer": StyleLicence(
        name="CC BY 4.0",
        url="https://creativecommons.org/licenses/by/4.0/",
        creator="Lisa Wischofsky",
        source="https://www.figma.com/community/file/1184595184137881796",
        attribution=(
            "Remix of \u201eAdventurer\u201d (https://www.figma.com/community/file/"
            "1184595184137881796) by \u201eLisa Wischofsky\u201d, licensed under "
            "\u201eCC BY 4.0\u201d (https://creativecommons.org/licenses/by/4.0/)"
        ),
    ),
}

# Open/closed state of every adventurer mouth (the curated ones and the dropped ones).
# "open" = the inside of the mouth shows: the variant paints the throat, teeth or tongue.
ADVENTURER_MOUTH_STATE: dict[str, str] = {
    "variant01": "open",  # open smile
    "variant02": "closed",  # smile line
    "variant03": "open",  # small open mouth
    "variant04": "closed",  # crooked line
    "variant05": "open",  # red lips, toothy smile
    "variant06": "closed",  # red lips, smirk
    "variant07": "open",  # red lips, small open with teeth
    "variant08": "closed",  # red lips, closed
    "variant09": "closed",  # flat line
    "variant10": "closed",  # puckered line (dropped)
    "variant11": "open",  # clenched teeth (dropped)
    "variant12": "open",  # tongue out sideways (dropped)
    "variant13": "open",  # drooling (dropped)
    "variant14": "open",  # yelling (dropped)
    "variant15": "open",  # screaming (dropped)
    "variant16": "open",  # tongue out (dropped)
    "variant17": "closed",  # kiss "3" (dropped)
    "variant18": "open",  # black "o" (dropped)
    "variant19": "closed",  # wide closed smile
    "variant20": "closed",  # kissing lips (dropped)
    "variant21": "open",  # small round open mouth
    "variant22": "open",  # grimace with teeth (dropped)
    "variant23": "open",  # toothy grin
    "variant24": "open",  # heart-shaped tongue (dropped)
    "variant25": "open",  # laugh, teeth
    "variant26": "open",  # laugh, teeth and tongue
    "variant27": "open",  # big open smile, tongue
    "variant28": "open",  # open smile, upper teeth
    "variant29": "closed",  # V-shaped smile line
    "variant30": "open",  # open triangle smile
}

# Open/closed state of every adventurer eye variant; 21 and 22 are winks (one eye each).
ADVENTURER_EYES_STATE: dict[str, str] = {
    f"variant{i:02d}": ("closed" if i in (19, 20) else "wink" if i in (21, 22) else "open")
    for i in range(1, 27)
}


def _variants(numbers: Sequence[int]) -> tuple[str, ...]:
    return tuple(f"variant{i:02d}" for i in numbers)


@dataclass(frozen=True)
class Curation:
    """Hand-picked option lists for one style; components or colours not named keep all."""

    variants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Percent chance (0-100) that an optional component is drawn at all.
    probabilities: Mapping[str, float] = field(default_factory=dict)
    colors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    mouth_state: Mapping[str, str] = field(default_factory=dict)
    eyes_state: Mapping[str, str] = field(default_factory=dict)
    # Pairs draw their closed and open mouths from the same family, so that a character with
    # red lips keeps red lips when it opens its mouth.
    mouth_families: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    # Mouths that only speech animation uses (lip-sync shapes): labelled and trained on through
    # the ``speech`` images, never drawn for a still portrait.
    speech_mouths: tuple[str, ...] = ()
    # The nine Rhubarb Lip Sync mouth shapes (A-H and X) as mouth variants of the style
    # (docs/lipsync.md has the picture).
    mouth_shapes: Mapping[str, str] = field(default_factory=dict)


ADVENTURER_CURATION = Curation(
    variants={
        "mouth": _variants((1, 2, 3, 4, 5, 6, 7, 8, 9, 19, 21, 23, 25, 26, 27, 28, 29, 30)),
        "eyes": _variants((1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 15, 19, 20, 23, 24, 25, 26)),
        "eyebrows": _variants(range(2, 16)),
        "glasses": _variants((2, 3, 4, 5)),
        "hair": tuple(
            [f"long{i:02d}" for i in range(1, 27) if i != 6]
            + [f"short{i:02d}" for i in range(1, 20)]
        ),
    },
    probabilities={"glasses": 15, "earrings": 30, "details": 20},
    mouth_state=ADVENTURER_MOUTH_STATE,
    eyes_state=ADVENTURER_EYES_STATE,
    mouth_families=(
        (_variants((2, 4, 9, 19, 29)), _variants((1, 3, 21, 23, 25, 26, 27, 28, 30))),
        (_variants((6, 8)), _variants((5, 7))),
    ),
    speech_mouths=_variants(range(1, 31)),
    mouth_shapes={
        "A": "variant09",  # lips pressed together: P, B, M
        "B": "variant11",  # clenched teeth: most consonants, EE
        "C": "variant14",  # open, teeth showing: EH, AE
        "D": "variant27",  # wide open: AA
        "E": "variant03",  # small, rounded: AO, ER
        "F": "variant18",  # puckered: UW, OW, W
        "G": "variant22",  # upper teeth on the lower lip: F, V
        "H": "variant26",  # open, tongue showing: L
        "X": "variant02",  # at rest: silence
    },
)

CURATIONS: dict[str, Curation] = {"adventurer": ADVENTURER_CURATION}


class DatasetArgumentError(ValueError):
    """A bad argument to ``build_dataset``; the message names it and its allowed values."""


# --------------------------------------------------------------------------------------------
# style specification: which options exist, which values we draw from


@dataclass(frozen=True)
class ComponentAxis:
    name: str
    values: tuple[str, ...]
    probability: float  # percent chance to draw the component at all
    optional: bool  # can be missing from a face (probability < 100, or nested in a part)


@dataclass(frozen=True)
class ColorAxis:
    name: str
    values: tuple[str, ...]  # lower-case "#rrggbb", as DiceBear reports them
    # False when the definition ties the colour to another (contrastTo / notEqualTo): DiceBear
    # then picks it from the options we did set, and we only read it back.
    explicit: bool


@dataclass(frozen=True)
class Spec:
    style: str
    components: tuple[ComponentAxis, ...]
    colors: tuple[ColorAxis, ...]
    curation: Curation
    columns: dict[str, tuple[str, ...]]  # label column -> its values, in code order

    def component(self, name: str) -> ComponentAxis:
        return next(c for c in self.components if c.name == name)

    @property
    def can_pair(self) -> bool:
        names = {c.name for c in self.components}
        return bool(self.curation.mouth_families) and {"mouth", "eyes"} <= names


def available_styles() -> list[str]:
    """Names of the style definitions shipped in ``dicebear-styles``."""
    folder = resources.files("dicebear_styles")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


@lru_cache(maxsize=8)
def load_style(name: str) -> Style:
    # Cached per process: parsing and validating a definition costs more than a render.
    text = resources.files("dicebear_styles").joinpath(f"{name}.json").read_text("utf-8")
    return Style.from_json(text)


def _hex(value: str) -> str:
    return "#" + value.lstrip("#").lower()


def _canvas_components(style: Style) -> set[str]:
    return {str(el.name()) for el in style.canvas().elements() if el.type() == "component"}


def _component_axes(style: Style, curation: Curation) -> tuple[ComponentAxis, ...]:
    on_canvas = _canvas_components(style)
    axes = []
    for name, comp in style.components().items():
        if comp.extends_name() is not None:
            continue  # aliases draw from their source's option; labelled through the source
        values = tuple(curation.variants.get(name, tuple(comp.variants())))
        unknown = set(values) - set(comp.variants())
        if unknown:
            raise RuntimeError(f"curation of {name!r} names unknown variants {sorted(unknown)}")
        probability = float(curation.probabilities.get(name, comp.probability()))
        # A component drawn from inside another one (earrings inside hair) can be absent even
        # at probability 100, so it needs a "none" label and a presence flag too.
        optional = probability < 100 or name not in on_canvas
        axes.append(ComponentAxis(name, values, probability, optional))
    return tuple(axes)


def _color_axes(style: Style, curation: Curation) -> tuple[ColorAxis, ...]:
    axes = []
    for name, color in style.colors().items():
        if name == "background":
            continue  # never drawn: the data set is transparent RGBA
        values = tuple(dict.fromkeys(_hex(v) for v in curation.colors.get(name, color.values())))
        explicit = color.contrast_to() is None and not color.not_equal_to()
        axes.append(ColorAxis(name, values, explicit))
    return tuple(axes)


def _columns(
    components: Sequence[ComponentAxis], colors: Sequence[ColorAxis], curation: Curation
) -> dict[str, tuple[str, ...]]:
    """Label columns and their values; code 0 is always "none" (or "0" for flags)."""
    columns: dict[str, tuple[str, ...]] = {}
    for comp in components:
        values = comp.values
        if comp.name == "mouth" and curation.speech_mouths:
            values = tuple(sorted(set(values) | set(curation.speech_mouths)))
        if len(values) > 1 or comp.optional:
            columns[comp.name] = (NONE, *values)
        if comp.optional:
            columns[f"{comp.name}Present"] = ("0", "1")
    for color in colors:
        if len(color.values) > 1:
            columns[f"{color.name}Color"] = (NONE, *color.values)
    if curation.mouth_state:
        columns["mouthState"] = (NONE, "closed", "open")
    if curation.eyes_state:
        columns["eyesState"] = (NONE, "open", "closed", "wink")
    return columns


@lru_cache(maxsize=8)
def style_spec(style_name: str) -> Spec:
    style = load_style(style_name)
    curation = CURATIONS.get(style_name, Curation())
    components = _component_axes(style, curation)
    colors = _color_axes(style, curation)
    return Spec(style_name, components, colors, curation, _columns(components, colors, curation))


def style_licence(style_name: str) -> StyleLicence:
    """The licence from ``STYLE_LICENCES``, else as the style definition states it."""
    if style_name in STYLE_LICENCES:
        return STYLE_LICENCES[style_name]
    meta = load_style(style_name).meta()
    return StyleLicence(
        name=meta.license().name() or "unknown",
        url=meta.license().url() or "",
        creator=meta.creator().name() or "unknown",
        source=meta.source().url() or "",
        attribution=meta.license().text() or "",
    )


# --------------------------------------------------------------------------------------------
# sampling: one character = explicit choices for every component and colour


@dataclass(frozen=True)
class Character:
    variants: dict[str, str | None]  # component -> variant, None = not drawn
    colors: dict[str, str]
    dicebear_seed: str  # only for what we leave to DiceBear (tied colours)


def _rng(seed: int, stream: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, index])


def _pick(rng: np.random.Generator, values: Sequence[str]) -> str:
    return values[int(rng.integers(len(values)))]


def sample_character(spec: Spec, rng: np.random.Generator) -> Character:
    """Draw one character. Always the same number of draws, whatever the outcomes, so that
    a change to one probability does not reshuffle every later choice."""
    variants: dict[str, str | None] = {}
    for comp in spec.components:
        value = _pick(rng, comp.values)
        drawn = rng.random() * 100 < comp.probability
        variants[comp.name] = value if drawn else None
    colors = {c.name: _pick(rng, c.values) for c in spec.colors if c.explicit and c.values}
    return Character(variants, colors, f"assetgen-{int(rng.integers(2**62))}")


def _with(char: Character, **variants: str) -> Character:
    return Character({**char.variants, **variants}, char.colors, char.dicebear_seed)


def _eyes_in_state(spec: Spec, state: str) -> tuple[str, ...]:
    eyes = spec.component("eyes").values
    return tuple(v for v in eyes if spec.curation.eyes_state.get(v) == state)


def sample_pair(spec: Spec, rng: np.random.Generator) -> dict[str, Character]:
    """One character drawn three ways: mouth closed, mouth open, eyes closed (mouth closed)."""
    base = sample_character(spec, rng)
    # Uniform over the closed mouths (not over families), so the small red-lips family is not
    # half of all pairs; the open mouth then comes from the closed mouth's family.
    closed_mouths = [(m, opened) for shut, opened in spec.curation.mouth_families for m in shut]
    closed_mouth, open_mouths = closed_mouths[int(rng.integers(len(closed_mouths)))]
    eyes_open = _pick(rng, _eyes_in_state(spec, "open"))
    eyes_shut = _pick(rng, _eyes_in_state(spec, "closed"))
    closed = _with(base, mouth=closed_mouth, eyes=eyes_open)
    return {
        "closed": closed,
        "open": _with(closed, mouth=_pick(rng, open_mouths)),
        "eyes_closed": _with(closed, eyes=eyes_shut),
    }


# --------------------------------------------------------------------------------------------
# rendering and labels


def dicebear_options(style: Style, char: Character) -> dict[str, Any]:
    """Our choices as DiceBear options. Options that would not change the drawing are left
    out: DiceBear checks every option against a JSON schema, which costs more per image than
    rasterising, so fewer keys is measurably faster."""
    options: dict[str, Any] = {"seed": char.dicebear_seed}
    if "background" in style.colors():
        options["backgroundColor"] = []  # transparent, whatever the style's default
    components = style.components()
    for name, variant in char.variants.items():
        # Probability 0/100 makes DiceBear's own coin flip a no-op; we already flipped ours.
        if variant is None or components[name].probability() < 100:
            options[f"{name}Probability"] = 0 if variant is None else 100
        if variant is not None and len(components[name].variants()) > 1:
            options[f"{name}Variant"] = variant
    for name, color in char.colors.items():
        options[f"{name}Color"] = color
    return options


def render(style_name: str, char: Character) -> tuple[bytes, dict[str, Any]]:
    """PNG bytes (64x64 RGBA) and the options DiceBear reports it drew."""
    style = load_style(style_name)
    avatar = Avatar(style, dicebear_options(style, char))
    # System fonts are skipped: portrait styles draw no text, and fonts differ per machine.
    png = resvg_py.svg_to_bytes(
        svg_string=avatar.to_string(),
        width=IMAGE_SIZE,
        height=IMAGE_SIZE,
        skip_system_fonts=True,
    )
    return bytes(png), avatar.to_json()["options"]


def decode_png(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGBA"), dtype=np.uint8)


def label_row(spec: Spec, resolved: Mapping[str, Any]) -> dict[str, str]:
    """Labels of one image, from what DiceBear actually drew."""
    row: dict[str, str] = {}
    for comp in spec.components:
        drawn = resolved.get(f"{comp.name}Variant") or NONE
        if comp.name in spec.columns:
            row[comp.name] = drawn
        if comp.optional:
            row[f"{comp.name}Present"] = "0" if drawn == NONE else "1"
    for color in spec.colors:
        key = f"{color.name}Color"
        if key in spec.columns:
            drawn_colors = resolved.get(key) or [NONE]
            row[key] = drawn_colors[0] if drawn_colors[0] == NONE else _hex(drawn_colors[0])
    if "mouthState" in spec.columns:
        row["mouthState"] = spec.curation.mouth_state.get(row.get("mouth", NONE), NONE)
    if "eyesState" in spec.columns:
        row["eyesState"] = spec.curation.eyes_state.get(row.get("eyes", NONE), NONE)
    return row


def encode_row(spec: Spec, row: Mapping[str, str]) -> list[int]:
    codes = []
    for name, values in spec.columns.items():
        if row[name] not in values:
            raise RuntimeError(f"label {name}={row[name]!r} is not one of {values}")
        codes.append(values.index(row[name]))
    return codes


# --------------------------------------------------------------------------------------------
# work split across processes


@dataclass(frozen=True)
class Task:
    style: str
    seed: int
    kind: str  # "main" or "pairs"
    start: int
    stop: int
    keep_png: bool


@dataclass
class TaskResult:
    task: Task
    # frame name ("image" for the main set) -> images (n, 64, 64, 4) and PNG bytes
    pixels: dict[str, np.ndarray]
    pngs: dict[str, list[bytes]]
    rows: list[dict[str, str]]  # labels of the "image" / "closed" frame
    extra: list[dict[str, str]]  # pairs only: the open mouth and closed eyes variants


def sample_speech(spec: Spec, rng: np.random.Generator) -> Character:
    """A character whose mouth is any of the style's speech mouths (curated or not)."""
    char = sample_character(spec, rng)
    return _with(char, mouth=_pick(rng, spec.curation.speech_mouths))


def _frames(spec: Spec, task: Task, index: int) -> dict[str, Character]:
    if task.kind == "main":
        return {"image": sample_character(spec, _rng(task.seed, STREAM_MAIN, index))}
    if task.kind == "speech":
        return {"image": sample_speech(spec, _rng(task.seed, STREAM_SPEECH, index))}
    return sample_pair(spec, _rng(task.seed, STREAM_PAIRS, index))


def _check_pair(rows: Mapping[str, dict[str, str]]) -> dict[str, str]:
    """Pair frames may differ only in mouth (open) or eyes (eyes_closed): guard against a
    DiceBear update that couples its choices, which would silently break the pairs."""
    closed = rows["closed"]
    for frame, changed in (
        ("open", {"mouth", "mouthState"}),
        ("eyes_closed", {"eyes", "eyesState"}),
    ):
        diff = {k for k in closed if closed[k] != rows[frame][k]}
        if not diff <= changed:
            raise RuntimeError(f"pair frame {frame!r} differs from 'closed' in {sorted(diff)}")
    return {"openMouth": rows["open"]["mouth"], "closedEyes": rows["eyes_closed"]["eyes"]}


def run_task(task: Task) -> TaskResult:
    spec = style_spec(task.style)
    names = PAIR_FRAMES if task.kind == "pairs" else ("image",)
    n = task.stop - task.start
    pixels = {f: np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 4), np.uint8) for f in names}
    pngs: dict[str, list[bytes]] = {f: [] for f in names}
    rows, extra = [], []
    for k, index in enumerate(range(task.start, task.stop)):
        frame_rows = {}
        for frame, char in _frames(spec, task, index).items():
            png, resolved = render(task.style, char)
            pixels[frame][k] = decode_png(png)
            if task.keep_png:
                pngs[frame].append(png)
            frame_rows[frame] = label_row(spec, resolved)
        rows.append(frame_rows[names[0]])
        if task.kind == "pairs":
            extra.append(_check_pair(frame_rows))
    return TaskResult(task, pixels, pngs, rows, extra)


def _tasks(
    style: str, seed: int, count: int, pairs: int, keep_png: bool, speech: int = 0
) -> list[Task]:
    return [
        Task(style, seed, kind, start, min(start + CHUNK, total), keep_png and kind != "speech")
        for kind, total in (("main", count), ("pairs", pairs), ("speech", speech))
        for start in range(0, total, CHUNK)
    ]


def _run_tasks(tasks: Sequence[Task], workers: int) -> Iterator[TaskResult]:
    """Results in task order whatever finishes first, so the output never depends on timing."""
    if workers == 1 or len(tasks) <= 1:
        yield from map(run_task, tasks)
        return
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)))
    try:
        yield from pool.map(run_task, tasks)
    finally:
        # On Ctrl-C or an error, drop the queued tasks instead of rendering them all first.
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------------
# writing


def _write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but byte-for-byte reproducible: numpy stamps each zip
    member with the current time, a fixed timestamp keeps identical data identical."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            # Streamed (not via writestr) so a 500 MB image array is not copied once more.
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arrays[key]))


def _write_csv(path: Path, header: Sequence[str], rows: Iterator[Sequence[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _vocab_arrays(columns: Mapping[str, tuple[str, ...]]) -> dict[str, np.ndarray]:
    arrays = {f"vocab_{name}": np.array(values, dtype=str) for name, values in columns.items()}
    arrays["label_names"] = np.array(list(columns), dtype=str)
    return arrays


@dataclass
class Collected:
    """Everything the tasks produced, in index order, ready to be written."""

    images: np.ndarray
    rows: list[dict[str, str]]
    pair_pixels: dict[str, np.ndarray]
    pair_rows: list[dict[str, str]]
    pair_extra: list[dict[str, str]]
    speech_images: np.ndarray
    speech_rows: list[dict[str, str]]


def _pixel_buffer(path: Path, n: int) -> np.ndarray:
    """An (n, 64, 64, 4) uint8 array backed by a scratch file: 100k images are 1.6 GB, which
    need not sit in memory until they are zipped."""
    shape = (n, IMAGE_SIZE, IMAGE_SIZE, 4)
    if n == 0:
        return np.zeros(shape, np.uint8)  # mmap cannot map an empty file
    return np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)


def _collect(
    tasks: Sequence[Task],
    workers: int,
    dirs: Mapping[str, Path],
    scratch: Path,
    width: int,
    progress: Progress,
) -> Collected:
    """Run the tasks; write PNGs as results arrive, gather pixels and labels in index order."""
    count = sum(t.stop - t.start for t in tasks if t.kind == "main")
    pairs = sum(t.stop - t.start for t in tasks if t.kind == "pairs")
    speech = sum(t.stop - t.start for t in tasks if t.kind == "speech")
    out = Collected(
        images=_pixel_buffer(scratch / "images.npy", count),
        rows=[],
        pair_pixels={f: _pixel_buffer(scratch / f"{f}.npy", pairs) for f in PAIR_FRAMES},
        pair_rows=[],
        pair_extra=[],
        speech_images=_pixel_buffer(scratch / "speech.npy", speech),
        speech_rows=[],
    )
    for res in _run_tasks(tasks, workers):
        t = res.task
        if t.kind == "main":
            out.images[t.start : t.stop] = res.pixels["image"]
            out.rows.extend(res.rows)
        elif t.kind == "speech":
            out.speech_images[t.start : t.stop] = res.pixels["image"]
            out.speech_rows.extend(res.rows)
        else:
            for frame in PAIR_FRAMES:
                out.pair_pixels[frame][t.start : t.stop] = res.pixels[frame]
            out.pair_rows.extend(res.rows)
            out.pair_extra.extend(res.extra)
        for frame, pngs in res.pngs.items():
            for index, png in enumerate(pngs, start=t.start):
                (dirs[t.kind] / _png_name(index, width, frame)).write_bytes(png)
        progress.advance(sum(len(p) for p in res.pixels.values()))
    return out


def _index_width(count: int, pairs: int) -> int:
    # Zero-padded so that file names sort in index order.
    return max(6, len(str(max(count, pairs) - 1)))


def _png_name(index: int, width: int, frame: str) -> str:
    return f"{index:0{width}d}.png" if frame == "image" else f"{index:0{width}d}_{frame}.png"


def _write_main(out_dir: Path, spec: Spec, got: Collected, width: int, write_png: bool) -> None:
    columns = list(spec.columns)
    files = [
        f"images/{_png_name(i, width, 'image')}" if write_png else "" for i in range(len(got.rows))
    ]
    _write_csv(
        out_dir / "labels.csv",
        ["index", "file", *columns],
        ([i, files[i], *(row[c] for c in columns)] for i, row in enumerate(got.rows)),
    )
    arrays = {"images": got.images, "labels": _codes(spec, got.rows), **_vocab_arrays(spec.columns)}
    if got.speech_rows:
        arrays["speech_images"] = got.speech_images
        arrays["speech_labels"] = _codes(spec, got.speech_rows)
    _write_npz(out_dir / "portraits_64.npz", arrays)


def _codes(spec: Spec, rows: Sequence[Mapping[str, str]]) -> np.ndarray:
    codes = np.array([encode_row(spec, row) for row in rows], dtype=np.int16)
    return codes.reshape(len(rows), len(spec.columns))


def _write_pairs(pairs_dir: Path, spec: Spec, got: Collected, width: int, write_png: bool) -> None:
    columns = list(spec.columns)
    frame_cols = [f"{frame}_file" for frame in PAIR_FRAMES]

    def row(i: int) -> list[object]:
        names = [f"pairs/{_png_name(i, width, f)}" if write_png else "" for f in PAIR_FRAMES]
        labels = got.pair_rows[i]
        extra = got.pair_extra[i]
        return [i, *names, *(labels[c] for c in columns), extra["openMouth"], extra["closedEyes"]]

    header = ["index", *frame_cols, *columns, "openMouth", "closedEyes"]
    _write_csv(pairs_dir / "labels.csv", header, (row(i) for i in range(len(got.pair_rows))))
    mouths, eyes = spec.columns["mouth"], spec.columns["eyes"]
    arrays = {
        **got.pair_pixels,
        "labels": _codes(spec, got.pair_rows),
        "open_mouth": np.array([mouths.index(e["openMouth"]) for e in got.pair_extra], np.int16),
        "closed_eyes": np.array([eyes.index(e["closedEyes"]) for e in got.pair_extra], np.int16),
        **_vocab_arrays(spec.columns),
    }
    _write_npz(pairs_dir / "pairs.npz", arrays)


def _versions() -> dict[str, str]:
    names = ("dicebear-core", "dicebear-styles", "resvg-py", "numpy", "pillow")
    return {name: metadata.version(name) for name in names}


def _curation_json(spec: Spec) -> dict[str, Any]:
    cur = spec.curation
    return {
        "components": {
            c.name: {"values": list(c.values), "probability": c.probability, "optional": c.optional}
            for c in spec.components
        },
        "colors": {c.name: list(c.values) for c in spec.colors},
        "mouth_state": dict(cur.mouth_state),
        "eyes_state": dict(cur.eyes_state),
        "pair_mouth_families": [
            {"closed": list(c), "open": list(o)} for c, o in cur.mouth_families
        ],
    }


def _manifest(
    spec: Spec, seed: int, count: int, pairs: int, write_png: bool, command: str, speech: int = 0
) -> dict[str, Any]:
    lic = style_licence(spec.style)
    width = _index_width(count, pairs)
    return {
        "name": "assetgen portraits",
        "style": spec.style,
        "licence": {"name": lic.name, "url": lic.url},
        "creator": lic.creator,
        "source": lic.source,
        "attribution": lic.attribution,
        "image_size": IMAGE_SIZE,
        "mode": "RGBA, transparent background",
        "seed": seed,
        "count": count,
        "pairs": pairs,
        "speech": speech,
        "pair_frames": list(PAIR_FRAMES) if pairs else [],
        "png": write_png,
        "files": {
            "images": f"images/{{index:0{width}d}}.png" if write_png else None,
            "labels": "labels.csv",
            "npz": "portraits_64.npz",
            "pairs": f"pairs/{{index:0{width}d}}_{{frame}}.png" if pairs and write_png else None,
            "pairs_labels": "pairs/labels.csv" if pairs else None,
            "pairs_npz": "pairs/pairs.npz" if pairs else None,
        },
        "columns": {name: list(values) for name, values in spec.columns.items()},
        "curation": _curation_json(spec),
        "versions": _versions(),
        "command": command,
    }


# --------------------------------------------------------------------------------------------
# entry points


def _validate(
    count: int, seed: int, style: str, pairs: int, workers: int | None, speech: int
) -> int:
    """Check every argument; return the worker count to use."""
    try:
        check_int("count", count, 1, MAX_COUNT)
        check_int("seed", seed, 0, MAX_SEED)
        check_int("pairs", pairs, 0, MAX_COUNT)
        check_int("speech", speech, 0, MAX_COUNT)
        if workers is not None:
            check_int("workers", workers, 1, MAX_WORKERS)
    except InvalidOptionsError as exc:  # build_dataset's callers catch DatasetArgumentError
        raise DatasetArgumentError(str(exc)) from None
    styles = available_styles()
    if style not in styles:
        raise DatasetArgumentError(f"style must be one of {', '.join(styles)}; got {style!r}")
    if pairs and not style_spec(style).can_pair:
        paired = ", ".join(s for s in CURATIONS if style_spec(s).can_pair)
        raise DatasetArgumentError(
            f"pairs needs a style with a mouth open/closed mapping ({paired}); "
            f"style {style!r} has none, use pairs=0"
        )
    if speech and not style_spec(style).curation.speech_mouths:
        raise DatasetArgumentError(f"speech needs a style with speech mouths; {style!r} has none")
    return (os.cpu_count() or 1) if workers is None else workers


def _check_replaceable(out: Path) -> None:
    """The output folder is replaced as a whole; never do that to a folder we did not make."""
    if out.exists() and not out.is_dir():
        raise DatasetArgumentError(f"out_dir {str(out)!r} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "dataset.json").exists():
        raise DatasetArgumentError(
            f"out_dir {str(out)!r} is not empty and holds no dataset.json; refusing to replace it"
        )


def _build_into(
    tmp: Path,
    spec: Spec,
    seed: int,
    count: int,
    pairs: int,
    workers: int,
    write_png: bool,
    progress: bool,
    speech: int = 0,
) -> tuple[int, float]:
    width = _index_width(count, pairs)
    dirs = {"main": tmp / "images", "pairs": tmp / "pairs"}
    if write_png:
        dirs["main"].mkdir()
    if pairs:
        dirs["pairs"].mkdir()
    tasks = _tasks(spec.style, seed, count, pairs, write_png, speech)
    start = time.monotonic()
    # the core's progress line (tqdm): in place on a terminal, a line every 10 s in a log
    meter = Progress(count + pairs * len(PAIR_FRAMES) + speech, "portraits", enabled=progress,
                     interval=10.0, unit="images")
    scratch = tmp / ".scratch"
    scratch.mkdir()
    try:
        got = _collect(tasks, workers, dirs, scratch, width, meter)
    finally:
        meter.close()
    _write_main(tmp, spec, got, width, write_png)
    if pairs:
        _write_pairs(dirs["pairs"], spec, got, width, write_png)
    del got  # close the memory maps before their files go
    shutil.rmtree(scratch)
    return meter.done, time.monotonic() - start


def build_dataset(
    out_dir: str | os.PathLike[str],
    count: int,
    seed: int = 0,
    style: str = DEFAULT_STYLE,
    pairs: int = 0,
    workers: int | None = None,
    write_png: bool = True,
    progress: bool = True,
    *,
    command: str | None = None,
    speech: int = 0,
) -> dict[str, Any]:
    """Render ``count`` labelled portraits (and ``pairs`` closed/open pairs) into ``out_dir``.

    ``out_dir`` is replaced as a whole (built beside it, then renamed into place); a folder
    that is not empty and holds no ``dataset.json`` is refused. ``workers`` defaults to
    ``os.cpu_count()``; the result does not depend on it. ``command`` is recorded in
    ``dataset.json`` (``main`` passes the real command line; otherwise an equivalent one).
    Returns the contents of ``dataset.json`` plus ``rendered``, ``seconds`` and
    ``images_per_second`` (all frames, pairs included). ``speech`` adds that many images whose
    mouth is any of the style's speech mouths (``speech_images`` / ``speech_labels`` in the
    npz; never held out, never PNG), for the lip-sync shapes. Raises ``DatasetArgumentError`` for
    bad arguments.
    """
    n_workers = _validate(count, seed, style, pairs, workers, speech)
    if command is None:
        command = _equivalent_command(Path(out_dir), count, seed, style, pairs, write_png)
        command += f" --speech {speech}" if speech else ""
    out = Path(out_dir).resolve()  # "." has no name to build a sibling folder from
    _check_replaceable(out)
    spec = style_spec(style)
    manifest = _manifest(spec, seed, count, pairs, write_png, command, speech)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        rendered, seconds = _build_into(
            tmp, spec, seed, count, pairs, n_workers, write_png, progress, speech
        )
        # dataset.json last: its presence marks a complete build.
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        (tmp / "dataset.json").write_text(text, encoding="utf-8")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    rate = rendered / seconds if seconds > 0 else 0.0
    return {**manifest, "rendered": rendered, "seconds": seconds, "images_per_second": rate}


def _equivalent_command(
    out: Path, count: int, seed: int, style: str, pairs: int, write_png: bool
) -> str:
    # the model card's command (the old module forwards it here)
    args = ["python", "-m", "assetgen_portraits.dataset", "--out", str(out), "--count", str(count)]
    args += ["--seed", str(seed), "--style", style, "--pairs", str(pairs)]
    return shlex.join(args + ([] if write_png else ["--no-png"]))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assetgen_portraits.training.dataset_builder",
        description="Render labelled 64x64 RGBA DiceBear portraits (and closed/open mouth pairs).",
    )
    parser.add_argument("--out", required=True, help="output folder (replaced as a whole)")
    parser.add_argument("--count", type=int, required=True, help=f"images, 1 to {MAX_COUNT}")
    parser.add_argument("--seed", type=int, default=0, help="random seed, 0 to 2**63-1 (default 0)")
    parser.add_argument(
        "--style", default=DEFAULT_STYLE, help=f"DiceBear style (default {DEFAULT_STYLE})"
    )
    parser.add_argument("--pairs", type=int, default=0, help="closed/open mouth pairs (default 0)")
    parser.add_argument(
        "--speech", type=int, default=0,
        help="extra images with any speech mouth, for lip sync (default 0)",
    )
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all CPUs)")
    parser.add_argument("--no-png", action="store_true", help="write only the .npz files")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(raw)
    command = shlex.join(["python", "-m", "assetgen_portraits.dataset", *raw])  # as the card
    try:
        result = build_dataset(
            args.out,
            args.count,
            seed=args.seed,
            style=args.style,
            pairs=args.pairs,
            speech=args.speech,
            workers=args.workers,
            write_png=not args.no_png,
            progress=not args.quiet,
            command=command,
        )
    except DatasetArgumentError as exc:
        parser.error(str(exc))  # exits with status 2
    if not args.quiet:
        print(
            f"portraits: wrote {args.count} images and {args.pairs} pairs to {args.out} "
            f"({result['images_per_second']:.0f} img/s)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
