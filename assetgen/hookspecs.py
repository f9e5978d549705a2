"""The hooks a plugin may implement. Every hook is documented in docs/plugins/hooks.md.

A plugin is a module (or object) with functions marked ``@assetgen.hookimpl`` and named
after these specs, exposed through the ``assetgen`` entry-point group::

    [project.entry-points.assetgen]
    my_plugin = "my_package.plugin"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from .exporting import Exporter
    from .generator import Generator

hookspec = pluggy.HookspecMarker("assetgen")
hookimpl = pluggy.HookimplMarker("assetgen")


@hookspec
def register_generators(register: Callable[[type[Generator]], None]) -> None:
    """Register generator classes by calling ``register(MyGenerator)`` once for each.

    The engine checks each class (id, kind, Options) and refuses an id that another plugin
    already registered, naming both plugins.
    """


@hookspec
def register_exporters(register: Callable[[type[Exporter]], None]) -> None:
    """Register exporter classes (output formats) by calling ``register(MyExporter)``."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``assetgen`` command line, e.g. ``@cli.command()``."""


ALL_HOOKS: tuple[Any, ...] = (register_generators, register_exporters, register_commands)
