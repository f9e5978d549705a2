"""Timing evaluation of the lip-sync drivers on speech synthesised by espeak-ng.

    python -m assetgen_portraits.lipsync.evaluate --sentences 20 --seed 0

For each test sentence (:data:`SENTENCES`, picked with ``seed``) every word is synthesised on
its own by the espeak-ng library (libespeak-ng, the engine behind the ``espeak-ng`` command,
called through ctypes with phoneme events on), trimmed to its audible part, and the words are
joined with silent gaps of known, seeded length (:data:`WORD_GAP` inside a phrase, longer after
commas and full stops) under a faint noise floor (:data:`NOISE_RMS`). So the truth is known:
where every word starts and ends, and - from espeak-ng's phoneme events, which carry each
phoneme's position in the audio - where every vowel is.

Figures (frames at :data:`FPS` after :func:`~.smoothing.smooth`, i.e. what a portrait shows;
the ``*_raw`` ones are the drivers' cues before smoothing, at 100 frames per second):

* ``silence_x``: share of frames lying wholly in a gap between words shown as X (goal >= 0.95);
* ``vowel_open``: share of frames lying wholly inside a vowel shown open (not X or A);
* ``text_vs_speech``: the text driver against the speech driver aligned to the same line.
  The text driver's timing comes from a speaking rate, so each of its words is first stretched
  onto the time the aligned word takes in the recording; then the share of frames inside words
  with the same shape, and with the same open/closed class (closed = X, A);
* ``word_boundary_error_ms``: how far the aligned words' starts and ends are from the truth;
* ``x_realtime``: audio seconds analysed per second of processing (speech drivers), or seconds
  of speech timed per second (text driver), in this process after a warm-up call;
  ``cold_start_s``: the first call's time (loading the decoder), ``dictionary_load_s`` the
  text driver's one-off dictionary load; ``word_seconds_vs_speech``: the text driver's word
  durations over espeak-ng's (each word said on its own, so slower than in a sentence).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .shapes import CLOSED_SHAPES, Track
from .smoothing import DEFAULT_MIN_HOLD, frame_shapes, smooth
from .speech import audio_track
from .text import dictionary, text_track

#: Frame rate of the headline figures.
FPS = 30.0
#: Seeded gaps between words, in seconds: inside a phrase, after a comma, after a full stop.
WORD_GAP = (0.12, 0.25)
CLAUSE_GAP = (0.25, 0.40)
SENTENCE_GAP = (0.40, 0.60)
LEAD, TAIL = 0.30, 0.30
#: Noise floor under the whole clip (RMS, full scale = 1): about -60 dBFS.
NOISE_RMS = 0.001
#: A word's audible part: samples louder than this (about -50 dBFS).
TRIM_LEVEL = 0.003
VOICE = b"en-us"

#: Test lines (our own), plain English dialogue with commas and full stops.
SENTENCES = (
    "The bridge is out, so we take the long road through the forest.",
    "Have you seen my brother? He went north three days ago.",
    "I can sell you a sword, but the shield costs extra.",
    "Keep your voice down. The guards are sleeping in the next room.",
    "We need five more apples before the market closes.",
    "Nobody leaves this village until the storm has passed.",
    "Look at the map, the cave is just behind that hill.",
    "My father built this boat with his own hands.",
    "If you find the key, bring it back to me at once.",
    "The old wizard lives alone in the tower by the lake.",
    "Thank you, traveller. May the road be kind to you.",
    "Why would anyone want to open that box?",
    "Follow me quietly, and do not touch anything.",
    "The king has offered a reward for the lost crown.",
    "Every morning the baker opens his shop before sunrise.",
    "We were friends once, but that was a long time ago.",
    "Pull the lever when I give the signal.",
    "The ship leaves at noon, with or without you.",
    "Our cows have been acting strange since the comet fell.",
    "Please, help me carry these books up the stairs.",
    "Watch out for wolves when you cross the valley.",
    "I heard music coming from the empty house last night.",
    "Your room is upstairs, the second door on the left.",
    "Nothing grows in the fields anymore, and the well is dry.",
    "She told me the secret password, but I forgot it.",
    "Move the boxes over there, then come back for more.",
    "How much do you want for the blue potion?",
    "The festival begins tomorrow, and everyone is invited.",
    "Do not trust the merchant with the golden hat.",
    "We should rest here and leave at first light.",
    "A strange fog rolled in from the sea this morning.",
    "You owe me twelve silver coins, my friend.",
    "The library is closed, come back when the bell rings.",
    "I never wanted to be a hero, I just wanted to fish.",
    "Bring me the feather of a phoenix and I will help you.",
    "The mill wheel stopped turning yesterday.",
    "Somebody stole my lucky hat while I was asleep.",
    "Cross the river at the shallow ford, not at the bridge.",
    "Welcome to the Rusty Anchor, what can I get you?",
    "The lighthouse keeper has not been seen for a week.",
)


# ---------------------------------------------------------------------------------------------
# espeak-ng through its C library (phoneme events give each phoneme's position in the audio)
# ---------------------------------------------------------------------------------------------


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p),
                ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):  # espeak_EVENT in speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int), ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p), ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_EVENT_END_OF_LIST, _EVENT_PHONEME = 0, 7
_OUTPUT_SYNCHRONOUS, _INIT_PHONEME_EVENTS, _INIT_DONT_EXIT = 2, 0x0001, 0x8000
_VOWEL_START = tuple("aeiouAEIOUV03@")


@dataclass
class Utterance:
    samples: npt.NDArray[np.float64]
    rate: int
    phonemes: list[tuple[str, float]]  # (espeak phoneme mnemonic, start in seconds)


class Espeak:
    """Synthesis with phoneme timing through libespeak-ng (one instance per process)."""

    _lock = threading.Lock()
    _instance: Espeak | None = None

    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self.lib = ctypes.CDLL(name)
        except OSError as exc:
            raise RuntimeError(
                "the lip-sync timing evaluation needs espeak-ng (Debian package espeak-ng; "
                f"scripts/install-system-deps.sh installs it): {exc}"
            ) from None
        self.rate = int(self.lib.espeak_Initialize(
            _OUTPUT_SYNCHRONOUS, 0, None, _INIT_PHONEME_EVENTS | _INIT_DONT_EXIT
        ))
        if self.rate <= 0:
            raise RuntimeError("espeak-ng failed to initialise (espeak-ng-data missing?)")
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        self.lib.espeak_Info.restype = ctypes.c_char_p
        self.version = (self.lib.espeak_Info(None) or b"").decode()
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._events: list[tuple[str, float]] = []
        self._callback = _CALLBACK(self._receive)  # kept alive as long as the library uses it
        self.lib.espeak_SetSynthCallback(self._callback)
        if self.lib.espeak_SetVoiceByName(VOICE) != 0:
            raise RuntimeError(f"espeak-ng has no voice {VOICE.decode()!r}")

    @classmethod
    def get(cls) -> Espeak:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _receive(self, wav: Any, count: int, events: Any) -> int:
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        index = 0
        while events[index].type != _EVENT_END_OF_LIST:
            event = events[index]
            if event.type == _EVENT_PHONEME:
                self._events.append((event.id.string.decode("ascii", "replace"),
                                     event.audio_position / 1000))
            index += 1
        return 0

    def say(self, text: str) -> Utterance:
        with self._lock:
            self._chunks, self._events = [], []
            data = text.encode("utf-8") + b"\0"
            status = self.lib.espeak_Synth(data, len(data), 0, 1, 0, 0, None, None)
            self.lib.espeak_Synchronize()
            if status != 0:
                raise RuntimeError(f"espeak-ng could not synthesise {text!r} (error {status})")
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            return Utterance(samples.astype(np.float64) / 32768, self.rate, list(self._events))


# ---------------------------------------------------------------------------------------------
# Building a test clip with known timing
# ---------------------------------------------------------------------------------------------


@dataclass
class Clip:
    samples: npt.NDArray[np.float64]
    rate: int
    text: str
    words: list[tuple[float, float]]  # audible span of each word, seconds
    vowels: list[tuple[float, float]]

    @property
    def seconds(self) -> float:
        return self.samples.size / self.rate


def make_clip(
    sentence: str, rng: np.random.Generator, espeak: Espeak, noise_rms: float = NOISE_RMS
) -> Clip:
    pieces: list[npt.NDArray[np.float64]] = []
    words, vowels = [], []
    clock = LEAD
    pieces.append(np.zeros(round(LEAD * espeak.rate)))
    tokens = sentence.split()
    for index, token in enumerate(tokens):
        word = token.strip(".,!?;:")
        spoken = espeak.say(word)
        loud = np.flatnonzero(np.abs(spoken.samples) > TRIM_LEVEL)
        if loud.size == 0:
            continue
        first, last = int(loud[0]), int(loud[-1]) + 1
        audio = spoken.samples[first:last]
        begin, end = first / spoken.rate, last / spoken.rate
        marks = [(name, t) for name, t in spoken.phonemes if name and not name.startswith("_")]
        for k, (name, start) in enumerate(marks):
            stop = marks[k + 1][1] if k + 1 < len(marks) else end
            if name.startswith(_VOWEL_START):
                lo, hi = max(start, begin), min(stop, end)
                if hi > lo:
                    vowels.append((clock + lo - begin, clock + hi - begin))
        words.append((clock, clock + audio.size / spoken.rate))
        pieces.append(audio)
        clock += audio.size / spoken.rate
        if index + 1 < len(tokens):
            span = (SENTENCE_GAP if token[-1] in ".!?" else CLAUSE_GAP if token[-1] in ",;:"
                    else WORD_GAP)
            gap = round(float(rng.uniform(*span)) * espeak.rate)
            pieces.append(np.zeros(gap))
            clock += gap / espeak.rate
    pieces.append(np.zeros(round(TAIL * espeak.rate)))
    samples = np.concatenate(pieces)
    samples = samples + rng.normal(0, noise_rms, samples.size)
    return Clip(np.clip(samples, -1, 1), espeak.rate, sentence, words, vowels)


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


def _inside(fps: float, frames: int, spans: list[tuple[float, float]]) -> list[int]:
    """Frames whose whole window lies inside one of the spans."""
    out = []
    for start, end in spans:
        first = int(np.ceil(start * fps - 1e-9))
        last = int(np.floor(end * fps + 1e-9))  # exclusive
        out += [k for k in range(first, last) if 0 <= k < frames]
    return out


def _silences(clip: Clip) -> list[tuple[float, float]]:
    edges = [0.0] + [t for span in clip.words for t in span] + [clip.seconds]
    return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]


def _share(values: list[bool]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def _score(track: Track, clip: Clip, fps: float) -> tuple[list[bool], list[bool]]:
    shapes = frame_shapes(track, fps)
    silent = [shapes[k] == "X" for k in _inside(fps, len(shapes), _silences(clip))]
    vowel = [shapes[k] not in CLOSED_SHAPES for k in _inside(fps, len(shapes), clip.vowels)]
    return silent, vowel


def _warped_agreement(text: Track, speech: Track) -> tuple[list[bool], list[bool]]:
    """Text-driver shapes stretched word by word onto the aligned speech, compared at 100 fps."""
    same: list[bool] = []
    same_class: list[bool] = []
    if len(text.words) != len(speech.words):
        return same, same_class
    text_frames = frame_shapes(text, 100)
    speech_frames = frame_shapes(speech, 100)
    for tw, sw in zip(text.words, speech.words, strict=True):
        first, last = round(sw.start * 100), round(sw.end * 100)
        for k in range(first, min(last, len(speech_frames))):
            t = (k + 0.5) / 100
            mapped = tw.start + (t - sw.start) * (tw.end - tw.start) / max(sw.end - sw.start, 1e-6)
            a = text_frames[min(int(mapped * 100), len(text_frames) - 1)]
            b = speech_frames[k]
            same.append(a == b)
            same_class.append((a in CLOSED_SHAPES) == (b in CLOSED_SHAPES))
    return same, same_class


def evaluate_timing(
    sentences: int = 20, seed: int = 0, noise_rms: float = NOISE_RMS
) -> dict[str, Any]:
    """The timing and speed figures of the module docstring, as JSON-able numbers.

    ``noise_rms`` sets the noise floor under the clips (the default is about -60 dBFS; 0.01
    is a noisy -40 dBFS take)."""
    import soundfile

    if not 1 <= int(sentences) <= 200:
        raise ValueError("sentences must be from 1 to 200")
    rng = np.random.default_rng(seed)
    count = int(sentences)
    order = (rng.permutation(len(SENTENCES))[:count] if count <= len(SENTENCES)
             else rng.choice(len(SENTENCES), count))
    espeak = Espeak.get()
    dictionary.cache_clear()
    started = time.perf_counter()
    dictionary()
    dictionary_load = time.perf_counter() - started
    methods = ("align", "phones", "loudness")
    silent: dict[str, list[bool]] = {m: [] for m in methods}
    vowel: dict[str, list[bool]] = {m: [] for m in methods}
    silent_raw: dict[str, list[bool]] = {m: [] for m in methods}
    vowel_raw: dict[str, list[bool]] = {m: [] for m in methods}
    busy = {m: 0.0 for m in methods + ("text",)}
    cold: dict[str, float] = {}
    fallbacks = 0
    agree: list[bool] = []
    agree_class: list[bool] = []
    phones_agree: list[bool] = []
    phones_agree_class: list[bool] = []
    boundary_errors: list[float] = []
    audio_seconds = text_seconds = text_word_seconds = clip_word_seconds = 0.0
    words = 0
    with tempfile.TemporaryDirectory(prefix="lipsync-eval-") as folder:
        for number, index in enumerate(order.tolist()):
            clip = make_clip(SENTENCES[index], rng, espeak, noise_rms)
            path = Path(folder) / f"line{number}.wav"
            soundfile.write(path, clip.samples, clip.rate, subtype="PCM_16")
            audio_seconds += clip.seconds
            words += len(clip.words)
            tracks = {}
            for method in methods:
                text = clip.text if method == "align" else ""
                if method not in cold:
                    started = time.perf_counter()
                    audio_track(path, text=text, method="auto" if text else method)
                    cold[method] = time.perf_counter() - started
                started = time.perf_counter()
                track = audio_track(path, text=text, method="auto" if text else method)
                busy[method] += time.perf_counter() - started
                tracks[method] = track
                a, b = _score(smooth(track, fps=FPS), clip, FPS)
                silent[method] += a
                vowel[method] += b
                a, b = _score(track, clip, 100)
                silent_raw[method] += a
                vowel_raw[method] += b
            aligned = tracks["align"]
            if aligned.method != "align":
                fallbacks += 1
            else:
                for (true_start, true_end), word in zip(clip.words, aligned.words, strict=False):
                    boundary_errors += [abs(word.start - true_start), abs(word.end - true_end)]
            if "text" not in cold:
                started = time.perf_counter()
                text_track(clip.text)
                cold["text"] = time.perf_counter() - started
            started = time.perf_counter()
            spoken_text = text_track(clip.text)
            busy["text"] += time.perf_counter() - started
            text_seconds += spoken_text.duration
            text_word_seconds += sum(w.end - w.start for w in spoken_text.words)
            clip_word_seconds += sum(end - start for start, end in clip.words)
            a, b = _warped_agreement(spoken_text, aligned)
            agree += a
            agree_class += b
            p = frame_shapes(tracks["phones"], 100)
            q = frame_shapes(aligned, 100)
            phones_agree += [x == y for x, y in zip(p, q, strict=True)]
            phones_agree_class += [
                (x in CLOSED_SHAPES) == (y in CLOSED_SHAPES) for x, y in zip(p, q, strict=True)
            ]
    errors = np.array(boundary_errors) * 1000 if boundary_errors else np.zeros(1)
    result: dict[str, Any] = {
        "sentences": count,
        "seed": seed,
        "noise_dbfs": round(20 * float(np.log10(noise_rms)), 1) if noise_rms > 0 else None,
        "words": words,
        "audio_seconds": round(audio_seconds, 2),
        "espeak_ng": espeak.version,
        "fps": FPS,
        "min_hold": DEFAULT_MIN_HOLD,
        "silent_frames": len(silent["align"]),
        "vowel_frames": len(vowel["align"]),
        "methods": {
            method: {
                "silence_x": _share(silent[method]),
                "vowel_open": _share(vowel[method]),
                "silence_x_raw": _share(silent_raw[method]),
                "vowel_open_raw": _share(vowel_raw[method]),
                "x_realtime": round(audio_seconds / busy[method], 1),
                "cold_start_s": round(cold[method], 3),
            }
            for method in methods
        },
        "alignment_fallbacks": fallbacks,
        "word_boundary_error_ms": {
            "median": round(float(np.median(errors)), 1),
            "p90": round(float(np.percentile(errors, 90)), 1),
        },
        "text": {
            "x_realtime": round(text_seconds / busy["text"], 1),
            "cold_start_s": round(cold["text"], 3),
            "dictionary_load_s": round(dictionary_load, 3),
            "word_seconds_vs_speech": round(text_word_seconds / clip_word_seconds, 3),
        },
        "text_vs_speech": {"same_shape": _share(agree), "same_open_closed": _share(agree_class)},
        "phones_vs_align": {
            "same_shape": _share(phones_agree), "same_open_closed": _share(phones_agree_class),
        },
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=NOISE_RMS,
                        help="RMS of the noise floor under the clips (full scale 1)")
    args = parser.parse_args(argv)
    json.dump(evaluate_timing(args.sentences, args.seed, args.noise), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
