"""The ``yarn`` exporter: text assets as a Yarn Spinner script (``.yarn``), the dialogue format
Unity projects commonly use.

One node per speaker (NPC), in order of first appearance, each line written as
``Speaker: text``::

    // AssetGen dialogue lines: generator dialogue, seeds 7-9
    title: dialogue_7_9_soldier
    tags: assetgen dialogue soldier
    ---
    soldier: Stand, ho! Who is there?
    ===

Yarn syntax rules this follows (Yarn Spinner 2 lexer and docs):

- node titles start with a letter and hold letters, digits and underscores only (no period),
  and are unique in a project, so they carry the request's file stem as well as the speaker;
- the character name before ``:`` must be an identifier, so other characters become ``_``;
- in line text ``\\ < > { } # /`` (commands ``<<``, expressions ``{}``, hashtags ``#``,
  comments ``//``) and the markup brackets ``[ ]`` are escaped with a backslash, and a
  newline (which would end the line) becomes a space.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assetgen import Exporter, OutputFile, TextAsset
from assetgen.assets import TEXT, Asset

#: Characters Yarn gives a meaning inside a line; each is written as ``\\`` + character.
YARN_SPECIAL = frozenset("\\<>{}#/[]")
_NOT_ID = re.compile(r"[^A-Za-z0-9_]")


def yarn_escape(text: str) -> str:
    flat = " ".join(text.splitlines())
    return "".join("\\" + ch if ch in YARN_SPECIAL else ch for ch in flat).strip()


def yarn_identifier(name: str, fallback: str) -> str:
    """A Yarn identifier: letters, digits and ``_``, starting with a letter or ``_``."""
    ident = _NOT_ID.sub("_", name.strip())
    if not ident.strip("_"):
        return fallback
    return ident if not ident[0].isdigit() else "_" + ident


class YarnExporter(Exporter):
    id = "yarn"
    description = "Yarn Spinner script (.yarn): one node per speaker, lines as 'Speaker: text'"
    accepts = (TEXT,)
    per_asset = False  # one script per request, grouped by speaker

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        groups: dict[str, list[TextAsset]] = {}
        for asset in assets:
            assert isinstance(asset, TextAsset)
            speaker = yarn_identifier(asset.speaker, "NPC")
            groups.setdefault(speaker, []).append(asset)
        first = assets[0].metadata if assets else {}
        last = assets[-1].metadata if assets else {}
        seeds = f"{first.get('seed', '?')}"
        if len(assets) > 1:
            seeds += f"-{last.get('seed', '?')}"
        generator = str(first.get("generator", "text"))
        base = yarn_identifier(stem, "lines")
        if not base[0].isalpha():
            base = "N" + base.lstrip("_")  # node titles must start with a letter
        out = [f"// AssetGen dialogue lines: generator {generator}, seeds {seeds}", ""]
        for speaker, items in groups.items():
            tags = ["assetgen", yarn_identifier(generator, "text"), speaker]
            out += [f"title: {base}_{speaker}", f"tags: {' '.join(tags)}", "---"]
            out += [f"{speaker}: {yarn_escape(a.text)}" for a in items]
            out += ["===", ""]
        return [OutputFile(f"{stem}.yarn", "\n".join(out).encode("utf-8"))]
