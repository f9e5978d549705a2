"""The shipped shoes model through the engine: options, determinism, manifest checks."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from assetgen_shoes import plugin

from assetgen import Engine, InvalidOptionsError, ModelError

# The shipped model is trained and committed by issue 5; until then these tests cannot run.
pytestmark = pytest.mark.skipif(
    not (plugin.MODEL_DIR / "manifest.json").is_file(),
    reason="no shipped shoes model yet (plugins/assetgen_shoes/model/)",
)


@pytest.fixture
def engine(monkeypatch) -> Engine:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "shoes,exporters")
    return Engine(device="cpu")


def test_icons_are_64px_rgba_with_transparent_background(engine: Engine) -> None:
    icons = engine.generate("shoes", seed=0, count=8)
    for icon in icons:
        assert icon.rgba.shape == (64, 64, 4)
        corners = icon.rgba[[0, 0, -1, -1], [0, -1, 0, -1], 3]
        assert corners.max() < 32  # background is (nearly) transparent
        assert icon.rgba[..., 3].mean() > 10  # ...and there is a drawing
    assert len({icon.to_png() for icon in icons}) == 8


def test_seeding_rule_and_determinism(engine: Engine) -> None:
    batch = engine.generate("shoes", seed=7, count=4, type="boot")
    singles = [engine.generate("shoes", seed=s, type="boot")[0] for s in (7, 8, 9, 10)]
    assert all(np.array_equal(a.rgba, b.rgba) for a, b in zip(batch, singles, strict=True))
    again = Engine(device="cpu").generate("shoes", seed=7, count=4, type="boot")
    assert [a.to_png() for a in again] == [a.to_png() for a in batch]


def test_type_and_colour_options(engine: Engine) -> None:
    (boot,) = engine.generate("shoes", seed=3, type="boot")
    assert boot.metadata["type"] == "boot" and boot.metadata["options"]["type"] == "boot"
    (shifted,) = engine.generate("shoes", seed=3, type="boot", hue_shift=90.0)
    assert np.array_equal(boot.rgba[..., 3], shifted.rgba[..., 3])  # same shape
    assert not np.array_equal(boot.rgba[..., :3], shifted.rgba[..., :3])
    luma = np.array([0.299, 0.587, 0.114])
    visible = boot.rgba[..., 3] > 128
    diff = np.abs(boot.rgba[..., :3] @ luma - shifted.rgba[..., :3] @ luma)[visible]
    assert np.median(diff) < 6  # brightness kept: the icon stays readable
    (grey,) = engine.generate("shoes", seed=3, type="boot", saturation=0.0)
    rgb = grey.rgba[..., :3].astype(int)[visible]
    assert np.abs(rgb - rgb.mean(1, keepdims=True)).max() <= 2
    low = engine.generate("shoes", seed=3, count=4, variety=0.0, type="sandal")
    assert all(np.array_equal(low[0].rgba, x.rgba) for x in low)  # no variety: the mean sandal


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"type": "spaceboot"}, "option 'type' must be one of 'random', 'boot'"),
        ({"hue_shift": 400.0}, "option 'hue_shift' must be a number from -180 to 180"),
        ({"variety": -1.0}, "option 'variety' must be a number from 0 to 1.5"),
        ({"model": "other"}, "option 'model': no shoes model named 'other' is installed"),
    ],
)
def test_bad_options(engine: Engine, options, fragment) -> None:
    with pytest.raises(InvalidOptionsError, match=fragment):
        engine.generate("shoes", **options)


def test_shipped_manifest_and_card() -> None:
    manifest = json.loads((plugin.MODEL_DIR / "manifest.json").read_text())
    assert manifest["parity"]["max_abs_diff"] <= 1e-3 and manifest["opset"] <= 15
    assert set(manifest["files"]) == {"shoes.onnx", "MODEL_CARD.md"}
    assert (plugin.MODEL_DIR / "shoes.onnx").stat().st_size < 20_000_000
    card = (plugin.MODEL_DIR / "MODEL_CARD.md").read_text()
    for heading in ("Data", "Licence", "Training", "Metrics", "Known weaknesses"):
        assert f"## {heading}" in card


def test_a_corrupted_model_is_refused_and_other_generators_work(tmp_path, monkeypatch) -> None:
    broken = tmp_path / "model"
    shutil.copytree(plugin.MODEL_DIR, broken)
    data = bytearray((broken / "shoes.onnx").read_bytes())
    data[-100] ^= 0xFF
    (broken / "shoes.onnx").write_bytes(bytes(data))
    monkeypatch.setattr(plugin, "MODEL_DIR", broken)
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "shoes,exporters")
    engine = Engine(device="cpu")
    with pytest.raises(
        ModelError, match=r"shoes.onnx does not match its manifest.*expected [0-9a-f]{64}"
    ):
        engine.generate("shoes")
    assert "error" in engine.generator_info("shoes").model
    assert engine.exporters()  # the rest of the engine still works


def test_real_batches_draw_types_evenly_or_icons_evenly() -> None:
    import torch
    from assetgen_shoes.training.data import real_sampler

    labels = torch.tensor([0] * 30 + [1] * 3 + [2])  # 30 boots, 3 slippers, 1 clog
    rng = torch.Generator().manual_seed(0)
    by_type = labels[real_sampler(labels, "type")(30000, rng)]
    shares = torch.bincount(by_type, minlength=3).float() / 30000
    assert torch.allclose(shares, torch.full((3,), 1 / 3), atol=0.02)
    picks = real_sampler(labels, "type")(30000, rng)
    assert set(picks[labels[picks] == 1].tolist()) == {30, 31, 32}  # every slipper drawn
    by_icon = labels[real_sampler(labels, "icon")(30000, rng)]
    assert abs(float((by_icon == 2).float().mean()) - 1 / 34) < 0.01
    by_sqrt = torch.bincount(labels[real_sampler(labels, "sqrt")(30000, rng)], minlength=3)
    expected = torch.tensor([30, 3, 1]) ** 0.5
    assert torch.allclose(by_sqrt / 30000, expected / expected.sum(), atol=0.02)
    with pytest.raises(InvalidOptionsError, match="balance='even'"):
        real_sampler(labels, "even")


def test_type_is_a_choice_everywhere_options_are_described(engine: Engine, capsys) -> None:
    """14 fixed values (random and the model's 13 types): a choice in the JSON schema (the
    studio's dropdown, the bridge) and in 'assetgen info', not "text of at most 100"."""
    from assetgen.cli import main

    names = engine.generator_info("shoes").model["types"]
    schema = engine.generator_info("shoes").options_schema["properties"]["type"]
    assert schema["enum"] == ["random", *names] and len(schema["enum"]) == 14
    assert main(["info", "shoes"]) == 0
    row = next(line.split() for line in capsys.readouterr().out.splitlines() if "type" in line)
    assert row[:4] == ["type", "choice", "random", "random,"]


def test_a_model_of_your_own_takes_its_own_type_names(engine: Engine) -> None:
    """The choices are the shipped model's; a model trained on your own art has the types of
    its labels.csv (docs/training.md), so with model=NAME 'type' is checked against that model
    when it is loaded, not refused for not being a shipped type."""
    with pytest.raises(InvalidOptionsError, match=r"must be one of 'random', .*; got 'potion'"):
        plugin.ShoeOptions.parse({"type": "potion"})
    for from_text in (False, True):
        own = plugin.ShoeOptions.parse({"model": "mine", "type": "potion"}, from_text=from_text)
        assert own.type == "potion" and own.model == "mine"
        assert own.replace(variety=0.5).type == "potion"
    with pytest.raises(InvalidOptionsError, match="option 'type' must be text of at most 100"):
        plugin.ShoeOptions.parse({"model": "mine", "type": "x" * 101})
    with pytest.raises(InvalidOptionsError, match="no shoes model named 'mine'"):
        engine.generate("shoes", model="mine", type="potion")
