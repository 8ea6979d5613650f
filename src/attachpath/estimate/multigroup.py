"""Multiple-group models: one likelihood on the seam composed of the groups'
complete-data likelihoods (lavaan's multiple-group ML).

Each group has its own single-level parameter table, built by lavaan's
sem()/cfa() defaults from the same statements; the free parameters of all
groups are numbered into one θ, so a parameter shared between groups (a
label written in the spec, or a class of rows made equal by group_equal)
has one number.  With θ, lavaan's multiple-group discrepancy is the
n_g/N-weighted sum of the groups' F_ML, chisq is N·F, the information is the
weighted sum of the groups' information, and each case's score is its
group's casewise score (so the MLR meat needs nothing new).

`group_equal` takes lavaan's classes "loadings" (=~), "intercepts" (~1 of
observed variables), "regressions" (~), "residuals" (variances of observed
variables), "residual.covariances", "lv.variances", "lv.covariances" and
"means" (~1 of latent variables).  As in lavaan, equal intercepts free the
latent means of every group but the first (lav_partable_flat, int.lv.free).

`group_partial` leaves named rows free across groups (lavaan's
group.partial); `se="robust"` gives lavaan's MLR sandwich; `lrt` is
lavTestLRT's test of a restricted against a general multiple-group model.

lavaan's c() modifiers give each group its own label, fixed value or start
(syntax/terms.py reads them, Statement.in_group takes them apart, each
group's table is built from its own statements); := rows are functions of
the one θ, so labels of different groups can be compared.  se="robust" is
lavaan's MLR (sandwich and Yuan-Bentler scaled test); with a cluster column
the scores are summed within the clusters of each group.

`attachpath.fit(..., group=)` and `attachpath fit --group` come here
(fitting.fit_multigroup) and return a GroupFit, not a Result.  What is not
here yet (issue 16, item 3): FIML, bootstrap, two-level specs (diagrams
with a panel per group: diagram/groups.py; the report: report/groups.py).
compare_groups (`attachpath compare --group`)
fits specs with free and equal groups and tests the nested pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..effects import Defined, standardized_rows
from ..errors import DataError, EstimationError, ModelError, OptionError, SpecError, closest
from ..partable import ParTable, build, moment_counts
from ..syntax.expression import Expression
from . import engine, fitmeasures, ml
from .distributions import norm_ppf, norm_sf
from .clusters import Clusters
from .likelihood import CompleteML
from .scoring import fisher_scoring

GROUP_EQUAL = ("loadings", "intercepts", "regressions", "residuals",
               "residual.covariances", "lv.variances", "lv.covariances", "means")
GRAD_TOL = 1e-6


def _class_of(r, pt: ParTable) -> str | None:
    """lavaan's group.equal class of a parameter row."""
    lat = set(pt.latent)
    if r.op == "=~":
        return "loadings"
    if r.op == "~":
        return "regressions"
    if r.op == "~1":
        return "means" if r.lhs in lat else "intercepts"
    if r.op == "~~":
        if r.lhs in lat and r.rhs in lat:
            return "lv.variances" if r.lhs == r.rhs else "lv.covariances"
        return "residuals" if r.lhs == r.rhs else "residual.covariances"
    return None


def _row_name(r) -> str:
    return f"{r.lhs}{r.op}{r.rhs}" if r.op != "~1" else f"{r.lhs}~1"


def _check_group_counts(statements, n_groups: int, file=None) -> None:
    """Every c() modifier gives one value per group (lavaan's 'wrong number
    of arguments in modifier')."""
    for s in statements:
        if s.per_group and s.group_count != n_groups:
            raise SpecError(f"The c(...) modifier of '{s.lhs} {s.op} {s.rhs}' gives "
                            f"{s.group_count} values, but the data have {n_groups} "
                            f"groups; give one value per group.", file=file, line=s.line,
                            col=s.col, source_line=s.source)


def _group_labels(statements) -> set:
    """Labels that differ between groups (from c() modifiers)."""
    return {lab for s in statements for lab in (s.group_label or ()) if lab}


def group_tables(statements, n_groups: int, group_equal=(), text: str = "",
                 meanstructure: bool = True, group_partial=(),
                 file: str | None = None) -> tuple[tuple[ParTable, ...], tuple[ParTable, ...]]:
    """(each group's own single-group table, one table per group with their
    free parameters numbered into one θ).  Each group's table is built from the
    statements as they hold in it (lavaan's c() modifiers: Statement.in_group);
    the groups' model rows are the same, in the same order."""
    bad = [g for g in group_equal if g not in GROUP_EQUAL]
    if bad:
        raise ModelError(f"group_equal takes {', '.join(GROUP_EQUAL)}; not "
                         f"{', '.join(map(repr, bad))}.")
    partial = {p.replace(" ", "") for p in group_partial}
    statements = list(statements)
    if any(s.op in ("<", ">") or s.level for s in statements):
        raise OptionError("Two-level specs ('level:' blocks) and inequality constraints "
                          "are not available with --group (group=) yet.")
    _check_group_counts(statements, n_groups, file)
    varying = _group_labels(statements)
    for s in statements:
        if s.op == "==" and set(Expression(s.lhs).names + Expression(s.rhs).names) & varying:
            # a group's own table would not know the other groups' labels
            raise OptionError(f"The constraint '{s.lhs} == {s.rhs}' (line {s.line}) ties "
                              f"labels of different groups; give the parameters one "
                              f"label instead, as in c(a, a)*x.")
    # := rows are made over all groups (defined_parameters), not per group
    model = [s for s in statements if s.op != ":="]
    bases = tuple(build([s.in_group(g) for s in model], meanstructure=meanstructure,
                        text=text, file=file) for g in range(n_groups))
    base = bases[0]
    rows_of = [[(r.lhs, r.op, r.rhs) for r in b.rows] for b in bases]
    if any(r != rows_of[0] for r in rows_of[1:]):
        raise ModelError("The c(...) modifiers make the groups' models differ in their "
                         "parameters (e.g. a marker loading fixed in one group only); "
                         "give every group the same parameters.")
    equal = set(group_equal)
    tables = []
    shared: dict[tuple, int] = {}     # (lhs, op, rhs) or label -> global number
    fixed_labels: dict[str, int] = {}  # labels of fixed rows -> group (1-based)
    k = 0
    for g, own in enumerate(bases):
        rows = []
        local: dict[int, int] = {}    # this group's free number -> global
        for r in own.rows:
            free_latent_mean = (g > 0 and "intercepts" in equal and "means" not in equal
                                and r.op == "~1" and r.lhs in base.latent and not r.user)
            if not r.free and not free_latent_mean:
                if r.label:
                    fixed_labels.setdefault(r.label, g + 1)
                rows.append(r)
                continue
            if free_latent_mean:
                r = replace(r, free=-1, value=float("nan"))
            key = None
            if r.label:
                key = ("label", r.label)          # a label holds in every group
            elif _class_of(r, base) in equal and _row_name(r) not in partial:
                key = (r.lhs, r.op, r.rhs)
            if r.free > 0 and r.free in local:
                num = local[r.free]               # labels shared within the group
            elif key is not None and key in shared:
                num = shared[key]
            else:
                k += 1
                num = k
                if key is not None:
                    shared[key] = num
            if r.free > 0:
                local[r.free] = num
            rows.append(replace(r, free=num))
        tables.append(replace(own, rows=tuple(rows), meanstructure=meanstructure))
    both = sorted(lab for lab in fixed_labels if ("label", lab) in shared)
    if both:
        raise ModelError(f"The label '{both[0]}' is fixed in group {fixed_labels[both[0]]} "
                         f"but free in another; a label shared by groups is one "
                         f"parameter, so fix it in every group or give the groups "
                         f"different labels.")
    return bases, tuple(replace(t, n_free=k) for t in tables)


def defined_parameters(statements, tables) -> Defined:
    """The := parameters of a multiple-group model as one function of θ:
    labels name parameters of any group (c(a1, a2)*x), so
    'diff := a1*b1 - a2*b2' compares an indirect effect between groups."""
    rows = [s for s in statements if s.op == ":="]
    index: dict[str, int] = {}
    fixed: dict[str, float] = {}
    for t in tables:
        index.update(t.label_index)
        fixed.update(t.label_fixed)
    return Defined(tuple(s.lhs for s in rows), tuple(Expression(s.rhs) for s in rows),
                   index, fixed)


class MultiGroupML:
    """ML over groups: Σ_g (n_g/N) F_g, with each group's CompleteML."""

    kind = "ml.multigroup"
    default_information = "expected"

    def __init__(self, bases, tables, moments):
        self.bases = tuple(bases)     # each group's own table (for start values)
        self.groups = [CompleteML(t, m) for t, m in zip(tables, moments)]
        self.tables = tuple(tables)
        self.n = sum(m.n for m in moments)
        self.weights = np.array([m.n / self.n for m in moments])
        self.npar = tables[0].npar

    def _sum(self, f, theta):
        return sum(w * f(lik, theta) for w, lik in zip(self.weights, self.groups))

    def discrepancy(self, theta):
        return self._sum(lambda lik, t: lik.discrepancy(t), theta)

    def gradient(self, theta):
        return self._sum(lambda lik, t: lik.gradient(t), theta)

    def expected_information(self, theta):
        return self._sum(lambda lik, t: lik.expected_information(t), theta)

    def observed_information(self, theta):
        return self._sum(lambda lik, t: lik.observed_information(t), theta)

    def scores(self, theta):
        """Casewise scores, the groups' cases one after the other."""
        return np.vstack([lik.scores(theta) for lik in self.groups])

    def meat(self, theta, clusters=None):
        """First-order unit information Σ_g (n_g/N) B_g, each group's B_g its
        casewise scores' (with clusters: each group's cluster sums, times
        G_g/(G_g−1), as lavaan's cluster= takes clusters within groups)."""
        from .vcov import meat
        return sum(w * meat(lik.scores(theta), lik.n, c) for w, lik, c in
                   zip(self.weights, self.groups, clusters or [None] * len(self.groups)))

    def h1_trace(self, clusters=None) -> float:
        """tr(A₁⁻¹B₁) of the saturated model: the sum over groups (each
        group's saturated model has its own parameters)."""
        return sum(lik.h1_trace(c) for lik, c in
                   zip(self.groups, clusters or [None] * len(self.groups)))

    def baseline_trace(self, clusters=None) -> float:
        return sum(lik.baseline_trace(c) for lik, c in
                   zip(self.groups, clusters or [None] * len(self.groups)))

    def estimate(self, start=None) -> engine.Solution:
        """Each group fitted on its own (its parameters numbered locally), the
        shared parameters started at the n-weighted mean of the groups'
        estimates (or at the user's start(c(...)) values), then Fisher scoring
        on the joint discrepancy."""
        if start is None:
            # each group's own model fitted to it (latent means freed by
            # equal intercepts start at 0)
            total = np.zeros(self.npar)
            weight = np.zeros(self.npar)
            user = np.full(self.npar, np.nan)
            for w, t, own_pt, lik in zip(self.weights, self.tables, self.bases, self.groups):
                own = engine.estimate(own_pt, lik.mom).theta
                for r, b in zip(t.rows, own_pt.rows):
                    if r.free and b.free:
                        total[r.free - 1] += w * own[b.free - 1]
                        weight[r.free - 1] += w
                    if r.free and np.isfinite(r.start) and r.user:
                        user[r.free - 1] = r.start
            start = total / np.where(weight > 0, weight, 1.0)
            start = np.where(np.isfinite(user), user, start)
        theta, it, gnorm = fisher_scoring(self, start, max_iter=200)
        f = self.discrepancy(theta)
        if not np.isfinite(f) or gnorm > GRAD_TOL:
            raise EstimationError(
                f"The multiple-group estimation did not converge: after {it} scoring "
                f"iterations the gradient norm is {gnorm:.2e}. Check that the model "
                f"is identified in every group.", iterations=it, gradient_norm=gnorm)
        return engine.Solution(theta, None, it, gnorm, f, "multigroup")

    def fit_statistics(self, theta) -> dict:
        """Sums over groups (chisq, log-likelihoods, baseline) and each
        group's chisq; SRMR as lavaan's: the n-weighted mean of the groups'."""
        stats = [lik.fit_statistics(theta) for lik in self.groups]
        out = {k: sum(s[k] for s in stats) for k in
               ("chisq", "logl", "unrestricted.logl", "baseline.chisq", "baseline.df")}
        out["chisq.group"] = [s["chisq"] for s in stats]
        out["srmr"] = float(np.dot(self.weights, [s["srmr"] for s in stats]))
        out["fmin"] = out["chisq"] / (2 * self.n)
        return out


def fit_measures(lik: MultiGroupML, theta) -> dict:
    """lavaan's fitMeasures of a multiple-group fit (ML, standard test):
    df from the groups' moments, RMSEA with lavaan's √G factor."""
    stats = lik.fit_statistics(theta)
    data = sum(d - f for d, f in (moment_counts(t) for t in lik.tables))
    df = data - lik.npar
    chisq, logl, n, npar = stats["chisq"], stats["logl"], lik.n, lik.npar
    b_chisq, b_df = stats["baseline.chisq"], stats["baseline.df"]
    g = len(lik.groups)
    return {
        "npar": npar, "chisq": chisq, "df": df,
        "pvalue": fitmeasures.chi2_sf(chisq, df),
        "baseline.chisq": b_chisq, "baseline.df": b_df,
        "cfi": fitmeasures.cfi(chisq, df, b_chisq, b_df),
        "tli": fitmeasures.tli(chisq, df, b_chisq, b_df),
        "logl": logl, "unrestricted.logl": stats["unrestricted.logl"],
        "aic": -2 * logl + 2 * npar, "bic": -2 * logl + npar * math.log(n),
        "rmsea": fitmeasures.rmsea(chisq, df, n) * math.sqrt(g),
        "srmr": stats["srmr"], "ntotal": n, "chisq.group": stats["chisq.group"],
    }


@dataclass(frozen=True)
class GroupFit:
    """A multiple-group fit: lavaan's parameterEstimates with its group
    column, fitMeasures, the groups' labels and sizes."""

    estimates: pd.DataFrame
    fit: dict
    groups: tuple
    nobs: tuple
    theta: np.ndarray
    vcov: np.ndarray
    likelihood: MultiGroupML
    group: str = ""
    group_equal: tuple = ()
    group_partial: tuple = ()
    se_kind: str = "standard"
    level: float = 0.95
    dropped_rows: int = 0
    cluster: str = ""
    nclusters: tuple = ()     # clusters of `cluster` in each group

    def summary(self) -> str:
        """The fit as text: the groups and their sizes, overall and per-group
        chisq, the fit measures and the estimates of each group."""
        f = self.fit
        se = ("standard (expected information)" if self.se_kind == "standard" else
              "robust (MLR sandwich)" + (f", clusters of '{self.cluster}' within groups"
                                         if self.cluster else ""))
        lines = [f"attachpath: multiple-group ML estimation, {len(self.groups)} groups "
                 f"of '{self.group}', N = {f['ntotal']}",
                 "  " + ", ".join(f"{g}: {n}" for g, n in zip(self.groups, self.nobs)),
                 f"  Equal across groups: {', '.join(self.group_equal) or 'none'}"
                 + (f" (free: {', '.join(self.group_partial)})" if self.group_partial else ""),
                 f"  Standard errors: {se}"]
        if self.dropped_rows:
            lines.append(f"  Rows dropped (a missing value or no group): {self.dropped_rows}")
        lines += ["",
                  f"Chi-square {f['chisq']:.3f}, df {f['df']}, p {f['pvalue']:.4f}"]
        for g, c in zip(self.groups, f["chisq.group"]):
            lines.append(f"  {g}: {c:.3f}")
        if "chisq.scaled" in f:
            lines.append(f"Scaled chi-square (Yuan-Bentler) {f['chisq.scaled']:.3f}, df "
                         f"{f['df']}, p {f['pvalue.scaled']:.4f}, scaling factor "
                         f"{f['chisq.scaling.factor']:.3f}")
            lines.append(f"Robust CFI {f['cfi.robust']:.3f}  TLI {f['tli.robust']:.3f}  "
                         f"RMSEA {f['rmsea.robust']:.3f}")
        lines.append(f"CFI {f['cfi']:.3f}  TLI {f['tli']:.3f}  RMSEA {f['rmsea']:.3f}  "
                     f"SRMR {f['srmr']:.3f}")
        lines.append(f"logL {f['logl']:.3f}  AIC {f['aic']:.3f}  BIC {f['bic']:.3f}  "
                     f"parameters {f['npar']}")
        pct = f"{100 * self.level:g}%"
        for gi, g in enumerate(self.groups, start=1):
            part = self.estimates[self.estimates["group"] == gi].drop(columns="group")
            part = part.rename(columns={"ci.lower": f"{pct} lower", "ci.upper": f"{pct} upper"})
            lines += ["", f"Group {gi} [{g}] (n = {self.nobs[gi - 1]})",
                      part.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.3f}")]
        defined = self.estimates[self.estimates["op"] == ":="].drop(columns="group")
        if len(defined):
            defined = defined.rename(columns={"ci.lower": f"{pct} lower",
                                              "ci.upper": f"{pct} upper"})
            lines += ["", "Defined parameters (labels of any group; delta-method SEs)",
                      defined.to_string(index=False, na_rep="",
                                        float_format=lambda v: f"{v:.3f}")]
        for note in self.fit.get("notes", []):
            lines += ["", f"Note: {note}"]
        return "\n".join(lines)


def fit_groups(spec, data: pd.DataFrame, group: str, group_equal=(), group_partial=(),
               se: str = "standard", level: float = 0.95, cluster: str | None = None) -> GroupFit:
    """Fit a lavaan-syntax model to every group of `data[group]` (groups in
    order of first appearance, as lavaan).  group_partial: rows ("visual=~x2",
    "x7~1") left free across groups despite group_equal, as lavaan's
    group.partial.  se: "standard" (expected information) or "robust"
    (lavaan's MLR: the sandwich of the observed information and the groups'
    casewise scores, and the Yuan-Bentler scaled test).  cluster: a column
    of cluster ids (e.g. "therapist"); with se="robust" the scores are
    summed within clusters of each group (lavaan's group= with cluster=:
    a therapist seeing clients of both groups is a cluster in each)."""
    if se not in ("standard", "robust"):
        raise DataError(f"se must be 'standard' or 'robust' for a multiple-group model, "
                        f"not {se!r}.")
    from ..spec import read_spec
    from ..syntax.parser import parse
    if group not in data.columns:
        raise DataError(f"The group column '{group}' is not in the data.", column=group)
    text, file = read_spec(spec)
    statements = parse(text, file=file)
    labels = tuple(pd.unique(data[group].dropna()))
    if len(labels) < 2:
        raise DataError(f"The group column '{group}' has {len(labels)} group(s); a "
                        f"multiple-group model needs at least two.", column=group)
    bases, tables = group_tables(statements, len(labels), group_equal, text=text,
                                 group_partial=group_partial, file=file)
    names = {_row_name(r) for r in bases[0].rows}
    unknown = [p for p in group_partial if p.replace(" ", "") not in names]
    if unknown:
        raise ModelError(f"group_partial names '{unknown[0]}', which is not a row of the "
                         f"model (write it as lavaan does: 'visual=~x2', 'x7~1').")
    observed = list(tables[0].observed)
    missing = [v for v in observed + ([cluster] if cluster else []) if v not in data.columns]
    if missing:
        raise DataError(f"'{missing[0]}' is not a column of the data.", column=missing[0])
    moments, clusters = [], []
    for g in labels:
        rows_g = data.loc[data[group] == g, observed + ([cluster] if cluster else [])].dropna()
        X = rows_g[observed].to_numpy(dtype=float)
        if cluster:
            clusters.append(Clusters.from_ids(cluster, rows_g[cluster].to_numpy()))
            if clusters[-1].n < 2:
                raise DataError(f"Group '{g}' of '{group}' has {clusters[-1].n} cluster of "
                                f"'{cluster}'; cluster-robust standard errors need at "
                                f"least two in every group.", column=cluster)
        if X.shape[0] <= len(observed):
            raise DataError(f"Group '{g}' of '{group}' has only {X.shape[0]} complete "
                            f"cases for {len(observed)} variables; ML needs more cases "
                            f"than variables in every group.", column=group)
        moments.append(ml.Moments.from_array(X))
    lik = MultiGroupML(bases, tables, moments)
    sol = lik.estimate()
    fit = fit_measures(lik, sol.theta)
    clusters = clusters or None
    if se == "robust":
        from .robust_test import scaled_fit
        from .vcov import invert
        A = lik.observed_information(sol.theta)
        B = lik.meat(sol.theta, clusters)
        A_inv = invert(A)
        V = A_inv @ B @ A_inv / lik.n
        scaled = scaled_fit(lik, sol.theta, clusters, fit, A, B)
        notes = scaled.pop("notes", [])
        for k in ("rmsea.scaled", "rmsea.robust", "rmsea.ci.lower.robust",
                  "rmsea.ci.upper.robust"):
            if k in scaled:       # lavaan's √G of multiple groups, as for rmsea
                scaled[k] *= math.sqrt(len(labels))
        fit.update(scaled, notes=notes)
    else:
        V = np.linalg.inv(lik.n * lik.expected_information(sol.theta))
    se_free = np.sqrt(np.where(np.diag(V) >= 0, np.diag(V), np.nan))
    rows = []
    std_of_label: dict[str, float] = {}      # a label's std.all in its first group
    for gi, (t, glik) in enumerate(zip(tables, lik.groups), start=1):
        std = standardized_rows(t, sol.theta, glik.values)   # each group's own scale
        for r, v, sd in zip(t.rows, glik.values, std):
            if r.op not in ("~", "=~", "~~", "~1"):
                continue
            est = sol.theta[r.free - 1] if r.free else v
            rows.append((r.lhs, r.op, r.rhs, gi, r.label, est,
                         se_free[r.free - 1] if r.free else 0.0, sd))
            if r.label:
                std_of_label.setdefault(r.label, sd)
    defined = defined_parameters(statements, tables)
    if len(defined):
        # lavaan's := rows: group 0, after every group's rows; delta-method
        # SEs; std.all from the labels' std.all (a label shared by groups:
        # its first group's, as lavaan)
        value, _, dV = defined.delta(sol.theta, V)
        d_se = np.sqrt(np.where(np.diag(dV) >= 0, np.diag(dV), np.nan))
        as_std = replace(defined, label_fixed={lab: std_of_label[lab]
                                               for lab in defined.label_fixed})
        x = np.full(len(sol.theta), np.nan)
        for lab, i in defined.label_index.items():
            x[i] = std_of_label[lab]
        d_std = as_std.evaluate(x)
        for s, v, e, sd in zip((s for s in statements if s.op == ":="), value, d_se, d_std):
            rows.append((s.lhs, ":=", s.rhs, 0, s.lhs, float(v), float(e), float(sd)))
    est = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "label", "est", "se",
                                      "std.all"])
    std_all = est.pop("std.all")
    with np.errstate(divide="ignore", invalid="ignore"):
        est["z"] = np.where(est["se"] > 0, est["est"] / est["se"], np.nan)
    est["pvalue"] = [2 * norm_sf(abs(z)) if np.isfinite(z) else np.nan for z in est["z"]]
    half = norm_ppf(0.5 + level / 2) * est["se"]
    est["ci.lower"], est["ci.upper"] = est["est"] - half, est["est"] + half
    est["std.all"] = std_all
    return GroupFit(est, fit, labels,
                    tuple(m.n for m in moments), sol.theta, V, lik, group=group,
                    group_equal=tuple(group_equal), group_partial=tuple(group_partial),
                    se_kind=se, level=level, cluster=cluster or "",
                    nclusters=tuple(c.n for c in clusters or ()),
                    dropped_rows=len(data) - sum(m.n for m in moments))


def lrt(restricted: GroupFit, general: GroupFit) -> dict:
    """The test of a more restricted multiple-group model (e.g. equal
    loadings and intercepts) against a more general one (free groups), as
    lavaan's lavTestLRT: Δchisq on Δdf for ML; for robust fits (MLR, with or
    without clusters) the Satorra-Bentler (2001) scaled difference
    (Δchisq / c_d, c_d = (df₀c₀ − df₁c₁)/Δdf), no test when c_d ≤ 0."""
    d_chisq = restricted.fit["chisq"] - general.fit["chisq"]
    d_df = restricted.fit["df"] - general.fit["df"]
    if d_df <= 0:
        raise ModelError("The first model must be the more restricted one (more df).")
    out = {"chisq_diff": d_chisq, "df_diff": d_df, "method": "likelihood ratio (ML)"}
    if restricted.se_kind == "robust" and general.se_kind == "robust":
        c0 = restricted.fit["chisq.scaling.factor"]
        c1 = general.fit["chisq.scaling.factor"] if general.fit["df"] > 0 else 1.0
        cd = (restricted.fit["df"] * c0 - general.fit["df"] * c1) / d_df
        out.update(scaling_factor=cd, chisq_diff=d_chisq / cd if cd > 0 else float("nan"),
                   method="Satorra-Bentler 2001 scaled difference"
                   + ("" if cd > 0 else " (not positive: no test)"))
    elif restricted.se_kind != general.se_kind:
        raise ModelError("Both models must have the same kind of standard errors "
                         "(standard or robust) to be tested against each other.")
    c = out["chisq_diff"]
    out["pvalue"] = fitmeasures.chi2_sf(max(c, 0.0), d_df) if np.isfinite(c) else float("nan")
    return out


def nested_in(restricted: GroupFit, general: GroupFit) -> bool:
    """Whether the general model reproduces the restricted one's fitted
    means and covariances in every group exactly (NET, as
    comparison.nested_in for one group): then the restricted model is
    nested in it and the difference test applies."""
    la, lb = restricted.likelihood, general.likelihood
    if (restricted.groups != general.groups or restricted.nobs != general.nobs
            or [set(t.observed) for t in la.tables] != [set(t.observed) for t in lb.tables]):
        return False
    targets = []
    for ga, tb in zip(la.groups, lb.tables):
        sigma, mu, *_ = ga.ram.implied(restricted.theta, ga.values)
        order = [list(ga.pt.observed).index(v) for v in tb.observed]
        targets.append(ml.Moments(ga.mom.X[:, order], np.asarray(mu)[order],
                                  sigma[np.ix_(order, order)], ga.mom.n))
    fit_b = MultiGroupML(lb.bases, lb.tables, targets)
    try:
        theta, _, _ = fisher_scoring(fit_b, general.theta, max_iter=200)
        nf = fit_b.n * fit_b.discrepancy(theta)
    except (np.linalg.LinAlgError, ValueError):
        return False
    return bool(np.isfinite(nf) and nf < 1e-8 * max(1.0, fit_b.n))


@dataclass(frozen=True)
class GroupComparison:
    """Multiple-group models of the same cases compared: one row of fit
    measures per model, difference tests of the nested pairs."""

    results: dict           # name -> GroupFit, in the order fitted
    table: pd.DataFrame
    tests: pd.DataFrame

    def summary(self) -> str:
        lines = ["Multiple-group model comparison",
                 self.table.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
        if len(self.tests):
            lines += ["", "Nested models (model_a restricted, model_b general)",
                      self.tests.to_string(index=False, float_format=lambda v: f"{v:.4f}")]
        else:
            lines += ["", "No pair of models is nested: compare them by AIC and BIC."]
        return "\n".join(lines)


def compare_groups(specs, data, *, group, group_equal=((),), **options) -> GroupComparison:
    """Fit each spec with each group_equal set (() = free groups) and test
    every nested pair: the usual invariance sequence (free, equal loadings,
    equal loadings and intercepts) or a path free vs equal across groups
    (c(a1, a2)*x against c(a, a)*x).  specs: {name: spec}; options: those
    of attachpath.fit (se, cluster, level, ...), the same for every model."""
    from ..fitting import _load_data, fit
    if len(specs) * len(group_equal) < 2:
        raise OptionError("compare needs at least two models: give two specs, or one spec "
                          "and --group-equal (each --group-equal adds a model to the free "
                          "groups).")
    frame, _ = _load_data(data)
    results = {}
    for name, spec in specs.items():
        for equal in group_equal:
            equal = _names(equal)
            key = name + (f" [{','.join(equal)}]" if equal else "")
            results[key] = fit(spec, frame, group=group, group_equal=equal, **options)
    cols = ["npar", "df", "chisq", "pvalue", "chisq.scaled", "chisq.scaling.factor",
            "cfi", "tli", "rmsea", "srmr", "aic", "bic"]
    table = pd.DataFrame([{"model": n, **{k: r.fit.get(k, np.nan) for k in cols}}
                          for n, r in results.items()]).dropna(axis=1, how="all")
    tests = []
    names = list(results)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            r0, r1 = (a, b) if results[a].fit["df"] > results[b].fit["df"] else (b, a)
            if results[r0].fit["df"] == results[r1].fit["df"]:
                continue
            if nested_in(results[r0], results[r1]):
                t = lrt(results[r0], results[r1])
                tests.append({"model_a": r0, "model_b": r1, "df_diff": t["df_diff"],
                              "chisq_diff": t["chisq_diff"], "pvalue": t["pvalue"],
                              "method": t["method"]})
    return GroupComparison(results, table, pd.DataFrame(
        tests, columns=["model_a", "model_b", "df_diff", "chisq_diff", "pvalue", "method"]))


def _names(value) -> tuple[str, ...]:
    """A list of names, or one comma-separated string of them (as on the
    command line: 'loadings,intercepts')."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip() for v in value if v and v.strip())


def fit_multigroup(spec, data, *, group, group_equal=(), group_partial=(),
                   se: str = "standard", level: float = 0.95, refused=(),
                   cluster=None) -> GroupFit:
    """attachpath.fit(..., group=) and `attachpath fit --group`: the checks
    of the options, then fit_groups.  refused: the options given that the
    multiple-group path does not support yet (their CLI and API names)."""
    if refused:
        raise OptionError(f"{refused[0]} is not available with --group (group=) yet.")
    if group is not None and not isinstance(group, str):
        raise OptionError(f"group must be the name of a column of the data, not "
                          f"{type(group).__name__} {group!r}.")
    if not group:
        raise OptionError("group_equal and group_partial (--group-equal, --group-partial) "
                          "need a group column: give group= (--group COL).")
    equal, partial = _names(group_equal), _names(group_partial)
    for g in equal:
        if g not in GROUP_EQUAL:
            raise OptionError(f"--group-equal (group_equal=) takes {', '.join(GROUP_EQUAL)}; "
                              f"not '{g}'.", suggestion=closest(g, GROUP_EQUAL))
    if partial and not equal:
        raise OptionError("--group-partial (group_partial=) frees rows that --group-equal "
                          "(group_equal=) makes equal; give group_equal too.")
    if se not in ("standard", "robust"):
        raise OptionError(f"--se {se} is not available with --group (group=) yet; use "
                          f"standard or robust.")
    if cluster is not None and (not isinstance(cluster, str) or "/" in cluster):
        raise OptionError(f"--cluster (cluster=) with --group takes one column of cluster "
                          f"ids (e.g. therapist), not {cluster!r}.")
    if cluster is not None and se != "robust":
        raise OptionError("--cluster (cluster=) with --group gives cluster-robust standard "
                          "errors; use --se robust (the default with --cluster).")
    from ..fitting import _load_data
    frame, _ = _load_data(data)
    if group not in frame.columns:
        near = closest(group, frame.columns)
        raise DataError(f"The group column '{group}' is not in the data"
                        + (f"; did you mean '{near}'?" if near else "."), column=group)
    if cluster is not None and cluster not in frame.columns:
        near = closest(cluster, frame.columns)
        raise DataError(f"The cluster column '{cluster}' is not in the data"
                        + (f"; did you mean '{near}'?" if near else "."), column=cluster)
    return fit_groups(spec, frame, group, equal, partial, se=se, level=level,
                      cluster=cluster)
