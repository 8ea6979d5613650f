"""Quantities derived from θ̂: defined (:=) parameters with delta-method
SEs, standardized estimates (lavaan's std.all) and R².

Defined parameters are compiled once into vectorised functions of θ, so the
same function serves the delta method, Monte Carlo draws and bootstrap
replicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .partable import ParTable
from .estimate.ram import RAM
from .syntax.expression import Expression


@dataclass(frozen=True)
class Defined:
    """The := parameters of a model as one function θ -> values."""

    names: tuple[str, ...]
    exprs: tuple[Expression, ...]
    label_index: dict
    label_fixed: dict

    @classmethod
    def from_partable(cls, pt: ParTable) -> "Defined":
        return _defined(pt)

    @classmethod
    def _build(cls, pt: ParTable) -> "Defined":
        rows = pt.defined()
        return cls(tuple(r.lhs for r in rows), tuple(Expression(r.rhs) for r in rows),
                   dict(pt.label_index), dict(pt.label_fixed))

    def __len__(self):
        return len(self.names)

    def evaluate(self, theta: np.ndarray) -> np.ndarray:
        """Values at θ; θ may be a k-vector or an R x k array of draws
        (then the result is R x d)."""
        theta = np.asarray(theta, dtype=float)
        env: dict = {lab: theta[..., i] for lab, i in self.label_index.items()}
        env.update(self.label_fixed)
        out = []
        for name, expr in zip(self.names, self.exprs):
            value = np.asarray(expr.evaluate(env), dtype=float)
            if theta.ndim == 2:
                value = np.broadcast_to(value, theta.shape[:1])
            env[name] = value
            out.append(value)
        if not out:
            return np.zeros(theta.shape[:-1] + (0,))
        return np.stack(out, axis=-1)

    def delta(self, theta: np.ndarray, V: np.ndarray | None):
        """(values, Jacobian, delta-method vcov or None) from one vectorised
        evaluation at θ and at θ ± h along every parameter."""
        value, J = central_jacobian(self.evaluate, theta)
        return value, J, (None if V is None else J @ V @ J.T)


def central_jacobian(f, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f(θ), d x k Jacobian by central differences) from one call of the
    vectorised f on the batch [θ; θ + h·e_j; θ − h·e_j], h = 1e-6·max(1, |θ_j|)."""
    theta = np.asarray(theta, dtype=float)
    k = len(theta)
    h = 1e-6 * np.maximum(1.0, np.abs(theta))
    vals = f(np.vstack([theta[None, :], theta + np.diag(h), theta - np.diag(h)]))
    return vals[0], ((vals[1:k + 1] - vals[k + 1:]) / (2 * h)[:, None]).T


@lru_cache(maxsize=256)
def _defined(pt: ParTable) -> Defined:
    return Defined._build(pt)


def standardized(pt: ParTable, ram: RAM, theta, values, est=None) -> np.ndarray:
    """lavaan's std.all for every model row (NaN where undefined); θ may
    carry leading batch dimensions (..., k), as in standardized_solution.
    `est` (row values) replaces the rows' own values, with the variances
    still those implied at θ (modification indices standardize EPCs so)."""
    theta = np.asarray(theta, dtype=float)
    *_, full, A, S, m = ram.implied(theta, values)
    pos = {v: i for i, v in enumerate(pt.variables)}
    var = np.diagonal(full, axis1=-2, axis2=-1)
    rvar = np.diagonal(S, axis1=-2, axis2=-1)
    sd = np.sqrt(np.where(var > 0, var, np.nan))
    # lavaan scales a (residual) covariance by √|θ_ii|·√|θ_jj|, so a
    # covariance beside a negative variance still has a std.all value
    # (the solution stays flagged inadmissible elsewhere)
    rsd = np.sqrt(np.where(rvar != 0, np.abs(rvar), np.nan))
    est = row_values(pt, theta, values) if est is None else est
    out = np.full(theta.shape[:-1] + (len(pt.rows),), np.nan)
    for k, r in enumerate(pt.rows):
        if r.op == "~":
            out[..., k] = est[..., k] * sd[..., pos[r.rhs]] / sd[..., pos[r.lhs]]
        elif r.op == "=~":
            out[..., k] = est[..., k] * sd[..., pos[r.lhs]] / sd[..., pos[r.rhs]]
        elif r.op == "~~":
            i, j = pos[r.lhs], pos[r.rhs]
            out[..., k] = (est[..., k] / sd[..., i] ** 2 if i == j
                           else est[..., k] / (rsd[..., i] * rsd[..., j]))
        elif r.op == "~1":
            out[..., k] = est[..., k] / sd[..., pos[r.lhs]]
    return out


def standardized_lv_nox(pt: ParTable, ram: RAM, theta, values,
                        est=None) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's std.lv and std.nox of every model row (NaN where undefined).

    std.lv rescales by the standard deviations of the latent variables only
    (observed variables keep their units); std.nox goes on to divide by the
    standard deviations of the observed variables except the exogenous
    covariates (lavaan's ov.x), whose units stay: a slope of a covariate in
    std.nox is the change in SDs of the outcome per unit of the covariate.
    Covariances are divided by the square roots of the two (residual)
    variances in the table (their absolute values, as lavaan), so that they
    read as (residual) correlations.  Follows lavaan's lav_standardize_lv
    and lav_standardize_all_nox (read for the definitions).  `est` as in
    standardized."""
    theta = np.asarray(theta, dtype=float)
    *_, full, A, S, m = ram.implied(theta, values)
    pos = {v: i for i, v in enumerate(pt.variables)}
    lat, x = set(pt.latent), set(pt.covariates)
    var = np.diagonal(full, axis1=-2, axis2=-1)
    sd = np.sqrt(np.where(var > 0, var, np.nan))
    rsd = np.sqrt(np.abs(np.diagonal(S, axis1=-2, axis2=-1)))
    est = row_values(pt, theta, values) if est is None else est
    lv = np.array(est, dtype=float)
    for k, r in enumerate(pt.rows):
        i, j = pos.get(r.lhs), pos.get(r.rhs)
        if r.op == "=~":
            lv[..., k] *= sd[..., i] / (sd[..., j] if r.rhs in lat else 1.0)
        elif r.op == "~":
            if r.lhs in lat:
                lv[..., k] /= sd[..., i]
            if r.rhs in lat:
                lv[..., k] *= sd[..., j]
        elif r.op == "~~" and r.lhs == r.rhs and r.lhs in lat:
            lv[..., k] /= sd[..., i] ** 2
        elif r.op == "~~":
            if r.lhs in lat:
                lv[..., k] /= rsd[..., i]
            if r.rhs in lat:
                lv[..., k] /= rsd[..., j]
        elif r.op == "~1" and r.lhs in lat:
            lv[..., k] /= sd[..., i]
    nox = lv.copy()
    ov = lambda v: v not in lat and v not in x      # noqa: E731 (observed, not a covariate)
    for k, r in enumerate(pt.rows):
        i, j = pos.get(r.lhs), pos.get(r.rhs)
        if r.op == "=~" and r.rhs not in lat:
            nox[..., k] /= sd[..., j]
        elif r.op == "~":
            if r.lhs not in lat:
                nox[..., k] /= sd[..., i]
            if ov(r.rhs):
                nox[..., k] *= sd[..., j]
        elif r.op == "~~" and r.lhs == r.rhs and ov(r.lhs):
            nox[..., k] /= sd[..., i] ** 2
        elif r.op == "~~" and r.lhs != r.rhs:
            if ov(r.lhs):
                nox[..., k] /= rsd[..., i]
            if ov(r.rhs):
                nox[..., k] /= rsd[..., j]
        elif r.op == "~1" and ov(r.lhs):
            nox[..., k] /= sd[..., i]
    return lv, nox


def standardized_defined(pt: ParTable, defined: Defined, std_rows: np.ndarray) -> np.ndarray:
    """:= parameters evaluated at the standardized values of their labels
    (std_rows: one row of std.all values, or a batch of them)."""
    std_rows = np.asarray(std_rows, dtype=float)
    if not len(defined):
        return np.zeros(std_rows.shape[:-1] + (0,))
    # each label takes the std.all of the FIRST row written with it, as in
    # lavaan: rows that share a label (or labels made equal by `==`) share
    # the estimate but not its standardized value
    by_label: dict = {}
    for k, r in enumerate(pt.rows):
        if r.label and r.op in ("~", "=~", "~~", "~1"):
            by_label.setdefault(r.label, std_rows[..., k])
    d = Defined(defined.names, defined.exprs, {}, by_label)
    return d.evaluate(np.zeros(std_rows.shape[:-1] + (0,)))


def standardized_solution(pt: ParTable, ram: RAM, theta, values, V, level=0.95):
    """standardized_table(...) as a pandas DataFrame (Result.standardized_solution)."""
    return standardized_table(pt, ram, theta, values, V, level).to_frame()


def standardized_table(pt: ParTable, ram: RAM, theta, values, V, level=0.95):
    """lavaan's standardizedSolution(type = "std.all"): std.all of every
    model row and := parameter with delta-method standard errors, as a
    table.Table (standardized.csv is written from it without pandas).

    The Jacobian of the std.all values with respect to θ (central
    differences, one vectorised evaluation) carries the fit's vcov V
    (standard, robust or bootstrap) to the standardized scale.  As in
    lavaan, an SE below ε^¼ ≈ 1.2e-4 is set to 0 (e.g. fixed covariate
    moments) and then has no z, p value or width of interval."""
    from .estimate.distributions import norm_ppf, two_sided_p
    from .table import Table

    defined = _defined(pt)
    model = [k for k, r in enumerate(pt.rows) if r.op in ("~", "=~", "~~", "~1")]

    def std_all(batch):
        rows = standardized(pt, ram, batch, values)
        return np.concatenate([rows[:, model], standardized_defined(pt, defined, rows)],
                              axis=1)

    est, J = central_jacobian(std_all, theta)
    var = np.diag(J @ np.asarray(V, dtype=float) @ J.T)
    se = np.sqrt(np.where(var >= 0, var, np.nan))
    se = np.where(se < np.finfo(float).eps ** 0.25, 0.0, se)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    crit = norm_ppf(0.5 + level / 2)
    rows = [pt.rows[i] for i in model]
    defs = pt.defined()
    return Table({"lhs": [r.lhs for r in rows] + [r.lhs for r in defs],
                  "op": [r.op for r in rows] + [":="] * len(defs),
                  "rhs": [r.rhs for r in rows] + [r.rhs for r in defs],
                  "label": [r.label for r in rows] + [r.lhs for r in defs],
                  "est.std": est, "se": se, "z": z, "pvalue": two_sided_p(z),
                  "ci.lower": est - crit * se, "ci.upper": est + crit * se})


def row_values(pt: ParTable, theta, values) -> np.ndarray:
    """The value of every model row: θ for free rows, the fixed value else
    (θ may carry leading batch dimensions)."""
    theta = np.asarray(theta, dtype=float)
    out = np.array(np.broadcast_to(values, theta.shape[:-1] + (len(values),)), dtype=float)
    for k, r in enumerate(pt.rows):
        if r.free:
            out[..., k] = theta[..., r.free - 1]
    return out


def r_squared(pt: ParTable, ram: RAM, theta, values) -> dict[str, float]:
    """1 − residual variance / total variance for every endogenous variable."""
    *_, full, A, S, m = ram.implied(theta, values)
    pos = {v: i for i, v in enumerate(pt.variables)}
    return {v: float(1.0 - S[pos[v], pos[v]] / full[pos[v], pos[v]])
            for v in pt.endogenous}


# -- block-aware views: a two-level table is standardized level by level --------------

def _blocks(pt: ParTable, values):
    """(table, RAM, positions in pt.rows, values) per block: the whole table
    for a single-level model, one entry per level for a two-level one."""
    from .estimate.ram import ram_of
    if not pt.multilevel:
        yield pt, ram_of(pt), np.arange(len(pt.rows)), values
        return
    for b in range(1, len(pt.levels) + 1):
        sub = pt.block(b)
        rows = np.array([k for k, r in enumerate(pt.rows) if r.block == b], dtype=int)
        yield sub, ram_of(sub), rows, values[rows]


def standardized_rows(pt: ParTable, theta, values) -> np.ndarray:
    """std.all of every row of pt (NaN for := rows), per level for
    two-level models (as lavaan's standardizedSolution)."""
    theta = np.asarray(theta, dtype=float)
    out = np.full(theta.shape[:-1] + (len(pt.rows),), np.nan)
    for sub, ram, rows, vals in _blocks(pt, values):
        out[..., rows] = standardized(sub, ram, theta, vals)
    return out


def r_squared_rows(pt: ParTable, theta, values) -> dict[str, float]:
    """R² of every endogenous variable; level-2 ones of a two-level model
    are named with lavaan's '.l2' suffix."""
    out: dict[str, float] = {}
    for b, (sub, ram, rows, vals) in enumerate(_blocks(pt, values), start=1):
        suffix = f".l{b}" if b > 1 else ""
        out.update({v + suffix: r for v, r in r_squared(sub, ram, theta, vals).items()})
    return out


def admissibility_rows(pt: ParTable, theta, values) -> list[str]:
    from .identification import admissibility
    out = []
    for b, (sub, ram, rows, vals) in enumerate(_blocks(pt, values), start=1):
        prefix = f"Level {pt.levels[b - 1]}: " if pt.multilevel else ""
        out += [prefix + m for m in admissibility(sub, ram, theta, vals)]
    return out


def standardized_lv_nox_rows(pt: ParTable, theta, values) -> tuple[np.ndarray, np.ndarray]:
    """std.lv and std.nox of every row of pt, per level for two-level models."""
    theta = np.asarray(theta, dtype=float)
    lv = np.full(theta.shape[:-1] + (len(pt.rows),), np.nan)
    nox = lv.copy()
    for sub, ram, rows, vals in _blocks(pt, values):
        a, b = standardized_lv_nox(sub, ram, theta, vals)
        lv[..., rows], nox[..., rows] = a, b
    return lv, nox
