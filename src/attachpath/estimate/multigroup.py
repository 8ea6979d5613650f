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

`attachpath.fit(..., group=)` and `attachpath fit --group` come here
(fitting.fit_multigroup) and return a GroupFit, not a Result.  What is not
here yet (issue 16, item 3): lavaan's c() modifiers, the scaled test of MLR,
cluster-robust SEs, FIML, standardized values, diagrams with a panel per
group, reports and compare().
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import DataError, EstimationError, ModelError, OptionError, closest
from ..partable import ParTable, build, moment_counts
from . import engine, fitmeasures, ml
from .distributions import norm_ppf, norm_sf
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


def group_tables(statements, n_groups: int, group_equal=(), text: str = "",
                 meanstructure: bool = True, group_partial=()) -> tuple[ParTable, tuple[ParTable, ...]]:
    """(the one-group table, one table per group with their free parameters
    numbered into one θ); the groups' model rows are the one-group table's,
    in its order."""
    bad = [g for g in group_equal if g not in GROUP_EQUAL]
    if bad:
        raise ModelError(f"group_equal takes {', '.join(GROUP_EQUAL)}; not "
                         f"{', '.join(map(repr, bad))}.")
    partial = {p.replace(" ", "") for p in group_partial}
    statements = list(statements)
    if any(s.op in ("<", ">") or s.level for s in statements):
        raise OptionError("Two-level specs ('level:' blocks) and inequality constraints "
                          "are not available with --group (group=) yet.")
    defined = next((s for s in statements if s.op == ":="), None)
    if defined is not None:
        # one value per group (or across groups) is a choice not made yet;
        # dropping them silently would lose the effects the user asked for
        raise OptionError(f"Defined parameters (':=', as '{defined.lhs} := ...') are not "
                          f"available with --group (group=) yet.")
    base = build(statements, meanstructure=meanstructure, text=text)
    equal = set(group_equal)
    tables = []
    shared: dict[tuple, int] = {}     # (lhs, op, rhs) or label -> global number
    k = 0
    for g in range(n_groups):
        rows = []
        local: dict[int, int] = {}    # this group's free number -> global
        for r in base.rows:
            if r.op == ":=":
                continue
            free_latent_mean = (g > 0 and "intercepts" in equal and "means" not in equal
                                and r.op == "~1" and r.lhs in base.latent and not r.user)
            if not r.free and not free_latent_mean:
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
        tables.append(replace(base, rows=tuple(rows), meanstructure=meanstructure))
    return base, tuple(replace(t, n_free=k) for t in tables)


class MultiGroupML:
    """ML over groups: Σ_g (n_g/N) F_g, with each group's CompleteML."""

    kind = "ml.multigroup"
    default_information = "expected"

    def __init__(self, base, tables, moments):
        self.base = base
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

    def estimate(self, start=None) -> engine.Solution:
        """Each group fitted on its own (its parameters numbered locally), the
        shared parameters started at the n-weighted mean of the groups'
        estimates, then Fisher scoring on the joint discrepancy."""
        if start is None:
            # the one-group model fitted to each group (latent means freed by
            # equal intercepts start at 0)
            total = np.zeros(self.npar)
            weight = np.zeros(self.npar)
            for w, t, lik in zip(self.weights, self.tables, self.groups):
                own = engine.estimate(self.base, lik.mom).theta
                for r, b in zip(t.rows, self.base.rows):
                    if r.free and b.free:
                        total[r.free - 1] += w * own[b.free - 1]
                        weight[r.free - 1] += w
            start = total / np.where(weight > 0, weight, 1.0)
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

    def summary(self) -> str:
        """The fit as text: the groups and their sizes, overall and per-group
        chisq, the fit measures and the estimates of each group."""
        f = self.fit
        se = ("standard (expected information)" if self.se_kind == "standard" else
              "robust (MLR sandwich; the chi-square is not scaled yet)")
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
        return "\n".join(lines)


def fit_groups(spec, data: pd.DataFrame, group: str, group_equal=(), group_partial=(),
               se: str = "standard", level: float = 0.95) -> GroupFit:
    """Fit a lavaan-syntax model to every group of `data[group]` (groups in
    order of first appearance, as lavaan).  group_partial: rows ("visual=~x2",
    "x7~1") left free across groups despite group_equal, as lavaan's
    group.partial.  se: "standard" (expected information) or "robust"
    (lavaan's MLR sandwich: observed information, the groups' casewise
    scores); the scaled test of MLR is not computed yet."""
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
    base, tables = group_tables(statements, len(labels), group_equal, text=text,
                                group_partial=group_partial)
    names = {_row_name(r) for r in base.rows}
    unknown = [p for p in group_partial if p.replace(" ", "") not in names]
    if unknown:
        raise ModelError(f"group_partial names '{unknown[0]}', which is not a row of the "
                         f"model (write it as lavaan does: 'visual=~x2', 'x7~1').")
    observed = list(tables[0].observed)
    missing = [v for v in observed if v not in data.columns]
    if missing:
        raise DataError(f"'{missing[0]}' is not a column of the data.", column=missing[0])
    moments = []
    for g in labels:
        X = data.loc[data[group] == g, observed].dropna().to_numpy(dtype=float)
        if X.shape[0] <= len(observed):
            raise DataError(f"Group '{g}' of '{group}' has only {X.shape[0]} complete "
                            f"cases for {len(observed)} variables; ML needs more cases "
                            f"than variables in every group.", column=group)
        moments.append(ml.Moments.from_array(X))
    lik = MultiGroupML(base, tables, moments)
    sol = lik.estimate()
    if se == "robust":
        from .vcov import robust
        V = robust(lik, sol.theta)[0]
    else:
        V = np.linalg.inv(lik.n * lik.expected_information(sol.theta))
    se_free = np.sqrt(np.where(np.diag(V) >= 0, np.diag(V), np.nan))
    rows = []
    for gi, (t, glik) in enumerate(zip(tables, lik.groups), start=1):
        for r, v in zip(t.rows, glik.values):
            if r.op not in ("~", "=~", "~~", "~1"):
                continue
            est = sol.theta[r.free - 1] if r.free else v
            rows.append((r.lhs, r.op, r.rhs, gi, r.label, est,
                         se_free[r.free - 1] if r.free else 0.0))
    est = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "label", "est", "se"])
    with np.errstate(divide="ignore", invalid="ignore"):
        est["z"] = np.where(est["se"] > 0, est["est"] / est["se"], np.nan)
    est["pvalue"] = [2 * norm_sf(abs(z)) if np.isfinite(z) else np.nan for z in est["z"]]
    half = norm_ppf(0.5 + level / 2) * est["se"]
    est["ci.lower"], est["ci.upper"] = est["est"] - half, est["est"] + half
    return GroupFit(est, fit_measures(lik, sol.theta), labels,
                    tuple(m.n for m in moments), sol.theta, V, lik, group=group,
                    group_equal=tuple(group_equal), group_partial=tuple(group_partial),
                    se_kind=se, level=level,
                    dropped_rows=len(data) - sum(m.n for m in moments))


def lrt(restricted: GroupFit, general: GroupFit) -> dict:
    """The likelihood-ratio test of a more restricted multiple-group model
    (e.g. equal loadings and intercepts) against a more general one (free
    groups), as lavaan's lavTestLRT for ML: Δchisq on Δdf."""
    d_chisq = restricted.fit["chisq"] - general.fit["chisq"]
    d_df = restricted.fit["df"] - general.fit["df"]
    if d_df <= 0:
        raise ModelError("The first model must be the more restricted one (more df).")
    return {"chisq_diff": d_chisq, "df_diff": d_df,
            "pvalue": fitmeasures.chi2_sf(max(d_chisq, 0.0), d_df)}


def _names(value) -> tuple[str, ...]:
    """A list of names, or one comma-separated string of them (as on the
    command line: 'loadings,intercepts')."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip() for v in value if v and v.strip())


def fit_multigroup(spec, data, *, group, group_equal=(), group_partial=(),
                   se: str = "standard", level: float = 0.95, refused=()) -> GroupFit:
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
    from ..fitting import _load_data
    frame, _ = _load_data(data)
    if group not in frame.columns:
        near = closest(group, frame.columns)
        raise DataError(f"The group column '{group}' is not in the data"
                        + (f"; did you mean '{near}'?" if near else "."), column=group)
    return fit_groups(spec, frame, group, equal, partial, se=se, level=level)
