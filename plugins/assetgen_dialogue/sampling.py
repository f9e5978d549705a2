"""One token from a step's logits, the draw both dialogue models share (the character LSTM in
``plugin.py`` and the GPT in ``gpt_lines.py``); the C# runtime mirrors it
(``unity/com.assetgen.runtime/Runtime/Dialogue.cs``)."""

from __future__ import annotations

import numpy as np

from assetgen import seeds


def sample_token(
    logits: np.ndarray,
    rng: seeds.SeedStream,
    temperature: float,
    top_k: int,
    top_p: float,
    banned: np.ndarray,
) -> int:
    """Draw one token id: temperature, then top-k, then top-p (nucleus), one uniform draw.

    In float64 with stable sorts and exactly one ``rng.random()`` per token, so a seed always
    consumes its random stream the same way.
    """
    z = logits / temperature
    z[banned] = -np.inf
    if 0 < top_k < len(z):
        kth = np.partition(z, len(z) - top_k)[len(z) - top_k]
        z[z < kth] = -np.inf
    p = np.exp(z - z.max())
    p /= p.sum()
    if top_p < 1.0:
        order = np.argsort(-p, kind="stable")
        cum = np.cumsum(p[order])
        # keep the likeliest characters up to and including the one that crosses top_p
        drop = order[np.searchsorted(cum, top_p, side="left") + 1 :]
        p[drop] = 0.0
        p /= p.sum()
    return int(seeds.pick(np.cumsum(p), rng.random()))
