"""Speed of the C# runtime against the Python API on the same work, in one run:

    python dotnet_runtime/tools/bench_runtime.py [--repeats N] [--threads T]   (make runtime-bench)

Times one portrait sprite, one 8-frame talk loop, one shoe icon (each the median of N runs)
and one dialogue line with the default options (the median of --line-repeats runs; a line
is about a hundred graph steps of 16 candidates), after one warm-up each, with models loaded
beforehand and the same intra-op thread count on both sides (default 1, so a busy machine
disturbs both alike): the Python API in this process, the C# runtime under Mono
(dotnet_runtime/build/AssetGen.Runtime.Bench.exe, built by ``make runtime-build``). Prints a
table with the C#/Python time ratios (below 1: C# faster) and, with --json, writes the
numbers too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from assetgen import Engine

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "dotnet_runtime" / "build"
PORTRAITS = ROOT / "plugins" / "assetgen_portraits" / "model"
SHOES = ROOT / "plugins" / "assetgen_shoes" / "model"
DIALOGUE = ROOT / "plugins" / "assetgen_dialogue" / "model"


def median_ms(repeats: int, work: Callable[[int], object]) -> float:
    work(-1)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        work(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--line-repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()

    engine = Engine(device="cpu", intra_op_threads=args.threads)
    python = {
        "sprite_ms": median_ms(args.repeats, lambda i: engine.generate("portraits", seed=1000 + i)),
        "talk8_ms": median_ms(args.repeats,
                              lambda i: engine.animate("portraits", seed=2000 + i, frames=8)),
        "shoe_ms": median_ms(args.repeats, lambda i: engine.generate("shoes", seed=3000 + i)),
        "line_ms": median_ms(args.line_repeats,
                             lambda i: engine.generate("dialogue", seed=4000 + i)),
    }
    env = dict(os.environ, LD_LIBRARY_PATH=str(BUILD / "native"))
    run = subprocess.run(
        ["mono", str(BUILD / "AssetGen.Runtime.Bench.exe"), str(PORTRAITS), str(SHOES),
         str(args.repeats), str(args.threads), str(DIALOGUE), str(args.line_repeats)],
        capture_output=True, text=True, check=True, env=env,
    )
    csharp = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"C# runtime (Mono, ONNX Runtime {csharp['onnxruntime']}) vs Python API, median of "
          f"{args.repeats} runs, {args.threads} intra-op thread(s)")
    print(f"{'work':<22}{'Python ms':>12}{'C# ms':>12}{'C#/Python':>12}")
    rows = {}
    for key, label in (("sprite_ms", "portrait sprite"), ("talk8_ms", "portrait talk, 8 fr"),
                       ("shoe_ms", "shoe icon"), ("line_ms", "dialogue line")):
        ratio = csharp[key] / python[key]
        rows[key] = {"python_ms": python[key], "csharp_ms": csharp[key], "ratio": ratio}
        print(f"{label:<22}{python[key]:>12.2f}{csharp[key]:>12.2f}{ratio:>12.2f}")
    if args.json:
        args.json.write_text(json.dumps({"repeats": args.repeats, "threads": args.threads,
                                         "onnxruntime": csharp["onnxruntime"], "rows": rows},
                                        indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
