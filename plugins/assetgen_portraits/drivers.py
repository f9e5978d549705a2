"""Animation drivers for talking portraits: mouth-openness and blink curves.

A talking portrait swaps or warps its mouth frame by frame. What drives it is a *curve*: one
``float32`` value per animation frame, 0 = mouth closed, 1 = mouth fully open. This module
turns three kinds of driver into such a curve, and also makes an eye-blink curve:

* :func:`talk_cycle` – a generic, seeded talking loop (no text, no audio);
* :func:`text_curve` – a line of dialogue, timed syllable by syllable;
* :func:`audio_curve` – the loudness envelope of a PCM WAV file;
* :func:`blink_curve` – one natural blink in a loop (0 = eyes open, 1 = closed).

Everything here is pure numpy plus the standard library, deterministic, and returns finite
``float32`` arrays with values in [0, 1].

How continuous time becomes frames
----------------------------------
Frame ``k`` (at ``fps`` frames per second) stands for the time window
``[k / fps, (k + 1) / fps)``. The mouth curves are the *mean* of the underlying continuous
curve over that window (sampled at :data:`SUBSAMPLES` points), so fast syllables are not
skipped at low frame rates. The blink curve takes the *maximum* over the window instead, so
that the eyes are seen fully shut on some frame whatever the frame rate.

Text timing heuristic (:func:`text_curve`)
------------------------------------------
The text is split into words and punctuation. Each word gets
:func:`count_syllables` syllables; each syllable lasts :data:`SYLLABLE_SECONDS` and is an
open-hold-close pulse whose height comes from its vowel (:data:`VOWEL_OPENNESS`: open vowels
``a``/``o`` are higher than ``e``/``i``/``u``); syllables after the first in a word are scaled
by :data:`UNSTRESSED_SCALE`. Words are separated by a short closed gap
(:data:`WORD_GAP_SECONDS`); a comma-like mark (``, ; : – — --``) puts a closed pause of
:data:`CLAUSE_PAUSE_SECONDS` there instead, a sentence end (``. ! ? …``) one of
:data:`SENTENCE_PAUSE_SECONDS` (a run of marks such as ``?!`` or ``...`` counts once, with its
longest pause). The line starts with :data:`LEAD_IN_SECONDS` and ends with
:data:`TAIL_SECONDS` of closed mouth (or the final pause, if longer). Digits are spoken one
syllable each. All durations are whole milliseconds, so the frame count
``round(total_seconds * fps)`` (halves rounded up, at least 1) is exact and reproducible.
"""

from __future__ import annotations

import math
import re
import unicodedata
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assetgen import InvalidOptionsError, check_int, seeds

from .lipsync.shapes import path_error
from .lipsync.text import MAX_TEXT_CHARS, check_text

__all__ = [
    "FPS_MAX",
    "FPS_MIN",
    "FRAMES_MAX",
    "FRAMES_MIN",
    "MAX_AUDIO_SECONDS",
    "MAX_TEXT_CHARS",
    "audio_curve",
    "audio_frames",
    "blink_curve",
    "count_syllables",
    "talk_cycle",
    "text_curve",
    "text_frames",
]

FloatArray = npt.NDArray[np.float64]

# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------

#: Allowed frame rates (frames per second), inclusive.
FPS_MIN = 1.0
FPS_MAX = 60.0
#: Allowed explicit frame counts (``frames`` arguments), inclusive.
FRAMES_MIN = 1
FRAMES_MAX = 240
# The longest dialogue line text_curve accepts is MAX_TEXT_CHARS, the lip-sync text driver's
# limit (imported above with check_text, which checks the line for both).
#: Longest audio clip :func:`audio_curve` accepts, in seconds.
MAX_AUDIO_SECONDS = 60.0

#: Points per frame window at which the continuous mouth curves are averaged.
SUBSAMPLES = 8

# ---------------------------------------------------------------------------------------------
# Text timing constants (milliseconds, so frame counts are exact)
# ---------------------------------------------------------------------------------------------

SYLLABLE_MS = 200
WORD_GAP_MS = 50
CLAUSE_PAUSE_MS = 250
SENTENCE_PAUSE_MS = 450
LEAD_IN_MS = 100
TAIL_MS = 150

#: The same constants in seconds, for documentation and callers.
SYLLABLE_SECONDS = SYLLABLE_MS / 1000
WORD_GAP_SECONDS = WORD_GAP_MS / 1000
CLAUSE_PAUSE_SECONDS = CLAUSE_PAUSE_MS / 1000
SENTENCE_PAUSE_SECONDS = SENTENCE_PAUSE_MS / 1000
LEAD_IN_SECONDS = LEAD_IN_MS / 1000
TAIL_SECONDS = TAIL_MS / 1000

#: Peak mouth openness of a syllable by the first letter of its vowel group.
VOWEL_OPENNESS: dict[str, float] = {
    "a": 1.0,
    "o": 0.9,
    "e": 0.7,
    "u": 0.6,
    "i": 0.55,
    "y": 0.55,
}
#: Vowel digraphs that sound closer than their first letter suggests (``food``, ``see``...).
DIGRAPH_OPENNESS: dict[str, float] = {
    "oo": 0.6,
    "ee": 0.55,
    "ea": 0.6,
    "ie": 0.6,
    "ai": 0.8,
    "ay": 0.8,
    "ou": 0.85,
    "au": 0.9,
}
#: Openness of a syllable without a written vowel (``hmm``, ``shh``) or spoken as a digit.
NO_VOWEL_OPENNESS = 0.4
DIGIT_OPENNESS = 0.7
#: Height of the second and later syllables of a word relative to their vowel's openness.
UNSTRESSED_SCALE = 0.85

# Pulse shape of one syllable, as fractions of its duration: rise, hold open, fall.
_RISE = 0.3
_HOLD_END = 0.6

# ---------------------------------------------------------------------------------------------
# Talk-loop, blink and audio constants
# ---------------------------------------------------------------------------------------------

#: Syllable rate range of :func:`talk_cycle`, in syllables per second.
TALK_RATE_RANGE = (4.0, 6.0)

#: Blink phases, in seconds: lids closing, held shut, opening again.
BLINK_CLOSE_SECONDS = 0.08
BLINK_HOLD_SECONDS = 0.04
BLINK_OPEN_SECONDS = 0.12

#: Frames quieter than this (dB relative to the loudest frame) count as silence (0).
AUDIO_FLOOR_DB = -45.0
#: A clip whose loudest frame is below this (dB relative to full scale) is silent throughout.
AUDIO_SILENCE_DBFS = -80.0
#: Envelope follower time constants (seconds): opening reacts fast, closing more slowly.
AUDIO_ATTACK_SECONDS = 0.015
AUDIO_RELEASE_SECONDS = 0.05
#: Smoothed values below this are flushed to exactly 0 (a fully closed mouth).
AUDIO_CLOSED_BELOW = 0.01

_WAVE_FORMAT_NAMES = {
    2: "Microsoft ADPCM",
    3: "IEEE floating point",
    6: "A-law",
    7: "mu-law",
    17: "IMA ADPCM",
    85: "MPEG layer 3",
    65534: "WAVE_FORMAT_EXTENSIBLE (not readable by this Python's wave module)",
}


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def _check_fps(fps: Any) -> float:
    if isinstance(fps, bool) or not isinstance(fps, int | float | np.integer | np.floating):
        raise InvalidOptionsError(
            f"option 'fps' must be a number from {FPS_MIN:g} to {FPS_MAX:g} "
            f"(frames per second); got {fps!r}",
            parameter="fps",
            value=fps,
        )
    value = float(fps)
    if not (math.isfinite(value) and FPS_MIN <= value <= FPS_MAX):
        raise InvalidOptionsError(
            f"option 'fps' must be a number from {FPS_MIN:g} to {FPS_MAX:g} "
            f"(frames per second); got {fps!r}",
            parameter="fps",
            value=fps,
        )
    return value


def _check_frames(frames: Any) -> int:
    return check_int("frames", frames, FRAMES_MIN, FRAMES_MAX, option=True)


def _check_seed(seed: Any) -> int:
    return check_int("seed", seed, 0, option=True)


def _frames_for(seconds: float, fps: float) -> int:
    """``round(seconds * fps)`` with halves rounded up, and at least 1."""
    return max(1, math.floor(seconds * fps + 0.5))


def _finish(curve: FloatArray) -> np.ndarray:
    """Clean a curve for output: finite, clipped to [0, 1], float32, with specks of
    rounding noise (below 1e-6) set to an exact 0."""
    out = np.clip(np.nan_to_num(curve, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    out[out < 1e-6] = 0.0
    return out.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Rendering timed pulses into frames
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pulses:
    """Non-overlapping mouth pulses: start times and durations (seconds), peak heights."""

    starts: FloatArray
    durations: FloatArray
    peaks: FloatArray


def _smoothstep(x: FloatArray) -> FloatArray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _pulse_shape(u: FloatArray) -> FloatArray:
    """Openness over one syllable, ``u`` in [0, 1): ease open, hold on the vowel, ease shut."""
    rise = _smoothstep(u / _RISE)
    fall = _smoothstep((1.0 - u) / (1.0 - _HOLD_END))
    return np.minimum(rise, fall)


def _render_pulses(pulses: _Pulses, frames: int, fps: float) -> FloatArray:
    """Average the continuous pulse train over each frame's time window."""
    offsets = (np.arange(SUBSAMPLES, dtype=np.float64) + 0.5) / SUBSAMPLES
    t = (np.arange(frames, dtype=np.float64)[:, None] + offsets[None, :]) / fps
    values = np.zeros_like(t)
    if pulses.starts.size:
        idx = np.searchsorted(pulses.starts, t, side="right") - 1
        valid = idx >= 0
        safe = np.where(valid, idx, 0)
        u = (t - pulses.starts[safe]) / pulses.durations[safe]
        inside = valid & (u >= 0.0) & (u < 1.0)
        values = np.where(inside, pulses.peaks[safe] * _pulse_shape(u), 0.0)
    result: FloatArray = values.mean(axis=1)
    return result


# ---------------------------------------------------------------------------------------------
# Syllables
# ---------------------------------------------------------------------------------------------

_VOWELS = frozenset("aeiouy")
_PURE_VOWELS = frozenset("aeiou")
_CONSONANT_LE = re.compile(r"[^aeiouy]le$")


def _fold_latin(word: str) -> tuple[str, frozenset[int]]:
    """Lower-case ``word``, drop apostrophes and accents (``café`` -> ``cafe``).

    Also returns the positions in the folded word of letters that carried an accent: an
    accented final ``é`` is spoken, never silent.
    """
    letters: list[str] = []
    accented: set[int] = set()
    for ch in word.lower():
        if ch in "'’":
            continue
        parts = unicodedata.normalize("NFKD", ch)
        base = "".join(p for p in parts if not unicodedata.combining(p))
        if len(base) < len(parts):
            accented.update(range(len(letters), len(letters) + len(base)))
        letters.extend(base)
    return "".join(letters), frozenset(accented)


def _vowel_groups(word: str, accented: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the vowel groups of a folded word.

    ``y`` is a vowel unless it is followed by another vowel (``yes``, ``beyond``, ``player``),
    where it acts as a consonant. An accented vowel right after another vowel starts a group
    of its own (``naïve``, ``Zoë``).
    """
    groups: list[tuple[int, int]] = []
    start = -1
    for i, ch in enumerate(word):
        is_vowel = ch in _PURE_VOWELS or (
            ch == "y" and not (i + 1 < len(word) and word[i + 1] in _PURE_VOWELS)
        )
        if is_vowel and start >= 0 and i in accented:
            groups.append((start, i))
            start = i
        elif is_vowel and start < 0:
            start = i
        elif not is_vowel and start >= 0:
            groups.append((start, i))
            start = -1
    if start >= 0:
        groups.append((start, len(word)))
    return groups


def _drop_silent_ending(
    word: str, groups: list[tuple[int, int]], accented: frozenset[int] = frozenset()
) -> list[tuple[int, int]]:
    """Remove a final vowel group that is written but not spoken (a silent ``e``).

    * ``-e`` alone after a consonant is silent (``make``, ``whale``) except in a
      consonant + ``le`` ending (``table``, ``little``);
    * ``-es`` is silent (``makes``) except after ``c g s x z ch sh`` (``faces``, ``boxes``) or
      in consonant + ``les`` (``tables``);
    * ``-ed`` is silent (``walked``, ``loved``) except after ``t``/``d`` (``wanted``) or after
      consonant + ``r`` (``hundred``).
    An accented ``é`` (``café``) is never silent, and a word always keeps at least one group.
    """
    if len(groups) < 2:
        return groups
    start, end = groups[-1]
    if end - start != 1 or word[start] != "e" or start in accented:
        return groups
    before = word[:start]
    tail = word[start:]
    if tail == "e":
        silent = not _CONSONANT_LE.search(word)
    elif tail == "es":
        silent = not (
            before.endswith(("c", "g", "s", "x", "z", "ch", "sh"))
            or _CONSONANT_LE.search(word[:-1])
        )
    elif tail == "ed":
        silent = not (
            before.endswith(("t", "d"))
            or (len(before) >= 2 and before[-1] == "r" and before[-2] not in _VOWELS)
        )
    else:
        silent = False
    return groups[:-1] if silent else groups


def _is_syllabic_char(ch: str) -> bool:
    """Characters of scripts written one syllable per character (CJK, kana, hangul)."""
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))


def _syllable_peaks(word: str) -> list[float]:
    """Peak openness of each syllable of one word (letters, possibly with apostrophes)."""
    folded, accented = _fold_latin(word)
    if any("a" <= ch <= "z" for ch in folded):
        groups = _drop_silent_ending(folded, _vowel_groups(folded, accented), accented)
        if not groups:
            return [NO_VOWEL_OPENNESS]
        peaks = []
        for start, end in groups:
            nucleus = folded[start:end]
            peaks.append(DIGRAPH_OPENNESS.get(nucleus[:2], VOWEL_OPENNESS[nucleus[0]]))
        return [peaks[0]] + [p * UNSTRESSED_SCALE for p in peaks[1:]]
    # Not a Latin word: one syllable per CJK/kana/hangul character, otherwise a rough
    # one syllable per three letters.
    count = sum(1 for ch in word if _is_syllabic_char(ch))
    if count == 0:
        count = max(1, round(len(word) / 3))
    return [VOWEL_OPENNESS["a"] * 0.8] * count


def count_syllables(word: str) -> int:
    """Estimate the number of spoken syllables of an English ``word`` (at least 1).

    The heuristic counts groups of consecutive vowels (``a e i o u``, and ``y`` when not
    followed by a vowel), then drops a silent final ``e``/``es``/``ed`` (see
    :func:`_drop_silent_ending`; consonant + ``le`` endings such as ``table`` keep their
    syllable). Apostrophes are ignored and accented letters count as their base letter (but an
    accented final ``é`` is spoken); a word without vowels (``hmm``) has one syllable. It is
    right for most common words and off by one for some (``recipe``, ``lion``, ``every``),
    which is harmless for lip-flap timing.
    """
    return len(_syllable_peaks(word))


# ---------------------------------------------------------------------------------------------
# Text driver
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)"
    r"|(?P<digits>\d+)"
    r"|(?P<stop>[.!?…])"
    r"|(?P<clause>--|[,;:–—])"
)


def _text_timeline(text: str) -> tuple[list[tuple[int, float]], int]:
    """The syllables of ``text`` as ``(start_ms, peak)`` and the total duration in ms."""
    syllables: list[tuple[int, float]] = []
    cursor = LEAD_IN_MS
    pending_pause = 0  # longest pause mark seen since the last word
    seen_word = False
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "stop":
            pending_pause = max(pending_pause, SENTENCE_PAUSE_MS)
            continue
        if kind == "clause":
            pending_pause = max(pending_pause, CLAUSE_PAUSE_MS)
            continue
        token = match.group()
        if kind == "digits":
            peaks = [DIGIT_OPENNESS] * len(token)
        else:
            peaks = _syllable_peaks(token)
        if seen_word:
            cursor += pending_pause if pending_pause else WORD_GAP_MS
        else:
            cursor = max(LEAD_IN_MS, pending_pause)
        pending_pause = 0
        seen_word = True
        for peak in peaks:
            syllables.append((cursor, peak))
            cursor += SYLLABLE_MS
    if not seen_word:
        cursor = LEAD_IN_MS + pending_pause
        return [], cursor + TAIL_MS
    return syllables, cursor + max(TAIL_MS, pending_pause)


def text_frames(text: str, fps: float) -> int:
    """The number of frames :func:`text_curve` returns for ``text`` at ``fps``.

    ``round(total_seconds * fps)`` with halves rounded up, at least 1; the total is computed
    in whole milliseconds (see the module notes). It can exceed :data:`FRAMES_MAX` for long
    lines: the text, not a frame limit, sets the length.
    """
    fps = _check_fps(fps)
    _, total_ms = _text_timeline(check_text(text))
    return _frames_for(total_ms / 1000, fps)


def text_curve(text: str, fps: float) -> np.ndarray:
    """Mouth openness for saying ``text``, one value per frame at ``fps``.

    Each syllable is a :data:`SYLLABLE_SECONDS` pulse whose height depends on its vowel;
    punctuation inserts closed pauses; the curve begins and ends with a closed lead-in and
    tail. The length is :func:`text_frames`. Raises :class:`InvalidOptionsError` for an empty
    or over-long ``text`` or an ``fps`` outside [1, 60].
    """
    fps = _check_fps(fps)
    syllables, total_ms = _text_timeline(check_text(text))
    frames = _frames_for(total_ms / 1000, fps)
    pulses = _Pulses(
        starts=np.array([s for s, _ in syllables], dtype=np.float64) / 1000,
        durations=np.full(len(syllables), SYLLABLE_SECONDS, dtype=np.float64),
        peaks=np.array([p for _, p in syllables], dtype=np.float64),
    )
    return _finish(_render_pulses(pulses, frames, fps))


# ---------------------------------------------------------------------------------------------
# Seeded talk loop
# ---------------------------------------------------------------------------------------------


def talk_cycle(frames: int, fps: float, seed: int) -> np.ndarray:
    """A generic talking loop of ``frames`` frames, deterministic from ``seed``.

    The loop draws a syllable rate in :data:`TALK_RATE_RANGE`, fits that many syllable pulses
    (of slightly varied length) between one closed frame at each end, separates some of them
    by short word gaps and the odd breath pause, and gives them varied heights (mostly open
    vowels, some closer ones). The first and last frames are always 0, so the loop repeats
    without a jump. Loops of 1 or 2 frames are all closed.
    """
    frames = _check_frames(frames)
    fps = _check_fps(fps)
    rng = seeds.SeedStream(_check_seed(seed), "portraits.talk")

    duration = frames / fps
    edge = 1.0 / fps  # one closed frame at each end
    available = duration - 2.0 * edge
    rate = rng.uniform(*TALK_RATE_RANGE)
    count = max(1, round(available * rate)) if available > 0 else 0
    if count == 0:
        return np.zeros(frames, dtype=np.float32)

    lengths = rng.uniform(0.8, 1.25, size=count)
    # Gaps after each syllable but the last: none (same word), a word gap, or a pause.
    kind = rng.random(size=count - 1)
    gaps = np.where(
        kind < 0.6,
        0.0,
        np.where(
            kind < 0.92,
            rng.uniform(0.15, 0.4, size=count - 1),
            rng.uniform(0.8, 1.5, size=count - 1),
        ),
    )
    open_vowel = rng.random(size=count) < 0.6
    peaks = np.where(
        open_vowel, rng.uniform(0.75, 1.0, size=count), rng.uniform(0.35, 0.7, size=count)
    )

    scale = available / (lengths.sum() + gaps.sum())
    durations = lengths * scale
    steps = durations + np.append(gaps * scale, 0.0)
    starts = edge + np.concatenate(([0.0], np.cumsum(steps)[:-1]))
    curve = _render_pulses(_Pulses(starts, durations, peaks), frames, fps)
    curve[0] = 0.0
    curve[-1] = 0.0
    return _finish(curve)


# ---------------------------------------------------------------------------------------------
# Blink
# ---------------------------------------------------------------------------------------------


def blink_curve(frames: int, fps: float, seed: int) -> np.ndarray:
    """Eyelid closure over a loop of ``frames`` frames: 0 = open, 1 = fully closed.

    One blink (close :data:`BLINK_CLOSE_SECONDS`, hold :data:`BLINK_HOLD_SECONDS`, open
    :data:`BLINK_OPEN_SECONDS`, eased) starts at a time drawn from ``seed`` so that it lies
    between the first and the last frame, which stay open. A loop too short for a full-speed
    blink gets one compressed into its inner frames. Each frame holds the most closed state
    within its time window, so some frame always reads exactly 1. Loops of 1 or 2 frames have
    no room for a blink and are all open (zeros).
    """
    frames = _check_frames(frames)
    fps = _check_fps(fps)
    rng = seeds.SeedStream(_check_seed(seed), "portraits.blink")
    position = rng.random()
    if frames < 3:
        return np.zeros(frames, dtype=np.float32)

    edge = 1.0 / fps
    available = frames / fps - 2.0 * edge
    phases = np.array([BLINK_CLOSE_SECONDS, BLINK_HOLD_SECONDS, BLINK_OPEN_SECONDS])
    total = float(phases.sum())
    if total > available:
        phases = phases * (available / total)
        total = available
    start = edge + position * (available - total)
    close_end = start + phases[0]
    hold_end = close_end + phases[1]
    end = hold_end + phases[2]

    def closure(t: FloatArray) -> FloatArray:
        closing = _smoothstep((t - start) / phases[0])
        opening = _smoothstep((end - t) / phases[2])
        return np.where(t < close_end, closing, np.where(t <= hold_end, 1.0, opening))

    # The closure rises to a plateau and falls again, so its maximum over a window is its
    # value at the plateau point nearest to that window.
    lo = np.arange(frames, dtype=np.float64) / fps
    hi = lo + 1.0 / fps
    nearest = np.clip(0.5 * (close_end + hold_end), lo, hi)
    curve = closure(nearest)
    curve[(hi <= start) | (lo >= end)] = 0.0
    return _finish(curve)


# ---------------------------------------------------------------------------------------------
# Audio driver
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WavInfo:
    channels: int
    sample_width: int
    rate: int
    length: int  # samples per channel

    @property
    def seconds(self) -> float:
        return self.length / self.rate


#: what the WAV-only ``audio`` reader takes, for its errors
_WAV_EXPECTED = (
    "an uncompressed PCM WAV file (8, 16, 24 or 32-bit integer samples) of at most "
    f"{MAX_AUDIO_SECONDS:g} s"
)


def _audio_error(path: Path, reason: str) -> InvalidOptionsError:
    return path_error("audio", path, reason, _WAV_EXPECTED)


def _open_wav(path: str | Path) -> tuple[Path, wave.Wave_read, _WavInfo]:
    if not isinstance(path, str | Path):
        raise InvalidOptionsError(
            f"option 'audio' must be a path to a WAV file; got {type(path).__name__}",
            parameter="audio",
            value=path,
        )
    file = Path(path)
    if not file.is_file():
        reason = "no such file" if not file.exists() else "not a regular file"
        raise _audio_error(file, reason)
    try:
        reader = wave.open(str(file), "rb")
    except wave.Error as exc:
        message = str(exc)
        found = re.fullmatch(r"unknown format: (\d+)", message)
        if found:
            tag = int(found.group(1))
            name = _WAVE_FORMAT_NAMES.get(tag, "a compressed or unsupported encoding")
            message = f"unsupported WAV encoding {tag} ({name})"
        raise _audio_error(file, f"not a readable WAV file ({message})") from None
    except EOFError:
        raise _audio_error(file, "the WAV file is truncated or empty") from None
    except OSError as exc:
        raise _audio_error(file, f"cannot read it ({exc.strerror or exc})") from None
    try:
        comptype = reader.getcomptype()
        info = _WavInfo(
            channels=reader.getnchannels(),
            sample_width=reader.getsampwidth(),
            rate=reader.getframerate(),
            length=reader.getnframes(),
        )
        if comptype != "NONE":
            raise _audio_error(file, f"compressed WAV ({comptype}) is not supported")
        if info.sample_width not in (1, 2, 3, 4):
            raise _audio_error(file, f"unsupported sample width of {info.sample_width} bytes")
        if info.channels < 1 or info.rate < 1:
            raise _audio_error(file, "the WAV header is invalid (no channels or sample rate)")
        if info.seconds > MAX_AUDIO_SECONDS:
            raise _audio_error(
                file, f"it lasts {info.seconds:.1f} s, longer than {MAX_AUDIO_SECONDS:g} s"
            )
    except BaseException:
        reader.close()
        raise
    return file, reader, info


def _decode(raw: bytes, sample_width: int, channels: int) -> FloatArray:
    """Little-endian PCM bytes to mono float samples in [-1, 1]."""
    usable = len(raw) - len(raw) % (sample_width * channels)
    data = np.frombuffer(raw[:usable], dtype=np.uint8)
    if sample_width == 1:
        samples = (data.astype(np.float64) - 128.0) / 128.0
    elif sample_width == 2:
        samples = data.view("<i2").astype(np.float64) / 32768.0
    elif sample_width == 3:
        triples = data.reshape(-1, 3).astype(np.int32)
        ints = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        samples = ints.astype(np.float64) / float(1 << 23)
    else:
        samples = data.view("<i4").astype(np.float64) / float(1 << 31)
    mono: FloatArray = samples.reshape(-1, channels).mean(axis=1)
    return mono


def _window_rms(samples: FloatArray, rate: int, frames: int, hop: float) -> FloatArray:
    """RMS of ``samples`` over ``frames`` windows of ``hop`` seconds (0 past the end)."""
    bounds = np.floor(np.arange(frames + 1, dtype=np.float64) * hop * rate + 0.5).astype(np.int64)
    bounds = np.clip(bounds, 0, samples.size)
    squares = np.concatenate(([0.0], np.cumsum(samples * samples)))
    counts = bounds[1:] - bounds[:-1]
    energy = squares[bounds[1:]] - squares[bounds[:-1]]
    mean = np.where(counts > 0, energy / np.maximum(counts, 1), 0.0)
    result: FloatArray = np.sqrt(np.maximum(mean, 0.0))
    return result


def _envelope(rms: FloatArray, hop: float) -> FloatArray:
    """Loudness in dB relative to the loudest frame, mapped to [0, 1] and smoothed."""
    peak = float(rms.max()) if rms.size else 0.0
    if not (peak > 0.0) or 20.0 * math.log10(peak) < AUDIO_SILENCE_DBFS:
        return np.zeros_like(rms)
    with np.errstate(divide="ignore"):
        db = 20.0 * np.log10(rms / peak)
    level = np.clip((db - AUDIO_FLOOR_DB) / -AUDIO_FLOOR_DB, 0.0, 1.0)
    level = np.nan_to_num(level, nan=0.0)

    attack = 1.0 - math.exp(-hop / AUDIO_ATTACK_SECONDS)
    release = 1.0 - math.exp(-hop / AUDIO_RELEASE_SECONDS)
    smoothed = np.empty_like(level)
    state = 0.0
    for i, target in enumerate(level.tolist()):
        state += (attack if target > state else release) * (target - state)
        smoothed[i] = state
    smoothed[smoothed < AUDIO_CLOSED_BELOW] = 0.0
    return smoothed


def audio_frames(path: str | Path, fps: float) -> int:
    """The number of frames :func:`audio_curve` returns by default: ``round(seconds * fps)``.

    Halves round up; at least 1. Only the WAV header is read. Like :func:`text_frames`, this
    can exceed :data:`FRAMES_MAX` (a 60 s clip at 60 fps is 3600 frames); pass ``frames`` to
    :func:`audio_curve` to get a bounded length.
    """
    fps = _check_fps(fps)
    _, reader, info = _open_wav(path)
    reader.close()
    return _frames_for(info.seconds, fps)


def audio_curve(path: str | Path, fps: float, frames: int | None = None) -> np.ndarray:
    """Mouth openness following the loudness of the WAV file at ``path``.

    The file is read with :mod:`wave` (integer PCM, 8/16/24/32-bit, any channel count mixed
    to mono). Frame ``k`` is the RMS of the samples in ``[k / fps, (k + 1) / fps)``, in dB
    relative to the loudest frame; :data:`AUDIO_FLOOR_DB` and quieter map to 0 and the loudest
    frame to 1, linearly in dB. A one-pole follower then smooths it (attack
    :data:`AUDIO_ATTACK_SECONDS`, release :data:`AUDIO_RELEASE_SECONDS`). A silent file gives
    zeros.

    ``frames`` defaults to :func:`audio_frames`. A larger ``frames`` keeps the timing and pads
    with closed frames after the sound; a smaller one squeezes the whole clip into ``frames``
    windows of ``duration / frames`` seconds (the curve then no longer plays in sync with the
    audio at ``fps``). Errors about the file name the parameter ``'audio'``.
    """
    fps = _check_fps(fps)
    if frames is not None:
        frames = _check_frames(frames)
    file, reader, info = _open_wav(path)
    try:
        raw = reader.readframes(info.length)
    except (wave.Error, EOFError, OSError) as exc:
        raise _audio_error(file, f"reading its samples failed ({exc})") from None
    finally:
        reader.close()
    samples = _decode(raw, info.sample_width, info.channels)
    seconds = samples.size / info.rate

    natural = _frames_for(seconds, fps)
    count = natural if frames is None else frames
    hop = 1.0 / fps
    if count < natural:
        hop = seconds / count
    rms = _window_rms(samples, info.rate, count, hop)
    return _finish(_envelope(rms, hop))
