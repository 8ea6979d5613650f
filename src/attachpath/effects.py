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

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """d x k Jacobian by central differences (one vectorised call)."""
        return self.delta(theta, None)[1]

    def vcov(self, theta, V) -> np.ndarray:
        """Delta-method covariance J V J' of the values at θ."""
        return self.delta(theta, V)[2]

    def delta(self, theta: np.ndarray, V: np.ndarray | None):
        """(values, Jacobian, delta-method vcov or None) from one vectorised
        evaluation at θ and at θ ± h along every parameter."""
        k = len(theta)
        h = 1e-6 * np.maximum(1.0, np.abs(theta))
        steps = np.diag(h)
        vals = self.evaluate(np.vstack([theta[None, :], theta + steps, theta - steps]))
        J = ((vals[1:k + 1] - vals[k + 1:]) / (2 * h)[:, None]).T
        return vals[0], J, (None if V is None else J @ V @ J.T)


@lru_cache(maxsize=256)
def _defined(pt: ParTable) -> Defined:
    return Defined._build(pt)


def standardized(pt: ParTable, ram: RAM, theta, values) -> np.ndarray:
    """lavaan's std.all for every model row (NaN where undefined)."""
    *_, full, A, S, m = ram.implied(theta, values)
    pos = {v: i for i, v in enumerate(pt.variables)}
    sd = np.sqrt(np.where(np.diag(full) > 0, np.diag(full), np.nan))
    rsd = np.sqrt(np.where(np.diag(S) > 0, np.diag(S), np.nan))
    est = row_values(pt, theta, values)
    out = np.full(len(pt.rows), np.nan)
    for k, r in enumerate(pt.rows):
        if r.op == "~":
            out[k] = est[k] * sd[pos[r.rhs]] / sd[pos[r.lhs]]
        elif r.op == "=~":
            out[k] = est[k] * sd[pos[r.lhs]] / sd[pos[r.rhs]]
        elif r.op == "~~":
            i, j = pos[r.lhs], pos[r.rhs]
            out[k] = est[k] / sd[i] ** 2 if i == j else est[k] / (rsd[i] * rsd[j])
        elif r.op == "~1":
            out[k] = est[k] / sd[pos[r.lhs]]
    return out


def standardized_defined(pt: ParTable, defined: Defined, std_rows: np.ndarray) -> np.ndarray:
    """:= parameters evaluated at the standardized values of their labels."""
    if not len(defined):
        return np.zeros(0)
    theta_std = np.full(pt.npar, np.nan)
    for k, r in enumerate(pt.rows):
        if r.free:
            theta_std[r.free - 1] = std_rows[k]
    fixed = {r.label: std_rows[k] for k, r in enumerate(pt.rows)
             if r.label and not r.free and r.op in ("~", "=~", "~~", "~1")}
    d = Defined(defined.names, defined.exprs, defined.label_index, fixed)
    return d.evaluate(theta_std)


def row_values(pt: ParTable, theta, values) -> np.ndarray:
    """The value of every model row: θ for free rows, the fixed value else."""
    out = np.array(values, dtype=float).copy()
    for k, r in enumerate(pt.rows):
        if r.free:
            out[k] = theta[r.free - 1]
    return out


def r_squared(pt: ParTable, ram: RAM, theta, values) -> dict[str, float]:
    """1 − residual variance / total variance for every endogenous variable."""
    *_, full, A, S, m = ram.implied(theta, values)
    pos = {v: i for i, v in enumerate(pt.variables)}
    return {v: float(1.0 - S[pos[v], pos[v]] / full[pos[v], pos[v]])
            for v in pt.endogenous}
