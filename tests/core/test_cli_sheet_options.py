"""The sheet format's padding and pivot from the command line (``--padding``, ``--pivot``):
the same sheet as ``SheetExporter(padding=..., pivot=...)`` in Python, and bad values (or the
options without the sheet format) refused before anything is generated, exit 2, one line
naming the option and what it allows. docs/plugins/exporters.md, "Pivot and padding"."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from assetgen_exporters.images import SheetExporter

from assetgen import Engine
from assetgen.cli import main


def _sheet(tmp_path, *args: str) -> dict:
    command = ["animate", "blob", "--seed", "2", "--frames", "3", "--out", str(tmp_path)]
    assert main([*command, "--name", "s", *args]) == 0
    return json.loads((tmp_path / "s.json").read_text("utf-8"))


@pytest.mark.parametrize(
    ("args", "padding", "pivot"),
    [
        ((), 2, {"x": 0.5, "y": 0.5}),
        (("--padding", "0"), 0, {"x": 0.5, "y": 0.5}),
        (("--padding", "64", "--pivot", "bottom-center"), 64, {"x": 0.5, "y": 1.0}),
        (("--pivot", "0.25,1"), 2, {"x": 0.25, "y": 1.0}),
        (("--pivot", " 0 , 0.75 "), 2, {"x": 0.0, "y": 0.75}),
    ],
)
def test_padding_and_pivot_reach_the_sheet(
    engine: Engine, tmp_path, capsys, args, padding, pivot
) -> None:
    table = _sheet(tmp_path, *args)
    assert table["meta"]["padding"] == padding
    assert all(frame["pivot"] == pivot for frame in table["frames"])
    # byte for byte what the Python API writes with the same exporter settings
    kwargs = {"padding": padding, "pivot": (pivot["x"], pivot["y"])}
    anim = engine.animate("blob", seed=2, frames=3)
    png, js = SheetExporter(**kwargs).render([anim], "s")
    assert (tmp_path / "s.png").read_bytes() == png.data
    assert (tmp_path / "s.json").read_bytes() == js.data


def test_still_images_take_them_with_format_sheet(plugins_env, tmp_path, capsys) -> None:
    assert (
        main(
            [
                "generate",
                "blob",
                "--count",
                "2",
                "--format",
                "sheet",
                "--padding",
                "5",
                "--pivot",
                "top-left",
                "--out",
                str(tmp_path),
                "--name",
                "g",
            ]
        )
        == 0
    )
    table = json.loads((tmp_path / "g.json").read_text("utf-8"))
    assert table["meta"]["padding"] == 5
    assert [f["pivot"] for f in table["frames"]] == [{"x": 0.0, "y": 0.0}] * 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["animate", "blob", "--padding", "-1"],
            "--padding must be an integer from 0 to 64; got -1",
        ),
        (
            ["animate", "blob", "--padding", "65"],
            "--padding must be an integer from 0 to 64; got 65",
        ),
        (
            ["animate", "blob", "--padding", "2.5"],
            "--padding must be an integer from 0 to 64; got '2.5'",
        ),
        (
            ["animate", "blob", "--pivot", "middle"],
            "--pivot must be one of center, top-left, top-center, top-right, left-center, "
            "right-center, bottom-left, bottom-center, bottom-right or an (x, y) pair of numbers "
            "from 0 to 1 (x from the left, y from the top); got 'middle'",
        ),
        (["animate", "blob", "--pivot", "0.5,1.5"], "--pivot must be one of center,"),
        (["animate", "blob", "--pivot", "0.5,x"], "got '0.5,x'"),
        (["animate", "blob", "--pivot", "0.1,0.2,0.3"], "got '0.1,0.2,0.3'"),
        (
            ["animate", "blob", "--format", "gif", "--padding", "4"],
            "--padding applies to the sheet format only; this request writes gif "
            "(add --format sheet)",
        ),
        (
            ["generate", "blob", "--padding", "4", "--pivot", "center"],
            "--padding and --pivot apply to the sheet format only; this request writes png "
            "(add --format sheet)",
        ),
    ],
)
def test_bad_values_exit_2_with_one_line_before_any_work(
    plugins_env, tmp_path, args, fragment
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "assetgen", *args, "--out", str(tmp_path)],
        env=plugins_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("assetgen: error: ") and fragment in lines[0], lines[0]
    assert not list(tmp_path.iterdir())
