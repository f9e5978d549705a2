"""A small GPT over subword pieces, conditioned by tag tokens (PyTorch; training and export).

A line is the sequence ``<source> <role> <race> <length> piece ... piece <eos>``: the four tags
are ordinary tokens of the vocabulary placed before the text, so conditioning costs nothing
at run time and "any" is just another tag (trained by dropping role and race to "any" now and
then, which also gives classifier-free guidance a reference to push away from).

Two modules share one set of weights:

- :class:`DialogueGPT` runs whole sequences (causal attention, training and scoring);
- :class:`DialogueGPTStep` runs one token with an explicit key/value cache, which is what is
  exported to ONNX: ``token`` (N), ``past_key`` / ``past_value`` (layers×N×heads×T×head_dim)
  -> ``logits`` (N×vocab), ``present_key`` / ``present_value`` (T + 1). The position is the
  cache's length, read from its shape, so the graph has no position input. Attention is
  written out as MatMul + Softmax (no fused attention op), layer norm and GELU as plain
  arithmetic, so the graph stays within opset 15.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, 4 * dim)
        self.out = nn.Linear(4 * dim, dim)
        self.drop = nn.Dropout(dropout)
        self.dropout = dropout

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        shape = (n, t, self.heads, d // self.heads)
        return (
            q.view(shape).transpose(1, 2),
            k.view(shape).transpose(1, 2),
            v.view(shape).transpose(1, 2),
        )

    def _mlp(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh")))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self._split(x)
        att = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        x = x + self.drop(self.proj(att.transpose(1, 2).reshape(n, t, d)))
        return x + self._mlp(x)

    def step(
        self, x: torch.Tensor, past_k: torch.Tensor, past_v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x: N×1×d; past: N×heads×T×head_dim -> x, and the cache with this position added."""
        n, _, d = x.shape
        q, k, v = self._split(x)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        scores = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(d // self.heads))
        att = torch.matmul(torch.softmax(scores, dim=-1), v)
        x = x + self.proj(att.transpose(1, 2).reshape(n, 1, d))
        return x + self._mlp(x), k, v


class DialogueGPT(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        context: int = 128,
        dim: int = 192,
        layers: int = 4,
        heads: int = 4,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.context = context
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.embed = nn.Embedding(vocab_size, dim)
        self.position = nn.Embedding(context, dim)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(dim, heads, dropout) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        self.apply(self._init)
        # residual projections scaled down with depth (GPT-2's initialisation)
        for block in self.block_list():
            for lin in (block.proj, block.out):
                nn.init.normal_(lin.weight, 0.0, 0.02 / math.sqrt(2 * layers))

    def block_list(self) -> list[Block]:
        return [block for block in self.blocks if isinstance(block, Block)]

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0.0, 0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: N×T int64 -> logits N×T×vocab (the output layer is the embedding, tied)."""
        t = tokens.shape[1]
        pos = torch.arange(t, device=tokens.device)
        x = self.drop(self.embed(tokens) + self.position(pos)[None])
        for block in self.blocks:
            x = block(x)
        return self.ln(x) @ self.embed.weight.t()

    def empty_cache(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (self.layers, batch, self.heads, 0, self.dim // self.heads)
        return torch.zeros(shape), torch.zeros(shape)


class DialogueGPTStep(nn.Module):
    """One token of :class:`DialogueGPT` (eval mode) with an explicit key/value cache."""

    def __init__(self, model: DialogueGPT) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, token: torch.Tensor, past_key: torch.Tensor, past_value: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m = self.model
        position = past_key.shape[3]
        # one transposed table serves both the lookup and the output layer, so the tied
        # weight is stored once in the graph (constant folding would otherwise keep the
        # embedding and a transposed copy of it)
        table = m.embed.weight.t()
        x = table[:, token].t()[:, None, :] + m.position.weight[position][None, None, :]
        keys, values = [], []
        for layer, block in enumerate(m.block_list()):
            x, k, v = block.step(x, past_key[layer], past_value[layer])
            keys.append(k)
            values.append(v)
        logits = m.ln(x[:, 0]) @ table
        return logits, torch.stack(keys), torch.stack(values)
