"""Broken plugins: a plugin that fails on import, on registration, or anywhere inside a
generator or exporter is named in the error, the other plugins keep working, and
``assetgen plugins`` shows the failure. tests/core/test_plugins.py covers the test kit's
broken_import / misspelled / broken_register / duplicate plugins one at a time; these add
sys.exit(), failures in every other hook a plugin implements, and everything at once.
"""

from __future__ import annotations

import json
import sys
import textwrap
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import assetgen
from assetgen import (
    Engine,
    Exporter,
    Generator,
    ImageAsset,
    InvalidOptionsError,
    OutputFile,
    PluginError,
)
from assetgen.batch import load_job, run_job
from assetgen.cli import main


def entry_point_plugins(site: Path, modules: dict[str, str]) -> Path:
    """Install plugins the way pip would, as far as discovery goes: a dist-info with
    ``assetgen`` entry points and a module per plugin, in ``site``."""
    dist = site / "reliability_plugins-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: reliability-plugins\nVersion: 1.0\n"
    )
    lines = ["[assetgen]"]
    for name, source in modules.items():
        (site / f"rel_{name}.py").write_text(textwrap.dedent(source))
        lines.append(f"{name} = rel_{name}")
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return site


BROKEN_MODULES = {
    "exits_on_import": """
        import sys
        sys.exit("argparse said no")
    """,
    "exits_on_register": """
        import sys
        import assetgen

        @assetgen.hookimpl
        def register_generators(register):
            sys.exit(3)
    """,
    "broken_command": """
        import assetgen

        @assetgen.hookimpl
        def register_commands(cli):
            raise RuntimeError("no commands today")
    """,
    "bad_exporter": """
        import assetgen

        class Broken(assetgen.Exporter):
            id = "broken"
            accepts = ("image",)

            def render(self, assets, stem):
                raise ValueError("cannot encode")

        @assetgen.hookimpl
        def register_exporters(register):
            register(Broken)
    """,
}


@pytest.fixture
def broken_site(plugins_env: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    site = entry_point_plugins(tmp_path / "site", BROKEN_MODULES)
    monkeypatch.syspath_prepend(str(site))
    names = "exporters,testkit,broken_import,broken_register,misspelled,duplicate," + ",".join(
        BROKEN_MODULES
    )
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", names)
    env = dict(plugins_env, ASSETGEN_LOAD_PLUGINS=names)
    env["PYTHONPATH"] = f"{site}:{env['PYTHONPATH']}"
    return env


EXPECTED_FAILURES = {
    ("broken_import", "import"),
    ("broken_register", "registration"),
    ("misspelled", "hook check"),
    # 'duplicate' (loaded first: entry points load by name) takes the id 'blob'; testkit's own
    # blob is refused by name, its other generators stay
    ("testkit", "registration"),
    ("exits_on_import", "import"),
    ("exits_on_register", "registration"),
}


def test_every_broken_plugin_is_named_and_the_rest_work(broken_site: dict, tmp_path, figures):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        engine = Engine(device="cpu")
    failures = {(f.plugin, f.stage) for f in engine.plugin_failures()}
    assert failures == EXPECTED_FAILURES
    messages = " | ".join(f.message() for f in engine.plugin_failures())
    assert "SystemExit: argparse said no" in messages and "SystemExit: 3" in messages
    assert {g.id for g in engine.generators()} == {"blob", "echo", "crashing"}
    assert "broken" in {e.id for e in engine.exporters()}
    assert engine.export(engine.generate("blob"), "png", tmp_path / "a")
    figures["broken plugins isolated"] += len(failures)


def test_an_id_clash_refuses_only_the_clashing_item(testkit_path: Path) -> None:
    """Regression: a plugin reusing another's generator id made the *other* plugin lose every
    generator when it loaded second (the whole registration was rolled back)."""
    with pytest.warns(RuntimeWarning, match="generator id 'blob' is already registered"):
        engine = Engine(device="cpu", plugins=["duplicate", "testkit"])
    sources = {g.id: g.plugin for g in engine.generators()}
    assert sources == {"blob": "duplicate", "echo": "testkit", "crashing": "testkit"}
    (failure,) = engine.plugin_failures()
    assert failure.plugin == "testkit" and "by plugin 'duplicate'" in failure.error
    assert engine.generate("echo")[0].text


def test_assetgen_plugins_shows_every_failure(broken_site: dict, tmp_path: Path, capsys) -> None:
    """In-process and as a real process: `assetgen plugins` lists what works and what failed,
    including a plugin whose register_commands hook raised, and exits 0."""
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for plugin, stage in EXPECTED_FAILURES | {("broken_command", "registration")}:
        assert f"plugin '{plugin}' failed at {stage}" in out, out
    assert "blob" in out and "echo" in out
    assert main(["plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {(e["plugin"], e["stage"]) for e in data["errors"]} >= EXPECTED_FAILURES
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "assetgen", "generate", "blob", "--out", str(tmp_path / "o")],
        env=broken_site,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr  # sys.exit() in a plugin does not end the CLI
    assert (tmp_path / "o" / "blob_0.png").is_file()
    assert "assetgen: warning: plugin 'exits_on_import' failed at import" in proc.stderr
    # every failure is one 'assetgen: warning:' line, register_commands included
    assert "assetgen: warning: plugin 'broken_command' failed at registration" in proc.stderr
    assert "RuntimeWarning" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_failing_exporter_is_named_and_other_formats_work(broken_site: dict, tmp_path, capsys):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        engine = Engine(device="cpu")
    assets = engine.generate("blob", count=2)
    with pytest.raises(
        PluginError,
        match=r"format 'broken' \(plugin 'bad_exporter'\) failed: ValueError: cannot encode",
    ):
        engine.export(assets, "broken", tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert len(engine.export(assets, "sheet", tmp_path / "x")) == 2
    assert main(["generate", "blob", "--format", "png,broken", "--out", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("assetgen: error: format 'broken' (plugin 'bad_exporter') failed")


# -- failures inside a generator's hooks ------------------------------------------------------


def generator_plugin(name: str, **overrides: Callable[..., Any]) -> types.ModuleType:
    """A plugin whose generator ``name`` runs ``overrides`` in place of its methods."""
    attrs: dict[str, Any] = {
        "id": name,
        "kind": "image",
        "generate": lambda self, seed, options: ImageAsset(np.zeros((2, 2, 4), np.uint8)),
        **overrides,
    }
    cls = type(f"Gen_{name}", (Generator,), attrs)
    module = types.ModuleType(f"plugin_{name}")
    module.register_generators = assetgen.hookimpl(  # type: ignore[attr-defined]
        lambda register: register(cls)
    )
    return module


def _raise(exc: BaseException) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


HOOK_FAILURES: list[tuple[str, dict[str, Callable[..., Any]], Callable[[Engine], Any], str]] = [
    (
        "generate",
        {"generate": _raise(RuntimeError("boom"))},
        lambda e: e.generate("g"),
        "RuntimeError: boom",
    ),
    (
        "generate exits",
        {"generate": _raise(SystemExit(2))},
        lambda e: e.generate("g"),
        "SystemExit: 2",
    ),
    (
        "generate_batch count",
        {"generate_batch": lambda self, seeds, o: []},
        lambda e: e.generate("g", count=2),
        "returned 0 assets for 2 seeds",
    ),
    (
        "generate_batch type",
        {"generate_batch": lambda self, seeds, o: iter([])},
        lambda e: e.generate("g"),
        "returned list_iterator assets for 1 seeds",
    ),
    (
        "wrong asset",
        {"generate": lambda self, seed, o: "a picture"},
        lambda e: e.generate("g"),
        "returned a str where its declared kind promises image",
    ),
    (
        "__init__",
        {"__init__": _raise(OSError("no GPU driver"))},
        lambda e: e.generate("g"),
        "OSError: no GPU driver",
    ),
    (
        "validate",
        {"validate": _raise(KeyError("palette"))},
        lambda e: e.generate("g"),
        "KeyError: 'palette'",
    ),
    (
        "model_info at generate",
        {"model_info": _raise(ValueError("bad card"))},
        lambda e: e.generate("g"),
        "ValueError: bad card",
    ),
]


@pytest.mark.parametrize(
    ("hook", "overrides", "call", "fragment"), HOOK_FAILURES, ids=[h[0] for h in HOOK_FAILURES]
)
def test_failure_in_a_generator_hook_names_the_plugin(
    testkit_path: Path, figures, hook: str, overrides, call, fragment: str
) -> None:
    engine = Engine(
        device="cpu", plugins=["exporters", "testkit", generator_plugin("g", **overrides)]
    )
    with pytest.raises(PluginError) as err:
        call(engine)
    message = str(err.value)
    assert message.startswith("generator 'g' (plugin 'plugin_g') failed: ") and fragment in message
    assert err.value.plugin == "plugin_g"
    # discovery and every other generator keep working
    assert {g.id for g in engine.generators()} == {"blob", "echo", "crashing", "g"}
    assert len(engine.generate("blob", count=2)) == 2
    figures["broken plugins isolated"] += 1


def test_failing_model_info_does_not_break_discovery(testkit_path: Path, capsys, monkeypatch):
    """Regression: model_info() raising anything but an AssetGenError escaped from
    engine.generators(), so one plugin's bug broke `assetgen plugins` and every batch job."""
    plugin = generator_plugin("g", model_info=_raise(KeyError("sha256")))
    engine = Engine(device="cpu", plugins=["testkit", plugin])
    info = {g.id: g for g in engine.generators()}
    assert "KeyError: 'sha256'" in info["g"].model["error"]
    assert info["blob"].model is None


def test_animation_hooks(testkit_path: Path) -> None:
    from assetgen import AnimationAsset, Options

    class Anim(Options):
        pass

    plugin = generator_plugin(
        "g",
        AnimationOptions=Anim,
        animate=lambda self, seed, frames, o: AnimationAsset(
            [ImageAsset(np.zeros((2, 2, 4), np.uint8))] * (frames + 1)
        ),
        frame_count=_raise(ZeroDivisionError("no audio")),
    )
    engine = Engine(device="cpu", plugins=["testkit", plugin])
    with pytest.raises(PluginError, match="ZeroDivisionError: no audio"):
        engine.animate("g")
    with pytest.raises(PluginError, match="animate did not return 3 frames"):
        engine.animate("g", frames=3)
    with pytest.raises(InvalidOptionsError, match="frames must be"):
        engine.animate("g", frames=0)  # the caller's mistake is still the caller's
    assert len(engine.animate("blob", frames=3).frames) == 3


def test_a_crashing_generator_in_a_batch_names_it_and_keeps_finished_runs(
    plugins_env: dict, tmp_path: Path, capsys
) -> None:
    job = tmp_path / "job.toml"
    job.write_text(
        "[[run]]\ngenerator = 'blob'\ncount = 5\n"
        "[[run]]\ngenerator = 'crashing'\ncount = 3\n"
        "[[run]]\ngenerator = 'echo'\n"
    )
    for _ in range(2):  # a rerun meets the same plugin error, and loses nothing
        assert main(["batch", str(job), "--quiet"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            "assetgen: error: generator 'crashing' (plugin 'testkit') failed: "
            "RuntimeError: the model exploded"
        ]
        assert sorted(p.name for p in (tmp_path / "out" / "blob").iterdir()) == [
            f"blob_{s}.png" for s in range(5)
        ]
        assert not (tmp_path / "out" / "manifest.json").exists()
    engine = Engine(device="cpu")
    job.write_text("[[run]]\ngenerator = 'blob'\ncount = 5\n[[run]]\ngenerator = 'echo'\n")
    result = run_job(engine, load_job(job, engine), progress=False)
    assert result.skipped == 5 and result.written == 1  # the blobs were kept


def test_exporter_returning_garbage_is_a_plugin_error(testkit_path: Path, tmp_path: Path) -> None:
    class Garbage(Exporter):
        id = "garbage"
        accepts = ("image",)

        def render(self, assets: Any, stem: str) -> list[OutputFile]:
            return ["not a file"]  # type: ignore[list-item]

    module = types.ModuleType("garbage_plugin")
    module.register_exporters = assetgen.hookimpl(  # type: ignore[attr-defined]
        lambda register: register(Garbage)
    )
    engine = Engine(device="cpu", plugins=["testkit", module])
    with pytest.raises(PluginError, match=r"format 'garbage' \(plugin 'garbage_plugin'\)"):
        engine.export(engine.generate("blob"), "garbage", tmp_path)
    assert list(tmp_path.iterdir()) == []
