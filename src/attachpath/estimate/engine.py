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

import warnings
from dataclasses import dataclass

import numpy as np

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
    """Intercepts and means may be free, fixed or equal among themselves; a
    label joining an intercept with another kind of parameter is refused."""
    problem = _mean_structure_problem(pt)
    if problem:
        raise ModelError(problem)


@lru_cache(maxsize=256)
def _mean_structure_problem(pt: ParTable) -> str | None:
    intercepts = {r.free for r in pt.rows if r.free and r.op == "~1"}
    for r in pt.rows:
        if r.free and r.op != "~1" and r.free in intercepts:
            return (f"The label '{r.label}' joins an intercept with another "
                    f"parameter; that is not supported.")
    return None


@lru_cache(maxsize=256)
def saturated_means(pt: ParTable) -> bool:
    """Every observed intercept free and on its own, and no latent mean free:
    the implied means can equal any sample means, so the mean structure has
    a closed-form solution (the covariance structure is fitted on its own)."""
    if not pt.meanstructure:
        return True
    counts: dict[int, int] = {}
    for r in pt.rows:
        if r.free:
            counts[r.free] = counts.get(r.free, 0) + 1
    for r in pt.rows:
        if r.op != "~1" or r.exo:
            continue
        if r.lhs in pt.latent:
            if r.free:
                return False
        elif not r.free or counts[r.free] > 1:
            return False
    return True


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
    """θ with the free intercepts and means at their ML values given the rest
    of θ: the implied means μ = F B m are linear in them, so generalized
    least squares with weight Σ(θ)⁻¹ (the mean part of F_ML) solves for
    them.  With a saturated mean structure (saturated_means) this sets the
    implied means equal to the sample means, the ML solution; otherwise
    (fixed or equal intercepts, free latent means) it is the start of the
    joint Fisher scoring."""
    if not pt.meanstructure or not np.any(ram.m_free >= 0):
        return theta
    theta = np.array(theta, dtype=float, copy=True)
    A, S, m = ram.matrices(np.nan_to_num(theta), values)
    free = ram.m_free
    m_fixed = m.copy()
    m_fixed[ram.m_i[free >= 0]] = 0.0
    B = np.linalg.inv(np.eye(ram.n_all) - A)
    p = ram.n_obs
    keys = np.unique(free[free >= 0])
    X = np.zeros((p, len(keys)))      # d mu / d(each free intercept or mean)
    for c, k in enumerate(keys):
        X[:, c] = B[:p, ram.m_i[free == k]].sum(axis=1)
    r = mom.mean - B[:p, :] @ m_fixed
    sigma = (B @ S @ B.T)[:p, :p]
    try:
        W = np.linalg.inv(sigma) if np.all(np.linalg.eigvalsh(sigma) > 0) else np.eye(p)
    except np.linalg.LinAlgError:
        W = np.eye(p)
    sol = np.linalg.lstsq(X.T @ W @ X, X.T @ W @ r, rcond=None)[0]
    theta[keys] = sol
    return theta


def fit_semopy(pt: ParTable, ram: RAM, mom: ml.Moments, values) -> tuple[np.ndarray, int]:
    import pandas as pd    # semopy's data format; semopy imports it anyway
    import semopy

    import logging          # semopy fits only: not every command's start-up

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


def _quasi_newton(ram: RAM, theta, mom, values, max_iter: int = 2000):
    """(θ, iterations) of BFGS on F_ML with the analytic gradient, from θ
    (bounded by max_iter; a point where Σ is not positive definite counts
    as a very poor fit)."""
    from scipy.optimize import minimize

    def f(t):
        v = ml.discrepancy(ram, t, mom, values)
        return v if np.isfinite(v) else 1e10

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = minimize(f, np.asarray(theta, dtype=float), method="BFGS",
                       jac=lambda t: ml.gradient(ram, t, mom, values),
                       options={"maxiter": max_iter})
    return (out.x if np.all(np.isfinite(out.x)) else np.asarray(theta, dtype=float)), int(out.nit)


def fisher_scoring(ram: RAM, theta, mom, values, max_iter=MAX_SCORING, newton=False):
    """Polish θ with Fisher scoring (Newton steps with `newton`, see
    scoring.Discrepancy) and step halving; returns (θ, iterations, |g|)."""
    return scoring.fisher_scoring(scoring.Discrepancy(ram, mom, values, newton), theta,
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
    (closedform.plan), else Fisher scoring from moment-based starts, and
    semopy where that does not converge; "semopy" always uses semopy.
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
        # own starts and scoring where the means are saturated; fixed or equal
        # intercepts and free latent means take semopy's start and the
        # quasi-Newton check below (several optima are possible there)
        own = (_own_start_fit(pt, ram, mom, values)
               if method == "auto" and saturated_means(pt) else None)
        if own is not None:
            return own
        theta, n_it = fit_semopy(pt, ram, mom, values)
    else:
        theta, n_it = saturated_intercepts(pt, ram, start, values, mom), 0
    if not np.all(np.isfinite(theta)):
        raise EstimationError("The optimizer returned non-finite estimates; the model "
                              "is probably not identified.", iterations=n_it)
    newton = not saturated_means(pt)
    theta0 = theta
    theta, it, gnorm = fisher_scoring(ram, theta, mom, values, newton=newton)
    f = ml.discrepancy(ram, theta, mom, values)
    if newton:
        # fixed or equal intercepts: the mean misfit can leave several optima,
        # and scoring from the covariance-structure start may stop in a
        # higher one; a quasi-Newton run from the same start, polished by
        # scoring, is kept when it ends lower (lavaan's nlminb does the same)
        alt, it2 = _quasi_newton(ram, theta0, mom, values)
        alt, it3, g2 = fisher_scoring(ram, alt, mom, values, newton=True)
        f2 = ml.discrepancy(ram, alt, mom, values)
        it += it2 + it3
        if np.isfinite(f2) and g2 <= GRAD_TOL and (not np.isfinite(f) or gnorm > GRAD_TOL
                                                   or f2 < f - 1e-10):
            theta, gnorm, f = alt, g2, f2
    if (not np.isfinite(f) or gnorm > GRAD_TOL) and start is None and pt.latent:
        # semopy clamps variances at 0, so a solution with a negative factor
        # variance (lavaan reports it, flagged) lies across a ridge scoring
        # cannot cross from there; instrumental-variable starts land near it
        alt = saturated_intercepts(pt, ram, starts.instrumental(pt, mom.cov, theta), values, mom)
        alt, it2, g2 = fisher_scoring(ram, alt, mom, values, newton=newton)
        f2 = ml.discrepancy(ram, alt, mom, values)
        if np.isfinite(f2) and g2 <= GRAD_TOL:
            return Solution(alt, values, n_it + it + it2, g2, f2)
    if not np.isfinite(f) or gnorm > GRAD_TOL:
        raise EstimationError(
            f"The estimation did not converge: after {n_it} optimizer and {it} "
            f"scoring iterations the gradient norm is {gnorm:.2e} (needs < "
            f"{GRAD_TOL:.0e}). Check the model is identified, rescale variables "
            f"with very different variances, or give start values with start().",
            iterations=n_it + it, gradient_norm=gnorm, theta=theta)
    return Solution(theta, values, n_it + it, gnorm, f)
