from __future__ import annotations

import pytest

from assetgen import Engine


@pytest.fixture
def engine(plugins_env: dict[str, str]) -> Engine:
    return Engine(device="cpu")
