"""APA-style tables of a Result and of a Comparison.

Each builder returns a `document.Table` (rendered to HTML or Markdown by
the report); `estimates_html(res)` and `fit_html(res)` give ready HTML
fragments for `Result._repr_html_` (Jupyter).

Conventions: b = unstandardized estimate, SE, the confidence interval,
β = std.all (lavaan's fully standardized solution), p; p and β without a
leading zero; p < .001; a true minus sign.
"""

from __future__ import annotations

import numpy as np

from . import format as F
from ..se_kinds import KINDS, se_kind
from .document import (Rich, Row, Table, bold, code, esc, italic, join, listed, md_esc,
                       table_html)

ARROW = "\u2192"      # →
BOTH = "\u2194"       # ↔
CHI2 = "\u03c7\u00b2"  # χ²
DELTA = "\u0394"      # Δ
BETA = "\u03b2"       # β

SE_SHORT = {name: kind.sentence for name, kind in KINDS.items()}


_SUP = dict(zip("abcdefghijklmnoprstuvwxyz",
                "\u1d43\u1d47\u1d9c\u1d48\u1d49\u1da0\u1d4d\u02b0\u2071\u02b2\u1d4f\u02e1\u1d50"
                "\u207f\u1d52\u1d56\u02b3\u02e2\u1d57\u1d58\u1d5b\u02b7\u02e3\u02b8\u1dbb"))


def supmark(i: int) -> Rich:
    """Footnote mark number i (0 -> a) as a superscript."""
    letters = "abcdefghijklmnoprstuvwxyz"
    letter = letters[i % len(letters)] * (1 + i // len(letters))
    return Rich(f"<sup>{letter}</sup>", "".join(_SUP[c] for c in letter))


def sym(text: str) -> Rich:
    """An italic statistical symbol (b, SE, p, N, R²...)."""
    return italic(text)


def _chi2() -> Rich:
    return Rich("<em>\u03c7</em>\u00b2", "*\u03c7*\u00b2")


def _r2() -> Rich:
    return Rich("<em>R</em>\u00b2", "*R*\u00b2")


def wrap_name(name: str) -> Rich:
    """A model or variable name that may break after underscores in HTML."""
    return Rich(esc(name).replace("_", "_<wbr>"), md_esc(name))


def ci_header(res_or_level) -> str:
    level = res_or_level if isinstance(res_or_level, float) else res_or_level.ci.get("level", 0.95)
    return f"{F.percent(level)} CI"


def is_robust(res) -> bool:
    return "chisq.scaled" in res.fit and F.finite(res.fit.get("chisq.scaled"))


def se_phrase(res) -> str:
    """'cluster-robust (sandwich ...), 44 therapist clusters' etc."""
    out = SE_SHORT.get(res.se_kind, res.se_kind)
    # sessions in clients in therapists: the SEs are the therapists'
    c = res.data_info.get("therapist") or res.data_info.get("cluster")
    if c and se_kind(res.se_kind).clustered:
        out += f", {c['n']} clusters of '{c['name']}'"
    return out


# -- one model -------------------------------------------------------------------

def fit_table(res, title="Model fit") -> Table:
    f = res.fit
    robust = is_robust(res)
    level = f.get("rmsea.ci.level", 0.90)

    def g(k):
        return f.get(k, float("nan"))

    rows = [
        [_chi2(), F.num(g("chisq"), 2), F.num(g("chisq.scaled"), 2)],
        [sym("df"), F.integer(g("df")), F.integer(g("df.scaled") if "df.scaled" in f else g("df"))],
        [sym("p"), F.p_value(g("pvalue")), F.p_value(g("pvalue.scaled"))],
        ["Scaling correction factor", F.DASH, F.num(g("chisq.scaling.factor"), 3)],
        ["CFI", F.num(g("cfi"), 3, bounded=True), F.num(g("cfi.robust"), 3, bounded=True)],
        ["TLI", F.num(g("tli"), 3, bounded=True), F.num(g("tli.robust"), 3, bounded=True)],
        ["RMSEA", F.num(g("rmsea"), 3, bounded=True), F.num(g("rmsea.robust"), 3, bounded=True)],
        [f"RMSEA {F.percent(level)} CI", F.ci(g("rmsea.ci.lower"), g("rmsea.ci.upper"), 3, bounded=True),
         F.ci(g("rmsea.ci.lower.robust"), g("rmsea.ci.upper.robust"), 3, bounded=True)],
        ["SRMR", F.num(g("srmr"), 3, bounded=True), F.DASH],
        ["AIC", F.num(g("aic"), 2), F.DASH],
        ["BIC", F.num(g("bic"), 2), F.DASH],
        ["Log-likelihood", F.num(g("logl"), 2), F.DASH],
        ["Free parameters", F.integer(g("npar")), F.DASH],
        [sym("N"), F.integer(g("ntotal")), F.DASH],
    ]
    if robust:
        header = ["Index", "Standard (ML)", "Robust (MLR)"]
        note = join([
            "Standard: the ML ", _chi2(), " test and indices. Robust: the Yuan-Bentler "
            "scaled ", _chi2(), " (MLR; ", _chi2(), " divided by the scaling correction "
            "factor) and the robust CFI, TLI and RMSEA (lavaan's ", code("*.robust"),
            " fit measures); standard errors ", se_phrase(res), "."])
    else:
        header = ["Index", "Value"]
        rows = [r[:2] for r in rows if not (isinstance(r[0], str) and r[0].startswith("Scaling"))]
        note = join(["The ML ", _chi2(), " test; standard errors ", se_phrase(res), "."])
    return Table(title=title, header=header, rows=rows, note=note, align="lrr")


def var_labels(res) -> dict:
    """variable -> the data's variable label (SPSS), for the variables of the
    model that have one; empty with labels="names" or data without labels."""
    labels = res.data_info.get("labels") or {}
    return {v: str(labels[v]) for v in res.partable.variables if labels.get(v)}


def param_name(lhs: str, op: str, rhs: str, labels: dict | None = None) -> str:
    if labels:
        lhs, rhs = labels.get(lhs, lhs), labels.get(rhs, rhs)
    if op == "~":
        return f"{rhs} {ARROW} {lhs}"
    if op == "=~":
        return f"{lhs} {ARROW} {rhs}"
    if op == "~~":
        return lhs if lhs == rhs else f"{lhs} {BOTH} {rhs}"
    if op == "~1":
        return lhs
    return f"{lhs} {op} {rhs}"


def _groups(pt):
    endo = set(pt.endogenous)
    return (("=~", None, "Loadings"), ("~", None, "Regressions"),
            ("~~", "cov", "Covariances"), ("~~", "var", "Variances"),
            ("~~", "res", "Residual variances"), ("~1", None, "Intercepts")), endo


def _records(res, defined: bool) -> list[dict]:
    """The estimates rows (dicts of Python values, lavaan's columns) of the
    := parameters or of the model rows, read from res.table (no pandas)."""
    t = res.table
    return t.where((t["op"] == ":=") == defined).records()


def model_records(res) -> list[dict]:
    """The estimates rows of the model (all but :=), in partable order."""
    return _records(res, defined=False)


def defined_records(res) -> list[dict]:
    """The estimates rows of the := parameters, in partable order."""
    return _records(res, defined=True)


def standardized_defined(res) -> dict:
    """:= name -> its row of lavaan's standardizedSolution (est.std, se,
    ci.lower, ci.upper...), from Result.standardized_table (no pandas)."""
    t = res.standardized_table()
    return {r["lhs"]: r for r in t.where(t["op"] == ":=").records()}


def parameter_rows(res) -> list[dict]:
    """Free parameters and user-written fixed paths, in partable order, with
    'group' (Regressions, Residual variances...)."""
    pt = res.partable
    # the estimates hold one row per model row of the table, in its order
    est = model_records(res)
    model = [(k, r) for k, r in enumerate(pt.rows) if r.op in ("~", "=~", "~~", "~1")]
    out = []
    endo = set(pt.endogenous)
    for (k, r), rec in zip(model, est):
        if r.free:
            e = dict(rec)
            e["fixed"] = False
        elif r.user and not r.exo:
            # fixed in the spec: the value, marked, with no uncertainty shown
            e = dict(rec, se=np.nan, z=np.nan, pvalue=np.nan, fixed=True)
            e["ci.lower"] = e["ci.upper"] = np.nan
        else:
            continue
        if e["op"] == "~~":
            if e["lhs"] != e["rhs"]:
                e["group"] = "Covariances" if not ({e["lhs"], e["rhs"]} <= endo) else "Residual covariances"
            else:
                e["group"] = "Residual variances" if e["lhs"] in endo else "Variances"
        else:
            e["group"] = {"=~": "Loadings", "~": "Regressions", "~1": "Intercepts"}[e["op"]]
        if pt.multilevel:
            e["group"] = f"{level_heading(res, r.block)}: {e['group']}"
        out.append(e)
    return out


def level_heading(res, block: int) -> str:
    """'Level 1 (within clients)' / 'Level 2 (between clients)'."""
    cluster = (res.data_info.get("cluster") or {}).get("name", "cluster")
    return f"Level {block} ({'within' if block == 1 else 'between'} {cluster}s)"


def group_order(res) -> list[str]:
    if not res.partable.multilevel:
        return list(GROUP_ORDER)
    return [f"{level_heading(res, b)}: {g}" for b in range(1, len(res.partable.levels) + 1)
            for g in GROUP_ORDER]


GROUP_ORDER = ("Loadings", "Regressions", "Covariances", "Residual covariances", "Variances",
               "Residual variances", "Intercepts")


def estimates_table(res, title="Parameter estimates", decimals: int = 3) -> Table:
    names = var_labels(res)
    rows_by = {}
    for e in parameter_rows(res):
        rows_by.setdefault(e["group"], []).append(e)
    rows = []
    any_fixed = False
    for gname in group_order(res):
        part = rows_by.get(gname)
        if not part:
            continue
        rows.append(Row([gname], group=True))
        for e in part:
            any_fixed |= e["fixed"]
            b = F.num(e["est"], decimals) if not e["fixed"] else join([F.num(e["est"], decimals), supmark(0)])
            rows.append([param_name(e["lhs"], e["op"], e["rhs"], names), e["label"] or "",
                         b, F.num(e["se"], decimals), F.ci(e["ci.lower"], e["ci.upper"], decimals),
                         F.std(e["std.all"], decimals), F.p_value(e["pvalue"])])
    note = [sym("b"), " = unstandardized estimate; ", BETA,
            " = fully standardized estimate (std.all); CI: ", res.ci.get("parameters", ""),
            "; standard errors ", se_phrase(res), ". Paths read predictor ", ARROW, " outcome."]
    if names:
        note += [" Variables are named by the data's variable labels (" +
                 "; ".join(f"{v}: {t}" for v, t in names.items()) + ")."]
    if any_fixed:
        note += [" ", supmark(0), "Fixed in the specification (no standard error)."]
    return Table(title=title, header=["Parameter", "Label", sym("b"), sym("SE"), ci_header(res),
                                      BETA, sym("p")],
                 rows=rows, note=join(note), align="llrrrrr")


def definition_text(rhs: str) -> str:
    return str(rhs).replace("*", " \u00d7 ").replace("+", " + ").replace("  ", " ").strip()


def defined_table(res, title="Defined effects") -> Table | None:
    d = defined_records(res)
    if not d:
        return None
    dec = F.decimals_for([r["est"] for r in d])
    std = standardized_defined(res)
    rows = []
    for r in d:
        s = std[r["lhs"]]
        rows.append([code(r["lhs"]), definition_text(r["rhs"]), F.num(r["est"], dec),
                     F.num(r["se"], dec), F.ci(r["ci.lower"], r["ci.upper"], dec),
                     F.std(r["std.all"], 3), F.ci(s["ci.lower"], s["ci.upper"], 3, bounded=True),
                     F.p_value(r["pvalue"])])
    boot = se_kind(res.se_kind).bootstrap
    note = ["CI (", F.percent(res.ci.get("level", 0.95)), "): ", res.ci.get("defined", ""), ". ",
            sym("SE"), " and ", sym("p"),
            (": bootstrap standard deviation and normal-theory test. " if boot else
             f": delta method with the {SE_SHORT.get(res.se_kind, res.se_kind)} covariance "
             f"matrix. "),
            "For indirect (product) effects the CI is the recommended inference; ", BETA,
            " = standardized effect (std.all), its CI from the delta method with the same "
            "covariance matrix (lavaan's standardizedSolution)."]
    return Table(title=title, header=["Effect", "Definition", sym("b"), sym("SE"), ci_header(res),
                                      BETA, join([BETA, " ", ci_header(res)]), sym("p")],
                 rows=rows, note=join(note), align="llrrrrrr")


def r2_table(res, title=None) -> Table | None:
    if not res.r2:
        return None
    names = var_labels(res)

    def shown(v):
        # two-level fits name level-2 R² 'y.l2' (as lavaan's parameter names)
        if res.partable.multilevel:
            base, level = (v[:-3], 2) if v.endswith(".l2") else (v, 1)
            return f"{names.get(base, base)} ({level_heading(res, level).split(' (')[1][:-1]})"
        return names.get(v, v)
    rows = [[shown(v), F.num(r, 3, bounded=True)] for v, r in res.r2.items()]
    return Table(title=title or Rich("Variance explained (<em>R</em>\u00b2)", "Variance explained (*R*\u00b2)"),
                 header=["Variable", _r2()], rows=rows, align="lr",
                 note="Share of the variance of each endogenous variable explained by the model.")


def modindices_table(mi, title="Modification indices", top: int = 10) -> Table:
    """The `top` largest modification indices (lavaan's modificationIndices
    columns mi, epc, sepc.all), with the post hoc caution as the note."""
    from ..modindices import CAUTION
    rows = [[param_name(r["lhs"], r["op"], r["rhs"]), f"{r['lhs']} {r['op']} {r['rhs']}".strip(),
             F.num(r["mi"], 2), F.num(r["epc"], 3), F.std(r["sepc.all"], 3)]
            for r in mi.head(top).to_dict("records")]
    note = join([f"The {min(top, len(mi))} largest of {len(mi)} indices (all in "
                 "modindices.csv). MI: the drop in ", CHI2, " (1 df) expected if the "
                 "parameter were freed; EPC: its expected value; ", BETA,
                 ": the EPC standardized (sepc.all). ", CAUTION])
    return Table(title=title, header=["Parameter", "lavaan syntax", "MI", "EPC", BETA],
                 rows=rows, note=note, align="llrrr")


def icc_table(res, title=None) -> Table | None:
    d = res.data_info
    if not d.get("icc"):
        return None
    c = d["cluster"]
    names = var_labels(res)
    rows = [[names.get(v, v), F.num(icc, 3, bounded=True), F.num(deff, 2)]
            for v, (icc, deff) in d["icc"].items()]
    note = join(["ICC(1) from a one-way ANOVA by '", c["name"], "' (", F.integer(c["n"]),
                 " clusters of ", F.integer(c["min"]), F.EN_DASH, F.integer(c["max"]),
                 " cases, mean ", F.num(c["mean"], 1), "); design effect = 1 + (mean cluster size "
                 "\u2212 1) \u00d7 ICC. A design effect above about 2 means that ignoring the "
                 "clustering would understate standard errors noticeably."])
    t = d.get("icc_therapist")
    if not t:
        return Table(title=title or f"Intraclass correlations by {c['name']}",
                     header=["Variable", "ICC(1)", "Design effect"], rows=rows, note=note,
                     align="lrr")
    # three levels: sessions within clients, and client means within therapists
    th = d["therapist"]
    dash = F.EN_DASH
    rows = []
    for v in list(t):
        icc, deff = d["icc"].get(v, (None, None))
        rows.append([names.get(v, v),
                     dash if icc is None else F.num(icc, 3, bounded=True),
                     dash if deff is None else F.num(deff, 2),
                     F.num(t[v][0], 3, bounded=True), F.num(t[v][1], 2)])
    note = join(["ICC(1) from one-way ANOVAs: sessions by '", c["name"], "' (",
                 F.integer(c["n"]), " clusters of ", F.integer(c["min"]), dash,
                 F.integer(c["max"]), " sessions), and ", c["name"], " means by '",
                 th["name"], "' (", F.integer(th["n"]), " clusters of ", F.integer(th["min"]),
                 dash, F.integer(th["max"]), " ", c["name"], "s); ", dash,
                 ": a level-2 variable, constant within ", c["name"], ". Design effect = "
                 "1 + (mean cluster size \u2212 1) \u00d7 ICC."])
    return Table(title=title or f"Intraclass correlations by {c['name']} and {th['name']}",
                 header=["Variable", f"ICC(1) {c['name']}", "Design effect",
                         f"ICC(1) {th['name']}", "Design effect"],
                 rows=rows, note=note, align="lrrrr")


# -- Jupyter fragments ---------------------------------------------------------------

def _fragment(t: Table) -> str:
    t.number = 0
    return table_html(t)


def estimates_html(res) -> str:
    """Parameter estimates (and defined effects) as an HTML fragment."""
    out = _fragment(estimates_table(res))
    d = defined_table(res)
    if d is not None:
        out += _fragment(d)
    return out


def fit_html(res) -> str:
    """The fit measures as an HTML fragment."""
    return _fragment(fit_table(res))


# -- comparison ------------------------------------------------------------------

def _model_cell(name):
    return code(name)


def comparison_fit_table(cmp, title="Fit of the alternative models") -> Table:
    t = cmp.table
    first = next(iter(cmp.results.values()))
    robust = "chisq.scaled" in t.columns and t["chisq.scaled"].notna().any()
    rows = []
    for r in t.to_dict("records"):
        res = cmp.results[r["model"]]
        row = [_model_cell(r["model"]), F.integer(r["npar"]), F.integer(r["df"]),
               F.num(r["chisq"], 2), F.p_value(r["pvalue"])]
        if robust:
            row += [F.num(r.get("chisq.scaled"), 2), F.num(r.get("chisq.scaling.factor"), 3),
                    F.p_value(res.fit.get("pvalue.scaled")),
                    F.num(r.get("cfi.robust"), 3, bounded=True), F.num(r.get("tli.robust"), 3, bounded=True),
                    F.num(r.get("rmsea.robust"), 3, bounded=True)]
        else:
            row += [F.num(r["cfi"], 3, bounded=True), F.num(r["tli"], 3, bounded=True),
                    F.num(r["rmsea"], 3, bounded=True)]
        row.append(F.num(r["srmr"], 3, bounded=True))
        rows.append(row)
    header = ["Model", sym("k"), sym("df"), _chi2(), sym("p")]
    if robust:
        header += [Rich("<em>\u03c7</em>\u00b2<sub>scaled</sub>", "*\u03c7*\u00b2 scaled"), sym("c"),
                   Rich("<em>p</em><sub>scaled</sub>", "*p* scaled"),
                   "CFI", "TLI", "RMSEA"]
        note = join([sym("k"), " = free parameters; ", _chi2(), " = ML test; ",
                     Rich("<em>\u03c7</em>\u00b2<sub>scaled</sub>", "*\u03c7*\u00b2 scaled"),
                     " = Yuan-Bentler scaled test (MLR) with scaling correction factor ",
                     sym("c"), "; CFI, TLI and RMSEA are the robust versions (the standard "
                     "ones are in comparison.csv). Standard errors ", se_phrase(first), "."])
    else:
        header += ["CFI", "TLI", "RMSEA"]
        note = join([sym("k"), " = free parameters; ", _chi2(), " = ML test."])
    header.append("SRMR")
    return Table(title=title, header=header, rows=rows, note=note,
                 align="l" + "r" * (len(header) - 1))


def information_table(cmp, title="Information criteria") -> Table:
    t = cmp.table
    w = t["akaike.weight"]
    ok = w.notna()
    aic_min = t.loc[ok, "aic"].min() if ok.any() else t["aic"].min()
    bic_min = t.loc[ok, "bic"].min() if ok.any() else t["bic"].min()
    rows = []
    for r in t.to_dict("records"):
        same = F.finite(r["akaike.weight"])
        rows.append([_model_cell(r["model"]), F.num(r["aic"], 2),
                     F.num(r["aic"] - aic_min, 2) if same else F.DASH,
                     F.num(r["bic"], 2), F.num(r["bic"] - bic_min, 2) if same else F.DASH,
                     F.num(r["akaike.weight"], 3, bounded=True)])
    note = join([DELTA, "AIC and ", DELTA, "BIC: difference from the best (smallest) value; "
                 "Akaike weight: the relative likelihood of each model given the set, "
                 "exp(\u2212", DELTA, "AIC/2) normalized to sum to 1. Only models with the "
                 "same observed variables as the first are weighed."])
    return Table(title=title, header=["Model", "AIC", f"{DELTA}AIC", "BIC", f"{DELTA}BIC",
                                      "Akaike weight"],
                 rows=rows, note=note, align="lrrrrr")


def tests_table(cmp, title="Nested-model tests") -> Table | None:
    if cmp.tests.empty:
        return None
    rows = []
    methods = []
    for r in cmp.tests.to_dict("records"):
        rows.append([_model_cell(r["model_a"]), _model_cell(r["model_b"]), F.integer(r["df_diff"]),
                     F.num(r["chisq_diff"], 2), F.p_value(r["pvalue"]), r["method"]])
        methods.append(r["method"])
    note = join(["Each row tests the restricted model (A, more degrees of freedom) against the "
                 "larger model (B) it is nested in; nesting was established by the NET method "
                 "(B reproduces A's fitted moments exactly). A small ", sym("p"),
                 " favours the larger model. ",
                 ("Scaled differences: Satorra-Bentler (2001), or the 2010 version where the "
                  "2001 scaling factor is not positive."
                  if any("Satorra" in m for m in methods) else "Likelihood-ratio tests (ML).")])
    return Table(title=title,
                 header=["Model A (restricted)", "Model B", Rich(f"{DELTA}<em>df</em>", f"{DELTA}*df*"),
                         Rich(f"{DELTA}<em>\u03c7</em>\u00b2", f"{DELTA}*\u03c7*\u00b2"), sym("p"),
                         "Method"],
                 rows=rows, note=note, align="llrrrl")


def nonnested_table(cmp, title="Pairs that are not nested") -> Table | None:
    if cmp.information.empty:
        return None
    rows = [[_model_cell(r["model_a"]), _model_cell(r["model_b"]), F.num(r["aic_diff"], 2),
             F.num(r["bic_diff"], 2), r["relation"]]
            for r in cmp.information.to_dict("records")]
    note = join([DELTA, "AIC and ", DELTA, "BIC are A minus B: negative values favour A. "
                 "Differences above about 10 are usually read as strong support. Equivalent "
                 "models fit identically and cannot be told apart by the data."])
    return Table(title=title,
                 header=["Model A", "Model B", f"{DELTA}AIC (A \u2212 B)", f"{DELTA}BIC (A \u2212 B)",
                         "Relation"], rows=rows, note=note, align="llrrl")


def effects_columns(cmp) -> list[str]:
    """The effects table's columns in model order: effect, then est/ci per model."""
    cols = ["effect"]
    for m in cmp.results:
        for k in ("est", "ci.lower", "ci.upper"):
            c = f"{m}.{k}"
            if c in cmp.effects.columns:
                cols.append(c)
    return cols




def effects_table(cmp, title="Defined effects across models") -> Table | None:
    e = cmp.effects
    if e.empty:
        return None
    models = [m for m in cmp.results if f"{m}.est" in e.columns]
    dec = F.decimals_for(np.concatenate([e[f"{m}.est"].to_numpy(dtype=float) for m in models]))
    defs = {m: {r["lhs"]: r["rhs"] for r in defined_records(cmp.results[m])}
            for m in models}
    # one footnote per model whose definitions of shared names differ from the
    # first model that defines them
    base = {}
    for m in models:
        for name, rhs in defs[m].items():
            base.setdefault(name, (m, rhs))
    differs = {m: [n for n in e["effect"] if n in defs[m] and defs[m][n] != base[n][1]]
               for m in models}
    marks = {}
    footnotes = []
    for m in models:
        if differs[m]:
            mark = supmark(len(marks))
            marks[m] = mark
            footnotes.append(join([mark, f"Defined differently in {m}: "] + listed(
                [f"{n} = {definition_text(defs[m][n])}" for n in differs[m]], "; ", "; ")
                + [". "]))
    rows = []
    for r in e.to_dict("records"):
        name = r["effect"]
        row = [code(name)]
        for m in models:
            est = r.get(f"{m}.est")
            if not F.finite(est):
                row.append(F.DASH)
                continue
            b = F.num(est, dec)
            interval = F.ci(r.get(f"{m}.ci.lower"), r.get(f"{m}.ci.upper"), dec)
            mark = marks[m] if name in differs[m] else Rich("", "")
            row.append(Rich(f'{esc(b)}{mark.html}<br><span class="ci">{esc(interval)}</span>',
                            f"{md_esc(b)}{mark.md} {md_esc(interval)}"))
        rows.append(row)
    first = cmp.results[models[0]]
    note = ["Estimate and ", ci_header(first), " of each defined effect in every model that "
            "defines it (", F.DASH, ": not in the model). CIs: ", first.ci.get("defined", ""), "."]
    if footnotes:
        note += [" Effects of the same name that are defined differently from the first "
                 "model defining them: "] + footnotes
    return Table(title=title, header=["Effect"] + [wrap_name(m) for m in models], rows=rows,
                 note=join(note), align="l" + "r" * len(models), wide=True)


def comparison_html(cmp) -> str:
    """A Comparison as HTML fragments (Jupyter): fit of the models, nested
    tests, information criteria, non-nested pairs and the effects side by side."""
    parts = [comparison_fit_table(cmp), tests_table(cmp), information_table(cmp),
             nonnested_table(cmp), effects_table(cmp)]
    return "".join(_fragment(t) for t in parts if t is not None)


__all__ = ["estimates_html", "comparison_html", "fit_html", "fit_table", "estimates_table", "defined_table",
           "r2_table", "icc_table", "comparison_fit_table", "information_table", "tests_table",
           "nonnested_table", "effects_table", "effects_columns", "param_name", "var_labels",
           "definition_text", "se_phrase", "bold"]
