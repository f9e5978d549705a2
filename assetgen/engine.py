"""The Engine: validate a request, pick the generator, run it, stamp metadata on the assets."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import __version__
from .assets import ANIMATION, AnimationAsset, Asset, ImageAsset, TextAsset
from .errors import (
    AssetGenError,
    InvalidOptionsError,
    PluginError,
    UnknownGeneratorError,
    show_value,
)
from .exporting import (
    MAX_FILE_NAME,
    Exporter,
    OutputFile,
    check_out_dir,
    check_output_name,
    write_atomic,
)
from .generator import Generator, check_seed
from .limits import DEFAULT_FRAMES, MAX_COUNT, MAX_FRAMES, MAX_IMAGE_SIDE, check_int
from .options import Options
from .plugin_manager import PLUGIN_ERRORS, PluginFailure, PluginManager
from .request import MODES, Plan, Request, default_formats
from .runtime import Runtime


@dataclass(frozen=True)
class GeneratorInfo:
    """What ``engine.generators()`` reports about one generator."""

    id: str
    kind: str
    description: str
    plugin: str
    can_animate: bool
    options_schema: dict[str, Any]
    animation_options_schema: dict[str, Any] | None
    model: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ExporterInfo:
    id: str
    description: str
    accepts: tuple[str, ...]
    per_asset: bool
    plugin: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "accepts": list(self.accepts)}


class Engine:
    """Entry point of the Python API.

    ``Engine(device="auto")`` loads every installed plugin (or only those named in
    ``plugins``, or in the ``ASSETGEN_LOAD_PLUGINS`` environment variable). ``plugins`` may
    also hold plugin objects (modules with hook implementations) to register directly.
    An Engine is safe to share between threads.
    """

    def __init__(
        self,
        device: str = "auto",
        plugins: Iterable[Any] | None = None,
        *,
        intra_op_threads: int = 0,
        inter_op_threads: int = 0,
        plugin_manager: PluginManager | None = None,
    ) -> None:
        self.runtime = Runtime(
            device, intra_op_threads=intra_op_threads, inter_op_threads=inter_op_threads
        )
        self.plugin_manager = plugin_manager or PluginManager(plugins)
        self._registry = self.plugin_manager.registry
        self._instances: dict[str, Generator] = {}
        self._lock = threading.Lock()

    # -- discovery ---------------------------------------------------------------------------

    def generators(self) -> list[GeneratorInfo]:
        return [self.generator_info(gid) for gid in sorted(self._registry.generators)]

    def generator_info(self, generator_id: str) -> GeneratorInfo:
        cls = self._generator_class(generator_id)
        try:
            model = self._call_plugin(generator_id, self._instance(generator_id).model_info)
        except AssetGenError as exc:  # a broken model (or plugin) is shown, not fatal
            model = {"error": str(exc)}
        anim = cls.AnimationOptions
        return GeneratorInfo(
            id=cls.id,
            kind=cls.kind,
            description=cls.description,
            plugin=self._registry.sources[("generator", cls.id)],
            can_animate=cls.can_animate(),
            options_schema=cls.Options.json_schema(),
            animation_options_schema=anim.json_schema() if anim else None,
            model=model,
        )

    def model_sha256(self, generator_id: str, options: Options | None = None) -> str | None:
        """The sha256 of the model manifest these options select (None for a procedural
        generator): what makes two runs with the same seed and options comparable."""
        generator = self._instance(generator_id)
        return self._call_plugin(generator_id, generator.model_sha256, options)

    def exporters(self) -> list[ExporterInfo]:
        return [
            ExporterInfo(
                id=cls.id,
                description=cls.description,
                accepts=tuple(cls.accepts),
                per_asset=cls.per_asset,
                plugin=self._registry.sources[("exporter", cls.id)],
            )
            for _, cls in sorted(self._registry.exporters.items())
        ]

    def plugin_failures(self) -> list[PluginFailure]:
        return list(self._registry.failures)

    # -- requests ----------------------------------------------------------------------------

    def parse_options(
        self,
        generator_id: str,
        options: Mapping[str, Any] | Options | None = None,
        *,
        animate: bool = False,
        from_text: bool = False,
    ) -> Options:
        """Validate options for ``generator_id`` (``from_text`` for ``-o key=value`` strings);
        options already parsed into the generator's own class are only validated."""
        cls = self._generator_class(generator_id)
        options_cls = cls.Options
        if animate:
            if cls.AnimationOptions is None:
                raise InvalidOptionsError(
                    f"generator '{generator_id}' cannot animate; generators that can: "
                    + (", ".join(self._animating_ids()) or "none"),
                    parameter="generator",
                    value=generator_id,
                )
            options_cls = cls.AnimationOptions
        if type(options) is options_cls:
            parsed = options
        else:
            parsed = options_cls.parse(options, from_text=from_text)  # type: ignore[arg-type]
        self._call_plugin(generator_id, self._instance(generator_id).validate, parsed)
        return parsed

    def plan(self, request: Request, *, export: bool = True) -> Plan:
        """Check ``request`` once, before any work: mode, count, frames, seed, options (parsed
        and validated by the generator), output name, the model, and (``export``) the formats
        to write, ``default_formats(kind)`` when it names none, with one exporter each. The
        Python API and the bridge plan with ``export=False``: they hand the assets back."""
        mode = request.mode
        if mode not in MODES:
            raise InvalidOptionsError(
                f"mode must be 'generate' or 'animate'; got {show_value(mode)}",
                parameter="mode",
                value=mode,
            )
        count = check_int("count", request.count, 1, MAX_COUNT)
        if request.frames is not None:
            check_int("frames", request.frames, 1, MAX_FRAMES)
        check_seed(request.seed, count)
        generator_id = request.generator
        options = self.parse_options(
            generator_id, request.options, animate=request.animate, from_text=request.options_text
        )
        generator = self._instance(generator_id)
        kind = ANIMATION if request.animate else generator.kind
        if request.name is not None:
            check_output_name(request.name)
        exporters: dict[str, Exporter] = {}
        if export:
            for format_id in dict.fromkeys(request.formats or default_formats(kind)):
                exporters[format_id] = self._accepting(self.exporter(format_id), kind)
        model_sha256 = self._call_plugin(generator_id, generator.model_sha256, options)
        planned = replace(
            request,
            frames=request.frames if request.animate else None,
            options=options,
            formats=tuple(exporters),
            options_text=False,
        )
        return Plan(planned, kind, options, model_sha256, exporters)

    def run(self, plan: Plan, seeds: Sequence[int] | None = None) -> list[Asset]:
        """Make a planned request's assets, or those of some of its ``seeds`` (a batch chunk):
        images or lines in one ``generate_batch`` call, or one animation per seed."""
        wanted = list(plan.seeds() if seeds is None else seeds)
        if not all(seed in plan.seeds() for seed in wanted):
            raise ValueError(f"seeds {wanted[:3]}... are not seeds of the planned request")
        if plan.request.animate:
            frames = self._frames(plan)
            return [self._animation(plan, seed, frames) for seed in wanted]
        return self._items(plan, wanted)

    def generate(
        self, generator_id: str, seed: int = 0, count: int = 1, **options: Any
    ) -> list[Asset]:
        """Make ``count`` assets; item k uses seed ``seed + k`` (the seeding rule)."""
        request = Request(generator_id, "generate", seed, count, options=options)
        return self.run(self.plan(request, export=False))

    def animate(
        self, generator_id: str, seed: int = 0, frames: int | None = None, **options: Any
    ) -> AnimationAsset:
        """Make one animation of ``frames`` frames from ``seed``.

        ``frames=None`` lets the generator decide (a text- or audio-driven animation is as long
        as its driver); otherwise, and for generators without an opinion, 8."""
        request = Request(generator_id, "animate", seed, frames=frames, options=options)
        (animation,) = self.run(self.plan(request, export=False))
        assert isinstance(animation, AnimationAsset)  # _animation checks what the plugin made
        return animation

    def _items(self, plan: Plan, seeds: list[int]) -> list[Asset]:
        generator_id = plan.request.generator
        generator = self._instance(generator_id)
        assets = self._call_plugin(generator_id, generator.generate_batch, seeds, plan.options)
        if not isinstance(assets, list) or len(assets) != len(seeds):
            got = len(assets) if isinstance(assets, Sequence) else type(assets).__name__
            raise self._plugin_error(
                generator_id, f"generate_batch returned {got} assets for {len(seeds)} seeds"
            )
        for asset in assets:
            self._check_asset(generator_id, generator.kind, asset)
        for item_seed, asset in zip(seeds, assets, strict=True):
            self._stamp(asset, generator, item_seed, plan.options, plan.model_sha256)
        return assets

    def _frames(self, plan: Plan) -> int:
        """The planned frame count, else the generator's (its driver's length), else 8."""
        if plan.request.frames is not None:
            return plan.request.frames
        generator_id = plan.request.generator
        generator = self._instance(generator_id)
        wanted = self._call_plugin(generator_id, generator.frame_count, plan.options)
        if wanted is None:
            return DEFAULT_FRAMES
        return check_int("frames", wanted, 1, MAX_FRAMES)

    def _animation(self, plan: Plan, seed: int, frames: int) -> AnimationAsset:
        generator_id = plan.request.generator
        generator = self._instance(generator_id)
        options, model_sha256 = plan.options, plan.model_sha256
        anim = self._call_plugin(generator_id, generator.animate, seed, frames, options)
        if not isinstance(anim, AnimationAsset) or len(anim.frames) != frames:
            raise self._plugin_error(generator_id, f"animate did not return {frames} frames")
        self._check_asset(generator_id, "animation", anim)
        self._stamp(anim, generator, seed, options, model_sha256)
        anim.metadata.update(frames=frames, fps=anim.fps)
        for index, frame in enumerate(anim.frames):
            self._stamp(frame, generator, seed, options, model_sha256)
            frame.metadata["frame"] = index
        return anim

    # -- export ------------------------------------------------------------------------------

    def exporter(self, format_id: str) -> Exporter:
        cls = self._registry.exporters.get(format_id) if isinstance(format_id, str) else None
        if cls is None:
            raise UnknownGeneratorError(
                f"unknown format {show_value(format_id)}; available formats: "
                + (
                    ", ".join(sorted(self._registry.exporters))
                    or "none (no exporter plugin loaded)"
                )
            )
        return cls()

    def check_format(self, format_id: str, kind: str) -> Exporter:
        """The exporter for ``format_id``, if it can write assets of ``kind``."""
        return self._accepting(self.exporter(format_id), kind)

    def _accepting(self, exporter: Exporter, kind: str) -> Exporter:
        if kind not in exporter.accepts:
            raise InvalidOptionsError(
                f"format '{exporter.id}' cannot write {kind} assets; it accepts "
                + ", ".join(exporter.accepts),
                parameter="format",
                value=exporter.id,
            )
        return exporter

    def render(
        self,
        assets: Sequence[Asset],
        format_id: str,
        name: str | None = None,
        *,
        plan: Plan | None = None,
    ) -> list[OutputFile]:
        """File names and bytes for ``assets`` in ``format_id``, without writing anything.

        Files are named ``<name>`` (default ``<generator>_<seed>``, or ``<generator>_<first>-
        <last>`` for a whole request); a per-asset format writes ``<name>_<seed>`` per asset
        when a request holds several. A ``plan`` lends its exporters.
        """
        if plan is not None and format_id in plan.exporters:
            exporter = plan.exporters[format_id]
        else:
            exporter = self.exporter(format_id)
        for kind in sorted({asset.kind for asset in assets}):
            self._accepting(exporter, kind)
        stem = check_output_name(name) if name is not None else request_stem(assets)
        if exporter.per_asset and len(assets) > 1:
            files = []
            for asset in assets:
                prefix = name or str(asset.metadata.get("generator", "asset"))
                files += self._call_exporter(
                    exporter, [asset], f"{prefix}_{asset.metadata.get('seed', 0)}"
                )
        else:
            files = self._call_exporter(exporter, list(assets), stem)
        for f in files:
            check_output_name(f.name, "output file name", max_length=MAX_FILE_NAME)
        return files

    def export(
        self, assets: Sequence[Asset], format_id: str, out_dir: str | Path, name: str | None = None
    ) -> list[Path]:
        """Write ``assets`` into ``out_dir`` in ``format_id``; each file is written atomically."""
        out = check_out_dir(out_dir)
        paths = []
        for f in self.render(assets, format_id, name):
            path = out / f.name
            write_atomic(path, f.data)
            paths.append(path)
        return paths

    # -- internals ---------------------------------------------------------------------------

    def _generator_class(self, generator_id: str) -> type[Generator]:
        cls = None
        if isinstance(generator_id, str):
            cls = self._registry.generators.get(generator_id)
        if cls is None:
            available = ", ".join(sorted(self._registry.generators)) or "none"
            hint = ""
            if self._registry.failures:
                hint = " (some plugins failed to load: see 'assetgen plugins')"
            raise UnknownGeneratorError(
                f"unknown generator {show_value(generator_id)}; "
                f"available generators: {available}{hint}"
            )
        return cls

    def _instance(self, generator_id: str) -> Generator:
        with self._lock:
            inst = self._instances.get(generator_id)
            if inst is None:
                cls = self._generator_class(generator_id)
                inst = self._call_plugin(generator_id, cls, self.runtime)
                self._instances[generator_id] = inst
            return inst

    def _animating_ids(self) -> list[str]:
        return sorted(g for g, c in self._registry.generators.items() if c.can_animate())

    def _call_plugin(self, generator_id: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except AssetGenError:
            raise
        except PLUGIN_ERRORS as exc:
            raise self._plugin_error(generator_id, f"{type(exc).__name__}: {exc}") from exc

    def _call_exporter(
        self, exporter: Exporter, assets: list[Asset], stem: str
    ) -> list[OutputFile]:
        try:
            files = exporter.render(assets, stem)
        except AssetGenError:
            raise
        except PLUGIN_ERRORS as exc:
            plugin = self._registry.sources.get(("exporter", exporter.id), "?")
            raise PluginError(
                f"format '{exporter.id}' (plugin '{plugin}') failed: {type(exc).__name__}: {exc}",
                plugin=plugin,
            ) from exc
        if not isinstance(files, list) or not all(isinstance(f, OutputFile) for f in files):
            plugin = self._registry.sources.get(("exporter", exporter.id), "?")
            raise PluginError(
                f"format '{exporter.id}' (plugin '{plugin}') failed: render must return a list "
                "of OutputFile",
                plugin=plugin,
            )
        return files

    def _check_asset(self, generator_id: str, kind: str, asset: Any) -> None:
        """A plugin's output must be what its kind promises, and no image over the size cap
        (limits.MAX_IMAGE_SIDE) may reach an exporter, a sprite sheet or the bridge."""
        expected = {"image": ImageAsset, "animation": AnimationAsset, "text": TextAsset}[kind]
        if not isinstance(asset, expected):
            got = getattr(asset, "kind", None)
            what = f"a {got} asset" if isinstance(got, str) else f"a {type(asset).__name__}"
            raise self._plugin_error(
                generator_id, f"returned {what} where its declared kind promises {kind} assets"
            )
        images = asset.frames if isinstance(asset, AnimationAsset) else [asset]
        for image in images:
            if isinstance(image, ImageAsset) and max(image.width, image.height) > MAX_IMAGE_SIDE:
                raise self._plugin_error(
                    generator_id,
                    f"returned a {image.width}x{image.height} image; images may be at most "
                    f"{MAX_IMAGE_SIDE} pixels on a side",
                )

    def _plugin_error(self, generator_id: str, what: str) -> PluginError:
        plugin = self._registry.sources.get(("generator", generator_id), "?")
        return PluginError(
            f"generator '{generator_id}' (plugin '{plugin}') failed: {what}", plugin=plugin
        )

    def _stamp(
        self,
        asset: Asset,
        generator: Generator,
        seed: int,
        options: Options,
        model_sha256: str | None,
    ) -> None:
        """Record how ``asset`` was made (``model_sha256``: asked of the generator once per
        request, not once per asset)."""
        asset.metadata.update(
            generator=generator.id,
            plugin=self._registry.sources[("generator", generator.id)],
            seed=seed,
            options=options.to_dict(),
            model_sha256=model_sha256,
            assetgen_version=__version__,
        )


def request_stem(assets: Sequence[Asset]) -> str:
    """``<generator>_<seed>`` or ``<generator>_<first>-<last>``: safe by construction."""
    if not assets:
        return "empty"
    first, last = assets[0].metadata, assets[-1].metadata
    gen = first.get("generator", "asset")
    if len(assets) == 1:
        return f"{gen}_{first.get('seed', 0)}"
    return f"{gen}_{first.get('seed', 0)}-{last.get('seed', 0)}"
