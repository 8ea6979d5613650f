"""Full-information ML with missing values (lavaan's missing = "ml").

Each row contributes the normal density of its observed values; rows with
the same missing-data pattern share the observed set o, so per pattern p
with n_p rows, mean MY_p and biased covariance SY_p of its observed values

    ℓ_p = −½·n_p·[|o|·log 2π + log|Σ_oo| + tr(Σ_oo⁻¹(SY_p + (MY_p − μ_o)(MY_p − μ_o)'))]

(../shared/notes/multilevel.md §3).  After one pass over the rows each
evaluation costs O(P·p³) for P patterns.  The functions here work on the
moments (μ, Σ) of the observed variables; likelihood.FIML chains them
through the model's RAM Jacobian.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .ml import LOG2PI, dup_kron
from .ram import vech_indices
from .recent import at_point


@dataclass(frozen=True, eq=False)
class Pattern:
    observed: np.ndarray     # indices of the observed variables
    rows: np.ndarray         # row indices of the pattern
    mean: np.ndarray         # MY_p
    cov: np.ndarray          # SY_p (divisor n_p)

    @property
    def n(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, eq=False)
class Group:
    """Patterns of similar size stacked so that one batched call serves all
    of them: each is padded to the largest K of the group, its padded
    positions given unit variance and no data, so that they add nothing to
    ℓ (log 1 = 0, zero residuals) and, with zero rows in E and L, nothing to
    its derivatives.  Fewer, larger batches: numpy's per-call overhead, not
    arithmetic, is what a fit with many small patterns pays for."""

    O: np.ndarray           # P x K observed indices (0 at padded positions)
    mask: np.ndarray        # P x K: position observed
    k: np.ndarray           # P observed count
    n: np.ndarray           # P rows per pattern
    mean: np.ndarray        # P x K (0 padded)
    cov: np.ndarray         # P x K x K (0 padded)
    E: np.ndarray           # P x K x p one-hot placement (0 rows padded)
    L: np.ndarray           # P x K(K+1)/2 x p(p+1)/2 one-hot vech placement (0 rows padded)
    both: np.ndarray        # P x K x K: both positions observed
    fill: np.ndarray        # P x K x K: 1 on the padded diagonal

    def blocks(self, sigma):
        """Σ_oo of every pattern, padded (batch dimensions of Σ kept)."""
        S = sigma[..., self.O[:, :, None], self.O[:, None, :]]
        return S * self.both + self.fill

    def residual(self, mu):
        """MY_p − μ_o, zero at padded positions."""
        return (self.mean - mu[..., self.O]) * self.mask


def buckets(sizes) -> list[np.ndarray]:
    """Indices of the patterns (by observed count `sizes`) in each group:
    sorted by size, a group closed when the next size exceeds 1.1 x its
    smallest + 2, so that padding adds little arithmetic while patterns of
    nearly the same size share one call (on the study's stacked clients,
    k = 5..23: 6 groups, the information about twice as fast as with one
    padded group or one group per size)."""
    order = np.argsort(sizes, kind="stable")
    out, start = [], 0
    for i in range(1, len(order) + 1):
        if i == len(order) or sizes[order[i]] > 1.1 * sizes[order[start]] + 2:
            out.append(order[start:i])
            start = i
    return out


def padded(items, K: int):
    """(O, mask, both, fill) of index arrays `items` padded to K."""
    P = len(items)
    O = np.zeros((P, K), dtype=int)
    mask = np.zeros((P, K), dtype=bool)
    for i, o in enumerate(items):
        O[i, :len(o)] = o
        mask[i, :len(o)] = True
    both = (mask[:, :, None] & mask[:, None, :]).astype(float)
    fill = np.eye(K) * (~mask)[:, :, None]
    return O, mask, both, fill


@dataclass(frozen=True, eq=False)
class MissingData:
    """Rows with missing values grouped by pattern (rows missing on every
    variable are left out by the caller)."""

    X: np.ndarray
    patterns: tuple[Pattern, ...]

    @cached_property
    def groups(self) -> tuple[Group, ...]:
        """The patterns in padded groups for batched evaluation (built when
        first needed: the two-level stacked data group their patterns
        themselves, twolevel_missing.StackedGroup)."""
        return _groups(self.patterns, self.p)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def p(self) -> int:
        return self.X.shape[1]

    @classmethod
    def from_array(cls, X: np.ndarray) -> "MissingData":
        obs = ~np.isnan(X)
        masks, inverse = np.unique(obs, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        patterns = []
        for k, mask in enumerate(masks):
            rows = np.flatnonzero(inverse == k)
            o = np.flatnonzero(mask)
            Y = X[np.ix_(rows, o)]
            mean = Y.mean(axis=0)
            R = Y - mean
            patterns.append(Pattern(o, rows, mean, R.T @ R / len(rows)))
        return cls(X, tuple(patterns))

    def start_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Available-case means and variances, zero covariances (lavaan's
        EM start)."""
        mu = np.nanmean(self.X, axis=0)
        var = np.nanvar(self.X, axis=0)
        return mu, np.diag(np.where(var > 0, var, 1.0))


def _groups(patterns, p) -> tuple[Group, ...]:
    m = p * (p + 1) // 2
    out = []
    for idx in buckets(np.array([len(pat.observed) for pat in patterns])):
        pats = [patterns[i] for i in idx]
        K = max(len(pat.observed) for pat in pats)
        P = len(pats)
        O, mask, both, fill = padded([pat.observed for pat in pats], K)
        E = np.zeros((P, K, p))
        E[np.nonzero(mask)[0], np.nonzero(mask)[1], O[mask]] = 1.0
        L = np.zeros((P, K * (K + 1) // 2, m))
        mean = np.zeros((P, K))
        cov = np.zeros((P, K, K))
        li, lj = vech_indices(K)
        for i, pat in enumerate(pats):
            k = len(pat.observed)
            kept = np.flatnonzero((li < k) & (lj < k))     # vech(Σ_oo) within vech of K
            L[i, kept, _vech_positions(p, pat.observed)] = 1.0
            mean[i, :k] = pat.mean
            cov[i, :k, :k] = pat.cov
        out.append(Group(O, mask, mask.sum(axis=1).astype(float),
                         np.array([pat.n for pat in pats], dtype=float), mean, cov, E, L,
                         both, fill))
    return tuple(out)


def loglik(data: MissingData, mu, sigma):
    """ℓ at (μ, Σ) (leading batch dimensions allowed); −inf where an
    observed block is not positive definite."""
    total, ok = 0.0, True
    for g, (fac, d) in zip(data.groups, _factors(data, mu, sigma)):
        ll, good = group_loglik(g, fac, d)
        total, ok = total + ll, ok & good
    out = np.where(ok, total, -np.inf)
    return float(out) if np.ndim(out) == 0 else out


def _factors(data: MissingData, mu, sigma):
    """[(factor, residual) per group] at (μ, Σ), kept for the last few
    single (μ, Σ): a scoring step asks for the value, then the gradient and
    the information, at one point."""
    if np.ndim(mu) != 1:
        return [(factor(g.blocks(sigma)), g.residual(mu)) for g in data.groups]
    return at_point(data, "_factor_memo", (mu, sigma),
                    lambda: [(factor(g.blocks(sigma)), g.residual(mu)) for g in data.groups])


def factor(S):
    """(Σ_oo⁻¹, log|Σ_oo|, positive definite) of padded blocks S (batch
    dimensions kept): what the value, gradient and informations share.  A
    block that is not positive definite is inverted as the identity (the
    value is then −inf, see group_loglik)."""
    sign, logdet = np.linalg.slogdet(S)
    good = sign > 0
    inv = np.linalg.inv(np.where(good[..., None, None], S, np.eye(S.shape[-1])))
    return inv, logdet, good


def group_loglik(g, fac, d):
    """(ℓ summed over a group's patterns, all blocks positive definite) from
    their factor() and residuals d (batch dimensions kept); g needs n, k,
    cov (this module's Group or a two-level one)."""
    inv, logdet, good = fac
    T = g.cov + d[..., :, None] * d[..., None, :]
    tr = np.sum(inv * T, axis=(-2, -1))          # tr(Σ⁻¹T), both symmetric
    return -0.5 * np.sum(g.n * (g.k * LOG2PI + logdet + tr), axis=-1), np.all(good, axis=-1)


def group_derivatives(g, fac, d):
    """(u, M): dℓ/dμ_o and dℓ/dΣ_oo of each pattern of a group (n_p-weighted;
    at padded positions u is 0 and M is to be dropped by the placement)."""
    inv = fac[0]
    T = g.cov + d[..., :, None] * d[..., None, :]
    u = np.einsum("...Pij,...Pj->...Pi", inv, d) * g.n[:, None]
    M = -0.5 * g.n[:, None, None] * (inv - inv @ T @ inv)
    return u, M


def moment_gradient(data: MissingData, mu, sigma):
    """(dℓ/dμ, dℓ/dΣ as a symmetric matrix derivative); μ and Σ may carry
    leading batch dimensions (a numerical Hessian is one call)."""
    p = data.p
    g_mu = np.zeros(mu.shape[:-1] + (p,))
    G = np.zeros(mu.shape[:-1] + (p, p))
    for g, (fac, d) in zip(data.groups, _factors(data, mu, sigma)):
        u, M = group_derivatives(g, fac, d)
        g_mu += np.sum(np.einsum("...Pk,Pkp->...Pp", u, g.E), axis=-2)
        G += np.sum(np.swapaxes(g.E, -1, -2) @ M @ g.E, axis=-3)
    return g_mu, G


def moment_information(data: MissingData, sigma) -> np.ndarray:
    """Expected information of ℓ in (μ, vech Σ), summed over patterns."""
    p = data.p
    m = p * (p + 1) // 2
    info = np.zeros((p + m, p + m))
    for g in data.groups:
        inv = np.linalg.inv(g.blocks(sigma))
        # E' inv E and L' W L per pattern as batched matrix products (an
        # einsum of four operands here took seconds)
        w = g.n[:, None, None]
        info[:p, :p] += np.sum(np.swapaxes(g.E, 1, 2) @ (w * inv) @ g.E, axis=0)
        W = 0.5 * dup_kron(inv, inv)
        info[p:, p:] += np.sum(np.swapaxes(g.L, 1, 2) @ (w * W) @ g.L, axis=0)
    return info


def moment_observed_information(data: MissingData, mu, sigma) -> np.ndarray:
    """−d²ℓ/dη dη' in η = (μ, vech Σ), analytic.  Per pattern (n_p rows,
    P = Σ_oo⁻¹, d = MY_p − μ_o, v = Pd, T = SY_p + dd', Q = PTP):
    μμ: n_p·P; μ_i σ_ab: n_p·(v_a P_bi + v_b P_ai); σσ: n_p·D'(Q⊗P − ½P⊗P)D
    (its expectation, Q → P and v → 0, is moment_information)."""
    p = data.p
    m = p * (p + 1) // 2
    info = np.zeros((p + m, p + m))
    for g, ((inv, _, _), d) in zip(data.groups, _factors(data, mu, sigma)):
        T = g.cov + d[:, :, None] * d[:, None, :]
        Q = inv @ T @ inv
        v = np.einsum("Pij,Pj->Pi", inv, d)
        K = inv.shape[-1]
        li, lj = vech_indices(K)
        # cross[P, i, (a, b)] = v_a P_bi + v_b P_ai, the diagonal (a = b) once
        cross = (v[:, None, li] * inv[:, lj, :].transpose(0, 2, 1)
                 + v[:, None, lj] * inv[:, li, :].transpose(0, 2, 1)) * np.where(li == lj, 0.5, 1.0)
        w = g.n[:, None, None]
        Et, Lt = np.swapaxes(g.E, 1, 2), np.swapaxes(g.L, 1, 2)
        info[:p, :p] += np.sum(Et @ (w * inv) @ g.E, axis=0)
        info[:p, p:] += np.sum(Et @ (w * cross) @ g.L, axis=0)
        W = dup_kron(Q, inv) - 0.5 * dup_kron(inv, inv)
        info[p:, p:] += np.sum(Lt @ (w * W) @ g.L, axis=0)
    info[p:, :p] = info[:p, p:].T
    return info


def _vech_positions(p: int, o: np.ndarray) -> np.ndarray:
    """Positions in vech(Σ) (of p variables) of the entries of vech(Σ_oo)."""
    li, lj = vech_indices(p)
    pos = np.full((p, p), -1)
    pos[li, lj] = pos[lj, li] = np.arange(len(li))
    io, jo = vech_indices(len(o))
    return pos[o[io], o[jo]]


def moment_scores(data: MissingData, mu, sigma) -> np.ndarray:
    """N x (p + p(p+1)/2) casewise dℓ_i/d(μ, vech Σ) (vech derivatives:
    off-diagonal entries count twice)."""
    n, p = data.X.shape
    li, lj = vech_indices(p)
    out = np.zeros((n, p + len(li)))
    weight = np.where(li == lj, 1.0, 2.0)
    for pat in data.patterns:
        o = pat.observed
        inv = np.linalg.inv(sigma[np.ix_(o, o)])
        U = (data.X[np.ix_(pat.rows, o)] - mu[o]) @ inv         # n_p x |o|
        G = np.zeros((pat.n, p, p))
        G[:, o[:, None], o[None, :]] = -0.5 * (inv[None] - U[:, :, None] * U[:, None, :])
        block = np.zeros((pat.n, p + len(li)))
        block[:, o] = U
        block[:, p:] = weight * G[:, li, lj]
        out[pat.rows] = block
    return out


class Saturated:
    """The saturated model in its moments η = (μ, vech Σ), in the shape
    scoring.fisher_scoring takes (F = −2ℓ/N)."""

    def __init__(self, data: MissingData):
        self.data = data
        self.li, self.lj = vech_indices(data.p)

    def unpack(self, eta):
        p = self.data.p
        S = np.zeros(eta.shape[:-1] + (p, p))
        S[..., self.li, self.lj] = eta[..., p:]
        S[..., self.lj, self.li] = eta[..., p:]
        return eta[..., :p], S

    def pack(self, mu, sigma):
        return np.concatenate([mu, sigma[self.li, self.lj]])

    def discrepancy(self, eta):
        return -2.0 * loglik(self.data, *self.unpack(eta)) / self.data.n

    def gradient(self, eta):
        g_mu, G = moment_gradient(self.data, *self.unpack(eta))
        w = np.where(self.li == self.lj, 1.0, 2.0)
        return -2.0 / self.data.n * np.concatenate([g_mu, w * G[..., self.li, self.lj]],
                                                   axis=-1)

    def expected_information(self, eta):
        return moment_information(self.data, self.unpack(eta)[1]) / self.data.n

    # Newton steps wherever the (analytic) Hessian is positive definite, else
    # scoring (scoring.step_information): with missing values scoring alone
    # converges only linearly (22 steps to max |dF/dη| < 1e-12 on the
    # study's clients, against 4 with Newton after the EM steps)
    newton_below = np.inf

    def observed_information(self, eta):
        return moment_observed_information(self.data, *self.unpack(eta)) / self.data.n


def saturated(data: MissingData, tol: float = 1e-12, max_iter: int = 200):
    """The saturated model's ML moments (lavaan's h1), run to convergence: a
    few EM steps from lavaan's start (available-case means and variances,
    zero covariances), then Fisher scoring on (μ, vech Σ) until
    max |dF/dη| < tol (lavaan's EM stops at max |Δ| < 1e-5).
    Returns (μ, Σ, iterations)."""
    from .scoring import fisher_scoring
    sat = Saturated(data)
    mu, sigma = _em(data, *data.start_moments(), steps=3)
    eta, it, _ = fisher_scoring(sat, sat.pack(mu, sigma), max_iter=max_iter, tol=tol)
    return (*sat.unpack(eta), it + 3)


def _em(data: MissingData, mu, sigma, steps: int):
    """`steps` EM iterations for the saturated moments, from each pattern's
    mean and covariance: its rows' expected full vectors are the affine map
    z = μ + A(y − μ_o), A = Σ_{·o}Σ_oo⁻¹ (the identity on the observed
    rows), so Σz = n(μ + A d) and Σzz' = n(A C A' + z̄z̄') plus n times the
    conditional covariance Σ − A Σ_{o·} of the missing part."""
    for _ in range(steps):
        T1 = 0.0
        T2 = 0.0
        for g in data.groups:
            cols = sigma[:, g.O].transpose(1, 0, 2) * g.mask[:, None, :]    # P x p x K
            A = cols @ np.linalg.inv(g.blocks(sigma))
            z = mu + np.einsum("Ppk,Pk->Pp", A, g.residual(mu))
            second = (A @ g.cov @ np.swapaxes(A, 1, 2) + z[:, :, None] * z[:, None, :]
                      + sigma - A @ np.swapaxes(cols, 1, 2))
            T1 = T1 + g.n @ z
            T2 = T2 + np.einsum("P,Pij->ij", g.n, second)
        mu = T1 / data.n
        sigma = T2 / data.n - np.outer(mu, mu)
        sigma = 0.5 * (sigma + sigma.T)
    return mu, sigma
