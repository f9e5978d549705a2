"""One request, one plan: the CLI, batch jobs, the bridge and the Studio turn the same request
into the same bytes and the same default formats, and the engine checks it once."""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetgen import Engine, InvalidOptionsError, model_store, options
from assetgen import engine as engine_module
from assetgen.batch import load_job, run_job
from assetgen.bridge import Bridge, bridge_request
from assetgen.cli import main
from assetgen.request import DEFAULT_FORMATS, Request, default_formats
from assetgen.studio.service import Studio

ROOT = Path(__file__).resolve().parents[2]

#: (mode, seed, count, frames, options) asked of every front-end; no formats named
REQUESTS = {
    "animation": ("animate", 7, 1, 6, {"speed": 2.5, "size": 24, "color": "red"}),
    "images": ("generate", 3, 3, None, {"size": 20, "tint": {"r": 0.5}}),
    "lines": ("generate", 11, 4, None, {}),
}
GENERATOR = {"animation": "blob", "images": "blob", "lines": "echo"}


def _cli_files(case: str, out: Path) -> dict[str, bytes]:
    mode, seed, count, frames, opts = REQUESTS[case]
    args = [mode, GENERATOR[case], "--seed", str(seed), "--out", str(out)]
    args += ["--frames", str(frames)] if frames else ["--count", str(count)]
    for key, value in opts.items():
        text = ",".join(f"{k}:{v}" for k, v in value.items()) if isinstance(value, dict) else value
        args += ["-o", f"{key}={text}"]
    assert main(args) == 0
    return {p.name: p.read_bytes() for p in out.iterdir()}


def _batch_files(engine: Engine, case: str, stem: str, folder: Path) -> tuple[Any, dict]:
    mode, seed, count, frames, opts = REQUESTS[case]
    run = {"name": stem, "generator": GENERATOR[case], "seed": seed, "count": count,
           "animate": mode == "animate", "options": opts}
    if frames:
        run["frames"] = frames
    lines = [f"{key} = {json.dumps(value)}" for key, value in run.items() if key != "options"]
    table = ", ".join(f"{k} = {_toml(v)}" for k, v in opts.items())
    folder.mkdir()
    job_file = folder / "job.toml"
    job_file.write_text("[[run]]\n" + "\n".join(lines) + f"\noptions = {{ {table} }}\n")
    job = load_job(job_file, engine, out=folder / "out")
    run_job(engine, job, progress=False)
    written = folder / "out" / stem
    return job.runs[0], {p.name: p.read_bytes() for p in written.iterdir()}


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {v}" for k, v in value.items()) + " }"
    return json.dumps(value)


def _studio_files(engine: Engine, case: str) -> tuple[str, dict[str, bytes]]:
    mode, seed, count, frames, opts = REQUESTS[case]
    body = {"mode": mode, "generator": GENERATOR[case], "seed": str(seed), "options": opts}
    body.update({"frames": frames} if frames else {"count": count})
    studio = Studio(engine)
    recipe = studio.parse(body)
    download = studio.export(body)
    if len(download.files) == 1:
        return recipe.format, {download.name: download.data}
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        return recipe.format, {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("case", sorted(REQUESTS))
def test_one_request_gives_the_same_bytes_and_default_formats_everywhere(
    engine: Engine, tmp_path: Path, case: str
) -> None:
    mode, seed, count, frames, opts = REQUESTS[case]
    generator = GENERATOR[case]
    kind = "animation" if mode == "animate" else {"blob": "image", "echo": "text"}[generator]
    stem = f"{generator}_{seed}" if count == 1 else f"{generator}_{seed}-{seed + count - 1}"

    cli = _cli_files(case, tmp_path / "cli")
    run, batch = _batch_files(engine, case, stem, tmp_path / "batch")
    studio_format, studio = _studio_files(engine, case)
    bridge = Bridge(engine)
    bridge_plan = engine.plan(bridge_request(generator, seed, json.dumps(opts), mode=mode,
                                             count=count, frames=frames))

    expected = default_formats(kind)
    assert (run.formats, (studio_format,), bridge_plan.formats) == (expected,) * 3
    assert cli and cli == batch == studio  # the same files, byte for byte
    # the bridge hands back the images or lines themselves: the same ones the files hold
    api = engine.run(engine.plan(Request(generator, mode, seed, count, frames, opts)))
    if mode == "animate":
        pngs = bridge.animate_png(generator, seed, json.dumps(opts), frames)
        assert pngs == [frame.to_png() for frame in api[0].frames]
    elif kind == "image":
        pngs = [bridge.generate_png(generator, s, json.dumps(opts)) for s in range(seed, seed + 3)]
        assert pngs == [asset.to_png() for asset in api] == [cli[f"{generator}_{s}.png"]
                                                                for s in range(seed, seed + 3)]
    else:
        lines = bridge.generate_text(generator, seed, count, json.dumps(opts))
        written = [json.loads(line)["text"] for line in cli[f"{stem}.jsonl"].splitlines()]
        assert lines == written


def test_the_default_formats_are_one_table() -> None:
    assert dict(DEFAULT_FORMATS) == {
        "image": ("png",), "animation": ("sheet",), "text": ("jsonl",)
    }


def test_a_request_is_checked_once_and_its_options_parsed_once(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch, engine.plugin_manager.registry.generators["blob"])
    args = ["animate", "blob", "--seed", "7", "-o", "speed=2", "--format", "gif"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    assert calls == {"Options.parse": 1, "validate": 1, "model_sha256": 1, "Engine.exporter": 1}


def test_the_python_api_plans_once_without_choosing_formats(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch, engine.plugin_manager.registry.generators["blob"])
    engine.animate("blob", seed=7, frames=4, speed=2.0)
    engine.generate("blob", seed=7, count=3)
    assert calls == {"Options.parse": 2, "validate": 2, "model_sha256": 2}


def test_bad_requests_are_refused_naming_the_parameter(engine: Engine) -> None:
    cases = [
        (Request("blob", "draw"), "mode", "mode must be 'generate' or 'animate'"),
        (Request("blob", count=0), "count", "count must be an integer from 1 to"),
        (Request("blob", "animate", frames=0), "frames", "frames must be an integer from 1"),
        (Request("blob", seed=-1), "seed", "seed must be an integer from 0"),
        (Request("blob", formats=("gif",)), "format", "format 'gif' cannot write image"),
        (Request("blob", name="../x"), "name", "name must be 1-"),
        (Request("blob", options={"size": "9"}, options_text=False), "size", "option 'size'"),
    ]
    for request, parameter, message in cases:
        with pytest.raises(InvalidOptionsError, match=message) as err:
            engine.plan(request)
        assert err.value.parameter == parameter


@pytest.mark.skipif(
    not (ROOT / "plugins" / "assetgen_portraits" / "model" / "manifest.json").is_file(),
    reason="the portraits model has not shipped",
)
def test_the_issue_25_command_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``assetgen animate portraits --seed 7 --animation talk --format gif`` parsed its
    options twice, validated twice, resolved the model 4 times and looked up an exporter 3
    times; the model is now resolved by validate, model_sha256 and animate, once each."""
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters,portraits")
    from assetgen_portraits.plugin import PortraitsGenerator

    calls = _spy(monkeypatch, PortraitsGenerator)
    resolve = model_store.resolve
    monkeypatch.setattr(model_store, "resolve", _counted(calls, "model_store.resolve", resolve))
    args = ["animate", "portraits", "--seed", "7", "--animation", "talk", "--format", "gif"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["portraits_7.gif"]
    assert {k: calls[k] for k in ("Options.parse", "validate", "model_store.resolve",
                                  "Engine.exporter")} == {
        "Options.parse": 1, "validate": 1, "model_store.resolve": 3, "Engine.exporter": 1
    }


def _counted(calls: Counter[str], label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[label] += 1
        return fn(*args, **kwargs)

    return counted


def _spy(monkeypatch: pytest.MonkeyPatch, generator: type) -> Counter[str]:
    calls: Counter[str] = Counter()
    parse = options.Options.parse.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        options.Options, "parse", classmethod(_counted(calls, "Options.parse", parse))
    )
    for name in ("validate", "model_sha256"):
        monkeypatch.setattr(generator, name, _counted(calls, name, getattr(generator, name)))
    exporter = engine_module.Engine.exporter
    monkeypatch.setattr(engine_module.Engine, "exporter", _counted(calls, "Engine.exporter",
                                                                   exporter))
    return calls
