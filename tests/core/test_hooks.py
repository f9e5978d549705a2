"""One test per hook (the meta-test checks each hook has one)."""

from __future__ import annotations

import types

import click

import assetgen
from assetgen import Engine, Exporter, OutputFile, TextAsset
from assetgen.cli import main


def test_hook_register_generators(engine: Engine) -> None:
    assert {g.id for g in engine.generators()} == {"blob", "echo", "crashing"}


def test_hook_register_exporters(plugins_env, tmp_path) -> None:
    class Txt(Exporter):
        id = "txt"
        accepts = ("text",)
        per_asset = False

        def render(self, assets, stem):
            return [OutputFile(f"{stem}.txt", "".join(a.text + "\n" for a in assets).encode())]

    plugin = types.SimpleNamespace(
        register_exporters=assetgen.hookimpl(lambda register: register(Txt))
    )
    engine = Engine(plugins=["testkit", plugin])
    lines = engine.generate("echo", seed=1, count=2)
    (path,) = engine.export(lines, "txt", tmp_path)
    assert path.read_text().splitlines() == [t.text for t in lines]
    assert all(isinstance(t, TextAsset) for t in lines)


def test_hook_register_commands(plugins_env, monkeypatch, capsys) -> None:
    def register_commands(cli: click.Group) -> None:
        @cli.command("hello")
        def hello() -> None:
            click.echo("hello from a plugin")

    plugin = types.ModuleType("hello_plugin")
    plugin.register_commands = assetgen.hookimpl(register_commands)  # type: ignore[attr-defined]
    from assetgen import plugin_manager

    original = plugin_manager.PluginManager.__init__

    def with_plugin(self, plugins=None):
        original(self, ["exporters", plugin])

    monkeypatch.setattr(plugin_manager.PluginManager, "__init__", with_plugin)
    assert main(["hello"]) == 0
    assert capsys.readouterr().out == "hello from a plugin\n"
