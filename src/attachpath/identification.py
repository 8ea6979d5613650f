"""Checks around estimation: options, identification before fitting, the
information matrix after it, failure diagnostics and admissibility.

They turn a model that cannot be trusted into a message naming what is
wrong (ModelError before fitting, EstimationError with the culprits when
the optimizer fails) and flag inadmissible solutions in the Result.
"""

from __future__ import annotations

import random

import numpy as np

from .errors import EstimationError, ModelError, OptionError
from .estimate import ml
from .estimate.ram import RAM
from .partable import ParTable, moment_counts

SE_KINDS = ("standard", "robust", "bootstrap", "none")

def check_options(*, se="standard", level=0.95, mc_draws=0, bootstrap=1000,
                  seed=None) -> float:
    """Refuse option values that would give meaningless numbers; returns the
    level as a float."""
    if se not in SE_KINDS:
        raise OptionError(f"se must be one of {', '.join(SE_KINDS)}, not '{se}'.")
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise OptionError(f"The confidence level must be a number between 0 and 1 "
                              f"(e.g. 0.95), not {level!r}.") from None
    if not 0 < level < 1:
        hint = (f" For a {level:g}% interval write {level / 100:g}."
                if 1 < level < 100 else "")
        raise OptionError(f"The confidence level must be between 0 and 1 (e.g. "
                              f"0.95), not {level:g}.{hint}")
    for name, value, low in (("The number of Monte Carlo draws (--mc)", mc_draws, 0),
                             ("The number of bootstrap draws (--bootstrap)", bootstrap,
                              2 if se == "bootstrap" else 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise OptionError(f"{name} must be a whole number of at least {low}, "
                                  f"not {value!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise OptionError(f"The seed must be a whole number of 0 or more, not {seed!r}.")
    return level


def _latent_column_notes(pt: ParTable, columns) -> list[str]:
    if not pt.latent:
        return []
    cols = {str(c) for c in columns}
    return [f"The latent variable '{lv}' has the name of a data column; the column is "
            f"not used (a latent variable is not observed). Rename the latent "
            f"variable if you meant the observed one."
            for lv in pt.latent if lv in cols]


def describe_parameters(pt: ParTable) -> list[str]:
    """A readable name per free parameter: 'y ~ x (a)', 'f =~ x2', 'y ~ 1'."""
    names: dict[int, str] = {}
    for r in pt.rows:
        if r.free and r.free not in names:
            if r.op == "~1":
                text = f"{r.lhs} ~ 1"
            else:
                text = f"{r.lhs} {r.op} {r.rhs}"
            if r.label:
                text += f" ({r.label})"
            names[r.free] = text
    return [names[k] for k in range(1, pt.npar + 1)]


def _generic_point(pt: ParTable, rng) -> np.ndarray:
    """Random parameter values away from 0 and from each other (for a rank
    check that holds almost everywhere if it holds at such a point)."""
    theta = np.zeros(pt.npar)
    seen: set[int] = set()
    for r in pt.rows:
        k = r.free - 1
        if not r.free or k in seen:
            continue
        seen.add(k)
        u = rng.uniform(0.15, 0.45) * rng.choice((-1.0, 1.0))
        if r.op == "~~" and r.lhs == r.rhs:
            theta[k] = rng.uniform(0.8, 1.6)
        elif r.op == "~~":
            theta[k] = u / 3
        elif r.op == "=~":
            theta[k] = rng.uniform(0.6, 1.4)
        elif r.op == "~1":
            theta[k] = rng.uniform(-1, 1)
        else:
            theta[k] = u
    return theta


def _null_parameters(vectors, names, k_zero=()) -> list[str]:
    picked: dict[int, None] = {k: None for k in k_zero}
    for v in vectors:
        v = np.abs(v)
        for k in np.flatnonzero(v > 0.1 * v.max()):
            picked[int(k)] = None
    return [names[k] for k in sorted(picked)]


def _where(pt: ParTable) -> str:
    return f"{pt.file}: " if pt.file else ""


# ParTables already shown identified (the check is structural: it does not
# depend on the data), so refits of one model in a study do it once
_IDENTIFIED: set = set()


def check_rank(pt: ParTable, ram: RAM, values, *, tol: float = 1e-9) -> None:
    """Refuse a model that is not (locally) identified, before fitting.

    The implied moments are differentiated at random parameter values: if
    the Jacobian has full column rank at one such point the model is
    identified almost everywhere; if it is rank deficient at two, some
    combination of parameters can change without changing any implied mean,
    variance or covariance, and those parameters are named.
    """
    if pt.npar == 0 or pt in _IDENTIFIED:
        return
    # the check is structural: the covariates' moments (taken from the sample)
    # are replaced by unit variances, so nearly collinear or badly scaled
    # covariates are not blamed on the model (the data checks name them)
    values = np.array(values, dtype=float)
    for k, r in enumerate(pt.rows):
        if r.exo:
            values[k] = 1.0 if r.op == "~~" and r.lhs == r.rhs else 0.0
    names = describe_parameters(pt)
    # the stdlib generator: numpy.random costs a CLI fit more to import
    # (~15 ms) than this check takes
    rng = random.Random(20240701)
    deficient, singular = [], 0
    for _ in range(8):
        theta = _generic_point(pt, rng)
        with np.errstate(all="ignore"):
            try:
                sigma = ram.implied(theta, values)[0]
                J = ram.jacobian(theta, values)
            except np.linalg.LinAlgError:
                continue
        if not (np.all(np.isfinite(sigma)) and np.all(np.isfinite(J))):
            continue
        sd = np.sqrt(np.clip(np.diag(sigma), 0, None))
        if np.any(sd <= 0) or np.linalg.eigvalsh(sigma / np.outer(sd, sd))[0] <= 1e-10:
            singular += 1
            continue
        norms = np.linalg.norm(J, axis=0)
        zero = np.flatnonzero(~(norms > 0))
        Jn = J / np.where(norms > 0, norms, 1.0)
        if J.shape[0] >= J.shape[1]:
            _, sv, vt = np.linalg.svd(Jn, full_matrices=False)
            null = [vt[i] for i in range(len(sv)) if sv[i] <= tol * sv[0]]
        else:   # fewer moments than parameters (counting caught it already)
            _, sv, vt = np.linalg.svd(Jn, full_matrices=True)
            null = [vt[i] for i in range(len(sv), J.shape[1])] + \
                   [vt[i] for i in range(len(sv)) if sv[i] <= tol * sv[0]]
        if not null and not len(zero):
            _IDENTIFIED.add(pt)
            return
        deficient.append((null, zero))
        if len(deficient) >= 2:
            break
    if len(deficient) >= 2:
        null, zero = deficient[-1]
        culprits = _null_parameters(null, names, zero)
        shown = "; ".join(f"'{c}'" for c in culprits[:8]) + (
            f" and {len(culprits) - 8} more" if len(culprits) > 8 else "")
        raise ModelError(
            f"{_where(pt)}The model is not identified although df = "
            f"{_df(pt)} >= 0: the parameters {shown} can change together without "
            f"changing any implied variance, covariance or mean, so the data cannot "
            f"determine them. Fix one of them (e.g. 0*x or 1*x), constrain them equal, "
            f"or add indicators or instruments.")
    if singular >= 4 and not deficient:
        zero = [r for r in pt.rows if r.op == "~~" and r.lhs == r.rhs and not r.free
                and not r.exo and r.value == 0 and r.lhs in pt.observed]
        why = (" The residual variance of " + ", ".join(f"'{r.lhs}'" for r in zero) +
               " is fixed at 0, which makes it an exact combination of other observed "
               "variables; free it or fix it at a positive value." if zero else
               " Check variances fixed at 0 and loadings or paths fixed at values "
               "that make variables exact copies of each other.")
        raise ModelError(f"{_where(pt)}The model implies a singular covariance matrix "
                         f"of the observed variables whatever the parameter values, so "
                         f"it cannot be fitted by ML.{why}")


def _df(pt: ParTable) -> int:
    data, fixed = moment_counts(pt)
    return data - fixed - pt.npar


def _weak_directions(pt: ParTable, ram: RAM, theta, values, tol: float):
    """(condition, culprits): the expected information at θ scaled to unit
    diagonal, its smallest/largest eigenvalue, and the parameters with weight
    in the eigenvectors below `tol` (or with no information at all)."""
    names = describe_parameters(pt)
    with np.errstate(all="ignore"):
        try:
            info = ml.expected_information(ram, theta, values)
        except np.linalg.LinAlgError:
            return None, []
    if not np.all(np.isfinite(info)):
        return None, []
    d = np.sqrt(np.clip(np.diag(info), 0, None))
    zero = np.flatnonzero(~(d > 0))     # exactly no information (scale-free test)
    dd = np.where(d > 0, d, 1.0)
    R = info / np.outer(dd, dd)
    w, V = np.linalg.eigh(0.5 * (R + R.T))
    top = max(w[-1], 1e-300)
    null = [V[:, i] for i in range(len(w)) if w[i] <= tol * top]
    culprits = _null_parameters(null, names, zero) if (null or len(zero)) else []
    return float(max(w[0], 0.0) / top), culprits


def _quoted(culprits) -> str:
    return "; ".join(f"'{c}'" for c in culprits[:8]) + (
        f" and {len(culprits) - 8} more" if len(culprits) > 8 else "")


def check_information(pt: ParTable, ram: RAM, sol, *, singular: float = 1e-10,
                      near: float = 1e-7) -> list[str]:
    """After estimation: the expected information at the estimates, scaled
    to unit diagonal, must not be (nearly) singular.  Singular: ModelError
    naming the parameters in the null direction (the estimates are not
    unique: empirical under-identification).  Nearly singular: a note."""
    if sol.method == "closed-form" or pt.npar == 0:
        return []   # recursive path models on non-collinear data are identified
    _, culprits = _weak_directions(pt, ram, sol.theta, sol.values, singular)
    if culprits:
        raise ModelError(
            f"{_where(pt)}The model is not identified at the estimates (empirical "
            f"under-identification): the information matrix is singular in the "
            f"direction of {_quoted(culprits)}, so these estimates are not unique and "
            f"have no standard errors. This happens when a loading or path that "
            f"identifies them is estimated near 0; fix one of them, constrain them, or "
            f"simplify the model.")
    condition, culprits = _weak_directions(pt, ram, sol.theta, sol.values, near)
    if culprits:
        return [f"The model is nearly not identified at the estimates (information "
                f"matrix condition {condition:.1e}): the standard errors of "
                f"{_quoted(culprits)} are unreliable."]
    return []


def _estimation_failed(exc: EstimationError, pt: ParTable | None = None, ram=None,
                       values=None, notes=()) -> EstimationError:
    """The engine's error with iterations, gradient norm, a diagnosis at the
    last iterate when the engine gives it, and what to try."""
    msg = str(exc)
    parts = []
    if exc.iterations is not None and "iteration" not in msg:
        parts.append(f"{exc.iterations} iterations")
    if exc.gradient_norm is not None and "gradient" not in msg:
        parts.append(f"gradient norm {exc.gradient_norm:.2e}")
    if parts:
        msg += f" ({', '.join(parts)})"
    theta = getattr(exc, "theta", None)
    if theta is not None and pt is not None and len(theta) == pt.npar \
            and np.all(np.isfinite(theta)):
        condition, culprits = _weak_directions(pt, ram, np.asarray(theta, dtype=float),
                                               values, 1e-6)
        if culprits:
            msg += (f" Where it stopped, the information matrix is nearly singular "
                    f"(condition {condition:.1e}) in the direction of {_quoted(culprits)}: "
                    f"the data barely identify these parameters (empirical "
                    f"under-identification, e.g. a factor with two indicators whose "
                    f"covariance with everything else is near 0). Fix one of them or "
                    f"constrain them (e.g. equal loadings), or add indicators.")
    if "start(" not in msg and "try" not in msg.lower():
        msg += (" What to try: check the model is identified, rescale variables with "
                "very different variances (e.g. divide by 10), give start values "
                "with start(), or simplify the model.")
    for note in notes:
        msg += f"\n  note: {note}"
    return EstimationError(msg, iterations=exc.iterations,
                           gradient_norm=exc.gradient_norm, theta=theta)


_HEYWOOD_HINT = ("Estimates involving it cannot be interpreted as they stand: check the "
                 "model (e.g. a factor with too few or too strongly related indicators, "
                 "or a misspecified path) before fixing the variance at a small value.")
_CORR_HINT = ("The data do not tell the two apart in this model: check whether they "
              "measure the same thing, or whether the model is misspecified.")


def admissibility(pt, ram, theta, values) -> list[str]:
    """Negative variances and correlations beyond ±1 in the solution: the
    (residual) variances and covariances, and the total variances and
    correlations of the latent variables."""
    *_, full, A, S, m = ram.implied(theta, values)
    out = []
    names = pt.variables
    # the checks run on whole arrays and the loops only over what they flag:
    # every fit runs them, and an admissible solution flags nothing
    s = np.diag(S)
    latent = np.array([v in pt.latent for v in names], dtype=bool)
    for i in np.flatnonzero((s < 0) | (latent & (np.diag(full) < 0))):
        v = names[i]
        if S[i, i] < 0:
            out.append(f"Inadmissible solution: the (residual) variance of '{v}' is "
                       f"negative ({S[i, i]:.4g}). {_HEYWOOD_HINT}")
        else:
            out.append(f"Inadmissible solution: the total variance of the latent "
                       f"variable '{v}' is negative ({full[i, i]:.4g}). {_HEYWOOD_HINT}")
    flagged = set()
    positive = s > 0
    with np.errstate(invalid="ignore"):
        beyond = (positive[:, None] & positive[None, :]
                  & (np.abs(S) > np.sqrt(np.outer(s, s)) * (1 + 1e-9)))
    for i, j in zip(*np.nonzero(np.tril(beyond, k=-1))):      # i, then j < i, ascending
        i, j = int(i), int(j)
        r = S[i, j] / np.sqrt(S[i, i] * S[j, j])
        out.append(f"Inadmissible solution: the (residual) correlation of "
                   f"'{names[j]}' and '{names[i]}' is {r:.3f}, beyond ±1. {_CORR_HINT}")
        flagged.add((i, j))
    lat = [names.index(v) for v in pt.latent]
    for a, i in enumerate(lat):
        for j in lat[:a]:
            key = (max(i, j), min(i, j))
            if key in flagged or full[i, i] <= 0 or full[j, j] <= 0:
                continue
            r = full[i, j] / np.sqrt(full[i, i] * full[j, j])
            if abs(r) > 1 + 1e-9:
                out.append(f"Inadmissible solution: the correlation of the latent variables "
                           f"'{names[min(i, j)]}' and '{names[max(i, j)]}' is {r:.3f}, "
                           f"beyond ±1. {_CORR_HINT}")
    return out


