"""The module the ``assetgen`` entry point names: the generator, and a command to browse
the styles (their licences and their own options)."""

from __future__ import annotations

import json
from collections.abc import Callable

import click
from assetgen import Generator, InvalidOptionsError, hookimpl

from .generator import DiceBearGenerator
from .style_options import describe_field
from .styles import licence_table_markdown, style_licence, style_names, style_option_fields


@hookimpl
def register_generators(register: Callable[[type[Generator]], None]) -> None:
    register(DiceBearGenerator)


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command("dicebear-styles")
    @click.argument("style", required=False)
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.option("--markdown", is_flag=True, help="The styles and licences as a Markdown table.")
    def dicebear_styles(style: str | None, as_json: bool, markdown: bool) -> None:
        """List the DiceBear styles and their licences, or STYLE's own options."""
        if style is None:
            _list_styles(as_json, markdown)
        else:
            _show_style(style, as_json)


def _list_styles(as_json: bool, markdown: bool) -> None:
    if markdown:
        click.echo(licence_table_markdown(), nl=False)
        return
    licences = [style_licence(name) for name in style_names()]
    if as_json:
        click.echo(json.dumps([lic.to_dict() for lic in licences], indent=2, ensure_ascii=False))
        return
    for lic in licences:
        click.echo(f"{lic.style:<20} {lic.name:<40} {lic.creator}")
    click.echo(
        "\nCC BY 4.0 styles must be credited wherever their avatars are used: each avatar's "
        "metadata['licence']['attribution'] holds the line to show. "
        "'assetgen dicebear-styles STYLE' shows one style's options."
    )


def _show_style(style: str, as_json: bool) -> None:
    if style not in style_names():
        raise InvalidOptionsError(
            f"unknown DiceBear style {style!r}; 'assetgen dicebear-styles' lists them",
            parameter="style",
            value=style,
        )
    lic = style_licence(style)
    fields = style_option_fields(style)
    if as_json:
        click.echo(json.dumps({"licence": lic.to_dict(), "options": fields}, indent=2))
        return
    click.echo(f"{style}: {lic.name} ({lic.url}), artwork by {lic.creator}")
    click.echo(f"Attribution: {lic.attribution}")
    click.echo("\nStyle options (-o 'style_options=name=value&name=value'):")
    for name, field in fields.items():
        click.echo(f"  {name}: {describe_field(field)}")
