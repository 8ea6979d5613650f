"""Inequality constraints (`a > 0`, `a < b`) by an active set, as lavaan
reports them.

lavaan 0.6-14 fits a model with inequality constraints by an augmented
Lagrangian around nlminb (lav_optim_nlminb_constr.R).  At its solution a
constraint is either inactive (slack above 1e-5: it plays no further part)
or active, and then holds as an equality: `a > 0` with a = 0, `a < b` with
a = b.  Its standard errors come from the information augmented with the
Jacobian of the active constraints (lav_model_information_augment_invert):
the top-left block of that inverse is the vcov of the model in which the
active constraints are equalities.  So the same numbers come from fitting
that model: a bound fixes the parameter at its number, an order between two
labels makes them one parameter.  lavaan shows no SE for a parameter held
at a bound (its variance is zero).  The constraints do not change lavaan's
npar or df: the model keeps its free parameters, df counts no inequality.

`solve` finds the active set: fit the unconstrained model; while a
constraint is violated, hold the violated ones as equalities and refit;
drop one whose Lagrange multiplier has the wrong sign (the fit would improve
by leaving the bound).  Every loop is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import EstimationError
from ..partable import ParTable, _is_number

TOL = 1e-8        # a constraint below -TOL is violated; a multiplier below -TOL is wrong-signed


def side_value(pt: ParTable, theta: np.ndarray, side: str) -> float:
    """The value of one side of a constraint at θ: a number, a free label's
    estimate or a fixed label's value."""
    if _is_number(side):
        return float(side)
    if side in pt.label_index:
        return float(theta[pt.label_index[side]])
    return float(pt.label_fixed[side])


def slack(pt: ParTable, theta: np.ndarray) -> np.ndarray:
    """high − low of every inequality (non-negative when it holds)."""
    return np.array([side_value(pt, theta, q.high) - side_value(pt, theta, q.low)
                     for q in pt.inequalities])


def _gradients(pt: ParTable) -> np.ndarray:
    """d(high − low)/dθ of every inequality (rows)."""
    G = np.zeros((len(pt.inequalities), pt.npar))
    for i, q in enumerate(pt.inequalities):
        for side, sign in ((q.high, 1.0), (q.low, -1.0)):
            if side in pt.label_index:
                G[i, pt.label_index[side]] += sign
    return G


@dataclass(frozen=True)
class Reduced:
    """The model with the active constraints held as equalities."""

    pt: ParTable
    P: np.ndarray          # full θ = P θ_reduced + c
    c: np.ndarray
    active: tuple[int, ...]

    def expand(self, theta_r: np.ndarray) -> np.ndarray:
        return self.P @ theta_r + self.c


def reduced(pt: ParTable, active) -> Reduced:
    """pt with each active inequality an equality: a number on one side fixes
    the other side's parameter there; two labels share one parameter."""
    target: dict[int, int | float] = {}       # free index -> free index or value

    def resolve(k):
        seen = 0
        while k in target and isinstance(target[k], int) and seen < pt.npar + 1:
            k, seen = target[k], seen + 1
        return target.get(k, k) if k in target else k

    for i in sorted(active):
        q = pt.inequalities[i]
        hi = pt.label_index.get(q.high)
        lo = pt.label_index.get(q.low)
        if hi is None and lo is None:
            continue
        if hi is None or lo is None:
            k = resolve(lo if hi is None else hi)
            if isinstance(k, float):
                continue
            target[k] = float(side_value(pt, np.zeros(pt.npar), q.high if hi is None
                                         else q.low))
            continue
        a, b = resolve(hi), resolve(lo)
        if isinstance(a, float) and isinstance(b, float):
            continue
        if isinstance(a, float):
            target[b] = a
        elif isinstance(b, float):
            target[a] = b
        elif a != b:
            target[max(a, b)] = min(a, b)
    final = {k: resolve(k) for k in range(pt.npar)}
    kept = sorted({v for v in final.values() if isinstance(v, int)})
    number = {k: j for j, k in enumerate(kept)}
    P = np.zeros((pt.npar, len(kept)))
    c = np.zeros(pt.npar)
    for k, v in final.items():
        if isinstance(v, float):
            c[k] = v
        else:
            P[k, number[v]] = 1.0
    rows = []
    for r in pt.rows:
        if not r.free:
            rows.append(r)
            continue
        v = final[r.free - 1]
        rows.append(replace(r, free=0, value=v) if isinstance(v, float)
                    else replace(r, free=number[v] + 1))
    return Reduced(replace(pt, rows=tuple(rows)), P, c, tuple(sorted(active)))


def solve(pt: ParTable, lik, sol, make_likelihood):
    """(likelihood, solution, Reduced or None) with every inequality met.

    `lik`, `sol`: the unconstrained fit; `make_likelihood(pt)` builds the
    same kind of likelihood on the same data for another table.  None when
    no constraint is active (the unconstrained fit stands, as in lavaan)."""
    if not pt.inequalities or np.all(slack(pt, sol.theta) >= -TOL):
        return lik, sol, None
    active = set(np.flatnonzero(slack(pt, sol.theta) < -TOL).tolist())
    G = _gradients(pt)
    tried: set[frozenset] = set()
    for _ in range(4 * len(pt.inequalities) + 4):
        tried.add(frozenset(active))
        red = reduced(pt, active)
        red_lik = make_likelihood(red.pt)
        red_sol = red_lik.estimate()
        theta = red.expand(red_sol.theta)
        s = slack(pt, theta)
        violated = {i for i in np.flatnonzero(s < -TOL) if i not in active}
        if violated:
            active |= violated
            continue
        # KKT: dF/dθ = Σ λ_i d(slack_i)/dθ with λ_i ≥ 0 over the active ones
        idx = sorted(active)
        g = lik.gradient(theta)
        lam = np.linalg.lstsq(G[idx].T, g, rcond=None)[0]
        if np.min(lam, initial=0.0) < -TOL * max(1.0, np.max(np.abs(g))):
            drop = idx[int(np.argmin(lam))]
            if frozenset(active - {drop}) in tried:
                break
            active.discard(drop)
            continue
        return red_lik, red_sol, red
    raise EstimationError("The inequality constraints could not be met: no set of "
                          "active constraints gave a solution that satisfies all of "
                          "them. Check that the constraints do not contradict each "
                          "other.")
