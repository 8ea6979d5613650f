"""Closed-form ML estimates for recursive observed-variable path models.

When a path model has no latent variables, no feedback loops, no equality
constraints or non-zero fixed paths, and residual covariances only between
equations with the same predictors, its normal likelihood factorises into one
regression per group of equations, and the ML estimates are least squares
(variances with divisor N).  `plan()` says whether a parameter table has that
form; `solve()` computes θ̂ from sample moments, for one sample or for a
stack of bootstrap samples at once.  fit() verifies the result with the
analytic gradient, and the tests compare it with semopy's fit on every spec
and on random models.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..partable import ParTable


@dataclass(frozen=True)
class Equation:
    y: int                     # observed index of the outcome
    z: tuple[int, ...]         # observed indices of the predictors
    coef: tuple[int, ...]      # θ index of each coefficient
    var: int                   # θ index of the residual variance
    intercept: int             # θ index of the intercept, -1 without means


@dataclass(frozen=True)
class Plan:
    equations: tuple[Equation, ...]
    residual_covs: tuple[tuple[int, int, int], ...]     # (eq a, eq b, θ index)
    exogenous: tuple[tuple[int, int, int], ...]         # (i, j, θ index): sample moments
    exo_means: tuple[tuple[int, int], ...]              # (i, θ index)


@lru_cache(maxsize=256)
def plan(pt: ParTable) -> Plan | None:
    """The closed form of this model, or None when it does not apply."""
    from .engine import saturated_means
    if pt.latent or not pt.is_recursive or not saturated_means(pt):
        return None                     # (fixed or equal intercepts: no closed form)
    counts: dict[int, int] = {}
    for r in pt.rows:
        if r.free:
            counts[r.free] = counts.get(r.free, 0) + 1
    if any(c > 1 for c in counts.values()):
        return None                     # shared labels: equality constraints
    pos = {v: i for i, v in enumerate(pt.observed)}
    preds: dict[str, list[tuple[int, int]]] = {}
    for r in pt.rows:
        if r.op != "~":
            continue
        if not r.free:
            if r.value != 0:
                return None
            preds.setdefault(r.lhs, [])
            continue
        preds.setdefault(r.lhs, []).append((pos[r.rhs], r.free - 1))
    endo = set(preds)
    var_idx: dict[str, int] = {}
    res_covs, exo_cov = [], []
    exo_random = [v for v in pt.observed if v not in endo and v not in pt.covariates]
    for r in pt.rows:
        if r.op != "~~" or r.exo:
            continue
        if not r.free:
            return None
        a, b = r.lhs, r.rhs
        if a == b:
            if a in endo:
                var_idx[a] = r.free - 1
            else:
                exo_cov.append((pos[a], pos[a], r.free - 1))
        elif a in endo and b in endo:
            if sorted(i for i, _ in preds[a]) != sorted(i for i, _ in preds[b]):
                return None             # seemingly unrelated regressions: iterate
            res_covs.append((a, b, r.free - 1))
        elif a not in endo and b not in endo:
            exo_cov.append((pos[a], pos[b], r.free - 1))
        else:
            return None
    # exogenous random variables need a saturated block
    n_exo = len(exo_random)
    if len(exo_cov) != n_exo * (n_exo + 1) // 2:
        return None
    if any(v not in var_idx for v in endo):
        return None
    means = {r.lhs: r.free - 1 for r in pt.rows if r.op == "~1" and r.free}
    eqs = []
    order = sorted(endo, key=lambda v: pos[v])
    index = {v: k for k, v in enumerate(order)}
    for v in order:
        z = tuple(i for i, _ in preds[v])
        eqs.append(Equation(pos[v], z, tuple(k for _, k in preds[v]), var_idx[v],
                            means.get(v, -1)))
    exo_means = tuple((pos[v], means[v]) for v in exo_random if v in means)
    return Plan(tuple(eqs), tuple((index[a], index[b], k) for a, b, k in res_covs),
                tuple(exo_cov), exo_means)


def solve(pl: Plan, mean: np.ndarray, cov: np.ndarray, npar: int) -> np.ndarray:
    """θ̂ from sample means (..., p) and covariances (..., p, p) with divisor N.

    Leading batch dimensions are kept, so a stack of bootstrap samples is
    solved at once; a singular sample gives NaN in its row."""
    batch = cov.shape[:-2]
    theta = np.full(batch + (npar,), np.nan)
    coefs = []
    for eq in pl.equations:
        y, z = eq.y, list(eq.z)
        if z:
            Szz = cov[..., z, :][..., :, z]
            Szy = cov[..., z, y]
            with np.errstate(all="ignore"):
                try:
                    b = np.linalg.solve(Szz, Szy[..., None])[..., 0]
                except np.linalg.LinAlgError:
                    b = _solve_rows(Szz, Szy)
            theta[..., list(eq.coef)] = b
            theta[..., eq.var] = cov[..., y, y] - np.sum(b * Szy, axis=-1)
            if eq.intercept >= 0:
                theta[..., eq.intercept] = mean[..., y] - np.sum(b * mean[..., z], axis=-1)
        else:
            b = np.zeros(batch + (0,))
            theta[..., eq.var] = cov[..., y, y]
            if eq.intercept >= 0:
                theta[..., eq.intercept] = mean[..., y]
        coefs.append(b)
    for a, b_, k in pl.residual_covs:
        ea, eb = pl.equations[a], pl.equations[b_]
        # identical predictor sets, possibly listed in another order
        zb = list(ea.z)
        theta[..., k] = cov[..., ea.y, eb.y] - np.sum(coefs[a] * cov[..., zb, eb.y], axis=-1)
    for i, j, k in pl.exogenous:
        theta[..., k] = cov[..., i, j]
    for i, k in pl.exo_means:
        theta[..., k] = mean[..., i]
    return theta


def _solve_rows(Szz, Szy):
    """Row-by-row solve, NaN for singular rows (a batch with singular members)."""
    flat_A = Szz.reshape((-1,) + Szz.shape[-2:])
    flat_b = Szy.reshape((-1, Szy.shape[-1]))
    out = np.full(flat_b.shape, np.nan)
    for r in range(len(flat_A)):
        try:
            out[r] = np.linalg.solve(flat_A[r], flat_b[r])
        except np.linalg.LinAlgError:
            pass
    return out.reshape(Szy.shape)
