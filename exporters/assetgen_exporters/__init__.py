"""AssetGen's built-in exporters: png, sheet, gif, jsonl, csv.

Loaded through the ``assetgen`` entry point ``exporters`` like any third-party plugin.
"""
