"""The shoes models (PyTorch; training/export only): the class-conditional DCGAN of the core
(``assetgen.training.dcgan``) conditioned on footwear types, and the evaluation classifier.

DCGAN practice (Radford et al., 2015; seeds/002, 003): strided (transposed) convolutions,
batch norm, ReLU in G and LeakyReLU(0.2) in D, tanh output, N(0, 0.02) init. The footwear
type conditions G through an embedding concatenated to z and D through a projection term
(Miyato & Koyama, 2018), which is more stable than concatenating labels to D's input.
"""

from __future__ import annotations

import torch
from torch import nn

from assetgen.training.dcgan import DCGANDiscriminator as ShoeDiscriminator
from assetgen.training.dcgan import DCGANGenerator as ShoeGenerator
from assetgen.training.dcgan import init_weights

__all__ = ["ShoeClassifier", "ShoeDiscriminator", "ShoeGenerator", "init_weights"]


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
