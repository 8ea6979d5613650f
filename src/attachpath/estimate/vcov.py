"""Covariance matrices of the estimates.

* "standard": inverse expected information (lavaan's ML default);
* "robust": the sandwich A⁻¹BA⁻¹/N with the observed information as bread
  and the casewise scores' outer products as meat (lavaan's MLR);
  with clusters the scores are summed within clusters first and the meat
  multiplied by G/(G−1) (lavaan's `cluster=` + MLR, "robust.cluster");
* "cr2": the cluster sandwich with Bell & McCaffrey's (2002) bias-reduced
  meat instead of G/(G−1) (an explicit option for few clusters, e.g. 44
  therapists; no lavaan or Mplus reference exists for it).
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


# Fay & Graubard's (2001) bound on a cluster's share of the information: a
# cluster holding more than this is corrected as if it held this much, so the
# inverse square root below stays finite
CR2_BOUND = 0.75


def cluster_hessians(lik, theta, clusters, h: float = 1e-6) -> np.ndarray:
    """G x k x k: minus the derivative of each cluster's summed unit scores
    (dℓ/dθ), by central differences; their sum is the total observed
    information."""
    theta = np.asarray(theta, dtype=float)
    k = len(theta)
    H = np.empty((clusters.n, k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = h
        d = clusters.sum(lik.scores(theta + step) - lik.scores(theta - step)) / (2 * h)
        H[:, :, i] = -d
    return 0.5 * (H + np.swapaxes(H, 1, 2))


def _sym_power(M: np.ndarray, power: float, floor: float = 0.0) -> np.ndarray:
    w, Q = np.linalg.eigh(0.5 * (M + M.T))
    return (Q * np.clip(w, floor, None) ** power) @ Q.T


def cr2(lik, theta, clusters):
    """(vcov, unit observed information A, meat B): the cluster sandwich
    with the bias-reduced (CR2) meat of Bell & McCaffrey (2002), in the score
    form of Kauermann & Carroll (2001) for M-estimators.

    A cluster's score at θ̂ is shrunk towards zero by its own pull on θ̂:
    û_g ≈ (I − H_g H⁻¹) u_g + …, with H_g the cluster's observed information
    and H = Σ H_g, so the CR0 meat Σ û_g û_gᵀ underestimates the variance
    most when few clusters each carry much information.  CR2 inflates each
    û_g by (I − H_g H⁻¹)^(−1/2), computed symmetrically as
    H^(1/2) (I − M_g)^(−1/2) H^(−1/2) with M_g = H^(−1/2) H_g H^(−1/2)
    (eigenvalues clipped to [0, CR2_BOUND]), and drops G/(G−1).  For a
    linear regression this is exactly CR2 (X_gᵀ(I − P_gg)^(−1/2) e_g)."""
    s = clusters.sum(lik.scores(theta))                     # G x k
    Hg = cluster_hessians(lik, theta, clusters)
    H = Hg.sum(axis=0)
    H_half, H_ihalf = _sym_power(H, 0.5), _sym_power(H, -0.5, floor=1e-300)
    M = H_ihalf @ Hg @ H_ihalf                              # G x k x k
    w, Q = np.linalg.eigh(0.5 * (M + np.swapaxes(M, 1, 2)))
    w = np.clip(w, 0.0, CR2_BOUND)
    adj = (Q * (1.0 - w)[:, None, :] ** -0.5) @ np.swapaxes(Q, 1, 2)   # (I − M_g)^(−1/2)
    u = np.einsum("ab,gbc,cd,gd->ga", H_half, adj, H_ihalf, s)
    B = u.T @ u / lik.n
    A = H / lik.n
    A_inv = invert(A)
    return A_inv @ B @ A_inv / lik.n, A, B
