"""The generator contract every plugin implements."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .assets import ASSET_KINDS, AnimationAsset, Asset
from .errors import InvalidOptionsError, show_value
from .options import NoOptions
from .options import Options as OptionsBase

if TYPE_CHECKING:
    from .runtime import Runtime


class Generator:
    """Base class of generators.

    Subclasses set ``id`` (lower-case name used on the command line), ``kind`` (``"image"``,
    ``"animation"`` or ``"text"``), ``description`` and ``Options``, and implement
    :meth:`generate`. A generator that can animate also sets ``AnimationOptions`` and
    implements :meth:`animate`.

    The engine creates one instance per :class:`~assetgen.Engine` and may call it from several
    threads at once, so keep per-request state in locals. Load models lazily through
    ``self.runtime`` (see :mod:`assetgen.runtime`): the engine lists generators without loading
    any model.

    **Seeding rule.** Item k of a request with seed s is generated with seed s + k. The engine
    applies it; a generator must only make ``generate(seed, options)`` depend on nothing but
    its arguments (and its model), and ``generate_batch`` return exactly what one
    ``generate`` call per seed returns.
    """

    id: ClassVar[str]
    kind: ClassVar[str]
    description: ClassVar[str] = ""
    Options: ClassVar[type[OptionsBase]] = NoOptions
    AnimationOptions: ClassVar[type[OptionsBase] | None] = None
    #: Module path of the plugin's training module (``DEFAULT_CONFIG``, ``train``, ``export``,
    #: ``evaluate``: :class:`assetgen.training_tools.TrainingTools`), imported only by
    #: ``assetgen train | export | eval``. (Called ``tools`` before; still read, with a warning.)
    training: ClassVar[str | None] = None

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @classmethod
    def can_animate(cls) -> bool:
        return cls.AnimationOptions is not None

    def generate(self, seed: int, options: Any) -> Asset:
        """Make one asset from ``seed``."""
        raise NotImplementedError

    def generate_batch(self, seeds: Sequence[int], options: Any) -> list[Asset]:
        """Make one asset per seed. Override to batch model calls; results must not change."""
        return [self.generate(seed, options) for seed in seeds]

    def animate(self, seed: int, frames: int, options: Any) -> AnimationAsset:
        """Make an animation of ``frames`` frames (only if ``AnimationOptions`` is set)."""
        raise NotImplementedError

    def frame_count(self, options: Any) -> int | None:
        """Frames an animation needs when the caller gives none (e.g. the length of a line
        of text or of an audio file); None for the engine's default (8)."""
        return None

    def validate(self, options: Any) -> None:
        """Checks that need the generator itself (e.g. names read from its model).

        Raise :class:`~assetgen.InvalidOptionsError` naming the option. Called before any work.
        """

    def model_info(self) -> dict[str, Any] | None:
        """A summary of the model card (name, sha256, licence, data), or None if procedural."""
        return None

    def check_model(self, directory: Path) -> None:
        """Refuse a model folder this generator could not serve, before it is installed: raise
        :class:`~assetgen.ModelError` naming the file and the field. The manifest and every
        file's sha256 are checked by the core already; the default checks nothing more."""

    def model_sha256(self, options: Any = None) -> str | None:
        """The sha256 of the manifest of the model ``options`` select (the default model when
        None); recorded in every asset's metadata. Override it when an option (``model``)
        picks among several models."""
        info = self.model_info()
        return None if info is None else info.get("sha256")


def check_generator_class(cls: Any) -> None:
    """Refuse a malformed registration early, with a message a plugin author can act on."""
    if not isinstance(cls, type) or not issubclass(cls, Generator):
        raise TypeError(f"{cls!r} is not a subclass of assetgen.Generator")
    gid = getattr(cls, "id", None)
    if not isinstance(gid, str) or not gid or not gid.replace("_", "").replace("-", "").isalnum():
        raise TypeError(f"{cls.__qualname__}.id must be a name of letters, digits, '-' or '_'")
    if gid != gid.lower():
        raise TypeError(f"{cls.__qualname__}.id must be lower case, got {gid!r}")
    if getattr(cls, "kind", None) not in ASSET_KINDS:
        raise TypeError(f"{cls.__qualname__}.kind must be one of {ASSET_KINDS}")
    for attr in ("Options", "AnimationOptions"):
        opts = getattr(cls, attr)
        if opts is not None and not (isinstance(opts, type) and issubclass(opts, OptionsBase)):
            raise TypeError(f"{cls.__qualname__}.{attr} must subclass assetgen.Options")
    if cls.generate is Generator.generate:
        raise TypeError(f"{cls.__qualname__} must implement generate()")
    if cls.can_animate() and cls.animate is Generator.animate:
        raise TypeError(
            f"{cls.__qualname__} sets AnimationOptions but does not implement animate()"
        )


def check_seed(seed: Any, count: int = 1) -> int:
    """Seeds are integers in [0, 2**63 - 1]; the last item's seed (seed + count - 1) too."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidOptionsError(
            f"seed must be an integer from 0 to {MAX_SEED}; got {show_value(seed)}",
            parameter="seed",
            value=seed,
        )
    if seed < 0 or seed + count - 1 > MAX_SEED:
        top = MAX_SEED - count + 1
        raise InvalidOptionsError(
            f"seed must be an integer from 0 to {top} for count={count}; got {show_value(seed)}",
            parameter="seed",
            value=seed,
        )
    return seed


MAX_SEED = 2**63 - 1
