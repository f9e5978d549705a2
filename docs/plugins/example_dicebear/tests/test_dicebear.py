"""The package's own tests: the dicebear generator through the AssetGen engine.

Install the package first (`pip install -e .`), then run `pytest` here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from assetgen import Engine, InvalidOptionsError

# Cheap styles to draw (the first avatar of a style pays for checking its definition).
CC0_STYLE, CC_BY_STYLE = "stack", "dylan"


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = Engine(plugins=["dicebear", "exporters"])
    if "dicebear" not in {info.id for info in engine.generators()}:
        pytest.fail("the dicebear plugin did not load; run `pip install -e .` first")
    return engine


def draw(engine: Engine, seed: int = 1, **options: object) -> np.ndarray:
    (avatar,) = engine.generate("dicebear", seed=seed, size=48, **options)
    return avatar.rgba


def test_the_seed_alone_decides_the_avatar(engine: Engine) -> None:
    assert np.array_equal(draw(engine, 5, style=CC0_STYLE), draw(engine, 5, style=CC0_STYLE))
    assert not np.array_equal(draw(engine, 5, style=CC0_STYLE), draw(engine, 6, style=CC0_STYLE))


def test_avatars_are_transparent_unless_a_background_is_asked_for(engine: Engine) -> None:
    assert draw(engine, style=CC_BY_STYLE)[0, 0, 3] == 0
    assert draw(engine, style=CC_BY_STYLE, background=True)[0, 0, 3] == 255
    red = draw(engine, style=CC_BY_STYLE, style_options="backgroundColor=ff0000")
    assert red[0, 0].tolist() == [255, 0, 0, 255]


def test_the_url_and_the_json_spelling_of_style_options_agree(engine: Engine) -> None:
    url = draw(engine, style=CC0_STYLE, style_options="flip=horizontal&rotate=10")
    as_json = draw(engine, style=CC0_STYLE, style_options='{"flip": "horizontal", "rotate": 10}')
    assert np.array_equal(url, as_json)


def test_flip_mirrors_the_avatar(engine: Engine) -> None:
    flipped = draw(engine, style=CC0_STYLE, style_options="flip=horizontal").astype(int)
    mirrored = draw(engine, style=CC0_STYLE)[:, ::-1].astype(int)
    # Equal but for anti-aliasing: edges fall on other sub-pixel positions when mirrored.
    assert (np.abs(flipped - mirrored) > 8).mean() < 0.01


def test_a_name_goes_before_the_seed_number(engine: Engine) -> None:
    (named,) = engine.generate("dicebear", seed=4, style=CC0_STYLE, name="Ada Lovelace")
    (unnamed,) = engine.generate("dicebear", seed=4, style=CC0_STYLE)
    assert named.metadata["dicebear"]["seed"] == "Ada Lovelace 4"
    assert not np.array_equal(named.rgba, unnamed.rgba)


def test_each_avatar_carries_its_style_licence(engine: Engine) -> None:
    (cc0,) = engine.generate("dicebear", style=CC0_STYLE, size=32)
    (cc_by,) = engine.generate("dicebear", style=CC_BY_STYLE, size=32)
    assert cc0.metadata["licence"]["name"] == "CC0 1.0"
    assert cc_by.metadata["licence"]["name"] == "CC BY 4.0"
    assert "Natalia Spivak" in cc_by.metadata["licence"]["attribution"]


@pytest.mark.parametrize(
    ("style_options", "message"),
    [
        ("flip=sideways", "style option 'flip' of style 'stack' must be one or more of 'none'"),
        ("rotate=720", "style option 'rotate' of style 'stack' must be a number from -360"),
        ("fliip=none", "unknown style option 'fliip' for style 'stack'; did you mean 'flip'?"),
        ("seed=abc", "style option 'seed' cannot be set"),
        ("flip", "takes name=value pairs joined by '&'"),
        ("{not json", "is not valid JSON"),
        ('{"rotate": [1, 2, 3]}', "(a range is one or two numbers)"),
    ],
)
def test_style_options_are_checked_against_the_style(
    engine: Engine, style_options: str, message: str
) -> None:
    with pytest.raises(InvalidOptionsError, match=re.escape(message)):
        engine.generate("dicebear", style=CC0_STYLE, style_options=style_options)
