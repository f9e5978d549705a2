"""The speech driver: a recording -> timed phones -> mouth shapes.

Steps (docs/lipsync.md, "Drivers"):

1. :func:`~.audio.read_audio` checks and decodes the file, mixes it to mono and it is
   resampled to 16 kHz (:func:`~.audio.resample`).
2. A loudness voice-activity detector (:func:`voice_activity`) marks the 10 ms frames that
   hold sound; everything else is rest (X) whatever the recogniser says, so silence is X.
3. pocketsphinx 5 with its bundled US-English acoustic model finds the phones: aligned to the
   line's words when ``text`` is given (``set_align_text``, then a phone-level second pass),
   else by phone recognition (``allphone`` search with the bundled phone language model).
   Cepstral mean normalisation is per clip (``cmn=batch``), so a result never depends on
   what the decoder heard before. If the alignment fails (the recording does not match the
   text) the driver falls back to phone recognition and says so in ``Track.note``.
4. Phones become shapes through the shared table; noise and silence phones are X.

``method="loudness"`` skips the recogniser: the level of each voiced frame, relative to the
clip's range, picks A, B, C or D (:func:`loudness_shapes`). It works for any language and
without pocketsphinx, and is much rougher.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assetgen import InvalidOptionsError

from .audio import ANALYSIS_RATE, frame_levels, read_audio, resample
from .shapes import Phone, Track, Word, build_cues, phone_segments, ticks
from .text import _ascii_word, check_text, pronounce, tokens

#: ``audio_track`` methods.
METHODS = ("auto", "align", "phones", "loudness")

# Voice activity (all levels in dB relative to full scale, per 10 ms frame).
#: Frames quieter than this are never speech.
SILENCE_FLOOR_DB = -55.0
#: ... nor frames more than this far below the clip's loudest frame ...
DYNAMIC_RANGE_DB = 40.0
#: ... nor frames less than this far above the clip's noise floor (its 5th-percentile level).
NOISE_MARGIN_DB = 6.0
#: Quiet gaps shorter than this inside speech stay speech (stop closures, short breaths).
GAP_FILL = 0.10
#: Sound shorter than this is a click, not speech.
MIN_SPEECH = 0.05
#: Speech is extended by this much on each side. None: the 20 ms level window already
#: reaches 10 ms past the sound, and any more showed as open mouths in pauses (the timing
#: evaluation's silence figure fell from 1.0 to 0.97 with 10 ms).
HANGOVER = 0.0

# Loudness method: level within speech, from 0 (threshold) to 1 (loudest), -> shape.
LOUDNESS_BUCKETS = ((0.15, "A"), (0.40, "B"), (0.70, "C"), (1.01, "D"))

#: pocketsphinx search settings. The beams are pocketsphinx's documented values for phone
#: recognition; ``bestpath`` off keeps the alignment from dropping a line's last word.
_COMMON = {"loglevel": "FATAL", "cmn": "batch", "bestpath": False}
_ALLPHONE = {"beam": 1e-20, "pbeam": 1e-20, "lw": 2.0}
#: forced alignment: wide beams. With pocketsphinx's default word beam (7e-29) the search lost
#: every path on whole espeak-ng sentences ("Well met, traveler. The road north is closed."
#: aligned to nothing and fell back to phone recognition); at 1e-64 it aligns them, in the
#: same ~25 ms. The timing evaluation's word-by-word clips aligned either way.
_ALIGN = {"beam": 1e-64, "wbeam": 1e-64, "pbeam": 1e-64}

_local = threading.local()


def check_method(method: Any) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise InvalidOptionsError(
            f"option 'method' must be one of {', '.join(METHODS)}; got {method!r}",
            parameter="method",
            value=method,
        )
    return method


def _pocketsphinx(method: str) -> Any:
    try:
        import pocketsphinx
    except ImportError:
        raise InvalidOptionsError(
            f"option 'method': {method!r} needs the pocketsphinx package, which is not "
            "installed; install it with: pip install 'assetgen[lipsync]', or use "
            "method='loudness'",
            parameter="method",
            value=method,
        ) from None
    return pocketsphinx


def _decoder(kind: str, method: str) -> Any:
    """One decoder per thread and kind (``align`` / ``phones``), made on first use."""
    cache = getattr(_local, "decoders", None)
    if cache is None:
        cache = _local.decoders = {}
    if kind not in cache:
        ps = _pocketsphinx(method)
        if kind == "phones":
            cache[kind] = ps.Decoder(
                allphone=ps.get_model_path("en-us/en-us-phone.lm.bin"), lm=None,
                **_COMMON, **_ALLPHONE,
            )
        else:
            cache[kind] = ps.Decoder(lm=None, **_COMMON, **_ALIGN)
    return cache[kind]


# ---------------------------------------------------------------------------------------------
# Voice activity and the loudness method
# ---------------------------------------------------------------------------------------------


def speech_threshold(levels: npt.NDArray[Any]) -> float:
    """The level (dBFS) above which a frame may be speech."""
    peak = float(np.max(levels))
    floor = float(np.percentile(levels, 5))
    return max(SILENCE_FLOOR_DB, peak - DYNAMIC_RANGE_DB, floor + NOISE_MARGIN_DB)


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def voice_activity(levels: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Speech / not speech for each 10 ms frame, from the frames' levels (dBFS)."""
    loud = levels > speech_threshold(levels)
    if float(np.max(levels)) <= SILENCE_FLOOR_DB:
        return np.zeros(levels.shape, dtype=bool)
    gap, shortest, hang = (round(s * 100) for s in (GAP_FILL, MIN_SPEECH, HANGOVER))
    runs = [r for r in _runs(loud) if r[1] - r[0] >= 2]  # single loud frames are clicks
    joined: list[list[int]] = []
    for start, end in runs:
        if joined and start - joined[-1][1] < gap:
            joined[-1][1] = end
        else:
            joined.append([start, end])
    speech = np.zeros(levels.shape, dtype=bool)
    for start, end in joined:
        if end - start >= shortest:
            speech[max(0, start - hang) : end + hang] = True
    return speech


def loudness_shapes(levels: npt.NDArray[Any], speech: npt.NDArray[np.bool_]) -> list[str]:
    """One shape per 10 ms frame from its level: X outside speech, A-D inside."""
    threshold = speech_threshold(levels)
    peak = float(np.max(levels))
    smooth = np.convolve(levels, np.ones(3) / 3, mode="same")
    span = max(peak - threshold, 1e-6)
    shapes = []
    for level, voiced in zip(smooth.tolist(), speech.tolist(), strict=True):
        if not voiced:
            shapes.append("X")
            continue
        q = min(max((level - threshold) / span, 0.0), 1.0)
        shapes.append(next(shape for limit, shape in LOUDNESS_BUCKETS if q < limit))
    return shapes


# ---------------------------------------------------------------------------------------------
# Recognition
# ---------------------------------------------------------------------------------------------


def _pcm(samples: npt.NDArray[Any]) -> bytes:
    """Float samples -> 16-bit PCM bytes, peak raised to -1 dBFS (quiet takes stay usable)."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    gain = 0.89 / peak if peak > 0 else 1.0
    return np.round(np.clip(samples * gain, -1, 1) * 32767).astype("<i2").tobytes()


def _run(decoder: Any, pcm: bytes) -> None:
    """Decode one whole clip. The feature extraction is reset first: it otherwise keeps state
    from the clip before, and the result would depend on what was decoded earlier."""
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def recognise_phones(pcm: bytes, method: str) -> list[tuple[str, int, int]]:
    """Phone recognition: (phone, start tick, end tick) for the whole clip."""
    decoder = _decoder("phones", method)
    _run(decoder, pcm)
    return [(seg.word, seg.start_frame, seg.end_frame + 1) for seg in decoder.seg() or ()]


def align_phones(
    pcm: bytes, words: list[tuple[str, tuple[str, ...]]], method: str
) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]] | None:
    """Force-align the words; (phones, words) with ticks, or None if it fails."""
    decoder = _decoder("align", method)
    names = []
    for index, (spoken, pron) in enumerate(words):
        name = _ascii_word(spoken).lower().replace("'", "") or f"word{index}"
        if spoken.isascii() and decoder.lookup_word(spoken) is not None:
            name = spoken
        elif decoder.lookup_word(name) is None:
            decoder.add_word(name, " ".join(pron), True)
        names.append(name)
    try:
        decoder.set_align_text(" ".join(names))
        _run(decoder, pcm)
        found = [seg.word for seg in decoder.seg() or () if not seg.word.startswith(("<", "["))]
        if [w.split("(")[0] for w in found] != names:
            return None
        decoder.set_alignment()
        _run(decoder, pcm)
        alignment = decoder.get_alignment()
    except RuntimeError:
        return None
    if alignment is None:
        return None
    phones: list[tuple[str, int, int]] = []
    timed_words: list[tuple[str, int, int]] = []
    for word in alignment:
        start, end = word.start, word.start + word.duration
        if not word.name.startswith("<"):
            timed_words.append((word.name, start, end))
        for phone in word:
            phones.append((phone.name, phone.start, phone.start + phone.duration))
    if len(timed_words) != len(names):
        return None
    return phones, timed_words


def audio_track(
    path: str | Path, *, text: str = "", method: str = "auto", extended: bool = True
) -> Track:
    """Mouth-shape cues for a recording (module docstring).

    ``method``: ``auto`` (align to ``text`` when given, else recognise phones), ``align``
    (needs ``text``), ``phones`` (ignore the text) or ``loudness`` (no recogniser). Raises
    :class:`InvalidOptionsError` naming 'audio', 'text' or 'method'.
    """
    method = check_method(method)
    text = check_text(text, allow_empty=True)
    if method == "align" and not text.strip():
        raise InvalidOptionsError(
            "option 'method': 'align' needs the line's words in option 'text'; give the text, "
            "or use method='auto' or 'phones'",
            parameter="method",
            value=method,
        )
    if method != "loudness":
        _pocketsphinx(method)  # fail before decoding when it is missing
    samples, info = read_audio(path)
    total = max(1, ticks(info.seconds))
    signal = resample(samples, info.rate)
    levels = frame_levels(signal, ANALYSIS_RATE)[:total]
    if levels.size < total:
        levels = np.pad(levels, (0, total - levels.size), constant_values=-120.0)
    speech = voice_activity(levels)
    name = Path(info.path).name
    common: dict[str, Any] = {"duration": total / 100, "sound_file": name, "extended": extended}
    silence = [("X", s, e) for s, e in _runs(~speech)]
    if method == "loudness":
        per_frame = loudness_shapes(levels, speech)
        segments = [(shape, i, i + 1) for i, shape in enumerate(per_frame)]
        return Track(cues=build_cues(segments, total), source="loudness", method="loudness",
                     **common)
    if not speech.any():
        return Track(cues=build_cues([], total), source="speech", method="phones",
                     note="no speech found (the clip is silent)", **common)
    pcm = _pcm(signal)
    words: list[tuple[str, tuple[str, ...]]] = []
    if text.strip() and method in ("auto", "align"):
        words = [(item[2], pronounce(item[2])[0]) for item in tokens(text) if item[0] == "word"]
    aligned = align_phones(pcm, words, method) if words else None
    note = ""
    if aligned is not None:
        phones, timed_words = aligned
        used = "align"
    else:
        if words:
            note = "alignment to the text failed; phones were recognised instead"
        phones, timed_words, used = recognise_phones(pcm, method), [], "phones"
    phones = [(p, max(0, s), min(total, e)) for p, s, e in phones if e > s and s < total]
    segments = phone_segments(phones, extended) + silence
    return Track(
        cues=build_cues(segments, total),
        source="speech",
        method=used,
        note=note,
        words=tuple(Word(w, s / 100, e / 100) for w, s, e in timed_words),
        phones=tuple(Phone(p, s / 100, e / 100) for p, s, e in phones),
        **common,
    )
