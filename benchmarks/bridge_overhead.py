"""What the .NET bridge costs on top of the Python API, measured in one run.

    .venv/bin/python benchmarks/bridge_overhead.py [--generator blob --options '{"size": 64}']
        [--frames 8] [--pairs 15] [--calls 20] [--seconds 1] [--rounds 3] [--json out.json]
        [--model-dir portraits=DIR]

The C# benchmark program (dotnet_bridge/bench/) runs under Mono twice: with the bridge's
default lock (one C# thread in Python at a time), and with preemptive thread suspension and no
lock. In each run it times every request through C# and, in the same process, through the
Python API (:class:`PythonBaseline` below, timed inside Python), alternating batches of the two
so that other work on the machine slows both alike. Each ratio is C#/Python, the median over
the pairs of batches:

- a no-op round trip (``Ping``, vs the same Python method called from Python),
- one sprite as raw RGBA and as PNG (vs ``engine.generate(...)[0].rgba`` / ``.to_png()``),
- one animation of ``--frames`` frames as raw RGBA and PNG (vs ``engine.animate(...)``),
- sprites per second from 1 and 4 C# threads (vs 1 and 4 Python threads).

The default generator is the test kit's ``blob`` (tests/fixtures/testkit_plugin, installed into
a temporary folder), which needs no trained model; pass ``--generator portraits`` once the
portraits model ships, with ``--model-dir portraits=DIR`` to use a model folder other than the
shipped one (the C# program's Python points the plugin there before the first request). Needs
Mono and the bridge extra (`make bridge`). ``python -m benchmarks`` runs this as item 6.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_EXE = ROOT / "dotnet_bridge" / "build" / "AssetGen.Bridge.Bench.exe"
TESTKIT = ROOT / "tests" / "fixtures" / "testkit_plugin"
THREADS = (1, 4)
#: JSON {generator: model folder}: set as ``assetgen_<generator>.plugin.MODEL_DIR`` on import,
#: in the Python the C# program starts (the bridge's engine and the baseline share it).
MODEL_DIRS_ENV = "ASSETGEN_BENCH_MODEL_DIRS"
REQUESTS = {
    "noop": "no-op round trip",
    "sprite_rgba": "sprite, raw RGBA",
    "sprite_png": "sprite, PNG",
    "animate_rgba": "animation, raw RGBA",
    "animate_png": "animation, PNG",
}


def _install_model_dirs() -> None:
    import importlib

    for name, folder in json.loads(os.environ.get(MODEL_DIRS_ENV) or "{}").items():
        plugin: Any = importlib.import_module(f"assetgen_{name}.plugin")
        plugin.MODEL_DIR = Path(folder)


_install_model_dirs()


class PythonBaseline:
    """The benchmark's requests through the Python API; the C# program creates one in its own
    Python and calls :meth:`time` and :meth:`throughput` between its own batches."""

    def __init__(self, generator: str, options_json: str, frames: int) -> None:
        from assetgen import Engine, ImageAsset
        from assetgen.bridge import Bridge

        # Plugins load as for the bridge's engine in the same process (ASSETGEN_LOAD_PLUGINS).
        engine = Engine(device="cpu")
        bridge = Bridge(engine)
        options = json.loads(options_json)

        def sprite(seed: int) -> ImageAsset:
            (image,) = engine.generate(generator, seed=seed, **options)
            assert isinstance(image, ImageAsset)
            return image

        def animation(seed: int) -> list[ImageAsset]:
            return engine.animate(generator, seed=seed, frames=frames, **options).frames

        self.requests: dict[str, Callable[[int], object]] = {
            "noop": lambda seed: bridge.ping(),
            "sprite_rgba": lambda seed: sprite(seed).rgba,
            "sprite_png": lambda seed: sprite(seed).to_png(),
            "animate_rgba": lambda seed: [f.rgba for f in animation(seed)],
            "animate_png": lambda seed: [f.to_png() for f in animation(seed)],
        }

    def time(self, request: str, first_seed: int, calls: int) -> float:
        """Seconds for ``calls`` requests with seeds from ``first_seed``."""
        make = self.requests[request]
        start = time.perf_counter()
        for seed in range(first_seed, first_seed + calls):
            make(seed)
        return time.perf_counter() - start

    def throughput(self, threads: int, seconds: float) -> float:
        """Raw RGBA sprites per second from ``threads`` Python threads for ``seconds``."""
        make = self.requests["sprite_rgba"]
        done = [0] * threads
        ready = threading.Barrier(threads + 1)
        stop = [float("inf")]

        def work(t: int) -> None:
            ready.wait()
            seed = t * 1_000_000
            while time.perf_counter() < stop[0]:
                make(seed)
                done[t] += 1
                seed += 1

        workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        start = time.perf_counter()
        stop[0] = start + seconds
        ready.wait()
        for w in workers:
            w.join()
        return sum(done) / (time.perf_counter() - start)


def run_bench(args: argparse.Namespace, env: dict[str, str], lock: bool) -> dict[str, Any]:
    command = [
        "mono", str(BENCH_EXE), "--python", sys.executable, "--baseline", Path(__file__).stem,
        "--generator", args.generator, "--options", args.options, "--frames", str(args.frames),
        "--pairs", str(args.pairs), "--calls", str(args.calls), "--seconds", str(args.seconds),
        "--rounds", str(args.rounds), "--threads", ",".join(str(n) for n in THREADS),
        "--device", "cpu",
    ]  # fmt: skip
    env = dict(env)
    if lock:
        env.pop("MONO_THREADS_SUSPEND", None)
    else:
        env["MONO_THREADS_SUSPEND"] = "preemptive"
        command.append("--unserialized")
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        sys.exit(f"benchmark program failed:\n{result.stdout}\n{result.stderr}")
    timings: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return timings


def table(locked: dict[str, Any], free: dict[str, Any]) -> str:
    def us(seconds: float) -> str:
        return f"{seconds * 1e6:.1f} µs"

    rows = [
        "| request | Python | C# (lock) | ratio | Python | C# (preemptive) | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, name in REQUESTS.items():
        a, b = locked["requests"][key], free["requests"][key]
        rows.append(
            f"| {name} | {us(a['python_s'])} | {us(a['csharp_s'])} | {a['ratio']:.2f} "
            f"| {us(b['python_s'])} | {us(b['csharp_s'])} | {b['ratio']:.2f} |"
        )
    for n in THREADS:
        a = locked["sprite_rgba_per_s_by_threads"][str(n)]
        b = free["sprite_rgba_per_s_by_threads"][str(n)]
        rows.append(
            f"| sprites/s, {n} thread{'s' if n > 1 else ''} | {a['python']:.0f} "
            f"| {a['csharp']:.0f} | {a['ratio']:.2f} | {b['python']:.0f} | {b['csharp']:.0f} "
            f"| {b['ratio']:.2f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--generator", default="blob")
    parser.add_argument("--options", default='{"size": 64}', help="options JSON")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=15, help="alternating batch pairs")
    parser.add_argument("--calls", type=int, default=20, help="sprite calls per batch")
    parser.add_argument("--seconds", type=float, default=1.0, help="per throughput measure")
    parser.add_argument("--rounds", type=int, default=3, help="throughput measures")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--model-dir",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="use this model folder for generator NAME (e.g. portraits=/tmp/model)",
    )
    args = parser.parse_args()
    model_dirs = {}
    for pair in args.model_dir:
        name, sep, folder = pair.partition("=")
        if not sep:
            parser.error(f"--model-dir expects NAME=DIR; got {pair!r}")
        model_dirs[name] = str(Path(folder).resolve())

    subprocess.run(
        ["make", "--no-print-directory", "-s", "bridge-build", f"PY={sys.executable}"],
        cwd=ROOT,
        check=True,
    )
    env = dict(os.environ)
    env[MODEL_DIRS_ENV] = json.dumps(model_dirs)
    paths = [str(Path(__file__).parent)]
    with tempfile.TemporaryDirectory() as tmp:
        if args.generator in ("blob", "echo"):
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                 "--no-build-isolation", "--no-index", "--target", tmp, str(TESTKIT)],
                check=True, capture_output=True,
            )  # fmt: skip
            paths.append(tmp)
            env["ASSETGEN_LOAD_PLUGINS"] = "exporters,testkit"
        else:
            env["ASSETGEN_LOAD_PLUGINS"] = args.generator
        env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
        load_before = os.getloadavg()
        locked = run_bench(args, env, lock=True)
        free = run_bench(args, env, lock=False)
        load_after = os.getloadavg()

    print(f"{args.generator} {args.options}, {args.frames} frames, {os.cpu_count()} CPUs, "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")  # fmt: skip
    print(table(locked, free))
    print(f"C# start-up (Python, numpy, plugins, engine): {locked['start_s']:.2f} s")
    if args.json:
        results = {"lock": locked, "preemptive": free, "load_average": [load_before, load_after]}
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
