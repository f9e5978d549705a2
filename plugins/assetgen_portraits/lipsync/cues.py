"""Rhubarb Lip Sync cue files: read them (JSON or TSV) and write them.

JSON: ``{"metadata": {"soundFile": ..., "duration": ...}, "mouthCues": [{"start", "end",
"value"}, ...]}``. TSV: one ``<seconds>\\t<shape>`` line per cue start; the last line's time
is the end of the recording (Rhubarb writes X, or A without X, there). Times are written with
two decimals, as Rhubarb does, and read onto the same 10 ms grid; a cue that rounds to no
length is dropped, gaps between cues are rest (X).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from assetgen import InvalidOptionsError

from .shapes import (
    MAX_SECONDS,
    SHAPES,
    Cue,
    Track,
    build_cues,
    path_error,
    regular_file_size,
    ticks,
)

#: Largest cue file read (a 60 s track at 100 cues a second is ~0.3 MB of JSON).
MAX_CUE_BYTES = 2 * 1024 * 1024
#: Most cues in one file (one per 10 ms over the longest track).
MAX_CUES = int(MAX_SECONDS * 100)


#: what the ``cues`` option reads, for its errors
CUES_EXPECTED = (
    'a Rhubarb Lip Sync cue file: JSON ({"mouthCues": [{"start", "end", "value"}]}) or TSV '
    f"(lines '<seconds>\\t<shape>'), shapes {''.join(SHAPES)}, at most {MAX_SECONDS:g} s"
)


def _error(path: Any, reason: str) -> InvalidOptionsError:
    return path_error("cues", path, reason, CUES_EXPECTED)


def _read_text(path: Any) -> tuple[Path, str]:
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes) or str(path) == "":
        raise InvalidOptionsError(
            "option 'cues' must be a path to a Rhubarb JSON or TSV cue file; "
            f"got {path!r}"[:200],
            parameter="cues",
            value=path,
        )
    file = Path(path)
    size = regular_file_size(file, _error)
    if size > MAX_CUE_BYTES:
        raise _error(file, f"the file is {size} bytes, more than {MAX_CUE_BYTES}")
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _error(file, "not UTF-8 text") from None
    except OSError as exc:
        raise _error(file, f"cannot read it ({exc.strerror or exc})") from None
    if not text.strip():
        raise _error(file, "the file is empty")
    return file, text


def _time(value: Any, where: str, file: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(file, f"{where} is {value!r}, not a number of seconds"[:300])
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise _error(file, f"{where} is {value!r}; times must be finite and not negative")
    if number > MAX_SECONDS + 0.005:
        raise _error(file, f"{where} is {number:g} s, past the {MAX_SECONDS:g} s limit")
    return number


def _shape(value: Any, where: str, file: Path) -> str:
    if not isinstance(value, str) or value.strip().upper() not in SHAPES:
        raise _error(file, f"{where} is {value!r}, not a mouth shape ({', '.join(SHAPES)})"[:300])
    return value.strip().upper()


def _track(
    file: Path, raw: list[tuple[float, float, str]], duration: float | None, method: str,
    sound_file: str,
) -> Track:
    """Checked (start, end, shape) in file order -> a track on the 10 ms grid."""
    if not raw:
        raise _error(file, "it has no mouth cues")
    if len(raw) > MAX_CUES:
        raise _error(file, f"it has {len(raw)} cues, more than {MAX_CUES}")
    previous_start, previous_end = 0.0, 0.0
    for number, (start, end, _) in enumerate(raw, 1):
        if end <= start:
            raise _error(file, f"cue {number} ends ({end:g} s) before it starts ({start:g} s)")
        if start < previous_start:
            raise _error(file, f"cue {number} starts at {start:g} s, before the cue before it: "
                         "cues must be in time order")
        if start < previous_end - 0.005:
            raise _error(file, f"cue {number} starts at {start:g} s, before the cue before it "
                         f"ends ({previous_end:g} s): cues must not overlap")
        previous_start, previous_end = start, end
    total = ticks(previous_end)
    if duration is not None:
        if duration < previous_end - 0.01:
            raise _error(file, f"its duration ({duration:g} s) ends before its last cue "
                         f"({previous_end:g} s)")
        total = max(total, ticks(duration))
    if total < 1:
        raise _error(file, "its cues last less than 10 ms")
    segments = [(shape, ticks(start), ticks(end)) for start, end, shape in raw]
    return Track(cues=build_cues(segments, total), duration=total / 100, source="cues",
                 method=method, sound_file=sound_file)


def _from_json(file: Path, text: str) -> Track:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(file, f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise _error(file, "not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict) or not isinstance(data.get("mouthCues"), list):
        raise _error(file, "the JSON has no \"mouthCues\" list")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise _error(file, "\"metadata\" is not an object")
    duration = None
    if metadata.get("duration") is not None:
        duration = _time(metadata["duration"], "metadata.duration", file)
    sound = metadata.get("soundFile", "")
    if not isinstance(sound, str):
        raise _error(file, "metadata.soundFile is not a string")
    cues = data["mouthCues"]
    if len(cues) > MAX_CUES:
        raise _error(file, f"it has {len(cues)} cues, more than {MAX_CUES}")
    raw = []
    for number, cue in enumerate(cues, 1):
        if not isinstance(cue, dict) or not {"start", "end", "value"} <= cue.keys():
            raise _error(file, f"cue {number} is not an object with start, end and value")
        raw.append((
            _time(cue["start"], f"cue {number} start", file),
            _time(cue["end"], f"cue {number} end", file),
            _shape(cue["value"], f"cue {number} value", file),
        ))
    return _track(file, raw, duration, "rhubarb-json", Path(sound).name if sound else "")


def _from_tsv(file: Path, text: str) -> Track:
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) != 2:
            raise _error(file, f"line {number} is {line[:40]!r}, not '<seconds>\\t<shape>'")
        try:
            value: Any = float(fields[0])
        except ValueError:
            value = fields[0]
        lines.append((_time(value, f"line {number} time", file),
                      _shape(fields[1], f"line {number} shape", file), number))
        if len(lines) > MAX_CUES + 1:
            raise _error(file, f"it has more than {MAX_CUES} cues")
    if len(lines) < 2:
        raise _error(file, "a TSV cue file needs at least two lines (a cue, then the end time)")
    raw = []
    for (start, shape, number), (end, _, _) in zip(lines, lines[1:], strict=False):
        if end < start:
            raise _error(file, f"line {number + 1} goes back in time ({end:g} s after "
                         f"{start:g} s): lines must be in time order")
        if end > start:
            raw.append((start, end, shape))
    return _track(file, raw, None, "rhubarb-tsv", "")


def read_cues(path: str | Path) -> Track:
    """Read a Rhubarb JSON or TSV cue file (told apart by content: JSON starts with ``{``)."""
    file, text = _read_text(path)
    if text.lstrip().startswith("{"):
        return _from_json(file, text)
    return _from_tsv(file, text)


def _grid(track: Track) -> tuple[Cue, ...]:
    total = max(1, ticks(track.duration))
    segments = [(cue.shape, ticks(cue.start), ticks(cue.end)) for cue in track.cues]
    return build_cues(segments, total)


def to_rhubarb_json(track: Track, sound_file: str = "") -> str:
    """The track as Rhubarb's JSON (two-decimal times, contiguous cues, gaps as X)."""
    cues = _grid(track)
    lines = [
        "{",
        '  "metadata": {',
        f'    "soundFile": {json.dumps(sound_file or track.sound_file)},',
        f'    "duration": {cues[-1].end:.2f}',
        "  },",
        '  "mouthCues": [',
    ]
    body = [
        f'    {{ "start": {cue.start:.2f}, "end": {cue.end:.2f}, "value": "{cue.shape}" }}'
        for cue in cues
    ]
    lines.append(",\n".join(body))
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def to_rhubarb_tsv(track: Track) -> str:
    """The track as Rhubarb's TSV: each cue's start and shape, then the end time with X."""
    cues = _grid(track)
    lines = [f"{cue.start:.2f}\t{cue.shape}" for cue in cues]
    lines.append(f"{cues[-1].end:.2f}\tX")
    return "\n".join(lines) + "\n"
