"""A contact sheet of a generator's images, one row per value of an option, for model cards.

    python scripts/contact_sheet.py shoes --row-option type \
        --row-values boot,sneaker,high_heel --count 10 --out docs/images/shoes_sheet.png

Rows are drawn on white, each image scaled 2x with nearest-neighbour so pixels stay visible.
Every image comes from ``Engine.generate`` with seeds ``--seed`` .. ``--seed + count - 1``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from assetgen import Engine, ImageAsset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generator")
    parser.add_argument("--row-option", default=None, help="Option that changes per row.")
    parser.add_argument("--row-values", default="", help="Comma-separated values of it.")
    parser.add_argument("--count", type=int, default=10, help="Images per row.")
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--transpose", action="store_true",
                        help="One column per value (and a row per seed) instead of a row.")
    parser.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    engine = Engine(device="cpu")
    base = dict(pair.split("=", 1) for pair in args.option)
    values = [v for v in args.row_values.split(",") if v] or [None]
    rows = []
    for value in values:
        options = {**base, **({args.row_option: value} if value is not None else {})}
        parsed = engine.parse_options(args.generator, options, from_text=True)
        assets = engine.generate(args.generator, seed=args.seed, count=args.count,
                                 **parsed.to_dict())
        rows.append([a for a in assets if isinstance(a, ImageAsset)])
    if args.transpose:
        rows = [list(column) for column in zip(*rows, strict=True)]
    h, w = rows[0][0].rgba.shape[:2]
    s = args.scale
    sheet = Image.new("RGBA", (len(rows[0]) * w * s, len(rows) * h * s), (255, 255, 255, 255))
    for r, row in enumerate(rows):
        for c, asset in enumerate(row):
            tile = Image.fromarray(asset.rgba, "RGBA").resize((w * s, h * s), Image.NEAREST)
            sheet.alpha_composite(tile, (c * w * s, r * h * s))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # 256 colours: a third of the bytes, no visible change at this size
    sheet.convert("RGB").quantize(256).save(args.out, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
