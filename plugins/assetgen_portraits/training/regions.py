"""Where each mouth variant draws: per-variant pixel footprints, measured on real renders.

DiceBear's adventurer parts sit at fixed places on a fixed face, so a mouth variant covers the
same pixels on every face. A footprint is the set of pixels (64 x 64) that change when the
variant is drawn on a face that has no mouth, over a few faces of different skin colours, grown
by one pixel for the antialiased outline. The runtime keeps a talking frame's change inside the
footprints of the two mouths involved (``labels.Regions``), so that a mouth shape changes
pixels only around the mouth, as a sprite artist's mouth swap does.

    python -m assetgen_portraits.training.regions MODEL_DIR     # add them to a model folder

Stored in ``manifest.json`` as ``regions.mouth.<variant>``: runs ``[row, first, end)``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..labels import grow_mask
from . import dataset_builder as D

#: faces the footprints are measured on: one per skin colour, with and without hair
FACES = 8
#: a pixel belongs to a footprint when any RGBA channel changes by more than this (of 255)
THRESHOLD = 8


def runs(mask: np.ndarray) -> list[list[int]]:
    """Row runs ``[row, first, end)`` of a boolean mask."""
    out = []
    for y, row in enumerate(np.asarray(mask, bool)):
        padded = np.concatenate([[False], row, [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        out += [[y, int(a), int(b)] for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return out


def mouth_footprints(
    values: list[str], style: str = D.DEFAULT_STYLE, faces: int = FACES
) -> dict[str, list[list[int]]]:
    """Mouth variant -> footprint runs (64 x 64), for every variant in ``values`` but 'none'."""
    spec = D.style_spec(style)
    rng = np.random.default_rng(2026)
    bases = []
    for k in range(faces):
        char = D.sample_character(spec, rng)
        bases.append(D._with(char, mouth=None, glasses=None))  # type: ignore[arg-type]
        if k % 2:
            bases[-1] = D._with(bases[-1], hair=None)  # type: ignore[arg-type]
    plain = [D.decode_png(D.render(style, b)[0]).astype(np.int16) for b in bases]
    out = {}
    for value in values:
        if value == D.NONE:
            continue
        mask = np.zeros(plain[0].shape[:2], bool)
        for base, still in zip(bases, plain, strict=True):
            drawn = D.decode_png(D.render(style, D._with(base, mouth=value))[0]).astype(np.int16)
            mask |= np.abs(drawn - still).max(-1) > THRESHOLD
        out[value] = runs(grow_mask(mask))
    return out


def main(argv: list[str] | None = None) -> int:
    from assetgen.training import MANIFEST_NAME, write_manifest

    parser = argparse.ArgumentParser(description="Add mouth footprints to a portraits model.")
    parser.add_argument("model_dir", type=Path)
    args = parser.parse_args(argv)
    path = args.model_dir / MANIFEST_NAME
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("conditioning") != "labels":
        print(f"error: {path} is not a label-conditioned portraits model", file=sys.stderr)
        return 2
    mouth = next(c for c in manifest["label_space"] if c["name"] == "mouth")
    manifest["regions"] = {"mouth": mouth_footprints(list(mouth["values"]))}
    manifest["mouth_shapes"] = dict(D.ADVENTURER_CURATION.mouth_shapes)
    files = [name for name in manifest.get("files", {}) if (args.model_dir / name).is_file()]
    write_manifest(args.model_dir, manifest, files)
    print(f"{path}: mouth footprints of {len(manifest['regions']['mouth'])} variants added")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
