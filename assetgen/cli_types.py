"""Click parameter types shared by the CLI's commands."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import show_value
from .exporting import file_in_the_way

_Command = TypeVar("_Command", bound=Callable[..., Any])


class FilePath(click.Path):
    """click's Path, stricter where click lets bad input through to a later, vaguer failure:

    - an empty name is refused (click takes ``--out ""`` as the current folder);
    - a folder to be made (``file_okay=False``) under an existing file (``--out a/file/sub``)
      is refused here, naming the parameter, not when the first file is written;
    - a name the file system cannot encode is bad input: click stats the path, and a lone
      surrogate such as "\\ud800" (only main(argv) can pass one; a real command line's
      undecodable bytes arrive as \\udc80-\\udcff, which encode) raised UnicodeEncodeError
      there, an internal error.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (str, bytes, os.PathLike)) and os.fspath(value) in ("", b""):
            what = "a folder" if not self.file_okay else "a file"
            self.fail(f"an empty name is not a path; give {what} path", param, ctx)
        try:
            converted = super().convert(value, param, ctx)
        except UnicodeEncodeError:
            self.fail(
                f"{show_value(value)} is not valid text for a file name (it holds an "
                "unpaired surrogate character)",
                param,
                ctx,
            )
        if not self.file_okay and not self.exists:
            path = Path(os.fsdecode(converted))
            blocker = file_in_the_way(path)
            if blocker is not None and blocker != path:  # click itself says "is a file"
                self.fail(
                    f"{str(path)!r} cannot be a folder: {str(blocker)!r} is a file",
                    param,
                    ctx,
                )
        return converted


def out_folder_option(help: str, **settings: Any) -> Callable[[_Command], _Command]:
    """A command's ``--out`` folder (passed as ``out_dir``), checked by :class:`FilePath`;
    ``settings`` are the rest of click's option settings (``default``, ``show_default``,
    ``required``)."""
    return click.option("--out", "out_dir", type=FilePath(file_okay=False), help=help, **settings)
