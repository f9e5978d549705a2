"""Flushing a batch chunk's files one after the other vs from several threads, side by side.

    .venv/bin/python -m benchmarks.fsync_together [--files 16] [--size 7000] [--reps 7] [--dir D]

The experiment behind ``assetgen.exporting.write_atomic_many`` flushing a chunk's temporary
files one after the other (benchmarks/README.md, "Tuning"): each repetition writes ``files``
temporary files of ``size`` bytes twice into ``dir`` (default: a temporary folder next to the
repository, so on the disk batch exports usually go to) and flushes one set as the product does
(``_flush_all``) and the other from up to 8 threads at once, in alternating order. The ratio
is the median over repetitions of sequential time / together time. It measures the disk and
its file system more than AssetGen's code.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assetgen.exporting import _flush, _flush_all, _write_temp


def _make(folder: Path, files: int, size: int, tag: str) -> list[tuple[Path, str]]:
    data = os.urandom(size)
    return [(folder / f"{tag}{i}.png", _write_temp(folder / f"{tag}{i}.png", data))
            for i in range(files)]


def _timed_sequential(pending: list[tuple[Path, str]]) -> float:
    start = time.perf_counter()
    _flush_all(pending)
    return time.perf_counter() - start


def _timed_together(pending: list[tuple[Path, str]]) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(min(len(pending), 8)) as pool:
        futures = [pool.submit(_flush, path, tmp) for path, tmp in pending]
    for future in futures:
        future.result()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16, help="files per chunk (batch CHUNK)")
    parser.add_argument("--size", type=int, default=7000, help="bytes per file (a 64 px PNG)")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: here)")
    args = parser.parse_args(argv)
    if args.files < 2 or args.size < 1 or args.reps < 1:
        print("error: --files must be >= 2, --size and --reps >= 1", file=sys.stderr)
        return 2
    base = args.dir or Path(__file__).resolve().parent.parent
    times: dict[str, list[float]] = {"sequential": [], "together": []}
    ratios = []
    with tempfile.TemporaryDirectory(prefix=".fsync-bench-", dir=base) as tmp:
        folder = Path(tmp)
        for rep in range(args.reps):
            seq = _make(folder, args.files, args.size, f"s{rep}-")
            tog = _make(folder, args.files, args.size, f"t{rep}-")
            order = ("sequential", "together") if rep % 2 == 0 else ("together", "sequential")
            got = {}
            for name in order:
                got[name] = (_timed_sequential(seq) if name == "sequential"
                             else _timed_together(tog))
            for name, value in got.items():
                times[name].append(value)
            ratios.append(got["sequential"] / got["together"])
    for name, values in times.items():
        ms = [round(v * 1000, 1) for v in values]
        print(f"{name:10s} {args.files} files: median {statistics.median(ms)} ms  (all: {ms})")
    print(f"sequential / together: {statistics.median(ratios):.2f}x "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}, {args.reps} repetitions)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
