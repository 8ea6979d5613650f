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
from scipy import special

from . import effects
from .errors import (ClusterWarning, DataError, EstimationError)
from .estimate import engine, fitmeasures, ml, vcov as vc
from .estimate.distributions import norm_ppf
from .estimate.ram import ram_of
from .partable import ParTable
from .result import COLUMNS, Result
from .identification import (SE_KINDS, _estimation_failed, _latent_column_notes,  # noqa: F401
                             admissibility, check_information, check_options, check_rank,
                             describe_parameters)
from .spec import check_columns, partable_of, read_spec  # noqa: F401 (re-exported)
from .data.checks import column_index


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
    from .data.io import Dataset
    if isinstance(data, Dataset):       # read by the caller (e.g. with --na-values)
        return data.frame, {"source": str(data.path), "sha256": data.sha256,
                            "labels": data.labels}
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


def icc1(values: np.ndarray, clusters: np.ndarray):
    """ICC(1) from a one-way ANOVA (unbalanced n0) and the design effect
    1 + (mean cluster size − 1)·ICC.  `values` may be one variable (a vector:
    returns a pair of floats) or several (columns: returns two arrays)."""
    _, inv, sizes = np.unique(clusters, return_inverse=True, return_counts=True)
    return _icc1(values, inv, sizes)


def _icc1(values, inv, sizes):
    Y = np.asarray(values, dtype=float)
    Y2 = Y[:, None] if Y.ndim == 1 else Y
    g, n = len(sizes), len(Y2)
    onehot = np.zeros((g, n))
    onehot[inv, np.arange(n)] = 1.0
    means = (onehot @ Y2) / sizes[:, None]
    ssb = sizes @ (means - Y2.mean(axis=0)) ** 2
    ssw = np.sum((Y2 - means[inv]) ** 2, axis=0)
    msb, msw = ssb / (g - 1), (ssw / (n - g) if n > g else np.full_like(ssw, np.nan))
    n0 = (n - np.sum(sizes ** 2) / n) / (g - 1)
    icc = (msb - msw) / (msb + (n0 - 1) * msw)
    deff = 1 + (n / g - 1) * icc
    if Y.ndim == 1:
        return float(icc[0]), float(deff[0])
    return icc, deff


def cluster_info(name, codes, sizes, X, names, npar) -> tuple[dict, list[str], dict]:
    """Cluster sizes, warnings about them and each variable's (ICC, design
    effect); `codes` number the clusters 0..G-1 and `sizes` count them."""
    g = len(sizes)
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
    icc, deff = _icc1(X, codes, sizes)
    iccs = {v: (float(icc[i]), float(deff[i])) for i, v in enumerate(names)}
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
    from .data.checks import model_array
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, info = model_array(frame, list(pt.observed), cluster=cluster)
    notes = [str(w.message) for w in caught] + list(pt.notes)
    notes += _latent_column_notes(pt, frame.columns)
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
                         progress=progress, boot_ci=boot_ci)
    data_info = {"n": mom.n, "dropped_rows": int(info.get("dropped_rows", 0)),
                 "source": source.get("source"), "labels": source.get("labels", {})}
    if cluster is not None:
        cinfo, cnotes, iccs = cluster_info(cluster, info["cluster_codes"],
                                           info["cluster_sizes"], X, pt.observed, pt.npar)
        data_info["cluster"] = cinfo
        data_info["icc"] = iccs
        for n in cnotes:
            warnings.warn(n, ClusterWarning, stacklevel=2)
        notes += cnotes
    notes += out.pop("notes")
    estimation = out.pop("estimation")
    prov = provenance(pt, X, source, dict(cluster=cluster, se=se, level=level,
                                          meanstructure=pt.meanstructure,
                                          estimation=estimation, mc_draws=mc_draws,
                                          bootstrap=bootstrap, seed=seed))
    return Result(partable=pt, data_info=data_info, provenance=prov,
                  warnings=tuple(dict.fromkeys(notes)), **out)


def _inference(pt, ram, mom, sol, *, se, clusters, level, mc_draws, bootstrap, seed,
               progress, boot_ci="percentile") -> dict:
    theta, values = sol.theta, sol.values
    notes: list[str] = []
    fit = fitmeasures.fit_measures(pt, ram, theta, values, mom, fmin=sol.discrepancy)
    fit["converged"] = True
    fit["iterations"] = sol.iterations
    estimation = {"method": sol.method, "iterations": sol.iterations,
                  "gradient_norm": sol.gradient_norm}
    se_kind = se
    draws: dict = {}
    cmat = vc.cluster_matrix(clusters)
    if se in ("standard", "none"):
        V = vc.standard(ram, theta, mom, values)
    elif se == "robust":
        from .estimate import robust_test
        V, A, B = vc.robust(ram, theta, mom, values, cmat)
        se_kind = "robust.cluster" if clusters is not None else "robust"
        scaled = robust_test.scaled_fit(pt, ram, theta, values, mom, cmat, fit, A, B)
        notes += scaled.pop("notes", [])
        fit.update(scaled)
    else:  # bootstrap
        from .estimate import bootstrap as boot
        draws = boot.run(pt, ram, mom, sol, clusters=clusters, n=bootstrap, seed=seed,
                         progress=progress, level=level, interval=boot_ci)
        V = draws["vcov"]       # the covariance of the replicates, as lavaan's
        se_kind = "bootstrap.cluster" if clusters is not None else "bootstrap"
    if clusters is not None:
        fit["nclusters"] = int(cmat.shape[0])
    if se == "none":
        V = np.full_like(V, np.nan)
    defined = effects.Defined.from_partable(pt)
    row_est = effects.row_values(pt, theta, values)
    row_std = effects.standardized(pt, ram, theta, values)
    def_est, _, def_V = (defined.delta(theta, V) if len(defined)
                         else (np.zeros(0), None, np.zeros((0, 0))))
    def_std = effects.standardized_defined(pt, defined, row_std)

    z_crit = norm_ppf(0.5 + level / 2)
    free_se = np.sqrt(np.where(np.diag(V) >= 0, np.diag(V), np.nan))
    def_se = np.sqrt(np.where(np.diag(def_V) >= 0, np.diag(def_V), np.nan)) if len(defined) else np.zeros(0)
    ci = {"level": level, "parameters": "normal (Wald)", "defined": "normal (delta method)"}
    if draws:
        free_se, def_se = draws["se"], draws["def_se"]
        ci["parameters"] = ci["defined"] = f"{draws['interval']} bootstrap ({draws['ok']} of {draws['n']} draws)"
        notes += draws.get("notes", [])
    free_rows, free_idx = _free_rows(pt)
    est = np.concatenate([theta[free_idx], def_est])
    se_ = np.concatenate([free_se[free_idx], def_se])
    std = np.concatenate([row_std[list(free_rows)], def_std])
    if draws:
        bounds = np.vstack([np.asarray(draws["ci"]).reshape(-1, 2)[free_idx],
                            np.asarray(draws["def_ci"]).reshape(-1, 2)])
        lo, hi = bounds[:, 0], bounds[:, 1]
    else:
        lo, hi = est - z_crit * se_, est + z_crit * se_
    mc = None
    if mc_draws and len(defined) and se != "bootstrap":
        from .estimate import montecarlo
        mc = montecarlo.intervals(defined, theta, V, n=mc_draws, seed=seed, level=level)
        ci["defined"] = f"Monte Carlo ({mc_draws} draws from the {se_kind} vcov, seed {seed})"
        k = len(free_idx)
        lo[k:], hi[k:] = np.asarray(mc).reshape(-1, 2).T
    ci["description"] = (f"{int(level * 100)}%: parameters {ci['parameters']}; "
                         f"defined {ci['defined']}" if len(defined) else
                         f"{int(level * 100)}%: {ci['parameters']}")
    est_df = _estimates_table(pt, est, se_, lo, hi, std)
    names = tuple(pt.free_names)
    inadmissible = admissibility(pt, ram, theta, values)
    estimation["admissible"] = not inadmissible
    estimation["inadmissible"] = inadmissible
    notes += inadmissible
    return dict(estimates=est_df, fit=fit,
                vcov=pd.DataFrame(V, index=column_index(names),
                                  columns=column_index(names)),
                r2=effects.r_squared(pt, ram, theta, values), theta=theta, values=values,
                row_est=row_est, row_std=row_std, se_kind=se_kind, ci=ci, draws=draws,
                notes=notes, estimation=estimation)


@lru_cache(maxsize=256)
def _free_rows(pt: ParTable) -> tuple[tuple[int, ...], np.ndarray]:
    """Positions of the free rows in pt.rows and of their parameters in θ."""
    rows = tuple(k for k, r in enumerate(pt.rows) if r.free)
    idx = np.array([pt.rows[k].free - 1 for k in rows], dtype=int)
    idx.setflags(write=False)
    return rows, idx


@lru_cache(maxsize=256)
def _names_table(pt: ParTable) -> pd.DataFrame:
    """lhs, op, rhs, label of the estimates rows: free rows, then := rows."""
    rows = [(r.lhs, r.op, r.rhs, r.label) for r in (pt.rows[k] for k in _free_rows(pt)[0])]
    rows += [(r.lhs, ":=", r.rhs, r.lhs) for r in pt.defined()]
    return pd.DataFrame(rows, columns=column_index(tuple(COLUMNS[:4])))


def _estimates_table(pt, est, se, lo, hi, std) -> pd.DataFrame:
    """The estimates in the columns of COLUMNS: a copy-on-write view of the
    model's cached names table next to the numbers."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.isfinite(se) & (se > 0), est / se, np.nan)
    p = 2 * special.ndtr(-np.abs(z))
    numbers = pd.DataFrame(np.column_stack([est, se, z, p, lo, hi, std]).astype(float),
                           columns=column_index(tuple(COLUMNS[4:])), copy=False)
    return pd.concat([_names_table(pt), numbers], axis=1)


@lru_cache(maxsize=1)
def versions() -> dict:
    """Versions of attachpath and the libraries its numbers depend on."""
    from importlib.metadata import version

    from . import __version__
    import scipy
    return {"attachpath": __version__, "semopy": version("semopy"),
            "numpy": np.__version__, "pandas": pd.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


def provenance(pt: ParTable, X: np.ndarray, source: dict, options: dict) -> dict:
    """What produced a result: the spec, the data (file hash and a hash of the
    model's float64 data as used) and the options and library versions."""
    data_hash = hashlib.sha256(np.ascontiguousarray(X, dtype=float).tobytes()).hexdigest()
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
