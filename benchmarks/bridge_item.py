"""The .NET bridge (6): benchmarks/bridge_overhead.py run as part of the suite."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .common import ItemResult, Settings, make_failure
from .models import ModelSource

ROOT = Path(__file__).resolve().parents[1]


def bench_bridge(portraits: ModelSource, settings: Settings) -> ItemResult:
    item = ItemResult("6", "Bridge: C# round trip and sprite latency through C# vs Python")
    figure = "bridge: C# / Python sprite latency"
    if shutil.which("mono") is None or shutil.which("mcs") is None:
        item.skip(figure, "Mono (mono, mcs) is not installed; `make bridge` installs it")
        return item
    if importlib.util.find_spec("pythonnet") is None:
        item.skip(figure, "pythonnet is not installed (the bridge extra; `make bridge`)")
        return item
    failed = make_failure("bridge-build")
    if failed:
        item.skip(figure, failed)
        return item
    if portraits.model_dir is not None:
        generator = [
            "--generator",
            "portraits",
            "--options",
            "{}",
            "--model-dir",
            f"portraits={portraits.model_dir}",
        ]
        what = "portraits sprite"
    else:
        generator = []  # the test kit's procedural 64x64 blob: bridge cost alone
        what = "test-kit blob sprite (no portraits model)"
    sizes = (
        ["--pairs", "3", "--calls", "5", "--seconds", "0.3", "--rounds", "1"]
        if settings.quick
        else ["--pairs", "9", "--calls", "20", "--rounds", "3"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bridge.json"
        proc = subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "bridge_overhead.py"),
                *generator,
                *sizes,
                "--json",
                str(out),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or proc.stdout).strip()[-400:]
            item.skip(figure, f"bridge_overhead.py failed: {tail}")
            return item
        results: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    item.details = {"generator": what, "table": proc.stdout, **results}
    lock = results["lock"]["requests"]
    noop = lock["noop"]
    item.row(
        "bridge: no-op round trip through C#",
        noop["csharp_s"],
        "µs",
        note=f"Python's own call {noop['python_s'] * 1e6:.1f} µs; default lock mode",
    )
    for key, label in (
        ("sprite_rgba", "sprite, raw RGBA"),
        ("sprite_png", "sprite, PNG"),
        ("animate_rgba", "8-frame animation, raw RGBA"),
    ):
        r = lock[key]
        item.row(
            f"bridge: {label}, C# time / Python time",
            r["ratio"],
            "×",
            note=f"{what}; C# {r['csharp_s'] * 1e3:.2f} ms",
        )
    threads = results["lock"]["sprite_rgba_per_s_by_threads"]
    for n, r in threads.items():
        item.row(f"bridge: sprites/s from {n} thread(s), C# / Python", r["ratio"], "×")
    item.row("bridge: C# start-up (Python, plugins, engine)", results["lock"]["start_s"], "s")
    return item
