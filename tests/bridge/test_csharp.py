"""The C# test program (dotnet_bridge/tests/) under Mono, one process per group of checks."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BUILD = Path(__file__).resolve().parents[2] / "dotnet_bridge" / "build"
TESTS_EXE = BUILD / "AssetGen.Bridge.Tests.exe"
Runner = Callable[[list[str], dict[str, str]], tuple[int, str]]


def lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line)


def run_group(csharp: Runner, expected: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    """Checks passed, not counting the group's own "runs to the end" check; and the output."""
    passed, out = csharp(
        [str(TESTS_EXE), "--python", sys.executable, "--expected", str(expected), *args], env
    )
    return passed - 1, out


@pytest.mark.usefixtures("bridge_build")
def test_every_api_member(csharp: Runner, expected_dir: Path, testkit_env: dict[str, str]) -> None:
    passed, _ = run_group(csharp, expected_dir, testkit_env, "api")
    assert passed == 20


@pytest.mark.usefixtures("bridge_build")
def test_bridge_output_equals_python_api_byte_for_byte(
    csharp: Runner, expected_dir: Path, testkit_env: dict[str, str]
) -> None:
    passed, _ = run_group(csharp, expected_dir, testkit_env, "equality")
    assert passed == lines(expected_dir / "cases.tsv")


@pytest.mark.usefixtures("bridge_build")
def test_errors_carry_the_engine_type_and_message(
    csharp: Runner, expected_dir: Path, testkit_env: dict[str, str]
) -> None:
    passed, _ = run_group(csharp, expected_dir, testkit_env, "errors")
    assert passed == 2 * lines(expected_dir / "errors.tsv")  # each error, then a working call


@pytest.mark.usefixtures("bridge_build")
def test_eight_threads_with_the_default_lock(
    csharp: Runner, expected_dir: Path, testkit_env: dict[str, str]
) -> None:
    passed, out = run_group(csharp, expected_dir, testkit_env, "threads")
    assert passed == 1 and "serialized calls: True" in out


@pytest.mark.usefixtures("bridge_build")
def test_eight_threads_without_the_lock_under_preemptive_suspension(
    csharp: Runner, expected_dir: Path, testkit_env: dict[str, str]
) -> None:
    env = {**testkit_env, "MONO_THREADS_SUSPEND": "preemptive"}
    passed, out = run_group(csharp, expected_dir, env, "--unserialized", "threads")
    assert passed == 1 and "serialized calls: False" in out


@pytest.mark.usefixtures("bridge_build")
def test_unity_domain_reload_simulated_with_appdomains(
    csharp: Runner, expected_dir: Path, testkit_env: dict[str, str]
) -> None:
    passed, _ = run_group(csharp, expected_dir, testkit_env, "domains")
    assert passed == 3 + 2  # three reload rounds, then use in the first domain, no leak
