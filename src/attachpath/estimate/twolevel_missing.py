"""Two-level full-information ML: session rows with missing cells, clients
with missing between-level values (lavaan's two-level missing = "ml").

A cluster j of n rows is one draw of the stacked vector
x_j = (z_j, y_1j, ..., y_nj) with mean (μ_z, μ_y, ..., μ_y) and covariance

    Σ_n = A V_B A' + blockdiag(0, I_n ⊗ Σ_W,yy)        (= I⊗Σ_W + 11'⊗Σ_B on y)

where V_B = E_B Σ_B E_B' is the between covariance of (z, y) and A stacks
(z, y) n times (../shared/notes/multilevel.md §3, Rosseel 2021).  Its
log-likelihood is the normal density of the observed entries of x_j, so two-
level FIML is single-level FIML (estimate/fiml.py) on the stacked vectors,
one stacked data set per distinct cluster size: clusters of the same size
and the same observed cells share Σ_oo and are one pattern there.  Rows are
exchangeable within a cluster, so each cluster's rows are sorted by their
missing-data pattern first: clusters whose rows differ only in order then
share a pattern.

Derivatives with respect to Σ_n fold back onto the level moments:
dℓ/dV_B = A'GA, dℓ/dΣ_W = the sum of G's diagonal row blocks, dℓ/dμ = A'g;
twolevel.py's model (E_W/E_B placement, RAM Jacobians) takes them on to θ.
Evaluations cost O(P·k³) for P stacked patterns of k observed cells: at
most one per cluster, fewer where clusters share sizes and patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import DataError
from . import fiml
from . import twolevel as tl
from .clusters import Clusters
from .ml import LOG2PI


@dataclass(frozen=True, eq=False)
class SizeBlock:
    """The clusters of one size n as stacked vectors (z, y_1, ..., y_n)."""

    size: int
    clusters: np.ndarray        # their cluster numbers (0..J-1)
    data: fiml.MissingData      # one row per cluster, the stacked vector
    index: np.ndarray           # stacked position -> position in (z, y)
    same_row: np.ndarray        # p_st x p_st: both positions y of one row

    def stacked(self, mu, VB, VW):
        """(μ_n, Σ_n) from the between-space moments (batch dims kept)."""
        i = self.index
        sigma = VB[..., i[:, None], i[None, :]] + VW[..., i[:, None], i[None, :]] * self.same_row
        return mu[..., i], sigma

    def fold(self, g_mu, G):
        """dℓ/d(μ, V_B, V_W) in between space from dℓ/d(μ_n, Σ_n)."""
        A = self.A
        return g_mu @ A, A.T @ G @ A, A.T @ (G * self.same_row) @ A

    @cached_property
    def A(self) -> np.ndarray:
        """p_st x q: stacked position <- position in (z, y)."""
        A = np.zeros((len(self.index), int(self.index.max()) + 1))
        A[np.arange(len(self.index)), self.index] = 1.0
        return A


@dataclass(frozen=True, eq=False)
class TwoLevelMissingData(tl.ClusteredRows):
    """Session rows with missing values grouped as stacked cluster vectors.

    y: the level-1 variables, z: the between-only ones (names as in
    twolevel.TwoLevelData, so twolevel.TwoLevelModel places the model's
    moments).  rows: N x p_y with NaN; d: J x (p_z + p_y) cluster means of
    the observed values (NaN where a cluster has none)."""

    y: tuple[str, ...]
    z: tuple[str, ...]
    n: int
    clusters: Clusters
    rows: np.ndarray
    d: np.ndarray
    blocks: tuple[SizeBlock, ...]
    n_observed: int                 # observed cells: N·p_y + J·p_z when complete

    @property
    def patterns(self) -> int:
        return sum(len(b.data.patterns) for b in self.blocks)

    @classmethod
    def from_array(cls, X: np.ndarray, names, y, z, clusters: Clusters,
                   row_ids=None) -> "TwoLevelMissingData":
        """From rows X (columns `names`, NaN = missing; no row entirely
        missing) with cluster codes.  A between-only variable must be
        constant over the rows of a cluster where it is observed."""
        pos = {v: i for i, v in enumerate(names)}
        Y = X[:, [pos[v] for v in y]]
        Z = X[:, [pos[v] for v in z]]
        codes = clusters.codes
        if clusters.n == len(codes):
            raise DataError(
                f"Every cluster of '{clusters.name}' has a single row, so there is no "
                f"within-cluster part to model: a two-level spec needs repeated rows "
                f"per {clusters.name} (e.g. sessions). Fit a single-level spec to "
                f"these data instead.")
        zbar = _nan_cluster_mean(clusters, Z)
        if Z.shape[1]:
            dev = np.abs(Z - zbar[codes])
            bad = dev > 1e-9 * np.maximum(1.0, np.abs(zbar[codes]))
            if bad.any():
                i, k = map(int, np.argwhere(bad)[0])
                j = codes[i]
                rows_j = clusters.members()[j]
                first = rows_j[~np.isnan(Z[rows_j, k])][0]
                raise DataError(
                    f"'{z[k]}' is a level-2 (between-only) variable but varies within "
                    f"{clusters.name} {clusters.ids[j]}: {Z[first, k]:g} and "
                    f"{Z[i, k]:g}. Correct the value, or model '{z[k]}' at level 1 too.",
                    column=z[k], row=None if row_ids is None else row_ids[i],
                    value=float(Z[i, k]))
        ybar = _nan_cluster_mean(clusters, Y)
        for k, v in enumerate(y):
            r = Y[:, k] - ybar[codes, k]
            ok = ~np.isnan(r)
            if not ok.any():
                raise DataError(f"'{v}' is missing in every row: it cannot be modelled.",
                                column=v)
            if np.sum(r[ok] ** 2) <= 1e-12 * max(1.0, float(np.sum(Y[ok, k] ** 2))):
                raise DataError(
                    f"'{v}' is a level-1 variable but has no variance within "
                    f"{clusters.name}s (it is constant in every {clusters.name}); "
                    f"model it at level 2 only.", column=v)
        for k, v in enumerate(z):
            if np.all(np.isnan(zbar[:, k])):
                raise DataError(f"'{v}' is missing in every row: it cannot be modelled.",
                                column=v)
        blocks = _size_blocks(clusters, Y, zbar)
        n_obs = int(np.sum(~np.isnan(Y)) + np.sum(~np.isnan(zbar)))
        return cls(tuple(y), tuple(z), int(X.shape[0]), clusters, Y,
                   np.hstack([zbar, ybar]), blocks, n_obs)

    def completed(self) -> tl.TwoLevelData:
        """The rows with each missing value replaced by its cluster's mean
        (the grand mean where the cluster has none): complete data whose
        moments are start values for the saturated model."""
        codes = self.clusters.codes
        grand = np.nanmean(self.d, axis=0)
        d = np.where(np.isnan(self.d), grand, self.d)
        pz = len(self.z)
        Y = np.where(np.isnan(self.rows), d[codes, pz:], self.rows)
        X = np.hstack([d[codes, :pz], Y])
        return tl.TwoLevelData.from_array(X, self.names, self.y, self.z, self.clusters)


def _nan_cluster_mean(clusters: Clusters, V: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(V)
    total = clusters.sum(np.where(ok, V, 0.0))
    count = clusters.sum(ok.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _size_blocks(clusters: Clusters, Y: np.ndarray, zbar: np.ndarray):
    """One stacked data set per distinct cluster size; the rows of each
    cluster sorted by their pattern of observed cells."""
    py, pz = Y.shape[1], zbar.shape[1]
    code = (~np.isnan(Y)).astype(np.int64) @ (1 << np.arange(py, dtype=np.int64))
    members = clusters.members()
    sizes = clusters.sizes
    out = []
    for n in np.unique(sizes):
        js = np.flatnonzero(sizes == n)
        S = np.empty((len(js), pz + n * py))
        for r, j in enumerate(js):
            rows = members[j]
            rows = rows[np.argsort(code[rows], kind="stable")]
            S[r, :pz] = zbar[j]
            S[r, pz:] = Y[rows].ravel()
        index = np.concatenate([np.arange(pz), np.tile(pz + np.arange(py), n)]).astype(int)
        row_of = np.concatenate([np.full(pz, -1), np.repeat(np.arange(n), py)])
        same = ((row_of[:, None] == row_of[None, :]) & (row_of[:, None] >= 0)).astype(float)
        out.append(SizeBlock(int(n), js, fiml.MissingData.from_array(S), index, same))
    return tuple(out)


# -- likelihood, gradient, information, scores ------------------------------------------

def loglik(model: tl.TwoLevelModel, theta, values):
    """ℓ at θ (batch dimensions allowed); −inf where an observed block is
    not positive definite."""
    _, mu, VB, VW = model.between(theta, values)
    total = 0.0
    for b in model.data.blocks:
        total = total + fiml.loglik(b.data, *b.stacked(mu, VB, VW))
    return float(total) if np.ndim(total) == 0 else total


def moment_gradient(model: tl.TwoLevelModel, theta, values):
    """dℓ/d(μ, V_B, V_W) in between space (batch dimensions kept)."""
    _, mu, VB, VW = model.between(theta, values)
    g_mu = np.zeros(mu.shape)
    GB = np.zeros(VB.shape)
    GW = np.zeros(VW.shape)
    for b in model.data.blocks:
        gm, gb, gw = b.fold(*fiml.moment_gradient(b.data, *b.stacked(mu, VB, VW)))
        g_mu, GB, GW = g_mu + gm, GB + gb, GW + gw
    return g_mu, GB, GW


def gradient(model: tl.TwoLevelModel, theta, values) -> np.ndarray:
    """dℓ/dθ (analytic; θ may carry leading batch dimensions)."""
    g_mu, GB, GW = moment_gradient(model, theta, values)
    return tl.chain(model, theta, values, g_mu, tl._vechw(GB), tl._vechw(GW) @ model.L_W)


def scores(model: tl.TwoLevelModel, theta, values) -> np.ndarray:
    """J x k matrix of dℓ_j/dθ, one row per cluster (their sum is the gradient)."""
    data = model.data
    _, mu, VB, VW = model.between(theta, values)
    q = mu.shape[-1]
    g_mu = np.zeros((data.n_clusters, q))
    GB = np.zeros((data.n_clusters, q, q))
    GW = np.zeros((data.n_clusters, q, q))
    for b in data.blocks:
        m, S = b.stacked(mu, VB, VW)
        p = len(m)
        for pat in b.data.patterns:
            o = pat.observed
            inv = np.linalg.inv(S[np.ix_(o, o)])
            U = (b.data.X[np.ix_(pat.rows, o)] - m[o]) @ inv          # clusters x |o|
            G = np.zeros((pat.n, p, p))
            G[:, o[:, None], o[None, :]] = -0.5 * (inv[None] - U[:, :, None] * U[:, None, :])
            u = np.zeros((pat.n, p))
            u[:, o] = U
            js = b.clusters[pat.rows]
            g_mu[js], GB[js], GW[js] = b.fold(u, G)
    return tl.chain(model, theta, values, g_mu, tl._vechw(GB), tl._vechw(GW) @ model.L_W)


def expected_information(model: tl.TwoLevelModel, theta, values) -> np.ndarray:
    """Expected information of ℓ (total) at θ: per stacked pattern,
    Δμ'Σ_oo⁻¹Δμ + ½tr(Σ_oo⁻¹ ∂Σ_oo Σ_oo⁻¹ ∂Σ_oo), with the derivatives of
    (μ_n, Σ_n) from those of the level moments."""
    _, mu, VB, VW = model.between(theta, values)
    dmu, dVB, dVW = _moment_jacobian(model, theta, values)
    k = dmu.shape[-1]
    info = np.zeros((k, k))
    for b in model.data.blocks:
        _, S = b.stacked(mu, VB, VW)
        i = b.index
        dS = (dVB[i[:, None], i[None, :]] + dVW[i[:, None], i[None, :]]
              * b.same_row[:, :, None])                                  # p_st x p_st x k
        dM = dmu[i]
        for pat in b.data.patterns:
            o = pat.observed
            inv = np.linalg.inv(S[np.ix_(o, o)])
            D = dM[o]
            P = np.einsum("ab,bck->kac", inv, dS[np.ix_(o, o)])          # k x |o| x |o|
            info += pat.n * (D.T @ inv @ D + 0.5 * np.einsum("kab,lba->kl", P, P))
    return info


def _moment_jacobian(model: tl.TwoLevelModel, theta, values):
    """d μ / dθ (q x k) and d V_B / dθ, d V_W / dθ (q x q x k) in between space."""
    J1, J2 = model.jacobians(theta, values)
    p1, p2 = model.E_W.shape[1], model.E_B.shape[1]
    dmu = model.E_B @ J2[:p2] + model.E_W @ J1[:p1]

    def unvech(E, Jcov, p):
        from .ram import vech_indices
        li, lj = vech_indices(p)
        D = np.zeros((p, p, Jcov.shape[-1]))
        D[li, lj] = Jcov
        D[lj, li] = Jcov
        return np.einsum("ia,abk,jb->ijk", E, D, E)
    return dmu, unvech(model.E_B, J2[p2:], p2), unvech(model.E_W, J1[p1:], p1)


def constant(data: TwoLevelMissingData) -> float:
    """½·(observed cells)·log 2π: the part of −ℓ that no model changes."""
    return 0.5 * data.n_observed * LOG2PI
