"""One request type for every way of asking for assets, and the plan the engine makes of it.

The CLI, batch job files, the .NET bridge, the Studio and the Python API each turn what their
user wrote into one :class:`Request`; :meth:`assetgen.Engine.plan` checks it once (limits,
seed, options parsed and validated by the generator, model, formats and their exporters) into
a :class:`Plan`, and :meth:`assetgen.Engine.run` makes the assets from the plan without
parsing anything again. So every front-end accepts and refuses the same things with the same
messages, and writes the same files by default.

Default formats (:data:`DEFAULT_FORMATS`), one rule for every front-end: an image is a
``png``, an animation a ``sheet`` (sprite sheet and frame table: what a game engine imports,
every frame lossless, with its tags; ``gif`` is a preview) and text ``jsonl``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .exporting import Exporter
from .options import Options

#: What a request makes: ``generate`` (``count`` images or lines) or ``animate`` (``count``
#: animations, each from its own seed).
MODES = ("generate", "animate")

#: The formats written when a request names none, by the kind of asset it makes.
DEFAULT_FORMATS: Mapping[str, tuple[str, ...]] = {
    "image": ("png",),
    "animation": ("sheet",),
    "text": ("jsonl",),
}


def default_formats(kind: str) -> tuple[str, ...]:
    """The formats a request for ``kind`` assets writes when it names none."""
    return DEFAULT_FORMATS[kind]


@dataclass(frozen=True)
class Request:
    """What a caller asks for, as the caller wrote it; :meth:`Engine.plan` checks it.

    ``options`` are raw values (a mapping, read as command-line text when ``options_text``)
    or an already parsed :class:`~assetgen.Options`. Item k is made with seed ``seed + k``
    (the seeding rule). ``frames=None`` lets the generator decide an animation's length.
    ``formats`` empty: :func:`default_formats`. ``name`` is the stem of whole-request files.
    """

    generator: str
    mode: str = "generate"
    seed: int = 0
    count: int = 1
    frames: int | None = None
    options: Mapping[str, Any] | Options | None = None
    formats: tuple[str, ...] = ()
    name: str | None = None
    options_text: bool = False

    @property
    def animate(self) -> bool:
        return self.mode == "animate"


@dataclass(frozen=True)
class Plan:
    """A checked request: ``request`` holds the parsed options and the formats to write (none
    when planned without export), ``kind`` what each asset is, ``model_sha256`` the model the
    options select, ``exporters`` one instance per format."""

    request: Request
    kind: str
    options: Options
    model_sha256: str | None
    exporters: Mapping[str, Exporter] = field(default_factory=dict)

    @property
    def formats(self) -> tuple[str, ...]:
        return self.request.formats

    def seeds(self) -> range:
        return range(self.request.seed, self.request.seed + self.request.count)

    def per_asset(self, format_id: str) -> bool:
        """Whether ``format_id`` writes one file (set) per asset, not one per request."""
        return self.exporters[format_id].per_asset
