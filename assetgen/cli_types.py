"""Click parameter types shared by the CLI's commands."""

from __future__ import annotations

from typing import Any

import click

from .errors import show_value


class FilePath(click.Path):
    """click's Path, with a name the file system cannot encode refused as bad input: click
    stats the path, and a lone surrogate such as "\\ud800" (only main(argv) can pass one; a
    real command line's undecodable bytes arrive as \\udc80-\\udcff, which encode) raised
    UnicodeEncodeError there, an internal error."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except UnicodeEncodeError:
            self.fail(
                f"{show_value(value)} is not valid text for a file name (it holds an "
                "unpaired surrogate character)",
                param,
                ctx,
            )
