"""Covariance matrices of the estimates.

* "standard": inverse expected information (lavaan's ML default);
* "robust": the sandwich A⁻¹BA⁻¹/N with the observed information as bread
  and the casewise scores' outer products as meat (lavaan's MLR);
  with clusters the scores are summed within clusters first and the meat
  multiplied by G/(G−1) (lavaan's `cluster=` + MLR, "robust.cluster").
"""

from __future__ import annotations

import numpy as np



def invert(info: np.ndarray) -> np.ndarray:
    """Inverse of an information matrix; NaN where it is singular."""
    try:
        inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)
    if not np.all(np.isfinite(inv)):
        return np.full_like(info, np.nan)
    return 0.5 * (inv + inv.T)


def meat(scores: np.ndarray, n: int | None = None, clusters=None) -> np.ndarray:
    """First-order information per row: Σ s sᵀ / N over the units' scores
    (cases, or the clusters of a two-level model), summed within `clusters`
    (a Clusters value over the units) first and then scaled by G/(G−1)."""
    n = scores.shape[0] if n is None else n
    if clusters is None:
        return scores.T @ scores / n
    s = clusters.sum(scores)
    g = s.shape[0]
    return (s.T @ s / n) * (g / (g - 1))


def information(lik, theta, kind: str) -> np.ndarray:
    """The likelihood's unit information of the named kind."""
    if kind == "expected":
        return lik.expected_information(theta)
    if kind == "observed":
        return lik.observed_information(theta)
    raise ValueError(f"unknown information {kind!r}")


def standard(lik, theta, kind: str | None = None) -> np.ndarray:
    """Inverse information: expected (lavaan's ML default on complete
    single-level data) or observed (its default for two-level models)."""
    return invert(lik.n * information(lik, theta, kind or lik.default_information))


def robust(lik, theta, clusters=None):
    """(vcov, unit observed information A, meat B)."""
    A = lik.observed_information(theta)
    B = meat(lik.scores(theta), lik.n, clusters)
    A_inv = invert(A)
    return A_inv @ B @ A_inv / lik.n, A, B
