"""AssetGen Studio: a local web page to explore, edit and export assets (docs/studio.md).

``assetgen studio`` serves it; everything goes through the same :class:`assetgen.Engine` as
the CLI and the .NET bridge. The web server needs the ``studio`` extra
(``pip install 'assetgen[studio]'``: Starlette and uvicorn); this package's own modules import
them, so import :mod:`assetgen.studio.server` or :mod:`assetgen.studio.app` only after
:func:`missing_extra` says nothing is missing.
"""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "pip install 'assetgen[studio]'"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def missing_extra() -> list[str]:
    """The packages of the ``studio`` extra that cannot be imported."""
    missing = []
    for name in ("starlette", "uvicorn"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing
