"""Normal-theory ML pieces on complete data: sample moments, the discrepancy
function, its gradient, information matrices and casewise scores.

Scale conventions follow lavaan: F_ML = log|Σ| + tr(SΣ⁻¹) − log|S| − p
+ (x̄−μ)'Σ⁻¹(x̄−μ) with the biased S (divisor N); chisq = N·F; the total
log-likelihood is −N/2·(F + log|S| + p + p·log 2π).  "Unit" information is
per case; vcov = (N · unit information)⁻¹.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .ram import RAM, vech_indices

LOG2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class Moments:
    """Sample statistics of the model variables (observed order)."""

    X: np.ndarray          # N x p data, float64
    mean: np.ndarray
    cov: np.ndarray        # divisor N
    n: int

    @classmethod
    def from_array(cls, X: np.ndarray) -> "Moments":
        n = X.shape[0]
        mean = X.mean(axis=0)
        R = X - mean
        return cls(X, mean, (R.T @ R) / n, n)


@lru_cache(maxsize=64)
def duplication(p: int) -> np.ndarray:
    """D with vec(M) = D vech(M) for symmetric M (vech column by column)."""
    li, lj = vech_indices(p)
    D = np.zeros((p * p, len(li)))
    for k, (i, j) in enumerate(zip(li, lj)):
        D[j * p + i, k] = 1.0
        D[i * p + j, k] = 1.0
    return D


def weight(sigma_inv: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Unit expected information of the saturated normal model, at Σ:
    blockdiag(Σ⁻¹ (if means), ½ D'(Σ⁻¹⊗Σ⁻¹)D)."""
    p = sigma_inv.shape[0]
    D = duplication(p)
    Wc = 0.5 * D.T @ np.kron(sigma_inv, sigma_inv) @ D
    if not meanstructure:
        return Wc
    k = Wc.shape[0]
    W = np.zeros((p + k, p + k))
    W[:p, :p] = sigma_inv
    W[p:, p:] = Wc
    return W


def discrepancy(ram: RAM, theta, mom: Moments, values=None) -> float:
    sigma, mu, *_ = ram.implied(theta, values)
    sign, logdet = np.linalg.slogdet(sigma)
    if sign <= 0:
        return np.inf
    inv = np.linalg.inv(sigma)
    d = mom.mean - mu if ram.meanstructure else 0.0 * mu
    _, logdet_s = np.linalg.slogdet(mom.cov)
    p = sigma.shape[0]
    return float(logdet + np.trace(mom.cov @ inv) - logdet_s - p + d @ inv @ d)


def gradient(ram: RAM, theta, mom: Moments, values=None) -> np.ndarray:
    """dF/dθ (analytic)."""
    sigma, mu, *_ = ram.implied(theta, values)
    inv = np.linalg.inv(sigma)
    J = ram.jacobian(theta, values)
    p = sigma.shape[0]
    d = mom.mean - mu if ram.meanstructure else np.zeros(p)
    G = inv - inv @ (mom.cov + np.outer(d, d)) @ inv
    li, lj = vech_indices(p)
    g_sigma = np.where(li == lj, 1.0, 2.0) * G[li, lj]
    if ram.meanstructure:
        g = np.concatenate([-2.0 * inv @ d, g_sigma])
    else:
        g = g_sigma
    return J.T @ g


def expected_information(ram: RAM, theta, values=None) -> np.ndarray:
    """Unit expected information J'WJ at θ."""
    sigma, *_ = ram.implied(theta, values)
    J = ram.jacobian(theta, values)
    return J.T @ weight(np.linalg.inv(sigma), ram.meanstructure) @ J


def observed_information(ram: RAM, theta, mom: Moments, values=None,
                         h: float = 1e-6) -> np.ndarray:
    """Unit observed information: ½ × Hessian of F, by central differences
    of the analytic gradient (as lavaan differentiates its gradient)."""
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = h
        H[:, j] = (gradient(ram, theta + step, mom, values)
                   - gradient(ram, theta - step, mom, values)) / (2 * h)
    return 0.25 * (H + H.T)


def casewise_scores(ram: RAM, theta, mom: Moments, values=None) -> np.ndarray:
    """N x k matrix of dℓ_i/dθ (casewise log-likelihood gradients).

    Without a mean structure the cases are centred at the sample mean (the
    saturated-mean MLE), as lavaan does."""
    sigma, mu, *_ = ram.implied(theta, values)
    inv = np.linalg.inv(sigma)
    J = ram.jacobian(theta, values)
    R = mom.X - (mu if ram.meanstructure else mom.mean)
    U = R @ inv
    p = sigma.shape[0]
    li, lj = vech_indices(p)
    mult = np.where(li == lj, 0.5, 1.0)
    cov_part = mult * (U[:, li] * U[:, lj] - inv[li, lj])
    if ram.meanstructure:
        moments = np.hstack([U, cov_part])
    else:
        moments = cov_part
    return moments @ J


def h1_moment_scores(mom: Moments, meanstructure: bool = True) -> np.ndarray:
    """Casewise scores of the saturated model with respect to its moments
    (mu, vech Σ) at the sample moments."""
    inv = np.linalg.inv(mom.cov)
    R = mom.X - mom.mean
    U = R @ inv
    p = inv.shape[0]
    li, lj = vech_indices(p)
    mult = np.where(li == lj, 0.5, 1.0)
    cov_part = mult * (U[:, li] * U[:, lj] - inv[li, lj])
    return np.hstack([U, cov_part]) if meanstructure else cov_part


def loglik(ram: RAM, theta, mom: Moments, values=None) -> float:
    """Joint normal log-likelihood of all observed variables at θ."""
    sigma, mu, *_ = ram.implied(theta, values)
    p = sigma.shape[0]
    _, logdet = np.linalg.slogdet(sigma)
    inv = np.linalg.inv(sigma)
    d = mom.mean - mu if ram.meanstructure else np.zeros(p)
    return float(-0.5 * mom.n * (p * LOG2PI + logdet + np.trace(mom.cov @ inv) + d @ inv @ d))


def loglik_saturated(cov: np.ndarray, n: int) -> float:
    p = cov.shape[0]
    if p == 0:
        return 0.0
    _, logdet = np.linalg.slogdet(cov)
    return float(-0.5 * n * (p * LOG2PI + logdet + p))
