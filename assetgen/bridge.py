"""The flat functions the .NET bridge (``dotnet_bridge/``, ``AssetGen.Bridge.dll``) calls.

C# holds one :class:`Bridge` (made by :func:`open_bridge`) and calls its methods through
pythonnet. Everything crossing the boundary is a plain type that pythonnet converts cheaply:
options arrive as one JSON text, images leave as ``bytes`` (PNG files, or raw RGBA8 rows top to
bottom, which C# copies out through the buffer protocol in one block), text leaves as a list of
``str``. Nothing here adds behaviour: each call is one :class:`~assetgen.request.Request`,
planned and run by :class:`assetgen.Engine` as every front-end's is, so every generator,
option, seeding rule and error of the engine reaches C# as it is, and the bridge's output for
(generator, seed, options) is the Python API's, byte for byte.

Errors are the engine's own :class:`~assetgen.AssetGenError` subclasses; C# turns any Python
exception into ``AssetGenException`` carrying the type name and the message.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np

from . import __version__
from .assets import AnimationAsset, Asset, ImageAsset, TextAsset
from .engine import Engine
from .errors import InvalidOptionsError, PluginError
from .request import Request

#: Names the request itself uses; an options object holding one of them is a caller's mistake
#: (the seed, count and frames are separate arguments of every bridge call).
REQUEST_PARAMETERS = frozenset({"generator_id", "seed", "count", "frames"})


def parse_options_json(options_json: str | None) -> dict[str, Any]:
    """The options object of a request; empty text or ``null`` mean no options."""
    if options_json is None:
        return {}
    if not isinstance(options_json, str):
        raise InvalidOptionsError(
            f"options must be JSON text (or null); got {type(options_json).__name__}",
            parameter="options",
            value=options_json,
        )
    if not options_json.strip():
        return {}
    try:
        options = json.loads(options_json)
    except RecursionError:
        raise InvalidOptionsError(
            "options are nested too deeply to be an options object",
            parameter="options",
            value=options_json[:80],
        ) from None
    except ValueError as exc:  # json.JSONDecodeError and unencodable text
        raise InvalidOptionsError(
            f"options are not valid JSON ({exc}); expected an object such as "
            '{"size": 64, "color": "red"}',
            parameter="options",
            value=options_json,
        ) from None
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise InvalidOptionsError(
            f"options must be a JSON object of option names and values; got "
            f"{type(options).__name__} {options_json.strip()[:80]}",
            parameter="options",
            value=options_json,
        )
    reserved = sorted(REQUEST_PARAMETERS & options.keys())
    if reserved:
        raise InvalidOptionsError(
            f"{reserved[0]!r} is an argument of the request, not a generator option; "
            "pass it as its own argument",
            parameter=reserved[0],
            value=options[reserved[0]],
        )
    return options


def bridge_request(
    generator_id: str,
    seed: int,
    options_json: str | None,
    *,
    mode: str = "generate",
    count: int = 1,
    frames: int | None = None,
) -> Request:
    """The request a bridge call stands for: the engine's Request, options from JSON."""
    return Request(generator_id, mode, seed, count, frames, parse_options_json(options_json))


class Bridge:
    """One engine behind the C# ``AssetGenEngine``; safe to call from several threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kinds: dict[str, str] = {}
        self._kinds_lock = threading.Lock()

    # -- discovery ---------------------------------------------------------------------------

    def ping(self) -> str:
        """Does nothing but answer: the fixed cost of one call across the bridge."""
        return __version__

    def generator_ids(self) -> list[str]:
        return [info.id for info in self.engine.generators()]

    def info_json(self, generator_id: str) -> str:
        """What ``assetgen info`` shows, as JSON: kind, options schema, model card summary."""
        return json.dumps(self.engine.generator_info(generator_id).to_dict(), sort_keys=True)

    # -- requests ----------------------------------------------------------------------------

    def generate_png(self, generator_id: str, seed: int, options_json: str | None) -> bytes:
        return self._image(generator_id, seed, options_json, "GeneratePng").to_png()

    def generate_rgba(
        self, generator_id: str, seed: int, options_json: str | None
    ) -> tuple[int, int, bytes]:
        """``(width, height, pixels)``: RGBA8, rows top to bottom, width * height * 4 bytes."""
        image = self._image(generator_id, seed, options_json, "GenerateRgba")
        return image.width, image.height, rgba_bytes(image)

    def animate_png(
        self, generator_id: str, seed: int, options_json: str | None, frames: int | None = None
    ) -> list[bytes]:
        """One PNG per frame. Without ``frames`` the generator decides (e.g. a talk animation
        as long as its line of text), else the engine's default."""
        animation = self._animation(generator_id, seed, frames, options_json)
        return [frame.to_png() for frame in animation.frames]

    def animate_rgba(
        self, generator_id: str, seed: int, options_json: str | None, frames: int | None = None
    ) -> tuple[int, int, int, bytes]:
        """``(width, height, frames, pixels)``: every frame's RGBA8 bytes, one after another."""
        animation = self._animation(generator_id, seed, frames, options_json)
        pixels = b"".join(rgba_bytes(frame) for frame in animation.frames)
        return animation.width, animation.height, len(animation.frames), pixels

    def generate_text(
        self, generator_id: str, seed: int, count: int, options_json: str | None
    ) -> list[str]:
        """``count`` lines; line k is made with seed ``seed + k`` (the seeding rule)."""
        self._require_kind(generator_id, "text", "GenerateText")
        assets = self._run(bridge_request(generator_id, seed, options_json, count=count))
        return [_expect(asset, TextAsset, generator_id).text for asset in assets]

    # -- internals ---------------------------------------------------------------------------

    def _image(
        self, generator_id: str, seed: int, options_json: str | None, call: str
    ) -> ImageAsset:
        self._require_kind(generator_id, "image", call)
        (asset,) = self._run(bridge_request(generator_id, seed, options_json))
        return _expect(asset, ImageAsset, generator_id)

    def _animation(
        self, generator_id: str, seed: int, frames: int | None, options_json: str | None
    ) -> AnimationAsset:
        request = bridge_request(generator_id, seed, options_json, mode="animate", frames=frames)
        (animation,) = self._run(request)
        return _expect(animation, AnimationAsset, generator_id)

    def _run(self, request: Request) -> list[Asset]:
        """The engine's one planning step and run; C# takes the assets, so no formats."""
        return self.engine.run(self.engine.plan(request, export=False))

    def _require_kind(self, generator_id: str, kind: str, call: str) -> None:
        """Refuse, before any work, a call that cannot return what the generator makes."""
        with self._kinds_lock:
            known = self._kinds.get(generator_id)
        if known is None:
            known = self.engine.generator_info(generator_id).kind
            with self._kinds_lock:
                self._kinds[generator_id] = known
        if known != kind:
            other = {
                "image": "GeneratePng or GenerateRgba",
                "animation": "AnimatePng or AnimateRgba",
                "text": "GenerateText",
            }
            raise InvalidOptionsError(
                f"generator '{generator_id}' makes {known} assets, so {call} cannot serve it"
                + (f"; use {other[known]}" if known in other else ""),
                parameter="generator",
                value=generator_id,
            )


def rgba_bytes(image: ImageAsset) -> bytes:
    """The raw pixels C# copies: checked here because pythonnet on Mono cannot be asked for
    the buffer's format (``PyBUF.FORMATS``), so C# trusts this shape and type."""
    rgba = image.rgba
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise TypeError(f"image pixels must be H×W×4 uint8, got {rgba.dtype} {rgba.shape}")
    return np.ascontiguousarray(rgba).tobytes()


def _expect(asset: Asset, kind: type[Any], generator_id: str) -> Any:
    """A plugin whose assets do not match the kind it declares is at fault, not the caller."""
    if not isinstance(asset, kind):
        raise PluginError(
            f"generator '{generator_id}' returned a {asset.kind} asset where its declared "
            f"kind promises {kind.__name__}"
        )
    return asset


def open_bridge(device: str = "auto") -> Bridge:
    """A bridge over a new :class:`~assetgen.Engine` (plugins load as for the Python API,
    honouring ``ASSETGEN_LOAD_PLUGINS``)."""
    return Bridge(Engine(device=device))
