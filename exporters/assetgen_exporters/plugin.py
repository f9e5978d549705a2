"""Hook implementations registering the built-in exporters."""

from __future__ import annotations

from collections.abc import Callable

from assetgen import Exporter, hookimpl

from .images import GifExporter, PngExporter, SheetExporter
from .text import CsvExporter, JsonlExporter


@hookimpl
def register_exporters(register: Callable[[type[Exporter]], None]) -> None:
    for exporter in (PngExporter, SheetExporter, GifExporter, JsonlExporter, CsvExporter):
        register(exporter)
