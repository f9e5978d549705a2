"""Item 9: the C# runtime (dotnet_runtime/, no Python) vs the Python API on the same work.

The measurement is ``dotnet_runtime/tools/bench_runtime.py``'s ``measure`` (also ``make
runtime-bench``): one portrait sprite, one 8-frame talk, one shoe icon, one dialogue line
with the default options and one line of the Shakespeare character LSTM (``model=shakespeare``,
the plugin's own folder), each the median of N runs after a warm-up, models loaded, one
intra-op thread on both sides; the Python API in this process, the C# runtime under Mono.
The figure is C# time / Python time (below 1: C# faster). Skipped with the reason when Mono
or a model folder is missing or the runtime does not build.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

from .common import ItemResult, Settings, make_failure
from .models import ModelSource

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "dotnet_runtime" / "tools" / "bench_runtime.py"
# the same title as benchmarks/suite.py's ITEMS["9"]
TITLE = "C# runtime vs Python API: sprite, 8-frame talk, shoe icon, dialogue lines"


def _bench_runtime() -> ModuleType:
    spec = importlib.util.spec_from_file_location("assetgen_bench_runtime", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_runtime(sources: dict[str, ModelSource], settings: Settings) -> ItemResult:
    item = ItemResult("9", TITLE)
    figure = "C# runtime: C# time / Python time"
    if shutil.which("mono") is None or shutil.which("mcs") is None:
        item.skip(figure, "Mono (mono, mcs) is not installed; `make test` installs it")
        return item
    for name in ("portraits", "shoes", "dialogue"):
        if sources[name].model_dir is None:
            item.skip(figure, f"no {name} model: {sources[name].missing}")
            return item
    failed = make_failure("runtime-build")
    if failed:
        item.skip(figure, failed)
        return item
    bench = _bench_runtime()
    reason = bench.missing()
    if reason:
        item.skip(figure, reason)
        return item
    repeats, line_repeats = (5, 2) if settings.quick else (20, 5)
    result = bench.measure(
        portraits=sources["portraits"].model_dir,
        shoes=sources["shoes"].model_dir,
        dialogue=sources["dialogue"].model_dir,
        repeats=repeats,
        line_repeats=line_repeats,
        threads=1,
    )
    item.details = result
    for key, label in bench.ROWS:
        row = result["rows"][key]
        n = line_repeats if key == "line_ms" else repeats
        item.row(
            f"C# runtime: {label}, C# time / Python time",
            row["ratio"],
            "×",
            note=f"C# {row['csharp_ms']:.2f} ms, Python {row['python_ms']:.2f} ms; "
            f"median of {n}, 1 thread, ONNX Runtime {result['onnxruntime']}",
        )
    return item
