"""The .NET bridge under Mono: build it, write what the Python API returns, run the C# tests.

The C# test program (dotnet_bridge/tests/) compares the bridge's results with files written
here from the Python API for the same requests, so "same bytes as Python" is checked against an
independent Python process, not against the embedded interpreter itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import assetgen
from assetgen import Asset, AssetGenError, Engine, ImageAsset, TextAsset
from assetgen.bridge import Bridge

from ..plugin_install import pip_install

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "dotnet_bridge" / "build"
TESTS_EXE = BUILD / "AssetGen.Bridge.Tests.exe"
SAMPLE_EXE = BUILD / "AssetGen.Bridge.Sample.exe"
TESTKIT_PLUGINS = "exporters,testkit"
#: A run that takes longer than this is taken for a deadlock.
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class ValueCase:
    """A request the C# side makes, answered here by the Python API."""

    id: str
    call: str  # png | rgba | animate_png | animate_rgba | text
    generator: str
    seed: int
    n: int  # frames (0: let the generator decide) or lines; 1 for single images
    options: dict[str, Any]


@dataclass(frozen=True)
class ErrorCase:
    """A request the engine refuses. ``options`` is what C# sends: a dict (sent as JSON) or
    raw text (for malformed JSON)."""

    id: str
    call: str  # as ValueCase, or "info"
    generator: str
    seed: int
    n: int
    options: dict[str, Any] | str


VALUE_CASES = [
    ValueCase("png_default_options", "png", "blob", 0, 1, {}),
    ValueCase("png_64_red", "png", "blob", 7, 1, {"size": 64, "color": "red"}),
    ValueCase("png_largest_seed", "png", "blob", 2**63 - 1, 1, {"size": 16}),
    ValueCase("rgba_64", "rgba", "blob", 11, 1, {"size": 64, "scale": 1.5}),
    ValueCase("rgba_tint_option", "rgba", "blob", 12, 1, {"size": 40, "tint": {"r": 0.5}}),
    ValueCase("animate_png_8", "animate_png", "blob", 3, 8, {"size": 32}),
    ValueCase("animate_rgba_12", "animate_rgba", "blob", 4, 12, {"size": 48, "speed": 2.0}),
    ValueCase("animate_png_generator_decides", "animate_png", "blob", 6, 0, {"size": 16}),
    ValueCase("text_3_lines", "text", "echo", 21, 3, {"words": 6}),
    ValueCase("text_unicode", "text", "echo", 22, 2, {"prefix": "Grüß dich, 旅人 —"}),
]

# Refused by the engine itself: the expected message comes from the Engine API.
ENGINE_ERRORS = [
    ErrorCase("unknown_generator", "png", "nope", 1, 1, {}),
    ErrorCase("option_out_of_range", "png", "blob", 1, 1, {"size": 1}),
    ErrorCase("unknown_option", "rgba", "blob", 1, 1, {"sise": 3}),
    ErrorCase("option_wrong_type", "png", "blob", 1, 1, {"size": "big"}),
    ErrorCase("negative_seed", "rgba", "blob", -1, 1, {}),
    ErrorCase("zero_frames", "animate_png", "blob", 1, 0, {}),
    ErrorCase("cannot_animate", "animate_rgba", "echo", 1, 8, {}),
    ErrorCase("zero_lines", "text", "echo", 1, 0, {}),
    ErrorCase("plugin_crash", "png", "crashing", 1, 1, {}),
    ErrorCase("info_unknown_generator", "info", "nope", 0, 0, {}),
]

# Refused by the bridge layer (JSON, call/kind mismatch): expected from assetgen.bridge.
BRIDGE_ERRORS = [
    ErrorCase("bad_json", "png", "blob", 1, 1, "{size: 64"),
    ErrorCase("json_not_an_object", "rgba", "blob", 1, 1, "[1, 2]"),
    ErrorCase("json_request_parameter", "png", "blob", 1, 1, {"seed": 3}),
    ErrorCase("png_of_text_generator", "png", "echo", 1, 1, {}),
    ErrorCase("text_of_image_generator", "text", "blob", 1, 2, {}),
]


def options_text(options: dict[str, Any] | str) -> str:
    return options if isinstance(options, str) else json.dumps(options, ensure_ascii=False)


def python_api_items(engine: Engine, case: ValueCase) -> tuple[list[bytes], int, int]:
    """What the Python API returns for ``case``: items as bytes, and the size of raw images
    (0 for PNG files and text, whose bytes say everything)."""
    if case.call in ("png", "rgba"):
        (image,) = engine.generate(case.generator, seed=case.seed, **case.options)
        assert isinstance(image, ImageAsset)
        if case.call == "png":
            return [image.to_png()], 0, 0
        return [image.rgba.tobytes()], image.width, image.height
    if case.call in ("animate_png", "animate_rgba"):
        frames = case.n or None
        anim = engine.animate(case.generator, seed=case.seed, frames=frames, **case.options)
        if case.call == "animate_png":
            return [f.to_png() for f in anim.frames], 0, 0
        return [f.rgba.tobytes() for f in anim.frames], anim.width, anim.height
    assets = engine.generate(case.generator, seed=case.seed, count=case.n, **case.options)
    return [text_of(a).encode("utf-8") for a in assets], 0, 0


def text_of(asset: Asset) -> str:
    assert isinstance(asset, TextAsset)
    return asset.text


def engine_request(engine: Engine, case: ErrorCase) -> Callable[[], object]:
    assert isinstance(case.options, dict)
    opts = case.options
    if case.call == "info":
        return lambda: engine.generator_info(case.generator)
    if case.call.startswith("animate"):
        return lambda: engine.animate(case.generator, seed=case.seed, frames=case.n, **opts)
    count = case.n if case.call == "text" else 1
    return lambda: engine.generate(case.generator, seed=case.seed, count=count, **opts)


def bridge_request(bridge: Bridge, case: ErrorCase) -> Callable[[], object]:
    text = options_text(case.options)
    calls: dict[str, Callable[[], object]] = {
        "png": lambda: bridge.generate_png(case.generator, case.seed, text),
        "rgba": lambda: bridge.generate_rgba(case.generator, case.seed, text),
        "animate_png": lambda: bridge.animate_png(case.generator, case.seed, text, case.n),
        "animate_rgba": lambda: bridge.animate_rgba(case.generator, case.seed, text, case.n),
        "text": lambda: bridge.generate_text(case.generator, case.seed, case.n, text),
    }
    return calls[case.call]


def raised(request: Callable[[], object]) -> AssetGenError:
    try:
        request()
    except AssetGenError as exc:
        return exc
    raise AssertionError("the request was expected to fail")


def write_expected(
    out: Path, engine: Engine, cases: list[ValueCase], *, testkit: bool = True
) -> Path:
    """The expected-results folder the C# tests read (format: dotnet_bridge/tests/Cases.cs).

    With ``testkit`` it also holds the error cases and the facts the api group checks, which
    name the test plugin's generators."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for case in cases:
        items, width, height = python_api_items(engine, case)
        for k, data in enumerate(items):
            (out / f"{case.id}.{k}").write_bytes(data)
        fields = [
            case.id,
            case.call,
            case.generator,
            case.seed,
            case.n,
            width,
            height,
            options_text(case.options),
            len(items),
        ]
        rows.append("\t".join(str(f) for f in fields))
    (out / "cases.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    if not testkit:
        return out

    bridge = Bridge(engine)
    requests = [(error, engine_request(engine, error)) for error in ENGINE_ERRORS]
    requests += [(error, bridge_request(bridge, error)) for error in BRIDGE_ERRORS]
    rows = []
    for error, request in requests:
        exc = raised(request)
        (out / f"{error.id}.message").write_text(str(exc), encoding="utf-8")
        fields = [
            error.id,
            error.call,
            error.generator,
            error.seed,
            error.n,
            type(exc).__name__,
            options_text(error.options),
        ]
        rows.append("\t".join(str(f) for f in fields))
    (out / "errors.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    (out / "version.txt").write_text(assetgen.__version__, encoding="utf-8")
    ids = "\n".join(info.id for info in engine.generators())
    (out / "generators.txt").write_text(ids, encoding="utf-8")
    info = json.dumps(engine.generator_info("blob").to_dict(), sort_keys=True)
    (out / "info_blob.json").write_text(info, encoding="utf-8")
    return out


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bridge_build() -> Path:
    """``make bridge-build``: the library, test program and sample, compiled with Mono.

    Without Mono or pythonnet the C# tests are skipped on a developer's machine and fail in CI
    (``CI`` set), where `make test` must have installed them.
    """
    missing = [tool for tool in ("mono", "mcs", "make") if shutil.which(tool) is None]
    try:
        import pythonnet  # noqa: F401
    except ImportError:
        missing.append("pythonnet (pip install -e '.[bridge]')")
    if missing:
        message = (
            "the .NET bridge needs "
            + ", ".join(missing)
            + "; `make test` installs them (scripts/install-system-deps.sh, the bridge extra)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    build = subprocess.run(
        ["make", "--no-print-directory", "-s", "bridge-build", f"PY={sys.executable}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, f"make bridge-build failed:\n{build.stdout}\n{build.stderr}"
    return BUILD


@pytest.fixture(scope="session")
def npc_standins_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in ``portraits`` and ``dialogue`` plugin, pip-installed like the test kit but
    left off ``sys.path`` (its ids would clash with the real plugins in other tests)."""
    target = tmp_path_factory.mktemp("npc-standins")
    # Built from a copy, so that setuptools' build/ and egg-info never land in the repository.
    source = shutil.copytree(Path(__file__).parent / "npc_standins", target / "src")
    return pip_install(source, target / "site")


@pytest.fixture(scope="session")
def testkit_env(testkit_path: Path) -> dict[str, str]:
    """Environment of a C# process whose Python loads only the exporters and the test plugin."""
    env = dict(os.environ)
    env["ASSETGEN_LOAD_PLUGINS"] = TESTKIT_PLUGINS
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(testkit_path), env.get("PYTHONPATH")) if p)
    env.pop("MONO_THREADS_SUSPEND", None)
    return env


@pytest.fixture(scope="session")
def testkit_engine(testkit_path: Path) -> Engine:
    return Engine(device="cpu", plugins=TESTKIT_PLUGINS.split(","))


@pytest.fixture(scope="session")
def expected_dir(testkit_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_expected(tmp_path_factory.mktemp("bridge-expected"), testkit_engine, VALUE_CASES)


SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$", re.MULTILINE)


@pytest.fixture(scope="session")
def bridge_cases() -> SimpleNamespace:
    """The case type and the expected-results writer, for tests with other generators."""
    return SimpleNamespace(ValueCase=ValueCase, write_expected=write_expected)


@pytest.fixture(scope="session")
def csharp() -> Callable[[list[str], dict[str, str]], tuple[int, str]]:
    """Run a bridge test program under Mono; returns (checks passed, output), failing the test
    on a failed check, a crash or a hang."""

    def run(args: list[str], env: dict[str, str]) -> tuple[int, str]:
        result = run_csharp(args, env)
        passed, _ = csharp_summary(result)
        return passed, result.stdout

    return run


def run_csharp(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["mono", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"mono {' '.join(args)} did not finish in {RUN_TIMEOUT_S} s (deadlock?)\n{out}")


def csharp_summary(result: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    """(passed, failed) from the test program's closing line; fails on a crash."""
    found = SUMMARY.findall(result.stdout)
    report = f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert found, f"the C# test program did not finish:\n{report}"
    passed, failed = (int(x) for x in found[-1])
    assert result.returncode == 0 and failed == 0, report
    return passed, failed
