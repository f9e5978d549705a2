"""Plugin discovery and registration, with each plugin's failures kept to itself.

Plugins are found through the ``assetgen`` entry-point group; built-in ones too. pluggy stops
at the first exception, so each entry point is loaded, checked and called on its own: a plugin
that fails to import, has a misspelled hook, or raises while registering is recorded (and
warned about) by name, and everything else keeps working.
"""

from __future__ import annotations

import importlib.metadata
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .exporting import Exporter, check_exporter_class
from .generator import Generator, check_generator_class

ENTRY_POINT_GROUP = "assetgen"
#: What a plugin may raise without taking the engine down: any error, and ``sys.exit()`` (a
#: module that parses arguments at import, a generator that "quits"); Ctrl-C still stops.
PLUGIN_ERRORS = (Exception, SystemExit)
LOAD_ENV = "ASSETGEN_LOAD_PLUGINS"


@dataclass
class PluginFailure:
    plugin: str
    stage: str  # "import", "hook check" or "registration"
    error: str

    def message(self) -> str:
        return f"plugin '{self.plugin}' failed at {self.stage}: {self.error}"


@dataclass
class Registry:
    """What the loaded plugins provided, with the plugin each item came from."""

    generators: dict[str, type[Generator]] = field(default_factory=dict)
    exporters: dict[str, type[Exporter]] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)


def plugin_filter(selected: Iterable[str] | None) -> set[str] | None:
    """Names allowed to load: the argument if given, else ``ASSETGEN_LOAD_PLUGINS`` if set."""
    if selected is not None:
        return set(selected)
    env = os.environ.get(LOAD_ENV)
    if env is None:
        return None
    return {name.strip() for name in env.split(",") if name.strip()}


class PluginManager:
    """Loads plugins and collects their generators and exporters into a :class:`Registry`."""

    def __init__(self, plugins: Iterable[Any] | None = None) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        names = None if plugins is None else [p for p in plugins if isinstance(p, str)]
        objects = [] if plugins is None else [p for p in plugins if not isinstance(p, str)]
        self._load_entry_points(plugin_filter(names))
        for obj in objects:
            self._add(getattr(obj, "__name__", type(obj).__name__), _constant(obj))
        self._register_all()

    # -- loading -----------------------------------------------------------------------------

    def _load_entry_points(self, allowed: set[str] | None) -> None:
        seen: set[str] = set()
        for ep in sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
        ):
            if ep.name in seen or (allowed is not None and ep.name not in allowed):
                continue
            seen.add(ep.name)
            self._add(ep.name, ep.load)
        if allowed is not None:
            for missing in sorted(allowed - seen):
                self._fail(missing, "import", "no installed plugin has this name")

    def _add(self, name: str, load: Callable[[], Any]) -> None:
        try:
            plugin = load()
        except PLUGIN_ERRORS as exc:
            self._fail(name, "import", f"{type(exc).__name__}: {exc}")
            return
        try:
            self.pm.register(plugin, name=name)
            # check_pending() finds hooks with misspelled names (pytest does the same).
            self.pm.check_pending()
        except PLUGIN_ERRORS as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._fail(name, "hook check", str(exc))
            return
        self.registry.plugins.append(name)

    def _fail(self, plugin: str, stage: str, error: str) -> None:
        failure = PluginFailure(plugin, stage, error)
        self.registry.failures.append(failure)
        warnings.warn(failure.message(), RuntimeWarning, stacklevel=3)

    # -- registration ------------------------------------------------------------------------

    def _register_all(self) -> None:
        for hook_name, table, check in (
            ("register_generators", self.registry.generators, check_generator_class),
            ("register_exporters", self.registry.exporters, check_exporter_class),
        ):
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                plugin_name = self.pm.get_name(impl.plugin) or "?"
                kind = hook_name.removeprefix("register_")[:-1]
                added: list[str] = []
                try:
                    impl.function(register=self._registrar(plugin_name, kind, table, check, added))
                except PLUGIN_ERRORS as exc:
                    for item_id in added:  # a half-registered plugin is worse than none
                        table.pop(item_id, None)
                        self.registry.sources.pop((kind, item_id), None)
                    self._fail(plugin_name, "registration", f"{type(exc).__name__}: {exc}")

    def _registrar(
        self,
        plugin: str,
        kind: str,
        table: dict[str, Any],
        check: Callable[[Any], None],
        added: list[str],
    ) -> Callable[[Any], None]:
        def register(cls: Any) -> None:
            check(cls)
            if cls.id in table:
                # Only this item is refused: the plugin's other items, and the plugin that
                # registered the id first, keep working (the clash is reported by name).
                other = self.registry.sources[(kind, cls.id)]
                self._fail(
                    plugin,
                    "registration",
                    f"{kind} id '{cls.id}' is already registered by plugin '{other}'",
                )
                return
            table[cls.id] = cls
            self.registry.sources[(kind, cls.id)] = plugin
            added.append(cls.id)

        return register

    def register_commands(self, cli: Any) -> None:
        """Let each plugin add CLI commands; a failing plugin is reported, the CLI still works."""
        for impl in self.pm.hook.register_commands.get_hookimpls():
            plugin_name = self.pm.get_name(impl.plugin) or "?"
            try:
                impl.function(cli=cli)
            except PLUGIN_ERRORS as exc:
                self._fail(plugin_name, "registration", f"{type(exc).__name__}: {exc}")


def _constant(obj: Any) -> Callable[[], Any]:
    return lambda: obj
