"""The Unity package's C# compiles under Mono against compile-only stubs of the Unity types it
uses (conftest.py), and its sprite-sheet importer reads what the ``sheet`` exporter writes:
sprite rects and pivots in Unity's coordinates, one clip per frame tag with the frames'
durations. This is Mono, not the Unity editor: docs/unity.md says what that leaves unchecked."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from assetgen_exporters.images import SheetExporter

from assetgen import AnimationAsset, ImageAsset


def test_every_assembly_compiles(unity_build: dict[str, Path]) -> None:
    for key in ("runtime", "editor", "sample", "check"):
        assert unity_build[key].is_file() and unity_build[key].stat().st_size > 0


def _read(unity_build: dict[str, Path], table: Path) -> tuple[int, Any]:
    run = subprocess.run(
        ["mono", str(unity_build["check"]), str(table)], capture_output=True, text=True
    )
    out = run.stdout.strip()
    return run.returncode, (json.loads(out) if run.returncode == 0 else out)


def _sheet(tmp_path: Path, assets: list[Any], **options: Any) -> tuple[Path, dict[str, Any]]:
    png, table = SheetExporter(**options).render(assets, "npc")
    (tmp_path / png.name).write_bytes(png.data)
    (tmp_path / table.name).write_bytes(table.data)
    return tmp_path / table.name, json.loads(table.data)


def _animation(seed: int, animation: str, frames: int, fps: float = 12, **meta: Any) -> Any:
    images = [ImageAsset(np.full((10, 8, 4), i, np.uint8)) for i in range(frames)]
    metadata = {"generator": "portraits", "seed": seed, "animation": animation, **meta}
    return AnimationAsset(images, fps=fps, metadata=metadata)


def test_the_importer_places_sprites_and_pivots_in_unity_coordinates(
    unity_build: dict[str, Path], tmp_path: Path
) -> None:
    stills = [
        ImageAsset(np.zeros((10, 8, 4), np.uint8), metadata={"generator": "shoes", "seed": s})
        for s in range(5)
    ]
    path, table = _sheet(tmp_path, stills, pivot="bottom-center")
    code, read = _read(unity_build, path)
    assert code == 0, read
    assert read["assetgen"] and read["image"] == "npc.png" and read["padding"] == 2
    height = table["meta"]["size"]["h"]
    for sprite, frame in zip(read["sprites"], table["frames"], strict=True):
        r = frame["frame"]
        assert sprite["name"] == frame["filename"].removesuffix(".png")
        # Unity's rects start at the bottom-left corner of the texture
        assert (sprite["x"], sprite["y"]) == (r["x"], height - r["y"] - r["h"])
        assert (sprite["w"], sprite["h"]) == (r["w"], r["h"])
        assert sprite["pivot"] == [0.5, 0.0]  # bottom-center: y 1 from the top, 0 from the bottom
    assert read["clips"] == []  # still images have no frame tags


@pytest.mark.parametrize("animation", ["talk", "blink", "interpolate"])
def test_one_clip_per_animation_at_the_frame_rate(
    unity_build: dict[str, Path], tmp_path: Path, animation: str
) -> None:
    path, _ = _sheet(tmp_path, [_animation(7, animation, 4, fps=10)])
    code, read = _read(unity_build, path)
    assert code == 0, read
    (clip,) = read["clips"]
    assert clip["name"] == clip["file"] == animation
    # four frames, then the last again at the end so it shows for its full 100 ms
    assert clip["frames"] == [0, 1, 2, 3, 3]
    assert clip["times"] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert clip["rate"] == pytest.approx(10.0) and clip["length"] == pytest.approx(0.4)
    assert [s["name"] for s in read["sprites"]] == [
        f"portraits_7_{animation}_{i}" for i in range(4)
    ]


def test_mouth_shapes_get_a_clip_each_and_several_animations_distinct_files(
    unity_build: dict[str, Path], tmp_path: Path
) -> None:
    shapes = _animation(3, "mouths", 3, frame_names=["A", "B", "X"])
    path, _ = _sheet(tmp_path, [shapes])
    code, read = _read(unity_build, path)
    assert code == 0, read
    assert [(c["name"], c["frames"]) for c in read["clips"]] == [
        ("mouths", [0, 1, 2, 2]),
        ("A", [0, 0]),
        ("B", [1, 1]),
        ("X", [2, 2]),
    ]
    path, _ = _sheet(tmp_path, [_animation(7, "talk", 2), shapes])
    code, read = _read(unity_build, path)
    assert code == 0, read
    files = [c["file"] for c in read["clips"]]
    assert files[:3] == ["portraits_7_talk", "portraits_3_mouths", "portraits_3_mouths_A"]
    assert len(set(files)) == len(files)


def test_an_aseprite_table_without_pivots_or_padding_reads_with_unity_defaults(
    unity_build: dict[str, Path], tmp_path: Path
) -> None:
    table = {
        "frames": [
            {
                "filename": "run 0.aseprite",
                "frame": {"x": 0, "y": 0, "w": 4, "h": 4},
                "duration": 50,
            },
            {
                "filename": "run 1.aseprite",
                "frame": {"x": 4, "y": 0, "w": 4, "h": 4},
                "duration": 150,
            },
        ],
        "meta": {
            "app": "https://www.aseprite.org/",
            "image": "run.png",
            "size": {"w": 8, "h": 4},
            "frameTags": [
                {"name": "run", "from": 0, "to": 1, "direction": "pingpong"},
                {"name": "back", "from": 0, "to": 1, "direction": "reverse"},
            ],
        },
    }
    path = tmp_path / "run.json"
    path.write_text(json.dumps(table))
    code, read = _read(unity_build, path)
    assert code == 0, read
    assert not read["assetgen"]  # the postprocessor slices only AssetGen's own sheets
    assert [s["pivot"] for s in read["sprites"]] == [[0.5, 0.5]] * 2
    run, back = read["clips"]
    assert run["frames"] == [0, 1, 1] and run["times"] == pytest.approx([0, 0.05, 0.2])
    assert run["rate"] == pytest.approx(20.0)
    assert back["frames"] == [1, 0, 0] and back["times"] == pytest.approx([0, 0.15, 0.2])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.pop("meta"), "meta is missing or not an object"),
        (lambda t: t["frames"].clear(), "frames is empty"),
        (lambda t: t["frames"][1]["frame"].update(x=10_000), "frames[1].frame lies outside the"),
        (lambda t: t["frames"][0]["pivot"].update(y=1.5), "frames[0].pivot.y must be a number"),
        (lambda t: t["frames"][1].update(filename="npc_0.png"), "repeats the name npc_0.png"),
        (lambda t: t["meta"]["frameTags"][0].update(to=99), "meta.frameTags[0] runs from frame 0"),
        (
            lambda t: t["meta"]["frameTags"][0].update(direction="sideways"),
            "must be forward, reverse or pingpong; got sideways",
        ),
    ],
)
def test_a_broken_table_is_refused_naming_the_field(
    unity_build: dict[str, Path], tmp_path: Path, change: Any, message: str
) -> None:
    _, table = _sheet(tmp_path, [_animation(1, "talk", 2)])
    table["frames"][0]["filename"] = "npc_0.png"
    change(table)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(table))
    code, read = _read(unity_build, path)
    assert code == 1
    assert read.startswith("error: sprite sheet table: ") and message in read
