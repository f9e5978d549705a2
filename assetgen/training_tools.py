"""The contract between a model plugin and ``assetgen train | export | eval``.

A generator names its training module in its ``training`` class attribute (a module path,
imported only when one of those commands runs, so the runtime never imports torch). The module
must provide what :class:`TrainingTools` lists; :func:`load_training_tools` imports it and
checks that it does, with an error that names the plugin's module and what is missing.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

from .errors import InvalidOptionsError

#: what a training module must define (name -> what it is)
REQUIRED = {
    "DEFAULT_CONFIG": "a dict of every setting with its default",
    "train": "train(out: Path, data: Path | None, config: dict, resume: bool) -> None",
    "export": "export(run_dir: Path, out: Path) -> Path",
    "evaluate": "evaluate(model_dir: Path | None, out: Path | None, config: dict) -> dict",
}


@runtime_checkable
class TrainingTools(Protocol):
    """A model plugin's training module. Optional extras: ``EVAL_CONFIG`` (the evaluation's
    default settings), ``EVALUATIONS`` (``{name: (function, config)}``: extra ``assetgen eval
    NAME`` commands) and ``SUPPORTS_DISTRIBUTED = True`` (may run under torchrun)."""

    DEFAULT_CONFIG: dict[str, Any]

    def train(self, out: Path, data: Path | None, config: dict[str, Any], resume: bool) -> None:
        ...

    def export(self, run_dir: Path, out: Path) -> Path:
        ...

    def evaluate(
        self, model_dir: Path | None, out: Path | None, config: dict[str, Any]
    ) -> dict[str, Any]:
        ...


def training_module(cls: type) -> str | None:
    """The module path a generator class names for its training, or None. The attribute was
    called ``tools`` before; a class that still sets only ``tools`` works, with a warning."""
    path = getattr(cls, "training", None)
    old = getattr(cls, "tools", None)
    if path is None and old:
        warnings.warn(
            f"{cls.__name__}.tools is deprecated: name the training module in "
            f"{cls.__name__}.training",
            DeprecationWarning,
            stacklevel=2,
        )
        path = old
    return str(path) if path else None


def load_training_tools(cls: type, generator: str) -> TrainingTools:
    """Import ``cls``'s training module and check it against :data:`REQUIRED`.

    ImportError (torch or another training dependency missing) becomes an
    :class:`InvalidOptionsError` telling how to install the training extra."""
    path = training_module(cls)
    if path is None:
        raise InvalidOptionsError(
            f"generator '{generator}' has no training tools", parameter="generator"
        )
    try:
        module = importlib.import_module(path)
    except ImportError as exc:
        raise InvalidOptionsError(
            f"training '{generator}' needs the training extra: pip install 'assetgen[train]' "
            f"({exc})"
        ) from None
    def present(name: str) -> bool:
        value = getattr(module, name, None)
        return isinstance(value, dict) if name == "DEFAULT_CONFIG" else callable(value)

    missing = [f"{name} ({what})" for name, what in REQUIRED.items() if not present(name)]
    if missing:
        raise InvalidOptionsError(
            f"generator '{generator}': its training module {path} lacks " + "; ".join(missing),
            parameter="generator",
        )
    return cast(TrainingTools, module)


def extra_evaluations(tools: TrainingTools) -> dict[str, tuple[Callable[..., Any], dict]]:
    """A training module's extra evaluations (``EVALUATIONS``), or none."""
    return dict(getattr(tools, "EVALUATIONS", {}))
