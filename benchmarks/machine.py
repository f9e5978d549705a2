"""The machine: what it is, how busy it is, and its measured peak float32 FLOP/s."""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from .common import median


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict[str, Any]:
    """CPU, core count, library versions: written into the JSON next to the figures."""
    info: dict[str, Any] = {
        "cpu": cpu_name(),
        "cpus": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for module in ("numpy", "onnxruntime", "onnx", "torch", "PIL"):
        try:
            info[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001  (absent or broken: just not recorded)
            info[module] = None
    return info


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _time_matmul(matmul: Any, a: Any, b: Any, reps: int, sync: Any = None) -> list[float]:
    matmul(a, b)  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        matmul(a, b)
        if sync is not None:
            sync()
        times.append(time.perf_counter() - start)
    return times


def peak_flops(quick: bool, device: str = "cpu") -> dict[str, Any]:
    """Float32 FLOP/s of a large square matrix multiply, in numpy and in torch (if present).

    The peak is the faster library's median: what this machine's BLAS reaches on the most
    favourable work there is, with every core it lets this process use.
    """
    import numpy as np

    n = 1024 if quick else 2048
    reps = 3 if quick else 7
    flop = 2.0 * n**3
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    result: dict[str, Any] = {"n": n, "reps": reps, "by_library": {}}
    times = _time_matmul(np.matmul, a, b, reps)
    result["by_library"]["numpy"] = flop / median(times)
    try:
        import torch
    except ImportError:
        torch = None  # type: ignore[assignment]
    if torch is not None:
        dev = "cuda" if device == "cuda" and torch.cuda.is_available() else "cpu"
        ta, tb = torch.from_numpy(a).to(dev), torch.from_numpy(b).to(dev)
        sync = torch.cuda.synchronize if dev == "cuda" else None
        with torch.inference_mode():
            times = _time_matmul(torch.matmul, ta, tb, reps, sync)
        result["by_library"][f"torch ({dev})"] = flop / median(times)
    best = max(result["by_library"], key=result["by_library"].get)
    result["library"] = best
    result["flops_per_s"] = result["by_library"][best]
    return result
