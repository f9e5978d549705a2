"""Concurrency: 16 threads × 100 mixed requests through the Python API (and 8 threads through
the bridge's Python half) on a cold engine complete without error and give, request for
request, exactly what the serial run gave — including the refusals. The heavy variant runs
16 × 1000 and 8 × 500.
"""

from __future__ import annotations

import random
import threading
import types
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import assetgen
from assetgen import AssetGenError, Engine, Generator, ImageAsset, Options, option
from assetgen.bridge import Bridge
from assetgen.runtime import write_manifest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

Request = tuple[str, tuple[Any, ...]]


def tiny_model(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "k"], ["t"]), helper.make_node("Sin", ["t"], ["y"])],
        "wave",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 16])],
        initializer=[helper.make_tensor("k", TensorProto.FLOAT, [], [0.37])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, folder / "wave.onnx")
    write_manifest(folder, {"name": "wave"}, ["wave.onnx"])
    return folder


class WaveOptions(Options):
    gain: float = option(100.0, "Brightness.", ge=0, le=127)


def wave_plugin(folder: Path) -> types.ModuleType:
    """A model-backed generator: one shared ONNX Runtime session, batched calls."""

    class Wave(Generator):
        id = "wave"
        kind = "image"
        Options = WaveOptions

        def generate(self, seed: int, options: Any) -> ImageAsset:
            return self.generate_batch([seed], options)[0]

        def generate_batch(self, seeds: list[int], options: Any) -> list[ImageAsset]:
            session = self.runtime.load_model(folder).session("wave.onnx")
            x = np.stack([np.arange(16, dtype=np.float32) * (s % 97 + 1) for s in seeds])
            (y,) = session.run(None, {"x": x})
            pixels = (128 + options.gain * y).astype(np.uint8).reshape(len(seeds), 2, 2, 4)
            return [ImageAsset(np.ascontiguousarray(p)) for p in pixels]

    module = types.ModuleType("wave_plugin")
    module.register_generators = assetgen.hookimpl(  # type: ignore[attr-defined]
        lambda register: register(Wave)
    )
    return module


def api_requests(rng: random.Random, n: int) -> list[Request]:
    """A mix: images, animations, text, a model-backed generator, exports, and mistakes."""
    out: list[Request] = []
    for _ in range(n):
        kind = rng.choice(
            ["blob", "blob", "sheet", "anim", "echo", "wave", "wave", "bad", "crash", "seeds"]
        )
        seed = rng.randrange(0, 2**63 - 10)
        if kind == "blob":
            opts = {"size": rng.randint(8, 40), "color": rng.choice(["any", "red", "blue"])}
            out.append(("generate", ("blob", seed, rng.randint(1, 3), opts, "png")))
        elif kind == "sheet":
            opts = {"scale": rng.uniform(0.5, 2), "tint": {"r": rng.uniform(-1, 1)}}
            out.append(("generate", ("blob", seed, rng.randint(2, 5), opts, "sheet")))
        elif kind == "anim":
            opts = {"speed": rng.uniform(0.1, 10), "size": rng.randint(8, 24)}
            out.append(
                ("animate", ("blob", seed, rng.randint(1, 6), opts, rng.choice(["gif", "sheet"])))
            )
        elif kind == "echo":
            opts = {"words": rng.randint(1, 20), "prefix": rng.choice(["", "Hail", "é😀"])}
            out.append(
                ("generate", ("echo", seed, rng.randint(1, 4), opts, rng.choice(["jsonl", "csv"])))
            )
        elif kind == "wave":
            opts = {"gain": rng.uniform(0, 127)}
            out.append(("generate", ("wave", seed, rng.randint(1, 8), opts, "png")))
        elif kind == "bad":
            opts = rng.choice(
                [{"size": 999}, {"scale": float("nan")}, {"nope": 1}, {"label": "\x00"}]
            )
            out.append(("generate", ("blob", seed, 1, opts, "png")))
        elif kind == "crash":
            out.append(("generate", ("crashing", seed, 1, {}, "png")))
        else:
            out.append(("generate", ("blob", 2**63 - 2, rng.randint(1, 3), {}, "png")))
    return out


def serve(engine: Engine, request: Request) -> tuple:
    """Bytes of every file a request renders to, or the error it raises."""
    call, (generator, seed, n, opts, fmt) = request
    try:
        if call == "animate":
            assets = [engine.animate(generator, seed=seed, frames=n, **opts)]
        else:
            assets = engine.generate(generator, seed=seed, count=n, **opts)
        return tuple((f.name, f.data) for f in engine.render(assets, fmt))
    except AssetGenError as exc:
        return ("error", type(exc).__name__, str(exc))


def run_concurrently(
    threads: int, work: list[list[Any]], fn: Callable[[Any], Any]
) -> list[list[Any]]:
    barrier = threading.Barrier(threads)

    def worker(items: list[Any]) -> list[Any]:
        barrier.wait()  # every thread starts at once, on a cold engine
        return [fn(item) for item in items]

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(worker, work))


def api_concurrency(testkit_path: Path, tmp_path: Path, figures: Counter, per_thread: int) -> None:
    folder = tiny_model(tmp_path / "wave")
    rng = random.Random(per_thread)
    pool = api_requests(rng, 300)
    serial_engine = Engine(device="cpu", plugins=["exporters", "testkit", wave_plugin(folder)])
    expected = [serve(serial_engine, r) for r in pool]
    assert sum(e[0] == "error" for e in expected) < len(pool) // 2
    work = [[rng.randrange(len(pool)) for _ in range(per_thread)] for _ in range(16)]
    engine = Engine(device="cpu", plugins=["exporters", "testkit", wave_plugin(folder)])
    results = run_concurrently(16, work, lambda i: (i, serve(engine, pool[i])))
    mismatches = [i for batch in results for i, got in batch if got != expected[i]]
    assert mismatches == []
    served = sum(len(b) for b in results)
    assert served == 16 * per_thread
    figures["concurrent API requests served (16 threads), identical to serial"] += served


def test_16_threads_x_100_api_requests_match_the_serial_run(
    testkit_path, tmp_path, figures
) -> None:
    api_concurrency(testkit_path, tmp_path, figures, per_thread=100)


@pytest.mark.heavy
def test_16_threads_x_1000_api_requests_match_the_serial_run(
    testkit_path, tmp_path, figures
) -> None:
    api_concurrency(testkit_path, tmp_path, figures, per_thread=1000)


# -- the bridge (its Python half; the C# side has its own tests under tests/bridge) -----------


def bridge_requests(rng: random.Random, n: int) -> list[tuple[str, tuple[Any, ...]]]:
    out: list[tuple[str, tuple[Any, ...]]] = []
    for _ in range(n):
        seed = rng.randrange(0, 2**62)
        kind = rng.choice(["png", "rgba", "anim", "text", "wave", "bad"])
        if kind == "png":
            out.append(("generate_png", ("blob", seed, f'{{"size": {rng.randint(8, 32)}}}')))
        elif kind == "rgba":
            out.append(("generate_rgba", ("blob", seed, '{"color": "red", "tint": {"g": 0.5}}')))
        elif kind == "anim":
            out.append(("animate_rgba", ("blob", seed, '{"speed": 3}', rng.randint(1, 5))))
        elif kind == "text":
            out.append(("generate_text", ("echo", seed, rng.randint(1, 4), '{"words": 7}')))
        elif kind == "wave":
            out.append(("generate_png", ("wave", seed, f'{{"gain": {rng.uniform(0, 127)}}}')))
        else:
            out.append(("generate_png", ("blob", seed, rng.choice(["[1]", "{bad", '{"seed": 1}']))))
    return out


def bridge_serve(bridge: Bridge, request: tuple[str, tuple[Any, ...]]) -> Any:
    name, args = request
    try:
        return getattr(bridge, name)(*args)
    except AssetGenError as exc:
        return ("error", type(exc).__name__, str(exc))


def bridge_concurrency(testkit_path, tmp_path, figures, per_thread: int) -> None:
    folder = tiny_model(tmp_path / "wave")
    rng = random.Random(per_thread + 1)
    pool = bridge_requests(rng, 200)
    serial = Bridge(Engine(device="cpu", plugins=["exporters", "testkit", wave_plugin(folder)]))
    expected = [bridge_serve(serial, r) for r in pool]
    bridge = Bridge(Engine(device="cpu", plugins=["exporters", "testkit", wave_plugin(folder)]))
    work = [[rng.randrange(len(pool)) for _ in range(per_thread)] for _ in range(8)]
    results = run_concurrently(8, work, lambda i: (i, bridge_serve(bridge, pool[i])))
    assert [i for batch in results for i, got in batch if got != expected[i]] == []
    figures["concurrent bridge requests served (8 threads), identical to serial"] += sum(
        len(b) for b in results
    )


def test_8_threads_through_the_bridge_match_the_serial_run(testkit_path, tmp_path, figures) -> None:
    bridge_concurrency(testkit_path, tmp_path, figures, per_thread=100)


@pytest.mark.heavy
def test_8_threads_x_500_through_the_bridge(testkit_path, tmp_path, figures) -> None:
    bridge_concurrency(testkit_path, tmp_path, figures, per_thread=500)


def test_concurrent_batch_exports_into_separate_folders(testkit_path: Path, tmp_path: Path) -> None:
    """Several batch jobs at once on one engine (a build pipeline's worker threads)."""
    from assetgen.batch import load_job, run_job

    engine = Engine(device="cpu", plugins=["exporters", "testkit"])
    job = tmp_path / "job.toml"
    job.write_text(
        "[[run]]\ngenerator = 'blob'\ncount = 20\nformats = ['png', 'sheet']\n"
        "[[run]]\ngenerator = 'echo'\ncount = 5\n"
    )

    def one(k: int) -> dict[str, bytes]:
        out = tmp_path / f"out{k}"
        run_job(engine, load_job(job, engine, out=out), progress=False)
        return {
            str(p.relative_to(out)): p.read_bytes()
            for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        }

    with ThreadPoolExecutor(6) as pool:
        trees = list(pool.map(one, range(6)))
    assert all(t == trees[0] for t in trees) and len(trees[0]) == 20 + 2 + 1 + 1
