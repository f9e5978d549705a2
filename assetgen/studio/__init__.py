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
#: Largest request body the server reads: a request with an uploaded WAV of MAX_UPLOAD bytes
#: (base64 makes it a third larger) and its options. A larger one is refused as it streams in.
MAX_BODY = 8 * 1024 * 1024
#: Largest uploaded file, decoded (a 16-bit mono WAV at 44.1 kHz: 68 s).
MAX_UPLOAD = 6_000_000


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
