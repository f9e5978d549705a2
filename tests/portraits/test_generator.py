"""The portraits pipeline on a tiny model: export (parity, manifest), generation, options,
animations (talk, blink, interpolate, text and audio drivers), CLI, and the runtime path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from assetgen_portraits import drivers, plugin

from assetgen import Engine, InvalidOptionsError, ModelError
from assetgen import seeds as seed_maths
from assetgen.cli import main as cli_main

from ..sounds import speech_wav


@pytest.fixture
def engine(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setattr(plugin, "MODEL_DIR", tiny_model)
    return Engine(device="cpu", plugins=["portraits", "exporters"])


def test_export_writes_a_verified_onnx_model(tiny_model: Path) -> None:
    manifest = json.loads((tiny_model / "manifest.json").read_text())
    for name in ("mapping.onnx", "synthesis_prefix.onnx",
                 "synthesis_suffix.onnx", "classifier.onnx", "attributes.csv"):
        assert name in manifest["files"], name
    # the whole-synthesis graph is only the export's parity reference: not shipped
    assert "synthesis.onnx" not in manifest["files"]
    assert not (tiny_model / "synthesis.onnx").exists()
    assert manifest["opset"] <= 15
    parity = manifest["parity"]
    assert parity["seeds"] == 64 and max(parity["max_abs_diff"].values()) <= 1e-3
    assert set(manifest["edits"]) == {"mouth", "blink"}
    assert manifest["edits"]["mouth"]["layer"] == manifest["split_layer"]
    assert len(manifest["w_avg"]) == manifest["w_dim"] == 16
    assert manifest["num_ws"] == 10


def test_a_corrupted_model_file_is_refused_naming_it(tiny_model: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "model"
    shutil.copytree(tiny_model, broken)
    data = bytearray((broken / "synthesis_suffix.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (broken / "synthesis_suffix.onnx").write_bytes(bytes(data))
    monkeypatch.setattr(plugin, "MODEL_DIR", broken)
    engine = Engine(device="cpu", plugins=["portraits"])
    with pytest.raises(ModelError, match="synthesis_suffix.onnx"):
        engine.generate("portraits", seed=1)


def test_sprites_are_distinct_64px_rgba(engine: Engine) -> None:
    sprites = engine.generate("portraits", seed=7, count=16)
    assert all(s.rgba.shape == (64, 64, 4) and s.rgba.dtype == np.uint8 for s in sprites)
    assert len({s.to_png() for s in sprites}) == 16
    for s in sprites:  # fully transparent pixels carry no colour
        assert not s.rgba[s.rgba[..., 3] == 0].any()


def test_seeding_rule_and_determinism(engine: Engine) -> None:
    batch = engine.generate("portraits", seed=5, count=3, truncation=0.9)
    singles = [engine.generate("portraits", seed=s, truncation=0.9)[0] for s in (5, 6, 7)]
    assert [a.to_png() for a in batch] == [b.to_png() for b in singles]
    again = Engine(device="cpu", plugins=["portraits"]).generate(
        "portraits", seed=5, count=3, truncation=0.9
    )
    assert [a.to_png() for a in again] == [a.to_png() for a in batch]


def test_a_large_request_matches_single_requests_across_call_batches(engine: Engine) -> None:
    """Stills run CALL_BATCH faces per graph call; a face's pixels must not depend on the
    call it was in, nor on its place in it (the seeding rule)."""
    n = plugin.CALL_BATCH + 8
    batch = engine.generate("portraits", seed=100, count=n)
    for k in (0, 1, plugin.CALL_BATCH - 1, plugin.CALL_BATCH, n - 1):
        (single,) = engine.generate("portraits", seed=100 + k)
        assert batch[k].to_png() == single.to_png(), k


def _styles_one_by_one(seed: int, options: plugin.PortraitOptions, model) -> np.ndarray:
    """The styles as the generator made them before mapping was batched: one mapping run per
    seed (and one for the mix seed), each at batch 1."""
    mapping = model.bundle.session("mapping.onnx")

    def w_of(s: int) -> np.ndarray:
        z = seed_maths.SeedStream(s, "portraits.latent").standard_normal(model.z_dim)
        z = z.astype(np.float32)
        (w,) = mapping.run(None, {"z": z[None]})
        return (model.w_avg + np.float32(options.truncation) * (w[0] - model.w_avg)).astype(
            np.float32
        )

    ws = np.repeat(w_of(seed)[None], model.num_ws, axis=0)
    if options.mix_seed >= 0:
        ws[options.mix_layer :] = w_of(options.mix_seed)
    for name, strength in options.attributes.items():
        ws += np.float32(strength) * model.attributes[name]["vector"]
    return ws


@pytest.mark.parametrize(
    "options",
    [{}, {"truncation": 0.9, "mix_seed": 77, "mix_layer": 3}, {"attributes": "first"}],
    ids=["plain", "mixed", "attribute"],
)
def test_batched_mapping_gives_each_seed_its_own_styles_and_pixels(
    engine: Engine, tiny_model: Path, options: dict
) -> None:
    """Stills map all of a call's seeds (and the mix seed) in one mapping run: every seed's
    styles must be bit-identical to mapping that seed alone, and every face's pixels to its
    single-seed request, across a CALL_BATCH boundary."""
    if options.get("attributes") == "first":
        name = plugin.read_attributes(tiny_model / "attributes.csv")[0]["name"]
        options = {"attributes": {name: 1.5}}
    gen = plugin.PortraitsGenerator(engine.runtime)
    parsed = engine.parse_options("portraits", options)
    model = gen.model(parsed)
    seeds = list(range(300, 300 + plugin.CALL_BATCH + 3))
    batched = gen.ws_batch(seeds, parsed, model)
    for k, seed in enumerate(seeds):
        assert np.array_equal(batched[k], _styles_one_by_one(seed, parsed, model)), seed
        assert np.array_equal(gen.ws_of(seed, parsed, model), batched[k]), seed
    faces = engine.generate("portraits", seed=seeds[0], count=len(seeds), **options)
    for k in (0, 5, plugin.CALL_BATCH - 1, plugin.CALL_BATCH, len(seeds) - 1):
        (single,) = engine.generate("portraits", seed=seeds[k], **options)
        assert np.array_equal(faces[k].rgba, single.rgba), seeds[k]
        assert faces[k].to_png() == single.to_png(), seeds[k]


def test_truncation_zero_gives_the_average_face(engine: Engine) -> None:
    faces = engine.generate("portraits", seed=0, count=3, truncation=0.0)
    assert faces[0].to_png() == faces[1].to_png() == faces[2].to_png()


def test_style_mixing(engine: Engine) -> None:
    (plain,) = engine.generate("portraits", seed=3)
    (mixed,) = engine.generate("portraits", seed=3, mix_seed=9, mix_layer=2)
    (other,) = engine.generate("portraits", seed=9)
    assert plain.to_png() != mixed.to_png() != other.to_png()
    (all_mixed,) = engine.generate("portraits", seed=3, mix_seed=9, mix_layer=1)
    assert all_mixed.to_png() != other.to_png()  # layer 0 still comes from seed 3


def test_attribute_vectors(engine: Engine, tiny_model: Path) -> None:
    rows = plugin.read_attributes(tiny_model / "attributes.csv")
    assert rows, "the tiny model should still ship some attribute vectors"
    name = rows[0]["name"]
    assert rows[0]["vector"].shape == (16,)
    (plain,) = engine.generate("portraits", seed=4)
    (edited,) = engine.generate("portraits", seed=4, attributes={name: 2.0})
    assert plain.to_png() != edited.to_png()
    (zero,) = engine.generate("portraits", seed=4, attributes={name: 0.0})
    assert zero.to_png() == plain.to_png()


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"truncation": 2.0}, "truncation"),
        ({"mix_layer": 10}, "mix_layer"),
        ({"mix_seed": -2}, "mix_seed"),
        ({"attributes": {"no_such_thing": 1.0}}, "no_such_thing"),
        ({"attributes": {"x": float("nan")}}, "attributes"),
        ({"model": "other"}, "model"),
    ],
)
def test_bad_options_name_the_option(engine: Engine, options: dict, fragment: str) -> None:
    with pytest.raises(InvalidOptionsError, match=fragment):
        engine.generate("portraits", seed=1, **options)


def test_talk_frames_share_everything_but_the_mouth(engine: Engine) -> None:
    anim = engine.animate("portraits", seed=7, frames=12, animation="talk")
    assert len(anim.frames) == 12 and anim.fps == 12.0
    assert anim.metadata["animation"] == "talk" and len(anim.metadata["curve"]) == 12
    (still,) = engine.generate("portraits", seed=7)
    # strength 0: every frame is exactly the still (the zero-delta identity)
    flat = engine.animate("portraits", seed=7, frames=4, animation="talk", strength=0.0)
    assert all(f.to_png() == still.to_png() for f in flat.frames)
    # the closed end of the curve sits at the character's own rest state, at or below the
    # edit's reference (the tiny model ships a learnt reading: edits.mouth.rest)
    edit = engine._instance("portraits").model().edits["mouth"]
    assert edit.rest is not None
    assert edit.rest["floor"] <= anim.metadata["rest_state"] <= 0.0


def test_frame_deltas_follow_the_curve_from_the_rest_state() -> None:
    from assetgen_portraits.local_edits import LocalEdit

    pattern = np.zeros((1, 4, 4), np.float32)
    pattern[0, 2, 1:3] = 1.0
    spec = {"name": "mouth", "layer": 6, "channels": [1], "pattern": pattern,
            "reference": np.zeros_like(pattern), "template": np.ones((4, 4), np.float32),
            "max_shift": 0, "gain": 2.0, "shape": [2, 4, 4]}
    features = np.zeros((2, 4, 4), np.float32)
    features[1, 2, 1:3] = 0.25  # a quarter of the way on
    plain = LocalEdit(spec)
    deltas, made = plain.frame_deltas(features, [0.0, 0.25, 1.0], strength=1.0)
    assert made == {"shift": (0, 0), "start": 0.25, "rest": 0.0}
    # off: back by the quarter, x gain; the still's own state: zero; on: forward 0.75
    assert np.allclose(deltas[:, 1, 2, 1], [-0.5, 0.0, 1.5]) and not deltas[1].any()
    assert not plain.frame_deltas(features, [0.0, 1.0], strength=0.0)[0].any()
    # a learnt rest reading: the value at channel 1, cell (2, 1), minus 0.5, less a margin
    rest = {"cells": [[2, 1]], "weights": [[0.0], [1.0]], "bias": -0.5, "margin": 0.05,
            "floor": -0.4}
    learnt = LocalEdit({**spec, "rest": rest})
    assert learnt.rest_state(features) == pytest.approx(-0.3)
    deltas, made = learnt.frame_deltas(features, [0.0, 0.5, 1.0])
    assert made["rest"] == pytest.approx(-0.3)
    # off at -0.3, half way at 0.35, on at 1, each from the start 0.25, x gain 2
    assert np.allclose(deltas[:, 1, 2, 1], [-1.1, 0.2, 1.5])
    features[1, 2, 1] = -1.0  # a reading below the floor is held at the floor
    assert learnt.rest_state(features) == pytest.approx(-0.4)
    features[1, 2, 1] = 2.0  # and one above the reference at the reference
    assert learnt.rest_state(features) == 0.0
    # a shifting edit (older models) ignores the reading
    assert LocalEdit({**spec, "rest": rest, "max_shift": 1}).rest is None


@pytest.mark.parametrize("layer", [3, 6, 7])
@pytest.mark.parametrize("cell", ["middle", "corner"])
def test_an_edit_window_holds_every_pixel_the_edit_changes(
    tiny_run: Path, layer: int, cell: str
) -> None:
    import torch
    from assetgen_portraits.training import unconditional_export as tools
    from assetgen_portraits.training.unconditional_train import load_run_generator

    G, _, _ = load_run_generator(tiny_run)
    ws = G.ws(torch.randn(3, G.z_dim, generator=torch.Generator().manual_seed(5)))
    with torch.no_grad():
        f, skip = G.synthesis.prefix(ws, layer)
    size = f.shape[-1]
    y, x = (size // 2, size // 2) if cell == "middle" else (0, size - 1)
    pattern = np.zeros(f.shape[1:], np.float32)
    pattern[:, y, x] = 3.0
    window = tools.edit_window(G, layer, pattern)
    delta = torch.from_numpy(pattern)[None].repeat(3, 1, 1, 1)
    whole = tools._Suffix(G, layer)
    y0, y1, x0, x1 = window["crop"]
    py0, py1, px0, px1 = window["paste"]
    with torch.no_grad():
        still, edited = whole(f, skip, ws, delta * 0), whole(f, skip, ws, delta)
        part = tools._SuffixWindow(G, layer, window["crop"])(
            f[..., y0:y1, x0:x1], skip[..., y0:y1, x0:x1], ws, delta[..., y0:y1, x0:x1]
        )
    changed = (edited - still).abs().amax(dim=(0, 1)) > 0
    inside = torch.zeros_like(changed)
    inside[py0:py1, px0:px1] = True
    assert changed.any() and not (changed & ~inside).any()
    scale = 64 // size
    inner = part[..., py0 - y0 * scale : py1 - y0 * scale, px0 - x0 * scale : px1 - x0 * scale]
    assert torch.allclose(inner, edited[..., py0:py1, px0:px1], atol=1e-5)


def test_windowed_frames_equal_the_whole_suffix(engine: Engine, tiny_model: Path) -> None:
    gen = engine._instance("portraits")
    model = gen.model()
    edit = model.edits["mouth"]
    assert edit.window is not None and edit.window["graph"] in model.bundle.manifest["files"]
    anim = engine.animate("portraits", seed=11, frames=8, animation="talk", strength=2.0)
    (still,) = engine.generate("portraits", seed=11)
    ws = gen.ws_of(11, plugin.PortraitAnimationOptions(), model)
    features, skip = gen.prefix(ws, model)
    curve = gen.curve(11, 8, plugin.PortraitAnimationOptions())
    deltas, _ = edit.frame_deltas(features[0], curve, 2.0)
    py0, py1, px0, px1 = edit.window["paste"]
    outside = np.ones((64, 64), bool)
    outside[py0:py1, px0:px1] = False
    for frame, delta in zip(anim.frames, deltas, strict=True):
        whole = gen.suffix(features, skip, ws, delta, model)
        # the same image up to float rounding (another graph): at most one level of 255
        assert np.abs(frame.rgba.astype(int) - whole.astype(int)).max() <= 1
        assert (frame.rgba[outside] == still.rgba[outside]).all()


def test_blink_and_interpolate(engine: Engine) -> None:
    blink = engine.animate("portraits", seed=2, frames=8, animation="blink")
    assert len(blink.frames) == 8 and max(blink.metadata["curve"]) == 1.0
    morph = engine.animate("portraits", seed=2, frames=5, animation="interpolate", to_seed=40)
    (a,) = engine.generate("portraits", seed=2)
    (b,) = engine.generate("portraits", seed=40)
    assert morph.frames[0].to_png() == a.to_png()
    assert morph.frames[-1].to_png() == b.to_png()
    default = engine.animate("portraits", seed=2, frames=3, animation="interpolate")
    assert default.metadata["to_seed"] == 3


def test_text_driver_sets_the_frame_count(engine: Engine) -> None:
    line = "Well met, traveller! The road north is long."
    anim = engine.animate("portraits", seed=1, text=line, fps=10.0)
    assert len(anim.frames) == drivers.text_frames(line, 10.0)
    assert anim.metadata["curve"] == [round(float(c), 4) for c in drivers.text_curve(line, 10.0)]
    padded = engine.animate("portraits", seed=1, frames=80, text=line, fps=10.0)
    assert len(padded.frames) == 80 and padded.metadata["curve"][-1] == 0.0
    with pytest.raises(InvalidOptionsError, match="animation"):
        engine.animate("portraits", seed=1, animation="blink", text=line)
    with pytest.raises(InvalidOptionsError, match="frame"):
        engine.animate("portraits", seed=1, text="word " * 300, fps=60.0)


def test_audio_driver(engine: Engine, tmp_path: Path) -> None:
    wav = speech_wav(tmp_path / "line.wav", 1.5)
    anim = engine.animate("portraits", seed=1, audio=str(wav), fps=12.0)
    assert len(anim.frames) == 18
    curve = anim.metadata["curve"]
    assert max(curve[:8]) == 0.0 and max(curve[10:]) > 0.5  # silent, then the tone
    with pytest.raises(InvalidOptionsError, match="audio"):
        engine.animate("portraits", seed=1, audio=str(tmp_path / "missing.wav"))


def test_cli_animate_and_generate(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "talk"
    code = cli_main(["animate", "portraits", "--seed", "7", "--animation", "talk", "--frames",
                     "12", "--format", "sheet", "--out", str(out)])
    assert code == 0
    sheet = json.loads(next(out.glob("*.json")).read_text())
    assert len(sheet["frames"]) == 12
    code = cli_main(["animate", "portraits", "--seed", "7", "--text", "Hello there.",
                     "--format", "png", "--out", str(tmp_path / "said")])
    assert code == 0
    assert len(list((tmp_path / "said").glob("*.png"))) == drivers.text_frames("Hello there.", 12)
    code = cli_main(["generate", "portraits", "--seed", "7", "--count", "16",
                     "--out", str(tmp_path / "p")])
    assert code == 0 and len(list((tmp_path / "p").glob("*.png"))) == 16
    assert cli_main(["generate", "portraits", "-o", "truncation=9", "--out",
                     str(tmp_path / "bad")]) == 2


def test_the_runtime_path_never_imports_torch(tiny_model: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assetgen_portraits import plugin\n"
        f"plugin.MODEL_DIR = Path({str(tiny_model)!r})\n"
        "from assetgen import Engine\n"
        "engine = Engine(device='cpu', plugins=['portraits'])\n"
        "engine.generate('portraits', seed=1, count=2)\n"
        "engine.animate('portraits', seed=1, frames=3, text='Hi there.')\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


def test_evaluation_reports_every_figure_on_a_tiny_model(
    tiny_model: Path, tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetgen_portraits.training import evaluate_unconditional as evaluate

    monkeypatch.setattr(plugin, "MODEL_DIR", tiny_model)
    config = {**evaluate.EVAL_CONFIG, "samples": 24, "eval_data": str(tiny_data),
              "data": str(tiny_data), "memorisation_samples": 8, "attribute_seeds": 6,
              "talk_seeds": 5, "speed_repeats": 1, "baseline_run": ""}
    out = tmp_path / "eval.json"
    report = evaluate.evaluate(tiny_model, out, config)
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert report["quality"]["fid"] >= 0 and 0 <= report["quality"]["precision"] <= 1
    assert report["quality_dcgan_baseline"] is None  # no baseline run given
    for key in ("talk", "blink"):
        edit = report[key]
        assert edit["seeds"] == 5
        for method in ("feature_map_edit", "latent_direction"):
            figures = edit[method]
            assert 0 <= figures["effective_share"] <= 1
            assert 0 <= figures["locality_median"] <= 1
        assert Path(edit["picture"]).is_file()
    assert report["talk"]["speed"]["frames"] == 8 and "speed" not in report["blink"]
    assert report["blink"]["picture"].endswith("eval-blink.png")
    assert report["talk"]["picture"] == str(tmp_path / "eval.png")
