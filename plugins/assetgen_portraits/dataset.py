"""Forwards ``python -m assetgen_portraits.dataset``, quoted by the hashed model card, to
``assetgen_portraits.training.dataset_builder``."""

import runpy

if __name__ == "__main__":
    runpy.run_module(
        "assetgen_portraits.training.dataset_builder", run_name="__main__", alter_sys=True
    )
