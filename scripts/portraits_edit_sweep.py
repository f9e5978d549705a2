"""Sweeps behind two choices of the portraits analysis
(plugins/assetgen_portraits/training/analysis.py), rerunnable on any trained run and exported
model:

    python scripts/portraits_edit_sweep.py rest-push RUN_DIR [--model-dir DIR] [--values ...]
        [--sheet PNG]
    python scripts/portraits_edit_sweep.py attribute-grid RUN_DIR [--model-dir DIR] [--grid ...]

``rest-push``: the shipped mouth edit (layer, channels, pattern, gain from the model's manifest)
with its reference (closed) state taken at each share of the discovery push toward closed
(``analysis.REST_PUSH`` is the shipped choice), judged on the 96 held-out faces discovery
uses (``analysis.judge_edit``: effective share, median locality); ``--sheet`` writes the first
8 faces' closed frames, one row per value, to look at.

``attribute-grid``: each shipped attribute vector's strength tuned on a wider grid than
``analysis.ATTRIBUTE_GRID`` (``analysis._strength`` on 200 faces, as the export does):
the flip rate and how well the other attributes are kept at the best strength.

PyTorch on CPU; a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))

from assetgen_portraits.local_edits import LocalEdit  # noqa: E402
from assetgen_portraits.training import (  # noqa: E402
    analysis,  # noqa: E402
    unconditional_export,
    unconditional_train,
)


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def _vectors(model_dir: Path) -> dict[str, dict[str, Any]]:
    with open(model_dir / "attributes.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {
        r["name"]: {
            "strength": float(r["strength"]),
            "vector": np.array([float(v) for k, v in r.items() if k.startswith("w")], np.float32),
        }
        for r in rows
    }


def rest_push(G: Any, clf: Any, manifest: dict[str, Any], vectors: dict, args: Any) -> None:
    from assetgen.training.run import contact_sheet

    spec = dict(manifest["edits"]["mouth"])
    layer, channels = int(spec["layer"]), spec["channels"]
    region = np.array([[c == "1" for c in row] for row in manifest["regions"]["mouth"]])
    mouth = vectors["mouth_open"]
    push = torch.from_numpy(analysis.PAIRED_PUSH * mouth["strength"] * mouth["vector"])
    # the faces and held-out faces discover_edit uses (same seeds and truncations)
    ws = analysis.sample_ws(G, 512, 21, 0.8)
    val_ws = analysis.sample_ws(G, analysis.SIZES["edit_val"], 22, 0.7)
    val_feats, val_skips = analysis.prefix_features(G, val_ws, layer)
    rows = []
    for value in _floats(args.values):
        rest = analysis.prefix_features(G, ws - value * push, layer)[0].numpy()
        edit = LocalEdit({**spec, "reference": rest[:, channels].mean(0), "rest": None})
        effective, local, (off, _) = analysis.judge_edit(
            G, clf, edit, "mouth_open", region, val_feats, val_skips, val_ws
        )
        shipped = " (shipped REST_PUSH)" if value == analysis.REST_PUSH else ""
        print(f"reference at {value:g} of the push: effective {effective:.2f}, "
              f"locality {local:.2f}{shipped}", flush=True)
        rows.append(off[:8])
    if args.sheet:
        Path(args.sheet).write_bytes(contact_sheet(np.concatenate(rows), columns=8, scale=3))
        print(f"closed frames, one row per value: {args.sheet}")


def attribute_grid(G: Any, clf: Any, vectors: dict, args: Any) -> None:
    test_ws = analysis.sample_ws(G, 200, 12, 0.7)
    base = analysis.read_of(G, clf, test_ws)
    saved = analysis.ATTRIBUTE_GRID
    analysis.ATTRIBUTE_GRID = tuple(_floats(args.grid))
    try:
        for name, attr in vectors.items():
            row = analysis._strength(G, clf, name, attr["vector"], test_ws, base)
            print(f"{name}: best strength {row['strength']:g}, flips {row['flip_rate']:.2f}, "
                  f"all other groups kept {row['others_kept_rate']:.2f}, "
                  f"other groups kept (mean) {row['others_kept_mean']:.2f}", flush=True)
    finally:
        analysis.ATTRIBUTE_GRID = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", choices=["rest-push", "attribute-grid"])
    parser.add_argument("run_dir", type=Path, help="the training run the model came from")
    parser.add_argument("--model-dir", type=Path,
                        default=ROOT / "plugins" / "assetgen_portraits" / "model")
    parser.add_argument("--values", default="0,0.15,0.3,0.5", help="rest-push: shares")
    parser.add_argument("--sheet", default="", help="rest-push: PNG of the closed frames")
    parser.add_argument("--grid", default="0.5,1,1.5,2,3,4,6,8", help="attribute-grid: strengths")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    G, config, _ = unconditional_train.load_run_generator(args.run_dir)
    G.eval()
    clf, _ = unconditional_export._classifier_for(args.run_dir, config)
    manifest = json.loads((args.model_dir / "manifest.json").read_text(encoding="utf-8"))
    vectors = _vectors(args.model_dir)
    if args.sweep == "rest-push":
        rest_push(G, clf, manifest, vectors, args)
    else:
        attribute_grid(G, clf, vectors, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
