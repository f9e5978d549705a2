"""The console sample and the shipped generators through C#.

The portraits and dialogue models ship with their plugins (plugins/assetgen_<name>/model/);
until a model is there, the tests that need it are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from assetgen import Engine, ImageAsset, TextAsset

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "dotnet_bridge" / "build"
SAMPLE_EXE = BUILD / "AssetGen.Bridge.Sample.exe"
TESTS_EXE = BUILD / "AssetGen.Bridge.Tests.exe"
Runner = Callable[[list[str], dict[str, str]], tuple[int, str]]


def shipped(generator: str) -> bool:
    return (ROOT / "plugins" / f"assetgen_{generator}" / "model" / "manifest.json").is_file()


def needs_models(*generators: str) -> pytest.MarkDecorator:
    missing = [g for g in generators if not shipped(g)]
    return pytest.mark.skipif(
        bool(missing),
        reason="no shipped model yet for "
        + ", ".join(missing)
        + " (plugins/assetgen_<name>/model/manifest.json)",
    )


def env_loading(plugins: str, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(base or os.environ)
    env["ASSETGEN_LOAD_PLUGINS"] = plugins
    env.pop("MONO_THREADS_SUSPEND", None)
    return env


def run_sample(out: Path, env: dict[str, str], seed: int = 7) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "mono",
            str(SAMPLE_EXE),
            "--python",
            sys.executable,
            "--out",
            str(out),
            "--seed",
            str(seed),
            "--device",
            "cpu",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.usefixtures("bridge_build")
def test_sample_names_a_generator_that_is_not_loaded(
    tmp_path: Path, testkit_env: dict[str, str]
) -> None:
    result = run_sample(tmp_path / "npc", testkit_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "sample: UnknownGeneratorError: the 'portraits' generator is not loaded "
        "(loaded: blob, crashing, echo)" in result.stderr
    )
    assert not (tmp_path / "npc").exists()


def check_sample_output(out: Path, engine: Engine) -> None:
    """The sample's files hold exactly what the Python API makes for seed 7."""
    (portrait,) = engine.generate("portraits", seed=7)
    assert isinstance(portrait, ImageAsset)
    assert (out / "portrait_7.png").read_bytes() == portrait.to_png()
    talk = engine.animate("portraits", seed=7, frames=8, animation="talk")
    for k, frame in enumerate(talk.frames):
        assert (out / f"portrait_7_talk_{k:02d}.png").read_bytes() == frame.to_png()
    assert len(list(out.glob("portrait_7_talk_*.png"))) == 8
    lines = (out / "dialogue_7.txt").read_text(encoding="utf-8").splitlines()
    dialogue = engine.generate("dialogue", seed=7, count=3)
    assert lines == [a.text for a in dialogue if isinstance(a, TextAsset)]


@pytest.mark.usefixtures("bridge_build")
def test_sample_with_stand_in_generators(
    tmp_path: Path, npc_standins_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample's whole path, before the trained models ship."""
    env = env_loading("npc_standins")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(npc_standins_path), env.get("PYTHONPATH")) if p
    )
    result = run_sample(tmp_path / "npc", env)
    assert result.returncode == 0, result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(npc_standins_path))
    check_sample_output(tmp_path / "npc", Engine(device="cpu", plugins=["npc_standins"]))


@needs_models("portraits", "dialogue")
@pytest.mark.usefixtures("bridge_build")
def test_sample_writes_a_portrait_its_talk_frames_and_dialogue(tmp_path: Path) -> None:
    result = run_sample(tmp_path / "npc", env_loading("exporters,portraits,dialogue"))
    assert result.returncode == 0, result.stdout + result.stderr
    check_sample_output(tmp_path / "npc", Engine(device="cpu", plugins=["portraits", "dialogue"]))


@pytest.mark.parametrize(
    "generator, cases",
    [
        pytest.param(
            "portraits",
            [
                ("portrait_png", "png", 3, 1, {}),
                ("portrait_rgba", "rgba", 4, 1, {}),
                ("talk_rgba_8", "animate_rgba", 5, 8, {"animation": "talk"}),
                ("mouth_shapes_rgba", "animate_rgba", 7, 9, {"animation": "mouths"}),
                ("lip_sync_png", "animate_png", 7, 0,
                 {"animation": "talk", "text": "Hello there, traveller!"}),
            ],
            marks=needs_models("portraits"),
        ),
        pytest.param(
            "dialogue",
            [("dialogue_3_lines", "text", 11, 3, {})],
            marks=needs_models("dialogue"),
        ),
    ],
)
@pytest.mark.usefixtures("bridge_build")
def test_shipped_generator_through_csharp_equals_python(
    generator: str,
    cases: list[tuple[str, str, int, int, dict[str, object]]],
    tmp_path: Path,
    csharp: Runner,
    bridge_cases: SimpleNamespace,
) -> None:
    engine = Engine(device="cpu", plugins=[generator])
    value_cases = [bridge_cases.ValueCase(c[0], c[1], generator, *c[2:]) for c in cases]
    expected = bridge_cases.write_expected(tmp_path, engine, value_cases, testkit=False)
    passed, _ = csharp(
        [str(TESTS_EXE), "--python", sys.executable, "--expected", str(expected), "equality"],
        env_loading(generator),
    )
    assert passed == len(cases) + 1  # each case, and the group itself
