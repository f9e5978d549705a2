"""The Python API: seeding rule, metadata, request validation, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from assetgen import AnimationAsset, Engine, ImageAsset, InvalidOptionsError, TextAsset
from assetgen.generator import MAX_SEED
from assetgen.limits import MAX_COUNT, MAX_FRAMES


def test_seeding_rule_count_equals_consecutive_single_requests(engine: Engine) -> None:
    batch = engine.generate("blob", seed=7, count=4, size=24)
    singles = [engine.generate("blob", seed=s, size=24)[0] for s in (7, 8, 9, 10)]
    for a, b in zip(batch, singles, strict=True):
        assert np.array_equal(a.rgba, b.rgba)
        assert a.to_png() == b.to_png()
    assert [a.metadata["seed"] for a in batch] == [7, 8, 9, 10]
    texts = engine.generate("echo", seed=3, count=3)
    assert [t.text for t in texts] == [engine.generate("echo", seed=s)[0].text for s in (3, 4, 5)]


def test_same_request_same_asset_different_seed_different_asset(engine: Engine) -> None:
    a = engine.generate("blob", seed=1)[0]
    assert np.array_equal(a.rgba, Engine(device="cpu").generate("blob", seed=1)[0].rgba)
    assert not np.array_equal(a.rgba, engine.generate("blob", seed=2)[0].rgba)


def test_asset_types_and_metadata(engine: Engine) -> None:
    (img,) = engine.generate("blob", seed=5, size=16, color="red")
    assert (
        isinstance(img, ImageAsset) and img.rgba.shape == (16, 16, 4) and img.rgba.dtype == np.uint8
    )
    assert img.metadata["generator"] == "blob" and img.metadata["seed"] == 5
    assert img.metadata["plugin"] == "testkit"
    assert img.metadata["options"]["color"] == "red" and img.metadata["options"]["size"] == 16
    assert "model_sha256" in img.metadata
    assert img.to_png().startswith(b"\x89PNG")
    (line,) = engine.generate("echo", seed=1, words=3)
    assert isinstance(line, TextAsset) and len(line.text.split()) == 3 and line.speaker == "npc"


def test_animate(engine: Engine) -> None:
    anim = engine.animate("blob", seed=2, frames=6, speed=1.0)
    assert isinstance(anim, AnimationAsset) and len(anim.frames) == 6
    assert [f.metadata["frame"] for f in anim.frames] == list(range(6))
    assert anim.metadata["frames"] == 6 and anim.fps == 10
    again = engine.animate("blob", seed=2, frames=6)
    assert all(
        np.array_equal(a.rgba, b.rgba) for a, b in zip(anim.frames, again.frames, strict=True)
    )


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda e: e.generate("blob", seed=-1), "seed must be an integer from 0 to"),
        (lambda e: e.generate("blob", seed=MAX_SEED + 1), "seed must be an integer"),
        (
            lambda e: e.generate("blob", seed=MAX_SEED, count=2),
            f"from 0 to {MAX_SEED - 1} for count=2",
        ),
        (lambda e: e.generate("blob", seed="7"), "seed must be an integer"),
        (lambda e: e.generate("blob", seed=1.0), "seed must be an integer"),
        (lambda e: e.generate("blob", count=0), f"count must be an integer from 1 to {MAX_COUNT}"),
        (lambda e: e.generate("blob", count=MAX_COUNT + 1), "count must be an integer"),
        (
            lambda e: e.animate("blob", frames=MAX_FRAMES + 1),
            f"frames must be an integer from 1 to {MAX_FRAMES}",
        ),
        (lambda e: e.animate("echo"), "generator 'echo' cannot animate; generators that can: blob"),
        (
            lambda e: e.generate("blob", size=4),
            "option 'size' must be an integer from 8 to 128; got 4",
        ),
        (lambda e: e.generate("blob", colour="red"), "unknown option 'colour'"),
        (lambda e: e.generate("blob", speed=2.0), "unknown option 'speed'"),
    ],
)
def test_bad_requests_raise_typed_errors(engine: Engine, call, fragment: str) -> None:
    with pytest.raises(InvalidOptionsError) as err:
        call(engine)
    assert fragment in str(err.value)


def test_max_seed_is_accepted(engine: Engine) -> None:
    assert engine.generate("blob", seed=MAX_SEED)[0].metadata["seed"] == MAX_SEED


def test_generator_infos_carry_options_schema(engine: Engine) -> None:
    info = {g.id: g for g in engine.generators()}["blob"]
    assert info.options_schema["properties"]["size"]["maximum"] == 128
    assert "speed" in info.animation_options_schema["properties"]
    assert info.model is None
    assert info.to_dict()["id"] == "blob"


def test_invalid_device_is_refused() -> None:
    with pytest.raises(
        InvalidOptionsError, match="device must be one of auto, cpu, cuda; got 'tpu'"
    ):
        Engine(device="tpu", plugins=[])


def test_engine_is_thread_safe(engine: Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    serial = [engine.generate("blob", seed=s)[0].to_png() for s in range(32)]
    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(lambda s: engine.generate("blob", seed=s)[0].to_png(), range(32)))
    assert parallel == serial
