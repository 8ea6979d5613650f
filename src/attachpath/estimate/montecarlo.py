"""Monte Carlo confidence intervals for defined parameters (Preacher & Selig
2012): draw θ* ~ MVN(θ̂, V̂) with the chosen vcov, evaluate the := functions
on every draw, take percentiles.

The normal draws come from a scrambled Sobol sequence (quasi-Monte Carlo,
scipy.stats.qmc) rather than plain pseudo-random numbers: the interval is
the same quantity, but its endpoints vary several times less between seeds
at the same number of draws.

With `df` the draws are multivariate t with df degrees of freedom (θ̂ + L·z
/ √(χ²_df/df), the χ² from one more Sobol coordinate): the Monte Carlo
counterpart of t(G−1) Wald intervals for a cluster-robust vcov from G
clusters.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import chi2, norm, qmc


def _uniform_draws(n: int, k: int, seed: int | None) -> np.ndarray:
    sobol = qmc.Sobol(d=k, scramble=True, seed=np.random.default_rng(seed))
    with warnings.catch_warnings():
        # Sobol's balance is best at powers of two; any n still gives valid draws
        warnings.simplefilter("ignore", UserWarning)
        u = sobol.random(n)
    return np.clip(u, 1e-16, 1 - 1e-16)


def normal_draws(n: int, k: int, seed: int | None) -> np.ndarray:
    """n x k standard normal draws from a scrambled Sobol sequence."""
    return norm.ppf(_uniform_draws(n, k, seed))


def t_draws(n: int, k: int, df: float, seed: int | None) -> np.ndarray:
    """n x k draws of a standard multivariate t with df degrees of freedom
    (k normal coordinates over one shared √(χ²_df/df))."""
    u = _uniform_draws(n, k + 1, seed)
    return norm.ppf(u[:, :k]) / np.sqrt(chi2.ppf(u[:, k:], df) / df)


def draws(defined, theta, V, *, n: int = 20000, seed: int | None = None,
          df: float | None = None) -> np.ndarray:
    """n x d matrix of the defined parameters at n draws of θ (normal, or
    multivariate t with df degrees of freedom)."""
    # eigh tolerates a positive semi-definite (e.g. rank-deficient cluster) vcov
    w, Q = np.linalg.eigh(0.5 * (V + V.T))
    L = Q * np.sqrt(np.clip(w, 0, None))
    z = normal_draws(n, len(theta), seed) if df is None else t_draws(n, len(theta), df, seed)
    return defined.evaluate(theta + z @ L.T)


def intervals(defined, theta, V, *, n: int = 20000, seed: int | None = None,
              level: float = 0.95, df: float | None = None) -> list[tuple[float, float]]:
    vals = draws(defined, theta, V, n=n, seed=seed, df=df)
    a = (1 - level) / 2
    lo, hi = np.quantile(vals, [a, 1 - a], axis=0)
    return list(zip(lo.tolist(), hi.tolist()))
