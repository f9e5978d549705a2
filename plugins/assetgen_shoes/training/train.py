"""``assetgen train shoes``: the class-conditional DCGAN's training loop (EMA generator,
samples and checkpoints through ``assetgen.training.TrainingRun``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from assetgen.training import distributed
from assetgen.training.augment import check_policy, diff_augment
from assetgen.training.loop import StepProgress, ema_update, ramped_ema_beta
from assetgen.training.run import TrainingRun, pick_device, to_uint8_rgba

from .data import augment_real, load_data, real_sampler, type_shares
from .model import ShoeDiscriminator, ShoeGenerator

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

#: ``assetgen train shoes`` runs under torchrun (docs/distributed.md): ``batch_size`` per process.
SUPPORTS_DISTRIBUTED = True


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
    progress = StepProgress(config["steps"], step, every_s=5, enabled=dist.is_main)
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
        ema_update(G_ema, G, ramped_ema_beta(config["ema_beta"], step))
        step += 1
        if progress.due(step):
            progress.print(step, f"loss_d {loss_d.item():.3f} loss_g {loss_g.item():.3f}")
        if dist.is_main and (step % config["sample_every"] == 0 or step == config["steps"]):
            with torch.no_grad():
                sample = G_ema(fixed_z.to(device), fixed_t.to(device))
            run.save_samples(to_uint8_rgba(sample), step)
            run.log(step, loss_d=loss_d.item(), loss_g=loss_g.item())
        if step % config["checkpoint_every"] == 0 or step == config["steps"]:
            run.save_state(step, parts, rng)  # every rank takes part; rank 0 writes
    if dist.is_main:
        print(f"done: {step} steps; checkpoint in {run.dir}", file=sys.stderr)
