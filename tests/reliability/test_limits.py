"""Resource caps (docs/limits.md): a request over a cap is refused before any work is done or
memory is spent; a request at the cap is served."""

from __future__ import annotations

import tracemalloc
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import assetgen
from assetgen import (
    AnimationAsset,
    Engine,
    Generator,
    ImageAsset,
    InvalidOptionsError,
    Options,
    PluginError,
    option,
)
from assetgen.batch import load_job, run_job
from assetgen.limits import (
    MAX_BATCH_ITEMS,
    MAX_BATCH_RUNS,
    MAX_COUNT,
    MAX_FRAMES,
    MAX_IMAGE_SIDE,
    MAX_JOB_FILE_BYTES,
)
from assetgen.options import DEFAULT_MAX_STRING, MAX_MAPPING_ENTRIES

CALLS: Counter = Counter()


class SpyOptions(Options):
    size: int = option(4, "Image side.", ge=1, le=64)
    note: str = option("", "Free text (the default length cap).")
    weights: dict[str, float] = option({}, "Named weights.", ge=-1, le=1)


class SpyAnimation(SpyOptions):
    wanted: int = option(0, "Frames the generator asks for (0: no opinion).", ge=0, le=10**9)


class Spy(Generator):
    """Counts every call, so a test can tell that a refused request did no work."""

    id = "spy"
    kind = "image"
    Options = SpyOptions
    AnimationOptions = SpyAnimation

    def generate(self, seed: int, options: Any) -> ImageAsset:
        CALLS["generate"] += 1
        return ImageAsset(np.full((options.size, options.size, 4), seed % 256, np.uint8))

    def frame_count(self, options: Any) -> int | None:
        CALLS["frame_count"] += 1
        return options.wanted or None

    def animate(self, seed: int, frames: int, options: Any) -> AnimationAsset:
        CALLS["animate"] += 1
        return AnimationAsset([self.generate(seed + i, options) for i in range(frames)])


class Giant(Generator):
    """A plugin that returns an image over the engine's size cap."""

    id = "giant"
    kind = "image"

    def generate(self, seed: int, options: Any) -> ImageAsset:
        CALLS["giant"] += 1
        return ImageAsset(np.zeros((1, MAX_IMAGE_SIDE + 1, 4), np.uint8))


PLUGIN = types.ModuleType("spy_plugin")
PLUGIN.register_generators = assetgen.hookimpl(  # type: ignore[attr-defined]
    lambda register: [register(Spy), register(Giant)]
)


@pytest.fixture
def spy_engine(testkit_path: Path) -> Engine:
    CALLS.clear()
    return Engine(device="cpu", plugins=["exporters", PLUGIN])


OVER_CAP: list[tuple[str, Callable[[Engine], Any], str]] = [
    ("count", lambda e: e.generate("spy", count=MAX_COUNT + 1), "count must be an integer"),
    ("count 10**12", lambda e: e.generate("spy", count=10**12), "count must be an integer"),
    ("seed+count", lambda e: e.generate("spy", seed=2**63 - 5, count=10), "for count=10"),
    ("frames", lambda e: e.animate("spy", frames=MAX_FRAMES + 1), "frames must be an integer"),
    ("frames 10**9", lambda e: e.animate("spy", frames=10**9), "frames must be an integer"),
    ("image size", lambda e: e.generate("spy", size=65), "option 'size' must be an integer"),
    ("image size huge", lambda e: e.generate("spy", size=10**9), "from 1 to 64"),
    (
        "text length",
        lambda e: e.generate("spy", note="x" * (DEFAULT_MAX_STRING + 1)),
        f"text of at most {DEFAULT_MAX_STRING} characters",
    ),
    (
        "mapping entries",
        lambda e: e.generate("spy", weights={f"w{i}": 0 for i in range(MAX_MAPPING_ENTRIES + 1)}),
        f"(at most {MAX_MAPPING_ENTRIES})",
    ),
]


@pytest.mark.parametrize(("cap", "call", "fragment"), OVER_CAP, ids=[c[0] for c in OVER_CAP])
def test_over_a_cap_is_refused_before_any_work_or_memory(
    spy_engine: Engine, figures: Counter, cap: str, call, fragment: str
) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(
            InvalidOptionsError, match=fragment.replace("(", r"\(").replace(")", r"\)")
        ):
            call(spy_engine)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert CALLS["generate"] == CALLS["animate"] == 0
    assert peak < 2_000_000, f"{peak} bytes allocated before refusing"
    figures["caps refused before work"] += 1


def test_a_generator_asking_for_too_many_frames_is_refused_before_animating(
    spy_engine: Engine,
) -> None:
    with pytest.raises(InvalidOptionsError, match="frames must be an integer from 1 to 240"):
        spy_engine.animate("spy", wanted=MAX_FRAMES + 1)
    assert CALLS["frame_count"] == 1 and CALLS["animate"] == 0


def test_at_the_cap_is_served(spy_engine: Engine) -> None:
    assert len(spy_engine.animate("spy", frames=MAX_FRAMES, size=1).frames) == MAX_FRAMES
    assert len(spy_engine.animate("spy", wanted=MAX_FRAMES, size=1).frames) == MAX_FRAMES
    (asset,) = spy_engine.generate(
        "spy",
        size=64,
        note="x" * DEFAULT_MAX_STRING,
        weights={f"w{i}": 1 for i in range(MAX_MAPPING_ENTRIES)},
    )
    assert asset.width == 64
    assert len(spy_engine.generate("spy", seed=2**63 - 3, count=3, size=1)) == 3


def test_an_image_over_the_engine_size_cap_never_reaches_an_exporter(
    spy_engine: Engine, tmp_path: Path
) -> None:
    with pytest.raises(PluginError, match=f"at most {MAX_IMAGE_SIDE} pixels on a side") as err:
        spy_engine.generate("giant")
    assert "generator 'giant' (plugin 'spy_plugin')" in str(err.value)
    job = tmp_path / "job.toml"
    job.write_text("[[run]]\ngenerator = 'giant'\nformats = ['png', 'sheet']\n")
    with pytest.raises(PluginError):
        run_job(spy_engine, load_job(job, spy_engine), progress=False)
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(spy_engine.generate("spy")) == 1  # the engine keeps working


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[run]]\ngenerator = 'spy'\n" * (MAX_BATCH_RUNS + 1), f"at most {MAX_BATCH_RUNS} runs"),
        (
            "".join(
                f"[[run]]\nname = 'r{i}'\ngenerator = 'spy'\ncount = {MAX_COUNT}\n"
                for i in range(MAX_BATCH_ITEMS // MAX_COUNT + 1)
            ),
            f"more than {MAX_BATCH_ITEMS} items in all",
        ),
        (
            "[[run]]\ngenerator = 'spy'\n" + "#" * MAX_JOB_FILE_BYTES,
            f"is over {MAX_JOB_FILE_BYTES} bytes",
        ),
        (f"[[run]]\ngenerator = 'spy'\ncount = {MAX_COUNT + 1}\n", "count must be an integer"),
        ("[[run]]\ngenerator = 'spy'\nanimate = true\nframes = 241\n", "frames must be"),
    ],
    ids=["runs", "items", "bytes", "count", "frames"],
)
def test_batch_caps_are_checked_before_anything_is_generated_or_written(
    spy_engine: Engine, tmp_path: Path, figures: Counter, text: str, fragment: str
) -> None:
    job = tmp_path / "job.toml"
    job.write_text(text)
    with pytest.raises(InvalidOptionsError, match=fragment):
        load_job(job, spy_engine)
    assert CALLS["generate"] == 0 and not (tmp_path / "out").exists()
    figures["caps refused before work"] += 1


@pytest.mark.parametrize(
    ("value", "low", "high", "message"),
    [
        (0, 1, 10, "count must be an integer from 1 to 10; got 0"),
        (11, 1, 10, "count must be an integer from 1 to 10; got 11"),
        (True, 0, 10, "count must be an integer from 0 to 10; got True"),
        (2.0, 0, 10, "count must be an integer from 0 to 10; got 2.0"),
        (-1, 0, None, "count must be an integer of at least 0; got -1"),
    ],
)
def test_check_int_refuses_with_the_range(value: Any, low: int, high: int | None, message: str):
    """The one integer check plugins and the core share (``assetgen.check_int``)."""
    with pytest.raises(InvalidOptionsError, match=message) as refused:
        assetgen.check_int("count", value, low, high)
    assert refused.value.parameter == "count"


def test_check_int_returns_the_value():
    assert assetgen.check_int("count", 10, 1, 10) == 10
    assert assetgen.check_int("seed", 2**70, 0) == 2**70


def test_check_int_of_an_option_names_it_and_takes_numpy_integers():
    """``option=True``: what the portraits drivers check outside ``Options``, checked as
    ``Options`` does (numpy integers accepted and returned as int; bool still refused)."""
    assert assetgen.check_int("frames", np.int64(24), 1, 240, option=True) == 24
    assert type(assetgen.check_int("frames", np.uint32(5), 1, 240, option=True)) is int
    for value, shown in ((0, "0"), (np.int64(241), "241"), (True, "True"), (2.5, "2.5")):
        with pytest.raises(InvalidOptionsError) as refused:
            assetgen.check_int("frames", value, 1, 240, option=True)
        message = f"option 'frames' must be an integer from 1 to 240; got {shown}"
        assert str(refused.value) == message
        assert refused.value.parameter == "frames"
    with pytest.raises(InvalidOptionsError, match="count must be an integer"):
        assetgen.check_int("count", np.int64(3), 1, 10)  # not an option: ints only, as before
