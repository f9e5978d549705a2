"""Differentiable augmentation (Zhao et al., 2020) for RGBA batches in [-1, 1].

Applied to real and fake images alike before the discriminator, so a discriminator trained
on a small data set cannot memorise it, while the generator still learns the un-augmented
distribution. Colour changes touch RGB only; translation and cutout move/cut alpha too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _colour(x: torch.Tensor) -> torch.Tensor:
    rgb, alpha = x[:, :3], x[:, 3:]
    n = x.shape[0]
    rgb = rgb + (torch.rand(n, 1, 1, 1, device=x.device) - 0.5) * 0.5
    mean = rgb.mean(dim=1, keepdim=True)
    rgb = (rgb - mean) * (torch.rand(n, 1, 1, 1, device=x.device) * 2) + mean
    mean = rgb.mean(dim=[1, 2, 3], keepdim=True)
    rgb = (rgb - mean) * (torch.rand(n, 1, 1, 1, device=x.device) + 0.5) + mean
    return torch.cat([rgb, alpha], dim=1)


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sx, sy = int(w * ratio + 0.5), int(h * ratio + 0.5)
    tx = torch.randint(-sx, sx + 1, (n, 1, 1), device=x.device)
    ty = torch.randint(-sy, sy + 1, (n, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(
        torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij"
    )
    gy = torch.clamp(gy[None] + ty + 1, 0, h + 1)
    gx = torch.clamp(gx[None] + tx + 1, 0, w + 1)
    # pad with "transparent black" (-1 everywhere) so shifted-in pixels are background
    padded = F.pad(x, [1, 1, 1, 1], value=-1.0)
    flat = padded.permute(0, 2, 3, 1)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return flat[batch, gy, gx].permute(0, 3, 1, 2).contiguous()


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(
        torch.arange(ch, device=x.device), torch.arange(cw, device=x.device), indexing="ij"
    )
    gy = torch.clamp(gy[None] + oy - ch // 2, 0, h - 1)
    gx = torch.clamp(gx[None] + ox - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, device=x.device, dtype=x.dtype)
    batch = torch.arange(n, device=x.device)[:, None, None]
    mask[batch, gy, gx] = 0
    return x * mask[:, None] + (mask[:, None] - 1)  # cut area becomes -1 (transparent)


POLICIES = {"color": _colour, "translation": _translation, "cutout": _cutout}


def check_policy(policy: list[str]) -> list[str]:
    """Refuse unknown augmentation names before any training starts."""
    from ..errors import InvalidOptionsError

    unknown = [p for p in policy if p not in POLICIES]
    if unknown:
        raise InvalidOptionsError(
            f"config 'augment': unknown augmentation {unknown[0]!r}; known: "
            + ", ".join(sorted(POLICIES)),
            parameter="augment",
            value=unknown[0],
        )
    return policy


def diff_augment(x: torch.Tensor, policy: list[str]) -> torch.Tensor:
    for name in policy:
        x = POLICIES[name](x)
    return x
