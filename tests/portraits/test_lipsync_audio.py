"""Lip sync from recordings: reading audio safely, the speech driver and the loudness driver."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assetgen.errors import InvalidOptionsError

ROOT = Path(__file__).resolve().parents[2]

try:
    from assetgen_portraits import lipsync
except ImportError:  # not installed (pip install -e .): import from the source tree
    sys.path.insert(0, str(ROOT / "plugins"))
    from assetgen_portraits import lipsync

sf = pytest.importorskip("soundfile", reason="the lipsync extra (soundfile) is not installed")
HAVE_POCKETSPHINX = True
try:
    import pocketsphinx  # noqa: F401
except ImportError:
    HAVE_POCKETSPHINX = False
needs_pocketsphinx = pytest.mark.skipif(
    not HAVE_POCKETSPHINX, reason="the lipsync extra (pocketsphinx) is not installed"
)

LINE = "Hello there, my friend. How are you doing today?"


def _error(call, parameter: str = "audio") -> InvalidOptionsError:
    with pytest.raises(InvalidOptionsError) as info:
        call()
    assert info.value.parameter == parameter
    assert f"'{parameter}'" in str(info.value)
    return info.value


def _voice(rate: int, seconds: float, bursts: list[tuple[float, float]]) -> np.ndarray:
    """Silence with voice-like bursts: a 140 Hz buzz with formant-ish harmonics, faded in and
    out, from ``start`` to ``end`` seconds; a faint noise floor everywhere."""
    t = np.arange(int(rate * seconds)) / rate
    out = np.random.default_rng(0).normal(0, 1e-4, t.size)
    for start, end in bursts:
        inside = (t >= start) & (t < end)
        local = t[inside] - start
        harmonics = [k for k in range(1, 20) if 140 * k < rate / 2]
        buzz = sum(np.sin(2 * np.pi * 140 * k * local) / k for k in harmonics)
        envelope = np.minimum(1, np.minimum(local, end - start - local) / 0.02)
        out[inside] += 0.3 * buzz * envelope / 3
    return out


BURSTS = [(0.3, 0.7), (0.9, 1.3)]
SILENT = [(0.0, 0.25), (0.75, 0.85), (1.35, 1.6)]


def _silent_frames_are_rest(track, fps: float = 100) -> None:
    shapes = lipsync.frame_shapes(track, fps)
    for start, end in SILENT:
        window = shapes[round(start * fps) : round(end * fps)]
        assert set(window) == {"X"}, (start, end, "".join(window))


def _burst_frames_mostly_open(track, fps: float = 100) -> None:
    shapes = lipsync.frame_shapes(track, fps)
    for start, end in BURSTS:
        window = shapes[round((start + 0.05) * fps) : round((end - 0.05) * fps)]
        assert sum(s != "X" for s in window) >= 0.8 * len(window), "".join(window)


@pytest.fixture(scope="module")
def voice_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same 1.6 s of voice-like bursts in every accepted format, rate and layout."""
    folder = tmp_path_factory.mktemp("voice")
    files = {}
    for name, rate, channels, subtype, ext in [
        ("int16", 16000, 1, "PCM_16", "wav"),
        ("float", 22050, 1, "FLOAT", "wav"),
        ("stereo", 44100, 2, "PCM_24", "wav"),
        ("8k", 8000, 1, "PCM_U8", "wav"),
        ("48k", 48000, 2, "PCM_32", "wav"),
        ("flac", 32000, 1, "PCM_16", "flac"),
        ("ogg", 24000, 1, "VORBIS", "ogg"),
    ]:
        mono = _voice(rate, 1.6, BURSTS)
        data = np.stack([mono, mono * 0.5], axis=1) if channels == 2 else mono
        path = folder / f"{name}.{ext}"
        sf.write(path, data, rate, subtype=subtype)
        files[name] = path
    return files


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """LINE said by espeak-ng (22.05 kHz mono 16-bit WAV)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/install-system-deps.sh installs it)")
    path = tmp_path_factory.mktemp("espeak") / "line.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), LINE], check=True,
                   capture_output=True, timeout=30)
    return path


# ---------------------------------------------------------------------------------------------
# Formats, rates, layouts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["int16", "float", "stereo", "8k", "48k", "flac", "ogg"])
def test_check_audio_reads_headers(voice_files: dict[str, Path], name: str) -> None:
    info = lipsync.check_audio(voice_files[name])
    assert info.seconds == pytest.approx(1.6, abs=0.01)
    assert info.channels == (2 if name in ("stereo", "48k") else 1)
    assert 8000 <= info.rate <= 48000


@pytest.mark.parametrize("name", ["int16", "float", "stereo", "8k", "48k", "flac", "ogg"])
def test_loudness_method_on_every_format(voice_files: dict[str, Path], name: str) -> None:
    track = lipsync.audio_track(voice_files[name], method="loudness")
    assert track.source == "loudness"
    assert track.duration == pytest.approx(1.6, abs=0.011)
    assert set(track.shapes) <= {"X", "A", "B", "C", "D"}
    assert track.sound_file == voice_files[name].name
    _silent_frames_are_rest(track)
    _burst_frames_mostly_open(track)


@needs_pocketsphinx
@pytest.mark.parametrize("name", ["int16", "stereo", "8k", "48k", "ogg"])
def test_phones_method_keeps_silence_at_rest(voice_files: dict[str, Path], name: str) -> None:
    track = lipsync.audio_track(voice_files[name], method="phones")
    assert track.source == "speech" and track.method == "phones"
    assert track.duration == pytest.approx(1.6, abs=0.011)
    _silent_frames_are_rest(track)


def test_silent_clip_is_all_rest(tmp_path: Path) -> None:
    path = tmp_path / "quiet.wav"
    sf.write(path, np.zeros(16000), 16000)
    for method in ("loudness",) + (("auto",) if HAVE_POCKETSPHINX else ()):
        track = lipsync.audio_track(path, method=method)
        assert track.shapes == ("X",)
        assert track.duration == 1.0


# ---------------------------------------------------------------------------------------------
# Speech
# ---------------------------------------------------------------------------------------------


@needs_pocketsphinx
def test_speech_aligned_to_text(spoken: Path) -> None:
    track = lipsync.audio_track(spoken, text=LINE)
    assert track.source == "speech" and track.method == "align", track.note
    words = [w.text for w in track.words]
    assert words == ["hello", "there", "my", "friend", "how", "are", "you", "doing", "today"]
    starts = [w.start for w in track.words]
    assert starts == sorted(starts)
    assert track.shapes[-1] == "X"  # espeak-ng starts at once but ends with a short rest
    # the comma and the full stop are audible pauses: rest between "there"/"my", "friend"/"how"
    shapes = lipsync.frame_shapes(track, 100)
    for before, after in ((1, 2), (3, 4)):
        gap = shapes[round(track.words[before].end * 100) : round(track.words[after].start * 100)]
        assert "X" in gap
    # vowels are open: the AY of "my" is D then B
    my = track.words[2]
    assert "D" in shapes[round(my.start * 100) : round(my.end * 100)]
    assert track == lipsync.audio_track(spoken, text=LINE)  # deterministic


@needs_pocketsphinx
def test_speech_phone_recognition_agrees_roughly_with_alignment(spoken: Path) -> None:
    aligned = lipsync.audio_track(spoken, text=LINE)
    phones = lipsync.audio_track(spoken)
    assert phones.method == "phones" and phones.words == ()
    a, b = lipsync.frame_shapes(aligned, 100), lipsync.frame_shapes(phones, 100)
    closed = lipsync.CLOSED_SHAPES
    same_class = np.mean([(x in closed) == (y in closed) for x, y in zip(a, b, strict=True)])
    assert same_class > 0.75
    assert lipsync.audio_track(spoken, text=LINE, method="phones") == phones


@needs_pocketsphinx
def test_speech_alignment_failure_falls_back_to_phones(spoken: Path) -> None:
    track = lipsync.audio_track(spoken, text="Supercalifragilistic expialidocious " * 6)
    assert track.method in ("align", "phones")
    if track.method == "phones":
        assert "alignment" in track.note
    with pytest.raises(InvalidOptionsError) as info:
        lipsync.audio_track(spoken, method="align")
    assert info.value.parameter == "method"


@needs_pocketsphinx
def test_speech_without_extended_shapes(spoken: Path) -> None:
    track = lipsync.audio_track(spoken, text=LINE, extended=False)
    assert set(track.shapes) <= set(lipsync.BASIC_SHAPES)


def test_missing_pocketsphinx_is_a_clear_error(voice_files, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)
    monkeypatch.setattr("assetgen_portraits.lipsync.speech._local", type("L", (), {})())
    error = _error(lambda: lipsync.audio_track(voice_files["int16"]), "method")
    assert "pip install" in str(error) and "loudness" in str(error)
    assert lipsync.audio_track(voice_files["int16"], method="loudness").source == "loudness"


@pytest.mark.parametrize("method", ["whisper", "", None, 3])
def test_bad_method(voice_files, method) -> None:
    error = _error(lambda: lipsync.audio_track(voice_files["int16"], method=method), "method")
    assert "auto" in str(error) and "loudness" in str(error)


def test_bad_text_with_audio(voice_files) -> None:
    _error(lambda: lipsync.audio_track(voice_files["int16"], text=7), "text")


# ---------------------------------------------------------------------------------------------
# Bad audio
# ---------------------------------------------------------------------------------------------


def _wav_bytes(seconds: float = 0.5, rate: int = 16000, channels: int = 1) -> bytes:
    import io

    buffer = io.BytesIO()
    data = np.zeros((int(seconds * rate), channels), dtype=np.int16)
    sf.write(buffer, data, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _bad_files(folder: Path) -> dict[str, Path]:
    good = _wav_bytes()
    files: dict[str, bytes] = {
        "empty.wav": b"",
        "truncated.wav": good[: len(good) // 2],
        "header-only.wav": good[:44],
        "junk.wav": bytes(range(256)) * 20,
        "text.ogg": b"this is not audio at all\n" * 10,
        "riff-not-wave.wav": b"RIFF\x10\x00\x00\x00AVI " + b"\x00" * 64,
    }
    claim = bytearray(good)  # a header claiming 2 GB of samples, on a 16 kB file
    claim[4:8] = struct.pack("<I", 2_000_000_036)
    claim[40:44] = struct.pack("<I", 2_000_000_000)
    files["2gb-claim.wav"] = bytes(claim)
    zero = bytearray(good)
    zero[22:24] = struct.pack("<H", 0)
    files["0-channels.wav"] = bytes(zero)
    import io

    for fmt, ext in (("FLAC", "flac"), ("OGG", "ogg")):
        buffer = io.BytesIO()
        sf.write(buffer, np.random.default_rng(1).normal(0, 0.1, 32000), 16000, format=fmt)
        whole = buffer.getvalue()
        files[f"truncated.{ext}"] = whole[: len(whole) // 2]
    paths = {}
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content)
        paths[name] = path
    for name, (seconds, rate, channels) in {
        "too-long.wav": (61.0, 8000, 1),
        "96k.wav": (0.1, 96000, 1),
        "4k.wav": (0.5, 4000, 1),
        "3-channels.wav": (0.2, 16000, 3),
    }.items():
        path = folder / name
        path.write_bytes(_wav_bytes(seconds, rate, channels))
        paths[name] = path
    return paths


BAD = [
    "empty.wav", "truncated.wav", "header-only.wav", "junk.wav", "text.ogg", "riff-not-wave.wav",
    "2gb-claim.wav", "0-channels.wav", "truncated.flac", "truncated.ogg", "too-long.wav",
    "96k.wav", "4k.wav", "3-channels.wav",
]


@pytest.mark.parametrize("name", BAD)
def test_bad_audio_is_a_clear_error(tmp_path: Path, name: str) -> None:
    path = _bad_files(tmp_path)[name]
    for call in (
        lambda: lipsync.audio_track(path, method="loudness"),
        lambda: lipsync.audio_track(path, text="hello"),
    ):
        error = _error(call)
        assert name in str(error)
        assert "WAV, OGG" in str(error)  # says what is expected
        assert "Traceback" not in str(error) and "cffi" not in str(error)
    if name not in ("truncated.flac",):  # a truncated FLAC's header is intact
        _error(lambda: lipsync.check_audio(path))


def test_bad_audio_paths(tmp_path: Path) -> None:
    assert "no such file" in str(_error(lambda: lipsync.check_audio(tmp_path / "none.wav")))
    assert "directory" in str(_error(lambda: lipsync.check_audio(tmp_path)))
    _error(lambda: lipsync.check_audio(""))
    _error(lambda: lipsync.check_audio(b"x.wav"))  # type: ignore[arg-type]
    _error(lambda: lipsync.check_audio(None))  # type: ignore[arg-type]
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.wav"
        os.mkfifo(fifo)
        assert "regular file" in str(_error(lambda: lipsync.check_audio(fifo)))


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.wav"
    with path.open("wb") as stream:
        stream.truncate(65 * 1024 * 1024)  # sparse: no disk used
    assert "MiB" in str(_error(lambda: lipsync.check_audio(path)))


@needs_pocketsphinx
def test_timing_evaluation_runs(spoken: Path) -> None:
    from assetgen_portraits.lipsync.evaluate import evaluate_timing

    result = evaluate_timing(sentences=1, seed=3)
    assert result["sentences"] == 1 and result["words"] > 3
    align = result["methods"]["align"]
    assert align["silence_x"] >= 0.9 and align["vowel_open"] >= 0.8
    assert align["x_realtime"] > 1
    assert 0 <= result["text_vs_speech"]["same_open_closed"] <= 1
    json.dumps(result)  # plain numbers


@needs_pocketsphinx
def test_a_whole_spoken_sentence_aligns_to_its_text(tmp_path: Path) -> None:
    """A game line said in one go (not word by word): with pocketsphinx's default word beam
    its alignment lost every path and fell back to phone recognition, which heard no words in
    the first 0.7 s."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/install-system-deps.sh installs it)")
    text = "Well met, traveler. The road north is closed."
    path = tmp_path / "line.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True,
                   capture_output=True, timeout=30)
    track = lipsync.audio_track(path, text=text)
    assert track.method == "align", track.note
    assert [w.text.split("(")[0] for w in track.words] == [
        "well", "met", "traveler", "the", "road", "north", "is", "closed"
    ]
    shapes = lipsync.frame_shapes(track, 100)
    well, met = track.words[0], track.words[1]
    assert "F" in shapes[round(well.start * 100) : round(well.end * 100)]  # W
    assert "A" in shapes[round(met.start * 100) : round(met.end * 100)]  # M
