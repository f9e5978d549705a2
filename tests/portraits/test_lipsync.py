"""Lip sync without audio: the text driver, Rhubarb cue files, smoothing and frame sampling."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from assetgen.errors import InvalidOptionsError

from ..rhubarb import rhubarb_json

ROOT = Path(__file__).resolve().parents[2]

try:
    from assetgen_portraits import lipsync
except ImportError:  # not installed (pip install -e .): import from the source tree
    sys.path.insert(0, str(ROOT / "plugins"))
    from assetgen_portraits import lipsync

from assetgen_portraits.lipsync import text as text_module  # noqa: E402

Cue, Track = lipsync.Cue, lipsync.Track


def _track(*spec: tuple[str, float], source: str = "text") -> Track:
    """A track from (shape, length in seconds) pairs laid end to end."""
    cues, clock = [], 0.0
    for shape, length in spec:
        cues.append(Cue(round(clock, 2), round(clock + length, 2), shape))
        clock += length
    return Track(cues=tuple(cues), duration=round(clock, 2), source=source)


def _valid(track: Track) -> None:
    assert track.duration > 0
    assert track.cues[0].start == 0.0
    assert track.cues[-1].end == pytest.approx(track.duration)
    for before, after in zip(track.cues, track.cues[1:], strict=False):
        assert before.end == pytest.approx(after.start)
        assert before.shape != after.shape
    for cue in track.cues:
        assert cue.shape in lipsync.SHAPES
        assert cue.start < cue.end
        assert round(cue.start * 100) == pytest.approx(cue.start * 100)


def _error(call, parameter: str) -> InvalidOptionsError:
    with pytest.raises(InvalidOptionsError) as info:
        call()
    assert info.value.parameter == parameter
    assert f"'{parameter}'" in str(info.value)
    return info.value


# ---------------------------------------------------------------------------------------------
# The public surface
# ---------------------------------------------------------------------------------------------


def test_shape_sets() -> None:
    assert lipsync.SHAPES == ("A", "B", "C", "D", "E", "F", "G", "H", "X")
    assert lipsync.BASIC_SHAPES == ("A", "B", "C", "D", "E", "F", "X")
    assert set(lipsync.BASIC_EQUIVALENT) == {"G", "H"}
    assert set(lipsync.BASIC_EQUIVALENT.values()) <= set(lipsync.BASIC_SHAPES)


def test_cue_and_track_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        Cue(0.0, 0.1, "Q")
    with pytest.raises(ValueError):
        Cue(0.2, 0.1, "A")
    with pytest.raises(ValueError):
        Track(cues=(Cue(0.0, 0.2, "A"), Cue(0.1, 0.3, "B")), duration=0.3, source="text")
    with pytest.raises(ValueError):
        Track(cues=(Cue(0.0, 0.2, "A"),), duration=0.3, source="nowhere")


def test_every_arpabet_phone_has_a_shape() -> None:
    from assetgen_portraits.lipsync.shapes import phone_table

    table = phone_table()
    assert len(table) == 40  # 39 ARPAbet phones and silence
    for info in table.values():
        for part in info.shape.split(">"):
            assert part == "*" or part in lipsync.SHAPES
    assert table["P"].shape == table["B"].shape == table["M"].shape == "A"
    assert table["F"].shape == table["V"].shape == "G"
    assert table["L"].shape == "H"
    assert table["AA"].shape == "D"
    assert table["UW"].shape == table["W"].shape == "F"


# ---------------------------------------------------------------------------------------------
# Text driver
# ---------------------------------------------------------------------------------------------


def test_text_known_words_give_their_shapes() -> None:
    track = lipsync.text_track("Bob saw five fools")
    _valid(track)
    assert track.source == "text"
    shapes = set(track.shapes)
    assert {"A", "D", "G", "F", "X"} <= shapes  # b/m closed, aa wide, f/v teeth, uw puckered
    assert track.shapes[0] == "X" and track.shapes[-1] == "X"
    assert [w.text for w in track.words] == ["bob", "saw", "five", "fools"]
    if text_module.dictionary():
        assert track.method == "dict"


def test_text_without_extended_shapes_uses_the_basic_six() -> None:
    track = lipsync.text_track("Five lovely violets", extended=False)
    assert set(track.shapes) <= set(lipsync.BASIC_SHAPES)
    assert not track.extended
    full = lipsync.text_track("Five lovely violets")
    assert {"G", "H"} <= set(full.shapes)


def test_text_unknown_word_falls_back_to_spelling_rules() -> None:
    track = lipsync.text_track("Zorblaxian")
    _valid(track)
    assert track.method == "rules"
    assert any(shape not in ("X", "A") for shape in track.shapes)
    assert text_module.letters_to_phones("make") == ("M", "EY", "K")
    assert text_module.letters_to_phones("knight") == ("N", "AY", "T")
    assert text_module.letters_to_phones("cheese") == ("CH", "IY", "S")
    assert text_module.letters_to_phones("shh")[-1] == "AH"  # a murmur still has a voice
    assert text_module.letters_to_phones("\u6771\u4eac")  # no Latin letters: neutral syllable


def test_text_numbers_and_symbols_are_spoken() -> None:
    assert text_module.spoken_number("42") == ["forty", "two"]
    assert text_module.spoken_number("1,000") == ["one", "thousand"]
    assert text_module.spoken_number("3.5") == ["three", "point", "five"]
    assert text_module.spoken_number("2nd") == ["second"]
    assert text_module.spoken_number("21st") == ["twenty", "first"]
    assert text_module.spoken_number("007") == ["zero", "zero", "seven"]
    track = lipsync.text_track("I owe you 42 & more")
    assert [w.text for w in track.words] == ["i", "owe", "you", "forty", "two", "and", "more"]


def _longest_rest_inside(track: Track) -> float:
    inner = [c for c in track.cues[1:-1] if c.shape == "X"]
    return max((c.end - c.start for c in inner), default=0.0)


def test_text_punctuation_pauses() -> None:
    plain = lipsync.text_track("yes no")
    comma = lipsync.text_track("yes, no")
    stop = lipsync.text_track("yes. no")
    assert _longest_rest_inside(plain) == 0.0
    assert _longest_rest_inside(comma) == pytest.approx(text_module.CLAUSE_PAUSE)
    assert _longest_rest_inside(stop) == pytest.approx(text_module.SENTENCE_PAUSE)
    assert stop.duration > comma.duration > plain.duration
    # a run of marks counts once, with its longest pause
    assert _longest_rest_inside(lipsync.text_track("yes?!... no")) == pytest.approx(
        text_module.SENTENCE_PAUSE
    )


def test_text_is_deterministic_and_rate_scales_it() -> None:
    line = "The quick brown fox jumps over the lazy dog, twice!"
    assert lipsync.text_track(line) == lipsync.text_track(line)
    slow = lipsync.text_track(line, rate=3.0)
    fast = lipsync.text_track(line, rate=8.0)
    assert fast.duration < slow.duration
    _valid(slow)
    _valid(fast)


def test_text_stressed_vowels_last_longer() -> None:
    track = lipsync.text_track("banana")  # B AH N AE N AH: the AE is the stressed vowel
    vowels = [p for p in track.phones if p.name in ("AH", "AE")]
    lengths = {p.name: p.end - p.start for p in vowels}
    assert lengths["AE"] > lengths["AH"]


@pytest.mark.parametrize(
    "value", [None, 5, "", "   ", "x" * (text_module.MAX_TEXT_CHARS + 1), "?!... --"]
)
def test_text_bad_values(value) -> None:
    _error(lambda: lipsync.text_track(value), "text")


@pytest.mark.parametrize("rate", [0, -1, float("nan"), 100, "fast", True])
def test_text_bad_rate(rate) -> None:
    error = _error(lambda: lipsync.text_track("hello", rate=rate), "rate")
    assert "syllables per second" in str(error)


def test_text_too_long_to_say() -> None:
    line = "Abracadabra " * 160  # under the character limit, over 60 s at a slow rate
    error = _error(lambda: lipsync.text_track(line, rate=1.0), "text")
    assert "60" in str(error)


# ---------------------------------------------------------------------------------------------
# Rhubarb cue files
# ---------------------------------------------------------------------------------------------

RHUBARB_JSON = rhubarb_json(
    "C:\\voice\\hi.wav",
    (0.00, 0.05, "X"), (0.05, 0.27, "D"), (0.27, 0.31, "C"), (0.31, 0.43, "B"), (0.43, 0.47, "X"),
)
RHUBARB_TSV = "0.00\tX\n0.05\tD\n0.27\tC\n0.31\tB\n0.43\tX\n0.47\tX\n"


def test_read_rhubarb_json(tmp_path: Path) -> None:
    path = tmp_path / "hi.json"
    path.write_text(json.dumps(RHUBARB_JSON))
    track = lipsync.read_cues(path)
    assert track.source == "cues"
    assert track.duration == 0.47
    assert track.shapes == ("X", "D", "C", "B", "X")
    assert track.cues[1] == Cue(0.05, 0.27, "D")
    assert track.sound_file.endswith("hi.wav")


def test_read_rhubarb_tsv(tmp_path: Path) -> None:
    path = tmp_path / "hi.tsv"
    path.write_text(RHUBARB_TSV)
    track = lipsync.read_cues(path)
    assert track.duration == 0.47
    assert track.shapes == ("X", "D", "C", "B", "X")
    assert track.cues[-1] == Cue(0.43, 0.47, "X")


def test_cue_files_round_trip(tmp_path: Path) -> None:
    track = lipsync.smooth(lipsync.text_track("Round and round it goes, where it stops!"))
    json_path, tsv_path = tmp_path / "line.json", tmp_path / "line.tsv"
    json_path.write_text(lipsync.to_rhubarb_json(track, "line.wav"))
    tsv_path.write_text(lipsync.to_rhubarb_tsv(track))
    data = json.loads(json_path.read_text())
    assert data["metadata"] == {"soundFile": "line.wav", "duration": track.duration}
    assert [c["value"] for c in data["mouthCues"]] == list(track.shapes)
    for path in (json_path, tsv_path):
        back = lipsync.read_cues(path)
        assert back.cues == track.cues
        assert back.duration == track.duration
    assert tsv_path.read_text().splitlines()[-1] == f"{track.duration:.2f}\tX"
    assert lipsync.read_cues(json_path).sound_file == "line.wav"


def test_cue_file_gaps_are_rest(tmp_path: Path) -> None:
    path = tmp_path / "gappy.json"
    path.write_text(json.dumps({"mouthCues": [
        {"start": 0.1, "end": 0.3, "value": "D"}, {"start": 0.5, "end": 0.6, "value": "b"},
    ]}))
    track = lipsync.read_cues(path)
    assert track.shapes == ("X", "D", "X", "B")
    assert track.duration == 0.6


BAD_CUES = {
    "empty.json": "",
    "broken.json": '{"mouthCues": [',
    "nolist.json": '{"metadata": {}}',
    "list.json": "[1, 2]",
    "noshape.json": '{"mouthCues": [{"start": 0, "end": 1, "value": "Q"}]}',
    "nokeys.json": '{"mouthCues": [{"start": 0, "value": "A"}]}',
    "negative.json": '{"mouthCues": [{"start": -0.5, "end": 1, "value": "A"}]}',
    "string.json": '{"mouthCues": [{"start": "0", "end": 1, "value": "A"}]}',
    "nan.json": '{"mouthCues": [{"start": NaN, "end": 1, "value": "A"}]}',
    "backwards.json": '{"mouthCues": [{"start": 0.5, "end": 0.2, "value": "A"}]}',
    "overlap.json": '{"mouthCues": [{"start": 0, "end": 0.5, "value": "A"},'
    ' {"start": 0.3, "end": 0.8, "value": "B"}]}',
    "unsorted.json": '{"mouthCues": [{"start": 0.5, "end": 0.8, "value": "A"},'
    ' {"start": 0.0, "end": 0.2, "value": "B"}]}',
    "toolong.json": '{"mouthCues": [{"start": 0, "end": 61, "value": "A"}]}',
    "shortdur.json": '{"metadata": {"duration": 0.1}, "mouthCues": '
    '[{"start": 0, "end": 1, "value": "A"}]}',
    "none.json": '{"mouthCues": []}',
    "one.tsv": "0.00\tX\n",
    "badline.tsv": "0.00\tX\nhello\n",
    "badtime.tsv": "zero\tX\n1.0\tX\n",
    "backwards.tsv": "0.00\tX\n0.50\tD\n0.20\tX\n",
    "badshape.tsv": "0.00\tX\n0.50\tZ\n1.0\tX\n",
    "long.tsv": "0.00\tX\n99.0\tX\n",
    "binary.tsv": b"\xff\xfe\x00\x01garbage",
}


@pytest.mark.parametrize("name", sorted(BAD_CUES))
def test_bad_cue_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    content = BAD_CUES[name]
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    error = _error(lambda: lipsync.read_cues(path), "cues")
    assert name in str(error)


def test_bad_cue_paths(tmp_path: Path) -> None:
    _error(lambda: lipsync.read_cues(tmp_path / "missing.json"), "cues")
    _error(lambda: lipsync.read_cues(tmp_path), "cues")
    _error(lambda: lipsync.read_cues(""), "cues")
    _error(lambda: lipsync.read_cues(42), "cues")  # type: ignore[arg-type]
    big = tmp_path / "big.tsv"
    with big.open("w") as stream:
        stream.write("0.00\tX\n" * 400_000)
    error = _error(lambda: lipsync.read_cues(big), "cues")
    assert "bytes" in str(error)


def test_many_cues_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.tsv"
    lines = [f"{i / 1000:.3f}\t{'AB'[i % 2]}" for i in range(6100)]
    path.write_text("\n".join(lines) + "\n")
    assert "cues" in str(_error(lambda: lipsync.read_cues(path), "cues"))


# ---------------------------------------------------------------------------------------------
# Smoothing
# ---------------------------------------------------------------------------------------------


def test_min_hold_merges_short_shapes() -> None:
    track = _track(("X", 0.1), ("B", 0.03), ("C", 0.2), ("A", 0.02), ("D", 0.15), ("X", 0.3))
    out = lipsync.smooth(track, min_hold=0.06)
    _valid(out)
    assert out.duration == track.duration
    assert all(c.end - c.start >= 0.06 - 1e-9 for c in out.cues)
    assert out.shapes == ("X", "C", "D", "X")


def test_short_rest_inside_speech_is_not_shown_but_pauses_are() -> None:
    blip = _track(("X", 0.2), ("C", 0.2), ("X", 0.03), ("D", 0.2), ("X", 0.2))
    assert lipsync.smooth(blip).shapes == ("X", "C", "D", "X")
    pause = _track(("X", 0.2), ("C", 0.2), ("X", 0.3), ("D", 0.2), ("X", 0.2))
    assert lipsync.smooth(pause, fps=24).shapes == ("X", "C", "X", "D", "X")


def test_lone_short_syllable_is_lengthened_into_the_rest() -> None:
    track = _track(("X", 0.3), ("D", 0.02), ("X", 0.3))
    out = lipsync.smooth(track, min_hold=0.08)
    assert out.shapes == ("X", "D", "X")
    assert out.cues[1] == Cue(0.3, 0.38, "D")


def test_rest_at_the_edges_may_be_short() -> None:
    track = _track(("X", 0.02), ("C", 0.3), ("X", 0.01))
    assert lipsync.smooth(track, min_hold=0.1) == lipsync.smooth(track, min_hold=0.0)


def test_single_frame_flicker_is_removed_at_the_frame_rate() -> None:
    track = _track(("X", 0.3), ("B", 0.2), ("C", 0.1), ("B", 0.2), ("X", 0.3))
    frames = lipsync.frame_shapes(track, 10)
    assert "BCB" in "".join(frames)
    out = lipsync.smooth(track, min_hold=0.0, fps=10)
    text = "".join(lipsync.frame_shapes(out, 10))
    assert "BCB" not in text
    assert out.shapes == ("X", "B", "X")
    # at a higher frame rate the same C lasts several frames and stays
    assert lipsync.smooth(track, min_hold=0.0, fps=60).shapes == track.shapes


def _flickers(frames: list[str]) -> int:
    return sum(
        frames[k - 1] == frames[k + 1] != frames[k] for k in range(1, len(frames) - 1)
    )


def _random_track(seed: int) -> Track:
    rng = random.Random(seed)
    spec = [("X", rng.choice([0.05, 0.2]))]
    for _ in range(rng.randint(3, 40)):
        spec.append((rng.choice(lipsync.SHAPES), rng.choice([0.01, 0.02, 0.03, 0.05, 0.1, 0.3])))
    return _track(*spec)


@pytest.mark.parametrize("seed", range(12))
def test_smoothing_is_idempotent_and_keeps_its_promises(seed: int) -> None:
    track = _random_track(seed)
    fps = random.Random(seed).choice([12, 24, 25, 30, 60])
    once = lipsync.smooth(track, min_hold=0.05, fps=fps)
    assert lipsync.smooth(once, min_hold=0.05, fps=fps) == once
    assert once.duration == track.duration
    _valid(once)
    assert _flickers(lipsync.frame_shapes(once, fps)) == 0
    for i, cue in enumerate(once.cues):
        edge_rest = cue.shape == "X" and i in (0, len(once.cues) - 1)
        assert edge_rest or cue.end - cue.start >= 0.05 - 1e-9 or len(once.cues) == 1


def test_smoothing_a_text_track() -> None:
    track = lipsync.text_track("Well, well, well. What have we here?")
    out = lipsync.smooth(track, fps=30)
    assert lipsync.smooth(out, fps=30) == out
    assert out.words == track.words and out.source == "text"
    assert len(out.cues) <= len(track.cues)


@pytest.mark.parametrize("hold", [-0.1, 2.0, float("inf"), "long"])
def test_smoothing_bad_min_hold(hold) -> None:
    _error(lambda: lipsync.smooth(_track(("X", 1.0)), min_hold=hold), "min_hold")


# ---------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------


def test_frame_shapes_majority_padding_and_cutting() -> None:
    track = _track(("X", 0.1), ("D", 0.25), ("B", 0.15))  # 0.5 s
    assert lipsync.track_frames(track, 10) == 5
    # frame 3 = [0.3, 0.4): D covers 0.05, B covers 0.05 -> the earlier one wins
    assert lipsync.frame_shapes(track, 10) == ["X", "D", "D", "D", "B"]
    assert lipsync.frame_shapes(track, 10, 8) == ["X", "D", "D", "D", "B", "X", "X", "X"]
    assert lipsync.frame_shapes(track, 20)[7] == "B"  # [0.35, 0.4): all B
    assert lipsync.frame_shapes(track, 10, 2) == ["X", "D"]
    assert lipsync.track_frames(track, 25) == len(lipsync.frame_shapes(track, 25)) == 13
    assert lipsync.track_frames(_track(("X", 0.01)), 1) == 1


def test_frame_shapes_bad_options() -> None:
    track = _track(("X", 0.5))
    _error(lambda: lipsync.frame_shapes(track, 0), "fps")
    _error(lambda: lipsync.frame_shapes(track, float("nan")), "fps")
    _error(lambda: lipsync.frame_shapes(track, 30, 0), "frames")
    _error(lambda: lipsync.frame_shapes(track, 30, 2.5), "frames")  # type: ignore[arg-type]
    _error(lambda: lipsync.track_frames(track, 1000), "fps")
