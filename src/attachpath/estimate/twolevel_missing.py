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

No Σ_n is ever formed: the patterns of all sizes are padded into a few
groups of similar k (StackedGroup, fiml.buckets) whose Σ_oo are gathered
straight from V_B and Σ_W, and derivatives with respect to Σ_oo fold back
onto the level moments through the one-hot placement E of the observed
cells: dℓ/dV_B = E'GE, dℓ/dΣ_W = E'(G∘same row)E, dℓ/dμ = E'g;
twolevel.py's model (E_W/E_B placement, RAM Jacobians) takes them on to θ.
The observed information is analytic (observed_information).  Evaluations
cost O(P·k³) for P stacked patterns of k observed cells: at most one per
cluster, fewer where clusters share sizes and patterns.
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
from .recent import at_theta


@dataclass(frozen=True, eq=False)
class SizeBlock:
    """The clusters of one size n as stacked vectors (z, y_1, ..., y_n)."""

    size: int
    clusters: np.ndarray        # their cluster numbers (0..J-1)
    data: fiml.MissingData      # one row per cluster, the stacked vector
    index: np.ndarray           # stacked position -> position in (z, y)
    same_row: np.ndarray        # p_st x p_st: both positions y of one row


@dataclass(frozen=True, eq=False)
class StackedGroup:
    """Stacked patterns of all cluster sizes, padded to one K (fiml.Group's
    padding): Σ_oo = V_B[i, i'] + V_W[i, i']·same_row gathered straight from
    the between-space moments (i: position in (z, y) of each observed
    cell), so that no stacked Σ_n is ever formed and a few batched calls
    serve every size.  Its clusters' observed values (for the scores) ride
    along."""

    idx: np.ndarray         # P x K position in (z, y) (0 padded)
    mask: np.ndarray        # P x K observed
    both: np.ndarray        # P x K x K both observed
    fill: np.ndarray        # P x K x K 1 on the padded diagonal
    same: np.ndarray        # P x K x K both observed, in one row (the y of one session)
    k: np.ndarray           # P observed cells
    n: np.ndarray           # P clusters
    mean: np.ndarray        # P x K
    cov: np.ndarray         # P x K x K
    E: np.ndarray           # P x K x q one-hot placement (0 rows padded)
    X: np.ndarray           # C x K the clusters' observed cells (0 padded)
    pattern: np.ndarray     # C their pattern (0..P-1)
    cluster: np.ndarray     # C their cluster number

    def blocks(self, VB, VW):
        i, j = self.idx[:, :, None], self.idx[:, None, :]
        return (VB[..., i, j] * self.both + VW[..., i, j] * self.same) + self.fill

    def residual(self, mu):
        return (self.mean - mu[..., self.idx]) * self.mask

    def fold(self, u, M):
        """dℓ/d(μ, V_B, V_W) in between space from the observed-cell
        derivatives (u, M) of each pattern (or cluster: pass E per row)."""
        return self._fold(self.E, u, M, self.same)

    @staticmethod
    def _fold(E, u, M, same):
        Et = np.swapaxes(E, -1, -2)
        return (np.einsum("...Pk,Pkq->...Pq", u, E), Et @ M @ E, Et @ (M * same) @ E)


def _stacked_groups(blocks, q: int) -> tuple[StackedGroup, ...]:
    pats = [(b, pat) for b in blocks for pat in b.data.patterns]
    out = []
    for sel in fiml.buckets(np.array([len(pat.observed) for _, pat in pats])):
        group = [pats[i] for i in sel]
        K = max(len(pat.observed) for _, pat in group)
        P = len(group)
        idx, mask, both, fill = fiml.padded([b.index[pat.observed] for b, pat in group], K)
        same = np.zeros((P, K, K))
        mean = np.zeros((P, K))
        cov = np.zeros((P, K, K))
        X, pattern, cluster = [], [], []
        for r, (b, pat) in enumerate(group):
            o = pat.observed
            k = len(o)
            same[r, :k, :k] = b.same_row[np.ix_(o, o)]
            mean[r, :k] = pat.mean
            cov[r, :k, :k] = pat.cov
            x = np.zeros((pat.n, K))
            x[:, :k] = b.data.X[np.ix_(pat.rows, o)]
            X.append(x)
            pattern.append(np.full(pat.n, r))
            cluster.append(b.clusters[pat.rows])
        E = np.zeros((P, K, q))
        rr, cc = np.nonzero(mask)
        E[rr, cc, idx[mask]] = 1.0
        out.append(StackedGroup(idx, mask, both, fill, same, mask.sum(axis=1).astype(float),
                                np.array([pat.n for _, pat in group], dtype=float), mean, cov,
                                E, np.vstack(X), np.concatenate(pattern),
                                np.concatenate(cluster)))
    return tuple(out)


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

    @cached_property
    def groups(self) -> tuple[StackedGroup, ...]:
        return _stacked_groups(self.blocks, len(self.z) + len(self.y))

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

def _state(model: tl.TwoLevelModel, theta, values):
    """(μ, V_B, V_W, [(fiml.factor, residual) per group]) at θ: what the
    value, gradient, informations and scores share.  Kept for the last few
    single θ (a scoring step asks for the value, then the gradient and the
    information, at one θ; inference asks again at θ̂)."""
    return at_theta(model, "_fiml_state", theta, values,
                    lambda t, v: _state_at(model, t, v))


def _state_at(model, theta, values):
    _, mu, VB, VW = model.between(theta, values)
    return mu, VB, VW, [(fiml.factor(g.blocks(VB, VW)), g.residual(mu))
                        for g in model.data.groups]


def loglik(model: tl.TwoLevelModel, theta, values):
    """ℓ at θ (batch dimensions allowed); −inf where an observed block is
    not positive definite."""
    total, ok = 0.0, True
    for g, (fac, d) in zip(model.data.groups, _state(model, theta, values)[3]):
        ll, good = fiml.group_loglik(g, fac, d)
        total, ok = total + ll, ok & good
    out = np.where(ok, total, -np.inf)
    return float(out) if np.ndim(out) == 0 else out


def moment_gradient(model: tl.TwoLevelModel, theta, values):
    """dℓ/d(μ, V_B, V_W) in between space (batch dimensions kept)."""
    mu, VB, VW, parts = _state(model, theta, values)
    g_mu = np.zeros(mu.shape)
    GB = np.zeros(VB.shape)
    GW = np.zeros(VW.shape)
    for g, (fac, d) in zip(model.data.groups, parts):
        gm, gb, gw = g.fold(*fiml.group_derivatives(g, fac, d))
        g_mu, GB, GW = g_mu + gm.sum(axis=-2), GB + gb.sum(axis=-3), GW + gw.sum(axis=-3)
    return g_mu, GB, GW


def gradient(model: tl.TwoLevelModel, theta, values) -> np.ndarray:
    """dℓ/dθ (analytic; θ may carry leading batch dimensions)."""
    g_mu, GB, GW = moment_gradient(model, theta, values)
    return tl.chain(model, theta, values, g_mu, tl._vechw(GB), tl._vechw(GW) @ model.L_W)


def scores(model: tl.TwoLevelModel, theta, values) -> np.ndarray:
    """J x k matrix of dℓ_j/dθ, one row per cluster (their sum is the gradient)."""
    data = model.data
    mu, VB, VW, parts = _state(model, theta, values)
    q = mu.shape[-1]
    g_mu = np.zeros((data.n_clusters, q))
    GB = np.zeros((data.n_clusters, q, q))
    GW = np.zeros((data.n_clusters, q, q))
    for g, ((inv, _, _), _) in zip(data.groups, parts):
        inv = inv[g.pattern]                                                # C x K x K
        r = (g.X - mu[g.idx][g.pattern]) * g.mask[g.pattern]
        U = np.einsum("cij,cj->ci", inv, r)
        G = -0.5 * (inv - U[:, :, None] * U[:, None, :])
        c = g.cluster
        g_mu[c], GB[c], GW[c] = g._fold(g.E[g.pattern], U, G, g.same[g.pattern])
    return tl.chain(model, theta, values, g_mu, tl._vechw(GB), tl._vechw(GW) @ model.L_W)


def expected_information(model: tl.TwoLevelModel, theta, values) -> np.ndarray:
    """Expected information of ℓ (total) at θ: per stacked pattern,
    Δμ'Σ_oo⁻¹Δμ + ½tr(Σ_oo⁻¹ ∂Σ_oo Σ_oo⁻¹ ∂Σ_oo), with the derivatives of
    (μ_o, Σ_oo) gathered from those of the level moments."""
    derivs = tl.moment_jacobian(model, theta, values)[:3]
    info = 0.0
    for g, ((inv, _, _), _) in zip(model.data.groups, _state(model, theta, values)[3]):
        dS, D = _pattern_jacobian(g, *derivs)
        X = tl._times(inv, dS)                                      # Σ⁻¹ S_k
        W = inv @ D
        per = 0.5 * tl._trace_products(X, X) + np.swapaxes(D, 1, 2) @ W
        info = info + np.einsum("p,pkl->kl", g.n, per)
    return info


def observed_information(model: tl.TwoLevelModel, theta, values) -> np.ndarray:
    """−d²ℓ/dθdθ' at θ, analytic: every stacked pattern a normal sample
    (twolevel.normal_information: n_p clusters, P = Σ_oo⁻¹, residual d,
    T = C_p + dd', with the derivatives of (μ_o, Σ_oo) gathered from those
    of the level moments), less the curvature of the moments in θ
    (twolevel.moment_curvature).  Matches central differences of the
    analytic gradient to ~1e-10 (tests/estimate/test_twolevel_fiml.py) at a
    fraction of their cost."""
    theta = np.asarray(theta, dtype=float)
    dmu, dVB, dVW, _ = tl.moment_jacobian(model, theta, values)
    info = 0.0
    for g, ((inv, _, _), d) in zip(model.data.groups, _state(model, theta, values)[3]):
        dS, D = _pattern_jacobian(g, dmu, dVB, dVW)
        T = g.cov + d[:, :, None] * d[:, None, :]
        info = info + tl.normal_information(inv, T, dS, g.n, d, D)
    g_mu, GB, GW = moment_gradient(model, theta, values)
    info = info - tl.moment_curvature(model, theta, values, g_mu, tl._vechw(GB),
                                      tl._vechw(GW) @ model.L_W)
    return 0.5 * (info + info.T)


def _pattern_jacobian(g: StackedGroup, dmu, dVB, dVW):
    """(dΣ_oo/dθ as P x K x K x k, dμ_o/dθ as P x K x k) of a group's
    patterns (zero at padded positions): rows of length k gathered from the
    flattened q x q derivatives."""
    q, k = dVB.shape[0], dVB.shape[-1]
    flat = g.idx[:, :, None] * q + g.idx[:, None, :]
    dS = (dVB.reshape(q * q, k)[flat] * g.both[..., None]
          + dVW.reshape(q * q, k)[flat] * g.same[..., None])
    return dS, dmu[g.idx] * g.mask[..., None]


def constant(data: TwoLevelMissingData) -> float:
    """½·(observed cells)·log 2π: the part of −ℓ that no model changes."""
    return 0.5 * data.n_observed * LOG2PI
