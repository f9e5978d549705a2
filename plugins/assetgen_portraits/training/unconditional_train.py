"""Train the unconditional portraits StyleGAN (``assetgen train portraits`` with
``conditioning=none``: unlabelled art of your own, or the DiceBear set without its labels).

The settings are ``commands.DEFAULT_CONFIG``'s, sized for two CPU cores: a 0.1 GMAC-per-image
generator (channels 128-128-64-32-16 from 4x4 to 64x64), batch 16. See docs/training.md for
measured speeds; on a GPU, raise ``batch_size`` and ``channels`` with ``--set`` or a config
file, nothing else.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from assetgen import InvalidOptionsError
from assetgen.training import distributed
from assetgen.training.augment import check_policy, diff_augment
from assetgen.training.loop import StepProgress, ema_update
from assetgen.training.run import TrainingRun, pick_device, read_checkpoint, to_uint8_rgba

from .data import load_images, to_model_range
from .stylegan import PortraitDiscriminator, PortraitGenerator


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



def train(out: Path, data: Path | None, config: dict[str, Any], resume: bool) -> None:
    """The loop; ``config`` is the checked one of ``commands.train`` (``conditioning=none``)."""
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

