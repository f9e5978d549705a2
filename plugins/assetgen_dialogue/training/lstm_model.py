"""Character-level LSTM for NPC lines, conditioned on the archetype (PyTorch; training/export).

The archetype conditions every step: its embedding is concatenated to the character embedding
at each position (as in conditional char-RNNs), so the model cannot "forget" who is speaking
halfway through a long line the way it could if the archetype only set the initial state.

Two modules share one set of weights:

- :class:`DialogueLSTM` runs whole sequences with ``nn.LSTM`` (fast training, cuDNN on a GPU);
- :class:`DialogueStep` runs one step with the LSTM cell written out as matrix products,
  which is what is exported to ONNX. Spelling the cell out keeps the graph to MatMul, Add,
  Sigmoid, Tanh, Mul, Gather, Slice and Concat, which every ONNX runtime (Unity's included)
  implements, instead of the ONNX ``LSTM`` operator that some runtimes do not.
"""

from __future__ import annotations

import torch
from torch import nn

#: Special tokens and their fixed ids; characters follow from id 3 on.
PAD, BOS, EOS = 0, 1, 2
SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<bos>", "<eos>")


class DialogueLSTM(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        num_archetypes: int,
        hidden: int = 256,
        layers: int = 2,
        char_dim: int = 64,
        archetype_dim: int = 16,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.num_archetypes = num_archetypes
        self.hidden = hidden
        self.layers = layers
        self.char_embed = nn.Embedding(vocab_size, char_dim)
        self.archetype_embed = nn.Embedding(num_archetypes, archetype_dim)
        self.lstm = nn.LSTM(
            char_dim + archetype_dim,
            hidden,
            num_layers=layers,
            batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)
        self._init_weights()

    def _init_weights(self) -> None:
        # A forget-gate bias of 1 (Jozefowicz et al., 2015) lets gradients flow through long
        # lines from the first steps of training; PyTorch's gate order is i, f, g, o.
        h = self.hidden
        for name, param in self.lstm.named_parameters():
            if name.startswith("bias_ih"):
                with torch.no_grad():
                    param.zero_()
                    param[h : 2 * h].fill_(1.0)
            elif name.startswith("bias_hh"):
                with torch.no_grad():
                    param.zero_()
        nn.init.normal_(self.char_embed.weight, 0.0, 0.1)
        nn.init.normal_(self.archetype_embed.weight, 0.0, 0.1)

    def forward(
        self,
        chars: torch.Tensor,
        archetype: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """chars: N×T int64, archetype: N int64 -> logits N×T×vocab, (h, c) layers×N×hidden."""
        steps = chars.shape[1]
        cond = self.archetype_embed(archetype)[:, None, :].expand(-1, steps, -1)
        x = self.drop(torch.cat([self.char_embed(chars), cond], dim=2))
        out, new_state = self.lstm(x, state)
        return self.head(self.drop(out)), new_state

    def initial_state(
        self, batch: int, device: torch.device | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (self.layers, batch, self.hidden)
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)


class DialogueStep(nn.Module):
    """One step of :class:`DialogueLSTM` (eval mode), for ONNX export.

    Inputs ``char`` (N int64), ``archetype`` (N int64), ``h`` and ``c`` (layers×N×hidden
    float32); outputs ``logits`` (N×vocab), ``h_out`` and ``c_out`` (layers×N×hidden).
    """

    def __init__(self, model: DialogueLSTM) -> None:
        super().__init__()
        self.model = model
        self.layers = model.layers
        self.hidden = model.hidden

    def forward(
        self, char: torch.Tensor, archetype: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m = self.model
        x = torch.cat([m.char_embed(char), m.archetype_embed(archetype)], dim=1)
        hs, cs = [], []
        n = self.hidden
        for layer in range(self.layers):
            w_ih = getattr(m.lstm, f"weight_ih_l{layer}")
            w_hh = getattr(m.lstm, f"weight_hh_l{layer}")
            bias = getattr(m.lstm, f"bias_ih_l{layer}") + getattr(m.lstm, f"bias_hh_l{layer}")
            gates = x @ w_ih.t() + h[layer] @ w_hh.t() + bias
            i = torch.sigmoid(gates[:, 0:n])
            f = torch.sigmoid(gates[:, n : 2 * n])
            g = torch.tanh(gates[:, 2 * n : 3 * n])
            o = torch.sigmoid(gates[:, 3 * n : 4 * n])
            c_new = f * c[layer] + i * g
            h_new = o * torch.tanh(c_new)
            hs.append(h_new)
            cs.append(c_new)
            x = h_new
        return m.head(x), torch.stack(hs), torch.stack(cs)
