"""ONNX Runtime factory: manifests, sha256 checks, lazy shared sessions, provider choice."""

from __future__ import annotations

import json
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import assetgen
from assetgen import Engine, Generator, ImageAsset, ModelError
from assetgen.runtime import Runtime, write_manifest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


def tiny_model_dir(folder: Path) -> Path:
    """A one-node ONNX model (y = 2x + 1) with a manifest, as an export command would write."""
    folder.mkdir(parents=True, exist_ok=True)
    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["x", "two"], ["t"]),
            helper.make_node("Add", ["t", "one"], ["y"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        initializer=[
            helper.make_tensor("two", TensorProto.FLOAT, [], [2.0]),
            helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, folder / "tiny.onnx")
    (folder / "extra.csv").write_text("name,value\na,1\n")
    write_manifest(folder, {"name": "tiny", "opset": 13}, ["tiny.onnx", "extra.csv"])
    return folder


def test_load_verify_and_run(tmp_path) -> None:
    bundle = Runtime("cpu").load_model(tiny_model_dir(tmp_path / "m"))
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert set(manifest["files"]) == {"tiny.onnx", "extra.csv"}
    assert len(bundle.sha256) == 64
    (y,) = bundle.session("tiny.onnx").run(None, {"x": np.ones((3, 4), np.float32)})
    assert np.allclose(y, 3.0)
    assert bundle.session("tiny.onnx") is bundle.session("tiny.onnx")  # created once


def test_sessions_are_shared_safely_across_threads(tmp_path) -> None:
    bundle = Runtime("cpu").load_model(tiny_model_dir(tmp_path / "m"))
    with ThreadPoolExecutor(8) as pool:
        sessions = list(pool.map(lambda _: bundle.session("tiny.onnx"), range(32)))
        outs = list(
            pool.map(
                lambda i: sessions[i].run(None, {"x": np.full((1, 4), i, np.float32)})[0], range(32)
            )
        )
    assert len({id(s) for s in sessions}) == 1
    assert all(np.allclose(o, 2 * i + 1) for i, o in enumerate(outs))


def test_corrupted_file_is_refused_naming_file_and_expected_sha(tmp_path) -> None:
    folder = tiny_model_dir(tmp_path / "m")
    expected = json.loads((folder / "manifest.json").read_text())["files"]["tiny.onnx"]["sha256"]
    data = bytearray((folder / "tiny.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "tiny.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError) as err:
        Runtime("cpu").load_model(folder)
    assert str(folder / "tiny.onnx") in str(err.value) and f"expected {expected}" in str(err.value)


def test_truncated_and_missing_files(tmp_path) -> None:
    folder = tiny_model_dir(tmp_path / "m")
    (folder / "tiny.onnx").write_bytes((folder / "tiny.onnx").read_bytes()[:20])
    with pytest.raises(ModelError, match="does not match its manifest"):
        Runtime("cpu").load_model(folder)
    (folder / "tiny.onnx").unlink()
    with pytest.raises(
        ModelError, match=r"model file missing: .*tiny.onnx \(expected sha256 [0-9a-f]{64}\)"
    ):
        Runtime("cpu").load_model(folder)


@pytest.mark.parametrize(
    ("manifest", "fragment"),
    [
        (None, "model manifest not found"),
        ("{not json", "is unreadable"),
        ('{"files": {}}', "has no 'files' table"),
        ('{"files": {"../tiny.onnx": {"sha256": "00"}}}', "bad entry for file '../tiny.onnx'"),
    ],
)
def test_bad_manifests(tmp_path, manifest, fragment) -> None:
    folder = tiny_model_dir(tmp_path / "m")
    if manifest is None:
        (folder / "manifest.json").unlink()
    else:
        (folder / "manifest.json").write_text(manifest)
    with pytest.raises(ModelError, match=fragment):
        Runtime("cpu").load_model(folder)


def test_invalid_onnx_with_matching_manifest_is_a_model_error(tmp_path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "tiny.onnx").write_bytes(b"this is not a protobuf")
    write_manifest(folder, {"name": "bad"}, ["tiny.onnx"])
    bundle = Runtime("cpu").load_model(folder)
    with pytest.raises(ModelError, match="ONNX Runtime could not load the model"):
        bundle.session("tiny.onnx")


def test_provider_choice() -> None:
    assert Runtime("cpu").providers() == ["CPUExecutionProvider"]
    assert Runtime("auto").providers()[-1] == "CPUExecutionProvider"
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        with pytest.raises(ModelError, match="device 'cuda' was asked for"):
            Runtime("cuda").providers()


def test_bad_thread_settings() -> None:
    with pytest.raises(assetgen.InvalidOptionsError, match="intra_op_threads must be an integer"):
        Runtime("cpu", intra_op_threads=-1)


def test_model_backed_generator_reports_its_model(tmp_path, plugins_env) -> None:
    folder = tiny_model_dir(tmp_path / "m")

    class Doubler(Generator):
        id = "doubler"
        kind = "image"

        def _bundle(self):
            return self.runtime.load_model(folder)

        def generate(self, seed: int, options: object) -> ImageAsset:
            (y,) = (
                self._bundle()
                .session("tiny.onnx")
                .run(None, {"x": np.full((1, 4), seed, np.float32)})
            )
            return ImageAsset(np.broadcast_to(y.astype(np.uint8)[0], (2, 2, 4)).copy())

        def model_info(self) -> dict:
            bundle = self._bundle()
            return {"name": bundle.manifest["name"], "sha256": bundle.sha256}

    plugin = types.SimpleNamespace(
        register_generators=assetgen.hookimpl(lambda register: register(Doubler))
    )
    engine = Engine(device="cpu", plugins=[plugin])
    (asset,) = engine.generate("doubler", seed=5)
    assert asset.rgba[0, 0, 0] == 11
    assert asset.metadata["model_sha256"] == engine.runtime.load_model(folder).sha256
    assert engine.generators()[0].model["name"] == "tiny"
