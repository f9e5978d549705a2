"""Installed models: user-trained model folders that a generator can load by name.

A generator ships its default model inside its package. Models a user trains on their own art
(``assetgen train ... --data MY_FOLDER`` then ``assetgen export``) are installed into the
*models path*, one folder per generator and name::

    $ASSETGEN_MODELS/            (default: $XDG_DATA_HOME/assetgen/models,
      portraits/                  i.e. ~/.local/share/assetgen/models)
        my-heroes/manifest.json, mapping.onnx, ...
      shoes/
        my-boots/...

and are selected with the generator's ``model`` option (``-o model=my-heroes``). A folder can
also be copied there by hand: the engine verifies it (sha256 of every file, against its
manifest) on first use, exactly as it does the shipped one.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import InvalidOptionsError, ModelError, show_value
from .runtime import check_model_files

MODELS_ENV = "ASSETGEN_MODELS"
DEFAULT_MODEL = "default"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NAME_RULE = "1-64 letters, digits, '_', '-' or '.', starting with a letter or digit"


def models_path() -> Path:
    """Where installed models live: ``$ASSETGEN_MODELS``, else the user's data folder."""
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "assetgen" / "models"


def check_model_name(name: str, parameter: str = "model") -> str:
    """An installed model's name: its folder under the models path, so a short plain name, and
    not ``default`` (the shipped model's name)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name == DEFAULT_MODEL:
        raise InvalidOptionsError(
            f"{_label(parameter)} must be {NAME_RULE} (and not '{DEFAULT_MODEL}'); "
            f"got {show_value(name)}",
            parameter=parameter,
            value=name,
        )
    return name


def _label(parameter: str) -> str:
    """How an error names the parameter: the generator option ``model``, a CLI option
    (``--name``) or argument (``NAME``) as written, a Python argument quoted."""
    if parameter == "model":
        return "option 'model'"
    return parameter if parameter.startswith("-") or parameter.isupper() else f"{parameter!r}"


def installed(generator: str) -> list[str]:
    """Names of the models installed for ``generator`` (folders holding a manifest)."""
    folder = models_path() / generator
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and NAME_PATTERN.fullmatch(p.name) and (p / "manifest.json").is_file()
    )


def resolve(generator: str, name: str, default_dir: Path) -> Path:
    """The folder of model ``name`` for ``generator``: ``default`` is the shipped model."""
    if name == DEFAULT_MODEL:
        return default_dir
    folder = models_path() / generator / name
    # one stat per request; the folder is listed only to explain a miss
    if not (NAME_PATTERN.fullmatch(name) and (folder / "manifest.json").is_file()):
        available = installed(generator)
        raise InvalidOptionsError(
            f"option 'model': no {generator} model named {show_value(name)} is installed in "
            f"{models_path() / generator}; available: "
            + ", ".join([DEFAULT_MODEL, *available])
            + " (install one with 'assetgen install-model')",
            parameter="model",
            value=name,
        )
    return folder


def install(
    generator: str,
    source: Path,
    name: str,
    *,
    force: bool = False,
    check: Callable[[Path], None] | None = None,
) -> Path:
    """Copy the exported model folder ``source`` into the models path as ``name``.

    The folder is verified first (manifest present, every listed file matching its sha256, the
    manifest naming this generator), copied into a temporary folder beside the target, verified
    again, then renamed into place, so a failed or interrupted install leaves nothing half
    copied and an existing model is replaced only with ``force``.
    """
    check_model_name(name, "--name")
    source = Path(source)
    manifest = check_model_files(source)
    made_for = manifest.get("generator")
    if made_for is not None and made_for != generator:
        raise ModelError(
            f"{source / 'manifest.json'} is a model for '{made_for}', not '{generator}'"
        )
    if check is not None:
        check(source)  # the generator's own checks (Generator.check_model), before any copy
    root = models_path() / generator
    target = root / name
    if target.exists() and not force:
        raise InvalidOptionsError(
            f"--name: a {generator} model named '{name}' is already installed at {target}; "
            "pass --force to replace it",
            parameter="--name",
            value=name,
        )
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        for file in [*manifest["files"], "manifest.json"]:
            shutil.copyfile(source / file, staging / file)
        check_model_files(staging)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old.", dir=root))
            os.replace(target, old / name)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def remove(generator: str, name: str, *, parameter: str = "name") -> Path:
    """Delete the installed model ``name``; errors name ``parameter`` (the CLI's argument is
    ``NAME``: ``assetgen remove-model GENERATOR NAME``)."""
    check_model_name(name, parameter)
    target = models_path() / generator / name
    if not (target / "manifest.json").is_file():
        raise InvalidOptionsError(
            f"{parameter}: no {generator} model named '{name}' is installed in {target.parent}",
            parameter=parameter,
            value=name,
        )
    shutil.rmtree(target)
    return target
