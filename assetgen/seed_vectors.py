"""Write the shared test vectors of the portable seed maths (``assetgen.seeds``).

``python -m assetgen.seed_vectors tests/fixtures/seed_vectors.json`` writes them; the Python
tests check the file against ``assetgen.seeds`` and the C# runtime's tests against its
``SeedStream``, so the two implementations are held to the same bits. Doubles are written as
the 16 hex digits of their IEEE-754 bits, 64-bit integers as decimal strings.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import seeds

CASES = [
    (0, "", 0), (1, "", 0), (7, "portraits.labels", 0), (123456789, "shoes.latent", 0),
    (2**31 - 1, "dialogue.candidate", 15), (42, "dialogue.line", 0), (5, "πορτρέτο", 3),
]


def hex_of(x: float) -> str:
    return struct.pack(">d", float(x)).hex()


def build() -> dict[str, Any]:
    cases = []
    for seed, purpose, index in CASES:
        def fresh() -> seeds.SeedStream:
            return seeds.SeedStream(seed, purpose, index)  # noqa: B023 - used at once
        s = fresh()
        cases.append({
            "seed": seed, "purpose": purpose, "index": index, "key": str(s.key),
            "bits": [str(int(x)) for x in s.bits(6)],
            "random": [hex_of(x) for x in fresh().random(5)],
            "below_14": [fresh().integers(14) for _ in range(1)]
            + [int(v) for v in seeds.below(fresh().bits(6), 14)],
            "normal": [hex_of(x) for x in fresh().standard_normal(7)],
            "uniform_0.8_1.25": [hex_of(fresh().uniform(0.8, 1.25))],
            "choice_1_2_0_5": [fresh().choice_index([1.0, 2.0, 0.0, 5.0])],
        })
    us = [0.0, 2.0**-53, 0.1, 0.25, 0.3, 0.5, 0.625, 0.75, 0.999999, 1 - 2.0**-53]
    sin, cos = seeds.portable_sincos_turns(np.array(us))
    xs = [2.0**-53, 1e-9, 0.1, 0.5, 0.70710678, 0.75, 0.999, 1.0]
    logs = seeds.portable_log(np.array(xs))
    return {
        "about": "assetgen.seeds test vectors; doubles as IEEE-754 bits in hex",
        "streams": cases,
        "sincos_turns": [
            [hex_of(u), hex_of(s), hex_of(c)] for u, s, c in zip(us, sin, cos, strict=True)
        ],
        "log": [[hex_of(x), hex_of(v)] for x, v in zip(xs, logs, strict=True)],
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m assetgen.seed_vectors OUT.json")
    Path(args[0]).write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
