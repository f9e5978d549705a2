"""Best-of-N reranking: a small learned scorer of candidate lines (numpy only).

The scorer is a logistic regression trained at export time to tell held-out real lines from
lines the model samples itself for the same tags (``training/export.py``); its logit ranks the
candidates of one request. Its features are cheap and known at the end of sampling: how likely
the model found the line (mean, lowest and spread of the piece log-probabilities), its length,
repeated and unknown words, whether it ends a sentence, placeholders and punctuation density.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FEATURES: tuple[str, ...] = (
    "mean_logprob",
    "min_logprob",
    "std_logprob",
    "log_chars",
    "words_per_20",
    "repeated_word_share",
    "known_word_share",
    "ends_sentence",
    "placeholders",
    "punctuation_share",
)


def _words(text: str) -> list[str]:
    out, word = [], ""
    for ch in text.lower() + " ":
        if ch.isalpha() or ch == "'":
            word += ch
        elif word:
            out.append(word.strip("'") or word)
            word = ""
    return out


def features(
    text: str, logprobs: Sequence[float] | np.ndarray, words: frozenset[str]
) -> list[float]:
    lp = np.asarray(logprobs, dtype=np.float64)
    if lp.size == 0:
        lp = np.array([-20.0])
    w = _words(text)
    n = max(len(w), 1)
    punct = sum(1 for ch in text if not ch.isalnum() and not ch.isspace())
    return [
        float(lp.mean()),
        float(lp.min()),
        float(lp.std()),
        math.log1p(len(text)),
        len(w) / 20.0,
        1.0 - len(set(w)) / n if w else 0.0,
        sum(x in words for x in w) / n if w else 0.0,
        1.0 if text.rstrip("'\")").endswith(("!", "?", ".")) else 0.0,
        float(text.count("{NAME}") + text.count("{PLACE}")),
        punct / max(len(text), 1),
    ]


@dataclass
class Scorer:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logit(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(np.asarray(x, dtype=np.float64)) - self.mean) / self.scale
        return np.asarray(z @ self.weights + self.bias, dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Scorer:
        return cls(
            np.asarray(doc["mean"], dtype=np.float64),
            np.asarray(doc["scale"], dtype=np.float64),
            np.asarray(doc["weights"], dtype=np.float64),
            float(doc["bias"]),
        )


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 2000) -> Scorer:
    """L2-regularised logistic regression by gradient descent on standardised features."""
    mean = x.mean(0)
    scale = x.std(0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    b = 0.0
    lr = 0.5
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        grad = p - y
        w -= lr * (z.T @ grad / len(y) + l2 * w)
        b -= lr * float(grad.mean())
    return Scorer(mean, scale, w, b)
