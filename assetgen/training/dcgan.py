"""A class-conditional DCGAN for 64 x 64 RGBA (PyTorch; training only).

DCGAN practice (Radford et al., 2015): strided (transposed) convolutions, batch norm, ReLU in G
and LeakyReLU(0.2) in D, tanh output, N(0, 0.02) init. The class conditions G through an
embedding concatenated to z and D through a projection term. The ``shoes`` generator trains it
on footwear types; the portraits evaluation trains it with one class as its baseline; so it
lives in the core rather than in either plugin.
"""

from __future__ import annotations

import torch
from torch import nn


def init_weights(module: nn.Module) -> None:
    """DCGAN's initialisation: N(0, 0.02) weights (N(1, 0.02) for batch norm), zero biases."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        bias = getattr(module, "bias", None)
        if isinstance(bias, torch.Tensor):
            nn.init.zeros_(bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """z (and a class) -> 64 x 64 RGBA in [-1, 1]: transposed convolutions, batch norm, ReLU,
    tanh; the class as an embedding concatenated to z (one class: unconditional)."""

    def __init__(self, z_dim: int, num_types: int, width: int = 32, embed_dim: int = 16) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.num_types = num_types
        self.embed = nn.Embedding(num_types, embed_dim)
        chans = [width * 8, width * 4, width * 2, width]
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim + embed_dim, chans[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(chans[0]),
            nn.ReLU(True),
        ]
        for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(chans[-1], 4, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor, shoe_type: torch.Tensor) -> torch.Tensor:
        """z: N×z_dim, shoe_type (the class): N int64 -> N×4×64×64 RGBA in [-1, 1]."""
        h = torch.cat([z, self.embed(shoe_type)], dim=1)
        return self.net(h[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """64 x 64 RGBA (and a class) -> a real / fake score: strided convolutions, batch norm,
    LeakyReLU(0.2), and a projection term for the class (Miyato & Koyama, 2018)."""

    def __init__(self, num_types: int, width: int = 32) -> None:
        super().__init__()
        chans = [width, width * 2, width * 4, width * 8]
        layers: list[nn.Module] = [nn.Conv2d(4, chans[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
            layers += [
                nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.LeakyReLU(0.2, True),
            ]
        self.features = nn.Sequential(*layers)
        self.out = nn.Linear(chans[-1] * 16, 1)
        self.project = nn.Embedding(num_types, chans[-1] * 16)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor, shoe_type: torch.Tensor) -> torch.Tensor:
        h = self.features(x).flatten(1)
        return self.out(h).squeeze(1) + (self.project(shoe_type) * h).sum(dim=1)
