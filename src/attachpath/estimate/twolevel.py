"""Two-level normal ML: sessions (level 1) nested in clients (level 2).

The model of lavaan's `level:` blocks: every level-1 variable y splits into a
within and a between part, y_ij = μ + η_Bj + η_Wij, with Σ_W from block 1 and
Σ_B from block 2; between-only variables z (level 2 only) are cluster
constants.  For a cluster of size n with within cross-products W_j and cluster
mean ȳ_j the log-likelihood has two parts (../shared/notes/multilevel.md §1.2):

    within:  −½[(n−1)·log|Σ_W| + tr(Σ_W⁻¹ W_j)]
    between: the normal density of (z_j, ȳ_j) with covariance
             V_n = [[Σ_zz, Σ_zy], [Σ_yz, Σ_B,yy + Σ_W/n]], less ½·p_y·log n

so after one pass over the rows the likelihood needs only the pooled within
cross-products and, per distinct cluster size, the count, mean and
covariance of (z, ȳ): each evaluation costs O(K·p³) for K sizes, whatever
the number of rows and clusters.

Moments live in "between space", the vector (z, y): E_B and E_W place the
level-2 and level-1 moments there, so μ = E_B μ_B + E_W μ_W and
V_n = E_B Σ_B E_B' + E_W Σ_W E_W' / n.  Derivatives with respect to θ chain
through each block's RAM Jacobian (ram.py).

Functions of this module take a `TwoLevelModel` (the map θ → moments) and
`TwoLevelData` (the sufficient statistics); `TwoLevelML` in likelihood.py
wraps them into the likelihood interface the rest of attachpath uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from ..errors import DataError
from .clusters import Clusters
from .ml import LOG2PI, dup_kron
from .ram import ram_of, vech_indices
from .recent import at_theta


# -- data ------------------------------------------------------------------------

class ClusteredRows:
    """What two-level data of either kind (complete, TwoLevelData; with
    missing values, twolevel_missing.TwoLevelMissingData) derive from their
    `clusters`, `z` and `y` fields."""

    @property
    def n_clusters(self) -> int:
        return self.clusters.n

    @property
    def names(self) -> tuple[str, ...]:
        """The variables of between space: z then y."""
        return self.z + self.y


@dataclass(frozen=True, eq=False)
class TwoLevelData(ClusteredRows):
    """Sufficient statistics of session rows grouped in clusters.

    y: the level-1 variables (within-only and both), z: the between-only
    variables.  Per cluster j: d[j] = (z_j, ȳ_j) and the within
    cross-products W[j]; per distinct size s: count, mean and biased
    covariance of d over the clusters of that size."""

    y: tuple[str, ...]
    z: tuple[str, ...]
    n: int                      # rows (sessions)
    clusters: Clusters          # rows -> clusters
    d: np.ndarray               # J x (p_z + p_y)
    W: np.ndarray               # J x p_y x p_y
    W_total: np.ndarray         # p_y x p_y, Σ_j W_j
    sizes: np.ndarray           # K distinct sizes
    size_group: np.ndarray      # J: index into sizes
    rows: np.ndarray            # N x p_y, the level-1 variables' rows
    count: np.ndarray           # K: clusters per size
    mean: np.ndarray            # K x q
    cov: np.ndarray             # K x q x q (divisor: count)

    @classmethod
    def from_array(cls, X: np.ndarray, names, y, z, clusters: Clusters,
                   row_ids=None) -> "TwoLevelData":
        """From rows X (columns `names`) with cluster codes; checks that
        between-only variables are constant within clusters and that level-1
        variables vary within them."""
        pos = {v: i for i, v in enumerate(names)}
        Y = X[:, [pos[v] for v in y]]
        Z = X[:, [pos[v] for v in z]]
        codes, sizes = clusters.codes, clusters.sizes
        if clusters.n == len(codes):
            raise DataError(
                f"Every cluster of '{clusters.name}' has a single row, so there is no "
                f"within-cluster part to model: a two-level spec needs repeated rows "
                f"per {clusters.name} (e.g. sessions). Fit a single-level spec to "
                f"these data instead.")
        ybar = clusters.mean(Y)
        R = Y - ybar[codes]
        zbar = clusters.mean(Z)
        if Z.shape[1]:
            dev = np.abs(Z - zbar[codes])
            bad = dev > 1e-9 * np.maximum(1.0, np.abs(zbar[codes]))
            if bad.any():
                i, k = map(int, np.argwhere(bad)[0])
                j = codes[i]
                first = int(clusters.members()[j][0])
                cid = clusters.ids[j]
                raise DataError(
                    f"'{z[k]}' is a level-2 (between-only) variable but varies within "
                    f"{clusters.name} {cid}: {Z[first, k]:g} and {Z[i, k]:g}. Correct the "
                    f"value, or model '{z[k]}' at level 1 too.",
                    column=z[k], row=None if row_ids is None else row_ids[i],
                    value=float(Z[i, k]))
        within_ss = np.sum(R * R, axis=0)
        for k, v in enumerate(y):
            if within_ss[k] <= 1e-12 * max(1.0, float(np.sum(Y[:, k] ** 2))):
                raise DataError(
                    f"'{v}' is a level-1 variable but has no variance within "
                    f"{clusters.name}s (it is constant in every {clusters.name}); "
                    f"model it at level 2 only.", column=v)
        Wj = np.einsum("ni,nj->nij", R, R)
        W = clusters.sum(Wj)
        d = np.hstack([zbar, ybar])
        sizes, group, count, mean, cov = size_groups(d, sizes)
        return cls(tuple(y), tuple(z), int(X.shape[0]), clusters, d, W, W.sum(axis=0),
                   sizes, group, Y, count, mean, cov)

    # starting points for the saturated model -----------------------------------
    def pooled_within(self) -> np.ndarray:
        return self.W_total / (self.n - self.n_clusters)

    def between_start(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, covariance) of between space from cluster means, the
        within part's share removed, kept positive definite."""
        mu = self.d.mean(axis=0)
        C = np.cov(self.d.T, bias=True).reshape(len(mu), len(mu))
        pz = len(self.z)
        share = self.pooled_within() / np.mean(self.clusters.sizes)
        C[pz:, pz:] -= share
        vals, vecs = np.linalg.eigh(C)
        floor = 0.05 * max(np.max(np.abs(np.diag(C))), 1e-8)
        C = (vecs * np.maximum(vals, floor)) @ vecs.T
        return mu, C


def size_groups(d: np.ndarray, cluster_sizes: np.ndarray):
    """(distinct sizes, group of each cluster, clusters per size, mean and
    biased covariance of the clusters' (z, ȳ) per size)."""
    sizes, group, count = np.unique(cluster_sizes, return_inverse=True, return_counts=True)
    count = count.astype(float)
    member = (group[:, None] == np.arange(len(sizes))).astype(float)     # J x K
    mean = (member.T @ d) / count[:, None]
    dc = d - mean[group]
    q = d.shape[1]
    cov = (member.T @ (dc[:, :, None] * dc[:, None, :]).reshape(len(d), q * q)).reshape(
        len(sizes), q, q) / count[:, None, None]
    return sizes.astype(float), group, count, mean, cov


# -- the model: θ -> moments ----------------------------------------------------------

def _placement(space: tuple[str, ...], block_vars: tuple[str, ...]) -> np.ndarray:
    """E (len(space) x len(block_vars)): 1 where a block variable sits in space."""
    E = np.zeros((len(space), len(block_vars)))
    pos = {v: i for i, v in enumerate(space)}
    for k, v in enumerate(block_vars):
        if v in pos:
            E[pos[v], k] = 1.0
    return E


def _vech_map(E: np.ndarray) -> np.ndarray:
    """L with vech(E X E') = L vech(X) for symmetric X."""
    q, p = E.shape
    li, lj = vech_indices(p)
    qi, qj = vech_indices(q)
    L = np.zeros((len(qi), len(li)))
    for k, (a, b) in enumerate(zip(li, lj)):
        U = np.zeros((p, p))
        U[a, b] = U[b, a] = 1.0
        L[:, k] = (E @ U @ E.T)[qi, qj]
    return L


def _vechw(M: np.ndarray) -> np.ndarray:
    """vech of a symmetric matrix derivative as a derivative with respect to
    vech: off-diagonal entries count twice (batched)."""
    li, lj, w = _vech_weights(M.shape[-1])
    return w * M[..., li, lj]


@lru_cache(maxsize=64)
def _vech_weights(p: int):
    li, lj = vech_indices(p)
    w = np.where(li == lj, 1.0, 2.0)
    w.setflags(write=False)
    return li, lj, w


@lru_cache(maxsize=64)
def _structure(pt, space: tuple[str, ...]):
    """What a TwoLevelModel needs of its table, built once per table and
    between space (bootstrap draws build a model per draw): the blocks,
    their RAM layouts and table rows, and the placements in between space."""
    pt1, pt2 = pt.block(1), pt.block(2)
    rows1 = np.array([k for k, r in enumerate(pt.rows) if r.block == 1], dtype=int)
    rows2 = np.array([k for k, r in enumerate(pt.rows) if r.block == 2], dtype=int)
    E_W, E_B = _placement(space, pt1.observed), _placement(space, pt2.observed)
    out = (pt1, pt2, ram_of(pt1), ram_of(pt2), rows1, rows2, E_W, E_B,
           _vech_map(E_W), _vech_map(E_B))
    for a in out[4:]:
        a.setflags(write=False)             # shared by every model of this table
    return out


class TwoLevelModel:
    """The map θ → (μ_W, Σ_W, μ_B, Σ_B) of a two-level parameter table, and
    its place in the between space of the data."""

    def __init__(self, pt, data: TwoLevelData):
        self.pt = pt
        self.data = data
        if set(pt.block(1).observed) != set(data.y):
            raise ValueError("level-1 variables of the model and the data differ")
        (self.pt1, self.pt2, self.ram1, self.ram2, self.rows1, self.rows2,
         self.E_W, self.E_B, self.L_W, self.L_B) = _structure(pt, data.names)
        self.npar = pt.npar

    def moments(self, theta, values):
        """(Σ_W, μ_W, Σ_B, μ_B) at θ."""
        s1, m1, *_ = self.ram1.implied(theta, values[self.rows1])
        s2, m2, *_ = self.ram2.implied(theta, values[self.rows2])
        return s1, m1, s2, m2

    def jacobians(self, theta, values):
        """d(μ, vech Σ)/dθ of each block."""
        return (self.ram1.jacobian(theta, values[self.rows1]),
                self.ram2.jacobian(theta, values[self.rows2]))

    def state(self, theta, values):
        """What the likelihood, its gradient and information share at θ: the
        level moments, the size-group covariances V_s, their inverses and
        log-determinants.  Kept for the last few single θ (a scoring step
        asks for the value, then the gradient and information, at one θ)."""
        return at_theta(self, "_state_memo", theta, values,
                        lambda t, v: _state(self, t, v))

    def between(self, theta, values):
        """(Σ_W, μ in between space, E_B Σ_B E_B', E_W Σ_W E_W')."""
        s1, m1, s2, m2 = self.moments(theta, values)
        mu = m2 @ self.E_B.T + m1 @ self.E_W.T
        return s1, mu, self.E_B @ s2 @ self.E_B.T, self.E_W @ s1 @ self.E_W.T


# -- likelihood, gradient, information, scores ------------------------------------------

def _size_covariances(data: TwoLevelData, VB, VW):
    """V_s for every distinct size s (batch dimensions of θ kept)."""
    return VB[..., None, :, :] + VW[..., None, :, :] / data.sizes[:, None, None]


def _tr(A, B):
    return np.einsum("...ij,...ji->...", A, B)


@dataclass(frozen=True)
class _State:
    s1: np.ndarray
    mu: np.ndarray
    VB: np.ndarray
    VW: np.ndarray
    ld1: np.ndarray
    ldV: np.ndarray
    ok: np.ndarray
    inv1: np.ndarray
    Vinv: np.ndarray
    dev: np.ndarray
    T: np.ndarray


def _state(model: TwoLevelModel, theta, values) -> _State:
    data = model.data
    s1, mu, VB, VW = model.between(theta, values)
    sign1, ld1 = np.linalg.slogdet(s1)
    V = _size_covariances(data, VB, VW)
    signV, ldV = np.linalg.slogdet(V)
    ok = (sign1 > 0) & np.all(signV > 0, axis=-1)
    # covariances that are not positive definite are swapped for I (their
    # likelihood is −inf), so no warning can arise in the inverses
    if np.all(ok):
        inv1, Vinv = np.linalg.inv(s1), np.linalg.inv(V)
    else:
        inv1 = np.linalg.inv(np.where(ok[..., None, None], s1, np.eye(s1.shape[-1])))
        Vinv = np.linalg.inv(np.where(ok[..., None, None, None], V, np.eye(V.shape[-1])))
    dev = data.mean - mu[..., None, :]
    T = data.cov + dev[..., :, None] * dev[..., None, :]
    return _State(s1, mu, VB, VW, ld1, ldV, ok, inv1, Vinv, dev, T)


def loglik(model: TwoLevelModel, theta, values):
    """The two-level log-likelihood at θ (−inf where a covariance is not
    positive definite); θ may carry leading batch dimensions."""
    data = model.data
    st = model.state(theta, values)
    J, N = data.n_clusters, data.n
    within = -0.5 * ((N - J) * st.ld1 + _tr(st.inv1, data.W_total))
    py, pz = len(data.y), len(data.z)
    between = -0.5 * np.sum(data.count * (st.ldV + py * np.log(data.sizes)
                                          + _tr(st.Vinv, st.T)), axis=-1)
    ll = within + between - 0.5 * (N * py + J * pz) * LOG2PI
    ll = np.where(st.ok, ll, -np.inf)
    return float(ll) if np.ndim(ll) == 0 else ll


def _moment_gradients(model, theta, values):
    """dℓ/d(μ) in between space, dℓ/dvech(V_s) summed plain and ÷ s, and
    dℓ/dvech(Σ_W) of the within part (batch dimensions of θ kept); kept
    for the last few single θ (the gradient and the observed information
    of a Newton step share them)."""
    return at_theta(model, "_gradient_memo", theta, values,
                    lambda t, v: _moment_gradients_at(model, t, v))


def _moment_gradients_at(model, theta, values):
    data = model.data
    st = model.state(theta, values)
    inv1, Vinv, dev, T = st.inv1, st.Vinv, st.dev, st.T
    c = data.count[:, None, None]
    GV = -0.5 * c * (Vinv - Vinv @ T @ Vinv)
    g_mu = np.einsum("k,...kij,...kj->...i", data.count, Vinv, dev)
    gV = _vechw(GV)
    J, N = data.n_clusters, data.n
    GW = -0.5 * ((N - J) * inv1 - inv1 @ data.W_total @ inv1)
    return g_mu, gV.sum(axis=-2), (gV / data.sizes[:, None]).sum(axis=-2), _vechw(GW)


def gradient(model: TwoLevelModel, theta, values) -> np.ndarray:
    """dℓ/dθ (analytic; θ may carry leading batch dimensions)."""
    g_mu, gV, gV_s, gW = _moment_gradients(model, theta, values)
    return chain(model, theta, values, g_mu, gV, gV_s @ model.L_W + gW)


def chain(model: TwoLevelModel, theta, values, g_mu, g_B, g_W) -> np.ndarray:
    """dℓ/dθ from dℓ/dμ (between space), dℓ/dvech(V_B) (between space) and
    dℓ/dvech(Σ_W) (block 1), through each block's RAM Jacobian; the leading
    dimensions of θ or of the moment derivatives (e.g. clusters) are kept."""
    J1, J2 = model.jacobians(theta, values)
    p1, p2 = model.E_W.shape[1], model.E_B.shape[1]

    def part(g, Jpart):
        return np.einsum("...a,...ak->...k", g, Jpart)
    return (part(g_mu @ model.E_B, J2[..., :p2, :]) + part(g_mu @ model.E_W, J1[..., :p1, :])
            + part(g_B @ model.L_B, J2[..., p2:, :]) + part(g_W, J1[..., p1:, :]))


def expected_information(model: TwoLevelModel, theta, values) -> np.ndarray:
    """Expected information of ℓ (total, not per row) at θ."""
    data = model.data
    st = model.state(theta, values)
    inv1, Vinv = st.inv1, st.Vinv
    J1, J2 = model.jacobians(theta, values)
    p1, p2 = model.E_W.shape[1], model.E_B.shape[1]
    D_mu = model.E_B @ J2[:p2] + model.E_W @ J1[:p1]
    DB = model.L_B @ J2[p2:]
    DW = model.L_W @ J1[p1:]
    # Σ_s n_s Δ_sᵀ W_s Δ_s as batched matrix products (einsum of 4 operands
    # was the slowest step of a fit)
    VD = Vinv @ D_mu                                    # K x q x k
    info = np.sum(data.count[:, None, None] * (D_mu.T @ VD), axis=0)
    Wc = 0.5 * dup_kron(Vinv, Vinv)                     # K x m x m
    D_s = DB[None] + DW[None] / data.sizes[:, None, None]
    WD = Wc @ D_s
    info += np.sum(data.count[:, None, None] * (np.swapaxes(D_s, 1, 2) @ WD), axis=0)
    J = data.n_clusters
    Jw = J1[p1:]
    info += (data.n - J) * Jw.T @ (0.5 * dup_kron(inv1, inv1)) @ Jw
    return info


def observed_information(model: TwoLevelModel, theta, values) -> np.ndarray:
    """−d²ℓ/dθdθ' at θ, analytic: the between part is a normal sample per
    cluster size s (n_s clusters, covariance V_s, sample covariance C_s,
    mean residual d_s), the within part one of N − J rows with covariance
    Σ_W and sample covariance S_PW (normal_information), less the
    curvature of the moments in θ (moment_curvature)."""
    data = model.data
    st = model.state(theta, values)
    dmu, dVB, dVW, dSW = moment_jacobian(model, theta, values)
    dS = dVB + dVW / data.sizes[:, None, None, None]                # K x q x q x k
    D = np.broadcast_to(dmu, (len(data.sizes),) + dmu.shape)
    info = normal_information(st.Vinv, st.T, dS, data.count, st.dev, D)
    info = info + normal_information(st.inv1[None], data.pooled_within()[None], dSW[None],
                                     np.array([data.n - data.n_clusters], dtype=float))
    g_mu, gV, gV_s, gW = _moment_gradients(model, theta, values)
    info = info - moment_curvature(model, theta, values, g_mu, gV, gV_s @ model.L_W + gW)
    return 0.5 * (info + info.T)


# -- second derivatives, shared with two-level FIML (twolevel_missing.py) ---------------

def moment_jacobian(model: TwoLevelModel, theta, values):
    """dμ/dθ (q x k), dV_B/dθ and dV_W/dθ (q x q x k) in between space, and
    dΣ_W/dθ (p₁ x p₁ x k) of block 1."""
    J1, J2 = model.jacobians(theta, values)
    p1, p2 = model.E_W.shape[1], model.E_B.shape[1]
    dmu = model.E_B @ J2[:p2] + model.E_W @ J1[:p1]
    q = model.E_B.shape[0]
    return (dmu, _unvech(model.L_B @ J2[p2:], q), _unvech(model.L_W @ J1[p1:], q),
            _unvech(J1[p1:], p1))


def _unvech(Jcov: np.ndarray, p: int) -> np.ndarray:
    """p x p x k symmetric matrices from their vech rows (vech(p) x k)."""
    li, lj = vech_indices(p)
    D = np.zeros((p, p, Jcov.shape[-1]))
    D[li, lj] = Jcov
    D[lj, li] = Jcov
    return D


def normal_information(inv, T, dS, n, d=None, D=None) -> np.ndarray:
    """−d²ℓ/dθdθ' of normal samples, one per pattern p (n_p cases, P =
    Σ_p⁻¹ as inv, T = C_p + dd' with C_p the sample covariance and d the
    mean residual, S_k = dΣ_p/dθ_k as dS: P x K x K x k, m_k = dμ_p/dθ_k
    as D: P x K x k), the moments' own second derivatives left out:

        Σ_p n_p·[tr(S_k P S_l Q) − ½tr(P S_k P S_l) + d'P S_k P m_l
                 + d'P S_l P m_k + m_k'P m_l],      Q = P T P

    (its expectation, T → Σ and d → 0, is the expected information).
    d and D None: no mean structure (a within part)."""
    X = _times(inv, dS)                                             # P S_k
    Y = _times(inv @ T @ inv, dS)                                   # Q S_k
    per = _trace_products(X, Y) - 0.5 * _trace_products(X, X)
    if D is not None:
        W = inv @ D                                                 # P m_l
        v = np.einsum("pab,pb->pa", inv, d)
        a = (v[:, None, None, :] @ dS)[:, :, 0, :]                  # (S_k P d)_a: P x K x k
        cross = np.swapaxes(a, 1, 2) @ W                            # d'P S_k P m_l
        per = per + cross + np.swapaxes(cross, 1, 2) + np.swapaxes(D, 1, 2) @ W
    return np.einsum("p,pkl->kl", n, per)


def moment_curvature(model: TwoLevelModel, theta, values, g_mu, g_B, g_W) -> np.ndarray:
    """Σ (dℓ/d moment)·d²moment/dθdθ' at fixed moment derivatives (as
    `chain` takes them): each block's RAM curvature (ram.RAM.curvature),
    model algebra only, no data; zero where no path is free (the saturated
    and baseline models)."""
    theta = np.asarray(theta, dtype=float)
    p1, p2 = model.E_W.shape[1], model.E_B.shape[1]
    return (model.ram2.curvature(theta, values[model.rows2], _vech_gradient_matrix(
                g_B @ model.L_B, p2), g_mu @ model.E_B)
            + model.ram1.curvature(theta, values[model.rows1],
                                   _vech_gradient_matrix(g_W, p1), g_mu @ model.E_W))


def _vech_gradient_matrix(g: np.ndarray, p: int) -> np.ndarray:
    """The symmetric G with tr(G dΣ) = g·d vech Σ (g as _vechw gives it:
    off-diagonal entries count twice, so each side gets half)."""
    li, lj = vech_indices(p)
    G = np.zeros((p, p))
    G[li, lj] += 0.5 * g
    G[lj, li] += 0.5 * g
    return G


def _times(A, dS):
    """A @ S_k for every k: P x K x K times P x K x K x k, same layout."""
    P, K, _, k = dS.shape
    return (A @ dS.reshape(P, K, K * k)).reshape(P, K, K, k)


def _trace_products(X, Y):
    """P x k x k of tr(X_k Y_l) for stacks X, Y laid out P x K x K x k."""
    P, K, _, k = X.shape
    Yt = np.swapaxes(Y, 1, 2).reshape(P, K * K, k)
    return np.swapaxes(X.reshape(P, K * K, k), 1, 2) @ Yt


def scores(model: TwoLevelModel, theta, values) -> np.ndarray:
    """J x k matrix of dℓ_j/dθ, one row per cluster (their sum is the gradient)."""
    data = model.data
    s1, mu, VB, VW = model.between(theta, values)
    inv1 = np.linalg.inv(s1)
    Vinv = np.linalg.inv(_size_covariances(data, VB, VW))[data.size_group]   # J x q x q
    n_j = data.clusters.sizes.astype(float)
    dev = data.d - mu
    u = np.einsum("jab,jb->ja", Vinv, dev)
    sV = _vechw(-0.5 * (Vinv - u[:, :, None] * u[:, None, :]))
    sW = _vechw(-0.5 * ((n_j - 1.0)[:, None, None] * inv1 - inv1 @ data.W @ inv1))
    J1, J2 = model.jacobians(theta, values)
    p1, p2 = model.E_W.shape[1], model.E_B.shape[1]
    return (u @ (model.E_B @ J2[:p2] + model.E_W @ J1[:p1])
            + (sV @ model.L_B) @ J2[p2:]
            + ((sV / n_j[:, None]) @ model.L_W + sW) @ J1[p1:])


def random_intercept_ml(data: TwoLevelData, y_index, start, max_iter: int = 50):
    """ML of each level-1 variable on its own as a random-intercept model:
    within variance a, between variance b and mean μ of y_ij = μ + u_j + e_ij
    (the independence baseline's parameters of a variable that is no
    covariate at either level), by Newton's method from `start` = (a, b, μ)
    arrays, vectorized over the variables:

        ℓ = −½(N−J)(log a + w/a) − ½ Σ_s n_s (log v_s + T_s/v_s),
        v_s = b + a/s,  T_s = C_s + (m_s − μ)²,  w = S_PW

    with per cluster size s the count n_s, mean m_s and variance C_s of the
    cluster means.  (a, b, μ), or None where a step leaves the admissible
    region or the steps do not shrink below 1e-13 in max_iter."""
    iy = np.asarray(y_index, dtype=int)
    ib = iy + len(data.z)
    s, n = data.sizes, data.count
    m, C = data.mean[:, ib].T, data.cov[:, ib, ib].T                    # P x K
    nw = data.n - data.n_clusters
    w = np.diag(data.W_total)[iy] / nw
    a, b, mu = (np.array(x, dtype=float) for x in start)
    for _ in range(max_iter):
        v = b[:, None] + a[:, None] / s
        if np.any(v <= 0) or np.any(a <= 0):
            return None
        r = m - mu[:, None]
        T = C + r * r
        lv = -0.5 * n * (1 / v - T / v ** 2)                                 # dℓ/dv_s
        lvv = -0.5 * n * (2 * T / v ** 3 - 1 / v ** 2)
        lvm = -n * r / v ** 2                                                # d²ℓ/dv_s dμ
        g = np.stack([-0.5 * nw * (1 / a - w / a ** 2) + (lv / s).sum(1), lv.sum(1),
                      (n * r / v).sum(1)], axis=1)
        H = np.empty((len(iy), 3, 3))
        H[:, 0, 0] = -0.5 * nw * (2 * w / a ** 3 - 1 / a ** 2) + (lvv / s ** 2).sum(1)
        H[:, 0, 1] = H[:, 1, 0] = (lvv / s).sum(1)
        H[:, 1, 1] = lvv.sum(1)
        H[:, 0, 2] = H[:, 2, 0] = (lvm / s).sum(1)
        H[:, 1, 2] = H[:, 2, 1] = lvm.sum(1)
        H[:, 2, 2] = -(n / v).sum(1)
        try:
            step = -np.linalg.solve(H, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return None
        a, b, mu = a + step[:, 0], b + step[:, 1], mu + step[:, 2]
        if not np.all(np.isfinite(step)):
            return None
        if np.max(np.abs(step) / (1.0 + np.abs(np.stack([a, b, mu], axis=1)))) < 1e-13:
            return a, b, mu
    return None


def covariate_loglik(data: TwoLevelData, X_within: np.ndarray, between: list[str]) -> float:
    """Marginal log-likelihood of the fixed covariates, subtracted from the
    reported logl as lavaan does: level-1 covariates as one sample of all N
    rows (`X_within`), level-2 ones as one sample of the J cluster means,
    each at its sample moments."""
    def saturated(Z):
        if Z.shape[1] == 0:
            return 0.0
        n, q = Z.shape
        S = np.atleast_2d(np.cov(Z.T, bias=True))
        return float(-0.5 * n * (q * LOG2PI + np.linalg.slogdet(S)[1] + q))
    idx = [data.names.index(v) for v in between]
    return saturated(X_within) + saturated(data.d[:, idx])


def srmr(S_obs: np.ndarray, S_model: np.ndarray) -> float:
    """lavaan's two-level SRMR of one level: the root mean square of the
    correlation residuals cov2cor(S) − cov2cor(Σ) over the lower triangle
    with the (zero) diagonal."""
    def cor(S):
        sd = np.sqrt(np.diag(S))
        return S / np.outer(sd, sd)
    r = cor(S_obs) - cor(S_model)
    li, lj = vech_indices(S_obs.shape[0])
    return float(np.sqrt(np.mean(r[li, lj] ** 2)))


@dataclass(frozen=True)
class MomentsAt:
    """The four level moments at a solution, with names."""

    within_names: tuple[str, ...]
    between_names: tuple[str, ...]
    sigma_w: np.ndarray
    mu_w: np.ndarray
    sigma_b: np.ndarray
    mu_b: np.ndarray

    @cached_property
    def index(self):
        return ({v: i for i, v in enumerate(self.within_names)},
                {v: i for i, v in enumerate(self.between_names)})
