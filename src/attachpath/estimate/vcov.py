"""Covariance matrices of the estimates.

* "standard": inverse expected information (lavaan's ML default);
* "robust": the sandwich A⁻¹BA⁻¹/N with the observed information as bread
  and the casewise scores' outer products as meat (lavaan's MLR);
  with clusters the scores are summed within clusters first and the meat
  multiplied by G/(G−1) (lavaan's `cluster=` + MLR, "robust.cluster").
"""

from __future__ import annotations

import numpy as np

from . import ml
from .ram import RAM


def invert(info: np.ndarray) -> np.ndarray:
    """Inverse of an information matrix; NaN where it is singular."""
    try:
        inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)
    if not np.all(np.isfinite(inv)):
        return np.full_like(info, np.nan)
    return 0.5 * (inv + inv.T)


def cluster_matrix(clusters: np.ndarray | None) -> np.ndarray | None:
    """G x N 0/1 matrix of cluster membership (None without clusters).

    A fit sums scores within clusters several times (model, saturated and
    baseline meats); building this once spares a sort per sum."""
    if clusters is None:
        return None
    clusters = np.asarray(clusters)
    if clusters.ndim == 2:      # already a cluster matrix
        return clusters
    _, inverse = np.unique(clusters, return_inverse=True)
    onehot = np.zeros((inverse.max() + 1, len(inverse)))
    onehot[inverse, np.arange(len(inverse))] = 1.0
    return onehot


def cluster_sum(scores: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """Scores summed within clusters (rows unchanged without clusters).
    `clusters`: the cluster id of every case, or their cluster_matrix."""
    if clusters is None:
        return scores
    # a matrix product instead of np.add.at
    return cluster_matrix(clusters) @ scores


def meat(scores: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """First-order information per case: (1/N) Σ s s', cluster-summed and
    scaled by G/(G−1) when clustered."""
    n = scores.shape[0]
    s = cluster_sum(scores, clusters)
    B = s.T @ s / n
    if clusters is not None:
        g = s.shape[0]
        B *= g / (g - 1)
    return B


def standard(ram: RAM, theta, mom: ml.Moments, values) -> np.ndarray:
    return invert(mom.n * ml.expected_information(ram, theta, values))


def robust(ram: RAM, theta, mom: ml.Moments, values,
           clusters: np.ndarray | None = None):
    """(vcov, unit observed information A, meat B)."""
    A = ml.observed_information(ram, theta, mom, values)
    B = meat(ml.casewise_scores(ram, theta, mom, values), clusters)
    A_inv = invert(A)
    return A_inv @ B @ A_inv / mom.n, A, B
