"""Re-hash a model folder after adding its model card or evaluation figures.

    python scripts/refresh_manifest.py MODEL_DIR [--metrics REPORT.json] [--key NAME]

Every file already listed in ``manifest.json`` is hashed again, ``MODEL_CARD.md`` is added when
present, and ``--metrics`` merges an evaluation report (``assetgen eval ... --out``) into the
manifest's ``metrics`` (under ``--key`` if given), so the shipped manifest carries the figures
the card quotes. Uses the same writer as the export commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assetgen.runtime import MANIFEST_NAME, write_manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--metrics", type=Path, help="evaluation report (JSON) to merge")
    parser.add_argument("--key", help="store the report under metrics[KEY]")
    args = parser.parse_args(argv)
    path = args.model_dir / MANIFEST_NAME
    if not path.is_file():
        print(f"error: {path} not found", file=sys.stderr)
        return 2
    manifest = json.loads(path.read_text(encoding="utf-8"))
    files = [name for name in manifest.get("files", {}) if (args.model_dir / name).is_file()]
    if (args.model_dir / "MODEL_CARD.md").is_file() and "MODEL_CARD.md" not in files:
        files.append("MODEL_CARD.md")
    if args.metrics is not None:
        report = json.loads(args.metrics.read_text(encoding="utf-8"))
        metrics = dict(manifest.get("metrics") or {})
        if args.key:
            metrics[args.key] = report
        else:
            metrics.update(report)
        manifest["metrics"] = metrics
    write_manifest(args.model_dir, manifest, files)
    print(f"{path}: {len(files)} files hashed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
