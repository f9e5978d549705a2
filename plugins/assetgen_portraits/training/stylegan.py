"""A compact StyleGAN2-like generator, its discriminator and the attribute classifier.

Written for 64x64 RGBA sprites on small machines, after Karras et al., "Analyzing and
Improving the Image Quality of StyleGAN" (2020):

- mapping network z -> w (pixel-normalised z, equalised-learning-rate MLP with a 0.01
  learning-rate multiplier), tracking ``w_avg`` for truncation;
- synthesis from a learned 4x4 constant, with modulated 3x3 convolutions and weight
  demodulation, one style vector per layer (``num_ws`` of them, so style mixing works),
  per-pixel noise with learned strengths, and skip connections to RGBA at every resolution;
- a residual discriminator with a minibatch standard-deviation layer.

Modulation is done on the activations (scale the input channels, convolve with the shared
weight, rescale the output channels by the demodulation factor): the same maths as
modulating the weight per sample, but a plain convolution, fast on CPUs and exported to
ONNX without grouped convolutions. Upsampling is bilinear (ONNX ``Resize``).

The synthesis network can be run in two parts around any layer (``prefix`` / ``suffix``) with
an additive feature-map edit in between: the talking-portrait edits use it.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

SQRT2 = math.sqrt(2.0)

# default channels per resolution: sized for two CPU cores (about 0.1 GMAC per image)
DEFAULT_CHANNELS = {4: 128, 8: 128, 16: 64, 32: 32, 64: 16}


def _channels(config: dict[str, Any]) -> dict[int, int]:
    base = config.get("channels") or DEFAULT_CHANNELS
    return {int(k): int(v) for k, v in base.items()}


class EqLinear(nn.Module):
    """Linear layer with equalised learning rate (weights scaled at run time)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activate: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / lr_mul))
        self.scale = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(out, 0.2) * SQRT2 if self.activate else out


class EqConv(nn.Module):
    """Convolution with equalised learning rate, used by the discriminator."""

    def __init__(self, cin: int, cout: int, kernel: int, *, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale = 1 / math.sqrt(cin * kernel * kernel)
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class MappingNetwork(nn.Module):
    def __init__(self, z_dim: int, w_dim: int, layers: int, w_avg_beta: float = 0.995) -> None:
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        pairs = zip(dims[:-1], dims[1:], strict=True)
        self.net = nn.Sequential(*[EqLinear(a, b, lr_mul=0.01, activate=True) for a, b in pairs])
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.w_avg_beta = w_avg_beta

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + 1e-8)
        w = self.net(z)
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(0), 1 - self.w_avg_beta)
        return w


class ModulatedConv(nn.Module):
    def __init__(
        self, cin: int, cout: int, kernel: int, w_dim: int, *, demodulate: bool, up: bool
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.affine = EqLinear(w_dim, cin, bias_init=1.0)
        self.scale = 1 / math.sqrt(cin * kernel * kernel)
        self.demodulate = demodulate
        self.up = up
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # N x cin
        weight = self.weight * self.scale
        cout, cin = weight.shape[:2]
        # reshape, not [:, :, None, None]: one graph node instead of two in the export
        x = x * styles.reshape(-1, cin, 1, 1)
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        out = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            # sum over (input channel, kernel) of (weight * style)^2, per sample and output
            power = styles.pow(2) @ weight.pow(2).sum(dim=(2, 3)).t()
            out = out * torch.rsqrt(power + 1e-8).reshape(-1, cout, 1, 1)
        return out


class StyledLayer(nn.Module):
    """Modulated 3x3 convolution, noise, bias, leaky ReLU."""

    def __init__(self, cin: int, cout: int, w_dim: int, resolution: int, *, up: bool) -> None:
        super().__init__()
        self.conv = ModulatedConv(cin, cout, 3, w_dim, demodulate=True, up=up)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(cout))
        # fixed noise for deterministic inference and export (no random ops in the graph)
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))
        self.resolution = resolution
        self.channels = cout

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const",
        crop: tuple[int, int, int, int] | None = None,
    ) -> torch.Tensor:
        """``crop`` (y0, y1, x0, x1 in this layer's pixels): ``x`` is that window of the map,
        so the fixed noise is cut to the same window."""
        x = self.conv(x, w)
        if noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device)
            x = x + noise * self.noise_strength
        elif noise_mode == "const":
            noise = self.noise_const
            if crop is not None:
                noise = noise[:, :, crop[0] : crop[1], crop[2] : crop[3]]
            x = x + noise * self.noise_strength
        return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * SQRT2


class ToRGBA(nn.Module):
    def __init__(self, cin: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv(cin, 4, 1, w_dim, demodulate=False, up=False)
        self.bias = nn.Parameter(torch.zeros(4))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class SynthesisNetwork(nn.Module):
    """ws (N x num_ws x w_dim) -> RGBA in about [-1, 1].

    Layers are numbered 0..num_layers-1 (the 4x4 convolution is layer 0, then two per
    resolution); layer ``i`` takes style ``ws[:, i]`` and the RGBA output after it (present
    after every resolution's last layer) takes ``ws[:, i + 1]``, as in StyleGAN2.
    """

    def __init__(self, w_dim: int, resolution: int, channels: dict[int, int]) -> None:
        super().__init__()
        self.resolution = resolution
        self.const = nn.Parameter(torch.randn(1, channels[4], 4, 4))
        layers: list[StyledLayer] = [StyledLayer(channels[4], channels[4], w_dim, 4, up=False)]
        to_rgba: dict[str, ToRGBA] = {"0": ToRGBA(channels[4], w_dim)}
        res = 8
        while res <= resolution:
            cin, cout = channels[res // 2], channels[res]
            layers.append(StyledLayer(cin, cout, w_dim, res, up=True))
            layers.append(StyledLayer(cout, cout, w_dim, res, up=False))
            to_rgba[str(len(layers) - 1)] = ToRGBA(cout, w_dim)
            res *= 2
        self.layers = nn.ModuleList(layers)
        self.to_rgba = nn.ModuleDict(to_rgba)
        self.num_layers = len(layers)
        self.num_ws = self.num_layers + 1

    def layer_info(self) -> list[dict[str, int]]:
        return [
            {"layer": i, "resolution": layer.resolution, "channels": layer.channels}
            for i, layer in enumerate(self.layers)
        ]

    def prefix(
        self, ws: torch.Tensor, upto: int, noise_mode: str = "const"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run layers 0..upto (inclusive): the feature map after layer ``upto`` and the RGBA
        skip image accumulated before it (at that layer's resolution; the RGBA output that
        reads layer ``upto`` itself is left to ``suffix``, so an edit of the map reaches it)."""
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        img = torch.zeros(ws.shape[0], 4, 4, 4, device=ws.device, dtype=ws.dtype)
        for i in range(upto + 1):
            x, img = self._step(i, x, img, ws, noise_mode, rgba=i < upto)
        return x, img

    def suffix(
        self, x: torch.Tensor, img: torch.Tensor, ws: torch.Tensor, after: int,
        noise_mode: str = "const", window: tuple[int, int, int, int] | None = None,
    ) -> torch.Tensor:
        """Run the layers after ``after`` on a feature map from ``prefix`` (maybe edited).

        With ``window`` (y0, y1, x0, x1 at layer ``after``'s resolution), ``x`` and ``img`` are
        that window of the map and the skip image, and so is the output (at full resolution).
        The convolutions pad the window's border with zeros, so only its interior (two cells
        in, see :func:`assetgen_portraits.local_edits.window_for`) equals the full output."""
        key = str(after)
        if key in self.to_rgba:
            img = img + self.to_rgba[key](x, ws[:, after + 1])
        base = self.layers[after].resolution
        for i in range(after + 1, self.num_layers):
            crop = None
            if window is not None:
                k = self.layers[i].resolution // base
                crop = (window[0] * k, window[1] * k, window[2] * k, window[3] * k)
            x, img = self._step(i, x, img, ws, noise_mode, crop=crop)
        return img

    def _step(
        self, i: int, x: torch.Tensor, img: torch.Tensor, ws: torch.Tensor, noise_mode: str,
        rgba: bool = True, crop: tuple[int, int, int, int] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        layer = self.layers[i]
        if layer.conv.up:
            img = F.interpolate(img, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = layer(x, ws[:, i], noise_mode, crop)
        key = str(i)
        if rgba and key in self.to_rgba:
            img = img + self.to_rgba[key](x, ws[:, i + 1])
        return x, img

    def forward(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        last = self.num_layers - 1
        x, img = self.prefix(ws, last, noise_mode)
        return self.suffix(x, img, ws, last, noise_mode)


class PortraitGenerator(nn.Module):
    def __init__(
        self,
        z_dim: int = 128,
        w_dim: int = 128,
        mapping_layers: int = 4,
        resolution: int = 64,
        channels: dict[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.z_dim, self.w_dim = z_dim, w_dim
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers)
        self.synthesis = SynthesisNetwork(w_dim, resolution, channels or DEFAULT_CHANNELS)
        self.num_ws = self.synthesis.num_ws

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PortraitGenerator:
        return cls(
            config["z_dim"], config["w_dim"], config["mapping_layers"], 64, _channels(config)
        )

    def ws(
        self, z: torch.Tensor, truncation: float = 1.0, mix_z: torch.Tensor | None = None,
        mix_layer: int | None = None,
    ) -> torch.Tensor:
        w = self.mapping(z)
        if truncation != 1.0:
            w = self.mapping.w_avg.lerp(w, truncation)
        ws = w[:, None].repeat(1, self.num_ws, 1)
        if mix_z is not None and mix_layer is not None:
            w2 = self.mapping(mix_z)
            if truncation != 1.0:
                w2 = self.mapping.w_avg.lerp(w2, truncation)
            ws[:, mix_layer:] = w2[:, None]
        return ws

    def forward(
        self, z: torch.Tensor, truncation: float = 1.0, noise_mode: str = "const"
    ) -> torch.Tensor:
        return self.synthesis(self.ws(z, truncation), noise_mode)


class DiscriminatorBlock(nn.Module):
    """Two 3x3 convolutions with a 2x average-pool down, plus a 1x1 residual path."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv0 = EqConv(cin, cin, 3)
        self.conv1 = EqConv(cin, cout, 3)
        self.skip = EqConv(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(F.avg_pool2d(x, 2))
        x = F.leaky_relu(self.conv0(x), 0.2) * SQRT2
        x = F.leaky_relu(self.conv1(F.avg_pool2d(x, 2)), 0.2) * SQRT2
        return (x + skip) / SQRT2


class PortraitDiscriminator(nn.Module):
    def __init__(self, channels: dict[int, int], resolution: int = 64, mbstd_group: int = 4):
        super().__init__()
        self.from_rgba = EqConv(4, channels[resolution], 1)
        blocks = []
        res = resolution
        while res > 4:
            blocks.append(DiscriminatorBlock(channels[res], channels[res // 2]))
            res //= 2
        self.blocks = nn.Sequential(*blocks)
        c = channels[4]
        self.mbstd_group = mbstd_group
        self.conv = EqConv(c + 1, c, 3)
        self.fc = EqLinear(c * 16, c, activate=True)
        self.out = EqLinear(c, 1)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PortraitDiscriminator:
        channels = config.get("d_channels") or _channels(config)
        return cls({int(k): int(v) for k, v in channels.items()})

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.from_rgba(img), 0.2) * SQRT2
        x = self.blocks(x)
        n, c, h, w = x.shape
        g = min(self.mbstd_group, n)
        while n % g:
            g -= 1
        y = x.reshape(g, -1, c, h, w)
        y = (y - y.mean(0)).pow(2).mean(0).add(1e-8).sqrt().mean(dim=(1, 2, 3))  # n/g
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
        x = torch.cat([x, y], dim=1)
        x = F.leaky_relu(self.conv(x), 0.2) * SQRT2
        return self.out(self.fc(x.flatten(1))).squeeze(1)


class AttributeClassifier(nn.Module):
    """A small CNN with one softmax head per label column, on 64x64 RGBA in [-1, 1].

    Its penultimate features (``features``) are the embedding used for FID/KID and
    precision/recall in the evaluation.
    """

    def __init__(self, head_sizes: dict[str, int], width: int = 32, feature_dim: int = 256):
        super().__init__()
        w = width

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )

        self.body = nn.Sequential(
            block(4, w), block(w, 2 * w), block(2 * w, 4 * w), block(4 * w, 4 * w),
            nn.Flatten(), nn.Linear(4 * w * 16, feature_dim), nn.ReLU(inplace=True),
        )
        self.heads = nn.ModuleDict({k: nn.Linear(feature_dim, n) for k, n in head_sizes.items()})

    def features(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x)
        return out

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.features(x)
        return {k: head(f) for k, head in self.heads.items()}
