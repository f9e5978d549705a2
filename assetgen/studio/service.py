"""The Studio's requests, without the web layer: parse and check a request body, run it through
the :class:`assetgen.Engine`, and shape the answer as JSON-ready data or files.

A body becomes the engine's :class:`~assetgen.request.Request`, planned by ``engine.plan`` as
the CLI's, the batch's and the bridge's are (options may be JSON values or the CLI's ``-o
key=value`` text), so the page, the CLI, batch jobs and the bridge accept and refuse the same
things with the same messages, and write the same default formats.

One exception: an option that names a file to read (:data:`UPLOAD_OPTIONS`: ``audio``, the
recording that drives a portrait's talk, and ``cues``, a Rhubarb Lip Sync cue file) is never
taken as a path, since the server's files are not the page's to name. The page uploads the
file instead (request key ``uploads``); the option gets the path of a private copy that lives
as long as the request, and messages, recipes and metadata show the uploaded file's name.
"""

from __future__ import annotations

import base64
import binascii
import copy
import io
import json
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import model_store
from ..assets import AnimationAsset, Asset, ImageAsset, TextAsset
from ..engine import Engine
from ..errors import InvalidOptionsError, UnknownGeneratorError, show_value
from ..exporting import OutputFile
from ..limits import check_int
from ..request import DEFAULT_FORMATS, Request
from . import MAX_UPLOAD, pins
from .recipes import Recipe, csharp_call

MODES = ("generate", "animate")
#: Most items one Studio request makes (a page of the seed grid is far fewer).
MAX_GRID = 64
#: Longest seed accepted as decimal text (2**63 - 1 has 19 digits).
_MAX_SEED_TEXT = 40
REQUEST_KEYS = ("mode", "generator", "seed", "count", "frames", "options", "format", "uploads")
#: The largest integer a JavaScript number holds exactly; larger ones travel as text.
_JS_SAFE = 2**53 - 1


@dataclass(frozen=True)
class UploadKind:
    """What an uploaded file may be for one option."""

    what: str  # in messages, naming every kind allowed: "a WAV, OGG or FLAC file"
    accept: str  # the page's file picker filter
    #: (suffix of the private copy, test of the first bytes), one per kind of file allowed;
    #: the first suffix also names an upload that came without a name
    formats: tuple[tuple[str, Callable[[bytes], bool]], ...]
    max_bytes: int = MAX_UPLOAD

    def suffix_of(self, data: bytes) -> str | None:
        """The suffix of the kind of file ``data`` starts like, or None."""
        return next((suffix for suffix, looks in self.formats if looks(data)), None)


def _is_wav(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def _is_ogg(data: bytes) -> bool:
    return data[:4] == b"OggS"


def _is_flac(data: bytes) -> bool:
    return data[:4] == b"fLaC"


def _cue_text(data: bytes) -> str | None:
    """The file as text when it is UTF-8, without the leading blanks an editor may leave."""
    try:
        return data.decode("utf-8").lstrip(" \t\r\n")
    except UnicodeDecodeError:
        return None


def _is_cue_json(data: bytes) -> bool:
    text = _cue_text(data)
    return text is not None and text.startswith("{")


def _is_cue_tsv(data: bytes) -> bool:
    text = _cue_text(data)  # Rhubarb's TSV: "0.00<TAB>X" lines
    return text is not None and text[:1] in tuple("0123456789")


#: Largest uploaded cue file: a minute of Rhubarb cues is a few kilobytes.
MAX_CUES_UPLOAD = 1_000_000

#: Options that name a file the generator reads; the Studio takes them only as uploads.
UPLOAD_OPTIONS = {
    "audio": UploadKind(
        "a WAV, OGG or FLAC file",
        ".wav,.ogg,.oga,.flac,audio/wav,audio/x-wav,audio/ogg,audio/flac,audio/x-flac",
        ((".wav", _is_wav), (".ogg", _is_ogg), (".flac", _is_flac)),
    ),
    "cues": UploadKind(
        "a Rhubarb cue file (JSON or TSV text)",
        ".json,.tsv,.txt,application/json,text/tab-separated-values,text/plain",
        ((".json", _is_cue_json), (".tsv", _is_cue_tsv)),
        MAX_CUES_UPLOAD,
    ),
}
@dataclass(frozen=True)
class Upload:
    """One uploaded file: the option it is for, the name to show, its bytes."""

    option: str
    name: str
    data: bytes
    suffix: str  # of the kind of file it is (".wav", ".ogg", ".json", ...)


def upload_name(name: Any, suffix: str) -> str:
    """The uploaded file's own name, made safe to show and to use in a shell command: the last
    path component, letters, digits, ``._-`` and spaces only, at most 100 characters."""
    text = name if isinstance(name, str) else ""
    base = re.split(r"[\\/]", text)[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .")[:100].strip(" .")
    return base or f"upload{suffix}"


def parse_uploads(value: Any) -> list[Upload]:
    """The ``uploads`` of a request: ``{option: {"name": file name, "data": base64}}`` (``data``
    may also be a ``data:`` URL). Each must be for an option in :data:`UPLOAD_OPTIONS`, at most
    its kind's ``max_bytes``, and start like one of the kinds of file it may be."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise InvalidOptionsError(
            'uploads must be a JSON object {"option": {"name": file name, "data": base64}}; '
            f"got {show_value(value)}",
            parameter="uploads",
        )
    uploads = []
    for option, item in value.items():
        kind = UPLOAD_OPTIONS.get(option)
        if kind is None:
            raise InvalidOptionsError(
                f"uploads: option {show_value(option)} takes no file; options that do: "
                + ", ".join(UPLOAD_OPTIONS),
                parameter="uploads",
            )
        if (
            not isinstance(item, Mapping)
            or not set(item) <= {"name", "data"}
            or not isinstance(item.get("data"), str)
        ):
            raise InvalidOptionsError(
                f'uploads.{option} must be {{"name": file name, "data": the file as base64}}',
                parameter=option,
            )
        text = item["data"]
        if text.startswith("data:"):
            text = text.partition(",")[2]
        too_big = InvalidOptionsError(
            f"option '{option}': the uploaded file is over {kind.max_bytes} bytes, the most "
            f"the Studio takes for {kind.what}",
            parameter=option,
        )
        if len(text) > (kind.max_bytes + 2) // 3 * 4:  # refused before decoding
            raise too_big
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidOptionsError(
                f"uploads.{option}: data is not base64 text", parameter=option
            ) from None
        if len(data) > kind.max_bytes:
            raise too_big
        suffix = kind.suffix_of(data)
        name = upload_name(item.get("name"), suffix or kind.formats[0][0])
        if suffix is None:
            raise InvalidOptionsError(
                f"option '{option}': the uploaded file {name!r} is not {kind.what}"
                + (" (it is empty)" if not data else ""),
                parameter=option,
            )
        uploads.append(Upload(option, name, data, suffix))
    return uploads


def _options(options: Any, files: Mapping[str, tuple[str, str]] | None) -> Any:
    """The body's options, each uploaded file's option set to its private copy; an option that
    names a file on the server is refused unread."""
    if isinstance(options, Mapping):
        for key in UPLOAD_OPTIONS:
            if options.get(key) not in (None, ""):  # the value is never looked at
                raise InvalidOptionsError(
                    f"option '{key}' names a file, and the Studio does not open files on "
                    f"the server by name: upload {UPLOAD_OPTIONS[key].what} instead "
                    f'(request key "uploads")',
                    parameter=key,
                )
    if files:
        options = {**(options if isinstance(options, Mapping) else {}),
                   **{key: path for key, (path, _) in files.items()}}
    return options


def _hide_paths(exc: InvalidOptionsError, shown: Mapping[str, str]) -> InvalidOptionsError:
    """``exc`` with each private copy's path replaced by the uploaded file's name."""
    message, value = str(exc), exc.value
    for path, name in shown.items():
        message = message.replace(path, name)
        if isinstance(value, str):
            value = value.replace(path, name)
    return InvalidOptionsError(message, parameter=exc.parameter, value=value)


@dataclass(frozen=True)
class Download:
    """What an export request returns: one file as it is, or several in a zip."""

    name: str
    data: bytes
    files: tuple[str, ...]


class Studio:
    """The engine behind the Studio page; safe to call from several threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kinds: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- discovery ---------------------------------------------------------------------------

    def catalogue(self) -> dict[str, Any]:
        """Every generator (options schemas, model summary or its error) and exporter."""
        generators = []
        for info in self.engine.generators():
            entry = json_safe(info.to_dict())
            with self._lock:
                self._kinds[info.id] = info.kind
            models = self.installed_models(info.id, entry.get("model"))
            for key in ("options_schema", "animation_options_schema"):
                properties = (entry.get(key) or {}).get("properties") or {}
                model = properties.get("model")
                # the core's model store: "default" (shipped) or an installed model's name
                if isinstance(model, dict) and model.get("default") == model_store.DEFAULT_MODEL \
                        and "enum" not in model:
                    properties["model"] = {**model, "x-studio-choices": models}
                for name, kind in UPLOAD_OPTIONS.items():
                    if name in properties:  # the page shows a file picker
                        properties[name] = copy.deepcopy(properties[name])
                        properties[name]["x-studio-upload"] = {
                            "what": kind.what, "accept": kind.accept, "max_bytes": kind.max_bytes,
                        }
            generators.append(entry)
        return {
            "generators": generators,
            "exporters": [e.to_dict() for e in self.engine.exporters()],
            "plugin_errors": [f.message() for f in self.engine.plugin_failures()],
            "max_grid": MAX_GRID,
            "default_formats": {kind: list(ids) for kind, ids in DEFAULT_FORMATS.items()},
        }

    @staticmethod
    def installed_models(generator_id: str, summary: Any = None) -> list[str]:
        """What a ``model`` option that follows the core's model store can name here: the
        shipped model (``default``), any other model the plugin ships (its model summary's
        ``other_models``, e.g. dialogue's ``shakespeare``) and the models installed for the
        generator (``assetgen install-model``), read anew each time the page loads."""
        shipped = summary.get("other_models") if isinstance(summary, Mapping) else None
        names = [model_store.DEFAULT_MODEL, *(shipped if isinstance(shipped, Mapping) else ())]
        return list(dict.fromkeys([*map(str, names), *model_store.installed(generator_id)]))

    def kind(self, generator_id: str) -> str:
        with self._lock:
            known = self._kinds.get(generator_id)
        if known is None:
            known = self.engine.generator_info(generator_id).kind
            with self._lock:
                self._kinds[generator_id] = known
        return known

    # -- requests ----------------------------------------------------------------------------

    @contextmanager
    def request(self, body: Any) -> Iterator[Recipe]:
        """The checked request, with its uploaded files saved in a private folder for as long
        as the ``with`` block runs; errors name the uploaded files, not their copies."""
        uploads = parse_uploads(body.get("uploads") if isinstance(body, Mapping) else None)
        if not uploads:
            yield self.parse(body)
            return
        with tempfile.TemporaryDirectory(prefix="assetgen-studio-") as folder:
            files: dict[str, tuple[str, str]] = {}
            for upload in uploads:
                path = Path(folder) / f"{upload.option}{upload.suffix}"
                path.write_bytes(upload.data)
                files[upload.option] = (str(path), upload.name)
            try:
                yield self.parse(body, files)
            except InvalidOptionsError as exc:
                raise _hide_paths(exc, dict(files.values())) from None

    def parse(self, body: Any, files: Mapping[str, tuple[str, str]] | None = None) -> Recipe:
        """Check a request body; every problem is an InvalidOptionsError naming it. ``files``
        maps an upload option to its private copy's path and the uploaded file's name."""
        request = self._request(body, files)
        plan = self.engine.plan(request)
        shown = tuple((key, name) for key, (_, name) in (files or {}).items())
        return Recipe(
            request.mode,
            request.generator,
            plan.kind,
            plan.request.seed,
            request.count,
            request.frames,
            plan.options,
            plan.formats[0],
            shown,
            plan,
        )

    def _request(self, body: Any, files: Mapping[str, tuple[str, str]] | None) -> Request:
        """The engine's Request for a body, after the checks only the Studio makes: its keys,
        a page's count, one format, and files by upload only."""
        if not isinstance(body, Mapping):
            raise InvalidOptionsError(
                "the request must be a JSON object with the keys " + ", ".join(REQUEST_KEYS),
                parameter="request",
            )
        unknown = sorted(str(k) for k in body if k not in REQUEST_KEYS)
        if unknown:
            raise InvalidOptionsError(
                f"unknown request key {show_value(unknown[0])}; allowed: "
                + ", ".join(REQUEST_KEYS),
                parameter=unknown[0],
            )
        mode = body.get("mode", "generate")
        if mode not in MODES:
            raise InvalidOptionsError(
                f"mode must be 'generate' or 'animate'; got {show_value(mode)}",
                parameter="mode",
                value=mode,
            )
        generator = body.get("generator")
        if not isinstance(generator, str):
            raise InvalidOptionsError(
                f"generator must be a generator id; got {show_value(generator)}",
                parameter="generator",
                value=generator,
            )
        self.kind(generator)  # an unknown generator is refused here, by the engine
        count = body.get("count", 1)
        if mode == "generate":
            check_int("count", count, 1, MAX_GRID)
        elif count != 1:
            raise InvalidOptionsError(
                f"count must be 1 for an animation; got {show_value(count)}", parameter="count"
            )
        frames = body.get("frames")
        if frames is not None and mode != "animate":
            raise InvalidOptionsError(
                "frames is for animations (mode 'animate')", parameter="frames"
            )
        fmt = body.get("format")  # none: the engine's default_formats, as in every front-end
        if fmt is not None and not isinstance(fmt, str):
            raise InvalidOptionsError(
                f"format must be a format name; got {show_value(fmt)}", parameter="format"
            )
        return Request(
            generator,
            mode,
            seed_value(body.get("seed", 0)),
            count,
            frames,
            _options(body.get("options"), files),
            formats=() if fmt is None else (fmt,),
            options_text=True,
        )

    def run(self, recipe: Recipe) -> list[Asset]:
        plan = recipe.plan or self.engine.plan(recipe.request())
        assets = self.engine.run(plan)
        if recipe.uploads:  # the metadata (a sheet's JSON) names the file as the CLI's does
            names = dict(recipe.uploads)
            for asset in assets:
                for item in (asset, *getattr(asset, "frames", ())):
                    used = item.metadata.get("options")
                    if isinstance(used, dict):
                        item.metadata["options"] = {
                            key: names.get(key, value) for key, value in used.items()
                        }
                # a lip-sync track names its recording (a cue file's soundFile)
                track = asset.metadata.get("lipsync")
                if isinstance(track, dict) and track.get("sound_file") and "audio" in names:
                    asset.metadata["lipsync"] = {**track, "sound_file": names["audio"]}
        return assets

    def generate(self, body: Any) -> dict[str, Any]:
        """Images (as PNG data URLs) or lines for a page of seeds, and how to reproduce them."""
        with self.request(body) as recipe:
            if recipe.mode != "generate":
                raise InvalidOptionsError("use /api/animate for animations", parameter="mode")
            assets = self.run(recipe)
        items = []
        for asset in assets:
            seed = asset.metadata.get("seed", 0)
            item: dict[str, Any] = {"seed": str(seed)}
            if isinstance(asset, ImageAsset):
                item.update(png=data_url(asset.to_png()), width=asset.width, height=asset.height)
            elif isinstance(asset, TextAsset):
                item.update(text=asset.text, speaker=asset.speaker)
            items.append(item)
        return {"items": items, **self._shared(recipe)}

    def animate(self, body: Any) -> dict[str, Any]:
        """One animation's frames (PNG data URLs), frame rate and metadata (a lip-synced
        talk's ``lipsync`` cue track and ``frame_shapes``, which the page's timeline draws)."""
        body = {**body, "mode": "animate"} if isinstance(body, Mapping) else body
        with self.request(body) as recipe:
            (anim,) = self.run(recipe)
        assert isinstance(anim, AnimationAsset)  # the engine checks what animate returns
        return {
            "seed": str(recipe.seed),
            "frames": [data_url(frame.to_png()) for frame in anim.frames],
            "fps": anim.fps,
            "metadata": json_safe(anim.metadata),
            **self._shared(recipe),
        }

    def recipe(self, body: Any) -> dict[str, Any]:
        """How to reproduce a request, without running it (the options are still checked)."""
        with self.request(body) as recipe:
            return self._shared(recipe)

    def export(self, body: Any) -> Download:
        """The files the shown CLI command writes, by the same exporter."""
        with self.request(body) as recipe:
            files = self.engine.render(self.run(recipe), recipe.format, plan=recipe.plan)
        names = tuple(f.name for f in files)
        if len(files) == 1:
            return Download(files[0].name, files[0].data, names)
        stem = files[0].name.rsplit(".", 1)[0]
        return Download(f"{stem}_{recipe.format}.zip", zip_files(files), names)

    # -- pinned seeds as one batch ------------------------------------------------------------

    def pin_recipes(self, body: Any) -> tuple[list[Recipe], list[str | None]]:
        """Each pin of a pins export checked as a request of its own, and the format its run
        writes: the chosen one where it takes that kind of asset, else the default (None)."""
        items, fmt = pins.parse_pins(body)
        accepting = {
            kind: {e.id for e in self.engine.exporters() if kind in e.to_dict()["accepts"]}
            for kind in ("image", "text", "animation")
        }
        recipes: list[Recipe] = []
        formats: list[str | None] = []
        for number, pin in enumerate(items, start=1):
            request = {"generator": pin.get("generator"), "seed": pin.get("seed", 0),
                       "options": pin.get("options") or {}}
            try:
                recipe = self.parse(request)
            except (InvalidOptionsError, UnknownGeneratorError) as exc:
                where = f"pin {number} ({show_value(pin.get('generator'))} seed " \
                        f"{show_value(pin.get('seed'))})"
                raise InvalidOptionsError(f"{where}: {exc}", parameter="pins") from None
            recipes.append(recipe)
            formats.append(fmt if fmt in accepting.get(recipe.kind, ()) else None)
        return recipes, formats

    def pins_recipe(self, body: Any) -> dict[str, Any]:
        """The job file of a pins export, the command that runs it, and the C# and Python
        calls (each pin's image or line from the bridge; the job from Python)."""
        recipes, formats = self.pin_recipes(body)
        text = pins.job_text(recipes, formats)
        return {
            "count": len(recipes),
            "job": text,
            "recipe": {
                "cli": f"assetgen batch {pins.JOB_NAME}",
                # one block per pin, so each call's variable stays its own
                "csharp": "\n".join(
                    f"{{ // {r.generator} seed {r.seed}\n    {csharp_call(r)}\n}}" for r in recipes
                ),
                "python": (
                    "from assetgen import Engine\nfrom assetgen.batch import load_job, run_job\n"
                    f"\nengine = Engine()\nrun_job(engine, load_job({pins.JOB_NAME!r}, engine))"
                ),
            },
        }

    def export_pins(self, body: Any) -> Download:
        """A zip of the job file and every file ``assetgen batch job.toml`` writes for it."""
        recipes, formats = self.pin_recipes(body)
        files = pins.run_pins_job(self.engine, pins.job_text(recipes, formats))
        return Download(pins.ZIP_NAME, zip_files(files), tuple(f.name for f in files))

    def _shared(self, recipe: Recipe) -> dict[str, Any]:
        options = recipe.options.to_dict()
        options.update(recipe.uploads)  # the uploaded file's name, not its private copy
        return {
            "generator": recipe.generator,
            "kind": recipe.kind,
            "format": recipe.format,
            "options": json_safe(options),
            "recipe": recipe.to_dict(),
        }


def seed_value(value: Any) -> Any:
    """A seed from JSON: an integer, or decimal text (JavaScript numbers are exact only up to
    2**53, so the page sends seeds as text). Anything else goes to ``check_seed`` unchanged
    for its message."""
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= _MAX_SEED_TEXT:
            return int(text)
    return value


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def zip_files(files: list[OutputFile]) -> bytes:
    """The files in one zip archive, with fixed dates so the same files give the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            info = zipfile.ZipInfo(f.name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, f.data)
    return buf.getvalue()


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data, with integers beyond JavaScript's exact range (seed
    bounds such as 2**63 - 1) as text, so the page never shows a rounded number."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return value if abs(value) <= _JS_SAFE else str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return json.loads(json.dumps(value, default=str))
