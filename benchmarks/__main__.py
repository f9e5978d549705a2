"""``python -m benchmarks``: run the suite (benchmarks/suite.py)."""

from __future__ import annotations

import sys

from .suite import main

sys.exit(main())
