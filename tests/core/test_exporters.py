"""Every exporter's output decodes correctly and is named safely."""

from __future__ import annotations

import csv
import io
import json

import pytest
from PIL import Image

from assetgen import Engine, InvalidOptionsError
from assetgen.exporting import check_output_name


def test_png_one_file_per_image(engine: Engine, tmp_path) -> None:
    assets = engine.generate("blob", seed=3, count=3, size=24)
    paths = engine.export(assets, "png", tmp_path)
    assert [p.name for p in paths] == ["blob_3.png", "blob_4.png", "blob_5.png"]
    for path, asset in zip(paths, assets, strict=True):
        with Image.open(path) as im:
            assert im.mode == "RGBA" and im.size == (24, 24)
            assert im.tobytes() == asset.rgba.tobytes()


def test_png_of_an_animation_writes_each_frame(engine: Engine, tmp_path) -> None:
    anim = engine.animate("blob", seed=1, frames=4)
    paths = engine.export([anim], "png", tmp_path, name="pulse")
    assert [p.name for p in paths] == [f"pulse_{i:03d}.png" for i in range(4)]


def test_sheet_rects_lie_inside_the_sheet_and_match_frames(engine: Engine, tmp_path) -> None:
    anim = engine.animate("blob", seed=1, frames=6, size=20)
    png, table = engine.export([anim], "sheet", tmp_path)
    data = json.loads(table.read_text())
    with Image.open(png) as im:
        sheet = im.convert("RGBA")
    assert data["meta"]["size"] == {"w": sheet.width, "h": sheet.height}
    assert data["meta"]["image"] == png.name
    # the testkit's animation has no metadata["animation"]: the tag falls back to "animation"
    assert data["meta"]["frameTags"] == [
        {"name": "animation", "from": 0, "to": 5, "direction": "forward"}
    ]
    assert len(data["frames"]) == 6
    for entry, frame in zip(data["frames"], anim.frames, strict=True):
        r = entry["frame"]
        assert 0 <= r["x"] and r["x"] + r["w"] <= sheet.width
        assert 0 <= r["y"] and r["y"] + r["h"] <= sheet.height
        assert entry["duration"] == 100
        crop = sheet.crop((r["x"], r["y"], r["x"] + r["w"], r["y"] + r["h"]))
        assert crop.tobytes() == frame.rgba.tobytes()


def test_sheet_of_many_images_is_a_grid(engine: Engine, tmp_path) -> None:
    assets = engine.generate("blob", seed=0, count=10, size=16)
    png, table = engine.export(assets, "sheet", tmp_path)
    assert png.name == "blob_0-9.png"
    data = json.loads(table.read_text())
    # 4 columns x 3 rows of 16 px frames, each with 2 px of extruded border on every side
    assert data["meta"]["size"] == {"w": 80, "h": 60}
    assert [f["filename"] for f in data["frames"]] == [f"blob_{s}.png" for s in range(10)]
    assert data["meta"]["source"][0]["seed"] == 0


def test_gif_has_every_frame_and_transparency(engine: Engine, tmp_path) -> None:
    anim = engine.animate("blob", seed=4, frames=5, size=32)
    (path,) = engine.export([anim], "gif", tmp_path)
    with Image.open(path) as im:
        assert im.n_frames == 5 and im.size == (32, 32)
        assert im.info.get("loop") == 0 and im.info.get("duration") == 100
        first = im.convert("RGBA")
    alpha = first.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0  # corner is background
    assert alpha.getextrema()[1] == 255


def test_gif_refuses_still_images(engine: Engine, tmp_path) -> None:
    with pytest.raises(
        InvalidOptionsError, match="format 'gif' cannot write image assets; it accepts animation"
    ):
        engine.export(engine.generate("blob"), "gif", tmp_path)


def test_jsonl_and_csv(engine: Engine, tmp_path) -> None:
    lines = engine.generate("echo", seed=10, count=3, prefix='Well, "friend",')
    (jsonl,) = engine.export(lines, "jsonl", tmp_path)
    records = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert [r["seed"] for r in records] == [10, 11, 12]
    assert records[0]["text"] == lines[0].text and records[0]["speaker"] == "npc"
    (csv_path,) = engine.export(lines, "csv", tmp_path)
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert [r["text"] for r in rows] == [a.text for a in lines]


def test_unknown_format(engine: Engine, tmp_path) -> None:
    with pytest.raises(
        Exception, match="unknown format 'webp'; available formats: csv, gif, jsonl, png, sheet"
    ):
        engine.export(engine.generate("blob"), "webp", tmp_path)


@pytest.mark.parametrize(
    "name", ["../x", "/etc/passwd", "a/b", "", ".hidden", "a\x00b", "..", "x" * 101, "C:\\x"]
)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidOptionsError, match="name must be"):
        check_output_name(name)


def test_user_name_cannot_escape_the_output_folder(engine: Engine, tmp_path) -> None:
    with pytest.raises(InvalidOptionsError):
        engine.export(engine.generate("blob"), "png", tmp_path / "out", name="../../escape")
    assert not any(tmp_path.rglob("*.png"))


def test_writes_are_atomic_and_leave_no_temp_files(engine: Engine, tmp_path) -> None:
    engine.export(engine.generate("blob", count=5), "png", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"blob_{i}.png" for i in range(5)]


def test_written_files_get_the_umask_mode_not_a_private_one(tmp_path) -> None:
    """Assets go to build pipelines and other users: a file is readable as a plain open()
    would make it (mkstemp alone would leave it 0o600)."""
    import os

    from assetgen.exporting import write_atomic

    mask = os.umask(0o022)
    os.umask(mask)
    write_atomic(tmp_path / "a.png", b"x")
    assert (tmp_path / "a.png").stat().st_mode & 0o777 == 0o666 & ~mask
