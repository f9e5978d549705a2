"""Distribution metrics on feature embeddings, shared by the model plugins' evaluations.

- ``frechet``: Fréchet distance between Gaussian fits (FID when the features are Inception's;
  here, each plugin's own classifier features);
- ``kid``: kernel distance with the cubic polynomial kernel, mean over random subsets;
- ``precision_recall``: k-nearest-neighbour precision and recall (Kynkäänniemi et al., 2019).
"""

from __future__ import annotations

import numpy as np


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    from numpy.linalg import eigvals

    mu = a.mean(0) - b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    tr_sqrt = np.sqrt(np.clip(eigvals(ca @ cb).real, 0, None)).sum()
    return float(mu @ mu + np.trace(ca) + np.trace(cb) - 2 * tr_sqrt)


def kid(
    a: np.ndarray, b: np.ndarray, subset: int = 1000, subsets: int = 50, seed: int = 0
) -> float:
    """Kernel inception distance (cubic polynomial kernel), mean over random subsets."""
    rng = np.random.default_rng(seed)
    d = a.shape[1]
    m = min(subset, len(a), len(b))
    vals = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        vals.append(
            (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean()
        )
    return float(np.mean(vals))


def sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T, 0)


def _kth_radius(x: np.ndarray, k: int, chunk: int = 1000) -> np.ndarray:
    out = []
    for s in range(0, len(x), chunk):
        d = sq_dists(x[s : s + chunk], x)
        out.append(np.sqrt(np.partition(d, k, axis=1)[:, k]))  # index 0 is the point itself
    return np.concatenate(out)


def _covered(
    query: np.ndarray, ref: np.ndarray, radius: np.ndarray, chunk: int = 1000
) -> np.ndarray:
    hit = []
    for s in range(0, len(query), chunk):
        d = np.sqrt(sq_dists(query[s : s + chunk], ref))
        hit.append((d <= radius[None]).any(1))
    return np.concatenate(hit)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    precision = float(_covered(fake, real, _kth_radius(real, k)).mean())
    recall = float(_covered(real, fake, _kth_radius(fake, k)).mean())
    return precision, recall
