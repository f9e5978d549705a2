"""Batch export on Ray: throughput with 1 and 2 workers, and the overhead against the local
engine, measured side by side in one run (docs/distributed.md; figures in README.md).

    .venv/bin/python -m benchmarks.distributed [--count 512] [--reps 3] [--out FILE]

One job: ``count`` shoes icons as PNG from the shipped model (``plugins/assetgen_shoes/model``),
written by ``assetgen.batch.run_job`` with

* ``local``: the local engine (this process, one ONNX Runtime thread);
* ``ray-1``, ``ray-2``: :class:`assetgen.ray_batch.RayChunks` with 1 and 2 workers (one ONNX
  Runtime thread each) on a local Ray instance.

Every variant is warmed first (ONNX sessions loaded, Ray actors started), then each repetition
runs the three in a rotating order into fresh folders, and the figures are medians over the
repetitions of ratios within one repetition, so load that comes and goes slows every variant of
a repetition alike. Ray's start-up (a local instance, then the actors and their engines) is
timed separately. Every run's ``manifest.json`` is checked to be byte-identical to the local
engine's. The load average before and after goes into the output: on a busy machine the
figures are depressed and say so.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .machine import describe, load_average

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed")
    parser.add_argument("--count", type=int, default=512, help="icons per job (default 512)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--shard-size", type=int, default=64, help="items per Ray task")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: results/)")
    args = parser.parse_args(argv)

    os.environ["ASSETGEN_LOAD_PLUGINS"] = "shoes,exporters"  # the workers get it too
    import ray

    from assetgen import Engine
    from assetgen.batch import load_job, run_job
    from assetgen.ray_batch import RayChunks

    load_before = load_average()
    work = Path(tempfile.mkdtemp(prefix="assetgen-bench-ray-"))
    job_file = work / "job.toml"
    job_file.write_text(
        f'[[run]]\nname = "icons"\ngenerator = "shoes"\nseed = 0\ncount = {args.count}\n'
        'formats = ["png"]\n'
    )
    engine = Engine(device="cpu", intra_op_threads=1)
    try:
        started = time.perf_counter()
        # logical CPUs for both pools to stay up (1 + 2 actors); they never run at once
        ray.init(num_cpus=3, include_dashboard=False, logging_level=logging.WARNING)
        ray_start_s = time.perf_counter() - started
        pools: dict[str, RayChunks] = {}
        actor_start_s: dict[str, float] = {}
        for workers in (1, 2):
            started = time.perf_counter()
            pool = RayChunks(
                workers=workers, shard_size=args.shard_size, threads=1, device="cpu",
                progress=False,
            )
            pool.start()
            actor_start_s[f"ray-{workers}"] = time.perf_counter() - started
            pools[f"ray-{workers}"] = pool

        def runner(name: str) -> Callable[[Path], None]:
            def run(out: Path) -> None:
                job = load_job(job_file, engine, out=out)
                run_job(engine, job, progress=False, chunks=pools.get(name))

            return run

        variants = {name: runner(name) for name in ("local", "ray-1", "ray-2")}
        manifests: dict[str, bytes] = {}
        for name, run in variants.items():  # warm-up: sessions loaded in every worker
            out = work / f"warm-{name}"
            run(out)
            manifests[name] = (out / "manifest.json").read_bytes()
            shutil.rmtree(out)
        times: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for rep in range(args.reps):
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for name in order:
                out = work / f"{name}-{rep}"
                started = time.perf_counter()
                variants[name](out)
                times[name].append(time.perf_counter() - started)
                manifests[f"{name}-{rep}"] = (out / "manifest.json").read_bytes()
                shutil.rmtree(out)
        for pool in pools.values():
            pool.close()
    finally:
        if ray.is_initialized():
            ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    load_after = load_average()

    identical = len(set(manifests.values())) == 1
    rate = {name: args.count / statistics.median(values) for name, values in times.items()}

    def ratio(a: str, b: str) -> float:  # median over repetitions of time[a] / time[b]
        return statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))

    figures = {
        "icons_per_s": {name: round(value, 1) for name, value in rate.items()},
        "ray2_speedup_over_ray1": round(ratio("ray-1", "ray-2"), 3),
        "ray1_time_over_local": round(ratio("ray-1", "local"), 3),
        "ray2_time_over_local": round(ratio("ray-2", "local"), 3),
        "ray_instance_start_s": round(ray_start_s, 2),
        "actor_start_s": {name: round(value, 2) for name, value in actor_start_s.items()},
        "manifests_identical": identical,
    }
    result: dict[str, Any] = {
        "benchmark": "distributed batch export (assetgen batch --engine ray)",
        "command": "python -m benchmarks.distributed " + " ".join(argv or sys.argv[1:]),
        "job": {"generator": "shoes", "count": args.count, "formats": ["png"],
                "shard_size": args.shard_size, "onnx_threads": 1},
        "reps": args.reps,
        "times_s": {name: [round(t, 3) for t in values] for name, values in times.items()},
        "figures": figures,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "machine": describe(),
    }
    print(f"shoes PNG export, {args.count} icons, median of {args.reps} side-by-side reps")
    for name, value in rate.items():
        print(f"  {name:6s} {value:8.1f} icons/s   times {result['times_s'][name]}")
    print(f"  ray 2 workers / 1 worker throughput: {figures['ray2_speedup_over_ray1']:.2f}x")
    print(f"  ray 1 worker time / local time:      {figures['ray1_time_over_local']:.2f}x")
    print(f"  ray 2 workers time / local time:     {figures['ray2_time_over_local']:.2f}x")
    print(
        f"  start-up: Ray instance {ray_start_s:.1f} s; actors + engines "
        + ", ".join(f"{k} {v:.1f} s" for k, v in actor_start_s.items())
    )
    print(f"  manifests identical to the local engine's: {identical}")
    print(f"  load average before {load_before}, after {load_after} ({os.cpu_count()} CPUs)")
    out = args.out or ROOT / "benchmarks" / "results" / time.strftime(
        "distributed-%Y%m%d-%H%M.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"  JSON: {out}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
