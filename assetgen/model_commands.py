"""``assetgen train | export | eval GENERATOR``: one set of commands for every model plugin.

Each command imports the generator's ``training`` module (and so torch) only when it runs;
:mod:`assetgen.training_tools` says what that module must provide.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .cli_state import cli_state
from .cli_types import FilePath, out_folder_option
from .errors import InvalidOptionsError, UnknownGeneratorError, show_value
from .training_tools import (
    TrainingTools,
    extra_evaluations,
    load_training_tools,
    training_module,
)


def _registered(generator: str) -> tuple[Any, Any]:
    """The plugin registry and ``generator``'s class (without starting an engine)."""
    registry = cli_state().manager.registry
    cls = registry.generators.get(generator)
    if cls is None:
        raise UnknownGeneratorError(
            f"unknown generator {show_value(generator)}; "
            f"available: {', '.join(sorted(registry.generators))}"
        )
    return registry, cls


def _trainable(registry: Any) -> list[str]:
    return sorted(g for g, c in registry.generators.items() if training_module(c))


def _tools(generator: str) -> TrainingTools:
    registry, cls = _registered(generator)
    if not training_module(cls):
        raise InvalidOptionsError(
            f"generator '{generator}' has no training tools; trainable generators: "
            + (", ".join(_trainable(registry)) or "none"),
            parameter="generator",
        )
    return load_training_tools(cls, generator)


def _config_from(
    defaults: dict[str, Any], config_file: str | None, overrides: tuple[str, ...]
) -> dict[str, Any]:
    from .training.config import load_config

    return load_config(defaults, config_file, overrides)


_config_options = [
    click.option(
        "--config",
        "config_file",
        type=FilePath(dir_okay=False),
        default=None,
        help="TOML file of settings (see DEFAULT_CONFIG in the plugin's tools).",
    ),
    click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override one setting; repeatable.",
    ),
]


def _with_config(fn: Any) -> Any:
    for decorator in reversed(_config_options):
        fn = decorator(fn)
    return fn


@click.command("train")
@click.argument("generator")
@click.option(
    "--data", type=FilePath(), default=None, help="Data set folder (see the plugin docs)."
)
@out_folder_option("Run folder.", required=True)
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@_with_config
def train_command(
    generator: str,
    data: str | None,
    out_dir: str,
    resume: bool,
    config_file: str | None,
    overrides: tuple[str, ...],
) -> None:
    """Train GENERATOR's model; progress, sample sheets and checkpoints go to --out.

    Runs under torchrun too (data-parallel over the processes it starts): docs/distributed.md.
    """
    tools = _tools(generator)
    defaults = dict(tools.DEFAULT_CONFIG)
    recorded = Path(out_dir) / "config.json"
    if resume and recorded.is_file():
        # a resumed run keeps its recorded settings; --config/--set change only what they name
        saved = json.loads(recorded.read_text(encoding="utf-8"))
        defaults.update({k: v for k, v in saved.items() if k in defaults})
    config = _config_from(defaults, config_file, overrides)
    from .training.distributed import teardown, world_size_from_env

    if world_size_from_env() > 1 and not getattr(tools, "SUPPORTS_DISTRIBUTED", False):
        raise InvalidOptionsError(
            f"training '{generator}' does not support several processes (WORLD_SIZE="
            f"{world_size_from_env()}); run it without torchrun",
            parameter="generator",
        )
    try:
        tools.train(Path(out_dir), Path(data) if data else None, config, resume)
    except BaseException:
        teardown()
        raise
    teardown(sync=True)


@click.command("export")
@click.argument("generator")
@click.argument("run_dir", type=FilePath(file_okay=False, exists=True))
@out_folder_option("Model folder.", required=True)
def export_command(generator: str, run_dir: str, out_dir: str) -> None:
    """Export a trained run to ONNX with a manifest (sha256 of each file) and a parity check."""
    path = _tools(generator).export(Path(run_dir), Path(out_dir))
    click.echo(str(path))


def _evaluation(name: str) -> tuple[Any, dict[str, Any]]:
    """The evaluate function and default config for ``assetgen eval NAME``: a generator's own
    (``tools.evaluate``), or an extra evaluation a generator's tools name in their
    ``EVALUATIONS`` (``{name: (function, config)}``, e.g. portraits' ``lipsync``)."""
    registry = cli_state().manager.registry
    if name in registry.generators:
        tools = _tools(name)
        return tools.evaluate, getattr(tools, "EVAL_CONFIG", {})
    extra: list[str] = []
    for generator, cls in sorted(registry.generators.items()):
        if not training_module(cls):
            continue
        try:
            evaluations = extra_evaluations(load_training_tools(cls, generator))
        except InvalidOptionsError:  # training extra missing, or a broken module
            continue
        if name in evaluations:
            function, config = evaluations[name]
            return function, config
        extra += list(evaluations)
    raise UnknownGeneratorError(
        f"unknown evaluation {show_value(name)}; available: "
        + ", ".join(sorted(_trainable(registry) + extra))
    )


@click.command("eval")
@click.argument("generator")
@click.option(
    "--model",
    "model_dir",
    type=FilePath(file_okay=False),
    default=None,
    help="Model folder (default: the shipped model).",
)
@click.option(
    "--out",
    "out_file",
    type=FilePath(dir_okay=False),
    default=None,
    help="Write the report as JSON here.",
)
@_with_config
def eval_command(
    generator: str,
    model_dir: str | None,
    out_file: str | None,
    config_file: str | None,
    overrides: tuple[str, ...],
) -> None:
    """Evaluate GENERATOR's model (or an extra evaluation such as lipsync) and print the
    figures."""
    evaluate, defaults = _evaluation(generator)
    config = _config_from(defaults, config_file, overrides)
    report = evaluate(
        Path(model_dir) if model_dir else None, Path(out_file) if out_file else None, config
    )
    click.echo(json.dumps(report, indent=2))


def _takes_model(cls: Any) -> bool:
    """Whether a generator class has a ``model`` option to select installed models with."""
    return any(spec.name == "model" for spec in cls.Options.specs())


def _model_generator(generator: str) -> str:
    """``generator`` when it is registered and has a ``model`` option to select models with."""
    registry, cls = _registered(generator)
    if not _takes_model(cls):
        selectable = sorted(g for g, c in registry.generators.items() if _takes_model(c))
        raise InvalidOptionsError(
            f"generator '{generator}' has no 'model' option, so installed models cannot be "
            f"selected for it; generators that take one: {', '.join(selectable) or 'none'}",
            parameter="generator",
        )
    return generator


@click.command("install-model")
@click.argument("generator")
@click.argument("model_dir", type=FilePath(file_okay=False, exists=True))
@click.option("--name", required=True, help="Name to select it by: -o model=NAME.")
@click.option("--force", is_flag=True, help="Replace an installed model of the same name.")
def install_model_command(generator: str, model_dir: str, name: str, force: bool) -> None:
    """Install an exported model folder so GENERATOR can use it with -o model=NAME.

    The folder is verified against its manifest, then copied into the models path
    ($ASSETGEN_MODELS, default ~/.local/share/assetgen/models) atomically.
    """
    from . import model_store
    generator = _model_generator(generator)
    engine = cli_state().engine

    def check(folder: Path) -> None:
        engine._call_plugin(generator, engine._instance(generator).check_model, folder)

    target = model_store.install(generator, Path(model_dir), name, force=force, check=check)
    click.echo(f"installed {generator} model '{name}' at {target}; use it with -o model={name}")


@click.command("models")
@click.argument("generator", required=False)
def models_command(generator: str | None) -> None:
    """List the installed models (of GENERATOR, or of every generator)."""
    from . import model_store
    registry = cli_state().manager.registry
    names = (
        [_model_generator(generator)]
        if generator
        else [g for g, cls in sorted(registry.generators.items()) if _takes_model(cls)]
    )
    click.echo(f"models path: {model_store.models_path()}")
    for gen in names:
        found = model_store.installed(gen)
        click.echo(f"{gen}: " + ", ".join([model_store.DEFAULT_MODEL, *found]))


@click.command("remove-model")
@click.argument("generator")
@click.argument("name")
def remove_model_command(generator: str, name: str) -> None:
    """Delete an installed model from the models path."""
    from . import model_store

    target = model_store.remove(_model_generator(generator), name, parameter="NAME")
    click.echo(f"removed {target}")


def add_model_commands(cli: click.Group) -> None:
    for command in (
        train_command,
        export_command,
        eval_command,
        install_model_command,
        models_command,
        remove_model_command,
    ):
        cli.add_command(command)
