"""Speed of candidate label-generator layouts in ONNX Runtime, before training any of them.

    python -m benchmarks.label_layouts            # the shipped layout and the ones before it
    python -m benchmarks.label_layouts --batch 1  # one sprite a call, as a game asks

Each layout is built with random weights (speed does not depend on the weights), exported as
the synthesis graph the runtime ships (``assetgen_portraits.training.export``'s wrapper,
opset 15) and timed in one process, one thread, side by side: milliseconds a sprite, and the
ratio to the first layout. Multiply-adds come from ``LabelGenerator.multiply_adds``. This is
how the shipped layout (issue 20) was chosen: time per sprite in ONNX Runtime does not follow
multiply-adds alone (channel counts that are not multiples of 16 are padded in its blocked
layout; resize ops and the 64 px stage cost more than their arithmetic). Needs the train extra.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

#: name -> (label_channels, head_channels, up_mode, head_mode)
LAYOUTS: dict[str, tuple[list[int], int, str, str]] = {
    "replaced (v2.1)": ([96, 96, 96, 64], 16, "bilinear", "refine"),
    "narrow 40 (tried)": ([96, 96, 96, 40], 12, "bilinear", "refine"),
    "narrow 40, subpixel+shuffle": ([96, 96, 96, 40], 12, "subpixel", "shuffle"),
    "96 at 16 px (v3)": ([96, 96, 96, 32], 12, "subpixel", "shuffle"),
    "64 at 16 px (v4)": ([96, 96, 64, 32], 12, "subpixel", "shuffle"),
}


def _session(layout: tuple[list[int], int, str, str], folder: Path) -> tuple[Any, Any, float]:
    import onnxruntime as ort
    import torch
    from assetgen_portraits.training.export import _Synthesis
    from assetgen_portraits.training.model import DEFAULT_LABEL_CONFIG, LabelGenerator, LabelSpace

    from assetgen.training.onnx_export import export_onnx

    channels, head, up, head_mode = layout
    space = LabelSpace((("hair", ("none", "a")), ("hairColor", ("none", "#000000")),
                        ("skinColor", ("#ffffff",)), ("eyes", ("a", "b")), ("mouth", ("a", "b"))))
    cfg = dict(DEFAULT_LABEL_CONFIG, label_channels=channels, head_channels=head,
               up_mode=up, head_mode=head_mode)
    cfg["map32_channels"] = min(int(cfg["map32_channels"]), channels[3])
    torch.manual_seed(0)
    G = LabelGenerator(space, cfg).eval()
    with torch.no_grad():
        w, m16, m32 = G.mapping(space.one_hot(torch.zeros(2, len(space.names), dtype=torch.long)))
    ws = w[:, None].expand(-1, G.num_ws, -1).contiguous()
    path = folder / f"{abs(hash(str(layout)))}.onnx"
    batch = {0: "batch"}
    export_onnx(_Synthesis(G), (ws, m16, m32), path, ["ws", "maps16", "maps32"], ["rgba"],
                {"ws": batch, "maps16": batch, "maps32": batch, "rgba": batch})
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return session, (G.num_ws, ws.shape[-1], tuple(m16.shape[1:]), tuple(m32.shape[1:])), \
        G.multiply_adds() / 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    from .common import median, side_by_side

    rng = np.random.default_rng(0)
    calls: dict[str, Any] = {}
    macs: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, layout in LAYOUTS.items():
            session, (nw, wd, s16, s32), macs[name] = _session(layout, Path(tmp))
            feeds = {
                "ws": rng.standard_normal((args.batch, nw, wd), dtype=np.float32),
                "maps16": rng.standard_normal((args.batch, *s16), dtype=np.float32),
                "maps32": rng.standard_normal((args.batch, *s32), dtype=np.float32),
            }
            calls[name] = lambda s=session, f=feeds: s.run(None, f)
        times = side_by_side(calls, args.reps, 0.3)
    first = next(iter(LAYOUTS))
    base = median(times[first])
    print(f"synthesis graph, batch {args.batch}, 1 thread, median of {args.reps}")
    for name in LAYOUTS:
        t = median(times[name])
        print(f"{name:30s} {macs[name]:6.1f} M multiply-adds  "
              f"{t / args.batch * 1e3:.3f} ms/sprite  {base / t:.2f}x the first")


if __name__ == "__main__":
    main()
