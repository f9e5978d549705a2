"""Export a label-conditioned portraits run to the model folder the runtime reads.

Two ONNX graphs (opset 15, batch dynamic, no random ops):

- ``mapping.onnx``: ``label_weights`` (N x V, the soft one-hot of every label column) ->
  ``w`` (N x w_dim), ``maps16`` (N x C16 x 16 x 16) and ``maps32`` (N x C32 x 32 x 32). The
  map tables are stored as float16 initialisers and cast to float32 in the graph (half the
  file size; the parity figures below include that rounding).
- ``synthesis.onnx``: ``ws`` (N x num_ws x w_dim), ``maps16``, ``maps32`` -> ``rgba``
  (N x 4 x 64 x 64), straight (not premultiplied) RGBA in [0, 1]: the network draws
  premultiplied colour, which the graph clamps to [0, alpha] and divides by alpha, so a pixel
  the model leaves transparent cannot carry garbage colour.

Everything else is data in ``manifest.json``: the label space, the label distribution a seed
draws from, the option names and colour names, ``w_avg``, the mouth and eye states the talk and
blink animations move between, and attribute vectors (in ``attributes.csv``), so any runtime
(the C# one included) can make the same sprite from a seed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .dataset_builder import ADVENTURER_EYES_STATE, ADVENTURER_MOUTH_STATE, STYLE_LICENCES
from .model import LabelGenerator, LabelSpace
from .names import COLOR_NAMES, OPTION_COLUMNS
from .regions import mouth_footprints
from .train import CONDITION_COLUMNS, load_label_generator, load_labelled

#: the column a seed draws first; every other column is drawn given it
GIVEN = "hair"
SAMPLED = ("hairColor", "skinColor", "eyebrows", "eyes", "mouth", "glasses", "earrings", "details")


#: how many values of one label column the exported mapping reads: the largest weights. The
#: runtimes never give more than two (a still is one-hot; a morph or mouth frame blends two)
MAP_VALUES_READ = 2


class _Mapping(nn.Module):
    """The exported mapping, written for few graph nodes (each node has a fixed cost a call,
    which counts at one sprite a call; ``python -m benchmarks --only 7``):

    - **w**: one product of the label weights with a block matrix holding every column's
      embedding table (rows of a column without an embedding are zero), then the MLP;
    - **maps**: the spatial maps are gathered: each map column's ``MAP_VALUES_READ`` largest
      weights are found by one TopK over a padded (N x columns x values) view of the weights,
      and only those rows of the map table are read and summed by weight, instead of
      multiplying the whole table (13 MB as float32) by a mostly-zero vector. The 32 px
      columns are the 16 px ones less the first, so they reuse the same TopK.

    Both give exactly what :class:`LabelMapping` gives for one-hot weights; for the two-value
    blends of morph and mouth frames they agree to float rounding."""

    def __init__(self, G: LabelGenerator) -> None:
        super().__init__()
        self.G = G
        m, space = G.mapping, G.space
        if m.map32_columns != m.map_columns[len(m.map_columns) - len(m.map32_columns):]:
            raise ValueError("the 32 px map columns must be the last of the 16 px ones")
        e = next(iter(m.embed.values())).shape[1]
        block = torch.zeros(space.size, e * len(m.w_columns))
        for i, column in enumerate(m.w_columns):
            block[space.span(column), i * e : (i + 1) * e] = m.embed[column].detach()
        self.register_buffer("embed_block", block)
        widest = max(len(space.values(c)) for c in m.map_columns)
        # index into the weights with one zero appended (index space.size) for the padding.
        # A pad can win only a tie at weight 0 (ONNX's TopK keeps the lower index, a real
        # value, first; torch's may not); its position is clamped to the column's last row,
        # which it then adds times 0
        pad = torch.full((len(m.map_columns), widest), space.size, dtype=torch.long)
        first = torch.zeros(len(m.map_columns), 1, dtype=torch.long)
        last = torch.zeros(len(m.map_columns), 1, dtype=torch.long)
        row = 0
        for i, column in enumerate(m.map_columns):
            span = space.span(column)
            pad[i, : span.stop - span.start] = torch.arange(span.start, span.stop)
            first[i, 0], last[i, 0] = row, span.stop - span.start - 1
            row += span.stop - span.start
        self.register_buffer("padded", pad)
        self.register_buffer("last", last)
        self.register_buffer("first16", first)
        skip = len(m.map_columns) - len(m.map32_columns)
        self.register_buffer("first32", first[skip:] - first[skip])
        self.skip = skip

    def forward(self, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m = self.G.mapping
        w = m.mlp(weights @ self.embed_block)
        padded = F.pad(weights, (0, 1))[:, self.padded]  # N x columns x widest
        value, index = torch.topk(padded, k=MAP_VALUES_READ, dim=2)
        index = torch.minimum(index, self.last)

        s = self.skip
        k16 = len(m.map_columns) * MAP_VALUES_READ  # Python ints: no shape arithmetic
        k32 = len(m.map32_columns) * MAP_VALUES_READ  # in the graph
        # one gather of every row read, one (N x 1 x K) @ (N x K x D) product per table
        rows16 = (index + self.first16).reshape(-1, k16)
        m16 = value.reshape(-1, 1, k16) @ m.maps16[rows16]
        rows32 = (index[:, s:] + self.first32).reshape(-1, k32)
        m32 = value[:, s:].reshape(-1, 1, k32) @ m.maps32[rows32]
        return w, m16.reshape(-1, m.c16, 16, 16), m32.reshape(-1, m.c32, 32, 32)


def store_tables_as_half(path: Path, shapes: list[tuple[int, ...]]) -> list[str]:
    """Rewrite the large float32 initialisers of an ONNX graph (the map tables) as float16
    followed by a Cast to float32: half the file, the same graph interface (opset 6+ Cast).
    The tables are rounded to float16 once, here; the parity check runs after this.

    Where a table is read only by Gathers, the Cast goes after each Gather instead: a runtime
    then keeps the table as float16 (half the memory) and widens only the rows it read,
    which is also quicker for one sprite a call (fewer bytes read; ``python -m benchmarks
    --only 7``). Widening float16 is exact, so the values are the same either way."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    halved = []
    for init in list(graph.initializer):
        if init.data_type != onnx.TensorProto.FLOAT or tuple(init.dims) not in shapes:
            continue
        table = numpy_helper.to_array(init).astype(np.float16)
        half = numpy_helper.from_array(table, name=f"{init.name}_float16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        readers = [n for n in graph.node if init.name in n.input]
        if readers and all(n.op_type == "Gather" and list(n.input).index(init.name) == 0
                           for n in readers):
            for reader in readers:
                widened = reader.output[0]
                reader.input[0] = half.name
                reader.output[0] = f"{widened}_float16"
                at = list(graph.node).index(reader) + 1
                graph.node.insert(at, helper.make_node(
                    "Cast", [reader.output[0]], [widened], to=onnx.TensorProto.FLOAT
                ))
        else:
            cast = helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT)
            graph.node.insert(0, cast)
        halved.append(init.name)
    tmp = path.with_suffix(".onnx.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return halved


#: alpha below this (of 255) is cleared: the DiceBear renders have no pixel with alpha 1-7
#: (resvg's anti-aliasing starts at 8), while the model leaves a faint haze of such values
#: around the character (`assetgen eval portraits` of an export at step 5,000 without this
#: floor: 271 pixels with alpha > 0 a sprite beyond 1 px of the real silhouette; the shipped
#: export, with it: 1.8)
ALPHA_FLOOR = 7.5


def straight_rgba(premul: torch.Tensor) -> torch.Tensor:
    """Generator output (premultiplied, about [-1, 1]) -> straight RGBA in [0, 1]."""
    x = ((premul + 1) * 0.5).clamp(0, 1)
    a = x[:, 3:]
    alpha = torch.where(a > ALPHA_FLOOR / 255, a, torch.zeros((), dtype=a.dtype))
    rgb = torch.minimum(x[:, :3], alpha) / alpha.clamp_min(1.0 / 512)
    return torch.cat([rgb, alpha], dim=1)


class _Synthesis(nn.Module):
    def __init__(self, G: LabelGenerator) -> None:
        super().__init__()
        self.G = G

    def forward(self, ws: torch.Tensor, maps16: torch.Tensor, maps32: torch.Tensor) -> torch.Tensor:
        return straight_rgba(self.G.synthesis(ws, maps16, maps32))


def label_sampling(space: LabelSpace, codes: np.ndarray) -> dict[str, Any]:
    """The label distribution of the still portraits (the curated main set): the marginal of
    ``GIVEN`` and, for each other column, its distribution given ``GIVEN`` (so earrings only
    come with hair that shows the ears, as in the renders)."""
    names = list(space.names)
    given = codes[:, names.index(GIVEN)]
    n_given = len(space.values(GIVEN))
    marginal = np.bincount(given, minlength=n_given).astype(np.float64)
    tables: dict[str, list[list[float]]] = {}
    for col in SAMPLED:
        k = names.index(col)
        n = len(space.values(col))
        table = np.zeros((n_given, n))
        np.add.at(table, (given, codes[:, k]), 1.0)
        overall = table.sum(0) / table.sum()
        rows = []
        for g in range(n_given):
            row = table[g] / table[g].sum() if table[g].sum() > 0 else overall
            rows.append([round(float(p), 6) for p in row])
        tables[col] = rows
    return {
        "given": GIVEN,
        "order": list(SAMPLED),
        "marginal": [round(float(p), 6) for p in marginal / marginal.sum()],
        "conditional": tables,
    }


def _states(space: LabelSpace) -> dict[str, Any]:
    mouths = space.values("mouth")
    eyes = space.values("eyes")
    return {
        "mouth": {v: ADVENTURER_MOUTH_STATE[v] for v in mouths if v in ADVENTURER_MOUTH_STATE},
        "eyes": {v: ADVENTURER_EYES_STATE[v] for v in eyes if v in ADVENTURER_EYES_STATE},
    }


#: the small open mouths (25-50 changed pixels at 64 px, against 60-100 for the wide ones):
#: the half-open frame of a talk animation
HALF_OPEN = ("variant03", "variant07", "variant21")


def _mouth_families() -> list[dict[str, list[str]]]:
    """The pairs' mouth families (closed <-> open of the same kind: red lips stay red), each
    with its small open mouths as ``half``."""
    from .dataset_builder import ADVENTURER_CURATION

    return [
        {
            "closed": list(closed),
            "open": [m for m in opened if m not in HALF_OPEN] or list(opened),
            "half": [m for m in opened if m in HALF_OPEN],
        }
        for closed, opened in ADVENTURER_CURATION.mouth_families
    ]


def _mouth_shapes(space: LabelSpace) -> dict[str, str]:
    """The Rhubarb shape letters' mouths (``Curation.mouth_shapes``), when the model has every
    one of them (else none: the ``mouths`` animation and lip sync are then refused)."""
    from .dataset_builder import ADVENTURER_CURATION

    shapes = dict(ADVENTURER_CURATION.mouth_shapes)
    return shapes if set(shapes.values()) <= set(space.values("mouth")) else {}


def _untrained(space: LabelSpace, data: dict[str, Any], train_codes: np.ndarray) -> dict:
    """Column -> values no training image has: the model never learnt to draw them, so they
    are not offered as options."""
    codes = train_codes
    if data["speech_codes"] is not None:
        codes = np.concatenate([codes, data["speech_codes"]])
    out = {}
    for k, name in enumerate(space.names):
        seen = set(np.unique(codes[:, k]).tolist())
        missing = [v for i, v in enumerate(space.values(name)) if i not in seen]
        if missing:
            out[name] = missing
    return out


def _parity(G: LabelGenerator, out: Path, codes: np.ndarray) -> dict[str, float]:
    import onnxruntime as ort

    def session(name: str) -> Any:
        return ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"])

    weights = G.space.one_hot(torch.from_numpy(codes[:64]))
    with torch.no_grad():
        w, m16, m32 = G.mapping(weights)
        ws = w[:, None].expand(-1, G.num_ws, -1).contiguous()
        img = straight_rgba(G.synthesis(ws, m16, m32))
    w_o, m16_o, m32_o = session("mapping.onnx").run(None, {"label_weights": weights.numpy()})
    (img_o,) = session("synthesis.onnx").run(
        None, {"ws": ws.numpy(), "maps16": m16_o, "maps32": m32_o}
    )
    alpha = img[:, 3:].numpy()
    # colour only counts where it is seen: straight RGB under alpha ~0 is undefined; and a
    # pixel whose alpha sits on the floor may be cleared by one runtime and not the other
    with torch.no_grad():
        raw_alpha = ((G.synthesis(ws, m16, m32)[:, 3:] + 1) * 0.5).numpy()
    off_floor = np.abs(raw_alpha - ALPHA_FLOOR / 255) > 2e-3
    visible = np.concatenate([alpha.repeat(3, 1), np.ones_like(alpha)], 1) * off_floor
    seen = np.abs(img_o - img.numpy()) * visible
    return {
        "mapping_w": float(np.abs(w_o - w.numpy()).max()),
        "maps16": float(np.abs(m16_o - m16.numpy()).max()),
        "maps32": float(np.abs(m32_o - m32.numpy()).max()),
        "rgba_premultiplied": float(seen.max()),
    }


def export(run: Path, out: Path, *, attributes: bool = True) -> Path:
    """``run``: a run folder (its ``best.pt``, else ``checkpoint.pt``) or one checkpoint file."""
    from assetgen.training import write_manifest
    from assetgen.training.onnx_export import (
        MAX_OPSET,
        export_onnx,
        graph_opset,
        previous_metrics,
    )

    if run.is_file():
        G, config, step = load_label_generator(run.parent, run.name)
    else:
        G, config, step = load_label_generator(run)
    space = G.space
    data = load_labelled(Path(config["data"]))
    n_main = len(data["codes"]) - int(config["holdout"])
    train_codes = data["codes"][:n_main]
    with torch.no_grad():
        G.mapping.w_avg.copy_(
            G.mapping.w(space.one_hot(torch.from_numpy(train_codes[:8192]))).mean(0)
        )
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("synthesis_prefix.onnx", "synthesis_suffix.onnx", "synthesis_suffix_mouth.onnx",
                  "synthesis_suffix_blink.onnx", "classifier.onnx"):
        (out / stale).unlink(missing_ok=True)
    batch = {0: "batch"}
    example = space.one_hot(torch.from_numpy(train_codes[:2]))
    export_onnx(
        _Mapping(G), (example,), out / "mapping.onnx", ["label_weights"],
        ["w", "maps16", "maps32"],
        {"label_weights": batch, "w": batch, "maps16": batch, "maps32": batch},
    )
    tables = [tuple(G.mapping.maps16.shape), tuple(G.mapping.maps32.shape)]
    if len(store_tables_as_half(out / "mapping.onnx", tables)) != 2:
        raise RuntimeError("mapping.onnx: expected the two map tables among its initialisers")
    with torch.no_grad():
        w, m16, m32 = G.mapping(example)
    ws = w[:, None].expand(-1, G.num_ws, -1).contiguous()
    export_onnx(
        _Synthesis(G), (ws, m16, m32), out / "synthesis.onnx", ["ws", "maps16", "maps32"],
        ["rgba"], {"ws": batch, "maps16": batch, "maps32": batch, "rgba": batch},
    )
    parity = _parity(G, out, train_codes)
    if max(parity.values()) > 2e-2:
        raise RuntimeError(f"ONNX parity check failed: {parity}")
    files = ["mapping.onnx", "synthesis.onnx"]
    attribute_rows: list[dict[str, Any]] = []
    if attributes:
        from .attributes import attribute_vectors, write_attributes

        attribute_rows = attribute_vectors(G, train_codes)
        write_attributes(out / "attributes.csv", attribute_rows, int(config["label_w_dim"]))
        files.append("attributes.csv")
    previous = previous_metrics(out, conditioning="labels")
    m = G.mapping
    lic = STYLE_LICENCES["adventurer"]
    manifest: dict[str, Any] = {
        "name": "portraits-labels",
        "generator": "portraits",
        "format": "onnx",
        "conditioning": "labels",
        "opset": max(graph_opset(out / f) for f in ("mapping.onnx", "synthesis.onnx")),
        "max_opset": MAX_OPSET,
        "resolution": [64, 64],
        "alpha_floor": ALPHA_FLOOR,
        "label_space": space.to_json(),
        "label_sampling": label_sampling(space, train_codes),
        "untrained_values": _untrained(space, data, train_codes),
        "options": OPTION_COLUMNS,
        "color_names": COLOR_NAMES,
        "states": _states(space),
        "mouth_families": _mouth_families(),
        "mouth_shapes": _mouth_shapes(space),
        "regions": {"mouth": mouth_footprints(list(space.values("mouth")))},
        "w_dim": int(config["label_w_dim"]),
        "num_ws": G.num_ws,
        "w_avg": [round(float(v), 6) for v in m.w_avg],
        "maps": {"maps16": [m.c16, 16, 16], "maps32": [m.c32, 32, 32],
                 "map16_columns": list(m.map_columns), "map32_columns": list(m.map32_columns),
                 "w_columns": list(m.w_columns)},
        "inputs": {
            "mapping.onnx": {"label_weights": ["batch", space.size]},
            "synthesis.onnx": {
                "ws": ["batch", G.num_ws, int(config["label_w_dim"])],
                "maps16": ["batch", m.c16, 16, 16],
                "maps32": ["batch", m.c32, 32, 32],
            },
        },
        "attributes": [
            {k: v for k, v in a.items() if k != "vector"} for a in attribute_rows
        ],
        "training": {
            "steps": step,
            "images_seen": step * int(config["label_batch"]),
            "config": {k: v for k, v in config.items() if k not in ("data", "label_space")},
        },
        "parity": {"label_sets": 64, "max_abs_diff": parity, "threshold": 2e-2},
        "data": "DiceBear 'adventurer' portraits rendered offline (assetgen_portraits.dataset), "
        "with their exact labels",
        "license": f"MIT (weights); training data: 'Adventurer' by {lic.creator}, {lic.name}",
        "attribution": lic.attribution,
        "metrics": previous,
    }
    if (out / "MODEL_CARD.md").is_file():
        files.append("MODEL_CARD.md")
    write_manifest(out, manifest, files)
    print(f"exported step {step} of {run}; parity {parity}", file=sys.stderr)
    return out / "synthesis.onnx"


def _check_columns(space: LabelSpace) -> None:
    missing = [c for c in CONDITION_COLUMNS if c not in space.names]
    if missing:
        raise RuntimeError(f"the run's label space lacks {missing}")
