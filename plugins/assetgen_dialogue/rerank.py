"""Best-of-N reranking: small learned scorers of candidate lines (numpy only).

Both scorers are logistic regressions whose logit ranks the candidates of one request:

- ``scorer.json`` (``rerank=learned``) is trained at export time to tell held-out real lines
  from lines the model samples itself for the same tags (``training/export.py``);
- ``judged_scorer.json`` (``rerank=judged``) is trained on the lines people judged in the
  committed blind read-throughs (``docs/dialogue_readthrough*.md``: ``[ok]`` a game could ship
  the line, ``[no]`` it could not; ``training/judged.py``), so it ranks by what a reader keeps.

Their features are cheap and known at the end of sampling: how likely the model found the line
(mean, lowest and spread of the piece log-probabilities), its length, repeated and unknown
words, whether it ends a sentence, placeholders and punctuation density; the judged scorer adds
word n-gram counts (:func:`gram_counts`: the words of each sentence between sentence marks,
one to three words long, hashed into ``ngram_buckets`` buckets), which is how it learns the
phrases readers reject ("I'm afraid I'm", "not sure that's not").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assetgen.seeds import fnv1a64

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


#: Sentence marks of the n-gram features: a line's words run between these, sentence by
#: sentence ("<s> we must hurry </s> <s> the orcs </s>").
GRAM_START, GRAM_END = "<s>", "</s>"
#: Longest n-gram the judged scorer counts.
GRAM_ORDER = 3


def gram_words(text: str) -> list[str]:
    """The words of the n-gram features: each sentence's lower-cased words (letters and
    apostrophes, ``{name}``, ``{place}``) between sentence marks."""
    out: list[str] = []
    for sentence in _SENTENCE_ANY.findall(text):
        words = _TOKENS.findall(sentence.lower())
        if words:
            out += [GRAM_START, *words, GRAM_END]
    return out


def gram_counts(text: str, buckets: int) -> np.ndarray:
    """How often each hashed bucket's n-grams (one to :data:`GRAM_ORDER` words joined by a
    space, FNV-1a 64 of their UTF-8 bytes modulo ``buckets``) occur in ``text``."""
    counts = np.zeros(buckets, dtype=np.float64)
    words = gram_words(text)
    for n in range(1, GRAM_ORDER + 1):
        for i in range(len(words) - n + 1):
            counts[fnv1a64(" ".join(words[i : i + n])) % buckets] += 1.0
    return counts


def scorer_row(
    text: str, logprobs: Sequence[float] | np.ndarray, words: frozenset[str], buckets: int
) -> np.ndarray:
    """A scorer's input for one line: :func:`features`, then ``buckets`` n-gram counts."""
    dense = np.asarray(features(text, logprobs, words), dtype=np.float64)
    return np.concatenate([dense, gram_counts(text, buckets)]) if buckets else dense


@dataclass
class Scorer:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    #: n-gram buckets after the dense features (0: none); their columns are counts, taken as
    #: they are (mean 0, scale 1)
    ngram_buckets: int = 0

    def logit(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(np.asarray(x, dtype=np.float64)) - self.mean) / self.scale
        return np.asarray(z @ self.weights + self.bias, dtype=np.float64)

    def row(
        self, text: str, logprobs: Sequence[float] | np.ndarray, words: frozenset[str]
    ) -> np.ndarray:
        """The scorer's input for one candidate (:func:`scorer_row`)."""
        return scorer_row(text, logprobs, words, self.ngram_buckets)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
        }
        if self.ngram_buckets:
            doc["ngram_buckets"] = self.ngram_buckets
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any], name: str = "scorer.json") -> Scorer:
        from assetgen import ModelError

        try:
            scorer = cls(
                np.asarray(doc["mean"], dtype=np.float64),
                np.asarray(doc["scale"], dtype=np.float64),
                np.asarray(doc["weights"], dtype=np.float64),
                float(doc["bias"]),
                int(doc.get("ngram_buckets", 0)),
            )
        except (KeyError, TypeError, ValueError, OverflowError, AttributeError):
            raise ModelError(
                f"{name}: fields 'mean', 'scale', 'weights' (lists of numbers) and 'bias' are "
                "required"
            ) from None
        size = len(FEATURES) + scorer.ngram_buckets
        shapes = {scorer.mean.shape, scorer.scale.shape, scorer.weights.shape}
        if scorer.ngram_buckets < 0 or shapes != {(size,)}:
            raise ModelError(
                f"{name}: 'mean', 'scale' and 'weights' must each hold {size} numbers "
                f"({len(FEATURES)} features and {scorer.ngram_buckets} n-gram buckets)"
            )
        if not np.all(np.isfinite(scorer.weights)) or not np.isfinite(scorer.bias):
            raise ModelError(f"{name}: 'weights' and 'bias' must be finite numbers")
        if not np.all(np.isfinite(scorer.mean)) or not np.all(scorer.scale > 0):
            raise ModelError(f"{name}: 'mean' must be finite and 'scale' positive")
        if not np.any(scorer.weights):
            raise ModelError(f"{name}: 'weights' are all zero (an untrained scorer)")
        return scorer


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 2000, ngram_buckets: int = 0
) -> Scorer:
    """L2-regularised logistic regression by gradient descent on standardised features (the
    last ``ngram_buckets`` columns, counts, are taken as they are)."""
    mean = x.mean(0)
    scale = x.std(0)
    scale[scale < 1e-9] = 1.0
    if ngram_buckets:
        mean[-ngram_buckets:] = 0.0
        scale[-ngram_buckets:] = 1.0
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    b = 0.0
    lr = 0.5
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        grad = p - y
        w -= lr * (z.T @ grad / len(y) + l2 * w)
        b -= lr * float(grad.mean())
    return Scorer(mean, scale, w, b, ngram_buckets)
