"""Timing helpers, result rows and the table: shared by every benchmark of the suite.

Every comparison is measured *side by side*: the variants of one figure run in alternating
batches (the order rotating each repetition), so that other work on the machine slows all of
them alike, and each ratio is the median over repetitions of the ratio within one repetition.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: Pause between timed batches (not timed): lets the thread pools of the variant that just ran
#: (ONNX Runtime workers spin after a run, OpenMP's too) go idle before the next one starts.
SETTLE_S = 0.05


@dataclass(frozen=True)
class Settings:
    """How hard to measure: ``--quick`` trades precision for time."""

    quick: bool
    reps: int  # repetitions of every side-by-side batch (medians are over these)
    batch_s: float  # seconds one timed batch aims for
    export_count: int  # portraits written by the batch-export benchmark
    device: str = "cpu"

    @classmethod
    def make(
        cls,
        quick: bool,
        reps: int | None = None,
        export_count: int | None = None,
        device: str = "cpu",
        batch_s: float | None = None,
    ) -> Settings:
        return cls(
            quick=quick,
            reps=reps or (3 if quick else 7),
            batch_s=batch_s or (0.15 if quick else 0.4),
            export_count=export_count or (200 if quick else 2000),
            device=device,
        )


@dataclass
class Row:
    """One line of the table: a figure, its value, and its target if it has one."""

    item: str
    figure: str
    value: float | None
    unit: str = ""
    target: float | None = None  # the figure must be >= target
    note: str = ""

    @property
    def status(self) -> str:
        if self.value is None:
            return "skipped"
        if self.target is None:
            return ""
        return "met" if self.value >= self.target else "NOT met"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


@dataclass
class ItemResult:
    """What one benchmark item produced: table rows, details for the JSON, skip reasons."""

    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def row(self, figure: str, value: float | None, unit: str = "", **kw: Any) -> Row:
        r = Row(self.key, figure, value, unit, **kw)
        self.rows.append(r)
        return r

    def skip(self, figure: str, reason: str, target: float | None = None, unit: str = "") -> None:
        self.skipped.append(f"{figure}: {reason}")
        self.rows.append(Row(self.key, figure, None, unit, target=target, note=reason))

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "rows": [r.to_dict() for r in self.rows],
            "details": self.details,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 2),
        }


# -- timing -------------------------------------------------------------------------------------


def time_calls(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call over ``calls`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def calibrate(fn: Callable[[], object], target_s: float, max_calls: int = 100_000) -> int:
    """Calls per timed batch so that one batch takes about ``target_s`` (after a warm-up)."""
    fn()  # warm-up: first-run allocations, lazy session creation
    one = time_calls(fn, 1)
    if one < target_s / 10:
        one = time_calls(fn, max(1, int(target_s / 10 / max(one, 1e-9))))
    return max(1, min(max_calls, round(target_s / max(one, 1e-9))))


def side_by_side(
    fns: dict[str, Callable[[], object]], reps: int, target_s: float
) -> dict[str, list[float]]:
    """Seconds per call of each function, ``reps`` times, in alternating batches.

    Two variants alternate (AB, BA, AB, ...); more are shuffled every repetition (seeded), so
    that no variant always runs right after the same other one.
    """
    names = list(fns)
    calls = {name: calibrate(fns[name], target_s) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    shuffle = random.Random(0).shuffle
    for rep in range(reps):
        order = list(names)
        if len(order) == 2:
            order = order[rep % 2 :] + order[: rep % 2]
        else:
            shuffle(order)
        for name in order:
            time.sleep(SETTLE_S)
            times[name].append(time_calls(fns[name], calls[name]))
    return times


def make_failure(target: str) -> str | None:
    """Run ``make TARGET`` quietly in the repository (with this Python as ``PY``): None when it
    succeeds, else a skip reason ending with the tail of its error output."""
    build = subprocess.run(
        ["make", "--no-print-directory", "-s", target, f"PY={sys.executable}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        return f"`make {target}` failed: {build.stderr.strip()[-300:]}"
    return None


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Median over repetitions of numerator[i] / denominator[i] (paired, same repetition)."""
    return median([a / b for a, b in zip(numerator, denominator, strict=True)])


def spread(values: Sequence[float]) -> float:
    """Relative spread (max - min) / median: how noisy a figure was."""
    m = median(values)
    return (max(values) - min(values)) / m if m else 0.0


def summary(values: Sequence[float]) -> dict[str, Any]:
    return {
        "median": median(values),
        "min": min(values),
        "max": max(values),
        "spread": round(spread(values), 3),
        "values": list(values),
    }


# -- the table ----------------------------------------------------------------------------------


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "%":
        return f"{value * 100:.1f} %"
    if unit == "GFLOP/s":
        return f"{value / 1e9:.1f} GFLOP/s"
    if unit == "MFLOP":
        return f"{value / 1e6:.1f} MFLOP"
    if unit == "ms":
        return f"{value * 1e3:.2f} ms"
    if unit == "µs":
        return f"{value * 1e6:.1f} µs"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def format_target(row: Row) -> str:
    if row.target is None:
        return ""
    return "≥ " + format_value(row.target, row.unit)


def table(rows: Sequence[Row]) -> str:
    """A Markdown table (readable as plain text too) of every row."""
    header = ("#", "figure", "value", "target", "status", "note")
    body = [
        (r.item, r.figure, format_value(r.value, r.unit), format_target(r), r.status, r.note)
        for r in rows
    ]
    widths = [
        max(len(h), *(len(line[i]) for line in body)) if body else len(h)
        for i, h in enumerate(header)
    ]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = (
        "|"
        + "|".join("-" * (w + 1) + ":" if i == 2 else "-" * (w + 2) for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([line(header), rule, *(line(b) for b in body)])
