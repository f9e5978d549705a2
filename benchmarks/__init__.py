"""AssetGen's benchmark suite: ``python -m benchmarks`` or ``make bench`` (see README.md)."""
