"""The label-conditioned portraits model (the shipped kind), on a tiny trained model: export
(graphs, manifest, parity), label options (valid, invalid, colour names), determinism per seed,
transparency, the talk / blink / morph animations, refusal of bad manifests, and the
evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from assetgen_portraits import plugin
from assetgen_portraits.labels import LabelModel

from assetgen import Engine, InvalidOptionsError
from assetgen.cli import main as cli_main

from .conftest import TinyEvaluation, portraits_engine, refused_naming


@pytest.fixture
def engine(tiny_label_model: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setattr(plugin, "MODEL_DIR", tiny_label_model)
    return Engine(device="cpu", plugins=["portraits", "exporters"])


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def test_export_writes_two_graphs_with_label_tables(tiny_label_model: Path) -> None:
    m = _manifest(tiny_label_model)
    assert m["conditioning"] == "labels"
    assert {"mapping.onnx", "synthesis.onnx", "manifest.json"} - {"manifest.json"} <= set(
        m["files"]
    )
    assert m["opset"] <= 15
    assert max(m["parity"]["max_abs_diff"].values()) <= m["parity"]["threshold"]
    names = [c["name"] for c in m["label_space"]]
    assert {"hair", "hairColor", "skinColor", "mouth", "eyes"} <= set(names)
    # the mouth vocabulary holds every adventurer mouth, speech-only ones included
    mouth = next(c for c in m["label_space"] if c["name"] == "mouth")
    assert len(mouth["values"]) == 31
    assert m["inputs"]["mapping.onnx"]["label_weights"][1] == sum(
        len(c["values"]) for c in m["label_space"]
    )
    graph = onnx.load(str(tiny_label_model / "mapping.onnx")).graph
    halves = [i for i in graph.initializer if i.data_type == onnx.TensorProto.FLOAT16]
    assert len(halves) == 2  # the two spatial map tables, stored as float16
    # read as float16 by a Gather, whose rows a Cast widens (a runtime keeps the table half)
    for table in halves:
        readers = [n for n in graph.node if table.name in n.input]
        assert [n.op_type for n in readers] == ["Gather"]
        widen = [n for n in graph.node if readers[0].output[0] in n.input]
        assert [(n.op_type, n.attribute[0].i) for n in widen] == [
            ("Cast", onnx.TensorProto.FLOAT)
        ]
    assert len(m["w_avg"]) == m["w_dim"] and np.isfinite(m["w_avg"]).all()


def test_a_label_option_draws_that_label(engine: Engine) -> None:
    sprite = engine.generate("portraits", seed=5, hair="long03", hair_color="red")[0]
    assert sprite.metadata["labels"]["hair"] == "long03"
    assert sprite.metadata["labels"]["hair_color"] == "red"
    # the colour's hex code means the same colour, and gives the same sprite
    same = engine.generate("portraits", seed=5, hair="long03", hair_color="#ab2a18")[0]
    assert np.array_equal(same.rgba, sprite.rgba)


def test_an_unknown_label_value_names_the_option_and_lists_the_values(engine: Engine) -> None:
    with pytest.raises(InvalidOptionsError) as info:
        engine.generate("portraits", seed=1, hair="long99")
    message = str(info.value)
    assert "option 'hair'" in message and "long03" in message and "random" in message
    assert info.value.parameter == "hair"


def test_an_unknown_label_value_exits_2_from_the_cli(
    tiny_label_model: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(plugin, "MODEL_DIR", tiny_label_model)
    code = cli_main(["generate", "portraits", "--seed", "1", "-o", "skin=purple",
                     "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "option 'skin'" in err and "light" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_labels_and_pixels_are_deterministic_per_seed(engine: Engine) -> None:
    a = engine.generate("portraits", seed=11, count=6)
    b = engine.generate("portraits", seed=11, count=6)
    assert [s.metadata["labels"] for s in a] == [s.metadata["labels"] for s in b]
    assert all(np.array_equal(x.rgba, y.rgba) for x, y in zip(a, b, strict=True))
    # a face does not depend on the batch it is made in
    alone = engine.generate("portraits", seed=13)[0]
    assert np.array_equal(alone.rgba, a[2].rgba)
    assert len({json.dumps(s.metadata["labels"], sort_keys=True) for s in a}) > 1


def test_setting_one_label_leaves_the_other_draws_alone(engine: Engine) -> None:
    for seed in range(20, 30):
        free = engine.generate("portraits", seed=seed)[0].metadata["labels"]
        fixed = engine.generate("portraits", seed=seed, skin="dark")[0].metadata["labels"]
        assert fixed["skin"] == "dark"
        assert {k: v for k, v in fixed.items() if k != "skin"} == {
            k: v for k, v in free.items() if k != "skin"
        }


def test_seeds_draw_only_values_of_the_still_portraits(tiny_label_model: Path) -> None:
    labels = LabelModel(_manifest(tiny_label_model))
    mouths = labels.by_name["mouth"].values
    speech_only = {"variant10", "variant11", "variant12", "variant13", "variant14"}
    for seed in range(300):
        codes = labels.draw(seed, {})
        assert mouths[codes["mouth"]] not in speech_only


def test_a_batch_of_label_draws_is_each_seed_drawn_alone(tiny_label_model: Path) -> None:
    """draw_batch (vectorised over seeds) gives exactly each seed's own draw, with and
    without fixed labels, and follows the portable rule: uniform 0 of the seed's
    "portraits.labels" stream picks the hair from the marginal's running sum."""
    from assetgen import seeds

    labels = LabelModel(_manifest(tiny_label_model))
    seed_list = list(range(1000, 1040))
    hair = labels.given
    for fixed in ({}, {"skinColor": 1}, {hair: 2}):
        batch = labels.draw_batch(seed_list, fixed)
        assert batch == [labels.draw(s, fixed) for s in seed_list]
        for column, code in fixed.items():
            assert {row[column] for row in batch} == {code}
    for s, row in zip(seed_list, labels.draw_batch(seed_list, {}), strict=True):
        u = seeds.SeedStream(s, "portraits.labels").random()
        assert row[hair] == int(seeds.pick(seeds.running_sum(labels.marginal), u))


def test_sprites_carry_no_colour_where_transparent(engine: Engine) -> None:
    for sprite in engine.generate("portraits", seed=40, count=8):
        rgba = sprite.rgba
        assert rgba.shape == (64, 64, 4) and rgba.dtype == np.uint8
        assert not rgba[rgba[..., 3] == 0].any()


def test_unpremultiply_keeps_colour_within_alpha() -> None:
    torch = pytest.importorskip("torch")
    from assetgen_portraits.training.export import straight_rgba

    premul = torch.tensor([[[[0.2]], [[0.9]], [[-1.0]], [[-0.2]]]])  # alpha 0.4
    out = straight_rgba(premul)
    alpha = float(out[0, 3])
    assert abs(alpha - 0.4) < 1e-6
    # red 0.6 premultiplied by 0.4 would be 0.24: 0.6 is clamped to alpha, i.e. 1.0 straight
    assert abs(float(out[0, 0]) - 1.0) < 1e-6 and float(out[0, 2]) == 0.0
    # a faint haze (alpha 5 of 255, below the renders' lowest 8) is cleared, colour and all
    haze = torch.tensor([[[[-0.99]], [[-0.99]], [[-0.99]], [[5 / 255 * 2 - 1]]]])
    assert float(straight_rgba(haze).abs().max()) == 0.0


def test_talk_with_strength_0_is_the_still_in_every_frame(engine: Engine) -> None:
    still = engine.generate("portraits", seed=3)[0].rgba
    anim = engine.animate("portraits", seed=3, frames=6, animation="talk", strength=0.0)
    assert all(np.array_equal(f.rgba, still) for f in anim.frames)


def test_talk_frames_are_labelled_mouths_of_one_family(
    engine: Engine, tiny_label_model: Path
) -> None:
    m = _manifest(tiny_label_model)
    for seed in range(3, 9):
        anim = engine.animate("portraits", seed=seed, frames=10, animation="talk")
        states = anim.metadata["states"]
        shut, opened = states[0], states[-1]
        assert m["states"]["mouth"][shut] == "closed" and m["states"]["mouth"][opened] == "open"
        family = next(f for f in m["mouth_families"] if shut in f["closed"])
        assert opened in family["open"] + family["half"]
        assert len(states) == 2 + bool(family["half"])
        # every frame is one of the states, the still's own mouth among them
        assert set(anim.metadata["frame_states"]) <= set(states)
        still_mouth = engine.generate("portraits", seed=seed)[0].metadata["labels"]["mouth"]
        assert still_mouth in states
        # frames with the same state are the same picture
        by_state: dict[str, bytes] = {}
        for state, frame in zip(anim.metadata["frame_states"], anim.frames, strict=True):
            assert by_state.setdefault(state, frame.rgba.tobytes()) == frame.rgba.tobytes()


def test_blink_frames_are_open_or_closed_eyes(engine: Engine, tiny_label_model: Path) -> None:
    m = _manifest(tiny_label_model)
    anim = engine.animate("portraits", seed=8, frames=12, animation="blink")
    opened, shut = anim.metadata["states"]
    assert m["states"]["eyes"][opened] == "open" and m["states"]["eyes"][shut] == "closed"
    assert shut in anim.metadata["frame_states"] and anim.metadata["frame_states"][0] == opened


def test_a_morph_starts_and_ends_at_the_two_faces(engine: Engine) -> None:
    a = engine.generate("portraits", seed=21)[0].rgba
    b = engine.generate("portraits", seed=22)[0].rgba
    anim = engine.animate("portraits", seed=21, frames=5, animation="interpolate")
    assert anim.metadata["to_seed"] == 22
    assert np.array_equal(anim.frames[0].rgba, a)
    assert np.array_equal(anim.frames[-1].rgba, b)


def test_attribute_vectors_move_w_and_keep_the_labels(engine: Engine,
                                                      tiny_label_model: Path) -> None:
    attributes = _manifest(tiny_label_model)["attributes"]
    assert attributes, "the tiny model has at least one attribute vector"
    hair = next(a for a in attributes if a["column"] == "hairColor")
    colour = hair["name"].removeprefix("hair_color_")
    seed = next(s for s in range(50) if engine.generate("portraits", seed=s)[0].metadata[
        "labels"]["hair_color"] != colour)
    plain = engine.generate("portraits", seed=seed)[0]
    moved = engine.generate("portraits", seed=seed, attributes={hair["name"]: 0.5})[0]
    assert plain.metadata["labels"] == moved.metadata["labels"]
    assert not np.array_equal(plain.rgba, moved.rgba)
    # per face: strength 1 is the same face with that colour, as the label option draws it
    full = engine.generate("portraits", seed=seed, attributes={hair["name"]: 1.0})[0]
    label = engine.generate("portraits", seed=seed, hair_color=colour)[0]
    assert np.abs(full.rgba.astype(int) - label.rgba.astype(int)).max() <= 2
    # a face that has the colour already does not change
    same = engine.generate("portraits", seed=seed, hair_color=colour,
                           attributes={hair["name"]: 1.0})[0]
    assert np.abs(same.rgba.astype(int) - label.rgba.astype(int)).max() <= 1


@pytest.mark.parametrize(
    "field, value, named",
    [
        ("label_sampling", {"given": "nope", "order": [], "marginal": [], "conditional": {}},
         "label_sampling.given"),
        ("options", {"hair": "no_such_column"}, "options"),
    ],
)
def test_a_manifest_with_a_bad_label_field_is_refused_naming_it(
    tiny_label_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    field: str, value: object, named: str,
) -> None:
    refused_naming(tiny_label_model, tmp_path / "model", monkeypatch, field, value, named)


def test_an_unconditional_model_refuses_label_options(tiny_model: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    engine = portraits_engine(tiny_model, monkeypatch)
    with pytest.raises(InvalidOptionsError, match="option 'hair'.*takes no labels"):
        engine.generate("portraits", seed=1, hair="long03")


def test_the_evaluation_runs_on_the_tiny_model(
    tiny_label_evaluation: TinyEvaluation, tmp_path: Path
) -> None:
    tools, model, files = (
        tiny_label_evaluation.tools, tiny_label_evaluation.model, tiny_label_evaluation.files
    )
    config = {
        **tools.EVAL_CONFIG,
        "samples": 48, **files, "eval_data": files["data"], "judge_steps": 4, "judge_width": 4,
        "judge_min_accuracy": 0.0, "reconstruction_images": 16, "talk_pairs": 8,
        "interpolation_pairs": 8, "attribute_seeds": 4,
    }
    report = tools.evaluate(model, tmp_path / "report.json", config)
    assert json.loads((tmp_path / "report.json").read_text())["samples"] == 48
    for key in ("quality", "quality_real_vs_real_floor", "label_fidelity", "transparency",
                "reconstruction", "talk", "blink", "interpolation", "attributes"):
        assert key in report, key
    assert set(report["label_fidelity"]) >= {"hair", "mouth", "eyes"}
    assert 0 <= report["talk"]["locality"] <= 1 and 0 <= report["blink"]["locality"] <= 1
    assert 0 <= report["transparency"]["corners_clear"] <= 1
    assert {"morph", "crossfade"} <= set(report["interpolation"])
    # a judge below the floor is refused, naming the setting to raise
    with pytest.raises(InvalidOptionsError, match="judge_steps"):
        tools.evaluate(model, None, {**config, "judge_min_accuracy": 1.01})
