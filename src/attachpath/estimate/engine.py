"""Point estimates: semopy's optimizer, then a verified finish.

semopy fits the covariance structure (objective MLW, the ML discrepancy with
divisor N).  Its default SLSQP tolerance leaves estimates up to 0.5% off
lavaan, and its variance bounds clamp Heywood cases at zero where lavaan
reports the negative estimate, so attachpath finishes with Fisher scoring on
its own analytic gradient and accepts the solution only when that gradient
vanishes.  Intercepts of a saturated mean structure have a closed form.
"""

from __future__ import annotations

from functools import lru_cache

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import EstimationError, InternalError, ModelError
from ..partable import ParTable
from . import closedform, ml, scoring, starts
from .ram import RAM, ram_of

GRAD_TOL = 1e-6      # max |dF/dθ| accepted as converged (lavaan-tight)
MAX_SCORING = 100


@dataclass(frozen=True)
class Solution:
    theta: np.ndarray
    values: np.ndarray       # fixed values per table row, covariates filled in
    iterations: int
    gradient_norm: float
    discrepancy: float
    method: str = "semopy"   # "semopy" (SLSQP + Fisher scoring), "scoring" (own starts
                             # + Fisher scoring) or "closed-form"


def fixed_values(pt: ParTable, ram: RAM, mom: ml.Moments) -> np.ndarray:
    """The table's fixed values with the fixed.x rows taken from the sample."""
    values = ram.fixed_values.copy()
    pos = {v: i for i, v in enumerate(pt.observed)}
    for k, r in enumerate(pt.rows):
        if r.exo:
            if r.op == "~~":
                values[k] = mom.cov[pos[r.lhs], pos[r.rhs]]
            else:
                values[k] = mom.mean[pos[r.lhs]]
    return values


def check_mean_structure(pt: ParTable) -> None:
    """Only a saturated mean structure is supported: every observed
    intercept free and on its own."""
    problem = _mean_structure_problem(pt)
    if problem:
        raise ModelError(problem)


@lru_cache(maxsize=256)
def _mean_structure_problem(pt: ParTable) -> str | None:
    counts: dict[int, int] = {}
    for r in pt.rows:
        if r.free:
            counts[r.free] = counts.get(r.free, 0) + 1
    for r in pt.rows:
        if r.op != "~1" or r.exo or r.lhs in pt.latent:
            continue
        if not r.free or counts[r.free] > 1:
            return (f"The intercept of '{r.lhs}' is fixed or constrained (line {r.line}); "
                    f"attachpath supports only freely estimated intercepts so far. "
                    f"Remove the modifier on '{r.lhs} ~ 1'.")
    intercepts = {r.free for r in pt.rows if r.free and r.op == "~1"}
    for r in pt.rows:
        if r.free and r.op != "~1" and r.free in intercepts:
            return (f"The label '{r.label}' joins an intercept with another "
                    f"parameter; that is not supported.")
    return None


def semopy_description(pt: ParTable) -> tuple[str, dict[str, str]]:
    """semopy syntax for the covariance structure, with safe names.

    Every variable is renamed (v0, v1, ...) and every free parameter gets the
    label p<k>, so semopy's parser sees nothing it could misread (dots in
    names, labels equal to variable names, NA*).  Covariate moments are left
    out: semopy fixes them at the sample values itself."""
    names = {v: f"v{i}" for i, v in enumerate(pt.variables)}
    lines = []
    for r in pt.rows:
        if r.op not in ("~", "=~", "~~") or r.exo:
            continue
        mult = f"p{r.free}" if r.free else repr(float(r.value))
        lines.append(f"{names[r.lhs]} {r.op} {mult}*{names[r.rhs]}")
    for lv in pt.latent:
        if not any(r.op == "=~" and r.lhs == lv for r in pt.rows):
            raise ModelError(f"'{lv}' is latent but has no indicators.")
    return "\n".join(lines), names


def _start_theta(pt: ParTable, model, npar: int) -> np.ndarray:
    theta = np.full(npar, np.nan)
    index = {name: i for i, name in enumerate(
        n for n, p in model.parameters.items() if p.active)}
    for r in pt.rows:
        if r.free and r.op != "~1":
            name = f"p{r.free}"
            if name not in index:
                raise InternalError(f"semopy lost the parameter {r.name}.")
            theta[r.free - 1] = model.param_vals[index[name]]
    extra = set(index) - {f"p{r.free}" for r in pt.rows if r.free}
    if extra:
        raise InternalError(f"semopy added {len(extra)} parameter(s) the model does not "
                            f"have.")
    return theta


def saturated_intercepts(pt: ParTable, ram: RAM, theta, values, mom) -> np.ndarray:
    """θ with the free intercepts set so that the implied means equal the
    sample means (the ML solution of a saturated mean structure)."""
    if not pt.meanstructure:
        return theta
    theta = theta.copy()
    A, S, m = ram.matrices(np.nan_to_num(theta), values)
    B = np.linalg.inv(np.eye(ram.n_all) - A)
    p = ram.n_obs
    m_obs = np.linalg.solve(B[:p, :p], mom.mean - B[:p, p:] @ m[p:])
    for i, k in zip(ram.m_i, ram.m_free):
        if k >= 0:
            theta[k] = m_obs[i]
    return theta


def fit_semopy(pt: ParTable, ram: RAM, mom: ml.Moments, values) -> tuple[np.ndarray, int]:
    import semopy

    desc, names = semopy_description(pt)
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)   # semopy logs warnings we check ourselves
    try:
        model = semopy.Model(desc)
    finally:
        logger.setLevel(level)
    for r in pt.rows:
        if r.free and r.op != "~1" and np.isfinite(r.start):
            model.parameters[f"p{r.free}"].start = float(r.start)
    _bounded_lambda_starts(model, pt, names, mom)
    data = pd.DataFrame(mom.X, columns=[names[v] for v in pt.observed])
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)   # semopy logs non-convergence; we check ourselves
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = model.fit(data, obj="MLW", solver="SLSQP", options={"ftol": 1e-12})
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
        raise EstimationError(f"semopy could not fit the model: {exc}. Check that "
                              f"the variables are not collinear and that the model "
                              f"is identified.") from None
    finally:
        logger.setLevel(level)
    theta = _start_theta(pt, model, pt.npar)
    return saturated_intercepts(pt, ram, theta, values, mom), int(res.n_it)


def _bounded_lambda_starts(model, pt: ParTable, names: dict, mom: ml.Moments) -> None:
    """Give a start to every parameter semopy's start rule would loop on.

    semopy starts a parameter of its loading matrix (a loading, or a
    regression of an observed variable on a factor, which semopy stores as
    a loading) by walking from the factor to its fixed "first" indicator.
    A factor without a fixed loading (NA* with its variance fixed, std.lv)
    has none, and the walk (`while first not in observed`) never ends.  The
    same walk is done here with a bound; where it does not reach an observed
    variable the parameter gets a start (0.7 standard deviations of the
    variable it points to, a loading of a standardized factor), so semopy
    never enters its loop."""
    from semopy import startingvalues

    observed = set(model.vars["observed"])
    first = dict(model.first_manifs)          # no defaultdict: no side effects
    sd = {names[v]: float(np.sqrt(mom.cov[i, i])) for i, v in enumerate(pt.observed)}
    bound = len(model.vars.get("latent", ())) + 2
    for param in model.parameters.values():
        if param.start is not None or not param.locations:
            continue
        loc = param.locations[0]
        n = next((i for i, mx in enumerate(model.matrices) if mx is loc.matrix), None)
        if n is None or model.start_rules[n] is not startingvalues.start_lambda:
            continue
        rows, cols = model.names[n]
        lval, rval = rows[loc.indices[0]], cols[loc.indices[1]]
        v, steps = rval, 0
        while v is not None and v not in observed and steps < bound:
            v, steps = first.get(v), steps + 1
        if v is None or v not in observed:
            param.start = 0.7 * sd.get(lval, 1.0)


def fisher_scoring(ram: RAM, theta, mom, values, max_iter=MAX_SCORING):
    """Polish θ with Fisher scoring and step halving; returns (θ, iterations, |g|)."""
    return scoring.fisher_scoring(scoring.Discrepancy(ram, mom, values), theta,
                                  max_iter=max_iter)


def _own_start_fit(pt: ParTable, ram: RAM, mom: ml.Moments, values) -> Solution | None:
    """Fisher scoring from moment-based starts (starts.simple, then
    starts.instrumental), or None when it does not reach a converged solution.

    This is how lavaan fits (its own starts, then a Newton-type optimizer),
    and it spares most models semopy's import (seconds) and its SLSQP
    (most of a latent model's fit time); semopy remains the fallback for
    models whose starts are too far off."""
    theta = starts.instrumental(pt, mom.cov, starts.simple(pt, mom.cov))
    theta = saturated_intercepts(pt, ram, theta, values, mom)
    if not np.all(np.isfinite(theta)) or not np.isfinite(ml.discrepancy(ram, theta, mom, values)):
        return None
    theta, it, gnorm = fisher_scoring(ram, theta, mom, values)
    f = ml.discrepancy(ram, theta, mom, values)
    if not np.isfinite(f) or gnorm > GRAD_TOL:
        return None
    return Solution(theta, values, it, gnorm, f, "scoring")


def estimate(pt: ParTable, mom: ml.Moments, ram: RAM | None = None,
             start: np.ndarray | None = None, method: str = "auto") -> Solution:
    """ML estimates of the model on complete data, verified converged.

    method "auto" uses the closed form where the model allows it
    (closedform.plan) and semopy otherwise; "semopy" always uses semopy.
    `start` (a previous θ̂) skips semopy and warm-starts the scoring, as the
    bootstrap does."""
    ram = ram or ram_of(pt)
    check_mean_structure(pt)
    values = fixed_values(pt, ram, mom)
    plan = closedform.plan(pt) if method == "auto" else None
    if plan is not None:
        theta = closedform.solve(plan, mom.mean, mom.cov, pt.npar)
        if np.all(np.isfinite(theta)):
            g = ml.gradient(ram, theta, mom, values)
            gnorm = float(np.max(np.abs(g))) if len(g) else 0.0
            if gnorm <= GRAD_TOL:
                return Solution(theta, values, 0, gnorm,
                                ml.discrepancy(ram, theta, mom, values), "closed-form")
    if start is None:
        own = _own_start_fit(pt, ram, mom, values) if method == "auto" else None
        if own is not None:
            return own
        theta, n_it = fit_semopy(pt, ram, mom, values)
    else:
        theta, n_it = saturated_intercepts(pt, ram, start, values, mom), 0
    if not np.all(np.isfinite(theta)):
        raise EstimationError("The optimizer returned non-finite estimates; the model "
                              "is probably not identified.", iterations=n_it)
    theta, it, gnorm = fisher_scoring(ram, theta, mom, values)
    f = ml.discrepancy(ram, theta, mom, values)
    if not np.isfinite(f) or gnorm > GRAD_TOL:
        raise EstimationError(
            f"The estimation did not converge: after {n_it} optimizer and {it} "
            f"scoring iterations the gradient norm is {gnorm:.2e} (needs < "
            f"{GRAD_TOL:.0e}). Check the model is identified, rescale variables "
            f"with very different variances, or give start values with start().",
            iterations=n_it + it, gradient_norm=gnorm, theta=theta)
    return Solution(theta, values, n_it + it, gnorm, f)
