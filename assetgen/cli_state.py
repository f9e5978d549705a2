"""What one ``assetgen`` invocation shares between its commands: the plugin manager (built
once) and the engine (started on first use). A module of its own so that the commands defined
outside ``cli.py`` (model commands, the studio) reach it without importing the CLI."""

from __future__ import annotations

import click

from .engine import Engine
from .plugin_manager import PluginManager


class CliState:
    """Per-invocation state: the plugin manager is built once, the engine on first use."""

    def __init__(self, manager: PluginManager) -> None:
        self.manager = manager
        self.device = "auto"
        self.threads = 0
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine(
                self.device, plugin_manager=self.manager, intra_op_threads=self.threads
            )
        return self._engine


def cli_state() -> CliState:
    """The running command's state (click's context object)."""
    return click.get_current_context().find_object(CliState)  # type: ignore[return-value]
