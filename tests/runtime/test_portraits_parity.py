"""Parity of the C# runtime (``dotnet_runtime/``, AssetGen.Runtime, no Python) with the Python
API for portrait stills: the C# parity program (``dotnet_runtime/parity``) makes sprites under
Mono with ONNX Runtime's native library, and every sprite is compared with
``Engine().generate("portraits", ...)``: within 1/255 per channel on at least 99.9% of pixels
(so far they are identical), the same label sets, the same InvalidOptionsError messages, and
model folders refused with errors that name the file and field.

Option values are read from the model's manifest, not written here, so the test holds for a
retrained model with the same graph interface."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assetgen import Engine, InvalidOptionsError

from .conftest import (
    SHARE,
    TOLERANCE,
    check_python_errors,
    csharp_images,
    paired_animations,
    run_csharp,
)

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "plugins" / "assetgen_portraits" / "model"


def label_choices(option: str, model: Path = MODEL) -> list[str]:
    """The values of a label option for ``model``; for another model than the shipped one,
    those the shipped model has too (the Python options layer checks against the shipped
    model's choices before the model is loaded)."""
    from assetgen_portraits.labels import LabelModel

    def choices(folder: Path) -> list[str]:
        labels = LabelModel(json.loads((folder / "manifest.json").read_text("utf-8")))
        return [c for c in labels.choices(option) if c != "random"]

    own = choices(model)
    return own if model == MODEL else [c for c in own if c in set(choices(MODEL))]


def manifest() -> dict[str, Any]:
    return json.loads((MODEL / "manifest.json").read_text("utf-8"))


def attribute_names(model: Path) -> list[str]:
    with open(model / "attributes.csv", encoding="utf-8") as fh:
        return [line.split(",", 1)[0] for line in fh.read().splitlines()[1:] if line]


def requests_for(model: Path) -> list[dict[str, Any]]:
    """Several seeds and option sets: defaults, truncation, every label option set (first
    and last value), hex colours, style mixing, attributes, and a batch over the 32-face
    ONNX call size."""
    m = json.loads((model / "manifest.json").read_text("utf-8"))
    num_ws = int(m["num_ws"])
    options = list(m["options"])
    first = {o: label_choices(o, model)[0] for o in options}
    last = {o: label_choices(o, model)[-1] for o in options}
    attrs = attribute_names(model)
    return [
        {"id": "defaults", "seeds": [0, 1, 2, 3, 4, 5], "options": {}},
        {"id": "truncation", "seeds": [10, 11, 12], "options": {"truncation": 0.6}},
        {"id": "truncation0", "seeds": [7], "options": {"truncation": 0.0}},
        {"id": "first_labels", "seeds": [20, 21], "options": first},
        {"id": "last_labels", "seeds": [22, 23], "options": last},
        {"id": "one_label", "seeds": [30, 31, 32],
         "options": {options[0]: label_choices(options[0], model)[1]}},
        {"id": "mixing", "seeds": [40, 41],
         "options": {"mix_seed": 99, "mix_layer": min(3, num_ws - 1)}},
        {"id": "mixing_last", "seeds": [42], "options": {"mix_seed": 7, "mix_layer": num_ws - 1,
                                                          "truncation": 0.8}},
        {"id": "attributes", "seeds": [50, 51], "options": {
            "attributes": {attrs[0]: 1.5, attrs[-1]: -0.75}}},
        {"id": "everything", "seeds": list(range(100, 135)), "options": {
            "truncation": 0.7, "mix_seed": 3, "mix_layer": min(4, num_ws - 1),
            "attributes": {attrs[len(attrs) // 2]: 1.0}, options[-1]: last[options[-1]]}},
        {"id": "big_seed", "seeds": [2**63 - 2], "options": {}},
    ]


def compare(exe: Path, model: Path, model_option: str, tmp: Path,
            requests: list[dict[str, Any]] | None = None) -> list[str]:
    requests = requests or requests_for(model)
    code, log, results = run_csharp(exe, model, requests, tmp)
    assert code == 0, log
    engine = Engine()
    report = []
    for request in requests:
        result = results[request["id"]]
        assert "error" not in result, (request, result)
        ours = csharp_images(tmp, request["id"], result)
        seeds = request["seeds"]
        assets = [engine.generate("portraits", seed=s, model=model_option, **request["options"])[0]
                  for s in seeds]
        theirs = np.stack([a.rgba for a in assets])
        assert ours.shape == theirs.shape, request["id"]
        diff = np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max(axis=-1)
        for i, seed in enumerate(seeds):
            close = (diff[i] <= TOLERANCE).mean()
            assert close >= SHARE, f"{request['id']} seed {seed}: {close:.4%} within 1/255"
        assert result["labels"] == [a.metadata.get("labels") for a in assets], request["id"]
        report.append(f"{request['id']}: {len(seeds)} sprites, max diff {int(diff.max())}, "
                      f"{int((diff > 0).sum())} pixels differ")
    return report


def test_portraits_match_the_python_api(parity_exe: Path, tmp_path: Path) -> None:
    report = compare(parity_exe, MODEL, "default", tmp_path)
    print("\n".join(report))


def test_attribute_vectors_match_the_python_api(
        parity_exe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped attributes all swap a label colour in w; without the manifest's
    ``attributes`` list they are plain vectors added to w, the path a retrained or
    unlabelled-art model's attributes.csv takes."""
    models = tmp_path / "models"
    folder = models / "portraits" / "vectors"
    shutil.copytree(MODEL, folder)
    m = manifest()
    m.pop("attributes", None)
    (folder / "manifest.json").write_text(json.dumps(m), "utf-8")
    monkeypatch.setenv("ASSETGEN_MODELS", str(models))
    report = compare(parity_exe, folder, "vectors", tmp_path / "out")
    print("\n".join(report))


def test_bad_options_give_the_python_messages(parity_exe: Path, tmp_path: Path) -> None:
    m = manifest()
    num_ws = int(m["num_ws"])
    attrs = attribute_names(MODEL)
    colour_option = next(
        (o for o, c in m["options"].items() if c in m.get("color_names", {})), None)
    cases = {
        "bad_label": {"hair": "no-such-hair"},
        "quote_label": {"eyes": "it's"},
        "long_label": {"mouth": "x" * 80},
        "truncation": {"truncation": 2.0},
        "truncation_small": {"truncation": -0.25},
        "truncation_huge": {"truncation": 1e20},
        "truncation_ulp": {"truncation": 1.5000000000000002},
        "truncation_tiny": {"truncation": -1e-7},
        "truncation_long": {"truncation": 2.718281828459045},
        "mix_layer_high": {"mix_layer": num_ws},
        "mix_layer_zero": {"mix_layer": 0},
        "mix_seed": {"mix_seed": -5},
        "seed": {"seed": -1},
        "unknown_attribute": {"attributes": {"no_such_attribute": 1.0}},
        "strong_attribute": {"attributes": {attrs[0]: 9.0}},
    }
    if colour_option:  # hex codes are accepted as written in the manifest (lower case)
        hexes = [c for c in label_choices(colour_option)
                 if c.startswith("#") and c.upper() != c]
        if hexes:
            cases["upper_hex"] = {colour_option: hexes[0].upper()}
    check_python_errors(parity_exe, MODEL, "portraits", cases, tmp_path)


def broken_copy(tmp: Path, name: str, change: Any) -> Path:
    folder = tmp / name
    shutil.copytree(MODEL, folder)
    m = manifest()
    change(m, folder)
    (folder / "manifest.json").write_text(json.dumps(m), "utf-8")
    return folder


def test_bad_model_folders_are_refused_naming_file_and_field(
        parity_exe: Path, tmp_path: Path) -> None:
    def tamper(m: dict[str, Any], folder: Path) -> None:
        with open(folder / "attributes.csv", "a", encoding="utf-8") as fh:
            fh.write("\n")

    def remove(m: dict[str, Any], folder: Path) -> None:
        (folder / "synthesis.onnx").unlink()

    cases = {
        "tampered": (tamper, ["attributes.csv", "does not match its manifest", "sha256"]),
        "missing": (remove, ["model file missing", "synthesis.onnx"]),
        "no_files": (lambda m, f: m.pop("files"), ["has no 'files' table"]),
        "short_w_avg": (lambda m, f: m.update(w_avg=m["w_avg"][:10]),
                        ["manifest.json: field 'w_avg' has 10 values; w_dim is"]),
        "num_ws": (lambda m, f: m.update(num_ws=int(m["num_ws"]) + 1),
                   ["manifest.json: field 'num_ws'", "synthesis.onnx"]),
        "num_ws_text": (lambda m, f: m.update(num_ws="8"),
                        ["manifest.json: field 'num_ws' must be a non-negative integer"]),
        "given": (lambda m, f: m["label_sampling"].update(given="nope"),
                  ["manifest.json: field 'label_sampling.given' names an unknown column 'nope'"]),
        "marginal": (lambda m, f: m["label_sampling"].update(marginal=[1.0]),
                     ["manifest.json: field 'label_sampling.marginal'"]),
        "no_label_space": (lambda m, f: m.pop("label_space"),
                           ["manifest.json: field 'label_space'"]),
        "option_column": (lambda m, f: m["options"].update(hair="nope"),
                          ["manifest.json: field 'options' maps 'hair' to an unknown column"]),
        "label_space_size": (
            lambda m, f: m["label_space"].append({"name": "extra", "values": ["a"]}),
            ["manifest.json: field 'label_space'", "mapping.onnx takes"]),
    }
    for name, (change, needles) in cases.items():
        folder = broken_copy(tmp_path, name, change)
        code, log, _ = run_csharp(parity_exe, folder, [], tmp_path / f"{name}-out")
        assert code == 3, (name, log)
        for needle in needles:
            assert needle in log, (name, needle, log)


def test_driver_curves_are_the_same_bits(parity_exe: Path, tmp_path: Path) -> None:
    """The generic talk loop and the blink curve (drivers.py), float32 bit for bit, over
    frame counts from 1 to 240 and several frame rates (pairwise sums of up to ~50
    syllables included)."""
    from assetgen_portraits import drivers

    seeds = [0, 1, 2, 17, 123456789, 2**62]
    cases = [(kind, frames, fps) for kind in ("talk", "blink")
             for frames, fps in [(1, 12.0), (2, 12.0), (3, 12.0), (8, 12.0), (12, 24.0),
                                 (30, 7.5), (64, 12.0), (240, 20.0), (240, 60.0), (5, 1.0)]]
    requests = [{"id": f"{kind}-{frames}-{fps}", "seeds": seeds, "curve": kind,
                 "frames": frames, "fps": fps} for kind, frames, fps in cases]
    code, log, _ = run_csharp(parity_exe, MODEL, requests, tmp_path)
    assert code == 0, log
    for kind, frames, fps in cases:
        ours = np.fromfile(tmp_path / "images" / f"{kind}-{frames}-{fps}.f32", "<f4")
        make = drivers.talk_cycle if kind == "talk" else drivers.blink_curve
        theirs = np.concatenate([make(frames, fps, s) for s in seeds])
        assert ours.tobytes() == theirs.astype("<f4").tobytes(), (kind, frames, fps)


def test_animations_match_the_python_api(parity_exe: Path, tmp_path: Path) -> None:
    """Talk (the generic loop: closed, half-open and open mouths of the face's family, kept
    to the mouths' footprints), blink, interpolate (21 frames: a frame lands exactly on a
    part's change-over moment) and mouths (the nine shapes, cycling): frames, states and
    labels."""
    m = manifest()
    attrs = attribute_names(MODEL)
    cases = [
        ("talk", 3, 8, {}),
        ("talk_long", 9, 40, {"truncation": 0.7, "fps": 24.0}),
        ("talk_strength", 11, 12, {"strength": 0.5, "mix_seed": 4, "mix_layer": 2}),
        ("talk_still", 12, 6, {"strength": 0.0}),
        ("talk_labels", 13, 10, {"mouth": label_choices("mouth")[0],
                                 "attributes": {attrs[0]: 1.0}}),
        ("blink", 5, 10, {"animation": "blink"}),
        ("blink_short", 6, 3, {"animation": "blink", "fps": 30.0}),
        ("blink_strong", 7, 16, {"animation": "blink", "strength": 2.0,
                                 "eyes": label_choices("eyes")[-1]}),
        ("interpolate", 20, 8, {"animation": "interpolate"}),
        ("interpolate_21", 21, 21, {"animation": "interpolate", "to_seed": 5,
                                    "truncation": 0.8, "attributes": {attrs[-1]: 0.5}}),
        ("interpolate_one", 22, 1, {"animation": "interpolate"}),
    ]
    if m.get("mouth_shapes"):
        cases += [("mouths", 30, 9, {"animation": "mouths"}),
                  ("mouths_cycle", 31, 12, {"animation": "mouths", "mix_seed": 2})]
    if "mouth" not in m["options"] or "eyes" not in m["options"]:
        pytest.skip("the model has no mouth or eyes label option")
    moved = 0
    for name, result, animation, ours, theirs in paired_animations(
        parity_exe, MODEL, cases, tmp_path
    ):
        frames = len(theirs)
        diff = np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max(axis=-1)
        for i in range(frames):
            assert (diff[i] <= TOLERANCE).mean() >= SHARE, f"{name} frame {i}"
        meta = animation.metadata
        assert result["labels"] == [meta["labels"]], name
        for key in ("states", "frame_states", "frame_shapes"):
            assert result[key] == (list(meta[key]) if key in meta else None), (name, key)
        if "to_seed" in meta:
            assert (result["to_seed"], result["to_labels"]) == (meta["to_seed"],
                                                                meta["to_labels"]), name
        moved += len({bytes(f) for f in ours}) > 1
        print(f"{name}: {frames} frames, max diff {int(diff.max())}, "
              f"{int((diff > 0).sum())} pixels differ")
    assert moved >= 8  # the animations do move


def test_bad_animation_options_give_the_python_messages(
        parity_exe: Path, tmp_path: Path) -> None:
    cases = {
        "animation": {"animation": "dance"},
        "fps": {"fps": 100.0},
        "strength": {"strength": 3.0},
        "label_first": {"hair": "nope", "fps": 0.5},
        "to_seed": {"animation": "interpolate", "to_seed": -2},
        "to_seed_default": {"animation": "interpolate", "seed": 2**63 - 1},
        "seed": {"seed": -3},
        "frames_zero": {"frames": 0},
        "frames_many": {"frames": 241, "animation": "blink"},
    }
    requests = [{"id": k, "seeds": [v.pop("seed", 1)], "frames": v.pop("frames", 8),
                 "options": v} for k, v in cases.items()]
    code, log, results = run_csharp(parity_exe, MODEL, requests, tmp_path)
    assert code == 0, log
    for request in requests:
        name, options = request["id"], request["options"]
        with pytest.raises(InvalidOptionsError) as info:
            Engine().animate("portraits", seed=request["seeds"][0], frames=request["frames"],
                             **options)
        got = results[name].get("error")
        assert got is not None, (name, results[name])
        assert got["message"] == str(info.value), name
        assert got["parameter"] == info.value.parameter, name


def test_a_missing_onnx_runtime_library_is_named(parity_exe: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no-library"
    empty.mkdir()
    code, log, _ = run_csharp(parity_exe, MODEL, [], tmp_path / "out", library=empty)
    assert code == 4, log
    assert "ONNX Runtime's native library 'onnxruntime' could not be loaded" in log


CUES_JSON = """{
  "metadata": {"soundFile": "line.wav", "duration": 2.37},
  "mouthCues": [
    {"start": 0.00, "end": 0.12, "value": "X"},
    {"start": 0.12, "end": 0.31, "value": "B"},
    {"start": 0.31, "end": 0.45, "value": "C"},
    {"start": 0.45, "end": 0.52, "value": "d"},
    {"start": 0.52, "end": 0.80, "value": "F"},
    {"start": 0.80, "end": 1.05, "value": "A"},
    {"start": 1.10, "end": 1.33, "value": "E"},
    {"start": 1.33, "end": 1.41, "value": "G"},
    {"start": 1.41, "end": 1.90, "value": " H "},
    {"start": 1.90, "end": 2.20, "value": "X"}
  ]
}
"""
CUES_TSV = "0.00\tX\n0.05\tD\n0.21\tC\n0.21\tB\n0.40\tA\n\n0.63\tE\n0.90\tX\n"


def test_cue_files_match_the_python_api(parity_exe: Path, tmp_path: Path) -> None:
    """Talk played from Rhubarb cue files (JSON and TSV): the frame count the generator
    picks, the shape of every frame (the cue covering most of the frame), and the frames."""
    if not manifest().get("mouth_shapes"):
        pytest.skip("the model draws no mouth shapes")
    (tmp_path / "line.json").write_text(CUES_JSON, "utf-8")
    (tmp_path / "line.tsv").write_text(CUES_TSV, "utf-8")
    cases = [
        ("json", 3, None, {"cues": str(tmp_path / "line.json")}),
        ("json_24", 4, None, {"cues": str(tmp_path / "line.json"), "fps": 24.0}),
        ("json_cut", 5, 10, {"cues": str(tmp_path / "line.json"), "fps": 7.0}),
        ("tsv", 6, None, {"cues": str(tmp_path / "line.tsv"), "fps": 30.0}),
        ("tsv_padded", 7, 30, {"cues": str(tmp_path / "line.tsv"), "truncation": 0.5}),
    ]
    pairs = paired_animations(parity_exe, MODEL, cases, tmp_path / "out")
    for name, result, animation, ours, theirs in pairs:
        diff = np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max(axis=-1)
        for i in range(len(theirs)):
            assert (diff[i] <= TOLERANCE).mean() >= SHARE, f"{name} frame {i}"
        assert result["frame_shapes"] == list(animation.metadata["frame_shapes"]), name
        assert result["frame_states"] == list(animation.metadata["frame_states"]), name
        print(f"{name}: {len(theirs)} frames, max diff {int(diff.max())}")


def test_bad_cue_files_give_the_python_messages(parity_exe: Path, tmp_path: Path) -> None:
    files = {
        "empty.json": "   \n",
        "no_cues.json": '{"metadata": {}}',
        "bad_shape.json": '{"mouthCues": [{"start": 0, "end": 1, "value": "Q"}]}',
        "negative.json": '{"mouthCues": [{"start": -1, "end": 1, "value": "A"}]}',
        "text_time.json": '{"mouthCues": [{"start": "0", "end": 1, "value": "A"}]}',
        "too_long.json": '{"mouthCues": [{"start": 0, "end": 75.5, "value": "A"}]}',
        "backwards.json": '{"mouthCues": [{"start": 1, "end": 0.5, "value": "A"}]}',
        "overlap.json": ('{"mouthCues": [{"start": 0, "end": 1, "value": "A"}, '
                         '{"start": 0.5, "end": 2, "value": "B"}]}'),
        "order.json": ('{"mouthCues": [{"start": 1, "end": 2, "value": "A"}, '
                       '{"start": 0.5, "end": 0.7, "value": "B"}]}'),
        "missing_key.json": '{"mouthCues": [{"start": 0, "value": "A"}]}',
        "short_duration.json": ('{"metadata": {"duration": 0.5}, '
                                '"mouthCues": [{"start": 0, "end": 1, "value": "A"}]}'),
        "one_line.tsv": "0.00\tA\n",
        "three_fields.tsv": "0.00\tA\tx\n1.0\tX\n",
        "back_in_time.tsv": "0.50\tA\n0.20\tX\n",
        "word_time.tsv": "soon\tA\n1.0\tX\n",
    }
    cases: dict[str, dict[str, Any]] = {}
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
        cases[name] = {"cues": str(tmp_path / name)}
    cases["missing_file"] = {"cues": str(tmp_path / "nope.json")}
    cases["directory"] = {"cues": str(tmp_path)}
    cases["blink_with_cues"] = {"cues": str(tmp_path / "one_line.tsv"), "animation": "blink"}
    requests = [{"id": k, "seeds": [1], "frames": 8, "options": v} for k, v in cases.items()]
    code, log, results = run_csharp(parity_exe, MODEL, requests, tmp_path / "out")
    assert code == 0, log
    for name, options in cases.items():
        with pytest.raises(InvalidOptionsError) as info:
            Engine().animate("portraits", seed=1, frames=8, **options)
        got = results[name].get("error")
        assert got is not None, (name, results[name])
        assert got["message"] == str(info.value), name
        assert got["parameter"] == info.value.parameter, name


def test_a_retrained_model_matches_the_python_api(
        parity_exe: Path, tiny_label_model: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing of the shipped model is compiled into the runtime: a label model trained here
    for a few steps (tests/conftest.py tiny_label_model: w_dim 16, other weights and
    attributes, the same graph interface) gives the Python API's stills and animations too."""
    models = tmp_path / "models"
    folder = models / "portraits" / "tiny"
    shutil.copytree(tiny_label_model, folder)
    monkeypatch.setenv("ASSETGEN_MODELS", str(models))
    print("\n".join(compare(parity_exe, folder, "tiny", tmp_path / "stills")))
    cases = [("talk", 3, 12, {}), ("blink", 4, 10, {"animation": "blink"}),
             ("interpolate", 5, 6, {"animation": "interpolate", "truncation": 0.7}),
             ("mouths", 6, 9, {"animation": "mouths"})]
    requests = [{"id": n, "seeds": [s], "frames": f, "options": o} for n, s, f, o in cases]
    code, log, results = run_csharp(parity_exe, folder, requests, tmp_path / "animations")
    assert code == 0, log
    engine = Engine()
    for name, seed, frames, options in cases:
        animation = engine.animate("portraits", seed=seed, frames=frames, model="tiny", **options)
        theirs = np.stack([f.rgba for f in animation.frames])
        ours = csharp_images(tmp_path / "animations", name, results[name])
        diff = np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max(axis=-1)
        for i in range(frames):
            assert (diff[i] <= TOLERANCE).mean() >= SHARE, f"{name} frame {i}"
        assert results[name]["labels"] == [animation.metadata["labels"]], name
        print(f"{name}: {frames} frames, max diff {int(diff.max())}")


def test_an_unconditional_model_matches_the_python_api(
        parity_exe: Path, tiny_model: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A model trained on unlabelled art (tests/conftest.py tiny_model): z from the seed's
    portable normals, mapping, truncation, mixing and attribute vectors on w, then
    synthesis_prefix and synthesis_suffix with a zero delta; interpolate between two seeds;
    talk (generic loop, cue file) and blink by the model's local edits and window graphs;
    a label option refused as Python refuses it."""
    models = tmp_path / "models"
    folder = models / "portraits" / "tinyu"
    shutil.copytree(tiny_model, folder)
    monkeypatch.setenv("ASSETGEN_MODELS", str(models))
    # mix_layer below both models' num_ws: Python's options layer checks the shipped one's
    num_ws = min(int(json.loads((folder / "manifest.json").read_text("utf-8"))["num_ws"]),
                 int(manifest()["num_ws"]))
    attrs = attribute_names(folder)
    requests = [
        {"id": "defaults", "seeds": [0, 1, 2, 3], "options": {}},
        {"id": "truncation", "seeds": [10, 11], "options": {"truncation": 0.5}},
        {"id": "mixing", "seeds": [12], "options": {"mix_seed": 9, "mix_layer": num_ws - 1}},
        {"id": "attributes", "seeds": [13, 14],
         "options": {"attributes": {attrs[0]: 1.5, attrs[-1]: -1.0}}},
        {"id": "everything", "seeds": list(range(40, 75)), "options": {
            "truncation": 0.8, "mix_seed": 2, "mix_layer": 2, "attributes": {attrs[0]: 0.5}}},
    ]
    print("\n".join(compare(parity_exe, folder, "tinyu", tmp_path / "stills", requests)))
    (tmp_path / "line.json").write_text(CUES_JSON, "utf-8")
    cases = [("interpolate", 5, 6, {"animation": "interpolate"}),
             ("interpolate_to", 6, 3, {"animation": "interpolate", "to_seed": 99,
                                       "truncation": 0.7}),
             ("talk", 7, 12, {}),
             ("talk_half", 8, 8, {"strength": 0.5, "mix_seed": 3, "mix_layer": 2}),
             ("talk_still", 9, 4, {"strength": 0.0}),
             ("talk_cues", 10, 20, {"cues": str(tmp_path / "line.json")}),
             ("blink", 11, 10, {"animation": "blink"}),
             ("blink_strong", 12, 16, {"animation": "blink", "strength": 2.0, "fps": 24.0})]
    bad = {"hair": label_choices("hair")[0]}
    requests = [{"id": n, "seeds": [s], "frames": f, "options": o} for n, s, f, o in cases]
    requests.append({"id": "label", "seeds": [1], "options": bad})
    code, log, results = run_csharp(parity_exe, folder, requests, tmp_path / "animations")
    assert code == 0, log
    engine = Engine()
    for name, seed, frames, options in cases:
        animation = engine.animate("portraits", seed=seed, frames=frames, model="tinyu",
                                   **options)
        theirs = np.stack([f.rgba for f in animation.frames])
        ours = csharp_images(tmp_path / "animations", name, results[name])
        diff = np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max(axis=-1)
        for i in range(frames):
            assert (diff[i] <= TOLERANCE).mean() >= SHARE, f"{name} frame {i}"
        meta, result = animation.metadata, results[name]
        if "to_seed" in meta:
            assert result["to_seed"] == meta["to_seed"], name
        else:
            assert result["edit_shift"] == list(meta["edit_shift"]), name
            assert round(result["start_state"], 4) == meta["start_state"], name
            assert round(result["rest_state"], 4) == meta["rest_state"], name
        print(f"{name}: {frames} frames, max diff {int(diff.max())}, "
              f"{int((diff > 0).sum())} pixels differ")
    with pytest.raises(InvalidOptionsError) as info:
        engine.generate("portraits", seed=1, model="tinyu", **bad)
    assert results["label"]["error"]["message"] == str(info.value)


def test_a_model_read_through_a_callback_gives_the_same_sprites(
        parity_exe: Path, tmp_path: Path) -> None:
    """ModelFolder(label, readFile): the files as bytes from the caller (Unity TextAssets,
    Android StreamingAssets), checked the same way, the same sprites; a missing or changed
    file named with the label."""
    requests = requests_for(MODEL)[:3]
    code, log, results = run_csharp(parity_exe, MODEL, requests, tmp_path / "path")
    assert code == 0, log
    code, log, via_reader = run_csharp(parity_exe, MODEL, requests, tmp_path / "reader",
                                       reader=True)
    assert code == 0, log
    assert via_reader == results
    for request in requests:
        a = (tmp_path / "path" / "images" / f"{request['id']}.rgba").read_bytes()
        b = (tmp_path / "reader" / "images" / f"{request['id']}.rgba").read_bytes()
        assert a == b, request["id"]
    broken = tmp_path / "broken"
    shutil.copytree(MODEL, broken)
    (broken / "mapping.onnx").unlink()
    code, log, _ = run_csharp(parity_exe, broken, [], tmp_path / "broken-out", reader=True)
    assert code == 3, log
    assert f"model file missing: reader:{broken}/mapping.onnx" in log
