"""Train, export and evaluate the portraits StyleGAN (``assetgen train|export|eval portraits``).

``DEFAULT_CONFIG`` is sized for two CPU cores: a 0.1 GMAC-per-image generator (channels
128-128-64-32-16 from 4x4 to 64x64), batch 32. See docs/training.md for measured speeds; on a
GPU, raise ``batch_size`` and ``channels`` with ``--set`` or a config file, nothing else.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from assetgen import InvalidOptionsError, ModelError
from assetgen.training.augment import check_policy, diff_augment
from assetgen.training.image_folder import is_image_folder
from assetgen.training.loop import StepProgress, ema_update
from assetgen.training.run import TrainingRun, pick_device, read_checkpoint, to_uint8_rgba

from .model import PortraitDiscriminator, PortraitGenerator
from .training import train as label_training
from .training.attributes import write_attributes
from .training.data import BUILD_HINT, load_images, to_model_range

DEFAULT_CONFIG: dict[str, Any] = {
    # labels: the label-conditioned renderer (training/train.py), trained on the DiceBear
    # labels; none: the unconditional StyleGAN below, for unlabelled art of your own; auto:
    # none for a folder of images, labels otherwise
    "conditioning": "auto",
    "seed": 0,
    "device": "auto",  # auto: the GPU when PyTorch sees one, else the CPU
    "steps": 12000,
    "batch_size": 16,
    "z_dim": 128,
    "w_dim": 128,
    "mapping_layers": 4,
    "channels": {},  # {} = model.DEFAULT_CHANNELS; e.g. {"4": 256, ..., "64": 64} on a GPU
    "d_channels": {},  # {} = the generator's
    "lr": 0.002,
    "r1_gamma": 0.2,  # 0.05 (with no augmentation) collapsed to one face by step 2,000
    "r1_every": 16,
    "style_mixing": 0.5,
    "ema_kimg": 10.0,  # EMA half-life in thousands of images
    "ema_rampup": 0.05,  # ... but at most this share of the images seen so far
    # DiffAugment on D's inputs: keeps D from overpowering G at batch 16 (run without it
    # collapsed; runs/portraits-b with it kept hair and skin varied)
    "augment": ["translation", "color"],
    "holdout": 2000,  # the last N images of the data set are never trained on (evaluation)
    "sample_every": 500,
    "checkpoint_every": 250,
    "threads": 0,  # 0: PyTorch's default
    # conditioning=labels only (training/train.py); the keys above without "label_" in their
    # name that it uses: seed, device, holdout, checkpoint_every, threads
    **label_training.LABEL_TRAIN_CONFIG,
}
CONDITIONING = ("auto", "labels", "none")


def _make_models(config: dict[str, Any], device: torch.device) -> tuple[Any, Any, Any]:
    G = PortraitGenerator.from_config(config).to(device)
    D = PortraitDiscriminator.from_config(config).to(device)
    G_ema = PortraitGenerator.from_config(config).to(device).eval()
    G_ema.load_state_dict(G.state_dict())
    return G, D, G_ema


def _mixed_ws(G: PortraitGenerator, batch: int, config: dict[str, Any], device: Any) -> Any:
    z = torch.randn(batch, config["z_dim"], device=device)
    ws = G.ws(z)
    if config["style_mixing"] > 0 and torch.rand(()) < config["style_mixing"]:
        cut = int(torch.randint(1, G.num_ws, ()))
        w2 = G.mapping(torch.randn(batch, config["z_dim"], device=device))
        ws = torch.cat([ws[:, :cut], w2[:, None].expand(-1, G.num_ws - cut, -1)], dim=1)
    return ws


#: ``assetgen train portraits`` runs under torchrun (docs/distributed.md); batch_size per process.
SUPPORTS_DISTRIBUTED = True


def train(out: Path, data: Path | None, config: dict[str, Any], resume: bool) -> None:
    if config["conditioning"] not in CONDITIONING:
        raise InvalidOptionsError(
            f"conditioning must be one of {', '.join(CONDITIONING)}; "
            f"got {config['conditioning']!r}",
            parameter="conditioning",
        )
    own_art = data is not None and Path(data).is_dir() and is_image_folder(Path(data))
    if config["conditioning"] == "auto":
        config = {**config, "conditioning": "none" if own_art else "labels"}
    if config["conditioning"] == "labels":
        if own_art:
            raise InvalidOptionsError(
                f"--data: {data} is a folder of unlabelled images; conditioning=labels needs "
                "the labelled DiceBear set: pass --set conditioning=none to train on your art",
                parameter="--data",
            )
        label_training.train(out, data, config, resume)
        return
    from assetgen.training import distributed

    if config["threads"]:
        torch.set_num_threads(config["threads"])
    dist = distributed.setup(pick_device(config["device"]))
    device = dist.device
    images, _labels, _names, path = load_images(data)
    holdout = int(config["holdout"])
    if path.is_dir() and holdout > len(images) // 10:
        # a folder of your own art: a tenth at most is kept out, whatever the default says
        print(
            f"holdout {holdout} is over a tenth of the {len(images)} images in {path}; "
            f"keeping {len(images) // 10} out",
            file=sys.stderr,
        )
        holdout = len(images) // 10
    if not 0 <= holdout < len(images) - 1:
        raise InvalidOptionsError(
            f"holdout must be 0 to {len(images) - 2} for this data set; got {holdout}",
            parameter="holdout",
        )
    train_images = images[: len(images) - holdout]
    config = {**config, "data": str(path), "holdout": holdout, "train_images": len(train_images)}
    run = TrainingRun(out, config, resume=resume, dist=dist)
    torch.manual_seed(config["seed"])
    rng = torch.Generator().manual_seed(dist.rank_seed(config["seed"]))
    shard = torch.from_numpy(dist.shard(len(train_images)))  # this process's share
    G, D, G_ema = _make_models(config, device)
    betas = (0.0, 0.99)
    opt_g = torch.optim.Adam(G.parameters(), lr=config["lr"], betas=betas, eps=1e-8)
    # lazy R1: the discriminator's optimiser is adjusted for the regularisation interval
    ratio = config["r1_every"] / (config["r1_every"] + 1)
    opt_d = torch.optim.Adam(
        D.parameters(), lr=config["lr"] * ratio, betas=(0.0, 0.99**ratio), eps=1e-8
    )
    step = 0
    parts = {"G": G, "D": D, "G_ema": G_ema, "opt_g": opt_g, "opt_d": opt_d}
    dist.reseed_torch(config["seed"])  # each rank its own noise (rank 0: unchanged)
    if resume:
        step = run.restore_state(parts, rng)
    n_g = sum(p.numel() for p in G.parameters())
    n_d = sum(p.numel() for p in D.parameters())
    effective = f", effective batch {config['batch_size']} x {dist.world_size}"
    if dist.is_main:
        print(
            f"portraits StyleGAN: G {n_g / 1e6:.2f} M, D {n_d / 1e6:.2f} M parameters, "
            f"{len(train_images)} training images, device {device}"
            + (effective if dist.enabled else ""),
            file=sys.stderr,
        )
    fixed_z = torch.randn(64, config["z_dim"], generator=torch.Generator().manual_seed(7))
    policy = check_policy(list(config["augment"]))
    batch = config["batch_size"]
    progress = StepProgress(config["steps"], step, every_s=10, enabled=dist.is_main)
    while step < config["steps"]:
        idx = shard[torch.randint(0, len(shard), (batch,), generator=rng)]
        real = to_model_range(train_images[idx.numpy()]).to(device)
        # discriminator
        with torch.no_grad():
            fake = G.synthesis(_mixed_ws(G, batch, config, device), "random")
        d_real = D(diff_augment(real, policy))
        d_fake = D(diff_augment(fake, policy))
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        r1 = torch.zeros(())
        if config["r1_gamma"] > 0 and step % config["r1_every"] == 0:
            real_r1 = real.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(
                D(diff_augment(real_r1, policy)).sum(), real_r1, create_graph=True
            )
            r1 = grad.pow(2).sum(dim=(1, 2, 3)).mean()
            (r1 * (config["r1_gamma"] / 2) * config["r1_every"]).backward()
        # under torchrun: gradients averaged over the ranks by hand, as StyleGAN3 does (DDP's
        # backward hooks do not cover the R1 term taken with autograd.grad)
        dist.average_gradients(D)
        opt_d.step()
        # generator
        for p in D.parameters():
            p.requires_grad_(False)
        fake = G.synthesis(_mixed_ws(G, batch, config, device), "random")
        loss_g = F.softplus(-D(diff_augment(fake, policy))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        dist.average_gradients(G)
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
        step += 1
        dist.sync_buffers(G)  # w_avg: rank 0's on every rank
        ema_nimg = min(config["ema_kimg"] * 1000, step * batch * config["ema_rampup"])
        ema_update(G_ema, G, 0.5 ** (batch / max(ema_nimg, 1e-8)))
        if progress.due(step):
            progress.print(
                step, f"loss_d {loss_d.item():.3f} loss_g {loss_g.item():.3f} r1 {r1.item():.3f}"
            )
        if dist.is_main and (step % config["sample_every"] == 0 or step == config["steps"]):
            with torch.no_grad():
                sample = G_ema(fixed_z.to(device))
            run.save_samples(to_uint8_rgba(sample), step)
            run.log(step, loss_d=loss_d.item(), loss_g=loss_g.item(), r1=r1.item())
        if step % config["checkpoint_every"] == 0 or step == config["steps"]:
            run.save_state(step, parts, rng)  # every rank takes part; rank 0 writes
    if dist.is_main:
        print(f"done: {step} steps; checkpoint in {run.dir}", file=sys.stderr)


def load_run_generator(run_dir: Path) -> tuple[PortraitGenerator, dict[str, Any], int]:
    state, _ = read_checkpoint(run_dir)
    config = json.loads(state["config"])
    G = PortraitGenerator.from_config(config)
    G.load_state_dict(state["G_ema"])
    return G.eval(), config, int(state["step"])


# -- export -------------------------------------------------------------------------------------

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


def _run_conditioning(run_dir: Path) -> str:
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "none"
    return str(config.get("conditioning", "none"))


def export(run_dir: Path, out: Path) -> Path:
    if _run_conditioning(run_dir) == "labels":
        from .training.export import export as export_labels

        return export_labels(run_dir, out)
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
            "synthesis.onnx": {"ws": ["batch", nw, wd]},
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
    return out / "synthesis.onnx"


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


# -- evaluation ---------------------------------------------------------------------------------

from .evaluate import EVAL_CONFIG as UNCONDITIONAL_EVAL_CONFIG  # noqa: E402
from .training.evaluate import LABEL_EVAL_CONFIG  # noqa: E402

#: read by `assetgen eval`: the label evaluation's settings, and the unconditional one's
EVAL_CONFIG = {**UNCONDITIONAL_EVAL_CONFIG, **LABEL_EVAL_CONFIG}


def evaluate_lipsync(
    model_dir: Path | None, out: Path | None, config: dict[str, Any]
) -> dict[str, Any]:
    from .training.lipsync_eval import evaluate as run_lipsync

    return run_lipsync(model_dir, out, config)


from .training.lipsync_eval import LIPSYNC_EVAL_CONFIG  # noqa: E402

#: extra evaluations `assetgen eval NAME` finds here: name -> (function, default config)
EVALUATIONS = {"lipsync": (evaluate_lipsync, LIPSYNC_EVAL_CONFIG)}


def evaluate(model_dir: Path | None, out: Path | None, config: dict[str, Any]) -> dict[str, Any]:
    from . import plugin

    folder = model_dir or plugin.MODEL_DIR
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder / 'manifest.json'}: {exc}") from None
    if manifest.get("conditioning") == "labels":
        from .training.evaluate import evaluate as evaluate_labels

        return evaluate_labels(model_dir, out, {k: config[k] for k in LABEL_EVAL_CONFIG})
    from .evaluate import evaluate as run_evaluation

    return run_evaluation(model_dir, out, {k: config[k] for k in UNCONDITIONAL_EVAL_CONFIG})
