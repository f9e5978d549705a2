"""Export an unconditional portraits run (``assetgen export portraits`` of a run trained with
``conditioning=none``): the mapping and the synthesis split at one layer as ONNX graphs, one
window graph per local edit, and for a run on the labelled set the attribute classifier, the
attribute vectors and the mouth and blink edits found from it; PyTorch vs ONNX Runtime parity
and the manifest.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from assetgen import ModelError

from .attributes import write_attributes
from .data import BUILD_HINT
from .stylegan import PortraitGenerator
from .unconditional_train import load_run_generator

# candidate split layers: the 16x16 and 32x32 convolutions and the first 64x64 one (the later
# the layer, the cheaper each animation frame: only the layers after it run per frame)
EDIT_LAYERS = (3, 4, 5, 6, 7)
# with no edit to place, the split sits where the shipped model's mouth edit was found
OWN_ART_SPLIT_LAYER = 6


class _Mapping(torch.nn.Module):
    def __init__(self, G: PortraitGenerator) -> None:
        super().__init__()
        self.G = G

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.G.mapping(z)


class _Synthesis(torch.nn.Module):
    def __init__(self, G: PortraitGenerator) -> None:
        super().__init__()
        self.G = G

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        return ((self.G.synthesis(ws) + 1) * 0.5).clamp(0, 1)


class _Prefix(torch.nn.Module):
    def __init__(self, G: PortraitGenerator, layer: int) -> None:
        super().__init__()
        self.G, self.layer = G, layer

    def forward(self, ws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.G.synthesis.prefix(ws, self.layer)


class _Suffix(torch.nn.Module):
    def __init__(self, G: PortraitGenerator, layer: int) -> None:
        super().__init__()
        self.G, self.layer = G, layer

    def forward(
        self, features: torch.Tensor, skip: torch.Tensor, ws: torch.Tensor, delta: torch.Tensor
    ) -> torch.Tensor:
        img = self.G.synthesis.suffix(features + delta, skip, ws, self.layer)
        return ((img + 1) * 0.5).clamp(0, 1)


class _SuffixWindow(torch.nn.Module):
    """:class:`_Suffix` on a fixed window of the split layer's map (an edit's ``crop``)."""

    def __init__(self, G: PortraitGenerator, layer: int, crop: list[int]) -> None:
        super().__init__()
        self.G, self.layer, self.crop = G, layer, (crop[0], crop[1], crop[2], crop[3])

    def forward(
        self, features: torch.Tensor, skip: torch.Tensor, ws: torch.Tensor, delta: torch.Tensor
    ) -> torch.Tensor:
        img = self.G.synthesis.suffix(features + delta, skip, ws, self.layer, window=self.crop)
        return ((img + 1) * 0.5).clamp(0, 1)


def edit_window(G: PortraitGenerator, layer: int, pattern: np.ndarray) -> dict[str, list[int]]:
    """Where an edit at ``layer`` can change the image, and the window of the map that computes
    that part exactly: ``paste`` (y0, y1, x0, x1 in output pixels) is the pattern's bounding
    box grown by the reach of the layers after the split (a 3x3 convolution reaches one pixel
    of its own resolution, a 2x bilinear upsampling one pixel of the resolution it reads);
    ``crop`` (in cells of the split layer's map) is that box grown by the reach again, since
    the window's own zero-padded border is wrong by as much, inward."""
    layers = G.synthesis.layers
    base = layers[layer].resolution
    reach = 0.0
    for i in range(layer + 1, G.synthesis.num_layers):
        k = layers[i].resolution / base
        reach += 1 / k + (2 / k if layers[i].conv.up else 0.0)
    margin = int(np.ceil(reach))
    cells = np.abs(pattern).sum(0) > 0
    rows, cols = np.flatnonzero(cells.any(1)), np.flatnonzero(cells.any(0))
    if len(rows) == 0:
        rows = cols = np.array([0, base - 1])

    def grow(lo: int, hi: int, by: int) -> tuple[int, int]:
        return max(0, int(lo) - by), min(base, int(hi) + 1 + by)

    py, px = grow(rows[0], rows[-1], margin), grow(cols[0], cols[-1], margin)
    cy, cx = grow(rows[0], rows[-1], 2 * margin), grow(cols[0], cols[-1], 2 * margin)
    scale = G.synthesis.resolution // base
    return {
        "crop": [cy[0], cy[1], cx[0], cx[1]],
        "paste": [py[0] * scale, py[1] * scale, px[0] * scale, px[1] * scale],
    }


class _Classifier(torch.nn.Module):
    """RGBA in [0, 1] (N x 4 x 64 x 64) -> features and one logits output per head."""

    def __init__(self, clf: torch.nn.Module, heads: list[str]) -> None:
        super().__init__()
        self.clf, self.heads = clf, heads

    def forward(self, rgba: torch.Tensor) -> tuple[torch.Tensor, ...]:
        f = self.clf.features(rgba * 2 - 1)
        return (f, *[self.clf.heads[h](f) for h in self.heads])


def _classifier_for(run_dir: Path, config: dict[str, Any]) -> Any:
    from . import classifier as clf_mod

    path = run_dir / "classifier.pt"
    if not path.is_file():
        print(f"no {path}: training the attribute classifier first", file=sys.stderr)
        images, targets = clf_mod.load_labelled(Path(config["data"]))
        clf, accuracy = clf_mod.train_classifier(
            images, targets, clf_mod.CLASSIFIER_CONFIG, int(config["holdout"]) or 2000
        )
        clf_mod.save(clf, clf_mod.CLASSIFIER_CONFIG, accuracy, path)
    return clf_mod.load(path)


def _pairs(config: dict[str, Any]) -> dict[str, np.ndarray]:
    path = Path(config["data"]).parent / "pairs" / "pairs.npz"
    if not path.is_file():
        raise ModelError(f"export needs the mouth/eyes pairs {path}; {BUILD_HINT}")
    with np.load(path) as npz:
        return {k: npz[k] for k in ("closed", "open", "eyes_closed")}


def _bits(mask: np.ndarray) -> list[str]:
    return ["".join("1" if v else "0" for v in row) for row in mask]


def export(run_dir: Path, out: Path) -> Path:
    """The model folder of an unconditional run (``commands.export`` sends label runs to
    :mod:`.export`); returns the path of the synthesis prefix, the first synthesis graph the
    runtime runs (the whole-synthesis graph is not shipped)."""
    import onnxruntime as ort

    from assetgen.training import write_manifest
    from assetgen.training.onnx_export import MAX_OPSET, export_onnx, graph_opset, previous_metrics

    from . import analysis
    from . import classifier as clf_mod

    G, config, step = load_run_generator(run_dir)
    # a run on a folder of your own art has no labels: no classifier, attribute vectors or
    # local edits (stills, style mixing and interpolation work; talk and blink do not)
    own_art = Path(config["data"]).is_dir()
    labelled: dict[str, Any] = {}
    layer = OWN_ART_SPLIT_LAYER
    if not own_art:
        labelled = _labelled_analysis(G, run_dir, config)
        layer = int(labelled["edits"]["mouth"]["layer"])
    out.mkdir(parents=True, exist_ok=True)
    zd, nw, wd = config["z_dim"], G.num_ws, config["w_dim"]
    ws_example = G.ws(torch.randn(2, zd))
    f_example, s_example = G.synthesis.prefix(ws_example, layer)
    batch = {0: "batch"}
    export_onnx(
        _Mapping(G),
        (torch.zeros(2, zd),),
        out / "mapping.onnx",
        ["z"],
        ["w"],
        {"z": batch, "w": batch},
    )
    # the whole synthesis as one graph is only the parity check's reference (the runtime
    # runs prefix + suffix), so it is written beside the model folder and removed after
    whole = out.parent / f".{out.name}.synthesis-parity.onnx"
    export_onnx(
        _Synthesis(G),
        (ws_example,),
        whole,
        ["ws"],
        ["rgba"],
        {"ws": batch, "rgba": batch},
    )
    export_onnx(
        _Prefix(G, layer),
        (ws_example,),
        out / "synthesis_prefix.onnx",
        ["ws"],
        ["features", "skip"],
        {"ws": batch, "features": batch, "skip": batch},
    )
    export_onnx(
        _Suffix(G, layer),
        (f_example, s_example, ws_example, torch.zeros_like(f_example)),
        out / "synthesis_suffix.onnx",
        ["features", "skip", "ws", "delta"],
        ["rgba"],
        {"features": batch, "skip": batch, "ws": batch, "delta": batch, "rgba": batch},
    )
    files = [
        "mapping.onnx",
        "synthesis_prefix.onnx",
        "synthesis_suffix.onnx",
        "attributes.csv",
    ]
    windows: dict[str, dict[str, Any]] = {}
    for name, spec in labelled.get("edits", {}).items():
        # each edit's frames re-run only the window of the map it can change (talk speed)
        full = np.zeros(f_example.shape[1:], np.float32)
        full[spec["channels"]] = spec["pattern"]
        window = edit_window(G, layer, full)
        y0, y1, x0, x1 = window["crop"]
        crop_f = f_example[:, :, y0:y1, x0:x1]
        graph = f"synthesis_suffix_{name}.onnx"
        export_onnx(
            _SuffixWindow(G, layer, window["crop"]),
            (crop_f, s_example[:, :, y0:y1, x0:x1], ws_example, torch.zeros_like(crop_f)),
            out / graph,
            ["features", "skip", "ws", "delta"],
            ["rgba"],
            {"features": batch, "skip": batch, "ws": batch, "delta": batch, "rgba": batch},
        )
        windows[name] = {**window, "graph": graph}
        spec["window"] = windows[name]
        files.append(graph)
    if labelled:
        heads = list(clf_mod.head_classes())
        export_onnx(
            _Classifier(labelled["classifier"], heads),
            (torch.zeros(2, 4, 64, 64),),
            out / "classifier.onnx",
            ["rgba"],
            ["features", *heads],
            {"rgba": batch, **{h: batch for h in heads}},
        )
        files.append("classifier.onnx")
    try:
        parity = _parity(G, layer, out, ort, windows, whole)
    finally:
        whole.unlink(missing_ok=True)
    (out / "synthesis.onnx").unlink(missing_ok=True)  # written by exports before this one
    if max(parity.values()) > 1e-3:
        raise ModelError(f"ONNX parity check failed: {parity} (max abs difference > 1e-3)")
    write_attributes(out / "attributes.csv", labelled.get("attributes", []), wd)
    previous = previous_metrics(out)
    manifest: dict[str, Any] = {
        "name": "portraits-stylegan2-lite",
        "generator": "portraits",
        "format": "onnx",
        "opset": max(graph_opset(out / f) for f in files if f.endswith(".onnx")),
        "max_opset": MAX_OPSET,
        "resolution": [64, 64],
        "z_dim": zd,
        "w_dim": wd,
        "num_ws": nw,
        "layers": G.synthesis.layer_info(),
        "w_avg": [round(float(x), 6) for x in G.mapping.w_avg],
        "split_layer": layer,
        "inputs": {
            "mapping.onnx": {"z": ["batch", zd]},
            "synthesis_prefix.onnx": {"ws": ["batch", nw, wd]},
            "synthesis_suffix.onnx": {
                "features": ["batch", *f_example.shape[1:]],
                "skip": ["batch", *s_example.shape[1:]],
                "ws": ["batch", nw, wd],
                "delta": ["batch", *f_example.shape[1:]],
            },
        },
        "edits": {},
        "attributes": [],
        "training": {
            "steps": step,
            "images_seen": step * config["batch_size"],
            "config": {k: v for k, v in config.items() if k != "data"},
        },
        "parity": {"seeds": 64, "max_abs_diff": parity, "threshold": 1e-3},
        "data": "DiceBear 'adventurer' portraits rendered offline (assetgen_portraits.dataset)",
        "license": "MIT (weights); training data: 'Adventurer' by Lisa Wischofsky, CC BY 4.0",
        "metrics": previous,
    }
    for window in windows.values():
        y0, y1, x0, x1 = window["crop"]
        cropped = ["batch", f_example.shape[1], y1 - y0, x1 - x0]
        manifest["inputs"][window["graph"]] = {
            "features": cropped,
            "skip": ["batch", 4, y1 - y0, x1 - x0],
            "ws": ["batch", nw, wd],
            "delta": cropped,
        }
    if labelled:
        manifest["inputs"]["classifier.onnx"] = {"rgba": ["batch", 4, 64, 64]}
        manifest.update(
            classifier={
                "heads": clf_mod.head_classes(),
                "held_out_accuracy": labelled["classifier_accuracy"],
            },
            edits={k: analysis.serialisable(v) for k, v in labelled["edits"].items()},
            edit_trials=labelled["edit_trials"],
            regions={k: _bits(v) for k, v in labelled["regions"].items()},
            attributes=[
                {k: v for k, v in a.items() if k != "vector"} for a in labelled["attributes"]
            ],
        )
    else:
        manifest.update(
            name="portraits-own-art",
            data=f"your own art: {config['train_images']} images from the folder "
            f"{Path(config['data']).name!r} (assetgen.training.image_folder rules)",
            license="set by the model's owner: the licence of the art it was trained on",
        )
    if (out / "MODEL_CARD.md").is_file():
        files.append("MODEL_CARD.md")
    write_manifest(out, manifest, files)
    print(f"exported step {step}; split layer {layer}; parity {parity}", file=sys.stderr)
    return out / "synthesis_prefix.onnx"


def _labelled_analysis(
    G: PortraitGenerator, run_dir: Path, config: dict[str, Any]
) -> dict[str, Any]:
    """Classifier, attribute vectors and the mouth/blink edits, from the labelled data set."""
    from . import analysis

    clf, clf_accuracy = _classifier_for(run_dir, config)
    pairs = _pairs(config)
    regions = {
        "mouth": analysis.pixel_region(pairs["closed"], pairs["open"]),
        "eyes": analysis.pixel_region(pairs["closed"], pairs["eyes_closed"]),
    }
    attributes = analysis.attribute_vectors(G, clf)
    # each edit is found from paired feature maps, the same faces before and after the
    # attribute vector's push, kept to the region the labelled pairs show (analysis.py)
    vectors = {a["name"]: a for a in attributes}
    mouth, mouth_trials = analysis.discover_edit(
        G, clf, "mouth", "mouth_open", regions["mouth"], EDIT_LAYERS,
        direction=vectors.get("mouth_open"),
    )
    blink, blink_trials = analysis.discover_edit(
        G, clf, "blink", "eyes_closed", regions["eyes"], [int(mouth["layer"])],
        direction=vectors.get("eyes_closed"),
    )
    return {
        "classifier": clf,
        "classifier_accuracy": clf_accuracy,
        "regions": regions,
        "attributes": attributes,
        "edits": {"mouth": mouth, "blink": blink},
        "edit_trials": {"mouth": mouth_trials, "blink": blink_trials},
    }


def _parity(
    G: PortraitGenerator, layer: int, out: Path, ort: Any, windows: dict[str, dict[str, Any]],
    whole: Path,
) -> dict[str, float]:
    """PyTorch vs ONNX Runtime over 64 seeds, in [0, 1] pixel units; each edit's window graph
    against the whole suffix (PyTorch) inside its ``paste`` box."""
    opts = ort.SessionOptions()

    def session(name: str) -> Any:
        return ort.InferenceSession(str(out / name), opts, providers=["CPUExecutionProvider"])

    z = torch.randn(64, G.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        w = G.mapping(z)
        ws = w[:, None].repeat(1, G.num_ws, 1)
        img = _Synthesis(G)(ws)
        f, s = G.synthesis.prefix(ws, layer)
        delta = torch.randn(f.shape, generator=torch.Generator().manual_seed(1)) * f.std()
        edited = _Suffix(G, layer)(f, s, ws, delta)
    (w_onnx,) = session("mapping.onnx").run(None, {"z": z.numpy()})
    whole_session = ort.InferenceSession(str(whole), opts, providers=["CPUExecutionProvider"])
    (img_onnx,) = whole_session.run(None, {"ws": ws.numpy()})
    f_onnx, s_onnx = session("synthesis_prefix.onnx").run(None, {"ws": ws.numpy()})
    (edited_onnx,) = session("synthesis_suffix.onnx").run(
        None, {"features": f.numpy(), "skip": s.numpy(), "ws": ws.numpy(), "delta": delta.numpy()}
    )
    result = {
        "mapping_w": float(np.abs(w_onnx - w.numpy()).max()),
        "synthesis": float(np.abs(img_onnx - img.numpy()).max()),
        "prefix_features_rel": float(np.abs(f_onnx - f.numpy()).max() / f.abs().max()),
        "suffix_with_delta": float(np.abs(edited_onnx - edited.numpy()).max()),
    }
    for name, window in windows.items():
        y0, y1, x0, x1 = window["crop"]
        py0, py1, px0, px1 = window["paste"]
        scale = G.synthesis.resolution // f.shape[-1]
        local = torch.zeros_like(delta)  # an edit only ever changes the window
        local[:, :, y0:y1, x0:x1] = delta[:, :, y0:y1, x0:x1]
        with torch.no_grad():
            whole = _Suffix(G, layer)(f, s, ws, local).numpy()
        (part,) = session(window["graph"]).run(
            None,
            {
                "features": f[:, :, y0:y1, x0:x1].numpy(),
                "skip": s[:, :, y0:y1, x0:x1].numpy(),
                "ws": ws.numpy(),
                "delta": local[:, :, y0:y1, x0:x1].numpy(),
            },
        )
        oy, ox = y0 * scale, x0 * scale
        inner = part[:, :, py0 - oy : py1 - oy, px0 - ox : px1 - ox]
        result[f"window_{name}"] = float(np.abs(inner - whole[:, :, py0:py1, px0:px1]).max())
    return result
