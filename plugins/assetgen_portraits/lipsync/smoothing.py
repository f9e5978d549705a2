"""Smoothing a cue track, and sampling it into animation frames.

:func:`smooth` applies three rules until none applies (so smoothing twice changes nothing):

1. **Minimum hold.** A cue shorter than ``min_hold`` merges into a neighbour: a speech shape
   into its shorter speaking neighbour (ties: the one before), a short rest (X) between two
   speech shapes into the shorter of them. A speech shape with only rest around it (a lone
   short syllable) is lengthened instead, taking the time from the rest after it, then before
   it. The rest at the very start and end of a track may be shorter (a line may start at once).
2. **No single-frame flicker** (with ``fps``). When, at that frame rate, one frame shows a
   shape between two frames of another same shape (B C B), the cue behind the odd frame
   merges into its neighbour of that shape.
3. **Rest is silence.** Rest (X) at least ``min_hold`` long is never removed by rule 1 (only
   trimmed to lengthen a lone short syllable), so pauses stay X; rest never grows into
   speech, except by rule 2 at low frame rates.

Frame ``k`` at ``fps`` frames per second shows the shape that covers most of its window
``[k / fps, (k + 1) / fps)`` (ties: the earlier cue); time past the track's end is X.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from assetgen import check_int

from .shapes import Cue, Track, build_cues, check_number, ticks

#: Default minimum hold, in seconds (between one and two frames at 24-30 fps).
DEFAULT_MIN_HOLD = 0.06
MAX_MIN_HOLD = 0.5
#: Frame rates :func:`smooth` and :func:`frame_shapes` accept.
FPS_MIN = 1.0
FPS_MAX = 120.0
#: Most frames :func:`frame_shapes` returns (the longest track at the highest frame rate).
MAX_SHAPE_FRAMES = 7200


def check_fps(fps: Any) -> float:
    return check_number(fps, "fps", FPS_MIN, FPS_MAX, "frames per second")


def _filled(track: Track) -> list[list[Any]]:
    """[shape, start tick, end tick] covering the whole track, gaps as X, equal ones merged."""
    total = max(1, ticks(track.duration))
    segments = [(cue.shape, ticks(cue.start), ticks(cue.end)) for cue in track.cues]
    return [[c.shape, ticks(c.start), ticks(c.end)] for c in build_cues(segments, total)]


def _merge_equal(cues: list[list[Any]]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for cue in cues:
        if cue[2] <= cue[1]:
            continue
        if out and out[-1][0] == cue[0]:
            out[-1][2] = cue[2]
        else:
            out.append(list(cue))
    return out


def _absorb(cues: list[list[Any]], index: int, into: int) -> list[list[Any]]:
    """Cue ``index`` becomes part of its neighbour ``into``."""
    cue, other = cues[index], cues[into]
    other[1], other[2] = min(other[1], cue[1]), max(other[2], cue[2])
    del cues[index]
    return _merge_equal(cues)


def _hold_step(cues: list[list[Any]], hold: float) -> list[list[Any]] | None:
    """Fix the shortest cue under ``hold`` ticks; None when every cue is long enough."""
    last = len(cues) - 1
    short = [
        i for i, (shape, start, end) in enumerate(cues)
        if end - start < hold - 1e-9 and last > 0 and not (shape == "X" and i in (0, last))
    ]
    if not short:
        return None
    index = min(short, key=lambda i: (cues[i][2] - cues[i][1], i))
    shape = cues[index][0]
    around = [i for i in (index - 1, index + 1) if 0 <= i <= last]
    speaking = [i for i in around if cues[i][0] != "X"]
    if speaking:
        into = min(speaking, key=lambda i: (cues[i][2] - cues[i][1], i))
        return _absorb(cues, index, into)
    if shape == "X":  # pragma: no cover - a rest cue between rests was merged already
        return _absorb(cues, index, around[0])
    # a lone speech shape among rest: lengthen it, first into the rest after it
    need = math.ceil(hold - 1e-9) - (cues[index][2] - cues[index][1])
    for neighbour in (index + 1, index - 1):
        if need <= 0 or not 0 <= neighbour <= last:
            continue
        rest = cues[neighbour]
        take = min(need, rest[2] - rest[1])
        if neighbour > index:
            cues[index][2] += take
            rest[1] += take
        else:
            cues[index][1] -= take
            rest[2] -= take
        need -= take
    return _merge_equal(cues)


def _frame_indices(cues: list[list[Any]], fps: float, frames: int) -> list[int]:
    """For each frame, the index of the cue shown (-1: past the end)."""
    shown = []
    position = 0
    for k in range(frames):
        lo, hi = k / fps * 100, (k + 1) / fps * 100
        while position < len(cues) and cues[position][2] <= lo:
            position += 1
        best, best_overlap = -1, 0.0
        j = position
        while j < len(cues) and cues[j][1] < hi:
            overlap = min(hi, cues[j][2]) - max(lo, cues[j][1])
            if overlap > best_overlap + 1e-9:
                best, best_overlap = j, overlap
            j += 1
        shown.append(best)
    return shown


def _flicker_step(cues: list[list[Any]], fps: float) -> list[list[Any]] | None:
    total = cues[-1][2]
    frames = max(1, math.floor(total / 100 * fps + 0.5))
    shown = _frame_indices(cues, fps, frames)
    shapes = [cues[i][0] if i >= 0 else "X" for i in shown]
    for k in range(1, frames - 1):
        if shapes[k - 1] == shapes[k + 1] != shapes[k] and shown[k] >= 0:
            index = shown[k]
            around = [i for i in (index - 1, index + 1) if 0 <= i < len(cues)]
            matching = [i for i in around if cues[i][0] == shapes[k - 1]]
            return _absorb(cues, index, (matching or around)[0])
    return None


def smooth(track: Track, *, min_hold: float = DEFAULT_MIN_HOLD, fps: float | None = None
           ) -> Track:
    """The track with the smoothing rules of the module docstring applied (idempotent)."""
    hold = check_number(min_hold, "min_hold", 0.0, MAX_MIN_HOLD, "seconds") * 100
    rate = None if fps is None else check_fps(fps)
    cues = _merge_equal(_filled(track))
    for _ in range(100_000):
        step = _hold_step(cues, hold)
        if step is None and rate is not None:
            step = _flicker_step(cues, rate)
        if step is None:
            break
        cues = step
    out = tuple(Cue(start / 100, end / 100, shape) for shape, start, end in cues)
    return replace(track, cues=out, duration=cues[-1][2] / 100)


def track_frames(track: Track, fps: float) -> int:
    """Frames the track lasts at ``fps``: ``round(duration * fps)`` (halves up), at least 1."""
    rate = check_fps(fps)
    return max(1, math.floor(track.duration * rate + 0.5))


def frame_shapes(track: Track, fps: float, frames: int | None = None) -> list[str]:
    """The shape shown on each frame (module docstring); ``frames`` pads with X or cuts."""
    rate = check_fps(fps)
    if frames is None:
        count = track_frames(track, rate)
    else:
        count = check_int("frames", frames, 1, MAX_SHAPE_FRAMES, option=True)
    cues = _filled(track)
    return [cues[i][0] if i >= 0 else "X" for i in _frame_indices(cues, rate, count)]


#: In-between shapes: where the mouth jumps from one shape straight to a far one, one frame of
#: a shape between them (a closed mouth to wide open goes through open; puckered to wide open
#: through the small round mouth). Blending the two mouths' drawings instead draws both.
TWEENS = {
    frozenset({"A", "D"}): "C",
    frozenset({"X", "D"}): "C",
    frozenset({"F", "D"}): "E",
}
#: A shape gives up its frame next to the jump only when it shows for at least this many.
TWEEN_DONOR_FRAMES = 3


def tween(track: Track, fps: float) -> Track:
    """The track with one in-between frame (:data:`TWEENS`) where, at ``fps``, the shown
    shape jumps between two far shapes. The frame is taken from the side that shows longer,
    when it shows for at least :data:`TWEEN_DONOR_FRAMES` frames, so no shape is cut below two
    frames; the in-between cue covers that frame's window. Idempotent at the same ``fps``."""
    rate = check_fps(fps)
    cues = _filled(track)
    count = track_frames(track, rate)
    shapes = [cues[i][0] if i >= 0 else "X" for i in _frame_indices(cues, rate, count)]
    runs = []  # [shape, first frame, end frame)
    for k, shape in enumerate(shapes):
        if runs and runs[-1][0] == shape:
            runs[-1][2] = k + 1
        else:
            runs.append([shape, k, k + 1])
    marked: list[tuple[int, str]] = []
    for before, after in zip(runs, runs[1:], strict=False):
        middle = TWEENS.get(frozenset((before[0], after[0])))
        if middle is None:
            continue
        long_before = before[2] - before[1] >= after[2] - after[1]
        donor = before if long_before else after
        if donor[2] - donor[1] < TWEEN_DONOR_FRAMES:
            continue
        frame = before[2] - 1 if long_before else after[1]
        # a donor run shared by two jumps gives one frame at each end
        if donor[2] - donor[1] - sum(1 for f, _ in marked if donor[1] <= f < donor[2]) < 3:
            continue
        marked.append((frame, middle))
    if not marked:
        return track
    segments = [(c[0], c[1], c[2]) for c in cues]
    for frame, middle in marked:
        start = math.floor(frame * 100 / rate + 0.5)
        end = math.floor((frame + 1) * 100 / rate + 0.5)
        segments.append((middle, start, max(end, start + 1)))
    out = build_cues(segments, cues[-1][2])
    return replace(track, cues=out)
