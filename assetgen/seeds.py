"""Portable seed maths: everything a seed decides, reproducible bit for bit in any language.

numpy's ``default_rng`` (PCG64 and numpy's own ziggurat for normals) has no C# twin, so a
game running the shipped models without Python could not draw the same sprite for the same
seed. Every random draw in the built-in generators comes from :class:`SeedStream` instead,
whose rules use only 64-bit integer arithmetic and IEEE-754 double additions,
multiplications, divisions and square roots (no library ``log``/``sin``/``cos``, whose last
bits differ between C libraries). The C# twin is ``bridge/AssetGen.Runtime/SeedStream.cs``;
both are checked against the same vectors, ``tests/fixtures/seed_vectors.json``.

The rules (``docs/seeds.md`` says the same with the test vectors):

- ``mix64(z)``: SplitMix64's finaliser on 64-bit unsigned ``z`` (all arithmetic mod 2^64)::

      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
      z = (z ^ (z >> 27)) * 0x94D049BB133111EB
      return z ^ (z >> 31)

- a stream's key, from the seed, a purpose (UTF-8 text) and an index::

      key = mix64(mix64(mix64(seed) ^ fnv1a64(purpose)) + index * 0x9E3779B97F4A7C15)

  ``fnv1a64``: FNV-1a, offset basis 0xCBF29CE484222325, prime 0x100000001B3.
- draw ``i`` (0, 1, 2, ...) of a stream: ``x_i = mix64(key + (i + 1) * 0x9E3779B97F4A7C15)``;
  a stream hands its draws out in order.
- a uniform double in [0, 1): ``(x >> 11) * 2^-53`` (exact).
- an integer in [0, n), n < 2^32: ``((x >> 32) * n) >> 32`` (exact, integer only).
- normals, in pairs from two draws ``a, b``: ``u1 = ((a >> 11) + 1) * 2^-53`` in (0, 1],
  ``u2 = (b >> 11) * 2^-53``; ``r = sqrt(-2 * log(u1))``; the pair is ``r * cos(2 pi u2)``,
  ``r * sin(2 pi u2)`` (Box-Muller), with ``log``, ``cos`` and ``sin`` the fixed polynomial
  evaluations below, in this order of operations. An odd count drops the last sine.
- a categorical pick from weights ``p`` (float64): ``cdf`` their running sum left to right,
  ``t = u * cdf[-1]``, the pick is the number of ``cdf`` entries ``<= t`` (at most
  ``len(p) - 1``).

A purpose names what is drawn ("portraits.labels", "shoes.latent", ...), so draws for
different things never share a stream and adding one never shifts another.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import overload

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
#: 2^-53: the spacing of the uniform doubles
ULP53 = 1.0 / 9007199254740992.0

LN2 = 0.6931471805599453
HALF_PI = 1.5707963267948966
SQRT_HALF = 0.7071067811865476
#: log: 2 atanh(t) = sum 2 t^(2k+1) / (2k+1), k = 0..11 (|t| <= 0.1716: error < 1e-17)
_LOG_TERMS = tuple(2.0 / (2 * k + 1) for k in range(12))
#: sin / cos on [0, pi/4]: Taylor terms to x^17 and x^18 (error < 1e-19)
_SIN_TERMS = tuple((-1.0) ** k / math.factorial(2 * k + 1) for k in range(9))
_COS_TERMS = tuple((-1.0) ** k / math.factorial(2 * k) for k in range(10))


def mix64(z: int) -> int:
    """SplitMix64's finaliser (Python ints, mod 2^64)."""
    z &= MASK
    z = ((z ^ (z >> 30)) * _M1) & MASK
    z = ((z ^ (z >> 27)) * _M2) & MASK
    return z ^ (z >> 31)


def _mix64_array(z: np.ndarray) -> np.ndarray:
    """``mix64`` on a uint64 array (numpy's uint64 array arithmetic wraps mod 2^64)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def fnv1a64(text: str) -> int:
    h = FNV_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * FNV_PRIME) & MASK
    return h


def stream_key(seed: int, purpose: str = "", index: int = 0) -> int:
    """The 64-bit key of the stream for ``seed``, ``purpose`` and ``index``."""
    k = mix64(mix64(seed & MASK) ^ fnv1a64(purpose))
    return mix64((k + (index & MASK) * GOLDEN) & MASK)


def draws(key: int, start: int, count: int) -> np.ndarray:
    """Draws ``start`` .. ``start + count - 1`` of the stream with ``key`` (uint64)."""
    i = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    return _mix64_array(np.uint64(key) + i * np.uint64(GOLDEN))


def draws_of_keys(keys: Sequence[int], count: int) -> np.ndarray:
    """len(keys) x count: the first ``count`` draws of each stream (uint64)."""
    k = np.asarray([int(x) for x in keys], dtype=np.uint64)[:, None]
    i = np.arange(1, count + 1, dtype=np.uint64)[None, :]
    return _mix64_array(k + i * np.uint64(GOLDEN))


def to_unit(x: np.ndarray) -> np.ndarray:
    """uint64 draws -> doubles in [0, 1), exactly ``(x >> 11) * 2^-53``."""
    return (x >> np.uint64(11)).astype(np.float64) * ULP53


def portable_log(x: np.ndarray) -> np.ndarray:
    """Natural log of positive normal doubles by a fixed sequence of IEEE operations."""
    m, e = np.frexp(np.asarray(x, np.float64))  # x = m 2^e, m in [0.5, 1): exact
    low = m < SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e).astype(np.float64)
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    s = np.full_like(t, _LOG_TERMS[-1])
    for c in reversed(_LOG_TERMS[:-1]):
        s = s * t2 + c
    return e * LN2 + t * s


def _poly(x2: np.ndarray, terms: tuple[float, ...]) -> np.ndarray:
    s = np.full_like(x2, terms[-1])
    for c in reversed(terms[:-1]):
        s = s * x2 + c
    return s


def portable_sincos_turns(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sin, cos) of ``2 pi u`` for doubles ``u`` in [0, 1), by exact range reduction to a
    quarter turn and Taylor polynomials on [0, pi/4]."""
    u4 = np.asarray(u, np.float64) * 4.0  # exact
    q = np.floor(u4)
    f = u4 - q  # exact, in [0, 1)
    flip = f > 0.5
    g = np.where(flip, 1.0 - f, f)  # exact (Sterbenz)
    y = g * HALF_PI
    y2 = y * y
    s = y * _poly(y2, _SIN_TERMS)
    c = _poly(y2, _COS_TERMS)
    sin_x, cos_x = np.where(flip, c, s), np.where(flip, s, c)  # of the angle within the quarter
    q = q.astype(np.int64) % 4
    sin = np.select([q == 0, q == 1, q == 2], [sin_x, cos_x, -sin_x], -cos_x)
    cos = np.select([q == 0, q == 1, q == 2], [cos_x, -sin_x, -cos_x], sin_x)
    return sin, cos


def normals_from(x: np.ndarray, count: int) -> np.ndarray:
    """``count`` standard normal doubles from ``2 * ceil(count / 2)`` uint64 draws."""
    pairs = (count + 1) // 2
    a, b = x[0 : 2 * pairs : 2], x[1 : 2 * pairs : 2]
    u1 = ((a >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * ULP53
    u2 = (b >> np.uint64(11)).astype(np.float64) * ULP53
    r = np.sqrt(-2.0 * portable_log(u1))
    sin, cos = portable_sincos_turns(u2)
    out = np.empty(2 * pairs, np.float64)
    out[0::2], out[1::2] = r * cos, r * sin
    return out[:count]


def below(x: np.ndarray, n: int) -> np.ndarray:
    """uint64 draws -> integers in [0, n), exactly ``((x >> 32) * n) >> 32``."""
    if not 0 < n < 1 << 32:
        raise ValueError(f"n must be in [1, 2^32); got {n}")
    return ((x >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32)


def running_sum(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Left-to-right float64 running sum (a C# loop adds in the same order)."""
    return np.cumsum(np.asarray(p, np.float64))


def pick(cdf: np.ndarray, u: float | np.ndarray) -> np.ndarray:
    """Categorical pick(s) by a running sum ``cdf`` (last axis) and uniform(s) ``u``: the
    number of entries ``<= u * cdf[-1]``, at most ``len - 1``. ``cdf`` may be one row or
    one row per ``u``."""
    cdf = np.asarray(cdf, np.float64)
    u = np.asarray(u, np.float64)
    t = u * cdf[..., -1]
    count = (cdf <= t[..., None]).sum(axis=-1)
    return np.minimum(count, cdf.shape[-1] - 1)


class SeedStream:
    """The draws of one seed for one purpose, handed out in order.

    The method names follow numpy's ``Generator`` where they mean the same thing, so a
    generator's code reads the same; the values are this module's portable ones."""

    def __init__(self, seed: int, purpose: str = "", index: int = 0) -> None:
        self.key = stream_key(int(seed), purpose, int(index))
        self.position = 0

    def bits(self, count: int) -> np.ndarray:
        x = draws(self.key, self.position, count)
        self.position += count
        return x

    @overload
    def random(self, size: None = None) -> float: ...
    @overload
    def random(self, size: int) -> np.ndarray: ...

    def random(self, size: int | None = None) -> float | np.ndarray:
        """Uniform double(s) in [0, 1)."""
        u = to_unit(self.bits(1 if size is None else int(size)))
        return float(u[0]) if size is None else u

    @overload
    def uniform(self, low: float, high: float, size: None = None) -> float: ...
    @overload
    def uniform(self, low: float, high: float, size: int) -> np.ndarray: ...

    def uniform(self, low: float, high: float, size: int | None = None) -> float | np.ndarray:
        """``low + (high - low) * u``."""
        u = to_unit(self.bits(1 if size is None else int(size)))
        v = low + (high - low) * u
        return float(v[0]) if size is None else v

    def integers(self, n: int) -> int:
        """One integer in [0, n)."""
        return int(below(self.bits(1), int(n))[0])

    def standard_normal(self, size: int) -> np.ndarray:
        """``size`` standard normal doubles (2 draws a pair; an odd size wastes one)."""
        size = int(size)
        return normals_from(self.bits(2 * ((size + 1) // 2)), size)

    def choice_index(self, weights: Sequence[float] | np.ndarray) -> int:
        """One categorical pick by ``weights`` (see :func:`pick`)."""
        return int(pick(running_sum(weights), self.random()))


def seed_stream(seed: int, purpose: str = "", index: int = 0) -> SeedStream:
    """The stream of ``seed`` for ``purpose`` (and ``index``, e.g. a candidate number)."""
    return SeedStream(seed, purpose, index)
