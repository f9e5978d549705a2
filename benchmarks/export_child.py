"""``assetgen batch`` in a fresh process, timed by parts (run by the batch-export benchmark).

    python -m benchmarks.export_child --job JOB --out DIR --model MODEL_DIR [--device cpu]
        [--no-fsync] [--intra-op N] [--no-spin] [--png-level N]

Points the portraits plugin at MODEL_DIR, runs the CLI's ``batch`` command exactly as
``assetgen batch JOB --out DIR --quiet`` does, and prints one JSON line: the command's time,
and how much of it went to generating, PNG encoding, file writes and the journal (measured by
wrapping those functions). The batch command writes on a writer thread while the main thread
generates the next chunk: time spent on that thread is reported apart, as ``writer thread:
...`` (it overlaps the main thread's), and the main thread's time blocked on the writer as
``waiting for the writer``. What is left of the main thread's time is orchestration: the loops,
resume checks, the manifest. The wrappers cost a few microseconds per chunk or file.

Experiments (the suite's ``--tune``) change one thing in this process only: ``--no-fsync``
makes ``os.fsync`` a no-op (the most that fewer fsyncs could save), ``--intra-op N`` and
``--no-spin`` change the ONNX Runtime session options the engine's runtime makes,
``--png-level N`` encodes PNGs at zlib compress level N instead of the product's.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

PARTS: dict[str, float] = {}
#: prefix of the parts timed on another thread than the main one (the batch writer's)
WRITER = "writer thread: "


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            main = threading.current_thread() is threading.main_thread()
            key = name if main else WRITER + name
            PARTS[key] = PARTS.get(key, 0.0) + time.perf_counter() - start

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-fsync", action="store_true")
    parser.add_argument("--intra-op", type=int)
    parser.add_argument("--no-spin", action="store_true")
    parser.add_argument("--png-level", type=int)
    args = parser.parse_args()

    import assetgen_portraits.plugin as portraits

    from assetgen import batch, cli
    from assetgen.engine import Engine
    from assetgen.runtime import Runtime

    if args.no_fsync:
        import os

        os.fsync = lambda fd: None
    if args.intra_op is not None or args.no_spin:
        product_options = Runtime.session_options

        def tuned_options(self: Runtime) -> Any:
            opts = product_options(self)
            if args.intra_op is not None:
                opts.intra_op_num_threads = args.intra_op
            if args.no_spin:
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return opts

        Runtime.session_options = tuned_options  # type: ignore[method-assign]

    if args.png_level is not None:
        import io

        import assetgen_exporters.images as images
        from PIL import Image

        def encode_png(rgba: Any) -> bytes:
            buf = io.BytesIO()
            Image.fromarray(rgba, mode="RGBA").save(
                buf, format="PNG", optimize=False, compress_level=args.png_level
            )
            return buf.getvalue()

        images.encode_png = encode_png  # what the png and sheet formats call

    portraits.MODEL_DIR = args.model
    for owner, attr, name in (
        (batch, "load_job", "load job (validate, verify model)"),
        (Engine, "run", "generate (engine + generator + model)"),
        (Engine, "render", "PNG encoding (engine.render)"),
        (batch, "_write", "file writes (write_atomic + sha256)"),
        (batch.Journal, "record", "journal (append + fsync)"),
        (getattr(batch, "_Writer", None), "submit", "waiting for the writer"),
        (getattr(batch, "_Writer", None), "finish", "waiting for the writer"),
    ):
        if hasattr(owner, attr):  # batch.py may change under us: time what is there
            setattr(owner, attr, timed(name, getattr(owner, attr)))
    imported = time.perf_counter()
    status = cli.main(["--device", args.device, "batch", args.job, "--out", args.out, "--quiet"])
    done = time.perf_counter()
    if status:
        raise SystemExit(status)
    command = done - imported
    parts = dict(PARTS)
    main_thread = sum(v for k, v in PARTS.items() if not k.startswith(WRITER))
    parts["orchestration (the rest)"] = command - main_thread
    print(json.dumps({"command_s": command, "import_s": imported - STARTED, "parts_s": parts}))


if __name__ == "__main__":
    main()
