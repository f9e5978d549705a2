"""The command line: same results as the API, bad input exits 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from assetgen import Engine
from assetgen.cli import main


def run(args: list[str], env: dict[str, str], cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assetgen", *args], env=env, cwd=cwd, capture_output=True, text=True
    )


def test_generate_follows_the_seeding_rule_like_the_api(engine: Engine, tmp_path, capsys) -> None:
    assert (
        main(
            [
                "generate",
                "blob",
                "--seed",
                "7",
                "--count",
                "4",
                "--out",
                str(tmp_path),
                "-o",
                "size=20",
            ]
        )
        == 0
    )
    written = capsys.readouterr().out.split()
    assert [p.rsplit("/", 1)[1] for p in written] == [f"blob_{s}.png" for s in (7, 8, 9, 10)]
    for seed in (7, 8, 9, 10):
        api = engine.generate("blob", seed=seed, size=20)[0].to_png()
        assert (tmp_path / f"blob_{seed}.png").read_bytes() == api


def test_animate_and_formats(plugins_env, tmp_path, capsys) -> None:
    args = ["animate", "blob", "--seed", "2", "--frames", "5", "--out", str(tmp_path)]
    assert main([*args, "--format", "gif,sheet", "-o", "speed=2", "--name", "pulse"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pulse.gif", "pulse.json", "pulse.png"]
    with Image.open(tmp_path / "pulse.gif") as im:
        assert im.n_frames == 5


def test_text_generation_writes_jsonl(plugins_env, tmp_path, capsys) -> None:
    assert main(["generate", "echo", "--count", "3", "--out", str(tmp_path)]) == 0
    assert len((tmp_path / "echo_0-2.jsonl").read_text().splitlines()) == 3


def test_plugins_json_lists_generators_exporters_and_errors(plugins_env, capsys) -> None:
    assert main(["plugins", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {g["id"] for g in data["generators"]} == {"blob", "echo", "crashing"}
    assert {e["id"] for e in data["exporters"]} >= {"png", "sheet", "gif", "jsonl", "csv"}
    assert data["errors"] == []


def test_plugins_shows_load_failures(plugins_env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters,testkit,broken_import")
    assert main(["plugins"]) == 0
    captured = capsys.readouterr()
    assert "plugin 'broken_import' failed at import" in captured.out
    assert "assetgen: warning: plugin 'broken_import'" in captured.err


def test_info_shows_options_ranges_and_defaults(plugins_env, capsys) -> None:
    assert main(["info", "blob"]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines()]
    assert ["NAME", "TYPE", "DEFAULT", "ALLOWED"] in lines
    assert ["size", "integer", "32", "8", "to", "128"] in lines
    assert ["color", "choice", "any", "any,", "red,", "green,", "blue"] in lines
    assert ["label", "text", "or", "none", "none", "at", "most", "40", "characters"] in lines
    assert "Sprite width and height in pixels." in out
    # animation options: only those the generator options lack are listed again
    anim = out[out.index("Animation options") :]
    assert "the options above, and:" in anim and "speed" in anim and "size" not in anim


def test_info_json_is_one_valid_object_with_everything_the_table_shows(
    plugins_env, capsys
) -> None:
    assert main(["info", "blob", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    props = info["options_schema"]["properties"]
    assert props["size"] == {
        "description": "Sprite width and height in pixels.",
        "type": "integer",
        "minimum": 8,
        "maximum": 128,
        "default": 32,
    }
    assert props["color"]["enum"] == ["any", "red", "green", "blue"]
    assert "speed" in info["animation_options_schema"]["properties"]
    assert info["id"] == "blob" and info["kind"] == "image" and info["can_animate"] is True


def test_info_table_rounds_and_flattens_model_metrics() -> None:
    from assetgen.engine import GeneratorInfo
    from assetgen.info_format import format_info, format_number, jsonable
    from assetgen.options import NoOptions

    model = {
        "card": "MODEL_CARD.md",
        "name": "m",
        "sha256": "ab" * 32,
        "license": "MIT",
        "types": ["boot", "clog"],
        "metrics": {
            "eval": {"fid": 4.50812345, "kid": 0.0872812, "n": 650, "ok": True},
            "runs": [{"loss": 1e-05}, {"loss": float("nan")}],
            "big": 123456.78,
        },
    }
    info = GeneratorInfo("g", "image", "A test.", "p", False, {}, None, model)
    out = format_info(info, NoOptions, None, width=80)
    assert "{" not in out  # no raw dicts
    assert "Options (-o key=value):\n  (none)\n" in out
    model_part = out[out.index("Model:") : out.index("Metrics")]
    assert [line.split(":")[0].strip() for line in model_part.splitlines()[1:] if line] == [
        "name",
        "sha256",
        "license",
        "card",
        "types",
    ]
    assert "types:   boot, clog" in model_part
    for line in (
        "eval.fid: 4.508",
        "eval.kid: 0.08728",
        "eval.n: 650",
        "eval.ok: true",
        "runs.0.loss: 1e-05",
        "runs.1.loss: nan",
        "big: 123457",
    ):
        assert line in [" ".join(row.split()) for row in out.splitlines()], line
    assert format_number(0.6924581260495853) == "0.6925" and format_number(2.0) == "2"
    # --json: NaN is not JSON; it becomes null, and the rest keeps full precision
    data = json.loads(json.dumps(jsonable(model), allow_nan=False))
    assert data["metrics"]["runs"][1]["loss"] is None
    assert data["metrics"]["eval"]["fid"] == 4.50812345


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["generate", "blob", "-o", "size=999"],
            "option 'size' must be an integer from 8 to 128; got 999",
        ),
        (["generate", "blob", "-o", "size"], "-o expects key=value"),
        (["generate", "blob", "-o", "colour=red"], "unknown option 'colour'"),
        (["generate", "blob", "--count", "0"], "count must be an integer from 1 to 10000; got 0"),
        (["generate", "blob", "--seed", "-5"], "seed must be an integer from 0 to"),
        (["generate", "blob", "--seed", "abc"], "'abc' is not a valid integer"),
        (["generate", "nope"], "unknown generator 'nope'"),
        (["generate", "blob", "--format", "gif"], "format 'gif' cannot write image assets"),
        (["generate", "blob", "--name", "../up"], "name must be"),
        (["animate", "echo"], "generator 'echo' cannot animate"),
        (["animate", "blob", "--frames", "100000"], "frames must be an integer from 1 to 240"),
        (["batch", "missing.toml"], "cannot read job file missing.toml"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["--threads", "-1", "plugins"], "'--threads': -1 is not in the range 0<=x<=1024"),
    ],
)
def test_bad_input_exits_2_with_one_line(plugins_env, tmp_path, args, fragment) -> None:
    proc = run(
        [*args, "--out", str(tmp_path)] if args[0] in ("generate", "animate") else args,
        plugins_env,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("assetgen: error: ") and fragment in lines[0]
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*.png"))


def test_plugin_failure_inside_generate_exits_1_with_one_line(plugins_env, tmp_path) -> None:
    proc = run(["generate", "crashing", "--out", str(tmp_path)], plugins_env)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "assetgen: error: generator 'crashing' (plugin 'testkit') failed: "
        "RuntimeError: the model exploded"
    )


def test_debug_flag_shows_the_traceback(plugins_env, tmp_path) -> None:
    proc = run(["--debug", "generate", "blob", "-o", "size=1", "--out", str(tmp_path)], plugins_env)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_an_output_folder_below_a_file_is_bad_input(plugins_env, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run(["generate", "blob", "--out", str(blocker / "sub")], plugins_env)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"assetgen: error: Invalid value for '--out': '{blocker / 'sub'}' cannot be a folder: "
        f"'{blocker}' is a file\n"
    )


def test_runtime_path_never_imports_torch(plugins_env, tmp_path) -> None:
    code = (
        "import sys, assetgen; from assetgen.cli import main;"
        f"main(['generate','blob','--out',{str(tmp_path)!r}]);"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=plugins_env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_threads_option_reaches_the_engine_and_keeps_the_pixels(
    engine: Engine, tmp_path, capsys, monkeypatch
) -> None:
    made: list[int] = []
    real_init = Engine.__init__

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(kwargs.get("intra_op_threads", 0))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "__init__", spy)
    for threads in ("0", "1"):
        out = tmp_path / threads
        assert (
            main(["--threads", threads, "generate", "blob", "--seed", "3", "--out", str(out)]) == 0
        )
    assert made == [0, 1]
    assert (tmp_path / "0" / "blob_3.png").read_bytes() == (
        tmp_path / "1" / "blob_3.png"
    ).read_bytes()
