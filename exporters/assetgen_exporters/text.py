"""Text exporters: JSON Lines and CSV, one record per text asset."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from assetgen import TEXT, Asset, Exporter, OutputFile, TextAsset


def text_record(asset: TextAsset) -> dict[str, Any]:
    meta = asset.metadata
    record = {
        "text": asset.text,
        "speaker": asset.speaker,
        "generator": meta.get("generator"),
        "seed": meta.get("seed"),
        "options": meta.get("options"),
    }
    if "license" in meta:  # a line from a model trained on licensed text says so
        record["license"] = meta["license"]
    return record


class JsonlExporter(Exporter):
    id = "jsonl"
    description = "JSON Lines: one object per text asset (text, speaker, generator, seed, options)"
    accepts = (TEXT,)
    per_asset = False

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        lines = [
            json.dumps(text_record(a), ensure_ascii=False, sort_keys=True)  # type: ignore[arg-type]
            for a in assets
        ]
        return [OutputFile(f"{stem}.jsonl", ("\n".join(lines) + "\n").encode("utf-8"))]


class CsvExporter(Exporter):
    id = "csv"
    description = "CSV with columns seed, speaker, text"
    accepts = (TEXT,)
    per_asset = False

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["seed", "speaker", "text"])
        for asset in assets:
            assert isinstance(asset, TextAsset)
            writer.writerow([asset.metadata.get("seed"), asset.speaker, asset.text])
        return [OutputFile(f"{stem}.csv", buf.getvalue().encode("utf-8"))]
