"""The DCGAN baseline the portraits evaluation compares the StyleGAN against.

The same DCGAN as the shoes generator (``assetgen.training.dcgan``: transposed convolutions,
batch norm, Adam 2e-4 / beta1 0.5, non-saturating loss), unconditional (one class), trained on
the same portraits training split for the same number of images as the StyleGAN's default
run (12,000 steps x 16 = 192,000 images: 6,000 steps of 32), with checkpoints and resume:

    python -m assetgen_portraits.training.baseline --data data/portraits --out runs/portraits-dcgan

``assetgen eval portraits --set baseline_run=runs/portraits-dcgan`` then reports its figures
beside the StyleGAN's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from assetgen.training.dcgan import DCGANDiscriminator, DCGANGenerator
from assetgen.training.run import TrainingRun, to_uint8_rgba

from .data import load_images, to_model_range

BASELINE_CONFIG: dict[str, Any] = {
    "seed": 0,
    "steps": 6000,
    "batch_size": 32,
    "z_dim": 64,
    "width": 32,
    "lr": 2e-4,
    "beta1": 0.5,
    "holdout": 2000,
    "checkpoint_every": 250,
    "sample_every": 500,
}


def train(out: Path, data: Path | None, config: dict[str, Any], resume: bool) -> None:
    images, _, _, path = load_images(data)
    train_images = images[: len(images) - config["holdout"]]
    config = {**config, "data": str(path)}
    run = TrainingRun(out, config, resume=resume)
    torch.manual_seed(config["seed"])
    rng = torch.Generator().manual_seed(config["seed"])
    G = DCGANGenerator(config["z_dim"], 1, config["width"])
    D = DCGANDiscriminator(1, config["width"])
    opt_g = torch.optim.Adam(G.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=config["lr"], betas=(config["beta1"], 0.999))
    step = 0
    parts = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d}
    if resume:
        step = run.restore_state(parts, rng)
    batch = config["batch_size"]
    zeros = torch.zeros(batch, dtype=torch.long)
    fixed_z = torch.randn(64, config["z_dim"], generator=torch.Generator().manual_seed(7))
    started, last, first = time.monotonic(), 0.0, step
    while step < config["steps"]:
        idx = torch.randint(0, len(train_images), (batch,), generator=rng)
        real = to_model_range(train_images[idx.numpy()])
        fake = G(torch.randn(batch, config["z_dim"]), zeros)
        loss_d = F.softplus(-D(real, zeros)).mean() + F.softplus(D(fake.detach(), zeros)).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-D(fake, zeros)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        step += 1
        now = time.monotonic()
        if now - last > 10 or step == config["steps"]:
            last = now
            rate = (step - first) / max(now - started, 1e-9)
            print(f"dcgan step {step}/{config['steps']} loss_d {loss_d.item():.3f} "
                  f"loss_g {loss_g.item():.3f} {rate:.2f} it/s "
                  f"ETA {(config['steps'] - step) / max(rate, 1e-9) / 60:.1f} min",
                  file=sys.stderr, flush=True)
        if step % config["sample_every"] == 0 or step == config["steps"]:
            G.eval()
            with torch.no_grad():
                run.save_samples(to_uint8_rgba(G(fixed_z, zeros[:1].expand(64))), step)
            G.train()
        if step % config["checkpoint_every"] == 0 or step == config["steps"]:
            run.save_state(step, parts, rng)


def sample(run_dir: Path, n: int, seed: int) -> np.ndarray:
    """n uint8 RGBA images from a baseline run's checkpoint."""
    state = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True)
    config = json.loads(state["config"])
    G = DCGANGenerator(config["z_dim"], 1, config["width"])
    G.load_state_dict(state["G"])
    G.eval()
    z = torch.randn(n, config["z_dim"], generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        out = np.concatenate([
            to_uint8_rgba(G(b, torch.zeros(len(b), dtype=torch.long))) for b in z.split(256)
        ])
    out[out[..., 3] == 0] = 0
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assetgen_portraits.training.baseline",
                                     description="Train the DCGAN baseline on the portraits.")
    parser.add_argument("--data", type=Path, default=Path("data/portraits"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--steps", type=int, default=BASELINE_CONFIG["steps"])
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    train(args.out, args.data, {**BASELINE_CONFIG, "steps": args.steps}, args.resume)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
