"""ONNX Runtime session factory and model manifests.

One :class:`Runtime` per engine owns provider choice and thread settings. Model-backed
generators load their folder with :meth:`Runtime.load_model`, which checks every file against
the sha256 in the folder's ``manifest.json`` before anything runs; sessions are created lazily,
once, and shared across threads (``InferenceSession.run`` is thread-safe).

ONNX Runtime is imported only here and only when a model is loaded, so procedural generators
work without the ``cpu``/``gpu`` extra, and nothing on this path imports torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidOptionsError, ModelError, show_value
from .limits import check_int

DEVICES = ("auto", "cpu", "cuda")
MANIFEST_NAME = "manifest.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError(
            "ONNX Runtime is not installed; install 'assetgen[cpu]' (or 'assetgen[gpu]')"
        ) from exc
    return onnxruntime


@dataclass
class ModelBundle:
    """A verified model folder: its manifest and lazily created ONNX sessions."""

    directory: Path
    manifest: dict[str, Any]
    sha256: str
    runtime: Runtime
    _sessions: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def path(self, name: str) -> Path:
        if name not in self.manifest["files"]:
            raise ModelError(f"{self.directory / MANIFEST_NAME} lists no file named {name!r}")
        return self.directory / name

    def session(self, name: str) -> Any:
        """The ONNX Runtime session for ``name`` (created on first use, then shared)."""
        with self._lock:
            sess = self._sessions.get(name)
            if sess is None:
                path = self.path(name)  # refuses a name the manifest does not list
                expected = self.manifest["files"][name]["sha256"]
                sess = self.runtime.create_session(path, expected_sha256=expected)
                self._sessions[name] = sess
            return sess


class Runtime:
    """Provider choice (``auto|cpu|cuda``), thread settings, and verified model loading.

    ``intra_op_threads`` and ``inter_op_threads`` (0 to 1024) go to ONNX Runtime's session
    options; 0 lets ONNX Runtime choose (one thread per core).
    """

    def __init__(
        self, device: str = "auto", *, intra_op_threads: int = 0, inter_op_threads: int = 0
    ) -> None:
        if device not in DEVICES:
            raise InvalidOptionsError(
                f"device must be one of {', '.join(DEVICES)}; got {show_value(device)}",
                parameter="device",
                value=device,
            )
        check_int("intra_op_threads", intra_op_threads, 0, 1024)
        check_int("inter_op_threads", inter_op_threads, 0, 1024)
        self.device = device
        self.intra_op_threads = intra_op_threads
        self.inter_op_threads = inter_op_threads
        self._bundles: dict[Path, ModelBundle] = {}
        self._resolved: dict[str, Path] = {}  # a model path as given -> resolved
        self._lock = threading.Lock()

    def providers(self) -> list[str]:
        """Explicit device wins; ``auto`` takes CUDA when ONNX Runtime offers it, else CPU."""
        available = _import_ort().get_available_providers()
        if self.device == "cpu":
            return ["CPUExecutionProvider"]
        has_cuda = "CUDAExecutionProvider" in available
        if self.device == "cuda" and not has_cuda:
            raise ModelError(
                "device 'cuda' was asked for but ONNX Runtime has no CUDAExecutionProvider; "
                "install 'assetgen[gpu]' on a machine with a CUDA GPU, or use device='cpu'"
            )
        return (
            ["CUDAExecutionProvider", "CPUExecutionProvider"]
            if has_cuda
            else ["CPUExecutionProvider"]
        )

    def session_options(self) -> Any:
        ort = _import_ort()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.intra_op_threads
        opts.inter_op_num_threads = self.inter_op_threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # no busy-waiting between ops: a spinning thread holds a core that the other threads
        # and processes on a shared machine need (benchmarks/README.md, "Tuning")
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return opts

    def create_session(self, path: Path, expected_sha256: str | None = None) -> Any:
        """A session for the ONNX file at ``path``. With ``expected_sha256`` the bytes are read
        once, checked and handed to ONNX Runtime, so a file replaced after the folder was
        verified (sessions are created lazily) is refused, not run."""
        ort = _import_ort()
        model: str | bytes = str(path)
        if expected_sha256 is not None:
            try:
                model = Path(path).read_bytes()
            except OSError as exc:
                raise ModelError(
                    f"model file {path} cannot be read ({exc.strerror or exc}); "
                    f"expected sha256 {expected_sha256}"
                ) from None
            actual = hashlib.sha256(model).hexdigest()
            if actual != expected_sha256:
                raise ModelError(
                    f"model file {path} changed after it was verified: sha256 is {actual}, "
                    f"expected {expected_sha256}; the file is corrupted or was replaced"
                )
        try:
            return ort.InferenceSession(
                model, sess_options=self.session_options(), providers=self.providers()
            )
        except ModelError:
            raise
        except Exception as exc:  # ORT raises several private types for a bad graph
            raise ModelError(f"{path}: ONNX Runtime could not load the model: {exc}") from exc

    def load_model(self, directory: str | Path) -> ModelBundle:
        """Read ``manifest.json`` in ``directory`` and verify every file it lists (cached)."""
        given = os.path.join(os.getcwd(), directory)  # unchanged when already absolute
        resolved = self._resolved.get(given)
        if resolved is None:  # resolving costs a stat per path part: once per path, not per call
            resolved = self._resolved[given] = Path(directory).resolve()
        directory = resolved
        with self._lock:
            bundle = self._bundles.get(directory)
            if bundle is None:
                bundle = verify_model_dir(directory, self)
                self._bundles[directory] = bundle
            return bundle


def read_manifest(directory: Path) -> dict[str, Any]:
    manifest_path = directory / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"model manifest not found: {manifest_path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelError(f"model manifest {manifest_path} is unreadable: {exc}") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not files:
        raise ModelError(f"model manifest {manifest_path} has no 'files' table")
    for name, entry in files.items():
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("sha256"), str)
            or "/" in name
            or "\\" in name
            or name.startswith(".")
        ):
            raise ModelError(
                f"model manifest {manifest_path}: bad entry for file {show_value(name)}"
            )
    return manifest


def verify_model_dir(directory: Path, runtime: Runtime) -> ModelBundle:
    """Check each listed file exists and matches its sha256; name the file when it does not."""
    manifest = check_model_files(directory)
    digest = sha256_file(directory / MANIFEST_NAME)
    return ModelBundle(directory=directory, manifest=manifest, sha256=digest, runtime=runtime)


def check_model_files(directory: Path) -> dict[str, Any]:
    """The folder's manifest, once every file it lists exists and matches its sha256."""
    manifest = read_manifest(directory)
    for name, entry in manifest["files"].items():
        path = directory / name
        expected = entry["sha256"]
        if not path.is_file():
            raise ModelError(f"model file missing: {path} (expected sha256 {expected})")
        try:
            actual = sha256_file(path)
        except OSError as exc:
            raise ModelError(
                f"model file {path} cannot be read ({exc.strerror or exc}); "
                f"expected sha256 {expected}"
            ) from None
        if actual != expected:
            raise ModelError(
                f"model file {path} does not match its manifest: sha256 is {actual}, "
                f"expected {expected}; the file is corrupted or was replaced"
            )
    return manifest


def write_manifest(directory: Path, manifest: dict[str, Any], files: list[str]) -> dict[str, Any]:
    """Fill in the ``files`` table (sha256 and size of each) and write ``manifest.json``.

    Used by export commands; kept here so the writer and the checker agree on the format.
    """
    from .exporting import write_atomic

    manifest = dict(manifest)
    manifest["files"] = {
        name: {"sha256": sha256_file(directory / name), "bytes": (directory / name).stat().st_size}
        for name in sorted(files)
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    write_atomic(directory / MANIFEST_NAME, text.encode("utf-8"))
    return manifest
