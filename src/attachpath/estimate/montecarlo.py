"""Monte Carlo confidence intervals for defined parameters (Preacher & Selig
2012): draw θ* ~ MVN(θ̂, V̂) with the chosen vcov, evaluate the := functions
on every draw, take percentiles.

The normal draws come from a scrambled Sobol sequence (quasi-Monte Carlo,
scipy.stats.qmc) rather than plain pseudo-random numbers: the interval is
the same quantity, but its endpoints vary several times less between seeds
at the same number of draws.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import norm, qmc


def normal_draws(n: int, k: int, seed: int | None) -> np.ndarray:
    """n x k standard normal draws from a scrambled Sobol sequence."""
    sobol = qmc.Sobol(d=k, scramble=True, seed=np.random.default_rng(seed))
    with warnings.catch_warnings():
        # Sobol's balance is best at powers of two; any n still gives valid draws
        warnings.simplefilter("ignore", UserWarning)
        u = sobol.random(n)
    return norm.ppf(np.clip(u, 1e-16, 1 - 1e-16))


def draws(defined, theta, V, *, n: int = 20000, seed: int | None = None) -> np.ndarray:
    """n x d matrix of the defined parameters at n draws of θ."""
    # eigh tolerates a positive semi-definite (e.g. rank-deficient cluster) vcov
    w, Q = np.linalg.eigh(0.5 * (V + V.T))
    L = Q * np.sqrt(np.clip(w, 0, None))
    z = normal_draws(n, len(theta), seed)
    return defined.evaluate(theta + z @ L.T)


def intervals(defined, theta, V, *, n: int = 20000, seed: int | None = None,
              level: float = 0.95) -> list[tuple[float, float]]:
    vals = draws(defined, theta, V, n=n, seed=seed)
    a = (1 - level) / 2
    lo, hi = np.quantile(vals, [a, 1 - a], axis=0)
    return list(zip(lo.tolist(), hi.tolist()))
