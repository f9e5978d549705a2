"""Training, export and evaluation of the shoes DCGAN (``assetgen train|export|eval shoes``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from assetgen import InvalidOptionsError, ModelError
from assetgen.training import Progress, distributed
from assetgen.training.augment import check_policy, diff_augment
from assetgen.training.image_folder import LABELS_FILE, is_image_folder, load_image_folder
from assetgen.training.metrics import frechet, kid, sq_dists
from assetgen.training.run import TrainingRun, pick_device, to_uint8_rgba

from .colour import colour_matrix
from .model import ShoeClassifier, ShoeDiscriminator, ShoeGenerator

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_DATA = PACKAGE_DIR / "data" / "shoes_64.npz"

DEFAULT_CONFIG: dict[str, Any] = {
    "seed": 0,
    "device": "auto",
    "steps": 10000,  # the shipped model's run (MODEL_CARD.md)
    "batch_size": 32,
    "z_dim": 64,
    "width": 32,
    "lr": 2e-4,
    "beta1": 0.5,
    "ema_beta": 0.999,
    "augment": ["color", "translation", "cutout"],
    "recolour_prob": 0.5,
    "flip_prob": 0.5,
    # "icon": real icons drawn evenly (a type with one drawing is 1/82 of the real batch and
    # 1/13 of the fakes); "type": types evenly, then an icon of the type; "sqrt": types by
    # the square root of their icon count. Measured on the shipped set (MODEL_CARD.md):
    # "type" from the start copies the rare types and loses the common ones; the shipped
    # model is 10,000 steps of "icon" then 6,000 of "sqrt"
    "balance": "icon",
    "sample_every": 500,
    "checkpoint_every": 250,
    "threads": 0,
}

EVAL_CONFIG: dict[str, Any] = {"per_type": 50, "seed": 1234, "classifier_steps": 1500}
#: ``assetgen train shoes`` runs under torchrun (docs/distributed.md): ``batch_size`` per process.
SUPPORTS_DISTRIBUTED = True


def load_data(data: Path | None) -> tuple[torch.Tensor, torch.Tensor, list[str], Path]:
    """Images in [-1, 1] (N x 4 x 64 x 64), type labels, type names, and the source read: the
    npz file of a built data set, or the folder of your own art."""
    path = data or DEFAULT_DATA
    if path.is_dir() and not (path / "shoes_64.npz").is_file() and is_image_folder(path):
        return (*_own_art(path), path)
    if path.is_dir():
        path = path / "shoes_64.npz"
    if not path.is_file():
        raise InvalidOptionsError(
            f"--data: {path} not found; build it with "
            "'python -m assetgen_shoes.dataset --out DIR' or omit --data",
            parameter="--data",
        )
    with np.load(path) as npz:
        images = torch.from_numpy(npz["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1
        labels = torch.from_numpy(npz["labels"]).long()
        names = [str(n) for n in npz["type_names"]]
    return images, labels, names, path


def _own_art(folder: Path) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """A folder of your own icons; labels.csv's ``type`` column names the classes (else one
    class, ``item``)."""
    loaded = load_image_folder(folder, 64)
    if loaded.labels and "type" not in loaded.labels:
        raise InvalidOptionsError(
            f"--data: {folder / LABELS_FILE} needs a 'type' column for shoes; it has "
            + ", ".join(sorted(loaded.labels)),
            parameter="--data",
        )
    types = loaded.labels.get("type", ["item"] * len(loaded.images))
    names = sorted(set(types))
    images = torch.from_numpy(loaded.images).permute(0, 3, 1, 2).float() / 127.5 - 1
    labels = torch.tensor([names.index(t) for t in types], dtype=torch.long)
    return images, labels, names


def augment_real(
    x: torch.Tensor, generator: torch.Generator, config: dict[str, Any]
) -> torch.Tensor:
    """Data pipeline: random horizontal flips and luma-preserving recolouring."""
    n = x.shape[0]
    flip = torch.rand(n, generator=generator) < config["flip_prob"]
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    recol = torch.rand(n, generator=generator) < config["recolour_prob"]
    hues = torch.rand(n, generator=generator) * 360 - 180
    mats = torch.stack([torch.from_numpy(colour_matrix(float(h))) for h in hues])
    rgb01 = (x[:, :3] + 1) / 2
    rotated = torch.einsum("nij,njhw->nihw", mats, rgb01).clamp(0, 1) * 2 - 1
    rgb = torch.where(recol[:, None, None, None], rotated, x[:, :3])
    return torch.cat([rgb, x[:, 3:]], dim=1)


#: How each ``balance`` setting weighs a type with n icons in the real batches: n (icons
#: evenly), sqrt(n) (between), 1 (types evenly).
BALANCE_POWER = {"icon": 1.0, "sqrt": 0.5, "type": 0.0}


def type_shares(labels: torch.Tensor, balance: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The types present in ``labels`` and the share of the real batches each gets under
    ``balance`` (its icon count to the power ``BALANCE_POWER[balance]``, normalised)."""
    kinds, counts = torch.unique(labels, return_counts=True)
    weights = counts.double() ** BALANCE_POWER[balance]
    return kinds, weights / weights.sum()


def real_sampler(labels: torch.Tensor, balance: str) -> Any:
    """``draw(n, rng)``: positions of ``n`` real icons among ``labels``: a type drawn with
    weight (its icon count) ** ``BALANCE_POWER[balance]``, then one of its icons evenly
    ("icon" draws the icons evenly in one step, the stream the shipped run used)."""
    if balance not in BALANCE_POWER:
        allowed = ", ".join(repr(k) for k in BALANCE_POWER)
        raise InvalidOptionsError(f"config balance={balance!r}: expected one of {allowed}")
    if balance == "icon":
        return lambda n, rng: torch.randint(0, len(labels), (n,), generator=rng)
    members = [torch.nonzero(labels == t).flatten() for t in torch.unique(labels)]
    counts = torch.tensor([len(m) for m in members])
    weights = type_shares(labels, balance)[1]
    flat = torch.cat(members)
    offsets = torch.cumsum(counts, 0) - counts

    def draw(n: int, rng: torch.Generator) -> torch.Tensor:
        kind = torch.multinomial(weights, n, replacement=True, generator=rng)
        within = (torch.rand(n, generator=rng) * counts[kind]).long()
        return flat[offsets[kind] + within]

    return draw


def train(out: Path, data: Path | None, config: dict[str, Any], resume: bool) -> None:
    if config["threads"]:
        torch.set_num_threads(config["threads"])
    dist = distributed.setup(pick_device(config["device"]))
    device = dist.device
    images, labels, type_names, source = load_data(data)
    config = {**config, "type_names": type_names, "data": str(source)}
    shard = torch.from_numpy(dist.shard(len(images)))  # this process's share of the icons
    draw = real_sampler(labels[shard], config["balance"])  # checked before the run starts
    run = TrainingRun(out, config, resume=resume, dist=dist)
    if dist.is_main:
        kinds, shares = type_shares(labels[shard], config["balance"])
        parts = [f"{type_names[int(k)]} {100 * p:.1f}%" for k, p in zip(kinds, shares, strict=True)]
        print(f"real batches by type (balance={config['balance']}): " + ", ".join(parts),
              file=sys.stderr)
    torch.manual_seed(config["seed"])
    rng = torch.Generator().manual_seed(dist.rank_seed(config["seed"]))
    num_types = len(type_names)
    G = ShoeGenerator(config["z_dim"], num_types, config["width"]).to(device)
    D = ShoeDiscriminator(num_types, config["width"]).to(device)
    G_ema = ShoeGenerator(config["z_dim"], num_types, config["width"]).to(device).eval()
    G_ema.load_state_dict(G.state_dict())
    opt_g = torch.optim.Adam(G.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999))
    step = 0
    parts = {"G": G, "D": D, "G_ema": G_ema, "opt_g": opt_g, "opt_d": opt_d}
    dist.reseed_torch(config["seed"])  # each rank its own noise (rank 0: unchanged)
    if resume:
        step = run.restore_state(parts, rng)
    G_train, D_train = dist.wrap(G), dist.wrap(D)  # DDP under torchrun, else G and D
    if dist.enabled and dist.is_main:
        print(
            f"{dist.world_size} processes: effective batch {config['batch_size']} x "
            f"{dist.world_size} = {config['batch_size'] * dist.world_size}",
            file=sys.stderr,
        )
    fixed_z = torch.randn(
        num_types * 4, config["z_dim"], generator=torch.Generator().manual_seed(7)
    )
    fixed_t = torch.arange(num_types).repeat_interleave(4)
    policy = check_policy(list(config["augment"]))
    started, last_print = time.monotonic(), 0.0
    start_step = step
    while step < config["steps"]:
        idx = shard[draw(config["batch_size"], rng)]
        real = augment_real(images[idx], rng, config).to(device)
        types = labels[idx].to(device)
        z = torch.randn(config["batch_size"], config["z_dim"], device=device)
        fake_types = torch.randint(0, num_types, (config["batch_size"],), device=device)
        fake = G_train(z, fake_types)
        d_real = D_train(diff_augment(real, policy), types)
        d_fake = D_train(diff_augment(fake.detach(), policy), fake_types)
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-D_train(diff_augment(fake, policy), fake_types)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        dist.sync_buffers(G, D)  # batch-norm statistics: rank 0's on every rank
        with torch.no_grad():
            # ramp the EMA up: a plain 0.999 average keeps mostly initial weights for the first
            # thousand steps, and those weights with batch norm draw blank grey samples
            beta = min(config["ema_beta"], (1 + step) / (10 + step))
            for p_ema, p in zip(G_ema.parameters(), G.parameters(), strict=True):
                p_ema.lerp_(p, 1 - beta)
            for b_ema, b in zip(G_ema.buffers(), G.buffers(), strict=True):
                b_ema.copy_(b)
        step += 1
        now = time.monotonic()
        if dist.is_main and (now - last_print > 5 or step == config["steps"]):
            last_print = now
            rate = (step - start_step) / max(now - started, 1e-9)
            eta = (config["steps"] - step) / max(rate, 1e-9)
            print(
                f"step {step}/{config['steps']} loss_d {loss_d.item():.3f} "
                f"loss_g {loss_g.item():.3f} {rate:.2f} it/s ETA {eta / 60:.1f} min",
                file=sys.stderr,
                flush=True,
            )
        if dist.is_main and (step % config["sample_every"] == 0 or step == config["steps"]):
            with torch.no_grad():
                sample = G_ema(fixed_z.to(device), fixed_t.to(device))
            run.save_samples(to_uint8_rgba(sample), step)
            run.log(step, loss_d=loss_d.item(), loss_g=loss_g.item())
        if step % config["checkpoint_every"] == 0 or step == config["steps"]:
            run.save_state(step, parts, rng)  # every rank takes part; rank 0 writes
    if dist.is_main:
        print(f"done: {step} steps; checkpoint in {run.dir}", file=sys.stderr)


class _ExportWrapper(torch.nn.Module):
    """z, type -> RGBA in [0, 1] (the runtime only rounds to uint8)."""

    def __init__(self, generator: ShoeGenerator) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, shoe_type: torch.Tensor) -> torch.Tensor:
        return ((self.generator(z, shoe_type) + 1) * 0.5).clamp(0, 1)


def load_run_generator(run_dir: Path) -> tuple[ShoeGenerator, dict[str, Any], int]:
    path = run_dir / "checkpoint.pt"
    if not path.is_file():
        raise ModelError(f"no checkpoint.pt in {run_dir}")
    state = torch.load(path, map_location="cpu", weights_only=True)
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


# -- evaluation -------------------------------------------------------------------------------


#: The evaluation refuses to score with a classifier that gets fewer of the real icons right.
MIN_CLASSIFIER_ACCURACY = 0.9
#: Augmented batches that set the evaluation classifier's batch-norm statistics.
BN_BATCHES = 32


def _train_classifier(
    images: torch.Tensor, labels: torch.Tensor, num_types: int, steps: int, seed: int
) -> ShoeClassifier:
    """A small CNN trained on augmented real icons (flips, recolours, shifts, cutout)."""
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    clf = ShoeClassifier(num_types)
    opt = torch.optim.Adam(clf.parameters(), lr=2e-3)
    cfg = {"flip_prob": 0.5, "recolour_prob": 0.8}

    def batch() -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, len(images), (64,), generator=rng)
        return diff_augment(augment_real(images[idx], rng, cfg), ["translation"]), labels[idx]

    meter = Progress(steps, "eval: training the type classifier", unit="steps", interval=10)
    for _ in range(steps):
        x, y = batch()
        loss = F.cross_entropy(clf(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        meter.advance()
    meter.close()
    # Batch norm's running statistics follow the last few batches (momentum 0.1), so one odd
    # batch at the end skews the eval-mode network: without this, seed 1234 on the 82-icon
    # set gave a classifier that recognised 30% of the real icons. Re-estimate them as an
    # even average over fixed augmented batches, with the weights frozen.
    with torch.no_grad():
        for m in clf.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None  # cumulative average
        for _ in range(BN_BATCHES):
            clf(batch()[0])
    return clf.eval()


def _features(clf: ShoeClassifier, images: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return torch.cat([clf.features(b) for b in images.split(256)]).numpy().astype(np.float64)


def _shape_code(images: np.ndarray) -> np.ndarray:
    """Colour-blind pixel code (luma × alpha, alpha) for near-copy search across recolours."""
    x = images.astype(np.float32) / 255
    luma = x[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.stack([luma * x[..., 3], x[..., 3]], axis=-1).reshape(len(images), -1)


def evaluate(model_dir: Path | None, out: Path | None, config: dict[str, Any]) -> dict[str, Any]:
    """Type consistency, novelty, diversity and FID/KID (classifier features) of a model."""
    from assetgen import Engine

    from . import plugin

    if model_dir is not None:
        plugin.MODEL_DIR = model_dir.resolve()
    images, labels, names, _ = load_data(None)
    clf = _train_classifier(images, labels, len(names), config["classifier_steps"], config["seed"])
    with torch.no_grad():
        real_acc = float((clf(images).argmax(1) == labels).float().mean())
    if real_acc < MIN_CLASSIFIER_ACCURACY:
        raise ModelError(
            f"the evaluation's type classifier recognises only {real_acc:.0%} of the real icons "
            f"(at least {MIN_CLASSIFIER_ACCURACY:.0%} needed for its figures to mean anything); "
            f"train it longer with --set classifier_steps=N (now {config['classifier_steps']})"
        )
    print(f"eval: the classifier recognises {real_acc:.1%} of the real icons", file=sys.stderr)
    engine = Engine(device="cpu", plugins=["shoes"])
    per_type = config["per_type"]
    generated, requested = [], []
    meter = Progress(len(names), f"eval: generating {per_type} icons per type", unit="types")
    for t, name in enumerate(names):
        assets = engine.generate("shoes", seed=config["seed"], count=per_type, type=name)
        generated += [a.rgba for a in assets]
        requested += [t] * per_type
        meter.advance()
    meter.close()
    gen_u8 = np.stack(generated)
    gen = torch.from_numpy(gen_u8).permute(0, 3, 1, 2).float() / 127.5 - 1
    req = torch.tensor(requested)
    with torch.no_grad():
        predicted = torch.cat([clf(b).argmax(1) for b in gen.split(256)])
    consistency = float((predicted == req).float().mean())
    per_type_consistency = {
        name: float((predicted[req == t] == t).float().mean()) for t, name in enumerate(names)
    }
    # novelty: nearest training icon (with flips) in a colour-blind code, against the distance
    # between an icon and a lightly augmented copy of itself (shift by 1 px and a recolour)
    real_u8 = to_uint8_rgba(images)
    real_codes = _shape_code(np.concatenate([real_u8, real_u8[:, :, ::-1]]))
    gen_codes = _shape_code(gen_u8)
    # |a|^2 + |b|^2 - 2ab in float64: the direct difference of 650 icons against 164 would
    # hold a 3.5 GB array
    nn_dist = np.sqrt(sq_dists(gen_codes.astype(np.float64), real_codes.astype(np.float64)).min(1))
    shifted = np.roll(real_u8, 1, axis=2)
    self_dist = np.sqrt(((_shape_code(shifted) - _shape_code(real_u8)) ** 2).sum(-1))
    threshold = float(np.median(self_dist))
    near_copies = float((nn_dist < threshold).mean())
    # diversity: mean pairwise feature distance within each type, generated vs real
    f_gen, f_real = _features(clf, gen), _features(clf, images)
    diversity = {}
    for t, name in enumerate(names):
        real_t = f_real[(labels == t).numpy()]
        gen_t = f_gen[(req == t).numpy()]
        if len(real_t) > 1:
            diversity[name] = {
                "generated": float(_pairwise_mean(gen_t)),
                "real": float(_pairwise_mean(real_t)),
            }
    rng = torch.Generator().manual_seed(config["seed"] + 1)
    augmented = torch.cat(
        [augment_real(images, rng, {"flip_prob": 0.5, "recolour_prob": 0.5}) for _ in range(8)]
    )
    f_aug = _features(clf, augmented)
    report = {
        "model_dir": str(plugin.MODEL_DIR),
        "generated": int(len(gen_u8)),
        "classifier_accuracy_on_real": real_acc,
        "type_consistency": consistency,
        "type_consistency_per_type": per_type_consistency,
        "near_copy_share": near_copies,
        "near_copy_threshold": threshold,
        "nearest_training_distance_median": float(np.median(nn_dist)),
        "diversity_within_type": diversity,
        "diversity_ratio_mean": float(
            np.mean([d["generated"] / d["real"] for d in diversity.values()])
        ),
        "fid_generated_vs_real": frechet(f_gen, f_aug),
        "fid_real_vs_real_floor": frechet(f_real, f_aug),
        "kid_generated_vs_real": kid(f_gen, f_aug),
        "kid_real_vs_real_floor": kid(f_real, f_aug),
        "command": "assetgen eval shoes " + " ".join(f"--set {k}={v}" for k, v in config.items()),
    }
    if out is not None:
        from assetgen import write_atomic

        write_atomic(out, (json.dumps(report, indent=2) + "\n").encode())
    return report


def _pairwise_mean(features: np.ndarray) -> float:
    diff = np.sqrt(((features[:, None] - features[None]) ** 2).sum(-1))
    n = len(features)
    return float(diff.sum() / (n * (n - 1)))
