"""Train the label-conditioned portraits generator (``assetgen train portraits``, the default
``conditioning=labels``).

The generator redraws the exact DiceBear render of a label set, so the first phase is plain
supervised reconstruction of premultiplied RGBA: L1 + L2, more weight on the mouth and eye
regions (found from the data set's pairs), and an L1 on horizontal and vertical pixel
differences that asks for outlines as sharp as the real ones. From ``gan_start`` (a share of
the steps) a small conditional patch discriminator adds a weak non-saturating term, which
sharpens what the reconstruction averages out. EMA weights are what is exported; every
``eval_every`` steps the EMA generator's L1 on held-out faces is logged and the best one so
far is kept as ``best.pt`` beside the rolling ``checkpoint.pt`` (``--resume`` continues it).

Training data: ``portraits_64.npz`` from ``python -m assetgen_portraits.training.dataset_builder``
(main images minus the last ``holdout``, plus the ``speech`` images with every mouth the lip-sync
shapes use).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from assetgen import InvalidOptionsError
from assetgen.training.loop import StepProgress, ema_update, ramped_ema_beta
from assetgen.training.run import CHECKPOINT, TrainingRun, pick_device, read_checkpoint

from .model import DEFAULT_LABEL_CONFIG, LabelGenerator, LabelSpace, PatchDiscriminator

DATA_FILE = "portraits_64.npz"
# label columns the model is given: each drawn part and colour; the presence flags and the
# open/closed states are functions of these
CONDITION_COLUMNS = (
    "hair", "hairColor", "skinColor", "eyebrows", "eyes", "mouth",
    "glasses", "earrings", "details",
)

LABEL_TRAIN_CONFIG: dict[str, Any] = {
    **DEFAULT_LABEL_CONFIG,
    "label_steps": 24000,
    "label_batch": 32,
    "label_lr": 0.002,
    "lr_decay_start": 0.7,  # cosine decay to 0 over the last 30% of the steps
    "ema_beta": 0.999,
    "part_weight": 3.0,  # loss weight inside the mouth and eye regions
    "edge_weight": 1.0,  # L1 on pixel differences (outline sharpness)
    "gan_start": 0.75,  # share of the steps after which the patch discriminator joins; 1: never
    "gan_weight": 0.01,
    "eval_every": 1000,
    "eval_images": 512,
}


def premultiplied(images: np.ndarray) -> torch.Tensor:
    """uint8 N x 64 x 64 x 4 straight RGBA -> float N x 4 x 64 x 64 premultiplied, in [-1, 1]."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    x = torch.cat([x[:, :3] * x[:, 3:], x[:, 3:]], dim=1)
    return x * 2 - 1


def to_straight_uint8(out: torch.Tensor) -> np.ndarray:
    """Generator output (premultiplied, [-1, 1]) -> uint8 N x H x W x 4 straight RGBA, the same
    conversion the runtime makes (``assetgen_portraits.labels.unpremultiply``)."""
    x = ((out.detach().float() + 1) * 0.5).clamp(0, 1)
    alpha = x[:, 3:]
    rgb = torch.minimum(x[:, :3], alpha) / alpha.clamp_min(1e-6)
    rgb = torch.where(alpha > 0, rgb, torch.zeros_like(rgb))
    arr = (torch.cat([rgb, alpha], 1) * 255).round().to(torch.uint8)
    return arr.permute(0, 2, 3, 1).cpu().numpy()


def load_labelled(data: Path | None) -> dict[str, Any]:
    path = Path(data) if data else Path("data") / "portraits"
    npz_path = path / DATA_FILE if path.is_dir() else path
    if not npz_path.is_file():
        raise InvalidOptionsError(
            f"--data: {npz_path} not found; build it with "
            "'python -m assetgen_portraits.training.dataset_builder --out data/portraits "
            "--count 30000 --seed 0 --pairs 2000 --speech 6000 --no-png'",
            parameter="--data",
        )
    with np.load(npz_path) as npz:
        names = [str(n) for n in npz["label_names"]]
        missing = [c for c in CONDITION_COLUMNS if c not in names]
        if missing:
            raise InvalidOptionsError(
                f"--data: {npz_path} has no label column(s) {', '.join(missing)}: "
                "conditioning=labels needs a labelled DiceBear adventurer set; for your own "
                "unlabelled art use --set conditioning=none",
                parameter="--data",
            )
        keep = [names.index(c) for c in CONDITION_COLUMNS]
        space = LabelSpace(
            tuple((c, tuple(str(v) for v in npz[f"vocab_{c}"])) for c in CONDITION_COLUMNS)
        )
        out = {
            "path": npz_path,
            "space": space,
            "images": npz["images"],
            "codes": npz["labels"][:, keep].astype(np.int64),
            "speech_images": npz["speech_images"] if "speech_images" in npz else None,
            "speech_codes": (
                npz["speech_labels"][:, keep].astype(np.int64) if "speech_labels" in npz else None
            ),
        }
    pairs = npz_path.parent / "pairs" / "pairs.npz"
    if pairs.is_file():
        with np.load(pairs) as p:
            out["pairs"] = {k: p[k] for k in ("closed", "open", "eyes_closed")}
    return out


def part_weights(data: dict[str, Any], weight: float) -> torch.Tensor:
    """1 x 1 x 64 x 64 loss weights: ``weight`` where the pairs' mouth or eyes change (grown
    by 2 px), else 1. All ones when the data set has no pairs."""
    mask = np.zeros((64, 64), bool)
    if "pairs" in data and weight != 1.0:
        closed = data["pairs"]["closed"].astype(np.int16)
        for frame in ("open", "eyes_closed"):
            change = np.abs(data["pairs"][frame].astype(np.int16) - closed).max(-1)
            mask |= (change > 24).mean(0) > 0.02
        t = torch.from_numpy(mask).float()[None, None]
        mask = (F.max_pool2d(t, 5, 1, 2)[0, 0] > 0).numpy()
    return torch.from_numpy(np.where(mask, weight, 1.0).astype(np.float32))[None, None]


def reconstruction_loss(
    fake: torch.Tensor, real: torch.Tensor, weights: torch.Tensor, edge_weight: float
) -> torch.Tensor:
    d = fake - real
    loss = (weights * (d.abs() + d.pow(2))).mean()
    if edge_weight:
        dx = (fake[..., :, 1:] - fake[..., :, :-1]) - (real[..., :, 1:] - real[..., :, :-1])
        dy = (fake[..., 1:, :] - fake[..., :-1, :]) - (real[..., 1:, :] - real[..., :-1, :])
        loss = loss + edge_weight * 0.5 * (dx.abs().mean() + dy.abs().mean())
    return loss


def learning_rate(config: dict[str, Any], step: int) -> float:
    total, start = config["label_steps"], config["lr_decay_start"] * config["label_steps"]
    if step < start:
        return float(config["label_lr"])
    t = (step - start) / max(total - start, 1)
    return float(config["label_lr"]) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))


@torch.no_grad()
def heldout_l1(G: LabelGenerator, images: np.ndarray, codes: np.ndarray, batch: int = 64) -> float:
    total = 0.0
    for i in range(0, len(images), batch):
        real = premultiplied(images[i : i + batch])
        fake = G(G.space.one_hot(torch.from_numpy(codes[i : i + batch])))
        total += (fake - real).abs().mean().item() * len(real)
    return total / len(images)


def train(out: Path, data: Path | None, config: dict[str, Any], resume: bool) -> None:
    if config["threads"]:
        torch.set_num_threads(config["threads"])
    device = pick_device(config["device"])
    got = load_labelled(data)
    space: LabelSpace = got["space"]
    holdout = int(config["holdout"])
    n = len(got["images"])
    if not 0 < holdout < n // 2:
        raise InvalidOptionsError(
            f"holdout must be 1 to {n // 2 - 1} for this data set; got {holdout}",
            parameter="holdout",
        )
    if not 0 < config["gan_start"] <= 1:
        raise InvalidOptionsError(
            f"gan_start must be a share of the steps in (0, 1]; got {config['gan_start']}",
            parameter="gan_start",
        )
    images = got["images"][: n - holdout]
    codes = got["codes"][: n - holdout]
    if got["speech_images"] is not None:
        images = np.concatenate([images, got["speech_images"]])
        codes = np.concatenate([codes, got["speech_codes"]])
    held_images = got["images"][n - holdout :][: config["eval_images"]]
    held_codes = got["codes"][n - holdout :][: config["eval_images"]]
    config = {
        **config,
        "data": str(got["path"]),
        "train_images": len(images),
        "label_space": space.to_json(),
    }
    run = TrainingRun(out, config, resume=resume)
    torch.manual_seed(config["seed"])
    rng = torch.Generator().manual_seed(config["seed"])
    G = LabelGenerator(space, config).to(device)
    G_ema = LabelGenerator(space, config).to(device).eval()
    G_ema.load_state_dict(G.state_dict())
    D = PatchDiscriminator(space.size).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=config["label_lr"], betas=(0.9, 0.99))
    opt_d = torch.optim.Adam(D.parameters(), lr=config["label_lr"], betas=(0.0, 0.99))
    parts = {"G": G, "G_ema": G_ema, "D": D, "opt_g": opt_g, "opt_d": opt_d}
    step, best = 0, math.inf
    if resume:
        step = run.restore_state(parts, rng)
        if (run.dir / "best.pt").is_file():
            best = float(run.load("best.pt")["heldout_l1"])
    weights = part_weights(got, config["part_weight"]).to(device)
    print(
        f"portraits (labels): G {sum(p.numel() for p in G.parameters()) / 1e6:.2f} M parameters "
        f"({G.multiply_adds() / 1e6:.0f} M multiply-adds an image), {len(images)} training "
        f"images, {len(held_images)} held out for the L1 check, device {device}",
        file=sys.stderr,
    )
    fixed = torch.from_numpy(held_codes[:64])
    if not resume:
        run.save_samples(held_images[:64], 0)
    total, batch = config["label_steps"], config["label_batch"]
    gan_from = int(config["gan_start"] * total)
    progress = StepProgress(total, step, every_s=10)
    loss_d = torch.zeros(())
    while step < total:
        lr = learning_rate(config, step)
        for group in opt_g.param_groups:
            group["lr"] = lr
        idx = torch.randint(0, len(images), (batch,), generator=rng).numpy()
        real = premultiplied(images[idx]).to(device)
        label_w = space.one_hot(torch.from_numpy(codes[idx])).to(device)
        fake = G(label_w)
        loss = reconstruction_loss(fake, real, weights, config["edge_weight"])
        gan = step >= gan_from and config["gan_weight"] > 0
        if gan:
            for group in opt_d.param_groups:
                group["lr"] = lr
            d_loss = (
                F.relu(1 - D(real, label_w)).mean() + F.relu(1 + D(fake.detach(), label_w)).mean()
            )
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            loss_d = d_loss.detach()
            for p in D.parameters():
                p.requires_grad_(False)
            loss = loss + config["gan_weight"] * F.softplus(-D(fake, label_w)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        if gan:
            for p in D.parameters():
                p.requires_grad_(True)
        step += 1
        # the truncation centre (a buffer) is set before each evaluation, not averaged
        ema_update(G_ema, G, ramped_ema_beta(config["ema_beta"], step), buffers=False)
        if progress.due(step):
            gan_loss = f" loss_d {loss_d.item():.3f}" if gan else ""
            progress.print(step, f"loss {loss.item():.4f} lr {lr:.5f}{gan_loss}")
        if step % config["eval_every"] == 0 or step == total:
            G_ema.mapping.w_avg.copy_(_w_avg(G_ema, codes))
            l1 = heldout_l1(G_ema, held_images, held_codes)
            with torch.no_grad():
                run.save_samples(to_straight_uint8(G_ema(space.one_hot(fixed).to(device))), step)
            run.log(step, loss=loss.item(), heldout_l1=l1, lr=lr, gan=float(gan))
            print(f"step {step}: held-out L1 {l1:.4f} (best {min(best, l1):.4f})", file=sys.stderr)
            if l1 < best:
                best = l1
                run.save({"G_ema": G_ema.state_dict(), "step": step, "heldout_l1": l1,
                          "config": json.dumps(config)}, "best.pt")
        if step % config["checkpoint_every"] == 0 or step == total:
            run.save_state(step, parts, rng)
    print(f"done: {step} steps; checkpoint in {run.dir}", file=sys.stderr)


@torch.no_grad()
def _w_avg(G: LabelGenerator, codes: np.ndarray, count: int = 4096) -> torch.Tensor:
    """Mean w over the training label sets (the truncation centre)."""
    pick = codes[np.linspace(0, len(codes) - 1, min(count, len(codes))).astype(int)]
    return G.mapping.w(G.space.one_hot(torch.from_numpy(pick))).mean(0)


def load_label_generator(
    run_dir: Path, name: str = "best.pt"
) -> tuple[LabelGenerator, dict[str, Any], int]:
    state, _ = read_checkpoint(run_dir, name, CHECKPOINT)
    config = json.loads(state["config"])
    G = LabelGenerator(LabelSpace.from_json(config["label_space"]), config)
    G.load_state_dict(state["G_ema"])
    return G.eval(), config, int(state["step"])
