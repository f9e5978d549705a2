"""Reliability suite (docs/reliability.md): shared fixtures and the figures the run reports.

Tests add what they tried to the session's ``figures`` counter (fuzz inputs, kills survived,
requests served concurrently); the totals are printed at the end of the run
("reliability figures: ...") and, when ``ASSETGEN_RELIABILITY_FIGURES`` names a file, written
there as JSON.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from assetgen import Engine

FIGURES_KEY = pytest.StashKey[Counter]()
FIGURES_ENV = "ASSETGEN_RELIABILITY_FIGURES"

# Fuzzing must not write a .hypothesis/ folder into the checkout, nor fail on a busy machine
# (the suite may share its cores with training jobs), so: no example database, no deadline.
# Tests use it as @settings(settings.get_profile("reliability"), max_examples=...); it is not
# loaded globally, so other suites keep their own hypothesis settings.
settings.register_profile(
    "reliability",
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Counter:
    """What this run tried; reported at the end of the session."""
    return request.config.stash.setdefault(FIGURES_KEY, Counter())


@pytest.fixture(scope="module")
def testkit_engine(testkit_path: Path) -> Engine:
    """An engine with the built-in exporters and the test plugin only (shared by a module)."""
    return Engine(device="cpu", plugins=["exporters", "testkit"])


@pytest.fixture
def engine(plugins_env: dict[str, str]) -> Engine:
    return Engine(device="cpu")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = terminalreporter.config.stash.get(FIGURES_KEY, None)
    if not counts:
        return
    terminalreporter.write_line("reliability figures:")
    for name in sorted(counts):
        terminalreporter.write_line(f"  {name}: {counts[name]}")
    target = os.environ.get(FIGURES_ENV)
    if target:
        Path(target).write_text(json.dumps(dict(sorted(counts.items())), indent=1) + "\n")
