"""The fitted model as a value: estimates, fit measures, vcov, provenance.

A Result never refits; every writer (CSV, JSON, text, HTML, diagrams) reads
one.  Column names follow lavaan's parameterEstimates(standardized=TRUE) and
fit measure names follow fitMeasures().
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .apa import p_value
from .partable import ParTable
from .se_kinds import KINDS, se_kind
from .table import Table

COLUMNS = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue",
           "ci.lower", "ci.upper", "std.lv", "std.all", "std.nox"]

# kept for callers of the old table: the sentence of every SE kind
SE_NAMES = {name: kind.sentence for name, kind in KINDS.items()}


class Deferred:
    """A value of a Result computed on first access: fit() passes the parts a
    fit does not need for its estimates and SEs (fit measures, standardized
    columns, the estimates table, ...: attachpath.derived) as Deferred(fn)."""

    __slots__ = ("compute",)

    def __init__(self, compute):
        self.compute = compute


class _Resolved:
    """A field of Result that may be given a Deferred: the first read computes
    it and keeps the value, so the Result reads as the value it always was
    (equal, picklable, the same on every access).  A dataclass field whose
    class attribute is a descriptor is set through it by __init__ (object's
    __setattr__, even for a frozen class); users' assignments still meet the
    frozen class's FrozenInstanceError first."""

    def __init__(self, *default):
        self.default = default        # () or (value,)

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:               # the dataclass asks for the field's default
            if self.default:
                return self.default[0]
            raise AttributeError(self.name)
        value = obj.__dict__[self.name]
        if type(value) is Deferred:
            value = value.compute()
            obj.__dict__[self.name] = value
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value


@dataclass(frozen=True)
class Result:
    """One fitted model.

    >>> import attachpath as ap
    >>> res = ap.fit("tds_ge ~ ecr_anx", ap.datasets.load_example_clients())
    >>> res.estimates[["lhs", "op", "rhs"]].values.tolist()
    [['tds_ge', '~', 'ecr_anx'], ['tds_ge', '~~', 'tds_ge'], ['ecr_anx', '~~', 'ecr_anx']]
    """

    partable: ParTable
    # lavaan's columns, one row per model row (fixed ones with se 0) and per :=
    estimates: "pd.DataFrame" = _Resolved()
    fit: dict = _Resolved()                  # fitMeasures names
    vcov: "pd.DataFrame" = _Resolved()         # free parameters, named
    r2: dict = _Resolved()
    theta: np.ndarray
    values: np.ndarray               # fixed values per table row (covariates filled)
    row_est: np.ndarray              # value of every table row
    row_std: np.ndarray = _Resolved()        # std.all of every table row
    se_kind: str
    ci: dict                         # how ci.lower/ci.upper were made
    data_info: dict = _Resolved()            # N, dropped rows, clusters, ICCs
    provenance: dict = _Resolved()
    warnings: tuple[str, ...] = _Resolved(())
    draws: dict = field(default_factory=dict)   # bootstrap/MC draw summaries
    # the likelihood object of the fit (estimate/likelihood.py), for
    # comparisons that evaluate the model on other moments
    likelihood: object = field(default=None, repr=False, compare=False)
    moments: object = None           # sample means and covariances (ml.Moments, no cases)
    # the same rows as `estimates` without pandas (attachpath.table.Table):
    # what the summary, the exports, the report and the diagrams read
    table: object = _Resolved(None)
    # `vcov` as the fit's array (same numbers, no pandas): the standardized
    # solution's delta method reads it
    vcov_matrix: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        # a Result made by hand with an estimates DataFrame only: its table
        # is read from that DataFrame (the writers read the table)
        if self.__dict__.get("table") is None:
            self.__dict__["table"] = Deferred(lambda: Table.from_frame(self.estimates))

    def __getstate__(self):
        """Pickled (and copied) with every deferred part computed."""
        return {k: getattr(self, k) if type(v) is Deferred else v
                for k, v in self.__dict__.items()}

    def _replace(self, **changes) -> "Result":
        """dataclasses.replace that keeps the parts not yet read deferred
        (replace reads every field: the vcov's DataFrame, the fit measures)."""
        from dataclasses import fields
        given = {f.name: self.__dict__[f.name] for f in fields(self) if f.name in self.__dict__}
        return type(self)(**{**given, **changes})

    # -- views ---------------------------------------------------------------
    @property
    def nobs(self) -> int:
        return int(self.fit["ntotal"])

    def level(self, b: int) -> "Result":
        """One level of a two-level fit as a single-level Result (its table
        rows, estimates, R²; := rows whose labels all sit at that level),
        for diagrams and tables drawn level by level."""
        pt = self.partable
        if not pt.multilevel:
            return self
        sub = pt.block(b)
        rows = np.array([k for k, r in enumerate(pt.rows) if r.block == b], dtype=int)
        labels = {r.label for r in sub.rows if r.label}
        from .syntax.expression import Expression
        keep_defined = [r.lhs for r in pt.defined()
                        if set(Expression(r.rhs).names) <= labels]
        t = self.table
        mask = (t["block"] == b) | ((t["op"] == ":=") & np.isin(t["lhs"], keep_defined))
        table = t.where(mask).drop("block", "level")
        # the DataFrame view follows the table, read as lazily as the fit's
        est = Deferred(table.to_frame)
        from dataclasses import replace
        sub = replace(sub, rows=sub.rows + tuple(r for r in pt.defined()
                                                 if r.lhs in keep_defined))
        suffix = f".l{b}"
        r2 = ({k: v for k, v in self.r2.items() if not k.endswith(".l2")} if b == 1 else
              {k[:-len(suffix)]: v for k, v in self.r2.items() if k.endswith(suffix)})
        n_def = len(keep_defined)
        return self._replace(
            partable=sub, estimates=est, table=table, r2=r2,
            values=np.concatenate([self.values[rows], np.full(n_def, np.nan)]),
            row_est=np.concatenate([self.row_est[rows], np.full(n_def, np.nan)]),
            row_std=np.concatenate([self.row_std[rows], np.full(n_def, np.nan)]))

    def defined(self) -> "pd.DataFrame":
        t = self.table
        return t.where(t["op"] == ":=").to_frame()

    def defined_rows(self) -> list[dict]:
        """The := rows as dicts of Python values (what the diagrams and
        reports read: no pandas)."""
        t = self.table
        return t.where(t["op"] == ":=").records()

    def standardized_solution(self, level: float | None = None) -> "pd.DataFrame":
        """lavaan's standardizedSolution(): std.all of every model row (fixed
        ones included) and := parameter, with delta-method SEs from this
        fit's vcov, z, p and a normal `level` interval (default: the fit's).

        >>> res = ap.fit("tds_ge ~ a*esat_anx\\niip_post ~ b*tds_ge\\nab := a*b", clients)
        >>> res.standardized_solution().query("op == ':='")[["lhs", "op"]].values.tolist()
        [['ab', ':=']]
        """
        return self.standardized_table(level).to_frame()

    def standardized_table(self, level: float | None = None) -> Table:
        """standardized_solution() as a table.Table (no pandas)."""
        from .effects import standardized_table
        from .estimate.ram import ram_of
        level = self.ci.get("level", 0.95) if level is None else level
        # kept per level: --out writes it to standardized.csv and the report
        # shows it (a delta-method Jacobian per row each time)
        cache = self.__dict__.setdefault("_standardized", {})
        if level not in cache:
            cache[level] = standardized_table(self.partable, ram_of(self.partable),
                                              self.theta, self.values, self._V(), level)
        return cache[level]

    def _V(self) -> np.ndarray:
        """The vcov as an array: the fit's own (vcov_matrix) without making
        the named DataFrame, else from `vcov`."""
        if self.vcov_matrix is not None:
            return self.vcov_matrix
        return self.vcov.to_numpy()

    def modindices(self) -> "pd.DataFrame":
        """lavaan's modificationIndices(): for every parameter the model fixes
        (lavaan's candidates), mi (1-df score test), epc (expected change)
        and the EPC standardized as std.lv, std.all and std.nox, largest mi
        first.  Post hoc: see attachpath.modindices.CAUTION.

        >>> res.modindices().head(10)   # doctest: +SKIP
        """
        from .errors import AttachpathError
        from .modindices import modification_indices
        if self.moments is None and self.likelihood is not None:
            raise AttachpathError(
                f"Modification indices are available for complete single-level fits; "
                f"this fit's likelihood is {self.likelihood.kind} (two-level or FIML).")
        if self.moments is None:
            raise AttachpathError("This result has no sample moments (it was not made "
                                  "by attachpath.fit), so modification indices cannot "
                                  "be computed; refit it with attachpath.fit.")
        return modification_indices(self.partable, self.theta, self.values, self.moments)

    def params(self) -> "pd.Series":
        """Estimates indexed by lavaan-style names ('y~x', 'ab', ...)."""
        import pandas as pd
        t = self.table
        names = [lhs if op == ":=" else (f"{lhs}~1" if op == "~1" else f"{lhs}{op}{rhs}")
                 for lhs, op, rhs in zip(t["lhs"], t["op"], t["rhs"])]
        return pd.Series(t["est"].copy(), index=names)

    # -- text ----------------------------------------------------------------
    @property
    def name(self) -> str | None:
        """The spec file's stem ('serial_esat_anx'), or None for spec text."""
        from pathlib import Path
        f = self.provenance.get("spec_file")
        return Path(f).stem if f else None

    def __repr__(self) -> str:
        """A few lines (the tables are in summary() and, in Jupyter, the HTML)."""
        f, d = self.fit, self.data_info
        c = d.get("cluster")
        who = f"N = {d['n']}" + (f", {c['n']} clusters of {c['name']}" if c else "")
        test = (f"chisq = {f['chisq']:.3f}, df = {f['df']}, p {_p_eq(f['pvalue'])}"
                + (f"; scaled {f['chisq.scaled']:.3f}, p {_p_eq(f['pvalue.scaled'])}"
                   if "chisq.scaled" in f else ""))
        ndef = int((self.table["op"] == ":=").sum())
        return (f"<attachpath Result{' ' + self.name if self.name else ''}: {who}; "
                f"{self.partable.npar} free and {ndef} defined parameters, "
                f"{se_kind(self.se_kind).sentence.split(' (')[0]} SEs\n"
                f"  {test}; CFI = {_num(f['cfi'])}, RMSEA = {_num(f['rmsea'])}"
                f"{'; ' + str(len(self.warnings)) + ' warning(s)' if self.warnings else ''}\n"
                f"  print(res.summary()) or res.estimates for the parameters>")

    def summary(self, style: str = "attachpath") -> str:
        """The fit as text.  style="attachpath" (default): data handling, fit
        and one table with CIs and std.all; style="lavaan": the sections and
        columns of lavaan's summary() (Regressions, Covariances, Intercepts,
        Variances, Defined Parameters; Estimate Std.Err z-value P(>|z|)), to
        read beside lavaan's output."""
        if style == "lavaan":
            from .lavaan_summary import lavaan_summary
            return lavaan_summary(self)
        if style != "attachpath":
            from .errors import OptionError
            raise OptionError(f"summary style must be 'attachpath' or 'lavaan', not {style!r}.")
        f = self.fit
        d = self.data_info
        lines = []
        miss = d.get("missing")
        lines.append(f"attachpath {self.provenance.get('versions', {}).get('attachpath', '')}: "
                     f"ML estimation{' (FIML: full-information ML with missing values)' if miss else ''}"
                     f", {len(self.partable.observed)} observed variables")
        if d.get("levels"):
            lines.append(f"  Two levels: level 1 [{d['levels']['within']}] rows within "
                         f"{d['cluster']['name']}s, level 2 [{d['levels']['between']}] "
                         f"{d['cluster']['name']}s")
        if miss:
            dropped = [f"{miss['rows_with_missing']} with missing values kept"]
            if miss.get("dropped_missing_covariate"):
                dropped.append(f"{miss['dropped_missing_covariate']} with a missing covariate "
                               f"dropped")
            empty = d.get("dropped_rows", 0) - miss.get("dropped_missing_covariate", 0)
            if empty:
                dropped.append(f"{empty} with no observed value dropped")
            lines.append(f"  Observations used: {d['n']} (FIML{', ' + miss['method'] if miss['method'] != 'fiml' else ''}: "
                         f"{'; '.join(dropped)})")
        else:
            lines.append(f"  Observations used: {d['n']}" +
                         (f" ({d['dropped_rows']} rows with missing values dropped, listwise)"
                          if d.get("dropped_rows") else ""))
        for key in ("cluster", "therapist"):
            if d.get(key):
                c = d[key]
                lines.append(f"  Clusters ({c['name']}): {c['n']} (sizes {c['min']}-{c['max']}, "
                             f"mean {c['mean']:.1f})")
        labels = {v: t for v, t in (d.get("labels") or {}).items() if v in self.partable.variables and t}
        if labels:
            lines.append("  Variable labels (from the data): "
                         + "; ".join(f"{v} = {t}" for v, t in labels.items()))
        est = self.provenance.get("options", {}).get("estimation", {})
        if est:
            how = ("closed form (per-equation least squares, recursive path model)"
                   if est["method"] == "closed-form" else
                   f"two-level ML, Fisher scoring, {est['iterations']} iterations"
                   if est["method"] == "twolevel" else
                   f"FIML, Newton/Fisher scoring from the EM moments, {est['iterations']} "
                   f"iterations" if est["method"] == "fiml" else
                   f"two-level FIML (full-information ML), Newton/Fisher scoring, "
                   f"{est['iterations']} iterations"
                   if est["method"] == "twolevel.fiml" else
                   f"Fisher scoring from moment-based starts, {est['iterations']} iterations"
                   if est["method"] == "scoring" else
                   f"semopy SLSQP + Fisher scoring, {est['iterations']} iterations")
            lines.append(f"  Estimates: {how}; gradient norm {est['gradient_norm']:.1e}")
        se_text = se_kind(self.se_kind).sentence
        if d.get("therapist") and self.se_kind.startswith("bootstrap"):
            se_text = (f"bootstrap over {d['therapist']['n']} {d['therapist']['name']}s "
                       f"(whole {d['therapist']['name']}s resampled with their "
                       f"{d['cluster']['name']}s and rows)")
        elif d.get("therapist"):
            se_text = (f"corrected for {d['therapist']['n']} {d['therapist']['name']}s "
                       f"(the {d['cluster']['name']}s' scores summed within "
                       f"{d['therapist']['name']}s, as Mplus' TYPE = COMPLEX TWOLEVEL)")
            if self.se_kind == "robust.cluster.cr2":
                se_text += ", with the bias-reduced CR2 meat instead of G/(G−1)"
        lines.append(f"  Standard errors: {se_text}")
        lines.append(f"  Confidence intervals: {self.ci.get('description', '')}")
        lines.append("")
        lines.append("Model test and fit")
        lines.append(f"  chisq = {f['chisq']:.3f}, df = {f['df']}, p {_p_eq(f['pvalue'])}" +
                     (f"; scaled chisq = {_num(f['chisq.scaled'])} (scaling factor "
                      f"{_num(f['chisq.scaling.factor'])}), p {_p_eq(f['pvalue.scaled'])}"
                      if "chisq.scaled" in f else ""))
        lines.append(f"  CFI = {f['cfi']:.3f}  TLI = {f['tli']:.3f}  RMSEA = {f['rmsea']:.3f} "
                     f"[{f['rmsea.ci.lower']:.3f}, {f['rmsea.ci.upper']:.3f}]  SRMR = {f['srmr']:.3f}"
                     + (f" (within {f['srmr_within']:.3f}, between {f['srmr_between']:.3f})"
                        if "srmr_within" in f else ""))
        if "cfi.robust" in f:
            lines.append(f"  robust: CFI = {_num(f['cfi.robust'])}  TLI = {_num(f['tli.robust'])}  "
                         f"RMSEA = {_num(f['rmsea.robust'])}")
        lines.append(f"  logL = {f['logl']:.3f}  AIC = {f['aic']:.3f}  BIC = {f['bic']:.3f}  "
                     f"npar = {f['npar']}")
        lines.append("")
        if self.partable.multilevel:
            cluster = (d.get("cluster") or {}).get("name", "cluster")
            e = self.table
            for b, level in enumerate(self.partable.levels, start=1):
                # lavaan's headers: "Level 1 [within]:", "Level 2 [client]:"
                lines.append(f"Level {b} [{'within' if b == 1 else cluster}]:")
                lines.append(_table_text(e.where(e["block"] == b)))
                lines.append("")
            if (e["op"] == ":=").any():
                lines.append(_table_text(e.where(e["op"] == ":=")))
        else:
            lines.append(_table_text(self.table))
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
        if d.get("icc_therapist"):
            lines.append("")
            lines.append(f"Intraclass correlations of {d['cluster']['name']} means by "
                         f"{d['therapist']['name']} (ICC(1), design effect)")
            for v, (icc, deff) in d["icc_therapist"].items():
                lines.append(f"  {v:<20} {icc:7.3f} {deff:7.3f}")
        if miss and "patterns" in miss:
            from .data.missingness import summary_lines
            lines.append("")
            lines += summary_lines(miss, self.partable.observed)
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


def _p_eq(p) -> str:
    """'= .032' or '< .001' (after a 'p')."""
    s = p_value(p)
    return s if s[0] in "<>" else f"= {s}"


def _num(x) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.3f}"


OP_TITLES = {"=~": "Latent variables", "~": "Regressions", "~~": "Variances and covariances",
             "~1": "Intercepts", ":=": "Defined parameters"}


def _row_name(r: dict, op: str) -> str:
    if op == ":=":
        return f"{r['lhs']} := {r['rhs']}"
    name = r["lhs"] if op == "~1" else f"{r['lhs']} {op} {r['rhs']}"
    return name + (f" ({r['label']})" if r["label"] else "")


def _table_text(est: Table) -> str:
    records = est.records()
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
    return f"{p_value(p, missing=''):>8}"
