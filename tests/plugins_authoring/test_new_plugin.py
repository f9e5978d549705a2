"""`assetgen new-plugin`: the project it writes installs, shows up, works and passes its tests."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from assetgen.cli import main

# One project of each kind, with names that exercise the '-' to '_' mapping.
PROJECTS = {"image": "test-sprites", "animation": "test-coins", "text": "test-loot"}


@pytest.fixture(scope="session")
def scaffolded(
    tmp_path_factory: pytest.TempPathFactory, pip_install: Callable[..., None]
) -> tuple[Path, Path]:
    """(folder holding the three new projects, folder they are pip-installed into)."""
    work = tmp_path_factory.mktemp("new_plugin")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASSETGEN_LOAD_PLUGINS", "exporters")  # the command needs no other plugin
        for kind, name in PROJECTS.items():
            assert main(["new-plugin", name, "--kind", kind, "--out", str(work)]) == 0
    site = work / "site"
    pip_install(site, *(work / f"assetgen-{name}" for name in PROJECTS.values()))
    return work, site


def test_installed_projects_are_listed_by_assetgen_plugins(
    scaffolded: tuple[Path, Path], load_only: Callable[..., None], capsys: pytest.CaptureFixture
) -> None:
    load_only(scaffolded[1], *PROJECTS.values())
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["errors"] == []
    found = {g["id"]: (g["kind"], g["plugin"], g["can_animate"]) for g in listing["generators"]}
    assert found == {
        "test-sprites": ("image", "test-sprites", False),
        "test-coins": ("image", "test-coins", True),
        "test-loot": ("text", "test-loot", False),
    }


@pytest.mark.parametrize("kind", PROJECTS)
def test_a_new_project_passes_its_own_tests(
    scaffolded: tuple[Path, Path], run_pytest: Callable[..., subprocess.CompletedProcess], kind: str
) -> None:
    work, site = scaffolded
    result = run_pytest(work / f"assetgen-{PROJECTS[kind]}", site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout


def test_new_projects_work_from_the_command_line(
    scaffolded: tuple[Path, Path], load_only: Callable[..., None], tmp_path: Path
) -> None:
    load_only(scaffolded[1], *PROJECTS.values())
    out = str(tmp_path)
    assert main(["generate", "test-sprites", "--seed", "3", "-o", "size=32", "--out", out]) == 0
    assert main(["animate", "test-coins", "--frames", "6", "--format", "gif", "--out", out]) == 0
    assert main(["generate", "test-loot", "--count", "5", "--format", "csv", "--out", out]) == 0
    with Image.open(tmp_path / "test-sprites_3.png") as sprite:
        assert sprite.size == (32, 32)
    with Image.open(tmp_path / "test-coins_0.gif") as spin:
        assert spin.n_frames == 6
    assert len((tmp_path / "test-loot_0-4.csv").read_text().splitlines()) == 6  # header + 5


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
def test_new_projects_pass_ruff_with_their_own_settings(scaffolded: tuple[Path, Path]) -> None:
    work, _ = scaffolded
    for name in PROJECTS.values():
        result = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
            cwd=work / f"assetgen-{name}",
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_project_it_writes_and_what_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters")
    assert main(["new-plugin", "pixel-coins", "--out", str(tmp_path)]) == 0
    project = tmp_path / "assetgen-pixel-coins"
    files = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "assetgen_pixel_coins/__init__.py",
        "assetgen_pixel_coins/generator.py",
        "assetgen_pixel_coins/plugin.py",
        "pyproject.toml",
        "tests/test_pixel_coins.py",
    ]
    pyproject = (project / "pyproject.toml").read_text()
    assert 'name = "assetgen-pixel-coins"' in pyproject
    assert '\n[project.entry-points.assetgen]\npixel-coins = "assetgen_pixel_coins.plugin"' in (
        pyproject
    )
    assert "class PixelCoinsGenerator(Generator):" in (
        project / "assetgen_pixel_coins" / "generator.py"
    ).read_text()
    out = capsys.readouterr().out
    assert f"created {project}/ (image generator 'pixel-coins')" in out
    assert "pip install -e ." in out and "pytest" in out and "assetgen generate pixel-coins" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Coins"], "NAME must be 1-30 lower-case letters and digits"),
        (["1coins"], "NAME must be 1-30 lower-case letters and digits"),
        (["coins!"], "NAME must be 1-30 lower-case letters and digits"),
        (["co--ins"], "NAME must be 1-30 lower-case letters and digits"),
        (["-coins"], "No such option '-c'"),
        (["coins_"], "NAME must be 1-30 lower-case letters and digits"),
        (["x" * 31], "NAME must be 1-30 lower-case letters and digits"),
        ([""], "NAME must be 1-30 lower-case letters and digits"),
        (["assetgen-coins"], "NAME is the plugin's own name without the 'assetgen' prefix"),
        (["exporters"], "an installed plugin is already named 'exporters'"),
        (["coins", "--kind", "sound"], "Invalid value for '--kind': 'sound' is not one of"),
    ],
)
def test_bad_input_is_refused_in_one_line_and_nothing_is_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters")
    assert main(["new-plugin", *args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("assetgen: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters")
    mine = tmp_path / "assetgen-coins" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("my work")
    assert main(["new-plugin", "coins", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "assetgen-coins already exists; refusing to overwrite it" in err
    assert [p.name for p in mine.parent.iterdir()] == ["notes.txt"]
    assert mine.read_text() == "my work"
