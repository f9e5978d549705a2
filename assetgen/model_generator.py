"""The base class of generators that run a model folder.

A model plugin's generator differs from another's in what it makes of a model, not in how it
finds, verifies and caches one. :class:`ModelGenerator` owns that part, so that each plugin
writes only its own::

    MODEL_DIR = Path(__file__).resolve().parent / "model"

    class PotionOptions(assetgen.Options):
        ...
        model: str = assetgen.model_option("default (the shipped model) or an installed name.")

    class PotionsGenerator(assetgen.ModelGenerator):
        id = "potions"
        ...
        def model_dir(self) -> Path:
            return MODEL_DIR

        def parse_model(self, bundle):           # optional: the model's parsed form
            return Potions(bundle)

        def generate(self, seed, options):
            potions = self.model(options)        # parsed once per model, then shared
            ...

What the base does: the ``model`` option picks the folder (``default`` is ``model_dir()``, a
name in ``builtin_models`` another folder the plugin ships, any other name a model installed
with ``assetgen install-model``, through :mod:`assetgen.model_store`); the runtime verifies it
(:meth:`~assetgen.Runtime.load_model`); :meth:`parse_model` turns it into the plugin's own
object once per manifest sha256; :meth:`model_sha256` stamps assets with the model that made
them; :meth:`model_info` summarises the default model for ``assetgen info``; and
:meth:`check_model` refuses, before ``assetgen install-model`` copies anything, a folder that
:meth:`parse_model` would refuse on load. Like rembg's ``BaseSession``, one base class holds the
loading and each model adds only what is its own.

Nothing here reads a manifest before the first request: use :func:`shipped_manifest` in
deferred option values (see :mod:`assetgen.options`) to show the shipped model's names.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from . import model_store
from .generator import Generator
from .options import Deferred, option
from .runtime import MANIFEST_NAME, ModelBundle

if TYPE_CHECKING:
    from .runtime import Runtime

#: longest model name the ``model`` option accepts (an installed name is at most 64)
MODEL_NAME_MAX = 100


def model_option(description: Deferred[str]) -> Any:
    """Declare the ``model`` option of a :class:`ModelGenerator`'s options: text, default
    ``"default"`` (the shipped model); the folder is resolved, and checked, per request."""
    return option(model_store.DEFAULT_MODEL, description, max_length=MODEL_NAME_MAX)


@functools.cache
def shipped_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a model folder shipped in a plugin's package, read once, or ``{}`` when
    it is missing or unreadable (it is verified, and the error shown, when a request loads the
    model). For allowed values shown before any model loads: call it from a deferred option
    value, never at import."""
    try:
        doc = json.loads((Path(directory) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


class ModelGenerator(Generator):
    """A generator backed by a model folder (see the module doc).

    Subclasses implement :meth:`model_dir` (the default model's folder) and, when they parse
    the model into an object of their own, :meth:`parse_model`; they may add
    :meth:`model_summary` entries to ``assetgen info``. Their options declare ``model`` with
    :func:`model_option`; options without one always get the default model.
    """

    #: other model folders the plugin ships, selected by name with the ``model`` option
    builtin_models: ClassVar[Mapping[str, Path]] = {}

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self._parsed: dict[str, Any] = {}  # manifest sha256 -> parse_model's result
        self._parse_lock = threading.Lock()

    def model_dir(self) -> Path:
        """The folder of the default model (``model=default``). Asked on every request, so a
        module constant it returns can be pointed at another folder (evaluations do)."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement model_dir()")

    def parse_model(self, bundle: ModelBundle) -> Any:
        """The plugin's own form of a verified model folder (tables read, shapes checked),
        made once per model. Raise :class:`~assetgen.ModelError` naming the file and the field
        for a folder this generator cannot serve. The default is the bundle itself."""
        return bundle

    def model_summary(self, bundle: ModelBundle) -> dict[str, Any]:
        """What ``assetgen info`` shows of the default model besides its name, sha256,
        licence, data, metrics and card (e.g. the names it knows; ``self.model_of(bundle)``
        when they come from the parsed model)."""
        return {}

    # -- provided ---------------------------------------------------------------------------

    def model_folder(self, options: Any = None) -> Path:
        """The folder of the model ``options`` select (the default model when None)."""
        name = getattr(options, "model", model_store.DEFAULT_MODEL)
        builtin = self.builtin_models.get(name)
        if builtin is not None:
            return builtin
        return model_store.resolve(self.id, name, self.model_dir())

    def bundle(self, options: Any = None) -> ModelBundle:
        """The verified folder of the model ``options`` select (cached by the runtime)."""
        return self.runtime.load_model(self.model_folder(options))

    def model_of(self, bundle: ModelBundle) -> Any:
        """:meth:`parse_model` of ``bundle``, made once per model and then shared."""
        parsed = self._parsed.get(bundle.sha256)
        if parsed is None:
            with self._parse_lock:
                parsed = self._parsed.get(bundle.sha256)
                if parsed is None:
                    parsed = self._parsed[bundle.sha256] = self.parse_model(bundle)
        return parsed

    def model(self, options: Any = None) -> Any:
        """The parsed model ``options`` select (the default model when None)."""
        return self.model_of(self.bundle(options))

    def model_sha256(self, options: Any = None) -> str:
        return self.bundle(options).sha256

    def check_model(self, directory: Path) -> None:
        """Every check a load makes (:meth:`parse_model`), on a folder about to be installed."""
        self.parse_model(self.runtime.load_model(directory))

    def model_info(self) -> dict[str, Any]:
        bundle = self.bundle()
        m = bundle.manifest
        info = {
            "name": m["name"],
            "sha256": bundle.sha256,
            "license": m["license"],
            "data": m["data"],
            **self.model_summary(bundle),
            "metrics": m.get("metrics", {}),
            "card": str(self.model_dir() / "MODEL_CARD.md"),
        }
        if self.builtin_models:
            info["other_models"] = {name: str(path) for name, path in self.builtin_models.items()}
        return info
