"""The benchmark suite: every benchmark, one table, one JSON file (see benchmarks/README.md).

python -m benchmarks [--quick] [--only 1,2] [--skip 6] [--tune] [--out FILE]
    [--portraits-model DIR] [--portraits-run DIR] [--shoes-model DIR] [--shoes-run DIR]
    [--dialogue-model DIR] [--dialogue-run DIR] [--torch-from-manifest]
    [--export-count N] [--reps N] [--device cpu|cuda|auto]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .common import ItemResult, Row, Settings, table
from .machine import describe, load_average
from .models import GENERATORS, ModelSource, Skip, find_model, install, reset_torch_threads

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
ITEMS = ("1", "2", "3", "4", "5", "6", "7", "8", "9")
ITEM_NAMES = {
    "1": "portrait sprite: ONNX Runtime vs PyTorch, throughput by batch",
    "2": "talk animation: cached prefix vs full recompute (label models: talk frames)",
    "3": "shoes icons/s, dialogue characters/s: ONNX Runtime vs PyTorch",
    "4": "batch export vs model-only throughput",
    "5": "share of the machine's peak FLOP/s",
    "6": ".NET bridge overhead",
    "7": "portraits: neural model vs DiceBear + resvg, same labels, one thread each",
    "9": "C# runtime vs Python API: sprite, 8-frame talk, shoe icon, dialogue lines",
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run AssetGen's benchmarks; print one table and write JSON.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="few repetitions, short batches, 200 portraits exported",
    )
    parser.add_argument("--only", default="", help="comma-separated items to run, e.g. 1,2,5")
    parser.add_argument("--skip", default="", help="comma-separated items to leave out")
    parser.add_argument(
        "--tune",
        action="store_true",
        help="also run the tuning experiments (session options, talk batching, PNG encoding)",
    )
    parser.add_argument("--out", type=Path, help="JSON path (default benchmarks/results/...)")
    parser.add_argument("--reps", type=int, help="repetitions per side-by-side figure")
    parser.add_argument(
        "--batch-s",
        type=float,
        help="seconds one timed batch aims for (default 0.4, 0.15 with --quick)",
    )
    parser.add_argument(
        "--export-count",
        type=int,
        help="portraits written by item 4 (default 2000, 200 with --quick)",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda", "auto"),
        default="cpu",
        help="ONNX Runtime device (and PyTorch's, for cuda)",
    )
    parser.add_argument(
        "--torch-from-manifest",
        action="store_true",
        help="without a run folder, time a freshly initialised PyTorch module "
        "of the model's architecture instead of skipping",
    )
    for name in GENERATORS:
        parser.add_argument(
            f"--{name}-model",
            type=Path,
            metavar="DIR",
            help=f"{name} model folder (default: the plugin's shipped one)",
        )
        parser.add_argument(
            f"--{name}-run",
            type=Path,
            metavar="DIR",
            default=ROOT / "runs" / name,
            help=f"{name} training run for the PyTorch side (default runs/{name})",
        )
    args = parser.parse_args(argv)
    selected = [i.strip() for i in args.only.split(",") if i.strip()] or list(ITEMS)
    skipped = {i.strip() for i in args.skip.split(",") if i.strip()}
    unknown = sorted((set(selected) | skipped) - set(ITEMS))
    if unknown:
        parser.error(f"unknown item {unknown[0]!r}; items are {', '.join(ITEMS)}")
    args.items = [i for i in ITEMS if i in selected and i not in skipped]
    for key, value in vars(args).items():  # relative to where the command was run
        if isinstance(value, Path):
            setattr(args, key, value.resolve())
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    if args.batch_s is not None and not 0 < args.batch_s <= 60:
        parser.error("--batch-s must be more than 0 and at most 60")
    if args.export_count is not None and not 1 <= args.export_count <= 100_000:
        parser.error("--export-count must be from 1 to 100000")
    return args


def default_out(quick: bool) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return RESULTS / f"bench-{stamp}{'-quick' if quick else ''}.json"


def make_engine(device: str) -> Any:
    from assetgen import Engine

    return Engine(device=device, plugins=["exporters", *GENERATORS])


def run_item(key: str, fn: Callable[[], ItemResult]) -> ItemResult:
    """Run one item; a Skip becomes a skipped row, any other error a failed row (the suite
    goes on)."""
    start = time.perf_counter()
    print(f"[{key}] {ITEM_NAMES.get(key, key)} ...", file=sys.stderr, flush=True)
    try:
        result = fn()
    except Skip as exc:
        result = ItemResult(key, ITEM_NAMES.get(key, key))
        result.skip(ITEM_NAMES.get(key, key), str(exc))
    except Exception as exc:  # noqa: BLE001  (report and go on with the other items)
        result = ItemResult(key, ITEM_NAMES.get(key, key))
        result.skip(ITEM_NAMES.get(key, key), f"FAILED: {type(exc).__name__}: {exc}")
        result.details["traceback"] = traceback.format_exc()
    finally:
        reset_torch_threads()
    result.seconds = time.perf_counter() - start
    print(f"[{key}] done in {result.seconds:.1f} s", file=sys.stderr, flush=True)
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings.make(args.quick, args.reps, args.export_count, args.device, args.batch_s)
    sources: dict[str, ModelSource] = {}
    for name in GENERATORS:
        sources[name] = find_model(name, getattr(args, f"{name}_model"))
        sources[name].run_dir = getattr(args, f"{name}_run")
    install(sources)
    engine = make_engine(args.device)
    shared: dict[str, Any] = {}
    from_manifest = args.torch_from_manifest
    load_before = load_average()
    when = time.strftime("%Y-%m-%d %H:%M:%S %z")
    started = time.perf_counter()

    def item1() -> ItemResult:
        from .portraits import bench_sprite

        return bench_sprite(
            engine, sources["portraits"], settings, from_manifest, shared, args.tune
        )

    def item2() -> ItemResult:
        from .portraits import bench_talk

        return bench_talk(engine, sources["portraits"], settings, args.tune)

    def item3() -> ItemResult:
        from .small_models import bench_small

        return bench_small(engine, sources, settings, from_manifest, shared)

    def item4() -> ItemResult:
        from .portraits import bench_export

        return bench_export(engine, sources["portraits"], settings, shared, args.tune)

    def item5() -> ItemResult:
        from .limit import bench_limit

        return bench_limit(sources, settings, shared)

    def item6() -> ItemResult:
        from .bridge_item import bench_bridge

        return bench_bridge(sources["portraits"], settings)

    def item7() -> ItemResult:
        from .dicebear import bench_dicebear

        return bench_dicebear(sources["portraits"], settings)

    def item8() -> ItemResult:
        from .lipsync import bench_lipsync

        return bench_lipsync(engine, sources["portraits"], settings)

    def item9() -> ItemResult:
        from .runtime_item import bench_runtime

        return bench_runtime(sources, settings)

    def tuning() -> ItemResult:
        from .tuning import bench_tuning

        return bench_tuning(sources, engine, settings)

    fns = {"1": item1, "2": item2, "3": item3, "4": item4, "5": item5, "6": item6, "7": item7,
           "8": item8, "9": item9}
    results = [run_item(key, fns[key]) for key in args.items]
    if args.tune:
        results.append(run_item("T", tuning))
    return {
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
        "when": when,
        "quick": settings.quick,
        "settings": settings.__dict__,
        "machine": describe(),
        "load_average": {"before": load_before, "after": load_average()},
        "models": {
            name: {
                "model_dir": str(s.model_dir) if s.model_dir else None,
                "conditioning": (s.manifest or {}).get("conditioning", "none")
                if name == "portraits" and s.model_dir
                else None,
                "missing": s.missing or None,
                "run_dir": str(s.run_dir),
            }
            for name, s in sources.items()
        },
        "seconds": round(time.perf_counter() - started, 1),
        "items": [r.to_dict() for r in results],
    }


def rows_of(report: dict[str, Any]) -> list[Row]:
    rows = []
    for it in report["items"]:
        for r in it["rows"]:
            rows.append(Row(r["item"], r["figure"], r["value"], r["unit"], r["target"], r["note"]))
    return rows


def header(report: dict[str, Any]) -> str:
    m = report["machine"]
    load = report["load_average"]
    return (
        f"AssetGen benchmarks{' (--quick)' if report['quick'] else ''}: {m['cpu']}, "
        f"{m['cpus']} CPUs; load average {load['before'][0] if load['before'] else '?'} before, "
        f"{load['after'][0] if load['after'] else '?'} after; {report['seconds']} s; "
        f"onnxruntime {m.get('onnxruntime')}, torch {m.get('torch')}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    out = args.out or default_out(args.quick)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    sys.stderr.flush()
    print(header(report))
    print(table(rows_of(report)))
    print(f"JSON: {out}")
    return 0
