"""The baselines and text figures both dialogue models' evaluations use: a unigram and an
interpolated Kneser-Ney character model (nats per character), distinct word n-grams, and a
naive Bayes archetype classifier on words. numpy only, no torch."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

_BOS_CH, _EOS_CH = "\x02", "\x03"


class KneserNey:
    """Interpolated Kneser-Ney character n-gram model (Chen & Goodman, 1998), archetype-blind.

    The top order uses raw counts, lower orders continuation counts (how many different
    characters precede the n-gram), each with its own absolute discount D = n1 / (n1 + 2 n2);
    the unigram level is interpolated with a uniform distribution so no symbol gets zero.
    """

    def __init__(self, texts: Sequence[str], order: int, vocab_size: int) -> None:
        self.order = order
        self.vocab_size = vocab_size
        pad = _BOS_CH * (order - 1)
        top: Counter[str] = Counter()
        for text in texts:
            s = pad + text + _EOS_CH
            top.update(s[i - order + 1 : i + 1] for i in range(order - 1, len(s)))
        self.counts: list[dict[str, int]] = [{} for _ in range(order + 1)]
        self.counts[order] = dict(top)
        for n in range(order - 1, 0, -1):
            cont: Counter[str] = Counter(g[1:] for g in self.counts[n + 1])
            self.counts[n] = dict(cont)
        # per order: discount, and per context: total count and number of distinct followers
        self.discount = [0.0] * (order + 1)
        self.context_total: list[dict[str, int]] = [{} for _ in range(order + 1)]
        self.context_types: list[dict[str, int]] = [{} for _ in range(order + 1)]
        for n in range(1, order + 1):
            table = self.counts[n]
            n1 = sum(1 for v in table.values() if v == 1)
            n2 = sum(1 for v in table.values() if v == 2)
            self.discount[n] = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
            totals: Counter[str] = Counter()
            types: Counter[str] = Counter()
            for gram, count in table.items():
                totals[gram[:-1]] += count
                types[gram[:-1]] += 1
            self.context_total[n] = dict(totals)
            self.context_types[n] = dict(types)

    def prob(self, history: str, symbol: str) -> float:
        p = 1.0 / self.vocab_size
        for n in range(1, self.order + 1):
            ctx = history[len(history) - n + 1 :] if n > 1 else ""
            total = self.context_total[n].get(ctx, 0)
            if not total:
                continue  # unseen context: keep the lower-order estimate
            d = self.discount[n]
            count = self.counts[n].get(ctx + symbol, 0)
            p = (max(count - d, 0.0) + d * self.context_types[n][ctx] * p) / total
        return p

    def nats_per_char(self, texts: Sequence[str]) -> float:
        pad = _BOS_CH * (self.order - 1)
        total, symbols = 0.0, 0
        for text in texts:
            s = pad + text + _EOS_CH
            for i in range(self.order - 1, len(s)):
                total -= math.log(self.prob(s[i - self.order + 1 : i], s[i]))
                symbols += 1
        return total / max(symbols, 1)


def unigram_nats_per_char(train_texts: Sequence[str], test_texts: Sequence[str]) -> float:
    counts = Counter("".join(train_texts))
    counts[_EOS_CH] = len(train_texts)
    total = sum(counts.values())
    size = len(counts) + 1  # add-one smoothing, with one slot for anything unseen
    nats, symbols = 0.0, 0
    for text in test_texts:
        for ch in (*text, _EOS_CH):
            nats -= math.log((counts.get(ch, 0) + 1) / (total + size))
            symbols += 1
    return nats / max(symbols, 1)


_WORD_SPLIT = str.maketrans({ch: " " for ch in ',.;:!?"()[]{}-'})


def target_nats(logits: np.ndarray, targets: np.ndarray) -> float:
    """Summed negative log-probability (nats) of ``targets`` under the rows of ``logits``
    (a log-softmax in float64), the held-out loss of both dialogue models' evaluations."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -float(logp[np.arange(len(z)), targets].sum())


def words_of(text: str) -> list[str]:
    return [w.strip("'") for w in text.lower().translate(_WORD_SPLIT).split() if w.strip("'")]


def distinct_n(lines: Sequence[str], n: int) -> float:
    """Distinct word n-grams over all n-grams of the lines (Li et al., 2016)."""
    grams: list[tuple[str, ...]] = []
    for line in lines:
        w = words_of(line)
        grams += [tuple(w[i : i + n]) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


class NaiveBayes:
    """Multinomial naive Bayes on word unigrams and bigrams with a uniform class prior.

    The prior is uniform on purpose: nobles speak a third of the corpus, and a classifier that
    learnt that would look "right" on generated noble lines for the wrong reason.
    """

    def __init__(self, texts: Sequence[str], labels: Sequence[int], classes: int) -> None:
        self.classes = classes
        self.counts: list[Counter[str]] = [Counter() for _ in range(classes)]
        for text, label in zip(texts, labels, strict=True):
            self.counts[label].update(self.features(text))
        vocab = set().union(*self.counts)
        self.size = len(vocab) + 1
        self.totals = [sum(c.values()) for c in self.counts]

    @staticmethod
    def features(text: str) -> list[str]:
        w = words_of(text)
        return w + [f"{a} {b}" for a, b in zip(w, w[1:], strict=False)]

    def predict(self, text: str) -> int:
        feats = self.features(text)
        scores = [
            sum(
                math.log((self.counts[k].get(f, 0) + 0.1) / (self.totals[k] + 0.1 * self.size))
                for f in feats
            )
            for k in range(self.classes)
        ]
        return int(np.argmax(scores))
