"""Normal-theory ML pieces on complete data: sample moments, the discrepancy
function, its gradient, information matrices and casewise scores.

Scale conventions follow lavaan: F_ML = log|Σ| + tr(SΣ⁻¹) − log|S| − p
+ (x̄−μ)'Σ⁻¹(x̄−μ) with the biased S (divisor N); chisq = N·F; the total
log-likelihood is −N/2·(F + log|S| + p + p·log 2π).  "Unit" information is
per case; vcov = (N · unit information)⁻¹.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from .ram import RAM, vech_indices

LOG2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class Moments:
    """Sample statistics of the model variables (observed order)."""

    X: np.ndarray | None   # N x p data, float64 (None: only the moments are known)
    mean: np.ndarray
    cov: np.ndarray        # divisor N
    n: int

    @classmethod
    def from_array(cls, X: np.ndarray) -> "Moments":
        n = X.shape[0]
        mean = X.mean(axis=0)
        R = X - mean
        return cls(X, mean, (R.T @ R) / n, n)

    @cached_property
    def cov_inv(self) -> np.ndarray:
        return np.linalg.inv(self.cov)

    @cached_property
    def cov_logdet(self) -> float:
        return float(np.linalg.slogdet(self.cov)[1])


@lru_cache(maxsize=64)
def _dup_kron_index(p: int):
    li, lj = vech_indices(p)
    i, j, k, l = li[:, None], lj[:, None], li[None, :], lj[None, :]
    half = np.where(li == lj, 0.5, 1.0)
    return (j * p + l, i * p + k, j * p + k, i * p + l), half[:, None] * half[None, :]


def dup_kron(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """D'(X ⊗ Y)D for symmetric p x p X and Y (leading batch dimensions kept),
    with D the duplication matrix (vec M = D vech M).

    Entry ((i,j), (k,l)) sums X[c1,c2]·Y[r1,r2] over the vec positions of
    both vech elements: X[j,l]Y[i,k] + X[j,k]Y[i,l] + X[i,l]Y[j,k] +
    X[i,k]Y[j,l], halved once for each diagonal element; the four terms
    show dup_kron(X, Y) = dup_kron(Y, X).  Gathering these entries avoids
    the p² x p² Kronecker product."""
    p = X.shape[-1]
    (jl, ik, jk, il), half = _dup_kron_index(p)
    Xf, Yf = X.reshape(X.shape[:-2] + (p * p,)), Y.reshape(Y.shape[:-2] + (p * p,))
    if Y is X:       # D'(X ⊗ X)D, the usual case: the four terms pair up
        return 2.0 * (Xf[..., jl] * Xf[..., ik] + Xf[..., jk] * Xf[..., il]) * half
    return (Xf[..., jl] * Yf[..., ik] + Xf[..., jk] * Yf[..., il]
            + Xf[..., il] * Yf[..., jk] + Xf[..., ik] * Yf[..., jl]) * half


def vech_quadratic(Jc: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Jc' D'(X⊗Y)D Jc for symmetric X and Y, where the columns of Jc are
    vech of symmetric matrices dΣ_k: entry (k, l) is tr(dΣ_k Y dΣ_l X).

    The same number as Jc.T @ dup_kron(X, Y) @ Jc without the
    p(p+1)/2-square matrix between: O(q p³ + q² p²) instead of O(p⁴ q),
    which is what makes models of 40 observed variables cheap."""
    p = X.shape[-1]
    q = Jc.shape[-1]
    li, lj = vech_indices(p)
    dS = np.zeros((q, p, p))
    dS[:, li, lj] = Jc.T
    dS[:, lj, li] = Jc.T
    left = (dS @ Y).reshape(q, p * p)                         # rows vec(dΣ_k Y)
    right = (X @ dS).reshape(q, p * p)                        # rows vec((dΣ_l X)')
    return left @ right.T


def weight(sigma_inv: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Unit expected information of the saturated normal model, at Σ:
    blockdiag(Σ⁻¹ (if means), ½ D'(Σ⁻¹⊗Σ⁻¹)D)."""
    p = sigma_inv.shape[0]
    Wc = 0.5 * dup_kron(sigma_inv, sigma_inv)
    if not meanstructure:
        return Wc
    k = Wc.shape[0]
    W = np.zeros((p + k, p + k))
    W[:p, :p] = sigma_inv
    W[p:, p:] = Wc
    return W


def _residual_mean(ram: RAM, mu, mom: Moments):
    return mom.mean - mu if ram.meanstructure else np.zeros_like(mu)


def discrepancy(ram: RAM, theta, mom: Moments, values=None):
    """F_ML at θ (θ may carry batch dimensions; inf where Σ is not positive definite)."""
    sigma, mu, *_ = ram.implied(theta, values)
    sign, logdet = np.linalg.slogdet(sigma)
    inv = np.linalg.inv(sigma)
    d = _residual_mean(ram, mu, mom)
    logdet_s = mom.cov_logdet
    p = sigma.shape[-1]
    tr = np.einsum("ij,...ji->...", mom.cov, inv)
    quad = np.einsum("...i,...ij,...j->...", d, inv, d)
    f = logdet + tr - logdet_s - p + quad
    f = np.where(sign > 0, f, np.inf)
    return float(f) if np.ndim(f) == 0 else f


def gradient(ram: RAM, theta, mom: Moments, values=None) -> np.ndarray:
    """dF/dθ (analytic; vectorised over leading batch dimensions of θ)."""
    sigma, mu, *_ = ram.implied(theta, values)
    inv = np.linalg.inv(sigma)
    J = ram.jacobian(theta, values)
    p = sigma.shape[-1]
    d = _residual_mean(ram, mu, mom)
    G = inv - inv @ (mom.cov + d[..., :, None] * d[..., None, :]) @ inv
    li, lj = vech_indices(p)
    g = np.where(li == lj, 1.0, 2.0) * G[..., li, lj]
    if ram.meanstructure:
        g = np.concatenate([-2.0 * (inv @ d[..., None])[..., 0], g], axis=-1)
    return np.einsum("...mk,...m->...k", J, g)


def expected_information(ram: RAM, theta, values=None) -> np.ndarray:
    """Unit expected information J'WJ at θ (W = weight(Σ⁻¹), applied from
    its structure: Σ⁻¹ on the means, ½ D'(Σ⁻¹⊗Σ⁻¹)D on the covariances)."""
    sigma, *_ = ram.implied(theta, values)
    J = ram.jacobian(theta, values)
    inv = np.linalg.inv(sigma)
    p = inv.shape[0]
    if not ram.meanstructure:
        return 0.5 * vech_quadratic(J, inv, inv)
    Jm, Jc = J[:p], J[p:]
    return Jm.T @ inv @ Jm + 0.5 * vech_quadratic(Jc, inv, inv)


def observed_information(ram: RAM, theta, mom: Moments, values=None,
                         h: float = 1e-6) -> np.ndarray:
    """Unit observed information: ½ × Hessian of F.

    Where the implied means equal the sample means (always at the ML
    solution of a saturated mean structure) the Hessian has a closed form
    (analytic_hessian); elsewhere (e.g. a larger model evaluated at a smaller
    one's solution) it is differentiated numerically: central differences
    of the analytic gradient, all 2k gradients in one vectorised call."""
    sigma, mu, *_ = ram.implied(theta, values)
    if not ram.meanstructure or np.max(np.abs(mom.mean - mu), initial=0.0) < 1e-9:
        H = analytic_hessian(ram, theta, mom, values)
        return 0.25 * (H + H.T)
    from .scoring import numerical_information
    return numerical_information(lambda t: gradient(ram, t, mom, values), theta, h)


def analytic_hessian(ram: RAM, theta, mom: Moments, values=None) -> np.ndarray:
    """d²F/dθdθ' when the implied means equal the sample means.

    Two parts: J' H_m J, the Hessian of F in the moments (means block 2Σ⁻¹;
    covariance block D'[(Σ⁻¹SΣ⁻¹)⊗Σ⁻¹ + Σ⁻¹⊗(Σ⁻¹SΣ⁻¹) − Σ⁻¹⊗Σ⁻¹]D), plus
    tr(G ∂²Σ/∂θ_a∂θ_b) with G = Σ⁻¹ − Σ⁻¹SΣ⁻¹ = dF/dΣ (ram.RAM.curvature)."""
    sigma = ram.implied(theta, values)[0]
    p = ram.n_obs
    inv = np.linalg.inv(sigma)
    T = inv @ mom.cov @ inv
    # J'D'[T⊗Σ⁻¹ + Σ⁻¹⊗T − Σ⁻¹⊗Σ⁻¹]DJ in one call: D'(X⊗Y)D is bilinear
    # and symmetric in X and Y
    J = ram.jacobian(theta, values)
    if ram.meanstructure:
        Jm, Jc = J[:p], J[p:]
        H = 2.0 * Jm.T @ inv @ Jm + vech_quadratic(Jc, inv, 2.0 * T - inv)
    else:
        H = vech_quadratic(J, inv, 2.0 * T - inv)

    # the second-order term at G = dF/dΣ (the mean gradient vanishes here)
    return H + ram.curvature(theta, values, inv - T)


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
    inv = mom.cov_inv
    R = mom.X - mom.mean
    U = R @ inv
    p = inv.shape[0]
    li, lj = vech_indices(p)
    mult = np.where(li == lj, 0.5, 1.0)
    cov_part = mult * (U[:, li] * U[:, lj] - inv[li, lj])
    return np.hstack([U, cov_part]) if meanstructure else cov_part


def loglik_saturated(cov: np.ndarray, n: int) -> float:
    p = cov.shape[0]
    if p == 0:
        return 0.0
    _, logdet = np.linalg.slogdet(cov)
    return float(-0.5 * n * (p * LOG2PI + logdet + p))
