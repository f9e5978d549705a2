"""What reproduces a Studio view outside the Studio: the CLI command, the C# bridge call and
the Python API call for the same generator, seed and options.

Only options that differ from their defaults are written out (the others are what the CLI,
the bridge and the Python API use anyway), each in the form its target parses back to the
very same value: ``-o key=value`` text for the CLI (read with the options' ``from_text``
rules), one JSON object for the bridge, keyword arguments for Python.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from ..options import Options, OptionSpec
from ..request import Plan, Request

#: Where the shown CLI command writes, relative to the folder it is run in.
CLI_OUT = "out/studio"
#: Options the ``assetgen animate`` command also takes as flags of their own.
_ANIMATE_FLAGS = ("animation", "text", "audio")
#: Mapping keys the ``name:value,...`` text form can carry unchanged.
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Recipe:
    """One request of the Studio (images or lines, ``generate``, or one animation) with what
    reproduces it elsewhere: the engine's planned :class:`~assetgen.request.Request` plus the
    names of uploaded files."""

    mode: str  # "generate" or "animate"
    generator: str
    kind: str  # what the request returns: "image", "text" or "animation"
    seed: int
    count: int
    frames: int | None
    options: Options
    format: str
    #: (option, uploaded file name) for options whose value is a private copy of an upload:
    #: reproductions name the file as the user has it.
    uploads: tuple[tuple[str, str], ...] = ()
    #: the engine's plan of this request, when the Studio made one
    plan: Plan | None = field(default=None, compare=False, repr=False)

    def request(self) -> Request:
        """The engine's request this recipe stands for."""
        return Request(
            self.generator,
            self.mode,
            self.seed,
            self.count,
            self.frames,
            self.options,
            formats=(self.format,),
        )

    def changed(self) -> dict[str, Any]:
        """Options that differ from their defaults, in declaration order."""
        values = self.options.to_dict()
        return {
            spec.name: values[spec.name]
            for spec in self.options.specs()
            if values[spec.name] != spec.default
        }

    def shown(self) -> dict[str, Any]:
        """The options a reproduction names: the changed ones and, for an animation, its
        kind first (the call then reads as what it makes)."""
        changed = self.changed()
        values = self.options.to_dict()
        if self.mode == "animate" and "animation" in values:
            changed = {"animation": values["animation"], **changed}
        for key, name in self.uploads:
            if key in changed:
                changed[key] = name
        return changed

    def options_json(self) -> str:
        """The bridge's options argument: the shown options as one JSON object."""
        return json.dumps(self.shown(), ensure_ascii=True)

    def to_dict(self) -> dict[str, str]:
        return {
            "cli": cli_command(self),
            "csharp": csharp_call(self),
            "python": python_call(self),
            "options_json": self.options_json(),
        }


def option_text(spec: OptionSpec, value: Any) -> str:
    """The ``-o key=value`` text that parses back to ``value`` for this option."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    if isinstance(value, dict):
        if all(isinstance(k, str) and _PLAIN_KEY.match(k) for k in value):
            return ",".join(f"{k}:{_number_text(v)}" for k, v in value.items())
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _number_text(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def cli_command(recipe: Recipe) -> str:
    """``assetgen generate|animate GENERATOR --seed S ... --format F --out out/studio``."""
    words = ["assetgen", recipe.mode, recipe.generator, "--seed", str(recipe.seed)]
    if recipe.mode == "generate" and recipe.count != 1:
        words += ["--count", str(recipe.count)]
    if recipe.mode == "animate" and recipe.frames is not None:
        words += ["--frames", str(recipe.frames)]
    specs = {spec.name: spec for spec in recipe.options.specs()}
    shown = recipe.shown()
    if recipe.mode == "animate":
        for key in _ANIMATE_FLAGS:
            if key in shown:
                words += [f"--{key}", option_text(specs[key], shown.pop(key))]
    for key, value in shown.items():
        words += ["-o", f"{key}={option_text(specs[key], value)}"]
    words += ["--format", recipe.format, "--out", CLI_OUT]
    return shlex.join(words)


def csharp_string(text: str) -> str:
    """A C# regular string literal holding ``text`` (ASCII JSON: no raw line breaks)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def csharp_call(recipe: Recipe) -> str:
    """The ``AssetGenEngine`` call (``dotnet_bridge/``, docs/bridge.md) giving the same
    images, frames or lines. The bridge returns them; files are written by the caller."""
    gen = csharp_string(recipe.generator)
    opts = csharp_string(recipe.options_json())
    seed = recipe.seed
    if recipe.mode == "animate":
        frames = "" if recipe.frames is None else f"{recipe.frames}, "
        return f"byte[][] frames = engine.AnimatePng({gen}, {seed}, {frames}{opts});"
    if recipe.kind == "text":
        return f"string[] lines = engine.GenerateText({gen}, {seed}, {recipe.count}, {opts});"
    if recipe.count == 1:
        return f"byte[] png = engine.GeneratePng({gen}, {seed}, {opts});"
    last = seed + recipe.count - 1
    return (
        f"// item k of the request is seed {seed} + k (the seeding rule)\n"
        f"for (long seed = {seed}; seed <= {last}; seed++)\n"
        "{\n"
        f"    byte[] png = engine.GeneratePng({gen}, seed, {opts});\n"
        "}"
    )


def python_call(recipe: Recipe) -> str:
    """``engine.generate(...)`` or ``engine.animate(...)`` and ``engine.export(...)``."""
    args = [repr(recipe.generator), f"seed={recipe.seed}"]
    if recipe.mode == "generate":
        args.append(f"count={recipe.count}")
    elif recipe.frames is not None:
        args.append(f"frames={recipe.frames}")
    args += [f"{key}={value!r}" for key, value in recipe.shown().items()]
    call = f"engine.{recipe.mode}({', '.join(args)})"
    if recipe.mode == "animate":
        call = f"[{call}]"
    return (
        "from assetgen import Engine\n\nengine = Engine()\n"
        f"engine.export({call}, {recipe.format!r}, {CLI_OUT!r})"
    )
