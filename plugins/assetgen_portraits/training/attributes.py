"""Attribute vectors of the label-conditioned model, computed exactly from the labels.

The source work averaged the W of generated faces that a classifier saw with an attribute and
subtracted the average W of all faces. Here every training face's labels are known, so each
vector is built from pairs, as the source's mouth edit was: for every training label set
without the value, the same set with the value swapped in, and the vector is the mean of
w(swapped) - w(original). Adding it at strength 1 moves a face's w by the average change a
real label swap makes. It is one direction for every face, and the mapping network makes each
swap differently: at strength 1 the judge read the new colour on 0-77% of faces. So the
runtime applies a label model's attribute per face instead (``plugin.label_batch``: toward the
same face's w with the colour swapped in, one more mapping run), and these mean vectors serve
as the record of each attribute and for models without labels. Only the columns that
reach the image through w alone have vectors (hair colour and skin colour); the drawn parts
(hair style, mouth, eyes, glasses...) are labels with their own spatial maps, chosen by the
label options.

A vector that comes out zero or non-finite is dropped with a printed reason, never shipped.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .model import LabelGenerator
from .names import COLOR_NAMES

#: column -> attribute name prefix
ATTRIBUTE_COLUMNS = {"hairColor": "hair_color", "skinColor": "skin"}
#: strength range users may ask for, and the strength that moves an average face over
STRENGTH_RANGE = (-2.0, 2.0)


def attribute_vectors(G: LabelGenerator, codes: np.ndarray) -> list[dict[str, Any]]:
    codes = codes[:4096]
    with torch.no_grad():
        w = G.mapping.w(G.space.one_hot(torch.from_numpy(codes))).numpy().astype(np.float64)
    rows = []
    names = list(G.space.names)
    for column, prefix in ATTRIBUTE_COLUMNS.items():
        k = names.index(column)
        for code, value in enumerate(G.space.values(column)):
            if value == "none":
                continue
            has = codes[:, k] == code
            name = f"{prefix}_{COLOR_NAMES.get(column, {}).get(value, value.lstrip('#'))}"
            if has.sum() < 10 or (~has).sum() < 10:
                print(f"attribute {name}: {has.sum()} faces have it; skipped", file=sys.stderr)
                continue
            swapped = codes[~has].copy()
            swapped[:, k] = code
            with torch.no_grad():
                w_swapped = G.mapping.w(G.space.one_hot(torch.from_numpy(swapped))).numpy()
            vector = (w_swapped.astype(np.float64) - w[~has]).mean(0)
            if not np.isfinite(vector).all() or np.linalg.norm(vector) < 1e-6:
                print(f"attribute {name}: zero or non-finite vector; dropped", file=sys.stderr)
                continue
            rows.append(
                {
                    "name": name,
                    "group": prefix,
                    "column": column,
                    "value": value,
                    "faces": int(has.sum()),
                    "strength_min": STRENGTH_RANGE[0],
                    "strength_max": STRENGTH_RANGE[1],
                    "strength": 1.0,
                    "vector": vector.astype(np.float32),
                }
            )
    return rows


def write_attributes(path: Path, rows: list[dict[str, Any]], w_dim: int) -> None:
    import csv
    import io

    from assetgen import write_atomic

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["name", "group", "strength_min", "strength_max", "strength"]
        + [f"w{i}" for i in range(w_dim)]
    )
    for r in rows:
        writer.writerow(
            [r["name"], r["group"], f"{r['strength_min']:g}", f"{r['strength_max']:g}",
             f"{r['strength']:g}"]
            + [f"{x:.6g}" for x in r["vector"]]
        )
    write_atomic(path, buf.getvalue().encode())
