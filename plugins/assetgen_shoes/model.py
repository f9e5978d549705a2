"""Class-conditional DCGAN for 64×64 RGBA footwear icons (PyTorch; training/export only).

DCGAN practice (Radford et al., 2015; seeds/002, 003): strided (transposed) convolutions,
batch norm, ReLU in G and LeakyReLU(0.2) in D, tanh output, N(0, 0.02) init. The footwear
type conditions G through an embedding concatenated to z and D through a projection term
(Miyato & Koyama, 2018), which is more stable than concatenating labels to D's input.
"""

from __future__ import annotations

import torch
from torch import nn


def init_weights(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class ShoeGenerator(nn.Module):
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
        """z: N×z_dim, shoe_type: N int64 -> N×4×64×64 RGBA in [-1, 1]."""
        h = torch.cat([z, self.embed(shoe_type)], dim=1)
        return self.net(h[:, :, None, None])


class ShoeDiscriminator(nn.Module):
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


class ShoeClassifier(nn.Module):
    """Small CNN for evaluation: footwear type from an RGBA icon; also a feature extractor."""

    def __init__(self, num_types: int, width: int = 32) -> None:
        super().__init__()
        chans = [width, width * 2, width * 4]
        layers: list[nn.Module] = []
        c_prev = 4
        for c in chans:
            layers += [nn.Conv2d(c_prev, c, 3, 2, 1), nn.BatchNorm2d(c), nn.ReLU(True)]
            c_prev = c
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(c_prev, num_types)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
