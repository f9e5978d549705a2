"""Speed of the C# runtime against the Python API on the same work, in one run:

    python dotnet_runtime/tools/bench_runtime.py [--repeats N] [--threads T]   (make runtime-bench)

Times one portrait sprite, one 8-frame talk loop, one shoe icon, one line of the Shakespeare
character LSTM (``model=shakespeare``; each the median of N runs) and one dialogue line of the
default GPT with the default options (the median of --line-repeats runs; a line is about a
hundred graph steps of 16 candidates), after one warm-up each, with models loaded
beforehand and the same intra-op thread count on both sides (default 1, so a busy machine
disturbs both alike): the Python API in this process, the C# runtime under Mono
(dotnet_runtime/build/AssetGen.Runtime.Bench.exe, built by ``make runtime-build``). Prints a
table with the C#/Python time ratios (below 1: C# faster) and, with --json, writes the
numbers too. ``measure`` is also item 9 of the benchmark suite (``make bench``,
benchmarks/runtime_item.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
#: the character LSTM Python's ``model=shakespeare`` loads (the plugin's BUILTIN_MODELS)
LSTM = ROOT / "plugins" / "assetgen_dialogue" / "shakespeare_model"


def median_ms(repeats: int, work: Callable[[int], object]) -> float:
    work(-1)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        work(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


#: The rows, in order: key of the timings, label.
ROWS = (("sprite_ms", "portrait sprite"), ("talk8_ms", "portrait talk, 8 fr"),
        ("shoe_ms", "shoe icon"), ("line_ms", "dialogue line"),
        ("lstm_line_ms", "Shakespeare LSTM line"))


def missing() -> str | None:
    """Why the C# side cannot run here (None: it can): Mono or the built runtime is absent."""
    if shutil.which("mono") is None:
        return "Mono (mono) is not installed; `make test` installs it"
    for path in (BUILD / "AssetGen.Runtime.Bench.exe", BUILD / "AssetGen.Runtime.dll",
                 BUILD / "native" / "libonnxruntime.so"):
        if not path.exists():
            return f"{path.relative_to(ROOT)} is not built; run `make runtime-build`"
    return None


def measure(portraits: Path = PORTRAITS, shoes: Path = SHOES, dialogue: Path = DIALOGUE,
            repeats: int = 20, line_repeats: int = 5, threads: int = 1) -> dict:
    """Time the same work in the Python API (this process; the plugins load their MODEL_DIR,
    which must be these folders) and in the C# runtime under Mono. Returns {"repeats",
    "line_repeats", "threads", "onnxruntime", "rows": {key: {python_ms, csharp_ms, ratio}}}."""
    engine = Engine(device="cpu", intra_op_threads=threads)
    python = {
        "sprite_ms": median_ms(repeats, lambda i: engine.generate("portraits", seed=1000 + i)),
        "talk8_ms": median_ms(repeats,
                              lambda i: engine.animate("portraits", seed=2000 + i, frames=8)),
        "shoe_ms": median_ms(repeats, lambda i: engine.generate("shoes", seed=3000 + i)),
        "line_ms": median_ms(line_repeats,
                             lambda i: engine.generate("dialogue", seed=4000 + i)),
        "lstm_line_ms": median_ms(
            repeats, lambda i: engine.generate("dialogue", seed=5000 + i, model="shakespeare")),
    }
    env = dict(os.environ, LD_LIBRARY_PATH=str(BUILD / "native"))
    run = subprocess.run(
        ["mono", str(BUILD / "AssetGen.Runtime.Bench.exe"), str(portraits), str(shoes),
         str(repeats), str(threads), str(dialogue), str(line_repeats), str(LSTM), str(repeats)],
        capture_output=True, text=True, check=True, env=env,
    )
    csharp = json.loads(run.stdout.strip().splitlines()[-1])
    rows = {key: {"python_ms": python[key], "csharp_ms": csharp[key],
                  "ratio": csharp[key] / python[key]} for key, _ in ROWS}
    return {"repeats": repeats, "line_repeats": line_repeats, "threads": threads,
            "onnxruntime": csharp["onnxruntime"], "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--line-repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    reason = missing()
    if reason:
        raise SystemExit(reason)
    result = measure(repeats=args.repeats, line_repeats=args.line_repeats,
                     threads=args.threads)
    print(f"C# runtime (Mono, ONNX Runtime {result['onnxruntime']}) vs Python API, median of "
          f"{args.repeats} runs, {args.threads} intra-op thread(s)")
    print(f"{'work':<22}{'Python ms':>12}{'C# ms':>12}{'C#/Python':>12}")
    for key, label in ROWS:
        row = result["rows"][key]
        print(f"{label:<22}{row['python_ms']:>12.2f}{row['csharp_ms']:>12.2f}"
              f"{row['ratio']:>12.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
