"""A Result printed the way lavaan's summary() prints a fit, so that a lavaan
user can put the two side by side: the header blocks (estimator, counts, the
model test with the scaled column), then Latent Variables, Regressions,
Covariances, Intercepts, Variances and Defined Parameters with lavaan's
columns Estimate, Std.Err, z-value and P(>|z|).  p values use attachpath's one
style ('< .001', '.032'), not lavaan's '0.000'.
"""

from __future__ import annotations

import numpy as np

from .apa import p_value
from .se_kinds import KINDS

# lavaan's names of the SE kinds in its "Standard errors" line
SE_LAVAAN = {name: kind.lavaan for name, kind in KINDS.items()}

SECTIONS = (("=~", "Latent Variables"), ("~", "Regressions"), ("~~c", "Covariances"),
            ("~1", "Intercepts"), ("~~v", "Variances"), (":=", "Defined Parameters"))

COLS = "  Estimate  Std.Err  z-value  P(>|z|)"


def _kv(key: str, *values, width: int = 54) -> str:
    """'  Key ........ value [value]' right-aligned as lavaan's header lines."""
    cells = "".join(f"{v:>12}" for v in values)
    return f"  {key:<{width - 12 * len(values) + 10}}{cells}"


def _num(x, d=3) -> str:
    if x is None or not np.isfinite(x):
        return ""
    if abs(x) < 0.5 * 10 ** -d:          # no "-0.000"
        x = 0.0
    return f"{x:.{d}f}"


def _section_of(r: dict) -> str:
    if r["op"] == "~~":
        return "~~v" if r["lhs"] == r["rhs"] else "~~c"
    return r["op"]


def lavaan_summary(res) -> str:
    f, d = res.fit, res.data_info
    endo = set(res.partable.endogenous)
    robust = "chisq.scaled" in f
    lines = []
    est = res.provenance.get("options", {}).get("estimation", {})
    iters = est.get("iterations")
    lines.append(f"attachpath {res.provenance.get('versions', {}).get('attachpath', '')} "
                 f"ended normally" + (f" after {iters} iterations" if iters else ""))
    lines.append("")
    lines.append(_kv("Estimator", "ML"))
    lines.append(_kv("Number of model parameters", str(res.partable.npar)))
    lines.append("")
    lines.append(_kv("Number of observations", str(d["n"])))
    if d.get("cluster"):
        lines.append(_kv(f"Number of clusters [{d['cluster']['name']}]", str(d["cluster"]["n"])))
    lines.append("")
    lines.append("Model Test User Model:")
    if robust:
        lines.append(_kv("", "Standard", "Scaled"))
        lines.append(_kv("Test Statistic", _num(f["chisq"]), _num(f["chisq.scaled"])))
        lines.append(_kv("Degrees of freedom", str(f["df"]), str(f["df"])))
        lines.append(_kv("P-value (Chi-square)", p_value(f["pvalue"]), p_value(f["pvalue.scaled"])))
        lines.append(_kv("Scaling correction factor", "", _num(f["chisq.scaling.factor"])))
        lines.append("    Yuan-Bentler correction (Mplus variant)")
    else:
        lines.append(_kv("Test statistic", _num(f["chisq"])))
        lines.append(_kv("Degrees of freedom", str(f["df"])))
        lines.append(_kv("P-value (Chi-square)", p_value(f["pvalue"])))
    lines.append("")
    lines.append("Parameter Estimates:")
    lines.append("")
    lines.append(_kv("Standard errors", SE_LAVAAN.get(res.se_kind, res.se_kind)))

    # lavaan's summary leaves out the covariates' fixed.x moments
    exo = {(r.lhs, r.op, r.rhs) for r in res.partable.rows if r.exo}
    records = [r for r in res.table.records()
               if (r["lhs"], r["op"], r["rhs"]) not in exo]

    def dot(v):           # lavaan marks residual (co)variances and intercepts of endogenous variables
        return f".{v}" if v in endo else v

    blocks = []
    for key, title in SECTIONS:
        part = [r for r in records if _section_of(r) == key]
        if not part:
            continue
        rows = []          # (name text, row or None for a group line)
        if key in ("=~", "~", "~~c"):
            op = "~~" if key == "~~c" else key
            for lhs in dict.fromkeys(r["lhs"] for r in part):
                shown = dot(lhs) if key == "~~c" else lhs
                rows.append((f"  {shown} {op}", None))
                for r in (r for r in part if r["lhs"] == lhs):
                    rhs = dot(r["rhs"]) if key == "~~c" else r["rhs"]
                    rows.append((f"    {rhs}", r))
        elif key == ":=":
            rows = [(f"    {r['lhs']}", r) for r in part]
        else:
            rows = [(f"   {dot(r['lhs'])}" if r["lhs"] in endo else f"    {r['lhs']}", r)
                    for r in part]
        blocks.append((title, rows))

    def label(r):
        return f" ({r['label']})" if r["label"] and r["op"] != ":=" else ""

    width = max([20] + [len(n) + len(label(r)) + 1 if r else len(n)
                        for _, rows in blocks for n, r in rows])
    for title, rows in blocks:
        lines.append("")
        lines.append(f"{title}:")
        lines.append(" " * width + COLS)
        for name, r in rows:
            if r is None:
                lines.append(name)
                continue
            left = name
            if label(r):
                left = f"{name:<{width - len(label(r))}}{label(r)}"
            lines.append(f"{left:<{width}}{_num(r['est']):>10}{_num(r['se']):>9}"
                         f"{_num(r['z'], 3):>9}{p_value(r['pvalue'], missing=''):>9}")
    return "\n".join(lines)
