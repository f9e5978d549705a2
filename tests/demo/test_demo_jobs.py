"""The demo job files `make demo` runs stay valid: every run's generator, options and formats
pass the engine's checks (skipped for a generator whose model has not shipped yet)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from assetgen import Engine
from assetgen.batch import load_job

DEMO = Path(__file__).resolve().parents[2] / "demo"
PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


@pytest.mark.parametrize("job", sorted(p.name for p in DEMO.glob("*.toml")))
def test_demo_job_is_valid(job: str, tmp_path: Path) -> None:
    runs = tomllib.loads((DEMO / job).read_text(encoding="utf-8"))["run"]
    missing = sorted(
        {r["generator"] for r in runs}
        - {p.parent.parent.name.removeprefix("assetgen_")
           for p in PLUGINS.glob("assetgen_*/model/manifest.json")}
    )
    if missing:
        pytest.skip(f"no shipped model yet for: {', '.join(missing)}")
    parsed = load_job(DEMO / job, Engine(device="cpu"), out=tmp_path)
    assert len(parsed.runs) == len(runs)
