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
import warnings
from functools import lru_cache

import numpy as np

from . import effects
from .derived import MODEL_OPS, Derived, model_rows_of  # noqa: F401 (MODEL_OPS re-exported)
from .data.columns import Columns, is_frame, isna, row_labels, values_of
from .errors import ClusterWarning, DataError, DataWarning, EstimationError, OptionError
from .estimate import engine, ml, vcov as vc
from .estimate.clusters import Clusters, size_summary
from .estimate.likelihood import FIML, CompleteML, TwoLevelFIML, TwoLevelML
from .estimate.distributions import wald_quantile
from .estimate.ram import ram_of
from .partable import ParTable
from .result import Deferred, Result
from .identification import (SE_KINDS, _estimation_failed, _latent_column_notes,  # noqa: F401
                             admissibility, check_information, check_options, check_rank,
                             describe_parameters)
from .spec import check_columns, partable_of, read_spec  # noqa: F401 (re-exported)
from .threads import single_thread_blas


def check(spec, data=None, *, cluster: str | None = None, std_lv: bool = False,
          orthogonal: bool = False, model_type: str = "sem") -> ParTable:
    """Validate a spec without fitting.  With data: its variables are columns,
    the data pass the checks a fit makes (numbers, no infinite, constant or
    collinear variables, a usable cluster column) and the model is
    identified; problems raise the error a fit would raise.  Notes (dropped
    rows, few clusters, ...) are added to the returned table's notes.
    std_lv, orthogonal and model_type: as in fit."""
    pt = partable_of(spec, meanstructure=cluster is not None, std_lv=std_lv,
                     orthogonal=orthogonal, model_type=model_type)
    if data is not None and pt.multilevel:
        return _check_two_level(pt, data, cluster)
    if data is not None:
        from dataclasses import replace
        from .data.checks import model_array
        frame, _ = _load_data(data, numeric=set(pt.observed).__contains__)
        check_columns(pt, frame.columns)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            X, info = model_array(frame, list(pt.observed), cluster=cluster)
        notes = [str(w.message) for w in caught] + _latent_column_notes(pt, frame.columns)
        if X.shape[0] <= len(pt.observed):
            raise DataError(f"Only {X.shape[0]} complete cases for "
                            f"{len(pt.observed)} variables; ML needs more cases than "
                            f"variables.")
        if cluster is not None:
            g = int(info["n_clusters"])
            if g < 30:
                notes.append(f"Only {g} clusters in '{cluster}': cluster-robust standard "
                             f"errors and tests are unreliable with fewer than about 30 "
                             f"clusters.")
        mom = ml.Moments.from_array(X)
        ram = ram_of(pt)
        check_rank(pt, ram, engine.fixed_values(pt, ram, mom))
        if notes:
            pt = replace(pt, notes=tuple(dict.fromkeys(pt.notes + tuple(notes))))
    return pt


def _check_two_level(pt: ParTable, data, cluster) -> ParTable:
    """check() of a two-level spec: the data checks of a fit (columns,
    numbers, between-only variables constant within clusters, level-1
    variables varying within them, nesting in therapists)."""
    from dataclasses import replace
    from .data.checks import model_array
    from .estimate.twolevel import TwoLevelData
    outer, inner = cluster_levels(cluster)
    if outer is None:
        raise DataError("A two-level spec ('level:' blocks) needs the cluster column of "
                        "its level-2 units: --cluster client, or --cluster "
                        "therapist/client for a third level.")
    client, therapist = (inner, outer) if inner is not None else (outer, None)
    frame, _ = _load_data(data, numeric=set(pt.observed).__contains__)
    check_columns(pt, frame.columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, info = model_array(frame, list(pt.observed), cluster=client)
    notes = [str(w.message) for w in caught]
    clients = Clusters.from_ids(client, info["clusters"])
    roles = pt.variable_levels
    kept = np.asarray(info["kept"])
    TwoLevelData.from_array(X, pt.observed, pt.blocks[0].observed,
                            tuple(v for v in pt.blocks[1].observed if roles[v] == "between"),
                            clients, row_ids=row_labels(frame, kept))
    if therapist is not None:
        therapist_clusters(frame, kept, client, therapist, clients)
    if notes:
        pt = replace(pt, notes=tuple(dict.fromkeys(pt.notes + tuple(notes))))
    return pt


# -- data ----------------------------------------------------------------------

def _load_data(data, columns=None, numeric=None) -> tuple:
    """(the table, where it came from): a DataFrame, or a Columns table for a
    plain CSV/TSV file read without pandas; `columns` and `numeric` as in
    read_data (a file is read for those columns only)."""
    if is_frame(data) or isinstance(data, Columns):
        return data, {"source": "DataFrame" if is_frame(data) else "Columns",
                      "labels": dict(data.attrs.get("labels", {}))}
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
    from .data.io import read_data, reading_note
    ds = read_data(data, columns=columns, numeric=numeric)
    notes = [reading_note(ds.path, ds.reading)] if ds.reading else []
    return ds.frame, {"source": str(ds.path), "sha256": ds.sha256, "labels": ds.labels,
                      "notes": notes}


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
    # cluster sums by sorting once (no n x g matrix: memory stays linear in n)
    order = np.argsort(inv, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    means = np.add.reduceat(Y2[order], starts, axis=0) / sizes[:, None]
    ssb = sizes @ (means - Y2.mean(axis=0)) ** 2
    ssw = np.sum((Y2 - means[inv]) ** 2, axis=0)
    msb, msw = ssb / (g - 1), (ssw / (n - g) if n > g else np.full_like(ssw, np.nan))
    n0 = (n - np.sum(sizes ** 2) / n) / (g - 1)
    icc = (msb - msw) / (msb + (n0 - 1) * msw)
    deff = 1 + (n / g - 1) * icc
    if Y.ndim == 1:
        return float(icc[0]), float(deff[0])
    return icc, deff


def cluster_iccs(clusters: Clusters, X, names) -> dict:
    """Each variable's (ICC(1), design effect) by `clusters` (X: one row per unit)."""
    icc, deff = _icc1(X, clusters.codes, clusters.sizes)
    return {v: (float(icc[i]), float(deff[i])) for i, v in enumerate(names)}


# -- fitting -------------------------------------------------------------------

def fit(spec, data, *, cluster=None, se: str | None = None,
        level: float = 0.95, mc_draws: int = 0, bootstrap: int = 1000,
        seed: int | None = None, progress: bool | None = None,
        meanstructure: bool | None = None, engine_method: str = "auto",
        boot_ci: str = "percentile", information: str | None = None,
        labels: str = "data", missing: str = "listwise", std_lv: bool = False,
        orthogonal: bool = False, auxiliary=None, model_type: str = "sem",
        group: str | None = None, group_equal=(), group_partial=(),
        cluster_se: str = "cr1", ci_dist: str | None = None) -> Result:
    """Fit a lavaan-syntax model by ML, as lavaan's sem() does.

    spec: model text or a path to a .lav file.  data: a DataFrame or a path
    (CSV, Parquet, SPSS).  cluster: the column of cluster ids.  For a
    single-level spec (e.g. client rows, cluster="therapist") it switches on
    the mean structure and the cluster-robust corrections, as lavaan's
    cluster= does.  For a two-level spec (`level:` blocks) it names the
    level-2 unit of the rows (e.g. sessions in cluster="client");
    "therapist/client" (or ("therapist", "client")) adds therapists as a
    third level, handled by summing the clients' scores within therapists
    for the SEs and the scaled test (Mplus' TYPE = COMPLEX TWOLEVEL).
    se: "standard" (information matrix), "robust" (MLR sandwich;
    cluster-robust with a cluster), "bootstrap" (case or cluster bootstrap;
    for two-level models whole therapists, or whole clients) or "none"; default: robust with `cluster`, else
    standard (attachpath.options.default_se).  information: "expected" or
    "observed" for standard SEs (default as lavaan: expected for
    single-level, observed for two-level models).
    mc_draws > 0 gives Monte Carlo CIs for := parameters from the chosen vcov.
    Small-sample choices for few clusters (se="robust" with a cluster; the
    defaults are lavaan's and Mplus'): cluster_se "cr1" (default: meat ×
    G/(G−1)) or "cr2" (Bell & McCaffrey's bias-reduced meat,
    estimate/vcov.py cr2); ci_dist "t": Wald intervals and p-values from
    t(G−1), Monte Carlo draws multivariate t(G−1), G the number of clusters
    (therapists with "therapist/client"), or "normal" (lavaan's and Mplus'
    z); None or "auto" (default): t(G−1) for a three-level fit
    (cluster="therapist/client" with se="robust", as Stata's vce(cluster):
    no lavaan reference exists there, and the sandwich from G therapists is
    itself noisy), normal otherwise (single-level cluster= fits match
    lavaan).  reports/coverage/ has the evidence for G = 44 therapists.
    boot_ci: "percentile", "bca" or "studentized" intervals with
    se="bootstrap" (bootstrap-t: each draw divided by its own sandwich SE,
    the one se="robust" gives; estimate/bootstrap.studentized).
    progress: a bar over the bootstrap draws; None (default) shows it when
    stderr is a terminal or in Jupyter (attachpath.progress).
    meanstructure: estimate intercepts (default: when clustered or when the
    spec has `~1`, as lavaan).  engine_method: "auto" uses the closed form of
    recursive path models where it applies (verified by the gradient), else
    Fisher scoring from moment-based starts, and semopy where that does not
    converge; "semopy" always fits with semopy.
    missing: "listwise" (default: incomplete rows dropped and counted),
    "fiml" (lavaan's "ml": full-information ML on every row with an observed
    value; rows with a missing covariate dropped) or "fiml.x" (lavaan's
    "ml.x": those rows kept too, the covariates' moments from the EM
    estimates).  With a two-level spec "fiml" uses every observed cell of
    the session rows and every observed client value (each client's rows
    as one draw of their stacked vector); "fiml.x" is not available there.
    labels: "data" (default) names variables in diagrams and reports by the
    data's variable labels (SPSS files) when it has them; "names" by the spec.
    std_lv: lavaan's std.lv=TRUE (latent variances fixed at 1, first
    loadings free); orthogonal: lavaan's orthogonal=TRUE (default latent
    covariances fixed at 0).  model_type: "sem" (default) or "growth", as
    lavaan's growth(): a mean structure with the observed intercepts fixed
    at 0 and the latent means free (latent growth curves on wide data:
    `i =~ 1*t1 + 1*t2 + 1*t3; s =~ 0*t1 + 1*t2 + 2*t3`).
    auxiliary: columns that carry information about the missing values
    without entering the model (FIML only): Graham's (2003) saturated
    correlates, each correlated with every observed variable of the model
    and with the other auxiliaries; the baseline model keeps those
    correlations, so CFI/TLI are not inflated by them.
    group: a column of the data; a multiple-group model (lavaan's group=),
    the groups in order of first appearance, each with the model's own
    parameters unless group_equal makes classes of them equal: "loadings",
    "intercepts", "regressions", "residuals", "residual.covariances",
    "lv.variances", "lv.covariances", "means" (lavaan's group.equal; equal
    intercepts free the latent means of every group but the first).
    group_partial: rows left free despite group_equal, written as lavaan's
    group.partial ("visual=~x2", "x7~1").  Returns a GroupFit
    (attachpath.estimate.multigroup), not a Result: .estimates (lavaan's
    parameterEstimates with its `group` column), .fit (overall fit measures,
    "chisq.group" per group), .groups, .nobs and .summary().  se "standard"
    or "robust" (MLR: sandwich SEs and the Yuan-Bentler scaled test; with
    cluster, the scores summed within the clusters of each group).  lavaan's
    c() modifiers give labels, fixed values or starts per group, and :=
    over the groups' labels compares effects between groups.  Not available
    with group= yet: se="bootstrap"/"none", FIML, auxiliary, mc_draws,
    std_lv, orthogonal, model_type="growth", observed information, two-level
    specs.  Compare models: `attachpath compare --group`,
    estimate.multigroup.compare_groups; diagrams with a panel per group:
    attachpath.diagram.groups.
    """
    from .options import check_labels, default_se
    se = default_se(se, cluster)
    check_labels(labels)
    level = check_options(se=se, level=level, mc_draws=mc_draws, bootstrap=bootstrap,
                          seed=seed)
    if group is not None or group_equal or group_partial:
        from .estimate.multigroup import fit_multigroup
        refused = [name for name, given in (
            ("--missing fiml (missing=)", missing != "listwise"),
            ("--auxiliary (auxiliary=)", bool(auxiliary)),
            ("--mc (mc_draws=)", mc_draws > 0),
            ("--std-lv (std_lv=)", std_lv), ("--orthogonal (orthogonal=)", orthogonal),
            ("--model-type growth (model_type=)", model_type != "sem"),
            ("--information observed (information=)", information == "observed"),
            ("meanstructure=False", meanstructure is False),
            ("cluster_se='cr2'", cluster_se != "cr1"), ("ci_dist='t'", ci_dist == "t"),
            ("engine_method='semopy'", engine_method != "auto")) if given]
        return fit_multigroup(spec, data, group=group, group_equal=group_equal,
                              group_partial=group_partial, se=se, level=level,
                              refused=refused, cluster=cluster)
    if information not in (None, "expected", "observed"):
        raise DataError(f"information must be 'expected' or 'observed', not "
                        f"{information!r}.")
    missing = missing_mode(missing)
    outer, inner = cluster_levels(cluster)
    small = _small_sample(cluster_se, ci_dist, se, cluster, three_level=inner is not None)
    if meanstructure is None:
        meanstructure = cluster is not None or missing != "listwise"
    pt = partable_of(spec, meanstructure=meanstructure, std_lv=std_lv,
                     orthogonal=orthogonal, model_type=model_type)
    auxiliary = _auxiliary_names(auxiliary, pt, missing)
    if auxiliary:
        pt = partable_of(with_auxiliary(spec, pt, auxiliary), meanstructure=meanstructure,
                         std_lv=std_lv, orthogonal=orthogonal, model_type=model_type)
    # a file is read for the model's columns only (and the cluster columns,
    # and id-like ones for the repeated-id check): a wide file costs no memory
    wanted = set(pt.observed) | {c for c in (outer, inner) if c is not None}
    frame, source = _load_data(data, columns=lambda c: c in wanted or _id_like(c),
                               numeric=set(pt.observed).__contains__)
    check_columns(pt, frame.attrs.get("all_columns", frame.columns))
    if pt.multilevel:
        if missing == "fiml.x":
            raise OptionError("--missing fiml.x is not available for two-level models; use "
                              "--missing fiml (rows with a missing covariate are dropped).")
        if missing != "listwise" and se == "bootstrap":
            raise OptionError("Bootstrap standard errors are not available with "
                              "--missing fiml yet; use --se robust or standard.")
        return _fit_two_level(pt, frame, source, outer=outer, inner=inner, se=se,
                              level=level, mc_draws=mc_draws, seed=seed,
                              information=information, cluster=cluster,
                              bootstrap=bootstrap, progress=progress, boot_ci=boot_ci,
                              missing=missing, small=small)
    if inner is not None:
        raise DataError(f"--cluster '{outer}/{inner}' names two levels, but the spec has "
                        f"no 'level:' blocks. For client rows give one cluster column "
                        f"(--cluster {outer}); for session rows write a two-level spec.")
    cluster = outer
    from .data.checks import model_array
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, info = model_array(frame, list(pt.observed), cluster=cluster,
                              missing="listwise" if missing == "listwise" else "fiml")
    notes = source.get("notes", []) + [str(w.message) for w in caught] + list(pt.notes)
    notes += _latent_column_notes(pt, frame.attrs.get("all_columns", frame.columns))
    if cluster is None:
        notes += repeated_id_notes(frame, pt)
    ids = None if cluster is None else np.asarray(info["clusters"])
    missing_info = None
    if missing != "listwise":
        X, ids, missing_info, more, _ = _fiml_rows(pt, X, ids, missing)
        notes += more
    if pt.inequalities and se == "bootstrap":
        # each draw would have to find its own active set (as lavaan's
        # bootstrap refits do); holding the full sample's would bias the SEs
        raise OptionError(f"Bootstrap standard errors are not available with inequality "
                          f"constraints ('{pt.inequalities[0].text}') yet; use --se "
                          f"standard or robust.")
    if X.shape[0] <= len(pt.observed):
        raise DataError(f"Only {X.shape[0]} complete cases for {len(pt.observed)} "
                        f"variables; ML needs more cases than variables.")
    clusters = None if cluster is None else Clusters.from_ids(cluster, ids)
    if missing_info is None:
        lik = CompleteML.from_array(pt, X)
    else:
        from .estimate.fiml import MissingData
        lik = FIML(pt, MissingData.from_array(X), auxiliary=auxiliary)

    with single_thread_blas():
        check_rank(pt, lik.ram, lik.values)
        try:
            sol = lik.estimate(method=engine_method)
        except EstimationError as exc:
            raise _estimation_failed(exc, pt, lik.ram, lik.values, notes=notes) from None
        held = ()
        if pt.inequalities:
            pt, lik, sol, more, held = _inequalities(pt, lik, sol)
            notes += more
        notes += check_information(pt, lik.ram, sol)
        out = _inference(pt, lik, sol, se=se, clusters=clusters, level=level,
                         mc_draws=mc_draws, bootstrap=bootstrap, seed=seed,
                         progress=progress, boot_ci=boot_ci, information=information,
                         small=small, held=held)
    data_info = {"n": lik.n, "dropped_rows": int(info.get("dropped_rows", 0)),
                 "source": source.get("source"),
                 "labels": source.get("labels", {}) if labels == "data" else {}}
    if missing_info is not None:
        data_info["missing"] = missing_info
        if auxiliary:
            missing_info["auxiliary"] = list(auxiliary)
        data_info["dropped_rows"] += missing_info["dropped_missing_covariate"]
    if cluster is not None:
        cnotes = clusters.notes(pt.npar)
        data_info["cluster"] = clusters.describe()
        # (ICCs of incomplete columns are not computed)
        if missing_info is None:
            data_info = _with_iccs(data_info, "icc", clusters, X, pt.observed)
        else:
            data_info["icc"] = {}
        for n in cnotes:
            warnings.warn(n, ClusterWarning, stacklevel=2)
        notes += cnotes
    derived = out.pop("derived")
    more = out.pop("notes")
    estimation = out.pop("estimation")
    prov = _provenance(pt, X, source, dict(cluster=cluster, se=se, level=level,
                                          meanstructure=pt.meanstructure,
                                          estimation=estimation, mc_draws=mc_draws,
                                          bootstrap=bootstrap, seed=seed,
                                          likelihood=lik.kind, **small,
                                          # recorded only when set: outputs of
                                          # the default fit stay as they were
                                          **({"std_lv": True} if std_lv else {}),
                                          **({"orthogonal": True} if orthogonal else {}),
                                          **({"model_type": model_type}
                                             if model_type != "sem" else {})))
    # the sample moments (not the cases) stay on the Result for score
    # tests such as modification indices (complete data only)
    moments = (ml.Moments(np.zeros((0, X.shape[1])), lik.mom.mean, lik.mom.cov, lik.n)
               if isinstance(lik, CompleteML) else None)
    return Result(partable=pt, data_info=data_info, provenance=prov,
                  warnings=Deferred(lambda: derived.warnings(notes, more)), likelihood=lik,
                  moments=moments, **out)


def _auxiliary_names(auxiliary, pt, missing) -> tuple[str, ...]:
    """The auxiliary columns, checked: FIML only, single-level, none a
    model variable, none twice."""
    if auxiliary is None or len(auxiliary) == 0:
        return ()
    names = [auxiliary] if isinstance(auxiliary, str) else list(auxiliary)
    names = [str(a).strip() for a in names]
    if missing == "listwise":
        raise OptionError("Auxiliary variables inform the estimates only through the "
                          "rows with missing values: they need --missing fiml (or "
                          "fiml.x), not listwise deletion.")
    if pt.multilevel:
        raise OptionError("Auxiliary variables are not available for two-level models.")
    for a in names:
        if not a:
            raise OptionError("An auxiliary variable name is empty.")
        if a in pt.variables:
            raise OptionError(f"'{a}' is a variable of the model, so it cannot also be an "
                              f"auxiliary variable.")
    dup = sorted({a for a in names if names.count(a) > 1})
    if dup:
        raise OptionError(f"Auxiliary variable '{dup[0]}' is named twice.")
    return tuple(names)


def with_auxiliary(spec, pt, auxiliary) -> str:
    """The spec with Graham's (2003) saturated correlates: every auxiliary
    with every observed variable of the model (an exogenous one, or an
    endogenous one's residual) and with the other auxiliaries, as one writes
    them by hand in lavaan."""
    from .spec import read_spec
    text, _ = read_spec(spec) if not isinstance(spec, ParTable) else (pt.text, None)
    if not text:
        raise OptionError("Auxiliary variables need the model as text or a .lav file.")
    lines = [f"{a} ~~ {v}" for a in auxiliary for v in pt.observed]
    lines += [f"{a} ~~ {b}" for i, a in enumerate(auxiliary) for b in auxiliary[i + 1:]]
    return (text.rstrip() + "\n# auxiliary variables: saturated correlates (Graham, 2003)\n"
            + "\n".join(lines) + "\n")


MISSING = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml", "fiml.x": "fiml.x",
           "ml.x": "fiml.x"}


def missing_mode(missing) -> str:
    """'listwise', 'fiml' or 'fiml.x' (lavaan's 'ml' and 'ml.x' accepted)."""
    if missing not in MISSING:
        raise OptionError(f"missing must be one of listwise, fiml, fiml.x (or lavaan's "
                          f"ml, ml.x), not {missing!r}.")
    return MISSING[missing]


def _fiml_rows(pt, X, ids, missing):
    """Rows for FIML: with 'fiml' the rows with a missing covariate are
    dropped (as lavaan's missing = "ml" does, with a note); 'fiml.x' keeps
    them.  Returns (X, cluster ids, the missing-data summary, notes, the
    rows of X kept)."""
    notes = []
    covariates = (pt.covariates if not pt.multilevel else
                  tuple(dict.fromkeys(pt.blocks[0].covariates + pt.blocks[1].covariates)))
    x = [pt.observed.index(v) for v in covariates]
    drop = np.zeros(len(X), dtype=bool)
    if missing == "fiml" and x:
        drop = np.isnan(X[:, x]).any(axis=1)
        if drop.any():
            note = (f"{int(drop.sum())} rows with a missing covariate "
                    f"({', '.join(covariates)}) were dropped, as lavaan's "
                    f"missing = 'ml' does"
                    + ("." if pt.multilevel else "; --missing fiml.x keeps them."))
            if drop.all():
                raise DataError(f"Every row has a missing covariate "
                                f"({', '.join(covariates)}), so --missing fiml, which "
                                f"drops such rows as lavaan's missing = 'ml' does, leaves "
                                f"none" + ("." if pt.multilevel else "; --missing fiml.x "
                                           "keeps them."))
            warnings.warn(note, DataWarning, stacklevel=3)
            notes.append(note)
            X = X[~drop]
            ids = None if ids is None else ids[~drop]
    from .data.missingness import describe
    incomplete = int(np.isnan(X).any(axis=1).sum())
    info = {"method": missing, "rows_used": int(len(X)), "rows_with_missing": incomplete,
            "dropped_missing_covariate": int(drop.sum()),
            "missing_by_variable": {v: int(np.isnan(X[:, i]).sum())
                                    for i, v in enumerate(pt.observed)}}
    info.update(describe(X, pt.observed, ids))
    _check_coverage(info["coverage"])
    return X, ids, info, notes, ~drop


def _empty_clusters(frame, client, kept_ids) -> None:
    """A cluster whose rows are all empty (no observed value in any model
    variable) has no data to contribute: say which, rather than drop it
    unseen."""
    all_ids = values_of(frame, client)
    gone = np.setdiff1d(all_ids[~isna(all_ids)], kept_ids)
    if len(gone):
        shown = ", ".join(str(g) for g in gone[:5]) + (", ..." if len(gone) > 5 else "")
        raise DataError(
            f"{len(gone)} {client}(s) have no observed value in any model variable in "
            f"any of their rows ({client} {shown}): FIML has nothing to use from them. "
            f"Remove their rows from the data (they do not change the estimates).",
            column=client)


def _check_coverage(coverage: dict) -> None:
    """FIML needs every pair of variables observed together in some row:
    else their covariance has no data (lavaan warns of zero coverage and its
    EM fails)."""
    names = list(coverage)
    for i, a in enumerate(names):
        for b in names[:i]:
            if coverage[a][b] == 0:
                raise DataError(
                    f"Variables '{b}' and '{a}' are never observed in the same row "
                    f"(0% coverage), so FIML has no data on their covariance. Collect "
                    f"or merge data where both are observed, or leave one of them out "
                    f"of the model.")


def cluster_levels(cluster) -> tuple[str | None, str | None]:
    """(outer, inner) cluster columns: "therapist" → ("therapist", None);
    "therapist/client" or ("therapist", "client") → ("therapist", "client")
    (clients nested in therapists, read as in lme4)."""
    if cluster is None:
        return None, None
    if isinstance(cluster, (tuple, list)):
        parts = [str(c) for c in cluster]
    elif isinstance(cluster, str) and "/" in cluster:
        parts = [c.strip() for c in cluster.split("/")]
    else:
        return cluster, None            # one column (its name need not be text)
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise DataError(f"cluster {cluster!r} must name one column or two nested "
                        f"ones, as in 'therapist/client'.")
    if len(parts) == 2 and parts[0] == parts[1]:
        raise DataError(f"cluster '{parts[0]}/{parts[1]}' names the same column twice.")
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0], None)


_ID_WORDS = ("id", "client", "patient", "subject", "person", "participant", "case")


def _id_like(column) -> bool:
    name = str(column).lower()
    return any(w == name or name.endswith(w) or name.startswith(w) for w in _ID_WORDS)


def repeated_id_notes(frame, pt: ParTable) -> list[str]:
    """A single-level fit to rows whose id-like column repeats (session rows
    of clients) treats them as independent cases: say so."""
    used = set(pt.observed)
    for col in frame.columns:
        if col in used or not _id_like(col):
            continue
        values = values_of(frame, col)
        n_unique = _n_unique(values)
        if 1 < n_unique < len(values) * 0.9:
            return [f"The rows repeat ids in column '{col}' ({len(values)} rows, "
                    f"{n_unique} ids), but the model treats every row as an "
                    f"independent case. For session rows write a two-level spec "
                    f"('level: 1' / 'level: 2') and fit it with --cluster {col}, or "
                    f"average the sessions per {col} with `attachpath prepare`."]
    return []


def _n_unique(values: np.ndarray) -> int:
    """Distinct values of a column, missing cells not counted (as pandas'
    nunique)."""
    if values.dtype.kind in "fiub" or all(type(v) is str for v in values):
        return len(np.unique(values[~isna(values)]))
    import pandas as pd
    return int(pd.Series(values).nunique(dropna=True))


def _fit_two_level(pt, frame, source, *, outer, inner, se, level, mc_draws, seed,
                   information, cluster, bootstrap=1000, progress=None,
                   boot_ci="percentile", missing="listwise", small=None) -> Result:
    from .data.checks import model_array
    from .estimate.twolevel import TwoLevelData
    if outer is None:
        raise DataError("A two-level spec ('level:' blocks) needs the cluster column of "
                        "its level-2 units: --cluster client (API cluster='client'), or "
                        "--cluster therapist/client for a third level.")
    client, therapist = (inner, outer) if inner is not None else (outer, None)
    if small and therapist is None:
        raise OptionError(f"{', '.join(f'{k}={v!r}' for k, v in small.items())} corrects the "
                          f"therapist sandwich of a two-level model; give the therapists: "
                          f"--cluster therapist/{client} (cluster='therapist/{client}').")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, info = model_array(frame, list(pt.observed), cluster=client,
                              missing="listwise" if missing == "listwise" else "fiml")
    notes = [str(w.message) for w in caught] + list(pt.notes)
    notes += _latent_column_notes(pt, frame.attrs.get("all_columns", frame.columns))
    kept = np.asarray(info["kept"])
    ids = np.asarray(info["clusters"])
    missing_info = None
    if missing != "listwise":
        _empty_clusters(frame, client, ids)
        X, ids, missing_info, more, used = _fiml_rows(pt, X, ids, missing)
        notes += more
        kept = np.flatnonzero(kept)[used]
    clients = Clusters.from_ids(client, ids)
    roles = pt.variable_levels
    y = pt.blocks[0].observed
    z = tuple(v for v in pt.blocks[1].observed if roles[v] == "between")
    if missing_info is None:
        data = TwoLevelData.from_array(X, pt.observed, y, z, clients,
                                       row_ids=row_labels(frame, kept))
    else:
        from .estimate.twolevel_missing import TwoLevelMissingData
        data = TwoLevelMissingData.from_array(X, pt.observed, y, z, clients,
                                              row_ids=row_labels(frame, kept))
        missing_info["clusters_used"] = int(clients.n)
        missing_info["cluster_patterns"] = int(data.patterns)   # distinct (size, cells) groups
    therapists = None
    if therapist is not None:
        therapists = therapist_clusters(frame, kept, client, therapist, clients)
    lik = TwoLevelML(pt, data) if missing_info is None else TwoLevelFIML(pt, data)
    with single_thread_blas():
        try:
            sol = lik.estimate()
        except EstimationError as exc:
            raise _estimation_failed(exc, pt, notes=notes) from None
        out = _inference(pt, lik, sol, se=se, clusters=therapists, level=level,
                         mc_draws=mc_draws, bootstrap=bootstrap, seed=seed,
                         progress=progress, boot_ci=boot_ci, information=information,
                         small=small, nclusters=clients.n)
    data_info = {"n": lik.n, "dropped_rows": int(info.get("dropped_rows", 0)),
                 "source": source.get("source"), "labels": source.get("labels", {}),
                 "levels": {"within": pt.levels[0], "between": pt.levels[1]},
                 "roles": dict(roles),
                 "cluster": clients.describe()}
    # sessions within clients: ICC(1) of the level-1 variables (the between-only
    # ones are constant within clients)
    within = [i for i, v in enumerate(pt.observed) if roles[v] != "between"]
    # (ICCs of incomplete columns are not computed)
    data_info["icc"] = (cluster_iccs(clients, X[:, within], [pt.observed[i] for i in within])
                        if missing_info is None else {})
    if missing_info is not None:
        data_info["missing"] = missing_info
        data_info["dropped_rows"] += missing_info["dropped_missing_covariate"]
    if therapists is not None:
        # clients within therapists: ICC(1) of the client means (z, ȳ) by
        # therapist, design effect from the mean number of clients per therapist
        data_info["therapist"] = therapists.describe()
        notes += therapists.notes(pt.npar)
        ticcs = (cluster_iccs(therapists, data.d, data.names) if missing_info is None
                 else {})
        data_info["icc_therapist"] = {v: ticcs[v] for v in pt.observed if v in ticcs}
        data_info["therapist"]["sessions"] = size_summary(therapists.sum(clients.sizes))
    derived = out.pop("derived")
    more = out.pop("notes")
    estimation = out.pop("estimation")
    prov = _provenance(pt, X, source, dict(cluster=cluster, se=se, level=level,
                                          meanstructure=True, estimation=estimation,
                                          mc_draws=mc_draws, seed=seed,
                                          bootstrap=bootstrap if se == "bootstrap" else None,
                                          information=information or lik.default_information,
                                          likelihood=lik.kind, **(small or {})))
    return Result(partable=pt, data_info=data_info, provenance=prov,
                  warnings=derived.warnings(notes, more), likelihood=lik, **out)


def _inequalities(pt, lik, sol):
    """(table, likelihood, solution, notes, rows held at a bound) with the
    inequality constraints met (estimate/inequality.py): the unconstrained
    fit when none is active,
    else the model with the active ones held as equalities.  That model's
    npar stays the whole model's, as lavaan counts it (df, AIC and the
    scaling factor see no inequality)."""
    from .estimate import inequality
    if isinstance(lik, FIML):
        make = lambda p: FIML(p, lik.data)           # noqa: E731
    else:
        make = lambda p: CompleteML(p, lik.mom)       # noqa: E731
    try:
        lik_c, sol_c, red = inequality.solve(pt, lik, sol, make)
    except EstimationError as exc:
        raise _estimation_failed(exc, pt, lik.ram, lik.values) from None
    if red is None:
        return pt, lik, sol, [], ()
    lik_c.npar = pt.npar
    held = tuple(a.lhs + a.op + a.rhs for a, b in zip(pt.rows, red.pt.rows)
                 if a.free and not b.free)
    texts = ", ".join(f"'{pt.inequalities[i].text}'" for i in red.active)
    return red.pt, lik_c, sol_c, [
        f"The constraint{'s' if len(red.active) > 1 else ''} {texts} "
        f"{'are' if len(red.active) > 1 else 'is'} active: estimated on the bound (as an "
        f"equality), with standard errors of the model so constrained, as lavaan "
        f"reports them."], held


def therapist_clusters(frame, kept, client, therapist, clients: Clusters) -> Clusters:
    """Therapists over the clients of a two-level fit; each client must have
    exactly one therapist."""
    if therapist not in frame.columns:
        raise DataError(f"The cluster column '{therapist}' is not in the data.",
                        column=therapist)
    t = values_of(frame, therapist)[kept]
    if isna(t).any():
        raise DataError(f"The cluster column '{therapist}' has missing ids.",
                        column=therapist)
    codes = clients.codes
    first = np.empty(clients.n, dtype=object)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(clients.sizes)[:-1]])
    first[:] = t[order][starts]
    bad = np.flatnonzero(t != first[codes])
    if len(bad):
        i = bad[0]
        raise DataError(
            f"{client} {clients.ids[codes[i]]} belongs to two {therapist}s "
            f"({first[codes[i]]} and {t[i]}); with --cluster {therapist}/{client} each "
            f"{client} must be nested in one {therapist}.", column=therapist)
    return Clusters.from_ids(therapist, first)


def _small_sample(cluster_se, ci_dist, se, cluster, three_level=False) -> dict:
    """The small-sample options that differ from lavaan's (checked); ci_dist
    None/"auto" is t(G−1) for a therapist/client sandwich, normal otherwise."""
    if cluster_se not in ("cr1", "cr2"):
        raise OptionError(f"cluster_se must be 'cr1' or 'cr2', not {cluster_se!r}.")
    if ci_dist not in (None, "auto", "normal", "t"):
        raise OptionError(f"ci_dist must be 'auto', 'normal' or 't', not {ci_dist!r}.")
    if ci_dist in (None, "auto"):
        ci_dist = "t" if three_level and se == "robust" else "normal"
    small = {k: v for k, v, default in (("cluster_se", cluster_se, "cr1"),
                                         ("ci_dist", ci_dist, "normal")) if v != default}
    if small and (se != "robust" or cluster is None):
        named = ", ".join(f"--{k.replace('_', '-')} {v} ({k}={v!r})" for k, v in small.items())
        raise OptionError(f"{named}: a correction of cluster-robust standard errors for "
                          f"few clusters; it needs --se robust and a cluster (e.g. --cluster "
                          f"therapist/client; se='robust', cluster='therapist/client').")
    return small


def _inference(pt, lik, sol, *, se, clusters, level, mc_draws, bootstrap, seed,
               progress, boot_ci="percentile", information=None, small=None, held=(),
               nclusters=None) -> dict:
    """Standard errors and defined parameters from any likelihood object, and
    the Derived parts (fit measures, standardized values, the tables:
    derived.py) as Deferred values; `clusters` sums the likelihood's unit
    scores (cases, or clients of a two-level model) for the meat.  `small`:
    cluster_se="cr2" and ci_dist="t" (see fit()); `held`: rows held at an
    inequality bound; `nclusters`: the fit measures' count of clusters when
    it is not that of `clusters`."""
    small = small or {}
    theta, values = sol.theta, sol.values
    notes: list[str] = []
    estimation = {"method": sol.method, "iterations": sol.iterations,
                  "gradient_norm": sol.gradient_norm}
    se_kind = se
    draws: dict = {}
    robust = None
    if se in ("standard", "none"):
        V = vc.standard(lik, theta, information)
        if information == "observed" or (information is None
                                         and lik.default_information == "observed"):
            se_kind = "standard.observed"
    elif se == "robust":
        V, A, B = vc.robust(lik, theta, clusters)
        robust = (A, B)                          # for the scaled test
        se_kind = "robust.cluster" if clusters is not None else "robust"
        if small.get("cluster_se") == "cr2":     # the SEs only; the test stays CR1's
            V = vc.cr2(lik, theta, clusters)[0]
            se_kind = "robust.cluster.cr2"
    elif pt.multilevel:     # whole therapists (or clients) with their sessions
        from .estimate import twolevel_bootstrap
        draws = twolevel_bootstrap.run(pt, lik, sol, therapists=clusters, n=bootstrap,
                                       seed=seed, progress=progress, level=level,
                                       interval=boot_ci)
        V = draws["vcov"]
        se_kind = "bootstrap.cluster"
    else:  # bootstrap
        from .estimate import bootstrap as boot
        draws = boot.run(pt, lik, sol, clusters=clusters, n=bootstrap, seed=seed,
                         progress=progress, level=level, interval=boot_ci)
        V = draws["vcov"]       # the covariance of the replicates, as lavaan's
        se_kind = "bootstrap.cluster" if clusters is not None else "bootstrap"
    fit_late = None
    if isinstance(lik, FIML):
        # lavaan reports its FIML-corrected robust CFI/TLI/RMSEA for every
        # missing = "ml" fit, scaled ("V3") with MLR, else "V6"
        from .estimate.fiml_corrected import corrected_fit
        fit_late = lambda fit: corrected_fit(                       # noqa: E731
            lik, theta, fit["df"], fit["baseline.df"],
            clusters if se == "robust" else None, scaled=se == "robust")
    if nclusters is None and clusters is not None:
        nclusters = clusters.n
    if se == "none":
        V = np.full_like(V, np.nan)
    if not np.all(np.isfinite(np.diag(V))) and se != "none":
        notes.append("The information matrix is singular at the estimates, so some "
                     "standard errors could not be computed; the model may not be "
                     "identified.")
    defined = effects.Defined.from_partable(pt)
    row_est = effects.row_values(pt, theta, values)
    def_est, _, def_V = (defined.delta(theta, V) if len(defined)
                         else (np.zeros(0), None, np.zeros((0, 0))))

    df_t = clusters.n - 1 if small.get("ci_dist") == "t" else None
    z_crit = wald_quantile(0.5 + level / 2, df_t)
    free_se = np.sqrt(np.where(np.diag(V) >= 0, np.diag(V), np.nan))
    def_se = np.sqrt(np.where(np.diag(def_V) >= 0, np.diag(def_V), np.nan)) if len(defined) else np.zeros(0)
    ci = {"level": level, "parameters": "normal (Wald)", "defined": "normal (delta method)"}
    if df_t is not None:
        ci["parameters"], ci["defined"] = f"t({df_t}) (Wald)", f"t({df_t}) (delta method)"
        ci["pvalues"] = f"t({df_t})"        # (normal, as lavaan, when absent)
    if draws:
        free_se, def_se = draws["se"], draws["def_se"]
        ci["parameters"] = ci["defined"] = f"{draws['interval']} bootstrap ({draws['ok']} of {draws['n']} draws)"
        notes += draws.get("notes", [])
    # every model row, fixed ones too, as lavaan's parameterEstimates shows
    # them: a fixed row has se 0, no z or p, and its interval is the value
    model_rows, free_idx = model_rows_of(pt)
    is_free, fi = free_idx >= 0, np.maximum(free_idx, 0)
    est = np.concatenate([row_est[model_rows], def_est])
    se_ = np.concatenate([np.where(is_free, free_se[fi], 0.0), def_se])
    if draws:
        boot_ci = np.asarray(draws["ci"]).reshape(-1, 2)[fi]
        boot_ci[~is_free] = row_est[model_rows][~is_free, None]
        bounds = np.vstack([boot_ci, np.asarray(draws["def_ci"]).reshape(-1, 2)])
        lo, hi = bounds[:, 0], bounds[:, 1]
    else:
        lo, hi = est - z_crit * se_, est + z_crit * se_
    mc = None
    if mc_draws and len(defined) and se != "bootstrap":
        from .estimate import montecarlo
        mc = montecarlo.intervals(defined, theta, V, n=mc_draws, seed=seed, level=level,
                                  df=df_t)
        ci["defined"] = (f"Monte Carlo ({mc_draws} draws from the {se_kind} vcov"
                         + (f", multivariate t({df_t})" if df_t else "") + f", seed {seed})")
        k = len(model_rows)
        lo[k:], hi[k:] = np.asarray(mc).reshape(-1, 2).T
    ci["description"] = (f"{int(level * 100)}%: parameters {ci['parameters']}; "
                         f"defined {ci['defined']}" if len(defined) else
                         f"{int(level * 100)}%: {ci['parameters']}")
    if "pvalues" in ci:
        ci["description"] += f"; p-values from {ci['pvalues']}"
    inadmissible = effects.admissibility_rows(pt, theta, values)
    estimation["admissible"] = not inadmissible
    estimation["inadmissible"] = inadmissible
    notes += inadmissible
    derived = Derived(pt, lik, sol, V=V, defined=defined, est=est, se=se_, lo=lo, hi=hi,
                      df_t=df_t, clusters=clusters, robust=robust, fit_late=fit_late,
                      fit_extra=None if nclusters is None else {"nclusters": int(nclusters)},
                      held=held)
    if not isinstance(lik, CompleteML):
        derived.fit        # noqa: B018 (fitted now: see derived.py)
    return dict(estimates=Deferred(lambda: derived.estimates),
                table=Deferred(lambda: derived.table),
                fit=Deferred(lambda: derived.fit),
                vcov=Deferred(lambda: derived.vcov), vcov_matrix=V,
                r2=Deferred(lambda: derived.r2), theta=theta, values=values,
                row_est=row_est, row_std=Deferred(lambda: derived.row_std),
                se_kind=se_kind, ci=ci, draws=draws, derived=derived,
                notes=notes, estimation=estimation)


@lru_cache(maxsize=1)
def versions() -> dict:
    """Versions of attachpath and the libraries its numbers depend on."""
    import platform

    from . import __version__
    return {"attachpath": __version__, "semopy": installed_version("semopy"),
            "numpy": np.__version__, "pandas": installed_version("pandas"),
            "scipy": installed_version("scipy"), "python": platform.python_version()}


def installed_version(name: str) -> str:
    """The installed version of package `name` without importing it, from
    the name of its '<name>-<version>.dist-info' folder beside it:
    importing importlib.metadata (email, zipfile, ...) costs 25-100 ms of a
    CLI fit, and importing pandas or semopy far more."""
    from importlib.util import find_spec
    spec = find_spec(name)
    if spec is not None and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        found = [d for d in os.listdir(site)
                 if d.startswith(name + "-") and d.endswith(".dist-info")]
        if len(found) == 1:
            return found[0][len(name) + 1:-len(".dist-info")]
    from importlib.metadata import version
    return version(name)


def _with_iccs(data_info: dict, key: str, clusters: Clusters, X, names) -> Deferred:
    """data_info with data_info[key] = each variable's (ICC(1), design
    effect), computed on first read of the Result's data_info."""
    def compute():
        data_info[key] = cluster_iccs(clusters, X, names)
        return data_info
    return Deferred(compute)


def _provenance(pt: ParTable, X: np.ndarray, source: dict, options: dict) -> Deferred:
    """provenance(...) on first read: hashing the model's data costs more
    than fitting a small path model, and X is not changed after the fit."""
    return Deferred(lambda: provenance(pt, X, source, options))


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
