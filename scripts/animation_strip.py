"""Animation frames side by side, one row per seed, for model cards and docs.

    python scripts/animation_strip.py portraits --animation interpolate --seeds 3,10,21 \
        --frames 9 --out docs/images/portraits_morph.png

Every row is ``Engine.animate(generator, seed, frames, animation=...)`` with the options
given (``-o key=value``, as text the CLI takes), drawn on white at ``--scale`` with
nearest-neighbour scaling. Named frames (the ``mouths`` animation's shapes A-H, X) get their
names on a header row:

    python scripts/animation_strip.py portraits --animation mouths --seeds 3,7,12,21 \
        --frames 9 --scale 3 --out docs/images/portraits_mouth_shapes.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

from assetgen import Engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generator")
    parser.add_argument("--animation", required=True)
    parser.add_argument("--seeds", default="7", help="Comma-separated seeds, one row each.")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    engine = Engine(device="cpu")
    options = {**dict(pair.split("=", 1) for pair in args.option), "animation": args.animation}
    parsed = engine.parse_options(args.generator, options, from_text=True, animate=True)
    rows = [
        engine.animate(args.generator, seed=int(seed), frames=args.frames, **parsed.to_dict())
        for seed in args.seeds.split(",")
    ]
    h, w = rows[0].frames[0].rgba.shape[:2]
    s = args.scale
    names = rows[0].metadata.get("frame_names") or []
    top = 16 if names else 0
    size = (args.frames * w * s, top + len(rows) * h * s)
    sheet = Image.new("RGBA", size, (255, 255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(names):
        draw.text((c * w * s + w * s // 2 - 3, 2), str(name), fill=(0, 0, 0, 255))
    for r, anim in enumerate(rows):
        for c, frame in enumerate(anim.frames):
            tile = Image.fromarray(frame.rgba, "RGBA").resize((w * s, h * s), Image.NEAREST)
            sheet.alpha_composite(tile, (c * w * s, top + r * h * s))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.convert("RGB").quantize(256).save(args.out, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
