"""``assetgen export shoes``: a training run's EMA generator to ``shoes.onnx`` and its
manifest, with a PyTorch vs ONNX Runtime parity check."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from assetgen import ModelError
from assetgen.training.run import read_checkpoint

from .data import DEFAULT_DATA
from .model import ShoeGenerator


class _ExportWrapper(torch.nn.Module):
    """z, type -> RGBA in [0, 1] (the runtime only rounds to uint8)."""

    def __init__(self, generator: ShoeGenerator) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, shoe_type: torch.Tensor) -> torch.Tensor:
        return ((self.generator(z, shoe_type) + 1) * 0.5).clamp(0, 1)


def load_run_generator(run_dir: Path) -> tuple[ShoeGenerator, dict[str, Any], int]:
    state, _ = read_checkpoint(run_dir)
    config = json.loads(state["config"])
    G = ShoeGenerator(config["z_dim"], len(config["type_names"]), config["width"])
    G.load_state_dict(state["G_ema"])
    return G.eval(), config, int(state["step"])


def _data_summary(source: str | None) -> str:
    """The manifest's ``data`` line for a run trained on a built set (an npz file)."""
    path = Path(source) if source else DEFAULT_DATA
    if path.is_file():
        with np.load(path) as npz:
            icons, sets = len(npz["labels"]), len(npz["source_names"])
        return f"{icons} footwear icons from {sets} npm icon sets (see data/LICENSES.md)"
    return "footwear icons from npm icon sets (see data/LICENSES.md)"


def export(run_dir: Path, out: Path) -> Path:
    import onnxruntime as ort

    from assetgen.training import write_manifest
    from assetgen.training.onnx_export import MAX_OPSET, export_onnx, graph_opset, previous_metrics

    G, config, step = load_run_generator(run_dir)
    wrapper = _ExportWrapper(G).eval()
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "shoes.onnx"
    example = (torch.zeros(2, config["z_dim"]), torch.zeros(2, dtype=torch.long))
    export_onnx(
        wrapper,
        example,
        onnx_path,
        ["z", "type"],
        ["rgba"],
        {"z": {0: "batch"}, "type": {0: "batch"}, "rgba": {0: "batch"}},
    )
    # parity: PyTorch vs ONNX Runtime on 64 seeds, in [0, 1] pixel units
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(64, config["z_dim"], generator=gen)
    t = torch.randint(0, len(config["type_names"]), (64,), generator=gen)
    with torch.no_grad():
        expected = wrapper(z, t).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"z": z.numpy(), "type": t.numpy()})
    parity = float(np.abs(got - expected).max())
    if parity > 1e-3:
        raise ModelError(f"ONNX parity check failed: max abs difference {parity:.2e} > 1e-3")
    previous = previous_metrics(out)
    manifest = {
        "name": "shoes-dcgan",
        "generator": "shoes",
        "format": "onnx",
        "opset": graph_opset(onnx_path),
        "max_opset": MAX_OPSET,
        "inputs": {"z": ["batch", config["z_dim"]], "type": ["batch"]},
        "outputs": {"rgba": ["batch", 4, 64, 64]},
        "resolution": [64, 64],
        "z_dim": config["z_dim"],
        "type_names": config["type_names"],
        "training": {"steps": step, "config": {k: v for k, v in config.items() if k != "data"}},
        "parity": {"seeds": 64, "max_abs_diff": parity, "threshold": 1e-3},
        "data": _data_summary(config.get("data")),
        "license": "MIT (weights); training data CC BY 3.0 / CC BY 4.0 / Apache-2.0 / MIT",
        "metrics": previous,
    }
    source = config.get("data")  # absent in runs made before own-art training existed
    if source and Path(source).is_dir():  # trained on a folder of your own art
        manifest.update(
            name="shoes-own-art",
            data=f"your own art: the images in the folder {Path(source).name!r} "
            "(assetgen.training.image_folder rules)",
            license="set by the model's owner: the licence of the art it was trained on",
        )
    files = ["shoes.onnx"] + (["MODEL_CARD.md"] if (out / "MODEL_CARD.md").is_file() else [])
    write_manifest(out, manifest, files)
    print(f"exported step {step}; parity max abs diff {parity:.2e}", file=sys.stderr)
    return onnx_path
