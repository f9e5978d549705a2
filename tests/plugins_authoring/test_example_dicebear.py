"""The example plugin of docs/plugins/ (DiceBear avatars), installed like a third-party
package and used through the command line, the Python API and the bridge's Python side."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from assetgen import Engine, ImageAsset, InvalidOptionsError
from assetgen.assets import encode_png
from assetgen.cli import main

for module in ("dicebear", "dicebear_styles", "resvg_py"):
    pytest.importorskip(
        module, reason="the example plugin needs dicebear-core, dicebear-styles and resvg-py"
    )

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "plugins" / "example_dicebear"
# Cheap styles to draw (the first avatar of a style pays for checking its definition).
CC0_STYLE, CC_BY_STYLE = "stack", "dylan"


@pytest.fixture(scope="session")
def example(
    tmp_path_factory: pytest.TempPathFactory, pip_install: Callable[..., None]
) -> tuple[Path, Path]:
    """(a copy of the example's source, the folder it is pip-installed into).

    pip builds in the source folder; the copy keeps build/ and *.egg-info out of docs/."""
    work = tmp_path_factory.mktemp("dicebear_example")
    source = work / "example_dicebear"
    shutil.copytree(
        EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    pip_install(work / "site", source)
    return source, work / "site"


@pytest.fixture
def engine(example: tuple[Path, Path], load_only: Callable[..., None]) -> Engine:
    load_only(example[1], "dicebear")
    return Engine()


def avatar(engine: Engine, seed: int = 0, **options: Any) -> ImageAsset:
    (asset,) = engine.generate("dicebear", seed=seed, **options)
    assert isinstance(asset, ImageAsset)
    return asset


def run_cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# -- command line ----------------------------------------------------------------------------


def test_cli_generate_writes_what_the_api_makes(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    status, out, _ = run_cli(
        capsys,
        *("generate", "dicebear", "--seed", "7", "--count", "3", "--out", str(tmp_path)),
        *("-o", f"style={CC_BY_STYLE}", "-o", "size=64", "-o", "style_options=flip=horizontal"),
    )
    assert status == 0
    assert [Path(line).name for line in out.split()] == [f"dicebear_{s}.png" for s in (7, 8, 9)]
    for seed in (7, 8, 9):
        api = avatar(engine, seed, style=CC_BY_STYLE, size=64, style_options="flip=horizontal")
        assert (tmp_path / f"dicebear_{seed}.png").read_bytes() == api.to_png()
    with Image.open(tmp_path / "dicebear_7.png") as img:
        assert (img.size, img.mode) == ((64, 64), "RGBA")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("style=gothic", "option 'style' must be one of 'adventurer', "),
        ("size=8", "option 'size' must be an integer from 32 to 512; got 8"),
        (
            "style_options=skinColr=f2d3b1",
            "unknown style option 'skinColr' for style 'pixel-art'; did you mean 'skinColor'?",
        ),
        (
            "style_options=hairVariant=long99",
            "style option 'hairVariant' of style 'pixel-art' must be one or more of 'long01', ",
        ),
        ("style_options=size=64", "style option 'size' cannot be set: use the generator's own"),
    ],
)
def test_cli_refuses_bad_options_in_one_line(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture, option: str, message: str
) -> None:
    status, _, err = run_cli(capsys, "generate", "dicebear", "--out", str(tmp_path), "-o", option)
    assert status == 2
    assert err.startswith("assetgen: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_styles_command_lists_licences_and_a_styles_own_options(
    engine: Engine, capsys: pytest.CaptureFixture
) -> None:
    status, out, _ = run_cli(capsys, "dicebear-styles")
    assert status == 0
    assert "adventurer           CC BY 4.0" in out and "pixel-art            CC0 1.0" in out
    status, out, _ = run_cli(capsys, "dicebear-styles", "adventurer")
    assert status == 0
    assert "Attribution: Remix of „Adventurer”" in out
    assert "  skinColor: one or more hex colours" in out
    assert "  seed:" not in out  # set by the generator, not by users
    status, out, _ = run_cli(capsys, "dicebear-styles", "adventurer", "--json")
    assert json.loads(out)["licence"]["creator"] == "Lisa Wischofsky"
    status, _, err = run_cli(capsys, "dicebear-styles", "gothic")
    assert status == 2 and "unknown DiceBear style 'gothic'" in err


def test_the_readme_licence_table_matches_the_installed_styles(
    engine: Engine, capsys: pytest.CaptureFixture
) -> None:
    status, table, _ = run_cli(capsys, "dicebear-styles", "--markdown")
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    documented = readme.split("<!-- styles:start -->\n")[1].split("<!-- styles:end -->")[0]
    assert status == 0
    assert documented == table, (
        "README.md's style table is out of date: replace it with the output of "
        "'assetgen dicebear-styles --markdown'"
    )


# -- Python API ------------------------------------------------------------------------------


def test_api_follows_the_seeding_rule_and_records_the_licence(engine: Engine) -> None:
    batch = engine.generate("dicebear", seed=20, count=3, style=CC_BY_STYLE, size=32)
    singles = [avatar(engine, 20 + k, style=CC_BY_STYLE, size=32) for k in range(3)]
    pngs = [a.to_png() for a in batch if isinstance(a, ImageAsset)]
    assert pngs == [s.to_png() for s in singles]
    assert singles[0].to_png() != singles[1].to_png()
    meta = batch[0].metadata
    assert (meta["generator"], meta["plugin"], meta["seed"]) == ("dicebear", "dicebear", 20)
    assert meta["options"]["style"] == CC_BY_STYLE and meta["model_sha256"] is None
    assert meta["licence"]["name"] == "CC BY 4.0"
    assert meta["licence"]["url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert "by „Natalia Spivak”" in meta["licence"]["attribution"]
    assert meta["dicebear"]["seed"] == "20"


def test_api_info_describes_the_options(engine: Engine) -> None:
    info = engine.generator_info("dicebear")
    assert (info.kind, info.plugin, info.model) == ("image", "dicebear", None)
    schema = info.options_schema["properties"]
    assert CC0_STYLE in schema["style"]["enum"] and schema["style"]["default"] == "pixel-art"
    assert (schema["size"]["minimum"], schema["size"]["maximum"]) == (32, 512)
    assert set(schema) == {"style", "size", "background", "name", "style_options"}


def test_api_weighted_variants_need_the_json_spelling(engine: Engine) -> None:
    weighted = '{"hairVariant": {"long01": 1, "short01": 3}, "hairProbability": 100}'
    assert avatar(engine, style="pixel-art", size=32, style_options=weighted).width == 32
    negative = '{"hairVariant": {"long01": -1}}'
    with pytest.raises(InvalidOptionsError, match=r"got \{'long01': -1\} \(weights must be"):
        engine.generate("dicebear", style="pixel-art", style_options=negative)


@pytest.mark.slow
def test_every_style_draws(engine: Engine, request: pytest.FixtureRequest) -> None:
    if "slow" not in request.config.getoption("-m"):
        pytest.skip("checks all 60-odd style definitions (about 20 s); run with -m slow")
    styles = engine.generator_info("dicebear").options_schema["properties"]["style"]["enum"]
    for style in styles:
        drawn = avatar(engine, 1, style=style, size=32, background=True)
        assert drawn.rgba[..., 3].max() == 255, style
        assert drawn.metadata["licence"]["name"] != "unknown", style


# -- the bridge (assetgen/bridge.py, what the C# library calls) -------------------------------


def bridge_module() -> Any:
    try:
        bridge = importlib.import_module("assetgen.bridge")
    except ImportError as exc:
        pytest.skip(f"assetgen.bridge is not available ({exc})")
    bridge_class = getattr(bridge, "Bridge", None)
    if bridge_class is None or not hasattr(bridge_class, "generate_png"):
        pytest.skip("assetgen.bridge has no Bridge.generate_png(generator, seed, options_json)")
    return bridge


def test_bridge_json_requests_give_the_api_pixels(engine: Engine) -> None:
    bridge = bridge_module().Bridge(engine)
    request = json.dumps({"style": CC_BY_STYLE, "size": 48, "style_options": "rotate=20"})
    api = avatar(engine, 5, style=CC_BY_STYLE, size=48, style_options="rotate=20")
    assert bytes(bridge.generate_png("dicebear", 5, request)) == api.to_png()
    if hasattr(bridge, "generate_rgba"):
        width, height, pixels = bridge.generate_rgba("dicebear", 5, request)
        rgba = np.frombuffer(bytes(pixels), np.uint8).reshape(height, width, 4)
        assert encode_png(rgba) == api.to_png()
    with pytest.raises(InvalidOptionsError, match="unknown style option 'fliip'"):
        bridge.generate_png("dicebear", 5, json.dumps({"style_options": "fliip=none"}))


# -- the package's own tests ------------------------------------------------------------------


def test_the_example_passes_its_own_tests(
    example: tuple[Path, Path], run_pytest: Callable[..., subprocess.CompletedProcess]
) -> None:
    result = run_pytest(*example)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout
