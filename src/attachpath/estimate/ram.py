"""Model-implied moments and their derivatives, in RAM form.

Variables are the observed ones followed by the latent ones.  A holds the
directed paths (A[i, j] is the effect of j on i), S the (residual) variances
and covariances, m the intercepts.  With B = (I - A)^-1 and F the selection
of the observed rows:

    Sigma = F B S B' F',      mu = F B m.

Everything the estimator needs beyond semopy's point estimates (gradients,
information matrices, casewise scores, standardized values) is computed from
these closed forms, vectorised with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..partable import ParTable


@dataclass(frozen=True)
class RAM:
    """Where each parameter-table row lives in the matrices."""

    n_obs: int
    n_all: int
    # per matrix: row positions in the table, matrix coordinates, free index (-1 fixed)
    a_rows: np.ndarray
    a_ij: np.ndarray
    a_free: np.ndarray
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

    # -- matrices ------------------------------------------------------------
    def matrices(self, theta: np.ndarray, values: np.ndarray | None = None):
        """A, S, m at θ (fixed entries from `values`, the table's fixed values)."""
        vals = self.fixed_values if values is None else values
        n = self.n_all
        A = np.zeros((n, n))
        S = np.zeros((n, n))
        m = np.zeros(n)
        a = np.where(self.a_free >= 0, theta[self.a_free], vals[self.a_rows])
        A[self.a_ij[:, 0], self.a_ij[:, 1]] = a
        s = np.where(self.s_free >= 0, theta[self.s_free], vals[self.s_rows])
        S[self.s_ij[:, 0], self.s_ij[:, 1]] = s
        S[self.s_ij[:, 1], self.s_ij[:, 0]] = s
        if len(self.m_rows):
            m[self.m_i] = np.where(self.m_free >= 0, theta[self.m_free], vals[self.m_rows])
        return A, S, m

    def implied(self, theta, values=None):
        """(Sigma, mu, B, total covariance of all variables)."""
        A, S, m = self.matrices(theta, values)
        B = np.linalg.inv(np.eye(self.n_all) - A)
        full = B @ S @ B.T
        p = self.n_obs
        return full[:p, :p], (B @ m)[:p], B, full, A, S, m

    def jacobian(self, theta, values=None) -> np.ndarray:
        """d(moments)/dθ: rows are mu (if meanstructure) then vech(Sigma)
        (lower triangle, column by column), columns the free parameters."""
        A, S, m = self.matrices(theta, values)
        B = np.linalg.inv(np.eye(self.n_all) - A)
        p = self.n_obs
        FB = B[:p]                       # p x n
        full_F = (B @ S @ B.T)[:, :p]    # n x p : total cov with the observed
        Bm = B @ m
        li, lj = vech_indices(p)
        nmom = (p if self.meanstructure else 0) + len(li)
        J = np.zeros((nmom, self.npar))
        off = p if self.meanstructure else 0

        # paths A[i, j]: dSigma = FB[:, i] (full_F[j])' + transpose
        for (i, j), k in zip(self.a_ij, self.a_free):
            if k < 0:
                continue
            u, w = FB[:, i], full_F[j]
            J[off:, k] += u[li] * w[lj] + u[lj] * w[li]
            if self.meanstructure:
                J[:p, k] += u * Bm[j]
        for (i, j), k in zip(self.s_ij, self.s_free):
            if k < 0:
                continue
            u, w = FB[:, i], FB[:, j]
            if i == j:
                J[off:, k] += u[li] * u[lj]
            else:
                J[off:, k] += u[li] * w[lj] + w[li] * u[lj]
        if self.meanstructure:
            for i, k in zip(self.m_i, self.m_free):
                if k >= 0:
                    J[:p, k] += FB[:, i]
        return J


def vech_indices(p: int):
    """Row and column indices of the lower triangle, column by column."""
    cols, rows = np.triu_indices(p)   # upper of the transpose = lower, by column
    return rows, cols


def vech(M: np.ndarray) -> np.ndarray:
    li, lj = vech_indices(M.shape[0])
    return M[li, lj]
