"""Compare the C# runtime's dialogue lines with the Python API's on more seeds and options than
the parity test makes (minutes, not part of the suite):

    python dotnet_runtime/tools/dialogue_compare.py [--plan wide|random|both] [--model DIR]

``wide``: 40 seeds with the defaults and 10 each for the crawl and shakespeare sources, the
learned reranker and temperature 1.0 with top-p 0.95. ``random``: 28 option sets drawn from
``random.Random(7)`` (every option may be set; 2 seeds each). Needs ``make runtime-build``.
Prints one row per line (OK or DIFF, and whether the score is bit-identical) and a summary;
exits 1 when a line differs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "dotnet_runtime" / "build"
MODEL = ROOT / "plugins" / "assetgen_dialogue" / "model"
SAME = ("text", "speaker", "archetype", "source", "race", "length", "stop", "candidates",
        "chosen", "placeholders", "faults", "sentences")


def wide_plan() -> dict[str, dict[str, Any]]:
    return {
        "defaults": {"seeds": list(range(100, 140)), "options": {}},
        "crawl": {"seeds": list(range(200, 210)), "options": {"source": "crawl"}},
        "shakespeare": {"seeds": list(range(300, 310)), "options": {"source": "shakespeare"}},
        "learned": {"seeds": list(range(400, 410)), "options": {"rerank": "learned"}},
        "hot": {"seeds": list(range(500, 510)), "options": {"temperature": 1.0, "top_p": 0.95}},
    }


def random_plan(sets: int = 28, seed: int = 7) -> dict[str, dict[str, Any]]:
    r = random.Random(seed)
    cases = {}
    for i in range(sets):
        o: dict[str, Any] = {}
        if r.random() < 0.5:
            o["source"] = r.choice(["wesnoth", "crawl", "shakespeare"])
        if r.random() < 0.4:
            o["archetype"] = r.choice(
                ["ruler", "soldier", "mage", "priest", "rogue", "commoner", "any"])
        if r.random() < 0.4:
            o["length"] = r.choice(["short", "medium", "long"])
        if r.random() < 0.3:
            o["race"] = r.choice(["elf", "orc", "human", "dwarf"])
        if r.random() < 0.4:
            o["temperature"] = round(r.uniform(0.1, 1.6), 2)
        if r.random() < 0.3:
            o["top_k"] = r.choice([1, 2, 10, 50, 500])
        if r.random() < 0.4:
            o["top_p"] = r.choice([0.3, 0.7, 0.95, 1.0])
        if r.random() < 0.3:
            o["max_chars"] = r.choice([30, 80, 150, 300])
        if r.random() < 0.3:
            o["candidates"] = r.choice([1, 2, 5, 24])
        if r.random() < 0.3:
            o["rerank"] = r.choice(["learned", "mixed", "likelihood"])
        if r.random() < 0.2:
            o["min_chars"] = r.choice([0, 20, 100])
        for flag in ("filters", "slip_checks", "word_mask", "source_words", "by_sentence"):
            if r.random() < 0.15:
                o[flag] = False
        if r.random() < 0.2:
            o["sentence_rerank"] = r.choice(["learned", "mixed"])
        if r.random() < 0.2:
            o["sentence_temperature"] = 0.8
        if r.random() < 0.2:
            o["prompt"] = r.choice(["The", "Hold fast, ", "My lord", "{NAME} is"])
        if r.random() < 0.15:
            o["archetype_guidance"] = 2.0
        if r.random() < 0.2:
            o["name"] = "Ash"
        if "prompt" in o and len(o["prompt"]) > o.get("max_chars", 200):
            del o["prompt"]
        cases[f"random{i}"] = {"seeds": [1000 + 2 * i, 1001 + 2 * i], "options": o}
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", choices=("wide", "random", "both"), default="both")
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args()
    plan: dict[str, dict[str, Any]] = {}
    if args.plan in ("wide", "both"):
        plan.update(wide_plan())
    if args.plan in ("random", "both"):
        plan.update(random_plan())
    requests = [{"id": k, **v} for k, v in plan.items()]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "requests.json").write_text(json.dumps(requests), "utf-8")
        run = subprocess.run(
            ["mono", str(BUILD / "AssetGen.Runtime.Parity.exe"), str(args.model),
             str(Path(tmp) / "requests.json"), str(Path(tmp) / "out"), "1"],
            capture_output=True, text=True,
            env=dict(os.environ, LD_LIBRARY_PATH=str(BUILD / "native")),
        )
        if run.returncode != 0:
            print(run.stdout + run.stderr, file=sys.stderr)
            return 2
        results = json.loads((Path(tmp) / "out" / "results.json").read_text("utf-8"))
    from assetgen import Engine

    engine = Engine(device="cpu")
    lines = same = exact = 0
    worst = 0.0
    for request in requests:
        for seed, ours in zip(request["seeds"], results[request["id"]]["lines"], strict=True):
            (asset,) = engine.generate("dialogue", seed=seed, **request["options"])
            theirs = dict(asset.metadata, text=asset.text, speaker=asset.speaker)
            ok = all(ours[k] == theirs[k] for k in SAME)
            bits = ours["score"] == theirs["score"]
            lines, same, exact = lines + 1, same + ok, exact + bits
            worst = max(worst, abs(ours["score"] - theirs["score"]))
            print(f"{request['id']} {seed} {'OK' if ok else 'DIFF'}"
                  f"{'' if bits else ' (score differs in the last bits)'}")
            if not ok:
                print(f"  Python: {theirs['text']!r}\n  C#:     {ours['text']!r}")
    print(f"{lines} lines: {same} identical, {exact} scores bit-identical, largest score "
          f"difference {worst:.2g}")
    return 0 if same == lines else 1


if __name__ == "__main__":
    sys.exit(main())
