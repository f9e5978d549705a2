"""The DiceBear style catalogue: which styles exist, their licences, the options each takes.

Everything is read from the ``dicebear-styles`` definitions when asked for, so a newer
release of that package brings its new styles and options without a change here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from dicebear import OptionsDescriptor, Style

DEFAULT_STYLE = "pixel-art"

#: DiceBear options this generator sets itself, with the reason a user cannot.
RESERVED_OPTIONS = {
    "seed": "the avatar comes from the request's seed (--seed / seed=)",
    "size": "use the generator's own 'size' option",
    "idRandomization": "it would make the same seed give different files",
    "title": "it changes no pixel of a raster image",
}


@dataclass(frozen=True)
class StyleLicence:
    """The licence of a style's artwork, as its definition states it.

    ``attribution`` is the credit line DiceBear asks for; CC BY 4.0 styles must show it
    wherever the avatars are used.
    """

    style: str
    name: str
    url: str
    creator: str
    source: str
    attribution: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def style_names() -> tuple[str, ...]:
    """Every style shipped in the installed ``dicebear-styles``, sorted."""
    files = resources.files("dicebear_styles").iterdir()
    return tuple(sorted(f.name.removesuffix(".json") for f in files if f.name.endswith(".json")))


def _definition(name: str) -> str:
    return resources.files("dicebear_styles").joinpath(f"{name}.json").read_text("utf-8")


@cache
def load_style(name: str) -> Style:
    # Checking a definition against DiceBear's schema takes up to a second: do it once.
    return Style.from_json(_definition(name))


@cache
def style_licence(name: str) -> StyleLicence:
    # Read from the definition's "meta" directly: listing every style's licence should not
    # cost a full check of every definition.
    meta = json.loads(_definition(name)).get("meta", {})
    licence, creator, source = (meta.get(key, {}) for key in ("license", "creator", "source"))
    return StyleLicence(
        style=name,
        name=licence.get("name") or "unknown",
        url=licence.get("url") or "",
        creator=creator.get("name") or "unknown",
        source=source.get("url") or "",
        attribution=licence.get("text") or "",
    )


@cache
def style_option_fields(name: str) -> dict[str, dict[str, Any]]:
    """The DiceBear options ``name`` accepts, minus those this generator sets itself.

    Each field is DiceBear's own description: ``type`` (enum, number, range, boolean,
    string, color), ``values`` for enums, ``min``/``max``, ``list`` when several values may
    be given (DiceBear then picks one with the seed) and ``weighted`` when they may carry
    weights.
    """
    fields = OptionsDescriptor(load_style(name)).to_json()
    return {key: field for key, field in fields.items() if key not in RESERVED_OPTIONS}


def licence_table_markdown() -> str:
    """The README's table of styles and licences, rebuilt from the installed definitions."""
    rows = ["| style | licence | artwork by |", "|---|---|---|"]
    for name in style_names():
        lic = style_licence(name)
        licence = f"[{lic.name}]({lic.url})" if lic.url else lic.name
        rows.append(f"| `{name}` | {licence} | {lic.creator} |")
    return "\n".join(rows) + "\n"
