"""Yarn Spinner exports of text assets: ``yarn`` (one node per speaker, its lines as a line
group) and ``yarn-nodes`` (one node per line, for Yarn Spinner before 2.3).

``yarn``: each speaker's lines form a line group (``=>``), so running the node says one of
them, picked by Yarn Spinner (2.3 and later)::

    // AssetGen dialogue lines: generator dialogue, seeds 7-9
    // Licence: GPL-2.0-or-later: trained on ...
    title: barks_soldier
    tags: assetgen dialogue soldier
    ---
    => soldier: Hold the line, {$name}! #line:3f09a1c27b4e
    => soldier: We march at dawn. #line:c81d0e55a6f2
    ===

``yarn-nodes``: the same lines, each in a node of its own (``barks_soldier_7``...).

Every line carries a ``#line:`` ID made from the generator, the model's sha256, the seed and
the options, so exporting the same request again gives the same IDs (localisation tables and
voice-over files stay attached) and different lines get different ones. The ``{NAME}`` and
``{PLACE}`` placeholders become the Yarn variables ``{$name}`` and ``{$place}``, which the game
sets. The speaker is the asset's speaker: the ``name`` option when given, else the role.

Yarn syntax rules this follows (Yarn Spinner 2 lexer and docs):

- node titles start with a letter and hold letters, digits and underscores only (no period),
  and are unique in a project, so they carry the request's file stem as well as the speaker;
- the character name before ``:`` must be an identifier, so other characters become ``_``;
- in line text ``\\ < > { } # /`` (commands ``<<``, expressions ``{}``, hashtags ``#``,
  comments ``//``) and the markup brackets ``[ ]`` are escaped with a backslash, and a
  newline (which would end the line) becomes a space.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

from assetgen import TEXT, Asset, Exporter, OutputFile, TextAsset

#: Characters Yarn gives a meaning inside a line; each is written as ``\\`` + character.
YARN_SPECIAL = frozenset("\\<>{}#/[]")
#: Placeholders of the dialogue models and the Yarn variables they become.
YARN_VARIABLES = {"{NAME}": "{$name}", "{PLACE}": "{$place}"}
_NOT_ID = re.compile(r"[^A-Za-z0-9_]")
_PLACEHOLDER = re.compile("(" + "|".join(re.escape(p) for p in YARN_VARIABLES) + ")")


def yarn_escape(text: str) -> str:
    flat = " ".join(text.splitlines())
    return "".join("\\" + ch if ch in YARN_SPECIAL else ch for ch in flat).strip()


def yarn_text(text: str) -> str:
    """Line text for Yarn: escaped, with the placeholders as Yarn variables."""
    parts = _PLACEHOLDER.split(" ".join(text.splitlines()).strip())
    return "".join(
        YARN_VARIABLES.get(p) or "".join("\\" + ch if ch in YARN_SPECIAL else ch for ch in p)
        for p in parts
    )


def yarn_identifier(name: str, fallback: str) -> str:
    """A Yarn identifier: letters, digits and ``_``, starting with a letter or ``_``."""
    ident = _NOT_ID.sub("_", name.strip())
    if not ident.strip("_"):
        return fallback
    return ident if not ident[0].isdigit() else "_" + ident


def line_id(asset: TextAsset) -> str:
    """A stable Yarn line ID: generator, model, seed and options of the line, hashed."""
    meta = asset.metadata
    key = json.dumps(
        [meta.get("generator"), meta.get("model_sha256"), meta.get("seed"), meta.get("options")],
        sort_keys=True,
        default=str,
    )
    return "line:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _header(assets: Sequence[Asset]) -> list[str]:
    first = assets[0].metadata if assets else {}
    last = assets[-1].metadata if assets else {}
    seeds = f"{first.get('seed', '?')}"
    if len(assets) > 1:
        seeds += f"-{last.get('seed', '?')}"
    generator = str(first.get("generator", "text"))
    out = [f"// AssetGen dialogue lines: generator {generator}, seeds {seeds}"]
    licences = sorted({str(a.metadata["license"]) for a in assets if "license" in a.metadata})
    out += [f"// Licence: {text}" for text in licences]
    return [*out, ""]


def _base(stem: str) -> str:
    base = yarn_identifier(stem, "lines")
    return base if base[0].isalpha() else "N" + base.lstrip("_")  # titles start with a letter


def _groups(assets: Sequence[Asset]) -> dict[str, list[TextAsset]]:
    groups: dict[str, list[TextAsset]] = {}
    for asset in assets:
        assert isinstance(asset, TextAsset)
        groups.setdefault(yarn_identifier(asset.speaker, "NPC"), []).append(asset)
    return groups


class YarnExporter(Exporter):
    id = "yarn"
    description = (
        "Yarn Spinner script (.yarn): one node per speaker, its lines a line group (one said "
        "per run), stable #line: IDs"
    )
    accepts = (TEXT,)
    per_asset = False  # one script per request, grouped by speaker

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        out = _header(assets)
        base = _base(stem)
        generator = str(assets[0].metadata.get("generator", "text")) if assets else "text"
        for speaker, items in _groups(assets).items():
            tags = ["assetgen", yarn_identifier(generator, "text"), speaker]
            out += [f"title: {base}_{speaker}", f"tags: {' '.join(tags)}", "---"]
            out += [f"=> {speaker}: {yarn_text(a.text)} #{line_id(a)}" for a in items]
            out += ["===", ""]
        return [OutputFile(f"{stem}.yarn", "\n".join(out).encode("utf-8"))]


class YarnNodesExporter(Exporter):
    id = "yarn-nodes"
    description = "Yarn Spinner script (.yarn): one node per line ('<stem>_<speaker>_<seed>')"
    accepts = (TEXT,)
    per_asset = False

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        out = _header(assets)
        base = _base(stem)
        generator = str(assets[0].metadata.get("generator", "text")) if assets else "text"
        used: set[str] = set()
        for speaker, items in _groups(assets).items():
            tags = ["assetgen", yarn_identifier(generator, "text"), speaker]
            for k, a in enumerate(items):
                seed = a.metadata.get("seed")
                title = f"{base}_{speaker}_{seed if isinstance(seed, int) else k}"
                if title in used:  # the same seed twice in one request: titles stay unique
                    title += f"_{k}"
                used.add(title)
                out += [f"title: {title}", f"tags: {' '.join(tags)}", "---"]
                out += [f"{speaker}: {yarn_text(a.text)} #{line_id(a)}", "===", ""]
        return [OutputFile(f"{stem}.yarn", "\n".join(out).encode("utf-8"))]
