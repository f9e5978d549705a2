"""Train the judged reranker (``rerank=judged``) on the committed blind read-throughs.

    python -m assetgen_dialogue.training.judged docs/dialogue_readthrough*.md \\
        [--model plugins/assetgen_dialogue/model] [--buckets 2048] [--l2 0.03]

Every line of a judged sheet is a label a person gave: ``[ok]`` a game could ship it as it is,
``[no]`` it could not (criteria in ``docs/dialogue.md``, "Judging a line"). A line that several
sheets hold is taken once, with the mark of the last sheet named. Each line is scored by the
model folder's own step graph, teacher-forced under its sheet's tags (source wesnoth, the role
and length bucket shown), which gives the piece log-probabilities the decoder sees when it
samples the line; the scorer is a logistic regression on :func:`..rerank.features` plus the
hashed word n-grams of :func:`..rerank.gram_counts` (``rerank.Scorer``).

It writes ``judged_scorer.json`` into the model folder, with the sheets and counts it was
trained on and a 5-fold cross-validated AUC (over all lines and per length bucket: how often a
shippable line outranks an unshippable one it never saw), and adds the file to the folder's
``manifest.json``. Judge a read-through made with other request seeds (``assetgen eval
dialogue --set seed=N``) to measure the scorer: the lines it was fit on say nothing about it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assetgen import ModelError, write_atomic

from ..rerank import FEATURES, fit_logistic, scorer_row
from .readthrough import read_marks

SCORER_NAME = "judged_scorer.json"
DEFAULT_BUCKETS = 2048
#: L2 weight of the fit: on the seven committed sheets the command's 5-fold AUC is 0.933 at
#: 0.03 against 0.916 at 0.3, and the seventh blind read-through preferred the 0.03 scorer
#: (docs/dialogue.md, "The judged reranker")
DEFAULT_L2 = 0.03
STEPS = 800
FOLDS = 5
_TAG = re.compile(r"^\((\w+), (\w+)\) ")


@dataclass(frozen=True)
class JudgedLine:
    text: str
    ok: bool
    role: str
    length: str
    sheet: str


def read_judged(sheets: Sequence[Path]) -> list[JudgedLine]:
    """The judged lines of ``sheets``, each text once (the last sheet's mark wins)."""
    found: dict[str, JudgedLine] = {}
    for sheet in sheets:
        for line, ok in read_marks(Path(sheet)).values():
            tag = _TAG.match(line)
            if not tag:
                raise ValueError(f"{sheet}: a line without its (role, length) tag: {line!r}")
            text = line[tag.end() :]
            found.pop(text, None)
            found[text] = JudgedLine(text, ok, tag.group(1), tag.group(2), Path(sheet).name)
    return list(found.values())


def teacher_logprobs(decoder: Any, text: str, role: str, length: str) -> np.ndarray:
    """The piece log-probabilities of ``text`` and its <eos> under the step graph (source
    wesnoth, race any, the given role and length), as sampling would have recorded them."""
    t = decoder.table
    layers, heads, head_dim = decoder.cache_shape
    session = decoder.bundle.session("dialogue_gpt_step.onnx")
    cond = t.conditioning("wesnoth", role, "any", length)
    sequence = [*cond, *t.encode(text), t.eos]
    past_k = np.zeros((layers, 1, heads, 0, head_dim), np.float32)
    past_v = np.zeros_like(past_k)
    out = []
    for i, token in enumerate(sequence[:-1]):
        logits, past_k, past_v = session.run(
            None,
            {"token": np.array([token], np.int64), "past_key": past_k, "past_value": past_v},
        )
        if i >= len(cond) - 1:
            z = np.asarray(logits[0], dtype=np.float64)
            z = z - z.max()
            out.append(float(z[sequence[i + 1]] - np.log(np.exp(z).sum())))
    return np.array(out)


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """The chance that a positive outranks a negative (ties count half); None without both."""
    pos, neg = scores[labels > 0.5], scores[labels <= 0.5]
    if not len(pos) or not len(neg):
        return None
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def cross_validated(
    x: np.ndarray, y: np.ndarray, lengths: Sequence[str], buckets: int, l2: float, seed: int = 0
) -> dict[str, Any]:
    order = np.random.default_rng(seed).permutation(len(y))
    held = np.zeros(len(y))
    for part in np.array_split(order, FOLDS):
        rest = np.setdiff1d(order, part)
        held[part] = fit_logistic(x[rest], y[rest], l2, STEPS, buckets).logit(x[part])
    names = np.array(lengths)
    return {
        "folds": FOLDS,
        "auc": auc(held, y),
        "auc_by_length": {
            bucket: auc(held[names == bucket], y[names == bucket])
            for bucket in sorted(set(lengths))
        },
    }


def train_judged(
    model_dir: Path,
    sheets: Sequence[Path],
    buckets: int = DEFAULT_BUCKETS,
    l2: float = DEFAULT_L2,
    progress: bool = True,
) -> dict[str, Any]:
    """Fit the judged scorer on ``sheets`` and write it into ``model_dir``."""
    from assetgen import Runtime
    from assetgen.training import MANIFEST_NAME, write_manifest

    from ..plugin import DialogueGenerator

    lines = read_judged(sheets)
    if not any(line.ok for line in lines) or all(line.ok for line in lines):
        raise ValueError("the sheets need both [ok] and [no] lines to train a scorer")
    generator = DialogueGenerator(Runtime("cpu"))
    decoder = generator.gpt(generator.runtime.load_model(model_dir))
    unknown = sorted({x.role for x in lines} - set(decoder.roles))
    if unknown:
        raise ValueError(f"the sheets name roles this model does not have: {unknown}")
    rows = []
    for k, line in enumerate(lines):
        if progress and k % 200 == 0:
            print(f"scoring judged lines {k}/{len(lines)}", file=sys.stderr, flush=True)
        lp = teacher_logprobs(decoder, line.text, line.role, line.length)
        rows.append(scorer_row(line.text, lp, decoder.words, buckets))
    x = np.array(rows)
    y = np.array([1.0 if line.ok else 0.0 for line in lines])
    report = cross_validated(x, y, [line.length for line in lines], buckets, l2)
    scorer = fit_logistic(x, y, l2, STEPS, buckets)
    doc = scorer.to_json()
    doc.update(
        features=[*FEATURES, f"ngrams[{buckets}]"],
        l2=l2,
        trained_on={
            "sheets": [Path(s).name for s in sheets],
            "lines": len(lines),
            "ok": int(y.sum()),
        },
        cross_validated=report,
    )
    write_atomic(model_dir / SCORER_NAME, (json.dumps(doc) + "\n").encode("utf-8"))
    manifest_path = model_dir / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files = [name for name in manifest["files"] if (model_dir / name).is_file()]
    if SCORER_NAME not in files:
        files.append(SCORER_NAME)
    write_manifest(model_dir, manifest, files)
    return {k: doc[k] for k in ("trained_on", "cross_validated", "l2", "features")}


def main(argv: Sequence[str] | None = None) -> int:
    from ..plugin import MODEL_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sheets", nargs="+", type=Path, help="judged read-through sheets")
    parser.add_argument("--model", type=Path, default=MODEL_DIR, help="model folder")
    parser.add_argument("--buckets", type=int, default=DEFAULT_BUCKETS)
    parser.add_argument("--l2", type=float, default=DEFAULT_L2)
    args = parser.parse_args(argv)
    try:
        report = train_judged(args.model, args.sheets, args.buckets, args.l2)
    except (OSError, ValueError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
