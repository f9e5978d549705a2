"""Tests of the talking-portrait drivers: text, seeded talk loop, blink and WAV envelopes."""

from __future__ import annotations

import struct
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from assetgen.errors import InvalidOptionsError

ROOT = Path(__file__).resolve().parents[2]

try:
    from assetgen_portraits import drivers
except ImportError:  # not installed (pip install -e .): import from the source tree
    sys.path.insert(0, str(ROOT / "plugins"))
    from assetgen_portraits import drivers


def _assert_valid(curve: np.ndarray, length: int | None = None) -> None:
    assert isinstance(curve, np.ndarray)
    assert curve.dtype == np.float32
    assert curve.ndim == 1
    if length is not None:
        assert curve.shape == (length,)
    assert np.isfinite(curve).all()
    assert curve.min() >= 0.0
    assert curve.max() <= 1.0


def _rising_edges(curve: np.ndarray, threshold: float) -> int:
    above = curve > threshold
    return int(np.count_nonzero(above[1:] & ~above[:-1]) + int(above[0]))


# ---------------------------------------------------------------------------------------------
# Syllables and text timing
# ---------------------------------------------------------------------------------------------

SYLLABLES = [
    ("cat", 1),
    ("the", 1),
    ("I", 1),
    ("make", 1),
    ("whale", 1),
    ("free", 1),
    ("queue", 1),
    ("rhythm", 1),
    ("hmm", 1),
    ("yes", 1),
    ("walked", 1),
    ("loved", 1),
    ("makes", 1),
    ("goes", 1),
    ("don't", 1),
    ("we're", 1),
    ("hello", 2),
    ("table", 2),
    ("little", 2),
    ("apple", 2),
    ("people", 2),
    ("tables", 2),
    ("wanted", 2),
    ("boxes", 2),
    ("faces", 2),
    ("beyond", 2),
    ("player", 2),
    ("hundred", 2),
    ("Dragon", 2),
    ("banana", 3),
    ("beautiful", 3),
    ("syllable", 3),
    ("adventure", 3),
    ("café", 2),
    ("impossible", 4),
    ("information", 4),
    ("naïve", 2),
    ("Zoë", 2),
    ("résumé", 3),
]


@pytest.mark.parametrize(("word", "expected"), SYLLABLES)
def test_count_syllables(word: str, expected: int) -> None:
    assert drivers.count_syllables(word) == expected


def test_count_syllables_is_at_least_one() -> None:
    for word in ["x", "brr", "shh", "tsk", "Ω"]:
        assert drivers.count_syllables(word) == 1


TEXTS = [
    "Hi.",
    "Hello world",
    "Well, I suppose so. Fine!",
    "You shall not pass!!!",
    "Wait -- what? Who's there...",
    "It costs 42 gold, adventurer.",
    "  leading and trailing spaces  ",
    "...",
    "Ça va? Très bien, merci.",
]


@pytest.mark.parametrize("fps", [1, 7.5, 12, 24, 30, 60])
def test_text_frames_matches_curve_length(fps: float) -> None:
    for text in TEXTS:
        curve = drivers.text_curve(text, fps)
        _assert_valid(curve, drivers.text_frames(text, fps))


@pytest.mark.parametrize(
    ("text", "fps", "expected"),
    [
        # lead 100 ms + 1 syllable 200 ms + sentence end 450 ms (longer than the tail) = 0.75 s
        ("Hi.", 12, 9),
        ("Hi.", 30, 23),  # 22.5 rounds up
        ("Hi.", 60, 45),
        ("Hi.", 1, 1),
        # lead 100 + hel-lo 400 + word gap 50 + world 200 + tail 150 = 0.9 s
        ("Hello world", 12, 11),
        ("Hello world", 24, 22),
        ("Hello world", 10, 9),
        # lead 100 + well 200 + comma 250 + fine 200 + tail 150 = 0.9 s
        ("Well, fine", 10, 9),
        # digits: one syllable each -> lead 100 + 3 * 200 + tail 150 = 0.85 s
        ("123", 20, 17),
    ],
)
def test_text_frames_exact(text: str, fps: float, expected: int) -> None:
    assert drivers.text_frames(text, fps) == expected
    assert len(drivers.text_curve(text, fps)) == expected


def test_frames_grow_with_longer_text() -> None:
    words = "the brave knight rode into the dark forest looking for the lost dragon egg".split()
    for fps in (5, 12, 30):
        counts = [drivers.text_frames(" ".join(words[: i + 1]), fps) for i in range(len(words))]
        assert all(b > a for a, b in zip(counts, counts[1:], strict=False)), counts
    # Punctuation only ever adds time.
    assert drivers.text_frames("Hello, world!", 30) > drivers.text_frames("Hello world", 30)


def test_pauses_at_punctuation_are_closed() -> None:
    fps = 30
    curve = drivers.text_curve("Well, I suppose so. Fine!", fps)
    # "Well" (100-300 ms), comma pause 300-550 ms: frames wholly inside it are closed.
    first, last = int(np.ceil(0.3 * fps)), int(np.floor(0.55 * fps))
    assert last - first >= 6
    assert np.all(curve[first:last] == 0.0)
    # Speech on both sides of the pause.
    assert curve[:first].max() > 0.5
    assert curve[last : last + 8].max() > 0.3
    # Lead-in and tail are closed.
    assert curve[0] == 0.0
    assert curve[-1] == 0.0
    # A sentence end gives a longer closed run than a comma.
    comma = _longest_zero_run(drivers.text_curve("Go now, run", fps)[3:-3])
    stop = _longest_zero_run(drivers.text_curve("Go now. Run", fps)[3:-3])
    assert stop > comma >= 6


def _longest_zero_run(curve: np.ndarray) -> int:
    best = run = 0
    for value in curve:
        run = run + 1 if value == 0.0 else 0
        best = max(best, run)
    return best


def test_syllables_make_pulses_and_vowels_set_height() -> None:
    fps = 60
    curve = drivers.text_curve("banana banana", fps)
    assert _rising_edges(curve, 0.3) == 6
    assert drivers.text_curve("pa", fps).max() > drivers.text_curve("pi", fps).max() + 0.2
    assert drivers.text_curve("po", fps).max() > drivers.text_curve("pu", fps).max() + 0.2
    assert drivers.text_curve("pa", fps).max() > 0.95


def test_punctuation_only_text_is_closed() -> None:
    curve = drivers.text_curve("...", 24)
    _assert_valid(curve)
    assert not curve.any()


def test_text_curve_is_deterministic() -> None:
    a = drivers.text_curve("Greetings, traveller!", 24)
    b = drivers.text_curve("Greetings, traveller!", 24)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_is_rejected(text: str) -> None:
    for call in (drivers.text_curve, drivers.text_frames):
        with pytest.raises(InvalidOptionsError, match="'text'") as info:
            call(text, 24)
        assert info.value.parameter == "text"
        assert isinstance(info.value, ValueError)


def test_text_length_limit() -> None:
    ok = ("la " * 700)[: drivers.MAX_TEXT_CHARS]
    _assert_valid(drivers.text_curve(ok, 12), drivers.text_frames(ok, 12))
    with pytest.raises(InvalidOptionsError, match="2000") as info:
        drivers.text_curve("a" * (drivers.MAX_TEXT_CHARS + 1), 12)
    assert info.value.parameter == "text"
    with pytest.raises(InvalidOptionsError, match="'text'"):
        drivers.text_curve(42, 12)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Shared validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fps", [0, 0.5, 61, 1000, -5, float("nan"), float("inf"), "24", True])
def test_bad_fps_is_rejected_everywhere(fps: object, tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    _write_wav(wav, np.zeros(800), 8000)
    calls = [
        lambda: drivers.talk_cycle(24, fps, 0),  # type: ignore[arg-type]
        lambda: drivers.blink_curve(24, fps, 0),  # type: ignore[arg-type]
        lambda: drivers.text_curve("hello", fps),  # type: ignore[arg-type]
        lambda: drivers.text_frames("hello", fps),  # type: ignore[arg-type]
        lambda: drivers.audio_curve(wav, fps),  # type: ignore[arg-type]
        lambda: drivers.audio_frames(wav, fps),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(InvalidOptionsError, match=r"'fps'.*1 to 60") as info:
            call()
        assert info.value.parameter == "fps"


@pytest.mark.parametrize("frames", [0, -1, 241, 2.5, "12", None, True])
def test_bad_frames_are_rejected(frames: object) -> None:
    for func in (drivers.talk_cycle, drivers.blink_curve):
        with pytest.raises(InvalidOptionsError, match=r"'frames'.*1 to 240") as info:
            func(frames, 24, 0)  # type: ignore[arg-type]
        assert info.value.parameter == "frames"


def test_bad_seed_is_rejected() -> None:
    for seed in (-1, 1.5, "x"):
        with pytest.raises(InvalidOptionsError, match="'seed'") as info:
            drivers.talk_cycle(24, 24, seed)  # type: ignore[arg-type]
        assert info.value.parameter == "seed"


def test_numpy_scalars_are_accepted() -> None:
    curve = drivers.talk_cycle(np.int64(24), np.float32(12.0), np.uint32(5))  # type: ignore[arg-type]
    _assert_valid(curve, 24)


# ---------------------------------------------------------------------------------------------
# Talk loop
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("frames", "fps"), [(240, 60), (48, 12), (24, 24), (240, 30), (10, 1)])
def test_talk_cycle_shape_and_loop(frames: int, fps: float) -> None:
    curve = drivers.talk_cycle(frames, fps, seed=3)
    _assert_valid(curve, frames)
    assert curve[0] == 0.0
    assert curve[-1] == 0.0
    assert curve.max() > 0.3


def test_talk_cycle_is_deterministic_per_seed() -> None:
    a = drivers.talk_cycle(96, 24, seed=7)
    assert np.array_equal(a, drivers.talk_cycle(96, 24, seed=7))
    others = [drivers.talk_cycle(96, 24, seed=s) for s in range(8, 12)]
    assert all(not np.array_equal(a, b) for b in others)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_talk_cycle_syllable_rate_and_variety(seed: int) -> None:
    fps, frames = 60, 240
    curve = drivers.talk_cycle(frames, fps, seed)
    syllables = _rising_edges(curve, 0.15)
    rate = syllables / (frames / fps)
    assert 3.5 <= rate <= 6.5, rate
    # Heights vary from syllable to syllable.
    edges = np.flatnonzero((curve[1:] > 0.15) & (curve[:-1] <= 0.15)) + 1
    bounds = list(edges) + [frames]
    peaks = [curve[a:b].max() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    assert max(peaks) - min(peaks) > 0.15


@pytest.mark.parametrize("frames", [1, 2, 3])
def test_talk_cycle_very_short(frames: int) -> None:
    for seed in (0, 1):
        curve = drivers.talk_cycle(frames, 24, seed)
        _assert_valid(curve, frames)
        assert np.array_equal(curve, drivers.talk_cycle(frames, 24, seed))
        assert curve[0] == 0.0 and curve[-1] == 0.0


# ---------------------------------------------------------------------------------------------
# Blink
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("frames", "fps"), [(120, 30), (240, 60), (24, 12), (10, 1), (3, 60)])
def test_blink_curve_has_one_blink(frames: int, fps: float) -> None:
    curve = drivers.blink_curve(frames, fps, seed=11)
    _assert_valid(curve, frames)
    assert curve.max() == 1.0
    assert curve[0] == 0.0 and curve[-1] == 0.0
    closed = np.flatnonzero(curve > 0)
    assert np.all(np.diff(closed) == 1), "one contiguous blink"
    assert _rising_edges(curve, 0.5) == 1


def test_blink_duration_at_60_fps() -> None:
    curve = drivers.blink_curve(240, 60, seed=2)
    blink_frames = np.count_nonzero(curve)
    # close 80 ms + hold 40 ms + open 120 ms = 0.24 s = 14.4 frames (plus window rounding).
    assert 13 <= blink_frames <= 17
    peak = int(np.argmax(curve))
    start = int(np.flatnonzero(curve)[0])
    assert 4 <= peak - start <= 7  # closing takes ~80 ms
    assert np.all(np.diff(curve[start : peak + 1]) >= 0)


def test_blink_curve_determinism_and_seed_variation() -> None:
    a = drivers.blink_curve(120, 30, seed=5)
    assert np.array_equal(a, drivers.blink_curve(120, 30, seed=5))
    positions = {int(np.argmax(drivers.blink_curve(120, 30, seed=s))) for s in range(6)}
    assert len(positions) >= 4


@pytest.mark.parametrize("frames", [1, 2])
def test_blink_curve_too_short_is_open(frames: int) -> None:
    for seed in (0, 9):
        curve = drivers.blink_curve(frames, 30, seed)
        _assert_valid(curve, frames)
        assert not curve.any()


# ---------------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------------

RATE = 8000


def _write_wav(
    path: Path, signal: np.ndarray, rate: int, width: int = 2, channels: int = 1
) -> None:
    """Write ``signal`` (floats in [-1, 1]) as integer PCM with the stdlib ``wave`` module."""
    x = np.clip(np.asarray(signal, dtype=np.float64), -1.0, 1.0)
    if width == 1:
        data = np.round(x * 127 + 128).astype(np.uint8).reshape(-1, 1)
    elif width == 2:
        data = np.round(x * 32767).astype("<i2").view(np.uint8).reshape(-1, 2)
    elif width == 3:
        ints = np.round(x * (2**23 - 1)).astype(np.int64) & 0xFFFFFF
        data = np.stack([ints & 255, (ints >> 8) & 255, ints >> 16], axis=1).astype(np.uint8)
    else:
        data = np.round(x * (2**31 - 1)).astype("<i4").view(np.uint8).reshape(-1, 4)
    frames = np.concatenate([data] * channels, axis=1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())


def _burst(
    seconds: float = 1.5, start: float = 0.5, stop: float = 1.0, amp: float = 0.5
) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return np.where((t >= start) & (t < stop), amp * np.sin(2 * np.pi * 440 * t), 0.0)


@pytest.mark.parametrize(("width", "channels"), [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (4, 2)])
def test_audio_envelope_follows_tone_burst(tmp_path: Path, width: int, channels: int) -> None:
    wav = tmp_path / f"burst_{width}_{channels}.wav"
    _write_wav(wav, _burst(), RATE, width, channels)
    fps = 20  # 50 ms per frame: silence = frames 0-9, tone = 10-19, silence = 20-29
    assert drivers.audio_frames(wav, fps) == 30
    curve = drivers.audio_curve(wav, fps)
    _assert_valid(curve, 30)
    assert np.all(curve[:10] == 0.0)
    assert np.all(curve[10:20] > 0.9)
    assert curve[20] < curve[19]  # releases after the tone
    assert np.all(curve[24:] == 0.0)
    assert drivers.audio_curve(str(wav), fps).tolist() == curve.tolist()  # str paths too


def test_audio_frame_count_at_several_fps(tmp_path: Path) -> None:
    wav = tmp_path / "burst.wav"
    _write_wav(wav, _burst(seconds=1.3), RATE)
    for fps, expected in [(1, 1), (10, 13), (12, 16), (24, 31), (30, 39), (60, 78)]:
        assert drivers.audio_frames(wav, fps) == expected
        _assert_valid(drivers.audio_curve(wav, fps), expected)


def test_audio_loudness_is_relative_in_db(tmp_path: Path) -> None:
    t = np.arange(RATE) / RATE
    loud = 0.8 * np.sin(2 * np.pi * 440 * t[: RATE // 2])
    quiet = 0.08 * np.sin(2 * np.pi * 440 * t[RATE // 2 :])  # 20 dB down
    wav = tmp_path / "levels.wav"
    _write_wav(wav, np.concatenate([loud, quiet]), RATE)
    curve = drivers.audio_curve(wav, 10)
    assert np.all(curve[1:5] > 0.95)
    expected = 1 - 20 / 45  # -20 dB on a 45 dB scale
    assert np.all(np.abs(curve[7:10] - expected) < 0.05)


def test_audio_frames_argument_pads_or_squeezes(tmp_path: Path) -> None:
    wav = tmp_path / "burst.wav"
    _write_wav(wav, _burst(), RATE)
    natural = drivers.audio_curve(wav, 20)
    padded = drivers.audio_curve(wav, 20, frames=40)
    _assert_valid(padded, 40)
    assert np.array_equal(padded[:30], natural)
    assert not padded[30:].any()
    squeezed = drivers.audio_curve(wav, 20, frames=10)
    _assert_valid(squeezed, 10)
    assert squeezed[:3].max() == 0.0  # first third is silence
    assert squeezed[4:6].min() > 0.9  # middle third is the tone
    assert squeezed[-1] == 0.0
    with pytest.raises(InvalidOptionsError, match="'frames'"):
        drivers.audio_curve(wav, 20, frames=0)
    with pytest.raises(InvalidOptionsError, match="'frames'"):
        drivers.audio_curve(wav, 20, frames=241)


def test_silent_and_empty_audio_give_zeros(tmp_path: Path) -> None:
    for width in (1, 2):
        wav = tmp_path / f"silence{width}.wav"
        _write_wav(wav, np.zeros(RATE), RATE, width)
        curve = drivers.audio_curve(wav, 24)
        _assert_valid(curve, 24)
        assert not curve.any()
    empty = tmp_path / "empty.wav"
    _write_wav(empty, np.zeros(0), RATE)
    assert drivers.audio_frames(empty, 24) == 1
    curve = drivers.audio_curve(empty, 24)
    _assert_valid(curve, 1)
    assert not curve.any()


def _assert_audio_error(path: Path, match: str) -> None:
    for call in (lambda: drivers.audio_curve(path, 24), lambda: drivers.audio_frames(path, 24)):
        with pytest.raises(InvalidOptionsError, match=match) as info:
            call()
        assert info.value.parameter == "audio"
        assert "'audio'" in str(info.value)
        assert isinstance(info.value, ValueError)


def test_audio_errors(tmp_path: Path) -> None:
    _assert_audio_error(tmp_path / "missing.wav", "no such file")
    _assert_audio_error(tmp_path, "not a regular file")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 10)
    _assert_audio_error(text, "not a readable WAV file")
    empty = tmp_path / "zero_bytes.wav"
    empty.write_bytes(b"")
    _assert_audio_error(empty, "truncated or empty")
    with pytest.raises(InvalidOptionsError, match="'audio'"):
        drivers.audio_curve(12, 24)  # type: ignore[arg-type]


def test_audio_rejects_float_wav(tmp_path: Path) -> None:
    samples = np.zeros(100, dtype="<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, RATE, RATE * 4, 4, 32)  # tag 3 = IEEE float
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(samples)) + samples
    wav = tmp_path / "float.wav"
    wav.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    _assert_audio_error(wav, "floating point")


def test_audio_length_limit(tmp_path: Path) -> None:
    rate = 200  # tiny sample rate keeps a 61 s file small
    wav = tmp_path / "long.wav"
    _write_wav(wav, np.zeros(61 * rate), rate, width=1)
    _assert_audio_error(wav, "longer than 60 s")
    ok = tmp_path / "sixty.wav"
    _write_wav(ok, np.zeros(60 * rate), rate, width=1)
    assert drivers.audio_frames(ok, 4) == 240
