"""Broken models: a truncated, corrupted or swapped ONNX file, a missing file, a manifest that
does not match — refused on load with a message naming the file and the expected sha256, while
the engine's other generators keep working. Checkpoints are loaded without executing code.
tests/core/test_runtime.py checks the Runtime on its own; here it is the engine and the CLI.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import textwrap
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import assetgen
from assetgen import Engine, Generator, ImageAsset, ModelError
from assetgen.cli import main
from assetgen.runtime import write_manifest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def onnx_bytes(factor: float) -> bytes:
    """A one-node model, y = factor * x, as bytes."""
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "k"], ["y"])],
        "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        initializer=[helper.make_tensor("k", TensorProto.FLOAT, [], [factor])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def model_dir(folder: Path, factor: float) -> Path:
    """A model folder as an export command writes it: main.onnx, aux.onnx, a CSV, a manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.onnx").write_bytes(onnx_bytes(factor))
    (folder / "aux.onnx").write_bytes(onnx_bytes(factor + 100))
    (folder / "palette.csv").write_text("name,value\nred,1\n")
    write_manifest(folder, {"name": folder.name}, ["main.onnx", "aux.onnx", "palette.csv"])
    return folder


def expected_sha(folder: Path, name: str) -> str:
    return json.loads((folder / "manifest.json").read_text())["files"][name]["sha256"]


def model_generator(gid: str, folder: Path) -> type[Generator]:
    class ModelBacked(Generator):
        id = gid
        kind = "image"

        def generate(self, seed: int, options: Any) -> ImageAsset:
            bundle = self.runtime.load_model(folder)
            x = np.full((1, 4), seed % 50, np.float32)
            (y,) = bundle.session("main.onnx").run(None, {"x": x})
            (z,) = bundle.session("aux.onnx").run(None, {"x": x})
            pixel = np.concatenate([y, z], axis=1)[0, :4].astype(np.uint8)
            return ImageAsset(np.broadcast_to(pixel, (2, 2, 4)).copy())

        def model_info(self) -> dict[str, Any]:
            bundle = self.runtime.load_model(folder)
            return {"name": bundle.manifest["name"], "sha256": bundle.sha256}

    return ModelBacked


def plugin_of(*classes: type[Generator]) -> types.ModuleType:
    module = types.ModuleType("models_plugin")
    module.register_generators = assetgen.hookimpl(  # type: ignore[attr-defined]
        lambda register: [register(c) for c in classes]
    )
    return module


def flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


BREAKAGES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "truncated": (
        lambda f, other: (f / "main.onnx").write_bytes((f / "main.onnx").read_bytes()[:20]),
        "main.onnx",
    ),
    "corrupted": (lambda f, other: flip_middle_byte(f / "main.onnx"), "main.onnx"),
    "swapped with another model": (
        lambda f, other: shutil.copyfile(other / "main.onnx", f / "main.onnx"),
        "main.onnx",
    ),
    "two files swapped": (
        lambda f, other: [
            (f / "main.onnx").rename(f / "tmp"),
            (f / "aux.onnx").rename(f / "main.onnx"),
            (f / "tmp").rename(f / "aux.onnx"),
        ],
        "aux.onnx",  # files are checked in name order: aux.onnx first
    ),
    "missing file": (lambda f, other: (f / "main.onnx").unlink(), "main.onnx"),
    "data file edited": (
        lambda f, other: (f / "palette.csv").write_text("name,value\nred,2\n"),
        "palette.csv",
    ),
    "manifest expects other bytes": (
        lambda f, other: (f / "manifest.json").write_text(
            (f / "manifest.json")
            .read_text()
            .replace(expected_sha(f, "main.onnx"), hashlib.sha256(b"other").hexdigest())
        ),
        "main.onnx",
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_broken_model_is_refused_naming_file_and_sha_and_the_rest_keeps_working(
    testkit_path: Path, tmp_path: Path, figures: Counter, breakage: str
) -> None:
    good = model_dir(tmp_path / "good", 2.0)
    broken = model_dir(tmp_path / "broken", 3.0)
    break_it, bad_file = BREAKAGES[breakage]
    expected = expected_sha(broken, bad_file)
    break_it(broken, good)
    engine = Engine(
        device="cpu",
        plugins=[
            "exporters",
            "testkit",
            plugin_of(model_generator("good", good), model_generator("broken", broken)),
        ],
    )
    for _ in range(2):  # a refusal is not cached as a success
        with pytest.raises(ModelError) as err:
            engine.generate("broken", seed=1)
        message = str(err.value)
        assert str(broken / bad_file) in message, message
        if "manifest expects" not in breakage:
            assert f"expected sha256 {expected}" in message or f"expected {expected}" in message
    info = {g.id: g for g in engine.generators()}  # discovery survives the broken model
    assert (
        "error" in info["broken"].model and str(broken / bad_file) in info["broken"].model["error"]
    )
    assert info["good"].model["name"] == "good"
    (asset,) = engine.generate("good", seed=5)
    assert asset.rgba[0, 0].tolist() == [10, 10, 10, 10]
    assert len(engine.generate("blob", count=2)) == 2 and engine.generate("echo")[0].text
    figures["broken models refused"] += 1


@pytest.mark.parametrize(
    ("manifest", "fragment"),
    [
        (None, "model manifest not found"),
        (b"\xff\xfe not json", "is unreadable"),
        (b'{"files": []}', "has no 'files' table"),
        (b'{"files": {"main.onnx": {"sha256": 5}}}', "bad entry for file 'main.onnx'"),
        (b'{"files": {"/etc/passwd": {"sha256": "00"}}}', "bad entry for file '/etc/passwd'"),
        (b"[" * 100_000, "is unreadable"),
    ],
)
def test_broken_manifest_is_refused_naming_it(
    testkit_path: Path, tmp_path: Path, manifest: bytes | None, fragment: str
) -> None:
    folder = model_dir(tmp_path / "m", 2.0)
    if manifest is None:
        (folder / "manifest.json").unlink()
    else:
        (folder / "manifest.json").write_bytes(manifest)
    engine = Engine(device="cpu", plugins=["testkit", plugin_of(model_generator("m", folder))])
    with pytest.raises(ModelError, match=fragment) as err:
        engine.generate("m")
    assert str(folder / "manifest.json") in str(err.value)
    assert engine.generate("blob")


def test_model_file_replaced_after_verification_is_refused(testkit_path: Path, tmp_path) -> None:
    """Regression: sessions are made lazily, after the folder was verified; a file swapped in
    between was run unchecked. The bytes ONNX Runtime gets are now hashed first."""
    folder = model_dir(tmp_path / "m", 2.0)
    other = model_dir(tmp_path / "other", 7.0)
    engine = Engine(device="cpu", plugins=[plugin_of(model_generator("m", folder))])
    bundle = engine.runtime.load_model(folder)  # verified, no session yet
    shutil.copyfile(other / "main.onnx", folder / "main.onnx")
    with pytest.raises(ModelError, match="changed after it was verified") as err:
        bundle.session("main.onnx")
    assert str(folder / "main.onnx") in str(err.value)
    assert f"expected {expected_sha(folder, 'main.onnx')}" in str(err.value)


def test_cli_reports_a_broken_model_in_one_line_and_serves_the_rest(
    plugins_env: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A model plugin found through an entry point, as installed from PyPI."""
    good = model_dir(tmp_path / "good", 2.0)
    broken = model_dir(tmp_path / "broken", 3.0)
    flip_middle_byte(broken / "main.onnx")
    site = tmp_path / "site"
    (site / "models_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "models_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: models-plugin\nVersion: 1.0\n"
    )
    (site / "models_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[assetgen]\nmodels = reliability_models_plugin\n"
    )
    (site / "reliability_models_plugin.py").write_text(
        textwrap.dedent(
            f"""
            import sys
            from pathlib import Path
            sys.path.insert(0, {str(Path(__file__).parent)!r})
            import assetgen
            from test_broken_models import model_generator

            @assetgen.hookimpl
            def register_generators(register):
                register(model_generator("good", Path({str(good)!r})))
                register(model_generator("broken", Path({str(broken)!r})))
            """
        )
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters,testkit,models")
    out = tmp_path / "out"
    assert main(["generate", "broken", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(broken / "main.onnx") in err[0], err
    assert f"expected {expected_sha(broken, 'main.onnx')}" in err[0]
    assert not out.exists() or not list(out.iterdir())
    assert main(["generate", "good", "--out", str(out)]) == 0
    assert main(["generate", "blob", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["blob_0.png", "good_0.png"]
    capsys.readouterr()
    assert main(["plugins"]) == 0
    listing = capsys.readouterr().out
    assert "broken" in listing and "good" in listing and "blob" in listing
    assert main(["info", "broken"]) == 0
    assert "does not match its manifest" in capsys.readouterr().out


# -- checkpoints: data, never code ------------------------------------------------------------


class _Payload:
    """Pickles as a call to exec(): what a booby-trapped checkpoint would hold."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('code ran')",))


def test_checkpoint_with_a_code_payload_is_refused_by_training_run_load(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from assetgen.training.run import CHECKPOINT, TrainingRun

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    marker = tmp_path / "pwned"
    torch.save(
        {"step": 1, "weights": torch.zeros(2), "evil": _Payload(marker)}, run_dir / CHECKPOINT
    )
    torch.load(run_dir / CHECKPOINT, weights_only=False)  # the payload is live: it runs here
    assert marker.read_text() == "code ran"
    marker.unlink()

    run = TrainingRun(run_dir, {"x": 1}, resume=True)
    with pytest.raises(ModelError, match="weights_only=True") as err:
        run.load()
    assert str(run_dir / CHECKPOINT) in str(err.value)
    assert not marker.exists()

    run.save({"step": 2, "weights": torch.ones(3), "config": {"lr": 0.1, "names": ["a"]}})
    state = run.load()
    assert state["step"] == 2 and state["weights"].tolist() == [1.0, 1.0, 1.0]


def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = ast.unparse(func)
            found.append((name, node))
    return found


def test_no_code_loads_a_pickle_without_weights_only() -> None:
    """Every torch.load in the engine, the plugins and the exporters passes weights_only=True;
    nothing calls pickle.load(s) or np.load(allow_pickle=True)."""
    offenders = []
    files = [
        p for folder in ("assetgen", "plugins", "exporters") for p in (ROOT / folder).rglob("*.py")
    ]
    assert len(files) > 20
    torch_loads = 0
    for path in files:
        for name, call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            keywords = {k.arg: k.value for k in call.keywords}
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            if name.endswith("torch.load"):
                torch_loads += 1
                value = keywords.get("weights_only")
                if not (isinstance(value, ast.Constant) and value.value is True):
                    offenders.append(f"{where} torch.load without weights_only=True")
            if name in ("pickle.load", "pickle.loads", "pickle.Unpickler", "joblib.load"):
                offenders.append(f"{where} {name}")
            if name.endswith("np.load") or name.endswith("numpy.load"):
                value = keywords.get("allow_pickle")
                if value is not None and not (
                    isinstance(value, ast.Constant) and value.value is False
                ):
                    offenders.append(f"{where} np.load with allow_pickle")
    assert torch_loads >= 1
    assert offenders == []


def test_shipped_model_folders_hold_only_plain_data_files() -> None:
    """ONNX graphs and text formats (JSON, CSV, Markdown, plain word lists): nothing that
    executes code when read, such as a pickle."""
    folders = sorted(p.parent for p in (ROOT / "plugins").glob("*/model/manifest.json"))
    if not folders:
        pytest.skip("no shipped model folder (plugins/*/model/) in this checkout yet")
    for folder in folders:
        listed = set(json.loads((folder / "manifest.json").read_text())["files"])
        present = {p.name for p in folder.iterdir() if p.is_file()} - {"manifest.json"}
        assert present == listed, folder
        assert {Path(n).suffix for n in listed} <= {".onnx", ".json", ".csv", ".md", ".txt"}, folder
