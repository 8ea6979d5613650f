"""The report of a multiple-group fit (`attachpath fit --group --out`):
the groups, the whole model's fit, the figure with one panel per group, the
estimates of each group and the defined effects across groups."""

from __future__ import annotations

import math

from .document import Document, Figure, Heading, Para, Section, Table, code, join
from .format import ci, integer, num, p_value, percent, std

_FIT = [("chisq", "Chi-square", 3), ("df", "df", 0), ("pvalue", "p", -1),
        ("chisq.scaled", "Chi-square (Yuan-Bentler scaled)", 3),
        ("chisq.scaling.factor", "Scaling factor", 3), ("pvalue.scaled", "p (scaled)", -1),
        ("cfi", "CFI", 3), ("tli", "TLI", 3), ("rmsea", "RMSEA", 3),
        ("cfi.robust", "CFI (robust)", 3), ("tli.robust", "TLI (robust)", 3),
        ("rmsea.robust", "RMSEA (robust)", 3), ("srmr", "SRMR", 3),
        ("aic", "AIC", 2), ("bic", "BIC", 2), ("npar", "Free parameters", 0)]


def _value(v, decimals: int) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if decimals == -1:
        return p_value(v)
    return integer(v) if decimals == 0 else num(v, decimals)


def _estimates_table(rows, title, level) -> Table:
    body = []
    for r in rows.to_dict("records"):
        free = r["se"] > 0
        body.append([f"{r['lhs']} {r['op']} {r['rhs']}".rstrip(), r["label"] or "",
                     num(r["est"]), num(r["se"]) if free else "",
                     p_value(r["pvalue"]) if free else "",
                     ci(r["ci.lower"], r["ci.upper"]) if free else "",
                     std(r["std.all"])])
    return Table(title, ["Parameter", "Label", "Estimate", "SE", "p",
                         f"{percent(level)} CI", "std.all"], body, align="llrrrrr")


def group_fit_report(gf, *, figure=None, diagram_src: str | None = "diagram.svg") -> Document:
    """The report of a GroupFit as a Document (.html() / .markdown());
    figure: its GroupFigure (drawn here when None)."""
    if figure is None:
        from ..diagram.groups import group_figure
        figure = group_figure(gf)
    f = gf.fit
    doc = Document(title=f"attachpath report: multiple-group model by {gf.group}",
                   subtitle=join([f"{len(gf.groups)} groups of {gf.group} \u00b7 "
                                  f"N = {f['ntotal']}"]))
    groups = Section(Heading("Groups"))
    header = ["Group", "n", "Chi-square contribution"] + (
        [f"Clusters ({gf.cluster})"] if gf.cluster else [])
    rows = []
    for i, (g, n, c) in enumerate(zip(gf.groups, gf.nobs, f["chisq.group"])):
        row = [f"{gf.group} = {g}", integer(n), num(c)]
        if gf.cluster:
            row.append(integer(gf.nclusters[i]))
        rows.append(row)
    groups.add(Table("Groups", header, rows, align="lrrr"))
    equal = ", ".join(gf.group_equal) or "none (each group its own parameters, except "\
                                         "labels the groups share)"
    groups.add(Para(join(["Equal across groups: ", equal,
                          f" (free: {', '.join(gf.group_partial)})" if gf.group_partial else "",
                          ". Standard errors: ",
                          "robust (MLR sandwich" + (f", clusters of {gf.cluster} within "
                                                    f"groups)" if gf.cluster else ")")
                          if gf.se_kind == "robust" else "standard (expected information)",
                          "."] + ([f" Rows dropped (a missing value or no group): "
                                   f"{gf.dropped_rows}."] if gf.dropped_rows else []))))
    doc.add(groups)
    fit = Section(Heading("Fit of the whole model"))
    fit.add(Table("Fit measures (all groups together)", ["Measure", "Value"],
                  [[label, _value(f.get(k), d)] for k, label, d in _FIT if k in f],
                  align="lr"))
    for note in f.get("notes", []):
        fit.add(Para(note, kind="note"))
    doc.add(fit)
    doc.add(Section(Heading("Path diagram"), [Figure(
        svg=figure.svg() if figure is not None else None,
        src=diagram_src if figure is not None else None,
        title=f"The model in each group of {gf.group}", note=None)]))
    est = gf.estimates
    for i, g in enumerate(gf.groups, start=1):
        sec = Section(Heading(join(["Estimates: ", code(f"{gf.group} = {g}")])))
        sec.add(_estimates_table(est[est["group"] == i],
                                 f"Estimates in group {g} (n = {gf.nobs[i - 1]})", gf.level))
        doc.add(sec)
    defined = est[est["op"] == ":="]
    if len(defined):
        sec = Section(Heading("Defined effects across groups"))
        sec.add(_estimates_table(defined, "Defined parameters (delta-method SEs and CIs)",
                                 gf.level))
        doc.add(sec)
    doc.add(Para("std.all: standardized within each group by that group's implied "
                 "variances (lavaan's standardizedSolution), so equal unstandardized "
                 "parameters can differ in std.all between groups.", kind="small"))
    return doc
