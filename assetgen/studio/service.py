"""The Studio's requests, without the web layer: parse and check a request body, run it through
the :class:`assetgen.Engine`, and shape the answer as JSON-ready data or files.

Every option goes through ``engine.parse_options`` exactly as the CLI's ``-o key=value`` do
(values may be JSON values or that text), so the page, the CLI and the bridge accept and
refuse the same things with the same messages.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..assets import AnimationAsset, Asset, ImageAsset, TextAsset
from ..engine import Engine
from ..errors import InvalidOptionsError, show_value
from ..exporting import OutputFile
from ..generator import check_seed
from ..limits import MAX_FRAMES, check_int
from .recipes import Recipe

MODES = ("generate", "animate")
#: Most items one Studio request makes (a page of the seed grid is far fewer).
MAX_GRID = 64
#: Longest seed accepted as decimal text (2**63 - 1 has 19 digits).
_MAX_SEED_TEXT = 40
REQUEST_KEYS = ("mode", "generator", "seed", "count", "frames", "options", "format")
#: The largest integer a JavaScript number holds exactly; larger ones travel as text.
_JS_SAFE = 2**53 - 1


@dataclass(frozen=True)
class Download:
    """What an export request returns: one file as it is, or several in a zip."""

    name: str
    data: bytes
    files: tuple[str, ...]


class Studio:
    """The engine behind the Studio page; safe to call from several threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kinds: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- discovery ---------------------------------------------------------------------------

    def catalogue(self) -> dict[str, Any]:
        """Every generator (options schemas, model summary or its error) and exporter."""
        generators = []
        for info in self.engine.generators():
            entry = info.to_dict()
            with self._lock:
                self._kinds[info.id] = info.kind
            generators.append(entry)
        return {
            "generators": json_safe(generators),
            "exporters": [e.to_dict() for e in self.engine.exporters()],
            "plugin_errors": [f.message() for f in self.engine.plugin_failures()],
            "max_grid": MAX_GRID,
        }

    def kind(self, generator_id: str) -> str:
        with self._lock:
            known = self._kinds.get(generator_id)
        if known is None:
            known = self.engine.generator_info(generator_id).kind
            with self._lock:
                self._kinds[generator_id] = known
        return known

    # -- requests ----------------------------------------------------------------------------

    def parse(self, body: Any) -> Recipe:
        """Check a request body; every problem is an InvalidOptionsError naming it."""
        if not isinstance(body, Mapping):
            raise InvalidOptionsError(
                "the request must be a JSON object with the keys " + ", ".join(REQUEST_KEYS),
                parameter="request",
            )
        unknown = sorted(str(k) for k in body if k not in REQUEST_KEYS)
        if unknown:
            raise InvalidOptionsError(
                f"unknown request key {show_value(unknown[0])}; allowed: "
                + ", ".join(REQUEST_KEYS),
                parameter=unknown[0],
            )
        mode = body.get("mode", "generate")
        if mode not in MODES:
            raise InvalidOptionsError(
                f"mode must be 'generate' or 'animate'; got {show_value(mode)}",
                parameter="mode",
                value=mode,
            )
        generator = body.get("generator")
        if not isinstance(generator, str):
            raise InvalidOptionsError(
                f"generator must be a generator id; got {show_value(generator)}",
                parameter="generator",
                value=generator,
            )
        kind = self.kind(generator)  # an unknown generator is refused here, by the engine
        count = body.get("count", 1)
        if mode == "generate":
            check_int("count", count, 1, MAX_GRID)
        elif count != 1:
            raise InvalidOptionsError(
                f"count must be 1 for an animation; got {show_value(count)}", parameter="count"
            )
        frames = body.get("frames")
        if frames is not None:
            if mode != "animate":
                raise InvalidOptionsError(
                    "frames is for animations (mode 'animate')", parameter="frames"
                )
            check_int("frames", frames, 1, MAX_FRAMES)
        seed = check_seed(seed_value(body.get("seed", 0)), count)
        options = body.get("options")
        parsed = self.engine.parse_options(
            generator, options, animate=mode == "animate", from_text=True
        )
        out_kind = "animation" if mode == "animate" else kind
        fmt = body.get("format")
        if fmt is None:  # what the CLI writes by default; gif for an animation's preview
            fmt = {"image": "png", "animation": "gif", "text": "jsonl"}.get(out_kind, "png")
        if not isinstance(fmt, str):
            raise InvalidOptionsError(
                f"format must be a format name; got {show_value(fmt)}", parameter="format"
            )
        self.engine.check_format(fmt, out_kind)
        return Recipe(mode, generator, out_kind, seed, count, frames, parsed, fmt)

    def run(self, recipe: Recipe) -> list[Asset]:
        options = recipe.options.to_dict()
        if recipe.mode == "animate":
            anim = self.engine.animate(
                recipe.generator, seed=recipe.seed, frames=recipe.frames, **options
            )
            return [anim]
        return self.engine.generate(
            recipe.generator, seed=recipe.seed, count=recipe.count, **options
        )

    def generate(self, body: Any) -> dict[str, Any]:
        """Images (as PNG data URLs) or lines for a page of seeds, and how to reproduce them."""
        recipe = self.parse(body)
        if recipe.mode != "generate":
            raise InvalidOptionsError("use /api/animate for animations", parameter="mode")
        items = []
        for asset in self.run(recipe):
            seed = asset.metadata.get("seed", 0)
            item: dict[str, Any] = {"seed": str(seed)}
            if isinstance(asset, ImageAsset):
                item.update(png=data_url(asset.to_png()), width=asset.width, height=asset.height)
            elif isinstance(asset, TextAsset):
                item.update(text=asset.text, speaker=asset.speaker)
            items.append(item)
        return {"items": items, **self._shared(recipe)}

    def animate(self, body: Any) -> dict[str, Any]:
        """One animation's frames (PNG data URLs) and frame rate."""
        body = {**body, "mode": "animate"} if isinstance(body, Mapping) else body
        recipe = self.parse(body)
        (anim,) = self.run(recipe)
        assert isinstance(anim, AnimationAsset)  # the engine checks what animate returns
        return {
            "seed": str(recipe.seed),
            "frames": [data_url(frame.to_png()) for frame in anim.frames],
            "fps": anim.fps,
            **self._shared(recipe),
        }

    def recipe(self, body: Any) -> dict[str, Any]:
        """How to reproduce a request, without running it (the options are still checked)."""
        return self._shared(self.parse(body))

    def export(self, body: Any) -> Download:
        """The files the shown CLI command writes, by the same exporter."""
        recipe = self.parse(body)
        files = self.engine.render(self.run(recipe), recipe.format)
        names = tuple(f.name for f in files)
        if len(files) == 1:
            return Download(files[0].name, files[0].data, names)
        stem = files[0].name.rsplit(".", 1)[0]
        return Download(f"{stem}_{recipe.format}.zip", zip_files(files), names)

    def _shared(self, recipe: Recipe) -> dict[str, Any]:
        return {
            "generator": recipe.generator,
            "kind": recipe.kind,
            "format": recipe.format,
            "options": json_safe(recipe.options.to_dict()),
            "recipe": recipe.to_dict(),
        }


def seed_value(value: Any) -> Any:
    """A seed from JSON: an integer, or decimal text (JavaScript numbers are exact only up to
    2**53, so the page sends seeds as text). Anything else goes to ``check_seed`` unchanged
    for its message."""
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= _MAX_SEED_TEXT:
            return int(text)
    return value


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def zip_files(files: list[OutputFile]) -> bytes:
    """The files in one zip archive, with fixed dates so the same files give the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            info = zipfile.ZipInfo(f.name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, f.data)
    return buf.getvalue()


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data, with integers beyond JavaScript's exact range (seed
    bounds such as 2**63 - 1) as text, so the page never shows a rounded number."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return value if abs(value) <= _JS_SAFE else str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return json.loads(json.dumps(value, default=str))
