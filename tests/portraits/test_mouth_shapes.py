"""Lip sync on the portraits model (issue 21): the nine Rhubarb mouth shapes on any face, kept
to the mouth; talk driven by text or a Rhubarb cue file; the shape sheet's frame tags; the
``cues`` exporter; refusals; ``assetgen eval lipsync`` on the tiny model.

The drivers themselves (text, speech, cue files, smoothing) are tested in test_lipsync*.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from assetgen_portraits import lipsync, plugin
from assetgen_portraits.labels import LabelModel, keep_local

from assetgen import Engine, InvalidOptionsError
from assetgen.cli import main as cli_main

from ..rhubarb import rhubarb_json
from .conftest import TinyEvaluation, edited_model, portraits_engine, refused_naming

SHIPPED = plugin.MODEL_DIR
LINE = "Hello there, brave adventurer. Welcome to my shop!"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(device="cpu", plugins=["portraits", "exporters"])


@pytest.fixture(scope="module")
def labels() -> LabelModel:
    return LabelModel(json.loads((SHIPPED / "manifest.json").read_text()))


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(-1) > 0


def test_the_shipped_model_maps_every_shape_to_a_trained_mouth(labels: LabelModel) -> None:
    assert tuple(sorted(labels.mouth_shapes)) == tuple(sorted(lipsync.SHAPES))
    mouths = set(labels.by_name["mouth"].values)
    assert set(labels.mouth_shapes.values()) <= mouths
    # nine different mouths: every shape looks different
    assert len(set(labels.mouth_shapes.values())) == len(lipsync.SHAPES)
    for value in mouths - {"none"}:
        assert labels.footprints[value].any()


@pytest.mark.parametrize("seed", [1, 7, 12])
def test_the_mouths_animation_is_nine_shapes_changed_only_at_the_mouth(
    engine: Engine, labels: LabelModel, seed: int
) -> None:
    still = engine.generate("portraits", seed=seed)[0]
    anim = engine.animate("portraits", seed=seed, animation="mouths")
    assert len(anim.frames) == 9
    assert anim.metadata["frame_names"] == list(lipsync.SHAPES)
    own = still.metadata["labels"]["mouth"]
    wanted = labels.shape_mouths(own)
    assert anim.metadata["frame_states"] == [wanted[s] for s in lipsync.SHAPES]
    # every pixel a frame changes lies within the two mouths' footprints, grown by 2 px
    for state, frame in zip(anim.metadata["frame_states"], anim.frames, strict=True):
        allowed = labels.mouth_weights(own, state, 64)
        assert allowed is not None
        changed = _changed(frame.rgba, still.rgba)
        assert not (changed & (allowed == 0)).any()
        if state != own:
            assert changed.any(), f"shape mouth {state} draws nothing"
    # one picture per distinct mouth (X is A on a face whose own mouth is A's pressed line)
    pictures = {f.rgba.tobytes() for f in anim.frames}
    assert len(pictures) == len(set(anim.metadata["frame_states"])) >= 8


def test_rest_is_the_face_s_own_mouth_when_it_is_closed(engine: Engine,
                                                        labels: LabelModel) -> None:
    for seed in range(40):
        still = engine.generate("portraits", seed=seed)[0]
        own = still.metadata["labels"]["mouth"]
        if labels.states["mouth"].get(own) == "closed":
            anim = engine.animate("portraits", seed=seed, animation="mouths")
            assert np.array_equal(anim.frames[-1].rgba, still.rgba)  # X
            return
    pytest.fail("no closed-mouth face among 40 seeds")


def test_keep_local_keeps_pixels_outside_the_weights() -> None:
    rng = np.random.default_rng(0)
    still = rng.integers(0, 256, (1, 8, 8, 4), dtype=np.uint8)[0]
    still[..., 3] = 255
    frame = rng.integers(0, 256, (1, 8, 8, 4), dtype=np.uint8)
    frame[..., 3] = 255
    w = np.zeros((8, 8), np.float32)
    w[2:4, 2:5] = 1.0
    w[4, 2:5] = 0.5
    out = keep_local(still, frame, [w])[0]
    assert np.array_equal(out[w == 0], still[w == 0])
    assert np.abs(out[w == 1].astype(int) - frame[0][w == 1].astype(int)).max() <= 1
    half = (still[4, 2:5].astype(int) + frame[0, 4, 2:5].astype(int)) / 2
    assert np.abs(out[4, 2:5].astype(int) - half).max() <= 1
    assert np.array_equal(keep_local(still, frame, [None])[0], frame[0])


def test_talk_with_text_speaks_in_shapes(engine: Engine, labels: LabelModel) -> None:
    anim = engine.animate("portraits", seed=7, animation="talk", text=LINE, fps=24)
    track = lipsync.smooth(lipsync.text_track(LINE), min_hold=lipsync.DEFAULT_MIN_HOLD, fps=24)
    track = lipsync.tween(track, 24)
    assert len(anim.frames) == lipsync.track_frames(track, 24)
    shapes = anim.metadata["frame_shapes"]
    assert shapes == lipsync.frame_shapes(track, 24, len(anim.frames))
    assert shapes[0] == "X" and shapes[-1] == "X"
    assert {"A", "B", "C"} <= set(shapes)  # "brave", "Hello", "shop"
    sync = anim.metadata["lipsync"]
    assert sync["source"] == "text" and sync["cues"][0][2] == "X"
    # every frame with the same shape is the same picture, and X is the still's rest mouth
    pictures: dict[str, bytes] = {}
    for shape, frame in zip(shapes, anim.frames, strict=True):
        assert pictures.setdefault(shape, frame.rgba.tobytes()) == frame.rgba.tobytes()


def test_talk_plays_a_rhubarb_cue_file(engine: Engine, tmp_path: Path) -> None:
    cues = rhubarb_json(
        "line.wav", (0.0, 0.25, "X"), (0.25, 0.5, "D"), (0.5, 0.75, "F"), (0.75, 1.0, "X")
    )
    path = tmp_path / "line.json"
    path.write_text(json.dumps(cues))
    anim = engine.animate("portraits", seed=3, animation="talk", cues=str(path), fps=12)
    assert len(anim.frames) == 12
    assert anim.metadata["frame_shapes"] == ["X"] * 3 + ["D"] * 3 + ["F"] * 3 + ["X"] * 3
    sheet = engine.animate("portraits", seed=3, animation="mouths")
    by_shape = dict(zip(lipsync.SHAPES, sheet.frames, strict=True))
    for shape, frame in zip(anim.metadata["frame_shapes"], anim.frames, strict=True):
        assert np.array_equal(frame.rgba, by_shape[shape].rgba)


def test_the_cues_format_writes_rhubarb_json_and_tsv_that_read_back(
    engine: Engine, tmp_path: Path
) -> None:
    anim = engine.animate("portraits", seed=7, animation="talk", text=LINE)
    written = engine.export([anim], "cues", tmp_path, "line")
    names = {p.name for p in written}
    assert names == {"line_cues.json", "line_cues.tsv"}
    data = json.loads((tmp_path / "line_cues.json").read_text())
    assert set(data) == {"metadata", "mouthCues"}
    assert data["metadata"]["duration"] == pytest.approx(anim.metadata["lipsync"]["duration"])
    back = lipsync.read_cues(tmp_path / "line_cues.json")
    assert [c.shape for c in back.cues] == [c[2] for c in anim.metadata["lipsync"]["cues"]]
    tsv = lipsync.read_cues(tmp_path / "line_cues.tsv")
    assert [c.shape for c in tsv.cues] == [c.shape for c in back.cues]


def test_the_cues_format_refuses_an_animation_without_a_track(engine: Engine,
                                                              tmp_path: Path) -> None:
    anim = engine.animate("portraits", seed=7, frames=4, animation="blink")
    with pytest.raises(InvalidOptionsError, match="format 'cues'.*text, audio or cues"):
        engine.export([anim], "cues", tmp_path, "blink")
    assert not any(tmp_path.iterdir())


def test_the_shape_sheet_tags_each_frame_with_its_letter(tmp_path: Path) -> None:
    code = cli_main(["animate", "portraits", "--seed", "7", "--animation", "mouths",
                     "--format", "sheet", "--out", str(tmp_path)])
    assert code == 0
    (table,) = tmp_path.rglob("*.json")
    data = json.loads(table.read_text())
    tags = {t["name"]: (t["from"], t["to"]) for t in data["meta"]["frameTags"]}
    for k, shape in enumerate(lipsync.SHAPES):
        assert tags[shape] == (k, k)
    assert [f["filename"] for f in data["frames"]] == [
        f"portraits_7_mouths_{shape}.png" for shape in lipsync.SHAPES
    ]
    assert tags["mouths"] == (0, len(lipsync.SHAPES) - 1)


@pytest.mark.parametrize(
    "options, named",
    [
        ({"animation": "talk", "text": "hi", "cues": "x.json"}, "option 'cues'"),
        ({"animation": "blink", "text": "hi"}, "option 'animation'|options 'text'"),
        ({"animation": "mouths", "text": "hi"}, "options 'text'"),
        ({"animation": "talk", "speech": "whisper"}, "speech"),
        ({"animation": "talk", "hold": 2.0}, "hold"),
    ],
)
def test_bad_lip_sync_options_are_refused_naming_them(
    engine: Engine, options: dict, named: str
) -> None:
    with pytest.raises(InvalidOptionsError, match=named):
        engine.animate("portraits", seed=1, **options)


def test_a_bad_cue_file_exits_2_and_writes_nothing(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"mouthCues": [{"start": 0, "end": 1, "value": "Q"}]}')
    out = tmp_path / "out"
    code = cli_main(["animate", "portraits", "--seed", "1", "--animation", "talk",
                     "-o", f"cues={bad}", "--format", "gif", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "cues" in err and "Traceback" not in err
    assert not out.exists() or not any(out.rglob("*.gif"))


def test_a_model_without_shapes_refuses_the_mouths_animation(
    tiny_label_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = edited_model(tiny_label_model, tmp_path / "model", lambda m: m.pop("mouth_shapes"))
    engine = portraits_engine(folder, monkeypatch)
    with pytest.raises(InvalidOptionsError, match="option 'animation'.*no mouth shapes"):
        engine.animate("portraits", seed=1, animation="mouths")


@pytest.mark.parametrize(
    "field, value, named",
    [
        ("mouth_shapes", {"A": "variant99"}, "mouth_shapes.A"),
        ("regions", {"mouth": {"variant02": []}}, "regions.mouth.variant02"),
        ("regions", {"mouth": {"variant02": [[70, 0, 3]]}}, "bad label fields"),
    ],
)
def test_bad_shape_fields_are_refused_naming_them(
    tiny_label_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    field: str, value: object, named: str,
) -> None:
    refused_naming(tiny_label_model, tmp_path / "model", monkeypatch, field, value, named)


def test_an_unconditional_model_plays_cues_as_mouth_openness(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "line.tsv"
    path.write_text("0.00\tX\n0.20\tD\n0.60\tX\n0.80\tX\n")
    engine = portraits_engine(tiny_model, monkeypatch)
    anim = engine.animate("portraits", seed=1, animation="talk", cues=str(path), fps=10)
    curve = anim.metadata["curve"]
    assert len(anim.frames) == len(curve) and max(curve) == 1.0 and curve[0] == 0.0
    with pytest.raises(InvalidOptionsError, match="option 'animation'.*no mouth shapes"):
        engine.animate("portraits", seed=1, animation="mouths")


def test_the_lipsync_evaluation_runs_on_the_tiny_model(
    tiny_label_evaluation: TinyEvaluation, tmp_path: Path
) -> None:
    function, config = tiny_label_evaluation.tools.EVALUATIONS["lipsync"]
    config = {**config, "faces": 3, "sentences": 1, **tiny_label_evaluation.files,
              "judge_steps": 2}
    report = function(tiny_label_evaluation.model, tmp_path / "lipsync.json", config)
    shapes = report["shapes"]
    assert shapes["faces"] == 3 and set(shapes["per_shape"]) == set(lipsync.SHAPES)
    assert shapes["locality"] >= shapes["drawn_whole"]["locality"] - 1e-9
    assert json.loads((tmp_path / "lipsync.json").read_text())["shapes"]["faces"] == 3


def test_eval_names_the_extra_evaluations_when_given_an_unknown_one(
    capsys: pytest.CaptureFixture,
) -> None:
    assert cli_main(["eval", "no_such_thing"]) == 2
    assert "lipsync" in capsys.readouterr().err


def test_one_command_writes_the_gif_the_sheet_and_the_cue_files(tmp_path: Path) -> None:
    code = cli_main(["animate", "portraits", "--seed", "7", "--text", LINE, "--format", "gif",
                     "--format", "sheet", "--format", "cues", "--out", str(tmp_path),
                     "--name", "line"])
    assert code == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"line.gif", "line.png", "line.json", "line_cues.json", "line_cues.tsv"}


def test_a_jump_from_closed_to_wide_open_gets_one_in_between_frame() -> None:
    cues = (lipsync.Cue(0, 0.3, "X"), lipsync.Cue(0.3, 0.6, "D"), lipsync.Cue(0.6, 0.9, "A"),
            lipsync.Cue(0.9, 1.0, "X"))
    track = lipsync.Track(cues=cues, duration=1.0, source="text")
    for fps in (12, 24, 30):
        before = lipsync.frame_shapes(track, fps)
        tweened = lipsync.tween(track, fps)
        after = lipsync.frame_shapes(tweened, fps)
        assert len(after) == len(before)
        # X X C D D .. D C A A A: one C frame at each jump, taken from the longer side
        jumps = [k for k in range(len(before) - 1) if before[k] != before[k + 1]]
        changed = sum(a != b for a, b in zip(before, after, strict=True))
        assert after.count("C") == 2 and changed == 2
        assert all("C" in after[k : k + 2] for k in jumps[:2])
        assert lipsync.tween(tweened, fps) == tweened  # idempotent
    # a shape that shows for fewer than three frames gives none
    short = lipsync.Track(cues=(lipsync.Cue(0, 0.1, "A"), lipsync.Cue(0.1, 0.2, "D")),
                          duration=0.2, source="text")
    assert lipsync.tween(short, 12) == short


def test_tween_off_and_cue_files_play_without_in_betweens(engine: Engine, tmp_path: Path) -> None:
    on = engine.animate("portraits", seed=7, animation="talk", text="Ah, bah, ma!", fps=30)
    off = engine.animate("portraits", seed=7, animation="talk", text="Ah, bah, ma!", fps=30,
                         tween=False)
    assert len(on.frames) == len(off.frames)
    changed = [k for k, (a, b) in enumerate(zip(on.metadata["frame_shapes"],
                                                off.metadata["frame_shapes"], strict=True))
               if a != b]
    assert changed and all(on.metadata["frame_shapes"][k] in "CE" for k in changed)
    path = tmp_path / "line.tsv"
    path.write_text("0.00\tX\n0.30\tD\n0.60\tX\n0.90\tX\n")
    played = engine.animate("portraits", seed=7, animation="talk", cues=str(path), fps=10)
    assert played.metadata["frame_shapes"] == ["X"] * 3 + ["D"] * 3 + ["X"] * 3
