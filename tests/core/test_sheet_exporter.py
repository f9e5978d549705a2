"""The ``sheet`` format as importers read it (issue 24, point 6): frames padded with their own
extruded border, a pivot on every frame, file-style frame names, and frame tags named after
the animation. docs/plugins/exporters.md ("The sheet format") describes every field."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from assetgen_exporters.images import PIVOTS, SheetExporter
from PIL import Image

from assetgen import AnimationAsset, Engine, ImageAsset, InvalidOptionsError


def _image(seed: int, w: int = 6, h: int = 5, **metadata: Any) -> ImageAsset:
    rgba = np.random.default_rng(seed).integers(0, 256, (h, w, 4), dtype=np.uint8)
    return ImageAsset(rgba, metadata={"generator": "blob", "seed": seed, **metadata})


def _animation(
    seed: int, animation: str | None, frames: int = 3, **metadata: Any
) -> AnimationAsset:
    meta: dict[str, Any] = {"generator": "portraits", "seed": seed, **metadata}
    if animation is not None:
        meta["animation"] = animation
    return AnimationAsset([_image(seed * 10 + i) for i in range(frames)], fps=10, metadata=meta)


def _render(assets: list[Any], **options: Any) -> tuple[np.ndarray, dict[str, Any]]:
    png, table = SheetExporter(**options).render(assets, "out")
    assert (png.name, table.name) == ("out.png", "out.json")
    with Image.open(io.BytesIO(png.data)) as im:
        sheet = np.array(im.convert("RGBA"))
    return sheet, json.loads(table.data)


@pytest.mark.parametrize("padding", [0, 1, 2, 5])
def test_each_frame_is_surrounded_by_its_own_extruded_border(padding: int) -> None:
    anim = _animation(3, "talk", frames=4)
    sheet, data = _render([anim], padding=padding)
    assert data["meta"]["padding"] == padding
    assert data["meta"]["size"] == {"w": sheet.shape[1], "h": sheet.shape[0]}
    # one strip of four cells, each frame plus `padding` px on every side
    assert sheet.shape[:2] == (5 + 2 * padding, 4 * (6 + 2 * padding))
    for entry, frame in zip(data["frames"], anim.frames, strict=True):
        r = entry["frame"]
        assert (r["w"], r["h"]) == (6, 5)
        inner = sheet[r["y"] : r["y"] + r["h"], r["x"] : r["x"] + r["w"]]
        assert np.array_equal(inner, frame.rgba)
        cell = sheet[
            r["y"] - padding : r["y"] + r["h"] + padding,
            r["x"] - padding : r["x"] + r["w"] + padding,
        ]
        # every padding pixel repeats the nearest border pixel of the same frame
        edge = np.pad(frame.rgba, ((padding, padding), (padding, padding), (0, 0)), mode="edge")
        assert np.array_equal(cell, edge)


def test_padding_is_kept_between_frames_of_different_sizes() -> None:
    small, large = _image(1, w=4, h=4), _image(2, w=8, h=6)
    sheet, data = _render([small, large], padding=2)
    assert data["meta"]["size"] == {"w": 2 * (8 + 4), "h": 1 * (6 + 4)}
    a, b = (e["frame"] for e in data["frames"])
    assert (a["x"], a["y"], b["x"], b["y"]) == (2, 2, 14, 2)
    # the small frame's cell beyond its extruded border stays transparent
    assert not sheet[:, 4 + 2 * 2 : 12].any()


def test_the_default_pivot_is_the_centre_and_others_can_be_named_or_given() -> None:
    _, data = _render([_animation(1, "blink")])
    assert [e["pivot"] for e in data["frames"]] == [{"x": 0.5, "y": 0.5}] * 3
    _, data = _render([_image(1)], pivot="bottom-center")
    assert data["frames"][0]["pivot"] == {"x": 0.5, "y": 1.0}  # y from the top, as the rects
    _, data = _render([_image(1)], pivot=(0.25, 0.75))
    assert data["frames"][0]["pivot"] == {"x": 0.25, "y": 0.75}
    assert PIVOTS["top-left"] == (0.0, 0.0) and PIVOTS["bottom-right"] == (1.0, 1.0)


def test_frames_are_named_like_files() -> None:
    _, data = _render([_image(4), _image(5)])
    assert [e["filename"] for e in data["frames"]] == ["blob_4.png", "blob_5.png"]
    _, data = _render([_animation(7, "talk")])
    assert [e["filename"] for e in data["frames"]] == [
        "portraits_7_talk_0.png",
        "portraits_7_talk_1.png",
        "portraits_7_talk_2.png",
    ]


@pytest.mark.parametrize("animation", ["talk", "blink", "interpolate", "morph", "shapes"])
def test_one_animation_is_tagged_with_its_name(animation: str) -> None:
    _, data = _render([_animation(7, animation, frames=4)])
    assert data["meta"]["frameTags"] == [
        {"name": animation, "from": 0, "to": 3, "direction": "forward"}
    ]
    assert all(e["duration"] == 100 for e in data["frames"])


def test_named_frames_are_tagged_each_and_named_after_their_shape() -> None:
    shapes = ["A", "B", "X"]
    anim = _animation(7, "mouths", frames=3, frame_names=shapes)
    _, data = _render([anim])
    tags = [(t["name"], t["from"], t["to"]) for t in data["meta"]["frameTags"]]
    assert tags == [("mouths", 0, 2), ("A", 0, 0), ("B", 1, 1), ("X", 2, 2)]
    assert [e["filename"] for e in data["frames"]] == [
        "portraits_7_mouths_A.png",
        "portraits_7_mouths_B.png",
        "portraits_7_mouths_X.png",
    ]


def test_several_animations_in_one_sheet_get_distinct_tags() -> None:
    talk, blink = _animation(7, "talk"), _animation(8, "blink", frames=2)
    shapes = _animation(9, "mouths", frames=2, frame_names=["A", "X"])
    _, data = _render([talk, blink, shapes])
    tags = [(t["name"], t["from"], t["to"]) for t in data["meta"]["frameTags"]]
    assert tags == [
        ("portraits_7_talk", 0, 2),
        ("portraits_8_blink", 3, 4),
        ("portraits_9_mouths", 5, 6),
        ("portraits_9_mouths/A", 5, 5),
        ("portraits_9_mouths/X", 6, 6),
    ]
    names = [e["filename"] for e in data["frames"]]
    assert len(set(names)) == len(names)


def test_an_animation_without_a_name_or_with_an_odd_one_gets_a_safe_tag() -> None:
    _, data = _render([_animation(1, None)])
    assert data["meta"]["frameTags"][0]["name"] == "animation"
    _, data = _render([_animation(1, "talk/../x y")])
    assert data["meta"]["frameTags"][0]["name"] == "talk-x-y"
    assert data["frames"][0]["filename"] == "portraits_1_talk-x-y_0.png"


def test_the_same_assets_give_the_same_bytes() -> None:
    assets = [_animation(2, "talk"), _animation(3, "blink")]
    first = SheetExporter().render(assets, "s")
    assert [f.data for f in SheetExporter().render(assets, "s")] == [f.data for f in first]


@pytest.mark.parametrize(
    "options, parameter, allowed",
    [
        ({"padding": -1}, "padding", "from 0 to 64"),
        ({"padding": 65}, "padding", "from 0 to 64"),
        ({"padding": True}, "padding", "from 0 to 64"),
        ({"padding": "2"}, "padding", "from 0 to 64"),
        ({"pivot": "middle"}, "pivot", "center, top-left, top-center"),
        ({"pivot": (0.5, 1.5)}, "pivot", "bottom-right or an (x, y) pair of numbers from 0 to 1"),
        ({"pivot": (0.5,)}, "pivot", "center"),
    ],
)
def test_bad_options_name_the_parameter_and_the_allowed_values(
    options: dict[str, Any], parameter: str, allowed: str
) -> None:
    with pytest.raises(InvalidOptionsError) as caught:
        SheetExporter(**options)
    assert caught.value.parameter == parameter
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"{parameter} must be")
    assert allowed in str(caught.value)


@pytest.fixture(scope="module")
def portraits() -> Engine:
    return Engine(device="cpu", plugins=["portraits", "exporters"])


@pytest.mark.parametrize("animation", ["talk", "blink", "interpolate", "mouths"])
def test_the_portraits_animations_are_tagged_by_their_names(
    portraits: Engine, animation: str, tmp_path
) -> None:
    frames = 9 if animation == "mouths" else 3
    anim = portraits.animate("portraits", seed=7, frames=frames, animation=animation)
    png, table = portraits.export([anim], "sheet", tmp_path)
    data = json.loads(table.read_text())
    assert data["meta"]["frameTags"][0] == {
        "name": animation,
        "from": 0,
        "to": frames - 1,
        "direction": "forward",
    }
    assert data["frames"][0]["filename"].startswith(f"portraits_7_{animation}_")
    assert all(e["filename"].endswith(".png") for e in data["frames"])
    with Image.open(png) as im:
        assert im.size == (data["meta"]["size"]["w"], data["meta"]["size"]["h"])
