"""A blind read-through of two decodings of the dialogue GPT on the same seeds.

``assetgen eval dialogue --set readthrough=SHEET.md`` makes ``sheet_per_role`` lines per role
(source wesnoth, the role named, random length: the tags a seed draws do not depend on the
decoding, so both decodings get the same request) with the old decoding (:data:`BASELINE`)
and with the current defaults, shuffles the two sets together and writes them as a numbered
sheet; which decoding made which line goes to ``SHEET.key.json`` beside it, so the person who
judges cannot tell. They replace each ``[  ]`` by ``[ok]`` (a game could ship the line as it
is, by the criteria in ``docs/dialogue.md``) or ``[no]``; ``--set judged=SHEET.md`` then
counts the marks per decoding, length bucket and role.

Automatic figures for the same lines come with it: a real-vs-generated word classifier's
accuracy against real held-out campaign lines, a role classifier's balanced accuracy, the
share of lines failing each line check, median length and lines per second.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assetgen import write_atomic

from ..rerank import FAULTS, faults
from .baselines import NaiveBayes, distinct_n

#: The levers of the second read-through, off: the decoding the first one chose (0.6, 0.9, 16
#: candidates, line checks on; docs/dialogue_readthrough.md).
V1_LEVERS_OFF: dict[str, Any] = {
    "source_words": False,
    "by_sentence": False,
    "slip_checks": False,
    "rerank": "learned",
}
#: The decoding shipped before the first read-through (commit ec94a7c's defaults).
BASELINE: dict[str, Any] = {
    "temperature": 0.8,
    "top_p": 1.0,
    "candidates": 8,
    "filters": False,
    **V1_LEVERS_OFF,
}
#: Words of a line's opening in the count's ``top_openings``.
OPENING_WORDS = 3
#: The source of every read-through request (the generator's default).
SOURCE = "wesnoth"
ARMS = ("baseline", "current")
_SENTENCE = re.compile(r"[^.!?]+[.!?]+")
_TAGS = re.compile(r"^\([^)]*\) ")
_MARK = re.compile(r"^(\d+)\. \[(ok|no|\s*)\] ")


def key_path(sheet: Path) -> Path:
    return sheet.with_name(sheet.stem + ".key.json")


def make_lines(
    engine: Any,
    roles: Sequence[str],
    per_role: int,
    seed: int,
    decodings: dict[str, dict[str, Any]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """``per_role`` lines per role for each decoding, with the seconds each set took.
    ``decodings``: the options of each arm (default: :data:`BASELINE` against the
    generator's defaults)."""
    decodings = decodings or {"baseline": BASELINE, "current": {}}
    out: dict[str, list[dict[str, Any]]] = {}
    for arm in ARMS:
        decoding = decodings.get(arm, {})
        rows = []
        for k, role in enumerate(roles):
            first = seed + 900_000 + k * per_role
            started = time.monotonic()
            lines = engine.generate(
                "dialogue", seed=first, count=per_role, archetype=role, **decoding
            )
            took = (time.monotonic() - started) / per_role
            for i, line in enumerate(lines):
                rows.append(
                    {
                        "seed": first + i,
                        "role": role,
                        "length": line.metadata["length"],
                        "text": line.text,
                        "seconds": took,
                    }
                )
        out[arm] = rows
    return out


def write_sheet(
    sheet: Path, lines: dict[str, list[dict[str, Any]]], seed: int, command: str
) -> None:
    items = [(arm, row) for arm in ARMS for row in lines[arm]]
    order = np.random.default_rng(seed).permutation(len(items))
    text = [
        "# Dialogue read-through (blind)",
        "",
        f"Written by `{command}`. {len(items)} lines: the same "
        f"{len(items) // len(ARMS)} requests (source wesnoth, role as headed, random length) "
        "made by two decodings, shuffled together; which made which is in "
        f'`{key_path(sheet).name}`. Judged by the criteria of `docs/dialogue.md` ("Judging '
        'a line"): `[ok]` a game could ship the line as it is, `[no]` it could not. Counted '
        "by `assetgen eval dialogue --set judged=<this file>`.",
        "",
    ]
    key = []
    for number, index in enumerate(order, start=1):
        arm, row = items[index]
        text.append(f"{number}. [  ] ({row['role']}, {row['length']}) {row['text']}")
        key.append({"item": number, "arm": arm, **{k: row[k] for k in ("seed", "role", "length")}})
    write_atomic(sheet, ("\n".join(text) + "\n").encode("utf-8"))
    write_atomic(key_path(sheet), (json.dumps(key, indent=0) + "\n").encode("utf-8"))


def read_marks(sheet: Path) -> dict[int, tuple[str, bool]]:
    """Each item of a judged sheet: its line after the mark ("(role, length) text") and
    whether it was judged shippable; an item not judged yet is an error."""
    marks: dict[int, tuple[str, bool]] = {}
    for line in sheet.read_text(encoding="utf-8").splitlines():
        found = _MARK.match(line)
        if not found:
            continue
        if not found.group(2).strip():
            raise ValueError(f"{sheet}: item {found.group(1)} is not judged yet ([ok] or [no])")
        marks[int(found.group(1))] = (line[found.end() :], found.group(2) == "ok")
    return marks


def drawn_weights(manifest: dict[str, Any], source: str, roles: Sequence[str]) -> dict[str, float]:
    """How often ``length=random`` draws each length bucket for a sheet of as many requests
    per role (``roles``) of a source: each role's own bucket shares, averaged."""
    from ..gpt_lines import length_counts

    weights: dict[str, float] = {}
    for role in roles:
        counts = length_counts(manifest, source, role)
        total = sum(counts.values())
        for bucket, n in counts.items():
            weights[bucket] = weights.get(bucket, 0.0) + n / total / len(roles)
    return weights


def tally(
    sheet: Path,
    source_lines: set[str] | None = None,
    manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Shippable share per decoding (and per length bucket and role) of a judged sheet;
    with ``source_lines`` (the data set's lines), also how many lines, and how many shippable
    ones, are a source line word for word (a memorised stock line reads well but is no
    generated line, and one the model favours comes back on many seeds). With the model's
    ``manifest``, also ``drawn_share``: the sheet's shippable share per length bucket
    weighted by how often ``length=random`` draws each bucket for the sheet's roles (Wesnoth
    requests), so a sheet that happened to draw many short lines does not flatter a
    decoding."""
    key = {row["item"]: row for row in json.loads(key_path(sheet).read_text(encoding="utf-8"))}
    judged = read_marks(sheet)
    marks = {item: ok for item, (_, ok) in judged.items()}
    texts = {item: _TAGS.sub("", line, count=1) for item, (line, _) in judged.items()}
    missing = sorted(set(key) - set(marks))
    if missing:
        raise ValueError(f"{sheet}: items {missing[:10]} are missing from the sheet")
    report: dict[str, Any] = {}
    for arm in ARMS:
        rows = [(row, marks[item]) for item, row in key.items() if row["arm"] == arm]
        by_length: dict[str, list[bool]] = {}
        by_role: dict[str, list[bool]] = {}
        for row, ok in rows:
            by_length.setdefault(row["length"], []).append(ok)
            by_role.setdefault(row["role"], []).append(ok)
        report[arm] = {
            "lines": len(rows),
            "shippable": sum(ok for _, ok in rows),
            "shippable_share": float(np.mean([ok for _, ok in rows])),
            # a line a decoding makes twice is one line a game can use
            "shippable_distinct": len(
                {texts[row["item"]] for row, ok in rows if ok and row["item"] in texts}
            ),
            "by_length": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_length.items())},
            "by_role": {k: f"{sum(v)}/{len(v)}" for k, v in by_role.items()},
        }
        # variety: the arm's commonest line openings (stock phrasing shows here first)
        openings: dict[str, int] = {}
        for row, _ in rows:
            words = texts.get(row["item"], "").lower().split()[:OPENING_WORDS]
            if words:
                opening = " ".join(words)
                openings[opening] = openings.get(opening, 0) + 1
        report[arm]["top_openings"] = dict(
            sorted(openings.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        )
        if manifest is not None:
            weights = drawn_weights(manifest, SOURCE, sorted(by_role))
            if set(weights) <= set(by_length):
                report[arm]["drawn_share"] = float(
                    sum(w * np.mean(by_length[b]) for b, w in weights.items())
                )
        if source_lines is not None:
            copied = [(row, ok) for row, ok in rows if texts.get(row["item"]) in source_lines]
            report[arm]["copied"] = len(copied)
            report[arm]["shippable_copied"] = sum(ok for _, ok in copied)
            report[arm]["shippable_not_copied"] = report[arm]["shippable"] - sum(
                ok for _, ok in copied
            )
    return report


def off_source_words(texts: Sequence[str], known: set[str]) -> dict[str, Any]:
    """Share of lines with a word that no training line of their source has ("sooth" in a
    Wesnoth line), and the most frequent such words."""
    from .words import training_words

    found = [
        [w for w in training_words([x]) if w not in known and w.strip("'") not in known]
        for x in texts
    ]
    counts: dict[str, int] = {}
    for words in found:
        for w in words:
            counts[w] = counts.get(w, 0) + 1
    top = sorted(counts, key=lambda w: (-counts[w], w))[:12]
    return {"share": float(np.mean([bool(w) for w in found])), "words": top}


def real_vs_generated(real: Sequence[str], generated: Sequence[str], seed: int) -> float:
    """Accuracy of a word classifier telling real from generated lines (trained on half)."""
    n = min(len(real), len(generated))
    rng = np.random.default_rng(seed)
    r = [real[i] for i in rng.permutation(len(real))[:n]]
    g = [generated[i] for i in rng.permutation(len(generated))[:n]]
    half = n // 2
    nb = NaiveBayes(r[:half] + g[:half], [1] * half + [0] * half, 2)
    tests = [(x, 1) for x in r[half:]] + [(x, 0) for x in g[half:]]
    return float(np.mean([nb.predict(x) == y for x, y in tests]))


def automatic(
    lines: dict[str, list[dict[str, Any]]],
    real: Sequence[dict[str, Any]],
    train: Sequence[dict[str, Any]],
    roles: Sequence[str],
    seed: int,
) -> dict[str, Any]:
    """Figures a machine can give for each decoding's lines, and for real held-out lines."""
    from .words import training_words

    wesnoth_words = set(training_words(r["text"] for r in train if r["source"] == "wesnoth"))

    game = [r for r in train if r["source"] == "wesnoth" and r["role"] in roles]
    role_nb = NaiveBayes(
        [r["text"] for r in game], [list(roles).index(r["role"]) for r in game], len(roles)
    )

    def role_accuracy(rows: Sequence[dict[str, Any]]) -> float:
        per = []
        for role in sorted({r["role"] for r in rows}):
            texts = [r["text"] for r in rows if r["role"] == role]
            per.append(np.mean([role_nb.predict(x) == list(roles).index(role) for x in texts]))
        return float(np.mean(per))

    real_texts = [r["text"] for r in real]

    def fault_shares(texts: Sequence[str]) -> dict[str, float]:
        found = [faults(x) for x in texts]
        shares = {name: float(np.mean([name in f for f in found])) for name in FAULTS}
        shares["any"] = float(np.mean([bool(f) for f in found]))
        return shares

    report: dict[str, Any] = {
        "real_heldout": {
            "lines": len(real),
            "role_classifier_accuracy": role_accuracy([r for r in real if r["role"] in roles]),
            "median_chars": float(np.median([len(x) for x in real_texts])),
            "faults": fault_shares(real_texts),
            # distinct word bigrams depend on how many lines there are: as many as an arm has
            "distinct_2": distinct_n(real_texts[: len(lines[ARMS[0]])], 2),
        },
        "role_chance": 1 / len({r["role"] for r in lines[ARMS[0]]}),
    }
    for arm in ARMS:
        rows = lines[arm]
        texts = [r["text"] for r in rows]
        report[arm] = {
            "lines": len(rows),
            "real_vs_generated_accuracy": real_vs_generated(real_texts, texts, seed),
            "role_classifier_accuracy": role_accuracy(rows),
            "median_chars": float(np.median([len(x) for x in texts])),
            "lines_per_s": len(rows) / sum(r["seconds"] for r in rows),
            "faults": fault_shares(texts),
            "off_source_words": off_source_words(texts, wesnoth_words),
            "sentences": float(np.mean([len(_SENTENCE.findall(x)) or 1 for x in texts])),
            "distinct_2": distinct_n(texts, 2),
            "repeated_lines": float(np.mean([texts.count(x) > 1 for x in texts])),
        }
    return report
