"""``assetgen new-plugin NAME``: start a generator plugin package that installs and passes
its own tests as soon as it is written.

The project is a folder ``assetgen-<name>/`` holding the package ``assetgen_<name>/`` (the
generator and the hook that registers it), ``tests/``, ``pyproject.toml`` with the
``assetgen`` entry point, and a README. The file contents are template files in
``templates/``, filled in by :mod:`assetgen.scaffold.render`; this module checks the name and
writes them.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import click

from .. import __version__
from ..cli_types import out_folder_option
from ..errors import InvalidOptionsError, OutputError
from ..plugin_manager import ENTRY_POINT_GROUP
from .render import KINDS, render_project

MAX_NAME_LENGTH = 30  # keeps every generated line within 100 characters
# Lower-case words joined by single '-' or '_': a valid generator id, entry-point name and,
# with '-' turned into '_', the tail of a Python package name.
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class PluginNames:
    """Every name a plugin project derives from the one the user chose."""

    name: str  # generator id and entry-point name: "pixel-coins"
    package: str  # import name: "assetgen_pixel_coins"
    distribution: str  # pip name and project folder: "assetgen-pixel-coins"
    class_prefix: str  # "PixelCoins" -> PixelCoinsGenerator, PixelCoinsOptions


def plugin_names(name: str) -> PluginNames:
    """Check NAME and derive the package, distribution and class names from it."""
    if name.lower().startswith("assetgen"):
        raise InvalidOptionsError(
            f"NAME is the plugin's own name without the 'assetgen' prefix (e.g. 'coins', "
            f"which gives the package assetgen_coins); got {name!r}",
            parameter="NAME",
            value=name,
        )
    if len(name) > MAX_NAME_LENGTH or not _NAME_RE.match(name):
        raise InvalidOptionsError(
            f"NAME must be 1-{MAX_NAME_LENGTH} lower-case letters and digits, starting with a "
            f"letter, with single '-' or '_' between words (e.g. 'coins', 'pixel-coins'); "
            f"got {name!r}",
            parameter="NAME",
            value=name,
        )
    words = re.split(r"[-_]", name)
    return PluginNames(
        name=name,
        package="assetgen_" + "_".join(words),
        distribution="assetgen-" + "-".join(words),
        class_prefix="".join(word.capitalize() for word in words),
    )


def _installed_plugin_names() -> set[str]:
    return {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def scaffold_plugin(name: str, kind: str = "image", out_dir: str | Path = ".") -> Path:
    """Write a new plugin project into ``out_dir`` and return its folder.

    Raises :class:`~assetgen.InvalidOptionsError` for a bad name or kind, a name an installed
    plugin already uses, or a project folder that already exists (nothing is overwritten);
    :class:`~assetgen.OutputError` when the folder cannot be written.
    """
    names = plugin_names(name)
    if kind not in KINDS:
        raise InvalidOptionsError(
            f"kind must be one of {', '.join(KINDS)}; got {kind!r}", parameter="kind", value=kind
        )
    if names.name in _installed_plugin_names():
        raise InvalidOptionsError(
            f"an installed plugin is already named {names.name!r} (see 'assetgen plugins'); "
            "choose another NAME",
            parameter="NAME",
            value=name,
        )
    files = render_project(
        kind,
        gen_id=names.name,
        package=names.package,
        distribution=names.distribution,
        cls=names.class_prefix,
        assetgen_version=__version__,
    )
    project = Path(out_dir) / names.distribution
    try:
        project.parent.mkdir(parents=True, exist_ok=True)
        # mkdir, not exists(): it claims the folder atomically, so two runs cannot both write.
        project.mkdir()
    except FileExistsError:
        raise InvalidOptionsError(
            f"{project} already exists; refusing to overwrite it (remove it, or choose "
            "another NAME or --out)",
            parameter="NAME",
            value=name,
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot create {project}: {exc.strerror or exc}") from None
    try:
        for relative, text in files.items():
            path = project / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except BaseException as exc:
        shutil.rmtree(project, ignore_errors=True)  # no half-written project left behind
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {project}: {exc.strerror or exc}") from None
        raise
    return project


_NEXT_STEPS = {
    "image": "assetgen generate {id} --seed 1 --count 8 --out out/{id}",
    "animation": "assetgen animate {id} --seed 1 --frames 12 --format gif,sheet --out out/{id}",
    "text": "assetgen generate {id} --seed 1 --count 8 --format jsonl --out out/{id}",
}


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="image",
    show_default=True,
    help="image: seeded pixel sprites; animation: a still and looping frames (assetgen "
    "animate); text: seeded item names.",
)
@out_folder_option(
    "Folder to create the project folder assetgen-NAME in.", default=".", show_default=True
)
def new_plugin_command(name: str, kind: str, out_dir: str) -> None:
    """Create a generator plugin project NAME: package, entry point, tests and README.

    The generator works out of the box; replace its drawing code with your own. The
    tutorial (docs/plugins/tutorial.md) walks through it.
    """
    project = scaffold_plugin(name, kind, out_dir)
    click.echo(f"created {project}/ ({kind} generator '{name}')")
    click.echo("next:")
    click.echo(f"  cd {project}")
    click.echo("  pip install -e .      # registers the plugin through its entry point")
    click.echo("  pytest                # its own tests")
    click.echo(f"  {_NEXT_STEPS[kind].format(id=name)}")
