"""What the benchmark-suite tests share: the quick run's settings, and the plugins' model
folders put back after a suite run that points them at tiny models."""

from __future__ import annotations

import pytest

# ``python -m benchmarks`` as the tests run it: one repetition, tiny batch windows
QUICK = ("--quick", "--reps", "1", "--batch-s", "0.01")


def keep_model_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Have monkeypatch restore each plugin's MODEL_DIR after the test (the suite sets them)."""
    import assetgen_dialogue.plugin
    import assetgen_portraits.plugin
    import assetgen_shoes.plugin

    for plugin in (assetgen_portraits.plugin, assetgen_shoes.plugin, assetgen_dialogue.plugin):
        monkeypatch.setattr(plugin, "MODEL_DIR", plugin.MODEL_DIR)  # restored afterwards
