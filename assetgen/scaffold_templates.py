"""The files ``assetgen new-plugin`` writes, one small working generator per kind.

Placeholders (:class:`string.Template`): ``$gen_id`` (generator id and entry-point name),
``$package``, ``$distribution``, ``$cls`` (class-name prefix) and ``$assetgen_version``.
The tests scaffold every kind, lint the result with ruff and run its tests, so a template
that stops working, or stops passing lint, fails there.
"""

from __future__ import annotations

from string import Template

KINDS = ("image", "animation", "text")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "$summary"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["assetgen>=$assetgen_version", "numpy>=1.24"]

[project.optional-dependencies]
test = ["pytest>=8"]

# AssetGen finds plugins through this entry-point group: the name on the left is the
# plugin's name (ASSETGEN_LOAD_PLUGINS, Engine(plugins=[...])), the right is the module
# holding its hook implementations.
[project.entry-points.assetgen]
$gen_id = "$package.plugin"

[tool.setuptools]
packages = ["$package"]

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.ruff]
line-length = 100
target-version = "py311"

[tool.ruff.lint]
select = ["E", "F", "W", "I", "UP", "B"]
"""

INIT = '''\
"""$summary: an AssetGen generator plugin (see README.md)."""
'''

PLUGIN = '''\
"""The module the `assetgen` entry point names: it registers this package's generator."""

from __future__ import annotations

from collections.abc import Callable

from assetgen import Generator, hookimpl

from .generator import ${cls}Generator


@hookimpl
def register_generators(register: Callable[[type[Generator]], None]) -> None:
    register(${cls}Generator)
'''

GENERATORS = {
    "image": '''\
"""The $gen_id generator: symmetric pixel-art sprites drawn from a seed.

A sprite starts as a small grid of cells: the left half is filled at random, the right half
mirrors it, and every cell becomes a square block of pixels. Replace ``draw_sprite`` with
your own drawing, and keep it a function of the seed and the options only: item k of a
request with seed s is made with seed s + k, and the same seed must give the same sprite.
"""

from __future__ import annotations

import numpy as np
from assetgen import Generator, ImageAsset, InvalidOptionsError, Options, option

# Three shades per palette: body, highlight, outline.
PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "forest": ((64, 140, 72), (150, 205, 110), (24, 48, 30)),
    "ember": ((206, 84, 40), (250, 180, 80), (72, 24, 16)),
    "frost": ((70, 130, 210), (190, 225, 255), (20, 36, 80)),
    "amethyst": ((140, 80, 190), (215, 170, 240), (44, 20, 64)),
}


class ${cls}Options(Options):
    size: int = option(64, "Sprite width and height in pixels.", ge=8, le=512)
    cells: int = option(8, "Cells across the sprite; fewer give chunkier shapes.", ge=4, le=32)
    fill: float = option(0.5, "Share of the cells that are filled.", ge=0.1, le=0.9)
    palette: str = option(
        "any", "Colour palette; any lets the seed choose.", choices=("any", *PALETTES)
    )
    outline: bool = option(True, "Draw a dark outline around the shape.")


def draw_sprite(seed: int, options: ${cls}Options) -> np.ndarray:
    """An RGBA sprite of ``size`` x ``size`` pixels, transparent around the shape."""
    rng = np.random.default_rng(seed)
    # Drawn even when the option fixes the palette, so that choosing a palette recolours a
    # sprite without changing its shape.
    seeded_palette = list(PALETTES)[int(rng.integers(len(PALETTES)))]
    palette = seeded_palette if options.palette == "any" else options.palette
    body, highlight, outline = PALETTES[palette]
    cells = options.cells
    half = (cells + 1) // 2
    left = rng.random((cells, half)) < options.fill
    shiny = rng.random((cells, half)) < 0.25
    shape = np.concatenate([left, left[:, : cells // 2][:, ::-1]], axis=1)
    shine = np.concatenate([shiny, shiny[:, : cells // 2][:, ::-1]], axis=1) & shape

    grid = np.zeros((cells + 2, cells + 2, 4), np.uint8)  # an empty cell of margin all round
    inner = grid[1:-1, 1:-1]
    inner[shape] = (*body, 255)
    inner[shine] = (*highlight, 255)
    if options.outline:
        filled = grid[..., 3] > 0
        touching = np.zeros_like(filled)
        touching[1:, :] |= filled[:-1, :]
        touching[:-1, :] |= filled[1:, :]
        touching[:, 1:] |= filled[:, :-1]
        touching[:, :-1] |= filled[:, 1:]
        grid[touching & ~filled] = (*outline, 255)
    return upscale(grid, options.size)


def upscale(grid: np.ndarray, size: int) -> np.ndarray:
    """Cells as square blocks of pixels, centred on a transparent ``size`` x ``size`` canvas."""
    block = size // grid.shape[0]
    sprite = grid.repeat(block, axis=0).repeat(block, axis=1)
    canvas = np.zeros((size, size, 4), np.uint8)
    top = (size - sprite.shape[0]) // 2
    canvas[top : top + sprite.shape[0], top : top + sprite.shape[1]] = sprite
    return canvas


class ${cls}Generator(Generator):
    id = "$gen_id"
    kind = "image"
    description = "symmetric pixel-art sprites"
    Options = ${cls}Options

    def validate(self, options: ${cls}Options) -> None:
        # Ranges of single options are declared in option(); a rule that ties two options
        # together goes here, and runs before any work.
        if options.size < options.cells + 2:
            raise InvalidOptionsError(
                f"option 'size' must be at least cells + 2 = {options.cells + 2} so that "
                f"every cell gets a pixel; got {options.size}",
                parameter="size",
                value=options.size,
            )

    def generate(self, seed: int, options: ${cls}Options) -> ImageAsset:
        return ImageAsset(draw_sprite(seed, options))
''',
    "animation": '''\
"""The $gen_id generator: spinning coins, still or animated.

``generate`` draws a coin face-on; ``animate`` turns it about its upright axis over the
frames (heads, edge, tails, edge) and ends where it started, so the loop plays seamlessly.
Replace ``draw_coin`` with your own drawing, and keep it a function of the seed, the angle
and the options only: item k of a request with seed s is made with seed s + k, and the same
seed must give the same coin.
"""

from __future__ import annotations

import math

import numpy as np
from assetgen import AnimationAsset, Generator, ImageAsset, Options, option

# Face and rim colour of each metal.
METALS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "gold": ((235, 180, 50), (150, 100, 20)),
    "silver": ((205, 210, 220), (110, 115, 130)),
    "copper": ((210, 120, 70), (120, 60, 30)),
}


class ${cls}Options(Options):
    size: int = option(32, "Width and height in pixels.", ge=8, le=512)
    metal: str = option(
        "any", "Metal of the coin; any lets the seed choose.", choices=("any", *METALS)
    )


class ${cls}AnimationOptions(${cls}Options):
    turns: int = option(1, "Full turns in one loop of the animation.", ge=1, le=4)
    fps: float = option(12.0, "Playback speed in frames per second.", ge=1.0, le=60.0)


def draw_coin(
    seed: int, angle: float, options: ${cls}Options
) -> np.ndarray:
    """The coin turned by ``angle`` radians (0 is face-on): RGBA, transparent around it."""
    rng = np.random.default_rng(seed)
    # Drawn even when the option fixes the metal, so that choosing a metal recolours a coin
    # without changing its emblem.
    seeded_metal = list(METALS)[int(rng.integers(len(METALS)))]
    face, rim = METALS[seeded_metal if options.metal == "any" else options.metal]
    petals = int(rng.integers(3, 9))  # the emblem is a flower of 3 to 8 petals
    twist = float(rng.uniform(0.0, 2 * math.pi))

    size = options.size
    radius = size * 0.45
    # A turning disc, seen from the front, is an ellipse; edge-on it stays a pixel wide.
    squash = max(abs(math.cos(angle)), 1.0 / radius)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    u = (xx - size / 2) / (radius * squash)
    v = (yy - size / 2) / radius
    r = np.hypot(u, v)
    coin = r <= 1.0
    if math.cos(angle) >= 0:  # heads: a flower
        emblem = r < 0.45 + 0.2 * np.cos(petals * np.arctan2(v, u) + twist)
    else:  # tails: a ring
        emblem = (r > 0.35) & (r < 0.5)
    light = 0.6 + 0.4 * abs(math.cos(angle))  # the face darkens as it turns away

    img = np.zeros((size, size, 4), np.uint8)
    img[coin] = (*shade(face, light), 255)
    img[coin & (emblem | (r > 0.8))] = (*shade(rim, light), 255)
    return img


def shade(rgb: tuple[int, int, int], light: float) -> tuple[int, ...]:
    return tuple(round(channel * light) for channel in rgb)


class ${cls}Generator(Generator):
    id = "$gen_id"
    kind = "image"  # it makes images, and animations of them through animate()
    description = "spinning coins (stills, and looping animations with assetgen animate)"
    Options = ${cls}Options
    AnimationOptions = ${cls}AnimationOptions

    def generate(self, seed: int, options: ${cls}Options) -> ImageAsset:
        return ImageAsset(draw_coin(seed, 0.0, options))

    def animate(
        self, seed: int, frames: int, options: ${cls}AnimationOptions
    ) -> AnimationAsset:
        step = 2 * math.pi * options.turns / frames
        images = [ImageAsset(draw_coin(seed, k * step, options)) for k in range(frames)]
        return AnimationAsset(images, fps=options.fps)
''',
    "text": '''\
"""The $gen_id generator: names of loot items, drawn from a seed.

A name is a quality that fits the item's rarity, a material and an item, and for rarer
items a title ("of the North Wind"). Replace the word lists, or ``make_name``, with your own,
and keep it a function of the seed and the options only: item k of a request with seed s is
made with seed s + k, and the same seed must give the same name.
"""

from __future__ import annotations

import numpy as np
from assetgen import Generator, Options, TextAsset, option

RARITIES = ("common", "rare", "legendary")
# How often the seed picks each rarity, and how often an item of that rarity has a title.
RARITY_WEIGHTS = (0.7, 0.25, 0.05)
TITLE_CHANCE = {"common": 0.0, "rare": 0.5, "legendary": 1.0}
# The same number of qualities per rarity, so a fixed rarity changes only the quality word.
QUALITIES = {
    "common": ("worn", "plain", "sturdy", "rusty", "patched"),
    "rare": ("gleaming", "runed", "balanced", "keen", "blessed"),
    "legendary": ("ancient", "starforged", "whispering", "undying", "sunlit"),
}
MATERIALS = ("oak", "iron", "bronze", "silver", "bone", "glass", "obsidian", "moonsteel")
ITEMS = ("sword", "dagger", "axe", "bow", "staff", "shield", "helm", "ring", "amulet", "lantern")
TITLES = ("of embers", "of the tide", "of the north wind", "of whispers", "of the last king")
SMALL_WORDS = {"of", "the"}


class ${cls}Options(Options):
    rarity: str = option(
        "any", "Rarity of the item; any lets the seed choose.", choices=("any", *RARITIES)
    )
    title_case: bool = option(True, "Capitalise the words of the name.")


def make_name(seed: int, options: ${cls}Options) -> tuple[str, str]:
    """The item's name and its rarity."""
    rng = np.random.default_rng(seed)
    # Every draw is made whatever the options, so fixing the rarity keeps the rest of the name.
    seeded_rarity = RARITIES[int(rng.choice(len(RARITIES), p=RARITY_WEIGHTS))]
    quality = int(rng.integers(len(QUALITIES["common"])))
    material = MATERIALS[int(rng.integers(len(MATERIALS)))]
    item = ITEMS[int(rng.integers(len(ITEMS)))]
    title = TITLES[int(rng.integers(len(TITLES)))]
    titled = rng.random()

    rarity = seeded_rarity if options.rarity == "any" else options.rarity
    words = [QUALITIES[rarity][quality], material, item]
    if titled < TITLE_CHANCE[rarity]:
        words += title.split()
    if options.title_case:
        words = [w if w in SMALL_WORDS and i else w.capitalize() for i, w in enumerate(words)]
    return " ".join(words), rarity


class ${cls}Generator(Generator):
    id = "$gen_id"
    kind = "text"
    description = "names of loot items"
    Options = ${cls}Options

    def generate(self, seed: int, options: ${cls}Options) -> TextAsset:
        name, rarity = make_name(seed, options)
        return TextAsset(text=name, metadata={"rarity": rarity})
''',
}

TEST_HEADER = '''\
"""Tests of the $gen_id generator, through AssetGen as users call it.

Install the plugin first (`pip install -e .`): the engine finds it through its entry point.
"""

from __future__ import annotations

$test_imports

GENERATOR = "$gen_id"
PLUGIN = "$gen_id"  # the entry-point name in pyproject.toml


@pytest.fixture(scope="module")
def engine() -> Engine:
    # Only this plugin and the built-in exporters load, whatever else is installed.
    engine = Engine(plugins=[PLUGIN, "exporters"])
    if GENERATOR not in {info.id for info in engine.generators()}:
        problems = "; ".join(f.message() for f in engine.plugin_failures()) or "none reported"
        pytest.fail(f"generator {GENERATOR!r} did not load ({problems}); run `pip install -e .`")
    return engine
'''

TEST_COMMON = '''

def test_item_k_of_a_request_is_made_with_seed_plus_k(engine: Engine) -> None:
    batch = engine.generate(GENERATOR, seed=10, count=3)
    singles = [engine.generate(GENERATOR, seed=seed)[0] for seed in (10, 11, 12)]
    assert [a.metadata["seed"] for a in batch] == [10, 11, 12]
    assert [same(a, b) for a, b in zip(batch, singles, strict=True)] == [True, True, True]


def test_unknown_options_are_refused_by_name(engine: Engine) -> None:
    with pytest.raises(InvalidOptionsError, match="unknown option 'colour'"):
        engine.generate(GENERATOR, colour="red")
'''

# Sorted as ruff sorts them in the new project, where assetgen is a third-party package.
_IMAGE_TEST_IMPORTS = """\
import numpy as np
import pytest
from assetgen import Engine, InvalidOptionsError
from PIL import Image"""
TEST_IMPORTS = {
    "image": _IMAGE_TEST_IMPORTS,
    "animation": _IMAGE_TEST_IMPORTS,
    "text": "import json\n\nimport pytest\nfrom assetgen import Engine, InvalidOptionsError",
}

TESTS = {
    "image": '''

def same(a, b) -> bool:
    return np.array_equal(a.rgba, b.rgba)


def test_is_an_image_generator(engine: Engine) -> None:
    info = engine.generator_info(GENERATOR)
    assert (info.kind, info.plugin, info.can_animate) == ("image", PLUGIN, False)


def test_the_same_seed_gives_the_same_sprite_and_others_differ(engine: Engine) -> None:
    first, again, other = (engine.generate(GENERATOR, seed=s)[0] for s in (1, 1, 2))
    assert same(first, again)
    assert not same(first, other)


def test_sprites_are_symmetric_and_transparent_around(engine: Engine) -> None:
    (sprite,) = engine.generate(GENERATOR, seed=4, size=40, cells=8)
    assert np.array_equal(sprite.rgba, sprite.rgba[:, ::-1])
    assert sprite.rgba[0, 0, 3] == 0 and sprite.rgba[..., 3].max() == 255


def test_a_palette_recolours_without_changing_the_shape(engine: Engine) -> None:
    forest, ember = (engine.generate(GENERATOR, seed=5, palette=p)[0] for p in ("forest", "ember"))
    assert np.array_equal(forest.rgba[..., 3], ember.rgba[..., 3])
    assert not same(forest, ember)


def test_png_files_have_the_size_asked_for(engine: Engine, tmp_path) -> None:
    sprites = engine.generate(GENERATOR, seed=3, count=2, size=48)
    paths = engine.export(sprites, "png", tmp_path)
    assert [p.name for p in paths] == [f"{GENERATOR}_3.png", f"{GENERATOR}_4.png"]
    with Image.open(paths[0]) as img:
        assert (img.size, img.mode) == ((48, 48), "RGBA")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": 4}, "option 'size' must be an integer from 8 to 512"),
        ({"palette": "neon"}, "option 'palette' must be one of 'any', 'forest'"),
        ({"size": 12, "cells": 16}, "option 'size' must be at least cells"),
    ],
)
def test_bad_options_are_refused_with_what_is_allowed(engine: Engine, options, message) -> None:
    with pytest.raises(InvalidOptionsError, match=message):
        engine.generate(GENERATOR, **options)
''',
    "animation": '''

def same(a, b) -> bool:
    return np.array_equal(a.rgba, b.rgba)


def test_is_an_image_generator_that_animates(engine: Engine) -> None:
    info = engine.generator_info(GENERATOR)
    assert (info.kind, info.plugin, info.can_animate) == ("image", PLUGIN, True)


def test_the_same_seed_gives_the_same_coin_and_others_differ(engine: Engine) -> None:
    first, again, other = (engine.generate(GENERATOR, seed=s)[0] for s in (1, 1, 2))
    assert same(first, again)
    assert not same(first, other)


def test_an_animation_starts_on_the_still_and_every_frame_moves(engine: Engine) -> None:
    (still,) = engine.generate(GENERATOR, seed=7, size=40)
    spin = engine.animate(GENERATOR, seed=7, frames=8, size=40)
    assert len(spin.frames) == 8 and (spin.width, spin.height) == (40, 40)
    assert same(spin.frames[0], still)
    for before, after in zip(spin.frames, spin.frames[1:], strict=False):
        assert not same(before, after)
    again = engine.animate(GENERATOR, seed=7, frames=8, size=40)
    assert all(same(a, b) for a, b in zip(spin.frames, again.frames, strict=True))


def test_gif_and_sprite_sheet_export(engine: Engine, tmp_path) -> None:
    spin = engine.animate(GENERATOR, seed=2, frames=6, fps=10.0)
    (gif,) = engine.export([spin], "gif", tmp_path)
    with Image.open(gif) as img:
        assert img.n_frames == 6
    sheet = engine.export([spin], "sheet", tmp_path)
    assert sorted(p.suffix for p in sheet) == [".json", ".png"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": 4}, "option 'size' must be an integer from 8 to 512"),
        ({"metal": "tin"}, "option 'metal' must be one of 'any', 'gold'"),
        ({"turns": 9}, "option 'turns' must be an integer from 1 to 4"),
    ],
)
def test_bad_options_are_refused_with_what_is_allowed(engine: Engine, options, message) -> None:
    with pytest.raises(InvalidOptionsError, match=message):
        engine.animate(GENERATOR, frames=4, **options)
''',
    "text": '''

def same(a, b) -> bool:
    return a.text == b.text


def test_is_a_text_generator(engine: Engine) -> None:
    info = engine.generator_info(GENERATOR)
    assert (info.kind, info.plugin) == ("text", PLUGIN)


def test_the_same_seed_gives_the_same_name_and_seeds_vary(engine: Engine) -> None:
    assert same(engine.generate(GENERATOR, seed=1)[0], engine.generate(GENERATOR, seed=1)[0])
    names = {asset.text for asset in engine.generate(GENERATOR, seed=0, count=20)}
    assert len(names) > 10


def test_legendary_items_carry_a_title(engine: Engine) -> None:
    for item in engine.generate(GENERATOR, seed=0, count=10, rarity="legendary"):
        assert " of " in item.text and item.metadata["rarity"] == "legendary"


def test_jsonl_export(engine: Engine, tmp_path) -> None:
    names = engine.generate(GENERATOR, seed=3, count=4, title_case=False)
    (path,) = engine.export(names, "jsonl", tmp_path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["text"] for r in records] == [n.text for n in names]
    assert all(r["text"] == r["text"].lower() for r in records)


def test_bad_options_are_refused_with_what_is_allowed(engine: Engine) -> None:
    with pytest.raises(InvalidOptionsError, match="option 'rarity' must be one of 'any'"):
        engine.generate(GENERATOR, rarity="mythic")
''',
}

SUMMARIES = {
    "image": "symmetric pixel-art sprites",
    "animation": "spinning coins, still and animated",
    "text": "names of loot items",
}

USAGE = {
    "image": "assetgen generate $gen_id --seed 1 --count 8 --out out/$gen_id -o palette=ember",
    "animation": "assetgen animate $gen_id --seed 1 --frames 12 --format gif,sheet "
    "--out out/$gen_id",
    "text": "assetgen generate $gen_id --seed 1 --count 8 --format jsonl --out out/$gen_id "
    "-o rarity=rare",
}

README = """\
# $distribution

An AssetGen plugin with one generator, `$gen_id`: $summary.
Made with `assetgen new-plugin`; the generator works as it is, and is meant to be replaced
with your own.

## Try it

```sh
pip install -e .     # installs the package and registers the plugin (entry point "$gen_id")
assetgen plugins     # lists $gen_id
assetgen info $gen_id
$usage
pytest               # the plugin's own tests
```

From Python:

```python
from assetgen import Engine

engine = Engine(plugins=["$gen_id", "exporters"])   # or Engine() for every installed plugin
assets = engine.generate("$gen_id", seed=7, count=4)
```

## Where things are

| file | what |
|---|---|
| `$package/generator.py` | the generator: its options and the code that makes each asset |
| `$package/plugin.py` | the hook that registers the generator with AssetGen |
| `pyproject.toml` | the package, and the `assetgen` entry point that points at `plugin.py` |
| `tests/` | tests through the AssetGen engine: seeding rule, options, export |

## Rules a generator keeps

- The same seed and options give the same asset; item k of a request with seed s is made
  with seed s + k (test `test_item_k_of_a_request_is_made_with_seed_plus_k`).
- Every option is declared with `option(default, description, ...)` and its allowed values,
  so the command line, the Python API and the C# bridge all check and document it.
- Errors a user can cause are `assetgen.InvalidOptionsError` naming the option.

The AssetGen plugin docs (`docs/plugins/` in the AssetGen repository) go further: the
tutorial, exporters, testing, and shipping a model.
"""


def render_project(kind: str, **names: str) -> dict[str, str]:
    """Every file of a new project, by path relative to the project folder."""
    fields = dict(names, summary=SUMMARIES[kind], test_imports=TEST_IMPORTS[kind])
    fields["usage"] = Template(USAGE[kind]).substitute(fields)
    package, gen_id = fields["package"], fields["gen_id"]
    templates = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"{package}/__init__.py": INIT,
        f"{package}/plugin.py": PLUGIN,
        f"{package}/generator.py": GENERATORS[kind],
        f"tests/test_{gen_id.replace('-', '_')}.py": TEST_HEADER + TESTS[kind] + TEST_COMMON,
    }
    return {path: Template(text).substitute(fields) for path, text in templates.items()}
