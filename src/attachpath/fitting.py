"""fit() and check(): from spec text and data to a Result.

    >>> import attachpath as ap
    >>> data = ap.datasets.load_example_clients()
    >>> res = ap.fit("tds_ge ~ cats_secure + ecr_anx", data, cluster="therapist", se="robust")
    >>> round(res.fit["chisq"], 6)          # a saturated model
    0.0
"""

from __future__ import annotations

import hashlib
import os
import platform
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
from .estimate.distributions import norm_ppf, norm_sf

from . import effects
from .errors import (AttachpathError, ClusterWarning, DataError, EstimationError,
                     ModelError)
from .estimate import engine, fitmeasures, ml, vcov as vc
from .estimate.ram import RAM, ram_of
from .partable import ParTable
from .result import COLUMNS, Result
from .spec import check_columns, partable_of, read_spec  # noqa: F401 (re-exported)

SE_KINDS = ("standard", "robust", "bootstrap", "none")


def check(spec, data=None, *, cluster: str | None = None) -> ParTable:
    """Validate a spec without fitting.  With data: its variables are columns,
    the data pass the checks a fit makes (numbers, no infinite, constant or
    collinear variables, a usable cluster column) and the model is
    identified; problems raise the error a fit would raise.  Notes (dropped
    rows, few clusters, ...) are added to the returned table's notes."""
    pt = partable_of(spec, meanstructure=cluster is not None)
    if data is not None:
        from dataclasses import replace
        from .data.checks import model_frame
        frame, _ = _load_data(data)
        check_columns(pt, frame.columns)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model_df, info = model_frame(frame, list(pt.observed), cluster=cluster)
        notes = [str(w.message) for w in caught] + _latent_column_notes(pt, frame.columns)
        if model_df.shape[0] <= len(pt.observed):
            raise DataError(f"Only {model_df.shape[0]} complete cases for "
                            f"{len(pt.observed)} variables; ML needs more cases than "
                            f"variables.")
        if cluster is not None:
            g = int(info["n_clusters"])
            if g < 30:
                notes.append(f"Only {g} clusters in '{cluster}': cluster-robust standard "
                             f"errors and tests are unreliable with fewer than about 30 "
                             f"clusters.")
        mom = ml.Moments.from_array(model_df.to_numpy(dtype=float))
        ram = ram_of(pt)
        check_rank(pt, ram, engine.fixed_values(pt, ram, mom))
        if notes:
            pt = replace(pt, notes=tuple(dict.fromkeys(pt.notes + tuple(notes))))
    return pt


# -- data ----------------------------------------------------------------------

def _load_data(data) -> tuple[pd.DataFrame, dict]:
    if isinstance(data, pd.DataFrame):
        return data, {"source": "DataFrame", "labels": dict(data.attrs.get("labels", {}))}
    if not isinstance(data, (str, os.PathLike)):
        hint = (" For an array use pd.DataFrame(X, columns=[...]) so that the model's "
                "variable names find their columns." if isinstance(data, np.ndarray) else
                " For a dict of columns use pd.DataFrame(data)." if isinstance(data, dict)
                else "")
        raise DataError(f"data must be a pandas DataFrame or the path of a data file "
                        f"(.csv, .tsv, .parquet, .sav), not {type(data).__name__}.{hint}")
    from .data.io import read_data
    ds = read_data(data)
    return ds.frame, {"source": str(ds.path), "sha256": ds.sha256, "labels": ds.labels}


def icc1(values: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """ICC(1) from a one-way ANOVA (unbalanced n0) and the design effect."""
    _, inv, sizes = np.unique(clusters, return_inverse=True, return_counts=True)
    return _icc1(values, inv, sizes)


def _icc1(values, inv, sizes) -> tuple[float, float]:
    g, n = len(sizes), len(values)
    means = np.bincount(inv, weights=values) / sizes
    grand = values.mean()
    ssb = float(np.sum(sizes * (means - grand) ** 2))
    ssw = float(np.sum((values - means[inv]) ** 2))
    msb, msw = ssb / (g - 1), ssw / (n - g) if n > g else np.nan
    n0 = (n - np.sum(sizes ** 2) / n) / (g - 1)
    icc = (msb - msw) / (msb + (n0 - 1) * msw)
    return float(icc), float(1 + (n / g - 1) * icc)


def cluster_info(name, clusters, X, names, npar) -> tuple[dict, list[str]]:
    ids, inv, sizes = np.unique(clusters, return_inverse=True, return_counts=True)
    g = len(ids)
    info = {"name": name, "n": int(g), "min": int(sizes.min()), "max": int(sizes.max()),
            "mean": float(sizes.mean())}
    notes = []
    if g < 30:
        notes.append(f"Only {g} clusters in '{name}': cluster-robust standard errors "
                     f"and tests are unreliable with fewer than about 30 clusters.")
    single = int(np.sum(sizes == 1))
    if single:
        notes.append(f"{single} cluster(s) of '{name}' hold a single case.")
    if g <= npar:
        notes.append(f"The {g} clusters do not exceed the {npar} free parameters: the "
                     f"cluster-robust covariance matrix is rank deficient, so SEs and "
                     f"the scaled test are not trustworthy.")
    iccs = {v: _icc1(X[:, i], inv, sizes) for i, v in enumerate(names)}
    return info, notes, iccs


# -- fitting -------------------------------------------------------------------

_controller = None


def single_thread_blas():
    """One BLAS thread inside a fit: with OpenBLAS' default threads on a
    2-core machine some fits took 40x longer.  The library scan is done once."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")

def fit(spec, data, *, cluster: str | None = None, se: str = "standard",
        level: float = 0.95, mc_draws: int = 0, bootstrap: int = 1000,
        seed: int | None = None, progress: bool = False,
        meanstructure: bool | None = None, engine_method: str = "auto",
        boot_ci: str = "percentile") -> Result:
    """Fit a lavaan-syntax model by ML, as lavaan's sem() does.

    spec: model text or a path to a .lav file.  data: a DataFrame or a path
    (CSV, Parquet, SPSS).  cluster: the column of cluster ids (e.g. therapist);
    it switches on the mean structure, as lavaan's cluster= does.  se:
    "standard" (expected information), "robust" (MLR sandwich; cluster-robust
    with `cluster`), "bootstrap" (case or cluster bootstrap) or "none".
    mc_draws > 0 gives Monte Carlo CIs for := parameters from the chosen vcov.
    boot_ci: "percentile" or "bca" intervals with se="bootstrap".
    meanstructure: estimate intercepts (default: when clustered or when the
    spec has `~1`, as lavaan).  engine_method: "auto" uses the closed form of
    recursive path models where it applies (verified by the gradient) and
    semopy otherwise; "semopy" always fits with semopy.
    """
    level = check_options(se=se, level=level, mc_draws=mc_draws, bootstrap=bootstrap,
                          seed=seed)
    if meanstructure is None:
        meanstructure = cluster is not None
    pt = partable_of(spec, meanstructure=meanstructure)
    frame, source = _load_data(data)
    check_columns(pt, frame.columns)
    from .data.checks import model_frame
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model_df, info = model_frame(frame, list(pt.observed), cluster=cluster)
    notes = [str(w.message) for w in caught] + list(pt.notes)
    notes += _latent_column_notes(pt, frame.columns)
    X = model_df.to_numpy(dtype=float)
    if X.shape[0] <= len(pt.observed):
        raise DataError(f"Only {X.shape[0]} complete cases for {len(pt.observed)} "
                        f"variables; ML needs more cases than variables.")
    clusters = None if cluster is None else np.asarray(info["clusters"])
    mom = ml.Moments.from_array(X)
    ram = ram_of(pt)

    with single_thread_blas():
        check_rank(pt, ram, engine.fixed_values(pt, ram, mom))
        try:
            sol = engine.estimate(pt, mom, ram, method=engine_method)
        except EstimationError as exc:
            raise _estimation_failed(exc, pt, ram, engine.fixed_values(pt, ram, mom),
                                     notes=notes) from None
        notes += check_information(pt, ram, sol)
        out = _inference(pt, ram, mom, sol, se=se, clusters=clusters, level=level,
                         mc_draws=mc_draws, bootstrap=bootstrap, seed=seed,
                         progress=progress, model_df=model_df, boot_ci=boot_ci)
    data_info = {"n": mom.n, "dropped_rows": int(info.get("dropped_rows", 0)),
                 "source": source.get("source"), "labels": source.get("labels", {})}
    if cluster is not None:
        cinfo, cnotes, iccs = cluster_info(cluster, clusters, X, pt.observed, pt.npar)
        data_info["cluster"] = cinfo
        data_info["icc"] = iccs
        for n in cnotes:
            warnings.warn(n, ClusterWarning, stacklevel=2)
        notes += cnotes
    notes += out.pop("notes")
    estimation = out.pop("estimation")
    prov = provenance(pt, model_df, source, dict(cluster=cluster, se=se, level=level,
                                                 meanstructure=pt.meanstructure,
                                                 estimation=estimation,
                                                 mc_draws=mc_draws, bootstrap=bootstrap,
                                                 seed=seed))
    return Result(partable=pt, data_info=data_info, provenance=prov,
                  warnings=tuple(dict.fromkeys(notes)), **out)


def _inference(pt, ram, mom, sol, *, se, clusters, level, mc_draws, bootstrap, seed,
               progress, model_df, boot_ci="percentile") -> dict:
    theta, values = sol.theta, sol.values
    notes: list[str] = []
    fit = fitmeasures.fit_measures(pt, ram, theta, values, mom)
    fit["converged"] = True
    fit["iterations"] = sol.iterations
    estimation = {"method": sol.method, "iterations": sol.iterations,
                  "gradient_norm": sol.gradient_norm}
    se_kind = se
    draws: dict = {}
    if se in ("standard", "none"):
        V = vc.standard(ram, theta, mom, values)
    elif se == "robust":
        from .estimate import robust_test
        V, A, B = vc.robust(ram, theta, mom, values, clusters)
        se_kind = "robust.cluster" if clusters is not None else "robust"
        fit.update(robust_test.scaled_fit(pt, ram, theta, values, mom, clusters, fit, A, B))
    else:  # bootstrap
        from .estimate import bootstrap as boot
        draws = boot.run(pt, ram, mom, sol, clusters=clusters, n=bootstrap, seed=seed,
                         progress=progress, level=level, interval=boot_ci)
        V = draws["vcov"]       # the covariance of the replicates, as lavaan's
        se_kind = "bootstrap.cluster" if clusters is not None else "bootstrap"
    if clusters is not None:
        fit["nclusters"] = int(len(np.unique(clusters)))
    if se == "none":
        V = np.full_like(V, np.nan)
    defined = effects.Defined.from_partable(pt)
    row_est = effects.row_values(pt, theta, values)
    row_std = effects.standardized(pt, ram, theta, values)
    def_est = defined.evaluate(theta) if len(defined) else np.zeros(0)
    def_std = effects.standardized_defined(pt, defined, row_std)
    def_V = defined.vcov(theta, V) if len(defined) else np.zeros((0, 0))

    z_crit = norm_ppf(0.5 + level / 2)
    free_se = np.sqrt(np.where(np.diag(V) >= 0, np.diag(V), np.nan))
    def_se = np.sqrt(np.where(np.diag(def_V) >= 0, np.diag(def_V), np.nan)) if len(defined) else np.zeros(0)
    ci = {"level": level, "parameters": "normal (Wald)", "defined": "normal (delta method)"}
    if draws:
        free_se, def_se = draws["se"], draws["def_se"]
        ci["parameters"] = ci["defined"] = f"{draws['interval']} bootstrap ({draws['ok']} of {draws['n']} draws)"
        notes += draws.get("notes", [])

    rows = []
    for k, r in enumerate(pt.rows):
        if not r.free:
            continue
        i = r.free - 1
        est, s = theta[i], free_se[i]
        lo, hi = est - z_crit * s, est + z_crit * s
        if draws:
            lo, hi = draws["ci"][i]
        rows.append(_row(r.lhs, r.op, r.rhs, r.label, est, s, lo, hi, row_std[k]))
    mc = None
    if mc_draws and len(defined) and se != "bootstrap":
        from .estimate import montecarlo
        mc = montecarlo.intervals(defined, theta, V, n=mc_draws, seed=seed, level=level)
        ci["defined"] = f"Monte Carlo ({mc_draws} draws from the {se_kind} vcov, seed {seed})"
    for j, r in enumerate(pt.defined()):
        est, s = def_est[j], def_se[j]
        lo, hi = est - z_crit * s, est + z_crit * s
        if draws:
            lo, hi = draws["def_ci"][j]
        elif mc is not None:
            lo, hi = mc[j]
        rows.append(_row(r.lhs, ":=", r.rhs, r.lhs, est, s, lo, hi, def_std[j]))
    ci["description"] = (f"{int(level * 100)}%: parameters {ci['parameters']}; "
                         f"defined {ci['defined']}" if len(defined) else
                         f"{int(level * 100)}%: {ci['parameters']}")
    est_df = pd.DataFrame(rows, columns=COLUMNS)
    names = list(pt.free_names)
    inadmissible = admissibility(pt, ram, theta, values)
    estimation["admissible"] = not inadmissible
    estimation["inadmissible"] = inadmissible
    notes += inadmissible
    return dict(estimates=est_df, fit=fit,
                vcov=pd.DataFrame(V, index=names, columns=names),
                r2=effects.r_squared(pt, ram, theta, values), theta=theta, values=values,
                row_est=row_est, row_std=row_std, se_kind=se_kind, ci=ci, draws=draws,
                notes=notes, estimation=estimation)


def _row(lhs, op, rhs, label, est, se, lo, hi, std):
    z = est / se if se and np.isfinite(se) and se > 0 else np.nan
    p = 2 * norm_sf(abs(z)) if np.isfinite(z) else np.nan
    return dict(zip(COLUMNS, (lhs, op, rhs, label, float(est), float(se), float(z), p,
                              float(lo), float(hi), float(std))))


# -- checks around estimation ----------------------------------------------------

def check_options(*, se="standard", level=0.95, mc_draws=0, bootstrap=1000,
                  seed=None) -> float:
    """Refuse option values that would give meaningless numbers; returns the
    level as a float."""
    if se not in SE_KINDS:
        raise AttachpathError(f"se must be one of {', '.join(SE_KINDS)}, not '{se}'.")
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise AttachpathError(f"The confidence level must be a number between 0 and 1 "
                              f"(e.g. 0.95), not {level!r}.") from None
    if not 0 < level < 1:
        hint = (f" For a {level:g}% interval write {level / 100:g}."
                if 1 < level < 100 else "")
        raise AttachpathError(f"The confidence level must be between 0 and 1 (e.g. "
                              f"0.95), not {level:g}.{hint}")
    for name, value, low in (("The number of Monte Carlo draws (--mc)", mc_draws, 0),
                             ("The number of bootstrap draws (--bootstrap)", bootstrap,
                              2 if se == "bootstrap" else 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise AttachpathError(f"{name} must be a whole number of at least {low}, "
                                  f"not {value!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise AttachpathError(f"The seed must be a whole number of 0 or more, not {seed!r}.")
    return level


def _latent_column_notes(pt: ParTable, columns) -> list[str]:
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
    names = describe_parameters(pt)
    rng = np.random.default_rng(20240701)
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
    p, q = len(pt.observed), len(pt.covariates)
    moments = p * (p + 1) // 2 - q * (q + 1) // 2 + ((p - q) if pt.meanstructure else 0)
    return moments - pt.npar


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
    for i, v in enumerate(names):
        if S[i, i] < 0:
            out.append(f"Inadmissible solution: the (residual) variance of '{v}' is "
                       f"negative ({S[i, i]:.4g}). {_HEYWOOD_HINT}")
        elif v in pt.latent and full[i, i] < 0:
            out.append(f"Inadmissible solution: the total variance of the latent "
                       f"variable '{v}' is negative ({full[i, i]:.4g}). {_HEYWOOD_HINT}")
    flagged = set()
    for i in range(len(names)):
        for j in range(i):
            if S[i, i] > 0 and S[j, j] > 0 and abs(S[i, j]) > np.sqrt(S[i, i] * S[j, j]) * (1 + 1e-9):
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


@lru_cache(maxsize=1)
def versions() -> dict:
    """Versions of attachpath and the libraries its numbers depend on."""
    from importlib.metadata import version

    from . import __version__
    import scipy
    return {"attachpath": __version__, "semopy": version("semopy"),
            "numpy": np.__version__, "pandas": pd.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


def provenance(pt: ParTable, model_df: pd.DataFrame, source: dict, options: dict) -> dict:
    data_hash = hashlib.sha256(np.ascontiguousarray(model_df.to_numpy(dtype=float)).tobytes()).hexdigest()
    return {
        "spec": pt.text,
        "spec_file": pt.file,
        "spec_sha256": hashlib.sha256(pt.text.encode()).hexdigest(),
        "data_source": source.get("source"),
        "data_file_sha256": source.get("sha256"),
        "data_sha256": data_hash,
        "options": options,
        "versions": dict(versions()),
    }
