"""Monte Carlo confidence intervals for defined parameters (Preacher & Selig
2012): draw θ* ~ MVN(θ̂, V̂) with the chosen vcov, evaluate the := functions
on every draw, take percentiles."""

from __future__ import annotations

import numpy as np


def draws(defined, theta, V, *, n: int = 20000, seed: int | None = None) -> np.ndarray:
    """n x d matrix of the defined parameters at n draws of θ."""
    rng = np.random.default_rng(seed)
    # eigh tolerates a positive semi-definite (e.g. rank-deficient cluster) vcov
    w, Q = np.linalg.eigh(0.5 * (V + V.T))
    L = Q * np.sqrt(np.clip(w, 0, None))
    z = rng.standard_normal((n, len(theta)))
    return defined.evaluate(theta + z @ L.T)


def intervals(defined, theta, V, *, n: int = 20000, seed: int | None = None,
              level: float = 0.95) -> list[tuple[float, float]]:
    vals = draws(defined, theta, V, n=n, seed=seed)
    a = (1 - level) / 2
    lo, hi = np.quantile(vals, [a, 1 - a], axis=0)
    return list(zip(lo.tolist(), hi.tolist()))
