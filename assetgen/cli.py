"""The ``assetgen`` command line: a thin layer over :class:`assetgen.Engine`.

Bad input exits with status 2 and one line on stderr; other failures exit 1 with one line;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import click

from . import __version__
from .cli_state import CliState, cli_state
from .cli_types import FilePath, out_folder_option
from .engine import Engine
from .errors import AssetGenError, InvalidOptionsError, show_value
from .exporting import check_out_dir, write_atomic
from .info_format import format_info, jsonable
from .limits import MAX_COUNT, MAX_FRAMES
from .model_commands import add_model_commands
from .plugin_manager import PluginManager
from .request import Plan, Request
from .scaffold import new_plugin_command
from .studio.command import studio_command


def parse_option_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``-o key=value`` pairs into a dict of strings (the generator's Options parse them)."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidOptionsError(
                f"-o expects key=value (e.g. -o truncation=0.7); got {show_value(pair)}",
                parameter="-o",
            )
        if key in result:
            raise InvalidOptionsError(f"option {show_value(key)} is given twice", parameter=key)
        result[key] = value
    return result


def _format_names(
    engine: Engine, values: Sequence[str], generator: str, animate: bool
) -> tuple[str, ...]:
    """The ``--format`` values, each of which may list several, comma-separated (none given:
    the request's default formats); the engine checks them before anything is generated."""
    names = []
    for value in values:
        for part in value.split(","):
            if not part.strip():
                kind = "animation" if animate else engine.generator_info(generator).kind
                allowed = [e.id for e in engine.exporters() if kind in e.accepts]
                raise InvalidOptionsError(
                    f"--format: {show_value(value)} holds an empty format name; formats for "
                    f"{kind} assets: " + (", ".join(allowed) or "none (no exporter plugin loaded)"),
                    parameter="--format",
                    value=value,
                )
            names.append(part.strip())
    return tuple(names)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assetgen")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="Where models run: CUDA if available (auto), or forced.",
)
@click.option(
    "--threads",
    type=click.IntRange(0, 1024),
    default=0,
    show_default=True,
    help="ONNX Runtime threads per model call (0: one per core). On a machine other jobs "
    "share, 1 is often faster: a call's threads wait for each other, and one busy core "
    "delays them all.",
)
def cli(debug: bool, device: str, threads: int) -> None:
    """AssetGen: generate game assets (sprites, animations, dialogue) from trained models."""
    cli_state().device = device
    cli_state().threads = threads


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_command(as_json: bool) -> None:
    """List generators, exporters, the plugin each came from, and plugin load errors."""
    engine = cli_state().engine
    gens = [
        {
            "id": g.id,
            "kind": g.kind,
            "plugin": g.plugin,
            "can_animate": g.can_animate,
            "description": g.description,
        }
        for g in engine.generators()
    ]
    exps = [e.to_dict() for e in engine.exporters()]
    failures = [f.__dict__ for f in engine.plugin_failures()]
    if as_json:
        click.echo(
            json.dumps({"generators": gens, "exporters": exps, "errors": failures}, indent=2)
        )
        return
    click.echo("Generators:")
    for g in gens:
        anim = ", animates" if g["can_animate"] else ""
        click.echo(f"  {g['id']:<14} {g['kind']}{anim}  [{g['plugin']}]  {g['description']}")
    if not gens:
        click.echo("  (none)")
    click.echo("Exporters:")
    for e in exps:
        click.echo(
            f"  {e['id']:<14} {', '.join(e['accepts'])}  [{e['plugin']}]  {e['description']}"
        )
    if failures:
        click.echo("Plugin errors:")
        for f in engine.plugin_failures():
            click.echo(f"  {f.message()}")


@cli.command("info")
@click.argument("generator")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object: options as JSON Schema, the model card, metrics unrounded.",
)
def info_command(generator: str, as_json: bool) -> None:
    """Show a generator's options (type, default, allowed values) and its model card."""
    engine = cli_state().engine
    info = engine.generator_info(generator)
    if as_json:
        click.echo(json.dumps(jsonable(info.to_dict()), indent=2, allow_nan=False))
        return
    cls = engine.plugin_manager.registry.generators[generator]
    width = min(max(shutil.get_terminal_size((100, 24)).columns, 60), 120)
    click.echo(format_info(info, cls.Options, cls.AnimationOptions, width))


_out_option = out_folder_option(
    "Folder to write into (created if missing).", default="out", show_default=True
)
_opt_option = click.option(
    "-o",
    "--option",
    "option_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A generator option; repeat for several. See 'assetgen info GENERATOR'.",
)
_name_option = click.option(
    "--name", default=None, help="Base name of the output files (default: GENERATOR_SEED)."
)
_padding_option = click.option(
    "--padding",
    default=None,
    metavar="PIXELS",
    help="sheet format: extruded border around every frame, 0-64 pixels (default 2).",
)
_pivot_option = click.option(
    "--pivot",
    default=None,
    metavar="NAME|X,Y",
    help="sheet format: the frames' pivot, center (default), bottom-center... or X,Y "
    "fractions from 0 to 1, y from the top.",
)


def _sheet_value(key: str, text: str) -> Any:
    """A --padding / --pivot value as the sheet exporter takes it: an integer, a pivot name,
    or an (x, y) pair from "X,Y"; anything else is passed on as written for the exporter's
    own check to refuse by name."""
    if key == "padding" and re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
        return int(text)
    if key == "pivot" and "," in text:
        parts = text.split(",")
        try:
            pair = tuple(float(part) for part in parts)
        except ValueError:
            return text
        return pair if len(pair) == 2 else text
    return text


def _with_sheet_options(plan: Plan, padding: str | None, pivot: str | None) -> Plan:
    """The plan with its ``sheet`` exporter made with --padding / --pivot (checked here,
    before anything is generated). The engine makes every exporter with its defaults; the
    command line remakes the sheet one with the values given, as the Python API would
    (``SheetExporter(padding=..., pivot=...)``)."""
    given = {k: v for k, v in (("padding", padding), ("pivot", pivot)) if v is not None}
    if not given:
        return plan
    flags = " and ".join(f"--{k}" for k in given)
    if "sheet" not in plan.exporters:
        raise InvalidOptionsError(
            f"{flags} {'apply' if len(given) > 1 else 'applies'} to the sheet format only; "
            f"this request writes {', '.join(plan.formats)} (add --format sheet)",
            parameter=f"--{next(iter(given))}",
        )
    cls = type(plan.exporters["sheet"])
    try:
        exporter = cls(**{k: _sheet_value(k, v) for k, v in given.items()})
    except InvalidOptionsError as exc:
        key = exc.parameter if exc.parameter in given else next(iter(given))
        message = str(exc)
        if message.startswith(f"{key} "):
            message = f"--{message}"
        else:
            message = f"--{key}: {message}"
        raise InvalidOptionsError(message, parameter=f"--{key}", value=given[key]) from None
    except TypeError:
        raise InvalidOptionsError(
            f"{flags}: the sheet format of this install ({cls.__module__}.{cls.__qualname__}) "
            "takes no such option",
            parameter=f"--{next(iter(given))}",
        ) from None
    return replace(plan, exporters={**plan.exporters, "sheet": exporter})


@cli.command("generate")
@click.argument("generator")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the first item.")
@click.option(
    "--count",
    type=int,
    default=1,
    show_default=True,
    help=f"Items (1-{MAX_COUNT}); item k uses seed+k.",
)
@_out_option
@click.option(
    "--format", "formats", multiple=True, help="Output format(s): png, sheet, jsonl, csv..."
)
@_opt_option
@_name_option
@_padding_option
@_pivot_option
def generate_command(
    generator: str,
    seed: int,
    count: int,
    out_dir: str,
    formats: tuple[str, ...],
    option_pairs: tuple[str, ...],
    name: str | None,
    padding: str | None,
    pivot: str | None,
) -> None:
    """Generate COUNT assets with GENERATOR and write them to --out."""
    engine = cli_state().engine
    request = Request(
        generator,
        "generate",
        seed,
        count,
        options=parse_option_pairs(option_pairs),
        formats=_format_names(engine, formats, generator, animate=False),
        name=name,
        options_text=True,
    )
    _make_and_export(engine, request, out_dir, padding, pivot)


@cli.command("animate")
@click.argument("generator")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--frames",
    type=int,
    default=None,
    help=f"Frames (1-{MAX_FRAMES}); default: as long as the --text/--audio/--cues driver, "
    "else 8.",
)
@click.option("--animation", default=None, help="Animation kind (same as -o animation=...).")
@click.option("--text", "text", default=None, help="Line to speak (same as -o text=...).")
@click.option(
    "--audio", default=None, help="WAV, OGG or FLAC file to lip-sync (same as -o audio=...)."
)
@click.option(
    "--cues", default=None, help="Rhubarb cue file (JSON or TSV) to play (same as -o cues=...)."
)
@_out_option
@click.option(
    "--format", "formats", multiple=True, help="sheet (the default), png or gif (repeatable)."
)
@_opt_option
@_name_option
@_padding_option
@_pivot_option
def animate_command(
    generator: str,
    seed: int,
    frames: int | None,
    animation: str | None,
    text: str | None,
    audio: str | None,
    cues: str | None,
    out_dir: str,
    formats: tuple[str, ...],
    option_pairs: tuple[str, ...],
    name: str | None,
    padding: str | None,
    pivot: str | None,
) -> None:
    """Make one animation with GENERATOR and write it to --out."""
    engine = cli_state().engine
    pairs = parse_option_pairs(option_pairs)
    flags = (("animation", animation), ("text", text), ("audio", audio), ("cues", cues))
    for key, value in flags:
        if value is not None:
            if key in pairs:
                raise InvalidOptionsError(
                    f"option '{key}' is given twice (--{key} and -o {key}=...)", parameter=key
                )
            pairs[key] = value
    request = Request(
        generator,
        "animate",
        seed,
        frames=frames,
        options=pairs,
        formats=_format_names(engine, formats, generator, animate=True),
        name=name,
        options_text=True,
    )
    _make_and_export(engine, request, out_dir, padding, pivot)


def _make_and_export(
    engine: Engine,
    request: Request,
    out_dir: str,
    padding: str | None = None,
    pivot: str | None = None,
) -> None:
    """Plan the request (everything checked before any work), make it, write its files."""
    plan = _with_sheet_options(engine.plan(request), padding, pivot)
    assets = engine.run(plan)
    name = plan.request.name
    # Render every format before writing any file: two formats must not write one file name
    # (png and sheet of a single image are both <stem>.png), the second would replace the first.
    rendered = [
        (fmt, f) for fmt in plan.formats for f in engine.render(assets, fmt, name, plan=plan)
    ]
    first: dict[str, str] = {}
    for fmt, f in rendered:
        if f.name in first:
            raise InvalidOptionsError(
                f"formats {first[f.name]} and {fmt} would both write {f.name}; "
                "ask for one of them at a time, or use more than one item",
                parameter="format",
                value=fmt,
            )
        first[f.name] = fmt
    out = check_out_dir(out_dir, "--out")
    for _, f in rendered:
        write_atomic(out / f.name, f.data)
        click.echo(str(out / f.name))
    click.echo(f"wrote {len(rendered)} file(s) to {out_dir}", err=True)


@cli.command("batch")
@click.argument("job", type=FilePath(dir_okay=False))
@out_folder_option(
    "Output folder (default: the job's 'out', relative to the job file).", default=None
)
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where items are made: this process, or Ray workers (docs/distributed.md).",
)
@click.option(
    "--address",
    default=None,
    help="Ray cluster to use with --engine ray, e.g. auto, HEAD:6379 or ray://HEAD:10001 "
    "(default: $RAY_ADDRESS, else a new local Ray instance).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Ray workers (one Engine each) with --engine ray (default: one per CPU of the cluster).",
)
@click.option(
    "--shard-size",
    type=click.IntRange(1, MAX_COUNT),
    default=None,
    help="Items per Ray task with --engine ray (default 64).",
)
def batch_command(
    job: str,
    out_dir: str | None,
    quiet: bool,
    engine_name: str,
    address: str | None,
    workers: int | None,
    shard_size: int | None,
) -> None:
    """Run a TOML job file: many runs, resumable, with a manifest.json of every output."""
    from .batch import load_job, run_job

    if engine_name != "ray":
        for flag, value in (("--address", address), ("--workers", workers)):
            if value is not None:
                raise InvalidOptionsError(f"{flag} needs --engine ray", parameter=flag)
        if shard_size is not None:
            raise InvalidOptionsError("--shard-size needs --engine ray", parameter="--shard-size")
        engine = cli_state().engine
        spec = load_job(job, engine, out=out_dir)
        result = run_job(engine, spec, progress=not quiet)
    else:
        from .ray_batch import DEFAULT_SHARD, RayChunks, import_ray

        import_ray()  # not installed: say so before anything else
        engine = cli_state().engine
        spec = load_job(job, engine, out=out_dir)
        with RayChunks(
            address=address,
            workers=workers,
            shard_size=shard_size or DEFAULT_SHARD,
            device=cli_state().device,
            threads=cli_state().threads,
            progress=not quiet,
            engine=engine,
        ) as chunks:
            result = run_job(engine, spec, progress=not quiet, chunks=chunks)
    click.echo(
        f"{result.written} file(s) written, {result.skipped} item(s) already complete; "
        f"manifest: {result.manifest}",
        err=True,
    )


add_model_commands(cli)
cli.add_command(new_plugin_command)
cli.add_command(studio_command)


def build_cli(manager: PluginManager) -> click.Group:
    """The command group with the plugins' commands added (a copy: the base stays clean)."""
    group = copy.copy(cli)
    group.commands = dict(cli.commands)
    manager.register_commands(group)
    return group


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point. Returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    for arg in args:  # only main(argv) can pass one: a real command line cannot hold NUL
        if "\x00" in arg:
            click.echo(
                f"assetgen: error: argument {show_value(arg)} contains a NUL character", err=True
            )
            return 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manager = PluginManager()
        group = build_cli(manager)  # a plugin's register_commands may fail too
    for w in caught:
        click.echo(f"assetgen: warning: {w.message}", err=True)
    try:
        result = group.main(
            args=args, prog_name="assetgen", standalone_mode=False, obj=CliState(manager)
        )
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        click.echo("assetgen: interrupted; run the same command again to resume", err=True)
        return 130
    except click.ClickException as exc:
        if debug:
            raise
        click.echo(f"assetgen: error: {_one_line(exc.format_message())}", err=True)
        return exc.exit_code
    except AssetGenError as exc:
        if debug:
            raise
        click.echo(f"assetgen: error: {_one_line(str(exc))}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"assetgen: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(rerun with --debug for the traceback)",
            err=True,
        )
        return 1


#: Longest error line the CLI prints; click's own messages quote a bad value whole.
MAX_ERROR_LINE = 1000


def _one_line(text: str) -> str:
    """The message on one line; a very long word (a 5000-digit --seed quoted by click) is
    cut in its middle so that what follows it (why it is wrong) still shows."""
    words = [w if len(w) <= 200 else f"{w[:100]}...{w[-20:]}" for w in text.split()]
    line = " ".join(words)
    return line if len(line) <= MAX_ERROR_LINE else line[: MAX_ERROR_LINE - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
