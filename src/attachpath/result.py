"""The fitted model as a value: estimates, fit measures, vcov, provenance.

A Result never refits; every writer (CSV, JSON, text, HTML, diagrams) reads
one.  Column names follow lavaan's parameterEstimates(standardized=TRUE) and
fit measure names follow fitMeasures().
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .partable import ParTable

COLUMNS = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue",
           "ci.lower", "ci.upper", "std.all"]

SE_NAMES = {
    "standard": "standard (expected information)",
    "robust": "robust (Huber-White sandwich, observed information)",
    "robust.cluster": "cluster-robust (sandwich, scores summed within clusters)",
    "bootstrap": "bootstrap",
    "bootstrap.cluster": "cluster bootstrap (clusters resampled)",
}


@dataclass(frozen=True)
class Result:
    """One fitted model.

    >>> import attachpath as ap
    >>> res = ap.fit("y ~ x", ap.datasets.load_example_clients())  # doctest: +SKIP
    >>> res.estimates[["lhs", "op", "rhs", "est", "se"]]            # doctest: +SKIP
    """

    partable: ParTable
    estimates: pd.DataFrame          # lavaan's columns, one row per free parameter and :=
    fit: dict                        # fitMeasures names
    vcov: pd.DataFrame               # free parameters, named
    r2: dict
    theta: np.ndarray
    values: np.ndarray               # fixed values per table row (covariates filled)
    row_est: np.ndarray              # value of every table row
    row_std: np.ndarray              # std.all of every table row
    se_kind: str
    ci: dict                         # how ci.lower/ci.upper were made
    data_info: dict                  # N, dropped rows, clusters, ICCs
    provenance: dict
    warnings: tuple[str, ...] = field(default=())
    draws: dict = field(default_factory=dict)   # bootstrap/MC draw summaries

    # -- views ---------------------------------------------------------------
    @property
    def nobs(self) -> int:
        return int(self.fit["ntotal"])

    def defined(self) -> pd.DataFrame:
        return self.estimates[self.estimates["op"] == ":="].reset_index(drop=True)

    def standardized_solution(self, level: float | None = None) -> pd.DataFrame:
        """lavaan's standardizedSolution(): std.all of every model row (fixed
        ones included) and := parameter, with delta-method SEs from this
        fit's vcov, z, p and a normal `level` interval (default: the fit's).

        >>> res.standardized_solution().query("op == ':='")  # doctest: +SKIP
        """
        from .effects import standardized_solution
        from .estimate.ram import ram_of
        level = self.ci.get("level", 0.95) if level is None else level
        return standardized_solution(self.partable, ram_of(self.partable), self.theta,
                                     self.values, self.vcov.to_numpy(), level)

    def params(self) -> pd.Series:
        """Estimates indexed by lavaan-style names ('y~x', 'ab', ...)."""
        e = self.estimates
        names = [r.lhs if r.op == ":=" else (f"{r.lhs}~1" if r.op == "~1" else f"{r.lhs}{r.op}{r.rhs}")
                 for r in e.itertuples()]
        return pd.Series(e["est"].to_numpy(), index=names)

    # -- text ----------------------------------------------------------------
    def summary(self) -> str:
        f = self.fit
        d = self.data_info
        lines = []
        lines.append(f"attachpath {self.provenance.get('versions', {}).get('attachpath', '')}: "
                     f"ML estimation, {len(self.partable.observed)} observed variables")
        lines.append(f"  Observations used: {d['n']}" +
                     (f" ({d['dropped_rows']} rows with missing values dropped, listwise)"
                      if d.get("dropped_rows") else ""))
        if d.get("cluster"):
            c = d["cluster"]
            lines.append(f"  Clusters ({c['name']}): {c['n']} (sizes {c['min']}-{c['max']}, "
                         f"mean {c['mean']:.1f})")
        est = self.provenance.get("options", {}).get("estimation", {})
        if est:
            how = ("closed form (per-equation least squares, recursive path model)"
                   if est["method"] == "closed-form" else
                   f"semopy SLSQP + Fisher scoring, {est['iterations']} iterations")
            lines.append(f"  Estimates: {how}; gradient norm {est['gradient_norm']:.1e}")
        lines.append(f"  Standard errors: {SE_NAMES.get(self.se_kind, self.se_kind)}")
        lines.append(f"  Confidence intervals: {self.ci.get('description', '')}")
        lines.append("")
        lines.append("Model test and fit")
        lines.append(f"  chisq = {f['chisq']:.3f}, df = {f['df']}, p = {_p(f['pvalue'])}" +
                     (f"; scaled chisq = {_num(f['chisq.scaled'])} (scaling factor "
                      f"{_num(f['chisq.scaling.factor'])}), p = {_p(f['pvalue.scaled'])}"
                      if "chisq.scaled" in f else ""))
        lines.append(f"  CFI = {f['cfi']:.3f}  TLI = {f['tli']:.3f}  RMSEA = {f['rmsea']:.3f} "
                     f"[{f['rmsea.ci.lower']:.3f}, {f['rmsea.ci.upper']:.3f}]  SRMR = {f['srmr']:.3f}")
        if "cfi.robust" in f:
            lines.append(f"  robust: CFI = {_num(f['cfi.robust'])}  TLI = {_num(f['tli.robust'])}  "
                         f"RMSEA = {_num(f['rmsea.robust'])}")
        lines.append(f"  logL = {f['logl']:.3f}  AIC = {f['aic']:.3f}  BIC = {f['bic']:.3f}  "
                     f"npar = {f['npar']}")
        lines.append("")
        lines.append(_table_text(self.estimates))
        if self.r2:
            lines.append("")
            lines.append("R-squared")
            for v, r in self.r2.items():
                lines.append(f"  {v:<20} {r:7.3f}")
        if d.get("icc"):
            lines.append("")
            lines.append(f"Intraclass correlations by {d['cluster']['name']} (ICC(1), design effect)")
            for v, (icc, deff) in d["icc"].items():
                lines.append(f"  {v:<20} {icc:7.3f} {deff:7.3f}")
        if self.warnings:
            lines.append("")
            lines.append("Warnings")
            for w in self.warnings:
                lines.append(f"  - {w}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from .report.tables import estimates_html, fit_html
        return fit_html(self) + estimates_html(self)


def _p(p) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    return "< .001" if p < 0.001 else f"{p:.3f}"


def _num(x) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.3f}"


OP_TITLES = {"=~": "Latent variables", "~": "Regressions", "~~": "Variances and covariances",
             "~1": "Intercepts", ":=": "Defined parameters"}


def _row_name(r: dict, op: str) -> str:
    if op == ":=":
        return f"{r['lhs']} := {r['rhs']}"
    name = r["lhs"] if op == "~1" else f"{r['lhs']} {op} {r['rhs']}"
    return name + (f" ({r['label']})" if r["label"] else "")


def _table_text(est: pd.DataFrame) -> str:
    records = est.to_dict("records")
    # the name column fits the longest name (within reason) so nothing is cut
    width = min(max([30] + [len(_row_name(r, r["op"])) + 2 for r in records]), 60)
    out = []
    for op in ("=~", "~", "~~", "~1", ":="):
        part = [r for r in records if r["op"] == op]
        if not part:
            continue
        out.append(OP_TITLES[op])
        out.append(f"  {'':<{width}}{'est':>9}{'se':>9}{'z':>8}{'p':>8}{'ci.lower':>10}"
                   f"{'ci.upper':>10}{'std.all':>9}")
        for r in part:
            name = _row_name(r, op)
            out.append(f"  {name[:width]:<{width}}{_f(r['est'], 9)}{_f(r['se'], 9)}"
                       f"{_f(r['z'], 8, 2)}{_pf(r['pvalue'])}{_f(r['ci.lower'], 10)}"
                       f"{_f(r['ci.upper'], 10)}{_f(r['std.all'], 9)}")
    return "\n".join(out)


def _f(x, w, d=3):
    if x is None or not np.isfinite(x):
        return f"{'':>{w}}"
    if abs(x) < 0.5 * 10 ** -d:      # no "-0.000"
        x = 0.0
    return f"{x:>{w}.{d}f}"


def _pf(p):
    if p is None or not np.isfinite(p):
        return f"{'':>8}"
    return f"{'<.001':>8}" if p < 0.001 else f"{p:>8.3f}"
