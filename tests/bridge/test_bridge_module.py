"""assetgen.bridge, the Python half of the .NET bridge, without Mono: JSON in, bytes out."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np
import pytest

import assetgen
from assetgen import (
    Engine,
    Generator,
    ImageAsset,
    InvalidOptionsError,
    PluginError,
    TextAsset,
    UnknownGeneratorError,
)
from assetgen.bridge import Bridge, open_bridge, parse_options_json


@pytest.fixture(scope="module")
def bridge(testkit_engine: Engine) -> Bridge:
    return Bridge(testkit_engine)


@pytest.mark.parametrize("empty", [None, "", "  \n", "null", "{}"])
def test_no_options_mean_the_defaults(empty: str | None) -> None:
    assert parse_options_json(empty) == {}


def test_options_json_keeps_types() -> None:
    text = '{"size": 64, "scale": 1.5, "label": "Grüß", "tint": {"r": -0.5}, "x": null}'
    assert parse_options_json(text) == {
        "size": 64,
        "scale": 1.5,
        "label": "Grüß",
        "tint": {"r": -0.5},
        "x": None,
    }


@pytest.mark.parametrize(
    "text, words",
    [
        ("{size: 64}", "not valid JSON"),
        ('{"size": 64', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"size"', "must be a JSON object"),
        ('{"seed": 3}', "'seed' is an argument of the request"),
        ('{"frames": 3, "size": 8}', "'frames' is an argument of the request"),
    ],
)
def test_bad_options_json_is_refused_by_name(text: str, words: str) -> None:
    with pytest.raises(InvalidOptionsError, match=words) as info:
        parse_options_json(text)
    assert info.value.parameter in ("options", "seed", "frames")


def test_images_equal_the_python_api(bridge: Bridge, testkit_engine: Engine) -> None:
    (asset,) = testkit_engine.generate("blob", seed=5, size=24, color="green")
    assert isinstance(asset, ImageAsset)
    options = '{"size": 24, "color": "green"}'
    assert bridge.generate_png("blob", 5, options) == asset.to_png()
    width, height, pixels = bridge.generate_rgba("blob", 5, options)
    assert (width, height) == (24, 24)
    rgba = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width, 4)
    assert np.array_equal(rgba, asset.rgba)


def test_animations_equal_the_python_api(bridge: Bridge, testkit_engine: Engine) -> None:
    anim = testkit_engine.animate("blob", seed=2, frames=5, size=16, speed=2.0)
    options = '{"size": 16, "speed": 2.0}'
    assert bridge.animate_png("blob", 2, options, 5) == [f.to_png() for f in anim.frames]
    width, height, frames, pixels = bridge.animate_rgba("blob", 2, options, 5)
    assert (width, height, frames) == (16, 16, 5)
    assert pixels == b"".join(f.rgba.tobytes() for f in anim.frames)


def test_without_frames_the_engine_decides(bridge: Bridge, testkit_engine: Engine) -> None:
    anim = testkit_engine.animate("blob", seed=2, size=16)  # the test kit has no opinion: 8
    assert bridge.animate_png("blob", 2, '{"size": 16}') == [f.to_png() for f in anim.frames]
    assert bridge.animate_rgba("blob", 2, '{"size": 16}')[2] == len(anim.frames) == 8


def test_text_follows_the_seeding_rule(bridge: Bridge, testkit_engine: Engine) -> None:
    lines = bridge.generate_text("echo", 40, 3, '{"words": 3}')
    assets = testkit_engine.generate("echo", seed=40, count=3, words=3)
    assert lines == [a.text for a in assets if isinstance(a, TextAsset)]
    assert lines[2] == bridge.generate_text("echo", 42, 1, '{"words": 3}')[0]


def test_discovery(bridge: Bridge) -> None:
    assert bridge.ping() == assetgen.__version__
    assert bridge.generator_ids() == ["blob", "crashing", "echo"]
    assert '"kind": "text"' in bridge.info_json("echo")
    with pytest.raises(UnknownGeneratorError, match="unknown generator 'nope'"):
        bridge.info_json("nope")


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda b: b.generate_png("echo", 1, None), "makes text assets, so GeneratePng"),
        (lambda b: b.generate_rgba("echo", 1, None), "makes text assets, so GenerateRgba"),
        (lambda b: b.generate_text("blob", 1, 1, None), "makes image assets, so GenerateText"),
    ],
)
def test_a_call_that_cannot_serve_the_generator_is_refused_before_work(
    bridge: Bridge, call: Callable[[Bridge], object], words: str
) -> None:
    with pytest.raises(InvalidOptionsError, match=words):
        call(bridge)


def test_a_plugin_that_breaks_its_declared_kind_is_a_plugin_error() -> None:
    class Liar(Generator):
        id = "liar"
        kind = "image"

        def generate(self, seed: int, options: object) -> ImageAsset:
            return TextAsset(text="not a picture")  # type: ignore[return-value]

    plugin = ModuleType("liar_plugin")

    @assetgen.hookimpl
    def register_generators(register: Callable[[type[Generator]], None]) -> None:
        register(Liar)

    plugin.register_generators = register_generators  # type: ignore[attr-defined]
    bridge = Bridge(Engine(device="cpu", plugins=[plugin]))
    with pytest.raises(PluginError, match="returned a text asset"):
        bridge.generate_png("liar", 1, None)


def test_open_bridge_refuses_an_unknown_device() -> None:
    with pytest.raises(InvalidOptionsError, match="device must be one of"):
        open_bridge("tpu")
