"""Best-of-N reranking: a small learned scorer of candidate lines (numpy only).

The scorer is a logistic regression trained at export time to tell held-out real lines from
lines the model samples itself for the same tags (``training/export.py``); its logit ranks the
candidates of one request. Its features are cheap and known at the end of sampling: how likely
the model found the line (mean, lowest and spread of the piece log-probabilities), its length,
repeated and unknown words, whether it ends a sentence, placeholders and punctuation density.
"""

from __future__ import annotations

import math
import re
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


#: Words that cannot close a sentence of game dialogue: a sentence ending on one was cut
#: mid-clause ("We must defend the."). Ellipses are left alone: trailing off is meant.
UNFINISHED_ENDS = frozenset("the a an and or with my your our their its very than".split())
#: Two placeholders with at most a comma or an article between them ("{NAME}, the {NAME}").
_PLACEHOLDER_RUN = re.compile(r"\{(?:NAME|PLACE)\}[ ,]*(?:(?:the|and|of) )?\{(?:NAME|PLACE)\}")
_TOKENS = re.compile(r"[a-z']+|\{name\}|\{place\}")
_SENTENCES = re.compile(r"[^.!?]+[.!?]+")
_SENTENCE_ANY = re.compile(r"[^.!?]+[.!?]*")
#: Grammar slips the dialogue GPT makes again and again and real Wesnoth lines never do (none
#: of the 6,121 training lines; 17 of the 440 lines of the first read-through, all judged
#: "no"): a modal before "have to" / "be able to" ("we can't have to go", "you must have to
#: pay"), "a good to/for" ("a very good to get out"), a base form after "be" or "have" ("we
#: will be earn", "I haven't going", "should have find"), a participle after a modal
#: ("I must replied").
_SLIPS = re.compile(
    r"\b(?:can|can't|cannot|could|couldn't)\s+(?:not\s+)?(?:have to|need to|be able to)\b"
    r"|\bmust\s+(?:not\s+)?(?:have to|need to)\b"
    r"|\ba (?:very |great )?good (?:to|for|of)\b"
    r"|\b(?:will|shall|must|can|to) be (?:earn|find|get|go|fight|help|kill|see|take|make"
    r"|destroy|do|pay|hold)\b"
    r"|\b(?:have|has|haven't|hasn't|had) (?:find|get|go|see|take|make|going|do|kill|know)\b"
    r"|\b(?:should|could|would|must|might) have (?:find|get|go|see|take|make|do|kill|know"
    r"|give)\b"
    r"|\b(?:will|shall|must|can|can't|cannot|could|should|would|won't) (?:not )?"
    r"(?:replied|destroyed|found|killed|defeated|seen|taken)\b"
    r"|\bwhat's going to do\b"
    r"|\b(?:I'm|I am|we're|we are|you're|you are|it's|is it)(?: not)? going to do with\b"
    r"|\bI (?:will|'ll) have to do with\b",
    re.IGNORECASE,
)
#: "I am {NAME}. ... I am not {NAME}." (1 of the 6,121 Wesnoth training lines says both).
_CONTRADICTION = re.compile(
    r"^(?=.*\b(I am|I'm|you are|you're) \{NAME\})(?=.*\b\1 (?:not|no) \{NAME\})",
    re.IGNORECASE | re.DOTALL,
)
#: The line checks of :func:`faults`, in the order they are reported.
FAULTS: tuple[str, ...] = (
    "unfinished_sentence",
    "repeated_phrase",
    "placeholder_run",
    "many_placeholders",
    "grammar_slip",
    "punctuation_run",
    "repeated_sentence",
    "contradiction",
)
#: "!!!!", "?!!", "....." : real Wesnoth lines never pile up marks (none of 6,121).
_PUNCTUATION_RUN = re.compile(r"[!?]{3,}|\.{4,}")


def faults(text: str, slips: bool = True) -> list[str]:
    """The checks a candidate line fails; each catches a way generated lines went wrong in
    the read-through that real lines rarely show (``assetgen eval dialogue`` reports the share
    of real and generated lines failing each):

    - ``unfinished_sentence``: a sentence ends on an article, conjunction or possessive;
    - ``repeated_phrase``: the same three words twice ("be able to be able to");
    - ``placeholder_run``: placeholders piled up ("{NAME}, the {NAME}");
    - ``many_placeholders``: more than two placeholders in one line;
    - ``grammar_slip`` (with ``slips``): one of the model's recurring slips (:data:`_SLIPS`);
    - ``punctuation_run`` (with ``slips``): "!!!!", "?!!" or more than three dots;
    - ``repeated_sentence`` (with ``slips``): a sentence of two or more words said twice
      ("What's this? ... What's this?"; 4 of the 6,121 Wesnoth training lines: "To arms!
      To arms!");
    - ``contradiction`` (with ``slips``): "I am {NAME}" and "I am not {NAME}" in one line.
    """
    found = []
    for sentence in _SENTENCES.findall(text):
        if sentence.endswith(".."):
            continue
        words = _TOKENS.findall(sentence.lower())
        if words and words[-1] in UNFINISHED_ENDS:
            found.append("unfinished_sentence")
            break
    words = _TOKENS.findall(text.lower())
    triples = list(zip(words, words[1:], words[2:], strict=False))
    if len(set(triples)) < len(triples):
        found.append("repeated_phrase")
    if _PLACEHOLDER_RUN.search(text):
        found.append("placeholder_run")
    if text.count("{NAME}") + text.count("{PLACE}") > 2:
        found.append("many_placeholders")
    if slips and _SLIPS.search(text):
        found.append("grammar_slip")
    if slips and _PUNCTUATION_RUN.search(text):
        found.append("punctuation_run")
    if slips:
        said = [re.sub(r"[^a-z'{} ]", "", x.lower()).strip() for x in _SENTENCE_ANY.findall(text)]
        said = [x for x in said if len(x.split()) >= 2]
        if len(said) != len(set(said)):
            found.append("repeated_sentence")
        if _CONTRADICTION.search(text):
            found.append("contradiction")
    return found


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
