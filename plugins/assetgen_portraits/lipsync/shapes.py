"""Mouth shapes, cue tracks, and the phone -> shape table every driver shares.

Times in a :class:`Track` are seconds on a 10 ms grid (Rhubarb writes two decimals, and
pocketsphinx works in 10 ms frames), so a track written as a Rhubarb file and read back is
the same track. Builders work in whole centiseconds and convert once, at the end.
"""

from __future__ import annotations

import csv
import math
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from assetgen import InvalidOptionsError

#: The nine Rhubarb mouth shapes: six basic ones (A-F) and the extended G (F/V), H (L) and
#: X (rest).
SHAPES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "X")
#: The shapes a track uses when the extended shapes are off (``extended=False``). X stays:
#: a face at rest is always drawable.
BASIC_SHAPES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "X")
#: What an extended shape becomes when extended shapes are off: G (upper teeth on the lower
#: lip) is nearly closed with teeth showing, like B; H (tongue raised for L) is open about as
#: far as C.
BASIC_EQUIVALENT: dict[str, str] = {"G": "B", "H": "C"}
#: Shapes with the lips together: the rest of the mouth shapes count as "open".
CLOSED_SHAPES = frozenset({"A", "X"})

#: Where a track's cues came from.
SOURCES = ("text", "speech", "loudness", "cues")

#: Longest track any driver makes or reads, in seconds (the same limit as the audio driver
#: of the openness curves, :data:`assetgen_portraits.drivers.MAX_AUDIO_SECONDS`).
MAX_SECONDS = 60.0
#: Time grid of a track, in seconds.
TICK = 0.01


def ticks(seconds: float) -> int:
    """Seconds to whole centiseconds (nearest)."""
    return int(math.floor(seconds * 100 + 0.5))


@dataclass(frozen=True)
class Cue:
    """One mouth shape held from ``start`` to ``end`` (seconds)."""

    start: float
    end: float
    shape: str

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"Cue shape must be one of {', '.join(SHAPES)}; got {self.shape!r}")
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError(f"Cue times must be finite; got {self.start!r}, {self.end!r}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"Cue needs 0 <= start < end; got {self.start!r}, {self.end!r}")

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Word:
    """A spoken word and when it is said (seconds)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Phone:
    """An ARPAbet phone (or ``SIL``) and when it is said (seconds)."""

    name: str
    start: float
    end: float


@dataclass(frozen=True)
class Track:
    """A mouth-shape track: cues in time order covering ``[0, duration]``.

    ``source`` says which driver made it (:data:`SOURCES`); ``method`` how (``rules``,
    ``align``, ``phones``, ``loudness``, ``rhubarb-json``, ``rhubarb-tsv``...), ``note`` anything
    the caller should know (a failed alignment, a silent clip). ``words`` and
    ``phones`` are the timed words and phones behind the cues, when the driver knows them.
    Gaps between cues, if a caller builds a track with some, show as X.
    """

    cues: tuple[Cue, ...]
    duration: float
    source: str
    sound_file: str = ""
    method: str = ""
    note: str = ""
    extended: bool = True
    words: tuple[Word, ...] = ()
    phones: tuple[Phone, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"Track source must be one of {', '.join(SOURCES)}")
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise ValueError(f"Track duration must be positive; got {self.duration!r}")
        previous = 0.0
        for cue in self.cues:
            if cue.start < previous - 1e-9:
                raise ValueError("Track cues must be sorted and must not overlap")
            previous = cue.end
        if previous > self.duration + 1e-9:
            raise ValueError("Track cues must end by the track's duration")

    @property
    def shapes(self) -> tuple[str, ...]:
        return tuple(cue.shape for cue in self.cues)


# ---------------------------------------------------------------------------------------------
# Phone table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhoneInfo:
    phone: str
    kind: str  # vowel | diphthong | consonant | silence
    shape: str  # a shape, "P>Q" (glide) or "*" (shape of the next vowel)
    ms: int

    @property
    def syllabic(self) -> bool:
        return self.kind in ("vowel", "diphthong")


#: Share of a glide (``P>Q``) shown as its first shape.
GLIDE_SPLIT = 0.6


@cache
def phone_table() -> dict[str, PhoneInfo]:
    """The phone -> shape table (``phonemes.csv`` next to this module)."""
    text = resources.files(__package__).joinpath("phonemes.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    table = {}
    for row in rows:
        info = PhoneInfo(row["phone"], row["kind"], row["shape"], int(row["ms"]))
        table[info.phone] = info
    return table


def base_phone(name: str) -> str:
    """``AH0``/``ah`` -> ``AH``; fillers and noise (``+NSN+``, ``<sil>``...) -> ``SIL``."""
    name = name.strip().upper().rstrip("012")
    return name if name in phone_table() else "SIL"


def restrict(shape: str, extended: bool) -> str:
    """The shape to show when the extended shapes G and H are off."""
    return shape if extended else BASIC_EQUIVALENT.get(shape, shape)


def phone_segments(
    phones: Sequence[tuple[str, int, int]], extended: bool = True
) -> list[tuple[str, int, int]]:
    """Timed phones (name, start tick, end tick) -> timed shapes (shape, start, end).

    Glides split at :data:`GLIDE_SPLIT`; ``*`` (HH) takes the shape of the next phone when it
    is a vowel that follows without a gap, else B.
    """
    table = phone_table()
    out: list[tuple[str, int, int]] = []
    for index, (name, start, end) in enumerate(phones):
        if end <= start:
            continue
        info = table[base_phone(name)]
        shape = info.shape
        if shape == "*":
            shape = "B"
            if index + 1 < len(phones):
                following = table[base_phone(phones[index + 1][0])]
                if following.syllabic and phones[index + 1][1] == end:
                    shape = following.shape.split(">")[0]
        if ">" in shape:
            first, second = shape.split(">")
            middle = start + max(1, round((end - start) * GLIDE_SPLIT))
            if middle < end:
                out.append((restrict(first, extended), start, middle))
                out.append((restrict(second, extended), middle, end))
                continue
            shape = first
        out.append((restrict(shape, extended), start, end))
    return out


def build_cues(segments: Iterable[tuple[str, int, int]], total: int) -> tuple[Cue, ...]:
    """Shapes on a tick grid -> contiguous cues from 0 to ``total`` ticks.

    Later segments win where segments overlap; uncovered time is X; equal neighbours merge.
    """
    grid = ["X"] * total
    for shape, start, end in segments:
        for tick in range(max(0, start), min(total, end)):
            grid[tick] = shape
    cues: list[Cue] = []
    begin = 0
    for tick in range(1, total + 1):
        if tick == total or grid[tick] != grid[begin]:
            cues.append(Cue(begin / 100, tick / 100, grid[begin]))
            begin = tick
    return tuple(cues)


def merge_equal(cues: Iterable[Cue]) -> tuple[Cue, ...]:
    """Join neighbouring cues with the same shape (and no gap between them)."""
    out: list[Cue] = []
    for cue in cues:
        if out and out[-1].shape == cue.shape and abs(out[-1].end - cue.start) < 1e-9:
            out[-1] = Cue(out[-1].start, cue.end, cue.shape)
        else:
            out.append(cue)
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Option checks shared by the drivers
# ---------------------------------------------------------------------------------------------


def path_error(option: str, path: Any, reason: str, expected: str) -> InvalidOptionsError:
    """The error for a file option (``audio``, ``cues``) whose file cannot be used: the option,
    the path, why not (``reason``) and what the option reads (``expected``)."""
    return InvalidOptionsError(
        f"option '{option}': cannot use {str(path)!r}: {reason}. Expected {expected}",
        parameter=option,
        value=str(path),
    )


def regular_file_size(file: Path, error: Callable[[Path, str], Exception]) -> int:
    """The size in bytes of ``file``, a regular file that can be looked at; else
    ``error(file, reason)`` is raised (no such file, cannot read it, a directory, not a regular
    file). The audio and cue-file options check their paths with it."""
    try:
        info = file.stat()
    except FileNotFoundError:
        raise error(file, "no such file") from None
    except OSError as exc:
        raise error(file, f"cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(file, "it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise error(file, "not a regular file")
    return info.st_size


def check_number(
    value: Any, name: str, low: float, high: float, what: str, *, low_open: bool = False
) -> float:
    """A finite real number in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    bracket = "(" if low_open else "["
    allowed = f"a number in {bracket}{low:g}, {high:g}] ({what})"
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            import numpy as np

            ok = isinstance(value, np.integer | np.floating)
        except ImportError:  # pragma: no cover - numpy is a core dependency
            ok = False
        if not ok:
            raise InvalidOptionsError(
                f"option '{name}' must be {allowed}; got {type(value).__name__}",
                parameter=name,
                value=value,
            )
    number = float(value)
    inside = (low < number if low_open else low <= number) and number <= high
    if not (math.isfinite(number) and inside):
        raise InvalidOptionsError(
            f"option '{name}' must be {allowed}; got {value!r}", parameter=name, value=value
        )
    return number
