"""Model-implied moments and their derivatives, in RAM form.

Variables are the observed ones followed by the latent ones.  A holds the
directed paths (A[i, j] is the effect of j on i), S the (residual) variances
and covariances, m the intercepts.  With B = (I - A)^-1 and F the selection
of the observed rows:

    Sigma = F B S B' F',      mu = F B m.

Everything the estimator needs beyond semopy's point estimates (gradients,
information matrices, casewise scores, standardized values) is computed from
these closed forms.  Every function accepts θ with leading batch dimensions
(..., k), so a numerical Hessian or a set of bootstrap replicates is one
vectorised call rather than a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..partable import ParTable
from .recent import at_point


@lru_cache(maxsize=64)
def vech_indices(p: int):
    """Row and column indices of the lower triangle, column by column."""
    cols, rows = np.triu_indices(p)   # the upper triangle of the transpose
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols


@lru_cache(maxsize=256)
def ram_of(pt: ParTable) -> "RAM":
    """The RAM layout of a parameter table, built once per table."""
    return RAM.from_partable(pt)


def vech(M: np.ndarray) -> np.ndarray:
    li, lj = vech_indices(M.shape[-1])
    return M[..., li, lj]


def _scatter(free: np.ndarray, k: int) -> np.ndarray:
    """0/1 matrix mapping matrix entries to free parameters (fixed rows zero)."""
    M = np.zeros((len(free), k))
    on = free >= 0
    M[np.flatnonzero(on), free[on]] = 1.0
    return M


@dataclass(frozen=True)
class RAM:
    """Where each parameter-table row lives in the matrices."""

    n_obs: int
    n_all: int
    a_rows: np.ndarray     # table row of each A entry
    a_ij: np.ndarray       # (i, j) of each A entry
    a_free: np.ndarray     # 0-based free index, -1 when fixed
    s_rows: np.ndarray
    s_ij: np.ndarray
    s_free: np.ndarray
    m_rows: np.ndarray
    m_i: np.ndarray
    m_free: np.ndarray
    fixed_values: np.ndarray      # value per table row (NaN for free rows)
    npar: int
    meanstructure: bool

    @classmethod
    def from_partable(cls, pt: ParTable) -> "RAM":
        pos = {v: i for i, v in enumerate(pt.variables)}
        a, s, m = [], [], []
        for k, r in enumerate(pt.rows):
            if r.op == "~":
                a.append((k, pos[r.lhs], pos[r.rhs], r.free - 1))
            elif r.op == "=~":
                a.append((k, pos[r.rhs], pos[r.lhs], r.free - 1))
            elif r.op == "~~":
                s.append((k, pos[r.lhs], pos[r.rhs], r.free - 1))
            elif r.op == "~1":
                m.append((k, pos[r.lhs], 0, r.free - 1))

        def arr(items):
            if not items:
                return (np.zeros(0, int), np.zeros((0, 2), int), np.zeros(0, int))
            t = np.array(items, dtype=int)
            return t[:, 0], t[:, 1:3], t[:, 3]

        a_rows, a_ij, a_free = arr(a)
        s_rows, s_ij, s_free = arr(s)
        m_rows, m_ij, m_free = arr(m)
        values = np.array([r.value for r in pt.rows], dtype=float)
        return cls(len(pt.observed), len(pt.variables), a_rows, a_ij, a_free,
                   s_rows, s_ij, s_free, m_rows, m_ij[:, 0], m_free, values,
                   pt.npar, pt.meanstructure)

    def _entries(self, theta, free, rows, values):
        fixed = values[..., rows]       # values may carry θ's batch dimensions
        if not len(free):
            return np.zeros(theta.shape[:-1] + (0,))
        return np.where(free >= 0, theta[..., np.maximum(free, 0)], fixed)

    # -- matrices ------------------------------------------------------------
    def matrices(self, theta: np.ndarray, values: np.ndarray | None = None):
        """A, S, m at θ (fixed entries from `values`, the table's fixed values)."""
        vals = self.fixed_values if values is None else values
        theta = np.asarray(theta, dtype=float)
        batch = theta.shape[:-1]
        n = self.n_all
        A = np.zeros(batch + (n, n))
        S = np.zeros(batch + (n, n))
        m = np.zeros(batch + (n,))
        A[..., self.a_ij[:, 0], self.a_ij[:, 1]] = self._entries(theta, self.a_free, self.a_rows, vals)
        s = self._entries(theta, self.s_free, self.s_rows, vals)
        S[..., self.s_ij[:, 0], self.s_ij[:, 1]] = s
        S[..., self.s_ij[:, 1], self.s_ij[:, 0]] = s
        if len(self.m_rows):
            m[..., self.m_i] = self._entries(theta, self.m_free, self.m_rows, vals)
        return A, S, m

    def _memo(self, kind, theta, values, compute):
        """Results for a single θ are kept for the last few θ: inference asks
        for the implied moments and the Jacobian at θ̂ many times over."""
        theta = np.asarray(theta, dtype=float)
        if theta.ndim != 1:
            return compute()
        vals = self.fixed_values if values is None else values
        return at_point(self, "_memo_" + kind, (theta, vals), compute, keep=16)

    def implied(self, theta, values=None):
        """(Sigma, mu, B, total covariance of all variables, A, S, m)."""
        return self._memo("implied", theta, values, lambda: self._implied(theta, values))

    def _implied(self, theta, values=None):
        A, S, m = self.matrices(theta, values)
        p = self.n_obs
        if not len(self.a_rows):
            # no path at all (saturated and baseline tables): B = I
            B = np.broadcast_to(np.eye(self.n_all), A.shape)
            return S[..., :p, :p], m[..., :p], B, S, A, S, m
        B = np.linalg.inv(np.eye(self.n_all) - A)
        full = B @ S @ np.swapaxes(B, -1, -2)
        Bm = (B @ m[..., None])[..., 0]
        return full[..., :p, :p], Bm[..., :p], B, full, A, S, m

    @property
    def _scatters(self):
        # cached on first use; frozen dataclass, so store via object.__setattr__
        cache = self.__dict__.get("_scatter_cache")
        if cache is None:
            k = self.npar
            cache = (_scatter(self.a_free, k), _scatter(self.s_free, k),
                     _scatter(self.m_free, k),
                     np.where(self.s_ij[:, 0] == self.s_ij[:, 1], 0.5, 1.0))
            object.__setattr__(self, "_scatter_cache", cache)
        return cache

    def jacobian(self, theta, values=None) -> np.ndarray:
        """d(moments)/dθ: rows are mu (if meanstructure) then vech(Sigma)
        (lower triangle, column by column), columns the free parameters."""
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 1 and not np.any(self.a_free >= 0):
            # no free regression (A) entry: the moments are linear in θ, so the
            # Jacobian is the same at every θ (a saturated model's): one per
            # set of fixed values
            return self._memo("jacobian", np.zeros(0), values,
                              lambda: self._jacobian(theta, values))
        return self._memo("jacobian", theta, values, lambda: self._jacobian(theta, values))

    def _jacobian(self, theta, values=None) -> np.ndarray:
        # B, B S B' and B m as `implied` has them (for one θ usually already
        # computed at this θ: scoring asks for the value before the gradient)
        _, _, B, full, _, _, m = self.implied(theta, values)
        p = self.n_obs
        FB = B[..., :p, :]                          # (..., p, n)
        full_F = full[..., :, :p]                   # (..., n, p)
        Bm = (B @ m[..., None])[..., 0]
        li, lj = vech_indices(p)
        MA, MS, Mm, s_diag = self._scatters

        ai, aj = self.a_ij[:, 0], self.a_ij[:, 1]
        U = FB[..., :, ai]                          # (..., p, nA)
        W = np.swapaxes(full_F[..., aj, :], -1, -2)   # (..., p, nA)
        dA = U[..., li, :] * W[..., lj, :] + U[..., lj, :] * W[..., li, :]
        si, sj = self.s_ij[:, 0], self.s_ij[:, 1]
        U1, U2 = FB[..., :, si], FB[..., :, sj]
        dS = (U1[..., li, :] * U2[..., lj, :] + U2[..., li, :] * U1[..., lj, :]) * s_diag
        J_cov = dA @ MA + dS @ MS
        if not self.meanstructure:
            return J_cov
        J_mu = (U * Bm[..., aj][..., None, :]) @ MA
        if len(self.m_i):
            J_mu = J_mu + FB[..., :, self.m_i] @ Mm
        return np.concatenate([J_mu, J_cov], axis=-2)

    def curvature(self, theta, values, G, g_mu=None) -> np.ndarray:
        """k x k Hessian in θ of tr(G Σ(θ)) + g_mu·μ(θ) at fixed symmetric G
        (p x p) and g_mu: the second-order term of a Hessian by the chain
        rule (G = dF/dΣ, g_mu = dF/dμ).  Only the paths A make the moments
        non-linear in θ.  With B = (I − A)⁻¹, C = B S B', u = B m, H = F'GF,
        K = B'HB, κ = B'F'g_mu and the unit matrices E_a = e_i e_j' of A
        entries, E_s = e_i e_j' + e_j e_i' (or e_i e_i') of S entries:

            d²/da db = 2B[j_b,i_a]·(CHB)[j_a,i_b] + 2B[j_a,i_b]·(CHB)[j_b,i_a]
                       + 2C[j_a,j_b]·K[i_a,i_b]
                       + κ[i_b]·B[j_b,i_a]·u[j_a] + κ[i_a]·B[j_a,i_b]·u[j_b]
            d²/da ds = 2 e_j_a' B E_s K e_i_a
            d²/da dm = κ[i_a]·B[j_a,i_m]

        (S and m enter linearly: no other second derivative)."""
        k = self.npar
        if not np.any(self.a_free >= 0):
            return np.zeros((k, k))
        _, _, B, C, _, _, m = self.implied(theta, values)
        p, n = self.n_obs, self.n_all
        H = np.zeros((n, n))
        H[:p, :p] = G
        K = B.T @ H @ B
        CHB = C @ H @ B
        MA, MS, Mm, s_diag = self._scatters
        ai, aj = self.a_ij[:, 0], self.a_ij[:, 1]
        Bji = B[aj[None, :], ai[:, None]]                                  # B[j_b, i_a]
        X = 2.0 * Bji * CHB[aj[:, None], ai[None, :]]
        mean = self.meanstructure and g_mu is not None
        if mean:
            kappa = g_mu @ B[:p]
            X = X + Bji * kappa[ai[None, :]] * (B @ m)[aj[:, None]]
        H_AA = X + X.T + 2.0 * C[aj[:, None], aj[None, :]] * K[ai[:, None], ai[None, :]]
        si, sj = self.s_ij[:, 0], self.s_ij[:, 1]
        H_AS = 2.0 * s_diag * (B[aj[:, None], si[None, :]] * K[sj[None, :], ai[:, None]]
                               + B[aj[:, None], sj[None, :]] * K[si[None, :], ai[:, None]])
        cross = MA.T @ H_AS @ MS
        if mean and len(self.m_i):
            cross = cross + MA.T @ (kappa[ai][:, None] * B[aj[:, None], self.m_i[None, :]]) @ Mm
        return MA.T @ H_AA @ MA + cross + cross.T
