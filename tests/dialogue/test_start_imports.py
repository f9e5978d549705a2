"""Starting an engine with the dialogue plugin, and listing its options, imports neither the
Shakespeare corpus builder (``training/corpus.py``, which reads its speaker tables from
``training/corpus_speakers.json``) nor any training code (issue 25): the archetype list comes
from ``archetypes.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

START = r"""
import sys
from assetgen import Engine

engine = Engine(device="cpu", plugins=["dialogue"])
info = engine.generator_info("dialogue")
assert "noble" in info.options_schema["properties"]["archetype"]["enum"]
print("\n".join(sorted(m for m in sys.modules if m.startswith("assetgen_dialogue"))))
"""


def test_engine_start_does_not_import_the_corpus_builder(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True,
                         cwd=tmp_path, env=dict(os.environ), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    loaded = run.stdout.split()
    assert "assetgen_dialogue.plugin" in loaded
    assert "assetgen_dialogue.corpus" not in loaded, loaded
    assert not [m for m in loaded if ".training" in m or m.endswith(".tools")], loaded
