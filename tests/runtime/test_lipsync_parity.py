"""Parity of the C# runtime's lip sync from text (``LipSyncText``, ``LipSyncSmoothing``) with
the Python API: the text driver's track (cues, phones, words, method, duration), the track
smoothed at the frame rate and with the in-between frames, the shape of every frame, with the
CMU dictionary of the pocketsphinx wheel and with the spelling rules alone; then talk
animations from text on the shipped model, frame for frame byte-identical, and bad text
requests refused with Python's messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from assetgen_portraits.lipsync import smoothing, text

from assetgen import Engine, InvalidOptionsError

from .conftest import paired_animations, run_csharp
from .test_portraits_parity import MODEL, manifest

LINES = [
    "The bridge is out, so we take the long road through the forest.",
    "Hello there!",
    "Well... I'm not sure -- maybe? We'll see; they said: 'go'.",
    "It costs $42.50, or 1,000 coins & 3 gems (that's 25% off) on the 2nd of May.",
    "Who's there? The knight's squire, with a wrench and a sword.",
    "Thou shalt not pass, Gandalf whispered -- quietly, rhythmically.",
    "007 called 1234567890123 times; 3.14159 is pi; the 21st, 22nd, 23rd, 100th.",
    "Café naïve façade, Zoë's über-résumé.",
    "Brr... hmm, shh! Psst, tsk tsk.",
    "A",
    "#1 @ home = 5 + 5 \u20ac and \u00a3 9",
    "Fine \u2460 \u00bd numbers\u2014and dashes\u2013everywhere\u2026 done",
    "\u0416\u0438\u0437\u043d\u044c and \u6771\u4eac and \u0399\u03b8\u03ac\u03ba\u03b7",
    "don\u2019t won\u02bct can't",
    "Squeaking thoughts of knights who write rhymes, schooling the bough's laughter.",
    "One. Two! Three? Four\u2026 five, six; seven: eight (nine) ten",
]
#: (hold, fps, extended) combinations the lines run through
SETTINGS = [(0.06, 12.0, True), (0.06, 24.0, False), (0.0, 30.0, True), (0.2, 7.0, True),
            (0.5, 60.0, True), (0.06, 1.0, True)]


def ticks(seconds: float) -> int:
    return int(np.floor(seconds * 100 + 0.5))


def python_track(track: Any) -> dict[str, Any]:
    return {
        "cues": [[c.shape, ticks(c.start), ticks(c.end)] for c in track.cues],
        "duration": ticks(track.duration),
        "method": track.method,
        "source": track.source,
        "phones": [[p.name, ticks(p.start), ticks(p.end)] for p in track.phones],
        "words": [[w.text, ticks(w.start), ticks(w.end)] for w in track.words],
    }


def python_answer(line: str, hold: float, fps: float, extended: bool,
                  rate: float = text.DEFAULT_RATE) -> dict[str, Any]:
    try:
        raw = text.text_track(line, rate=rate, extended=extended)
    except InvalidOptionsError as exc:
        return {"error": {"type": "InvalidOptionsError", "message": str(exc),
                          "parameter": exc.parameter}}
    smooth = smoothing.smooth(raw, min_hold=hold, fps=fps)
    tweened = smoothing.tween(smooth, fps)
    frames = smoothing.track_frames(tweened, fps)
    return {"raw": python_track(raw), "smooth": python_track(smooth),
            "tween": python_track(tweened), "frames": frames,
            "frame_shapes": smoothing.frame_shapes(tweened, fps, frames)}


def compare_tracks(parity_exe: Path, out: Path, dictionary: Path | None) -> int:
    cases = {}
    for i, line in enumerate(LINES):
        for j, (hold, fps, extended) in enumerate(SETTINGS):
            cases[f"line{i}_{j}"] = (line, hold, fps, extended, text.DEFAULT_RATE)
    cases["slow"] = (LINES[0], 0.06, 12.0, True, 1.0)
    cases["fast"] = (LINES[3], 0.06, 12.0, True, 12.0)
    cases["too_slow"] = (" ".join(LINES[:8]), 0.06, 12.0, True, 1.0)
    cases["punctuation"] = ("... !? -- ;", 0.06, 12.0, True, 4.5)
    requests = [{"id": k, "seeds": [0], "dictionary": str(dictionary) if dictionary else None,
                 "lipsync": {"text": t, "hold": h, "fps": f, "extended": e, "rate": r}}
                for k, (t, h, f, e, r) in cases.items()]
    code, log, results = run_csharp(parity_exe, MODEL, requests, out)
    assert code == 0, log
    for name, (line, hold, fps, extended, rate) in cases.items():
        expected = python_answer(line, hold, fps, extended, rate)
        got = results[name]
        for key in expected:
            assert got[key] == expected[key], (name, line, key)
    return len(cases)


def test_text_tracks_match_with_the_dictionary(parity_exe: Path, tmp_path: Path) -> None:
    dictionary = text.dictionary_path()
    if dictionary is None:
        pytest.skip("pocketsphinx (its CMU dictionary) is not installed")
    print(f"{compare_tracks(parity_exe, tmp_path, dictionary)} lines identical")


def test_text_tracks_match_with_the_rules_alone(
        parity_exe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "dictionary_path", lambda: None)
    text.dictionary.cache_clear()
    try:
        print(f"{compare_tracks(parity_exe, tmp_path, None)} lines identical")
    finally:
        text.dictionary.cache_clear()


def test_talk_from_text_matches_the_python_api(parity_exe: Path, tmp_path: Path) -> None:
    """The frame count the generator picks from the line, the shape and mouth of every frame,
    the track behind them and the frames themselves, byte for byte."""
    if not manifest().get("mouth_shapes"):
        pytest.skip("the model draws no mouth shapes")
    dictionary = text.dictionary_path()
    cases = [
        ("default", 3, None, {"text": LINES[0]}),
        ("fps24", 4, None, {"text": LINES[1], "fps": 24.0}),
        ("basic_no_tween", 5, None, {"text": LINES[2], "extended_shapes": False,
                                     "tween": False, "hold": 0.1}),
        ("cut", 6, 10, {"text": LINES[3], "fps": 7.0, "truncation": 0.5}),
        ("padded", 7, 40, {"text": LINES[9], "strength": 0.5}),
    ]
    extra = {"dictionary": str(dictionary) if dictionary else None}
    pairs = paired_animations(parity_exe, MODEL, cases, tmp_path / "out", **extra)
    for name, result, animation, ours, theirs in pairs:
        assert np.array_equal(ours, theirs), name
        assert result["frame_shapes"] == list(animation.metadata["frame_shapes"]), name
        assert result["frame_states"] == list(animation.metadata["frame_states"]), name
        meta = animation.metadata["lipsync"]
        assert [[c, ticks(s), ticks(e)] for s, e, c in meta["cues"]] == \
            result["lipsync"]["cues"], name
        assert ticks(meta["duration"]) == result["lipsync"]["duration"], name
        print(f"{name}: {len(theirs)} frames identical")


def test_bad_text_gives_the_python_messages(parity_exe: Path, tmp_path: Path) -> None:
    cases: dict[str, dict[str, Any]] = {
        "too_long": {"text": "a" * 2001},
        "too_long_astral": {"text": "\U0001f600" * 2001},
        "whitespace": {"text": "   \t "},
        "no_words": {"text": "... !? --"},
        "too_long_to_say": {"text": " ".join(["extraordinarily"] * 60)},
        "too_many_frames": {"text": " ".join(LINES[:2]), "fps": 60.0},
        "with_cues": {"text": "hello", "cues": str(tmp_path / "x.json")},
        "blink_with_text": {"text": "hello", "animation": "blink"},
        "hold_negative": {"text": "hello", "hold": -0.1},
        "hold_big": {"text": "hello", "hold": 0.75},
    }
    dictionary = text.dictionary_path()
    requests = [{"id": k, "seeds": [1], "frames": v.pop("frames", None), "options": v,
                 "dictionary": str(dictionary) if dictionary else None}
                for k, v in cases.items()]
    code, log, results = run_csharp(parity_exe, MODEL, requests, tmp_path / "out")
    assert code == 0, log
    for request in requests:
        name, options = request["id"], request["options"]
        with pytest.raises(InvalidOptionsError) as info:
            Engine().animate("portraits", seed=1, frames=request["frames"], **options)
        got = results[name].get("error")
        assert got is not None, (name, results[name])
        assert got["message"] == str(info.value), name
        assert got["parameter"] == info.value.parameter, name
