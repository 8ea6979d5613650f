"""Comparing alternative structures fitted to the same cases.

    >>> import attachpath as ap
    >>> cmp = ap.compare([ap.specs.path("serial_esat_anx"), ap.specs.path("serial_esat_anx_partial")],
    ...                  ap.datasets.load_example_clients(), cluster="therapist")
    >>> cmp.tests[["model_a", "model_b", "df_diff"]].values.tolist()
    [['serial_esat_anx', 'serial_esat_anx_partial', 2]]

How nesting is detected (the NET method of Bentler & Satorra 2010, as in
semTools::net): model A is nested in model B when both have the same
observed variables and covariates, A has more degrees of freedom, and B
reproduces A's fitted means and covariances exactly (B fitted to A's
implied moments reaches a discrepancy of zero).  This covers fixed paths,
equality constraints and reparameterisations, not just dropped arrows.  Two
models with equal df that reproduce each other are equivalent.  Every other
pair is non-nested and gets AIC/BIC differences and Akaike weights instead of
a test.

Tests: the likelihood-ratio (chi-square difference) test for ML; for robust
or clustered fits lavaan's default, the Satorra-Bentler (2001) scaled
difference, falling back to the 2010 version (the larger model evaluated at
the smaller model's solution) when the 2001 scaling factor is not positive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from .estimate.distributions import chi2_sf

from .errors import AttachpathError, DataError, OptionError
from .estimate import engine, ml, robust_test, vcov as vc
from .estimate.clusters import Clusters
from .estimate.likelihood import CompleteML
from .estimate.ram import ram_of
from . import fitting
from .fitting import _load_data
from .result import Result

NET_TOL = 1e-8       # N·F below this: B reproduces A's moments


@dataclass(frozen=True)
class Comparison:
    results: dict                 # name -> Result, in the order given
    table: pd.DataFrame           # one row per model
    tests: pd.DataFrame           # one row per nested pair
    information: pd.DataFrame     # AIC/BIC differences and Akaike weights
    effects: pd.DataFrame         # defined parameters side by side
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """The comparison as text: fit of each model, nested-model tests,
        information criteria, the defined effects side by side and notes."""
        from .apa import p_value
        out = ["Model comparison", self.table.to_string(index=False, float_format=lambda x: f"{x:.3f}")]
        if not self.tests.empty:
            tests = self.tests.assign(pvalue=[p_value(p) for p in self.tests["pvalue"]])
            out += ["", "Nested-model tests", tests.to_string(index=False, float_format=lambda x: f"{x:.4f}")]
        if not self.information.empty:
            out += ["", "Information criteria", self.information.to_string(index=False, float_format=lambda x: f"{x:.3f}")]
        if not self.effects.empty:
            out += ["", "Defined effects across models", self.effects.to_string(index=False, float_format=lambda x: f"{x:.4f}")]
        if self.notes:
            out += ["", "Notes"] + [f"  - {n}" for n in self.notes]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        """A few lines (the tables are in summary() and, in Jupyter, the HTML)."""
        first = next(iter(self.results.values()))
        w = self.table.set_index("model")["akaike.weight"]
        best = w.idxmax() if w.notna().any() else None
        return (f"<attachpath Comparison of {len(self.results)} models, "
                f"N = {first.data_info['n']}: {', '.join(self.results)}\n"
                f"  {len(self.tests)} nested-model test(s), {len(self.information)} "
                f"non-nested pair(s)" + (f"; largest Akaike weight: {best} ({w[best]:.3f})"
                                         if best is not None else "") + "\n"
                "  print(cmp.summary()) or cmp.table, cmp.tests, cmp.effects for the tables>")

    def _repr_html_(self) -> str:          # Jupyter
        from .report.tables import comparison_html
        return comparison_html(self)


def _names(specs) -> list[tuple[str, object]]:
    if isinstance(specs, dict):
        return list(specs.items())
    out = []
    for s in specs:
        name = Path(s).stem if isinstance(s, (str, Path)) and str(s).endswith(".lav") else f"model{len(out) + 1}"
        out.append((name, s))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise OptionError(f"Two specs have the same name ({', '.join(names)}); "
                              f"give them distinct file names.")
    return out


def _check_same_cases(infos: dict) -> None:
    """DataError unless listwise deletion kept the same rows for every model
    (`infos`: model_frame's info per model)."""
    (ref_name, ref), *others = ((name, np.asarray(info["kept"])) for name, info in infos.items())
    for name, k in others:
        if np.array_equal(k, ref):
            continue
        n_ref, n_k = int(ref.sum()), int(k.sum())
        counts = (f"{n_ref} rows for '{ref_name}' but {n_k} for '{name}'" if n_ref != n_k
                  else f"{n_ref} rows for both '{ref_name}' and '{name}', but not the "
                       f"same ones")
        raise DataError(
            f"The models are not fitted on the same cases: listwise deletion keeps "
            f"{counts}, because their variables have different missing values. Compare "
            f"models on the same rows: drop incomplete rows from the data first.")


def _reproduce(res_b: Result, target: ml.Moments) -> tuple[np.ndarray, float]:
    """Fit model B to target moments from B's estimates: (θ, N·F)."""
    pt = res_b.partable
    ram = ram_of(pt)
    values = engine.fixed_values(pt, ram, target)
    theta = engine.saturated_intercepts(pt, ram, res_b.theta, values, target)
    theta, _, _ = engine.fisher_scoring(ram, theta, target, values, max_iter=200)
    return theta, target.n * ml.discrepancy(ram, theta, target, values)


def _implied_moments(res: Result, X: np.ndarray) -> ml.Moments:
    ram = ram_of(res.partable)
    sigma, mu, *_ = ram.implied(res.theta, res.values)
    mean = mu if res.partable.meanstructure else X.mean(axis=0)
    return ml.Moments(X, mean, sigma, X.shape[0])


def nested_in_two_level(res_a: Result, res_b: Result) -> bool:
    """NET for two-level models: B, fitted to data whose sufficient
    statistics are A's implied moments, reproduces them exactly."""
    from dataclasses import replace
    from .estimate.likelihood import TwoLevelML, fisher_scoring
    la, lb = res_a.likelihood, res_b.likelihood
    pa, pb = res_a.partable, res_b.partable
    if (la.data.names != lb.data.names
            or [set(b.observed) for b in pa.blocks] != [set(b.observed) for b in pb.blocks]):
        return False
    s1, mu, VB, VW = la.model.between(res_a.theta, la.values)
    d = la.data
    target = replace(d, W_total=(d.n - d.n_clusters) * s1,
                     mean=np.broadcast_to(mu, d.mean.shape).copy(),
                     cov=VB[None] + VW[None] / d.sizes[:, None, None])
    fit_a = TwoLevelML(pa, target, values=la.values, h1=la.h1)
    fit_b = TwoLevelML(pb, target, values=lb.values, h1=lb.h1)
    try:
        theta_b, _, _ = fisher_scoring(fit_b, res_b.theta, max_iter=200)
    except (np.linalg.LinAlgError, ValueError):
        return False
    nf = 2.0 * (fit_a.loglik(res_a.theta) - fit_b.loglik(theta_b))
    return bool(np.isfinite(nf) and nf < NET_TOL * max(1.0, d.n))


def nested_in(res_a: Result, res_b: Result, X_a: np.ndarray) -> bool:
    """True when A's fitted moments are reproduced exactly by B (NET)."""
    if res_a.partable.multilevel:
        return nested_in_two_level(res_a, res_b)
    if (set(res_a.partable.observed) != set(res_b.partable.observed)
            or set(res_a.partable.covariates) != set(res_b.partable.covariates)):
        return False
    order = [res_a.partable.observed.index(v) for v in res_b.partable.observed]
    target = _implied_moments(res_a, X_a)
    target = ml.Moments(X_a[:, order], target.mean[order],
                        target.cov[np.ix_(order, order)], target.n)
    try:
        _, nf = _reproduce(res_b, target)
    except (np.linalg.LinAlgError, ValueError):
        return False
    return bool(np.isfinite(nf) and nf < NET_TOL * max(1.0, target.n))


def _scaling_at(res_b: Result, theta, X, clusters) -> float:
    """Yuan-Bentler scaling factor of model B at θ (for SB2010)."""
    lik = CompleteML.from_array(res_b.partable, X)
    clusters = None if clusters is None else Clusters.from_ids("cluster", clusters)
    A = lik.observed_information(theta)
    B = vc.meat(lik.scores(theta), lik.n, clusters)
    return robust_test.scaling_factor(lik.h1_trace(clusters), robust_test.h0_trace(A, B),
                                      res_b.fit["df"])


def difference_test(res0: Result, res1: Result, X, clusters, robust: bool,
                    X0=None, method: str = "auto") -> dict:
    """Model 0 (restricted) against model 1: lavaan's lavTestLRT default.

    method (robust fits): "auto" (2001, then 2010 if not positive), "2001"
    or "2010"."""
    f0, f1 = res0.fit, res1.fit
    t0, t1, r0, r1 = f0["chisq"], f1["chisq"], f0["df"], f1["df"]
    m = r0 - r1
    out = {"df_diff": m, "chisq_diff": t0 - t1, "method": "likelihood ratio (ML)"}
    if robust:
        c0, c1 = f0["chisq.scaling.factor"], f1["chisq.scaling.factor"]
        if r1 == 0:
            c1 = 1.0
        cd = (r0 * c0 - r1 * c1) / m
        out["method"] = "Satorra-Bentler 2001 scaled difference"
        if (res0.partable.multilevel or "missing" in res0.data_info) and not cd > 0:
            out["method"] += " (not positive: no test)"
        elif method == "2010" or (method == "auto" and not (cd > 0)):
            target = _implied_moments(res0, X0 if X0 is not None else X)
            order = [res0.partable.observed.index(v) for v in res1.partable.observed]
            target = ml.Moments(target.X[:, order], target.mean[order],
                                target.cov[np.ix_(order, order)], target.n)
            theta10, _ = _reproduce(res1, target)
            c10 = 1.0 if r1 == 0 else _scaling_at(res1, theta10, X, clusters)
            cd = (r0 * c0 - r1 * c10) / m
            out["method"] = ("Satorra-Bentler 2010 scaled difference" + 
                             (" (2001 not positive)" if method == "auto" else ""))
        out["scaling_factor"] = cd
        out["chisq_diff"] = (t0 - t1) / cd if cd > 0 else float("nan")
    out["pvalue"] = chi2_sf(out["chisq_diff"], m)
    return out


TABLE_COLS = ["npar", "df", "chisq", "pvalue", "chisq.scaled", "chisq.scaling.factor",
              "cfi", "tli", "rmsea", "srmr", "aic", "bic",
              "cfi.robust", "tli.robust", "rmsea.robust"]


def compare(specs, data, *, cluster: str | None = None, se: str | None = None,
            mc_draws: int = 0, seed: int | None = None, level: float = 0.95,
            labels: str = "data", progress: bool | None = None,
            missing: str = "listwise", information: str | None = None,
            std_lv: bool = False, orthogonal: bool = False, auxiliary=None,
            model_type: str = "sem") -> Comparison:
    """Fit every spec to the same cases and compare them.

    specs: a list of .lav paths (named by file stem) or a dict name -> spec.
    se defaults to "robust" when clustered, else "standard" (the rule of
    attachpath.options.default_se).  progress: a bar over the models (None:
    when stderr is a terminal or in Jupyter).  missing, information, std_lv,
    orthogonal, auxiliary and model_type: as in fit, for every spec."""
    from .options import default_se
    from .progress import Bar
    named = _names(specs)
    if len(named) < 2:
        raise OptionError("compare needs at least two specs.")
    se = default_se(se, cluster)
    from .fitting import cluster_levels
    from .spec import partable_of
    levels = {name: partable_of(spec).multilevel for name, spec in named}
    if len(set(levels.values())) > 1:
        two = [n for n, m in levels.items() if m]
        one = [n for n, m in levels.items() if not m]
        raise AttachpathError(
            f"'{two[0]}' is a two-level model and '{one[0]}' a single-level one: their "
            f"likelihoods are of different data (session rows split into within and "
            f"between parts, or cases), so no test or information criterion compares "
            f"them. Compare two-level specs with each other.")
    outer, inner = cluster_levels(cluster)
    rows_cluster = inner if inner is not None else outer
    frame, _ = _load_data(data)
    # a file path goes to fit() as is, so each model's provenance keeps its hash
    source = data if not isinstance(data, pd.DataFrame) else frame
    bar = Bar(len(named), "models", progress, unit="model")
    results = {}
    for i, (name, spec) in enumerate(named, start=1):
        results[name] = fitting.fit(spec, source, cluster=cluster, se=se, mc_draws=mc_draws,
                                    seed=seed, level=level, labels=labels, progress=False,
                                    missing=missing, information=information,
                                    std_lv=std_lv, orthogonal=orthogonal,
                                    auxiliary=auxiliary, model_type=model_type)
        bar(i)
    from .data.checks import model_array
    mats, infos = {}, {}
    clusters = None
    for name, res in results.items():
        mats[name], infos[name] = model_array(frame, list(res.partable.observed),
                                              cluster=rows_cluster,
                                              missing="listwise" if missing == "listwise"
                                              else "fiml")
        if "missing" in res.data_info:      # FIML: the rows the fit used
            infos[name] = dict(infos[name], kept=np.asarray(infos[name]["kept"]).copy())
            dropped = res.data_info["missing"]["dropped_missing_covariate"]
            if dropped and len({tuple(r.partable.covariates) for r in results.values()}) > 1:
                raise DataError(
                    f"With --missing fiml each model drops the rows with a missing value "
                    f"in its own covariates, so '{name}' is fitted to other rows than the "
                    f"rest. Compare with --missing fiml.x (those rows kept) instead.")
        if cluster:
            clusters = np.asarray(infos[name]["clusters"])
    _check_same_cases(infos)

    rows = []
    for name, res in results.items():
        row = {"model": name}
        row.update({k: res.fit.get(k, np.nan) for k in TABLE_COLS})
        rows.append(row)
    table = pd.DataFrame(rows)
    if "cfi.robust" in table and table["cfi.robust"].isna().all():
        table = table.drop(columns=["chisq.scaled", "chisq.scaling.factor", "cfi.robust",
                                    "tli.robust", "rmsea.robust"], errors="ignore")

    robust = se == "robust"
    tests, info_rows, notes = [], [], []
    for (na, ra), (nb, rb) in combinations(results.items(), 2):
        # the restricted model has more df
        (n0, r0), (n1, r1) = ((na, ra), (nb, rb)) if ra.fit["df"] >= rb.fit["df"] else ((nb, rb), (na, ra))
        X0, X1 = mats[n0], mats[n1]
        if r0.fit["df"] > r1.fit["df"] and nested_in(r0, r1, X0):
            t = difference_test(r0, r1, X1, clusters, robust, X0=X0)
            tests.append({"model_a": n0, "model_b": n1, "df_diff": t["df_diff"],
                          "chisq_diff": t["chisq_diff"], "pvalue": t["pvalue"],
                          "method": t["method"]})
            continue
        if set(ra.partable.observed) != set(rb.partable.observed):
            notes.append(f"'{na}' and '{nb}' model different variables, so neither a "
                         f"test nor information criteria compare them.")
            continue
        equivalent = (r0.fit["df"] == r1.fit["df"] and nested_in(r0, r1, X0)
                      and nested_in(r1, r0, X1))
        info_rows.append({"model_a": na, "model_b": nb,
                          "aic_diff": ra.fit["aic"] - rb.fit["aic"],
                          "bic_diff": ra.fit["bic"] - rb.fit["bic"],
                          "relation": "equivalent" if equivalent else "non-nested"})
    tests_df = pd.DataFrame(tests, columns=["model_a", "model_b", "df_diff", "chisq_diff",
                                            "pvalue", "method"])
    info_df = pd.DataFrame(info_rows, columns=["model_a", "model_b", "aic_diff", "bic_diff",
                                               "relation"])
    # Akaike weights over the models that share the first model's variables
    base_vars = set(next(iter(results.values())).partable.observed)
    same = [n for n, r in results.items() if set(r.partable.observed) == base_vars]
    aic = np.array([results[n].fit["aic"] for n in same])
    w = np.exp(-0.5 * (aic - aic.min()))
    weights = dict(zip(same, w / w.sum()))
    table["akaike.weight"] = [weights.get(n, np.nan) for n in table["model"]]
    return Comparison(results=results, table=table, tests=tests_df, information=info_df,
                      effects=effects_side_by_side(results), notes=tuple(notes))


def effects_side_by_side(results: dict) -> pd.DataFrame:
    """Defined parameters that share a name, one row per name, est and CI per model."""
    defined = {model: res.defined().set_index("lhs") for model, res in results.items()}
    names = dict.fromkeys(n for d in defined.values() for n in d.index)
    rows = []
    for n in names:
        row = {"effect": n}
        present = 0
        for model, d in defined.items():
            if n in d.index:
                present += 1
                row[f"{model}.est"] = d.at[n, "est"]
                row[f"{model}.ci.lower"] = d.at[n, "ci.lower"]
                row[f"{model}.ci.upper"] = d.at[n, "ci.upper"]
        if present >= 2:
            rows.append(row)
    return pd.DataFrame(rows)
