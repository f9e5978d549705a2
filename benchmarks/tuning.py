"""Opt-in tuning experiments (``--tune``): ONNX Runtime session options, measured side by side.

Each workload runs in sessions made from the product's own settings
(``assetgen.runtime.Runtime.session_options``) with one thing changed, all variants
alternating in the same run; the figure is the median speed-up over the product's setting
(> 1: the variant is faster). Nothing here changes the product: the README records which
setting paid, for the runtime's owners to apply.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .common import ItemResult, Settings, median, ratio, side_by_side, summary
from .dialogue import dialogue_step_feeds
from .models import ModelSource


def variants(ort: Any) -> dict[str, Callable[[Any], None]]:
    """Name -> change to the product's SessionOptions."""
    cores = os.cpu_count() or 1

    def intra(n: int) -> Callable[[Any], None]:
        def apply(o: Any) -> None:
            o.intra_op_num_threads = n

        return apply

    def config(key: str, value: str) -> Callable[[Any], None]:
        def apply(o: Any) -> None:
            o.add_session_config_entry(key, value)

        return apply

    def level(lv: Any) -> Callable[[Any], None]:
        def apply(o: Any) -> None:
            o.graph_optimization_level = lv

        return apply

    def no_arena(o: Any) -> None:
        o.enable_cpu_mem_arena = False

    def parallel(o: Any) -> None:
        o.execution_mode = ort.ExecutionMode.ORT_PARALLEL
        o.inter_op_num_threads = cores

    def no_spin_1(o: Any) -> None:
        o.intra_op_num_threads = 1
        o.add_session_config_entry("session.intra_op.allow_spinning", "0")

    out: dict[str, Callable[[Any], None]] = {
        "product (intra 0, ENABLE_ALL, arena, sequential)": lambda o: None,
        "intra_op_threads=1": intra(1),
        "no spinning (allow_spinning=0)": config("session.intra_op.allow_spinning", "0"),
        "intra_op_threads=1, no spinning": no_spin_1,
        "graph optimisation EXTENDED": level(ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED),
        "graph optimisation BASIC": level(ort.GraphOptimizationLevel.ORT_ENABLE_BASIC),
        "no CPU memory arena": no_arena,
        "parallel execution mode": parallel,
    }
    if cores > 2:
        out[f"intra_op_threads={cores // 2}"] = intra(cores // 2)
    return out


def _sessions(runtime: Any, folder: Path, files: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    import onnxruntime as ort

    result: dict[str, dict[str, Any]] = {}
    for name, change in variants(ort).items():
        opts = runtime.session_options()
        change(opts)
        result[name] = {
            f: ort.InferenceSession(str(folder / f), opts, providers=runtime.providers())
            for f in files
        }
    return result


def _label_portraits(p: ModelSource, runtime: Any) -> dict[str, dict[str, Any]]:
    """A label-conditioned model's still (mapping + synthesis, batch 1, the label weights of
    one seed's label set) and its synthesis at batch 32."""
    from assetgen_portraits.labels import LabelModel

    assert p.model_dir is not None
    m = p.manifest or {}
    labels = LabelModel(m)
    nw = int(m["num_ws"])
    s = _sessions(runtime, p.model_dir, ("mapping.onnx", "synthesis.onnx"))
    weights1 = labels.weights(labels.draw(0, {}))[None]
    weights32 = np.stack([labels.weights(labels.draw(seed, {})) for seed in range(32)])
    any_session = next(iter(s.values()))
    w32, m16_32, m32_32 = any_session["mapping.onnx"].run(None, {"label_weights": weights32})
    feeds32 = {
        "ws": np.ascontiguousarray(np.repeat(w32[:, None], nw, axis=1)),
        "maps16": m16_32,
        "maps32": m32_32,
    }

    def still(ss: dict[str, Any]) -> Callable[[], object]:
        def run() -> object:
            w, m16, m32 = ss["mapping.onnx"].run(None, {"label_weights": weights1})
            ws = np.repeat(w[:, None], nw, axis=1)
            return ss["synthesis.onnx"].run(None, {"ws": ws, "maps16": m16, "maps32": m32})

        return run

    return {
        "portraits still, batch 1 (generator path)": {k: still(v) for k, v in s.items()},
        "portraits synthesis, batch 32": {
            k: (lambda ss=v: ss["synthesis.onnx"].run(None, feeds32)) for k, v in s.items()
        },
    }


def workloads(sources: dict[str, ModelSource], runtime: Any) -> dict[str, dict[str, Any]]:
    """Workload name -> {variant name -> zero-argument callable}."""
    out: dict[str, dict[str, Any]] = {}
    p = sources["portraits"]
    if p.model_dir is not None and p.labels:
        out.update(_label_portraits(p, runtime))
    elif p.model_dir is not None:
        m = p.manifest or {}
        nw, zd, wd = int(m["num_ws"]), int(m["z_dim"]), int(m["w_dim"])
        s = _sessions(
            runtime,
            p.model_dir,
            ("mapping.onnx", "synthesis_prefix.onnx", "synthesis_suffix.onnx", "synthesis.onnx"),
        )
        rng = np.random.default_rng(0)
        z1 = rng.standard_normal((1, zd)).astype(np.float32)
        ws32 = np.repeat(rng.standard_normal((32, 1, wd)).astype(np.float32), nw, axis=1)

        def still(ss: dict[str, Any]) -> Callable[[], object]:
            def run() -> object:
                (w,) = ss["mapping.onnx"].run(None, {"z": z1})
                ws = np.repeat(w[:, None], nw, axis=1)
                f, k = ss["synthesis_prefix.onnx"].run(None, {"ws": ws})
                return ss["synthesis_suffix.onnx"].run(
                    None, {"features": f, "skip": k, "ws": ws, "delta": np.zeros_like(f)}
                )

            return run

        out["portraits still, batch 1 (generator path)"] = {k: still(v) for k, v in s.items()}
        out["portraits synthesis, batch 32"] = {
            k: (lambda ss=v: ss["synthesis.onnx"].run(None, {"ws": ws32})) for k, v in s.items()
        }
    sh = sources["shoes"]
    if sh.model_dir is not None:
        s = _sessions(runtime, sh.model_dir, ("shoes.onnx",))
        feeds = {
            "z": np.zeros((1, int((sh.manifest or {})["z_dim"])), np.float32),
            "type": np.zeros(1, np.int64),
        }
        out["shoes, batch 1"] = {
            k: (lambda ss=v: ss["shoes.onnx"].run(None, feeds)) for k, v in s.items()
        }
    d = sources["dialogue"]
    if d.model_dir is not None:
        graph = "dialogue_gpt_step.onnx"
        s = _sessions(runtime, d.model_dir, (graph,))
        dfeeds = dialogue_step_feeds(d.manifest or {}, 1, past=24)
        out["dialogue step"] = {k: (lambda ss=v: ss[graph].run(None, dfeeds)) for k, v in s.items()}
    return out


def bench_tuning(sources: dict[str, ModelSource], engine: Any, settings: Settings) -> ItemResult:
    item = ItemResult("T", "Tuning experiments: ONNX Runtime session options (opt-in)")
    loads = workloads(sources, engine.runtime)
    if not loads:
        item.skip("session options", "no model folder found for any generator")
        return item
    for workload, fns in loads.items():
        times = side_by_side(fns, settings.reps, settings.batch_s)
        base_name = next(iter(fns))
        base = times[base_name]
        speedups = {k: ratio(base, v) for k, v in times.items() if k != base_name}
        item.details[workload] = {
            "s_per_call": {k: summary(v) for k, v in times.items()},
            "speedup_vs_product": speedups,
        }
        best = max(speedups, key=lambda k: speedups[k])
        item.row(f"{workload}: product setting", median(base), "ms")
        for k, v in speedups.items():
            note = "best" if k == best else ""
            item.row(f"{workload}: {k} (speed-up)", v, "×", note=note)
    return item
