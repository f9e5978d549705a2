"""Forwards ``python -m assetgen_dialogue.corpus``, quoted by the hashed shakespeare model card,
to ``assetgen_dialogue.training.corpus``."""

import runpy

if __name__ == "__main__":
    runpy.run_module("assetgen_dialogue.training.corpus", run_name="__main__", alter_sys=True)
