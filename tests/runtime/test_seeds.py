"""The portable seed maths (``assetgen.seeds``): the rules, the shared vectors, and the C#
twin (``dotnet_runtime/``) run under Mono on the same vectors."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from assetgen import seed_vectors, seeds

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "fixtures" / "seed_vectors.json"


def test_vectors_file_is_what_the_python_rules_give() -> None:
    """The committed vectors are regenerated bit for bit (a rule change must rewrite them:
    ``python -m assetgen.seed_vectors tests/fixtures/seed_vectors.json``)."""
    assert json.loads(VECTORS.read_text("utf-8")) == json.loads(
        json.dumps(seed_vectors.build(), ensure_ascii=False)
    )


def test_splitmix64_reference_value() -> None:
    # SplitMix64 from state 0: its first output is 0xE220A8397B1DCDAF (Vigna's reference)
    assert int(seeds.draws(0, 0, 1)[0]) == 0xE220A8397B1DCDAF
    assert seeds.mix64(seeds.GOLDEN) == 0xE220A8397B1DCDAF


def test_streams_are_independent_of_batching_and_of_each_other() -> None:
    a = seeds.SeedStream(7, "portraits.labels")
    whole = a.bits(10)
    b = seeds.SeedStream(7, "portraits.labels")
    parts = np.concatenate([b.bits(3), b.bits(7)])
    assert (whole == parts).all()
    keys = [seeds.stream_key(7, "portraits.labels", 0), seeds.stream_key(8, "portraits.labels", 0),
            seeds.stream_key(7, "shoes.latent", 0), seeds.stream_key(7, "portraits.labels", 1)]
    assert len(set(keys)) == 4
    rows = seeds.draws_of_keys(keys, 10)
    assert (rows[0] == whole).all()


def test_uniforms_integers_and_picks_are_exact() -> None:
    x = np.array([0, (1 << 64) - 1, 1 << 63], dtype=np.uint64)
    assert list(seeds.to_unit(x)) == [0.0, 1.0 - 2.0**-53, 0.5]
    assert list(seeds.below(x, 14)) == [0, 13, 7]
    with pytest.raises(ValueError, match="n must be"):
        seeds.below(x, 0)
    cdf = seeds.running_sum([1.0, 2.0, 0.0, 5.0])
    # zero weight is never picked; the last index at most
    assert [int(seeds.pick(cdf, u)) for u in (0.0, 0.124, 0.125, 0.374, 0.375, 0.999)] == [
        0, 0, 1, 1, 3, 3]


def test_log_sin_cos_are_accurate() -> None:
    rng = np.random.default_rng(0)
    u = rng.random(20000)
    sin, cos = seeds.portable_sincos_turns(u)
    assert np.abs(sin - np.sin(2 * np.pi * u)).max() < 4e-15
    assert np.abs(cos - np.cos(2 * np.pi * u)).max() < 4e-15
    x = rng.random(20000) + 1e-300
    assert np.abs(seeds.portable_log(x) - np.log(x)).max() < 1e-13
    assert seeds.portable_log(np.array([1.0]))[0] == 0.0
    assert abs(seeds.portable_log(np.array([2.0**-53]))[0] + 53 * math.log(2)) < 1e-13


def test_normals_look_normal() -> None:
    z = seeds.SeedStream(3, "test").standard_normal(100001)
    assert len(z) == 100001
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    # an odd count is the even count less its last value
    assert (seeds.SeedStream(3, "t").standard_normal(5)
            == seeds.SeedStream(3, "t").standard_normal(6)[:5]).all()


def test_csharp_runtime_gives_the_same_bits(runtime_build: Path) -> None:
    """The C# test program (``make runtime-build``) on the shared vectors."""
    run = subprocess.run(
        ["mono", str(runtime_build / "AssetGen.Runtime.Tests.exe"),
         str(VECTORS)], capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert " 0 failed" in run.stdout

