"""The label-conditioned portraits generator: a StyleGAN2-like renderer of DiceBear labels.

DiceBear images are a deterministic function of their labels, so the generator is *given*
the labels and trained to redraw the exact render (see ``train.py``). The input is one soft
one-hot vector per face, ``label_weights`` (N x V: every label column's values side by
side, each column summing to 1); a blend of two one-hot vectors is an in-between face.

- **w from the global labels.** Each column named in ``w_columns`` (hair, colours,
  eyebrows, glasses, earrings, details) has a table of ``embed_dim``-d embeddings; the
  weighted embeddings are concatenated and a 3-layer MLP makes ``w`` (``w_dim``). Mouth and
  eyes are *not* in w: they reach the image only through the spatial maps, so changing
  them (talking, blinking) cannot change anything else.
- **Spatial maps per label value.** Every value of a ``map_columns`` column has a learned
  ``map16_channels`` x 16 x 16 map; the label-weighted sum is added to the first channels
  of the 16 x 16 features. The small parts (``map32_columns``: eyes, mouth, eyebrows,
  details, glasses, earrings) also have a ``map32_channels`` x 32 x 32 map added at 32 x 32.
  The maps start at zero, so a value's map only grows where that value is drawn.
- **Synthesis**: a learned 4 x 4 constant, modulated / demodulated 3 x 3 convolutions
  (``stylegan.ModulatedConv``, modulation on activations so the graph is plain
  convolutions), channels ``channels`` at 4, 8, 16 and 32 px, RGBA skip outputs at 16
  and 32 px, and a 64 px head: a modulated 3 x 3 convolution to ``head_channels * 4`` at
  32 px, pixel shuffle to ``head_channels`` at 64 px, two plain 3 x 3 convolutions that can
  draw 1-px outlines. Output: **premultiplied** RGBA in about [-1, 1].
- No noise inputs and no random ops: a label set always draws the same sprite.

``num_ws`` style vectors (one per modulated layer) keep style mixing meaningful: the coarse
layers from one label set, the fine ones from another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .stylegan import SQRT2, EqConv, EqLinear, ModulatedConv, ToRGBA

W_COLUMNS = ("hair", "hairColor", "skinColor", "eyebrows", "glasses", "earrings", "details")
MAP_COLUMNS = ("hair", "eyebrows", "eyes", "mouth", "glasses", "earrings", "details")
MAP32_COLUMNS = ("eyebrows", "eyes", "mouth", "glasses", "earrings", "details")


@dataclass(frozen=True)
class LabelSpace:
    """The label columns a model is conditioned on and the values of each, in code order.

    ``offsets[c]`` is where column ``c`` starts in a ``label_weights`` vector."""

    columns: tuple[tuple[str, tuple[str, ...]], ...]
    offsets: dict[str, int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        offsets, at = {}, 0
        for name, values in self.columns:
            offsets[name] = at
            at += len(values)
        object.__setattr__(self, "offsets", offsets)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def size(self) -> int:
        return sum(len(values) for _, values in self.columns)

    def values(self, name: str) -> tuple[str, ...]:
        return dict(self.columns)[name]

    def span(self, name: str) -> slice:
        start = self.offsets[name]
        return slice(start, start + len(self.values(name)))

    def one_hot(self, codes: torch.Tensor) -> torch.Tensor:
        """N x K integer codes (one per column, in ``names`` order) -> N x V label weights."""
        parts = [
            F.one_hot(codes[:, k].long(), len(values)).float()
            for k, (_, values) in enumerate(self.columns)
        ]
        return torch.cat(parts, dim=1)

    def to_json(self) -> list[dict[str, Any]]:
        return [{"name": name, "values": list(values)} for name, values in self.columns]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> LabelSpace:
        return cls(tuple((str(c["name"]), tuple(str(v) for v in c["values"])) for c in data))


DEFAULT_LABEL_CONFIG: dict[str, Any] = {
    "embed_dim": 32,
    "label_w_dim": 256,
    "mapping_hidden": 256,
    "label_channels": [96, 96, 96, 64],  # at 4, 8, 16, 32 px
    "head_channels": 16,
    "map16_channels": 64,
    "map32_channels": 16,
    # how a layer doubles the resolution: "bilinear" (upsample, then a 3 x 3 convolution at
    # the new size) or "subpixel" (a 3 x 3 convolution at the old size to 4x the channels,
    # then a pixel shuffle: the same multiply-adds without a resize op, which ONNX Runtime
    # runs outside its blocked convolution layout)
    "up_mode": "bilinear",
    # the 64 px head: "refine" (modulated conv to head_channels * 4 at 32 px, pixel shuffle,
    # two plain 3 x 3 convs at 64 px) or "shuffle" (modulated conv at 32 px to
    # head_channels * 4, pixel shuffle, one 1 x 1 conv to RGBA: no 3 x 3 work at 64 px)
    "head_mode": "refine",
}

#: what a config written before a key existed means by it
LEGACY_LABEL_CONFIG: dict[str, Any] = {"up_mode": "bilinear", "head_mode": "refine"}


class LabelMapping(nn.Module):
    """label weights (N x V) -> w (N x w_dim), 16 px maps and 32 px maps."""

    def __init__(self, space: LabelSpace, cfg: dict[str, Any]) -> None:
        super().__init__()
        self.space = space
        self.w_columns = [c for c in W_COLUMNS if c in space.names]
        self.map_columns = [c for c in MAP_COLUMNS if c in space.names]
        self.map32_columns = [c for c in MAP32_COLUMNS if c in space.names]
        e = int(cfg["embed_dim"])
        self.embed = nn.ParameterDict(
            {c: nn.Parameter(torch.randn(len(space.values(c)), e)) for c in self.w_columns}
        )
        hidden, w_dim = int(cfg["mapping_hidden"]), int(cfg["label_w_dim"])
        self.mlp = nn.Sequential(
            EqLinear(e * len(self.w_columns), hidden, activate=True),
            EqLinear(hidden, hidden, activate=True),
            EqLinear(hidden, w_dim),
        )
        c16, c32 = int(cfg["map16_channels"]), int(cfg["map32_channels"])
        n16 = sum(len(space.values(c)) for c in self.map_columns)
        n32 = sum(len(space.values(c)) for c in self.map32_columns)
        # zero start: a value's map only grows where the value changes the picture
        self.maps16 = nn.Parameter(torch.zeros(n16, c16 * 16 * 16))
        self.maps32 = nn.Parameter(torch.zeros(n32, c32 * 32 * 32))
        self.c16, self.c32 = c16, c32
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def _gather(self, weights: torch.Tensor, columns: list[str]) -> torch.Tensor:
        return torch.cat([weights[:, self.space.span(c)] for c in columns], dim=1)

    def w(self, weights: torch.Tensor) -> torch.Tensor:
        emb = [weights[:, self.space.span(c)] @ self.embed[c] for c in self.w_columns]
        return self.mlp(torch.cat(emb, dim=1))

    def maps(self, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = weights.shape[0]
        m16 = (self._gather(weights, self.map_columns) @ self.maps16).reshape(n, self.c16, 16, 16)
        m32 = (self._gather(weights, self.map32_columns) @ self.maps32).reshape(
            n, self.c32, 32, 32
        )
        return m16, m32

    def forward(self, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m16, m32 = self.maps(weights)
        return self.w(weights), m16, m32


class Layer(nn.Module):
    """Modulated 3x3 convolution, bias, lrelu; ``up``: the output at twice the resolution,
    by a 2x bilinear upsampling before the convolution (``subpixel=False``) or by a
    convolution to 4x the channels and a pixel shuffle after it (``subpixel=True``)."""

    def __init__(
        self, cin: int, cout: int, w_dim: int, *, up: bool, subpixel: bool = False
    ) -> None:
        super().__init__()
        self.shuffle = up and subpixel
        conv_out = cout * 4 if self.shuffle else cout
        self.conv = ModulatedConv(
            cin, conv_out, 3, w_dim, demodulate=True, up=up and not subpixel
        )
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x = self.conv(x, w)
        if self.shuffle:
            x = F.pixel_shuffle(x, 2)
        return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * SQRT2


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


class LabelSynthesis(nn.Module):
    """ws (N x num_ws x w_dim), maps16, maps32 -> premultiplied RGBA (N x 4 x 64 x 64).

    Style index per layer: 0 (4 px), 1-2 (8 px), 3-4 (16 px, maps16 added after 3, RGBA
    skip with 5), 5-6 (32 px, maps32 added after 5, RGBA skip with 7), 7 (64 px head)."""

    num_ws = 8
    MAP16_AFTER = 3
    MAP32_AFTER = 5

    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__()
        c4, c8, c16, c32 = (int(c) for c in cfg["label_channels"])
        w_dim, head = int(cfg["label_w_dim"]), int(cfg["head_channels"])
        if int(cfg["map16_channels"]) > c16 or int(cfg["map32_channels"]) > c32:
            raise ValueError("map channels must not exceed the channels at 16 and 32 px")
        up_mode, head_mode = str(cfg["up_mode"]), str(cfg["head_mode"])
        if up_mode not in ("bilinear", "subpixel"):
            raise ValueError(f"up_mode must be 'bilinear' or 'subpixel', not {up_mode!r}")
        if head_mode not in ("refine", "shuffle"):
            raise ValueError(f"head_mode must be 'refine' or 'shuffle', not {head_mode!r}")
        sub = up_mode == "subpixel"
        self.const = nn.Parameter(torch.randn(1, c4, 4, 4))
        self.layers = nn.ModuleList(
            [
                Layer(c4, c4, w_dim, up=False),
                Layer(c4, c8, w_dim, up=True, subpixel=sub),
                Layer(c8, c8, w_dim, up=False),
                Layer(c8, c16, w_dim, up=True, subpixel=sub),
                Layer(c16, c16, w_dim, up=False),
                Layer(c16, c32, w_dim, up=True, subpixel=sub),
                Layer(c32, c32, w_dim, up=False),
            ]
        )
        self.rgba16 = ToRGBA(c16, w_dim)
        self.rgba32 = ToRGBA(c32, w_dim)
        self.head = ModulatedConv(c32, head * 4, 3, w_dim, demodulate=True, up=False)
        self.head_bias = nn.Parameter(torch.zeros(head * 4))
        self.refine: nn.Module | None = None
        if head_mode == "refine":
            self.refine = EqConv(head, head, 3)
            self.out = EqConv(head, 4, 3)
        else:
            self.out = EqConv(head, 4, 1)

    @staticmethod
    def _add(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        c = m.shape[1]
        return torch.cat([x[:, :c] + m, x[:, c:]], dim=1)

    def forward(self, ws: torch.Tensor, m16: torch.Tensor, m32: torch.Tensor) -> torch.Tensor:
        # the constant's batch of one broadcasts against the first layer's styles: no
        # expand to N in the graph (a shape computation the export would otherwise carry)
        x = self.const
        for i, layer in enumerate(self.layers):
            x = layer(x, ws[:, i])
            if i == self.MAP16_AFTER:
                x = self._add(x, m16)
            elif i == self.MAP32_AFTER:
                x = self._add(x, m32)
            if i == 4:
                img = _up(self.rgba16(x, ws[:, 5]))
        img = _up(img + self.rgba32(x, ws[:, 7]))
        h = self.head(x, ws[:, 7]) + self.head_bias[None, :, None, None]
        h = F.leaky_relu(h, 0.2) * SQRT2
        if self.refine is not None:
            h = F.leaky_relu(self.refine(F.pixel_shuffle(h, 2)), 0.2) * SQRT2
            return img + self.out(h)
        return img + F.pixel_shuffle(self._out_before_shuffle(h), 2)

    def _out_before_shuffle(self, h: torch.Tensor) -> torch.Tensor:
        """The "shuffle" head's 1 x 1 output convolution, applied before the pixel shuffle:
        a 1 x 1 convolution commutes with the shuffle when each of the 4 sub-pixel groups of
        channels gets the same weights, so ``out(shuffle(h)) == shuffle(conv(h, W kron I4))``.
        The shuffle then moves 4 x 4 channels instead of ``head_channels`` x 4, which is
        cheaper in the exported graph (the block weight is a constant there)."""
        weight = self.out.weight[:, :, 0, 0] * self.out.scale  # 4 x head
        eye = torch.eye(4, dtype=weight.dtype, device=weight.device)
        # block[o * 4 + k, c * 4 + l] = weight[o, c] if k == l (plain ops: they fold to
        # constants in any runtime, where an einsum or a repeat might not)
        block = (weight[:, None, :, None] * eye[None, :, None, :]).reshape(16, -1, 1, 1)
        bias = None
        if self.out.bias is not None:
            bias = (self.out.bias[:, None] * torch.ones_like(eye[:1])).reshape(-1)
        return F.conv2d(h, block, bias)


class LabelGenerator(nn.Module):
    def __init__(self, space: LabelSpace, cfg: dict[str, Any]) -> None:
        super().__init__()
        self.space = space
        self.cfg = {k: cfg.get(k, LEGACY_LABEL_CONFIG.get(k)) for k in DEFAULT_LABEL_CONFIG}
        self.mapping = LabelMapping(space, self.cfg)
        self.synthesis = LabelSynthesis(self.cfg)
        self.num_ws = self.synthesis.num_ws

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        w, m16, m32 = self.mapping(weights)
        return self.synthesis(w[:, None].expand(-1, self.num_ws, -1), m16, m32)

    def multiply_adds(self) -> int:
        """Multiply-adds of one image through the synthesis network (convolutions only)."""
        c4, c8, c16, c32 = (int(c) for c in self.cfg["label_channels"])
        head = int(self.cfg["head_channels"])
        # (in, out, resolution, kernel taps); a subpixel up layer does the same work at
        # the old resolution with 4x the outputs
        convs = [
            (c4, c4, 4, 9), (c4, c8, 8, 9), (c8, c8, 8, 9), (c8, c16, 16, 9), (c16, c16, 16, 9),
            (c16, c32, 32, 9), (c32, c32, 32, 9), (c32, head * 4, 32, 9),
        ]
        if self.cfg["head_mode"] == "refine":
            convs += [(head, head, 64, 9), (head, 4, 64, 9)]
        else:
            # the 1 x 1 output convolution runs before the shuffle, as a block convolution
            # from head x 4 to 4 x 4 channels at 32 px (its zeros are multiplied too)
            convs += [(head * 4, 16, 32, 1)]
        return sum(cin * cout * taps * res * res for cin, cout, res, taps in convs)


class PatchDiscriminator(nn.Module):
    """A small conditional patch discriminator for the sharpening phase: a real / fake score
    per 4 x 4 block of pixels (16 x 16 scores), conditioned by adding a linear map of the label
    weights to every position of its last features."""

    def __init__(self, label_size: int, width: int = 32) -> None:
        super().__init__()
        self.conv0 = EqConv(4, width, 3)
        self.conv1 = EqConv(width, width * 2, 3)
        self.conv2 = EqConv(width * 2, width * 2, 3)
        self.cond = EqLinear(label_size, width * 2)
        self.out = EqConv(width * 2, 1, 1)

    def forward(self, img: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(F.leaky_relu(self.conv0(img), 0.2), 2)
        x = F.avg_pool2d(F.leaky_relu(self.conv1(x), 0.2), 2)
        x = F.leaky_relu(self.conv2(x), 0.2)
        x = x + self.cond(weights)[:, :, None, None]
        return self.out(x)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())

