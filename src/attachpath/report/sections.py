"""Report sections built from Results and Comparisons (shared by the fit,
compare and demo reports)."""

from __future__ import annotations

import json

from . import format as F
from . import tables as T
from .document import (Bullets, Figure, Heading, KeyValues, Para, Pre, Rich, code, italic,
                       join, listed)
from .figures import Drawn


def fit_sentence(res) -> Rich:
    """APA fit line: χ²(11) = 9.01, p = .621; scaled ...; CFI = .999, ..."""
    f = res.fit
    parts = [T._chi2(), f"({F.integer(f.get('df'))}) = {F.num(f.get('chisq'), 2)}, ",
             italic("p"), " ", _p_eq(f.get("pvalue"))]
    robust = T.is_robust(res)
    if robust:
        parts += ["; scaled ", T._chi2(), f"({F.integer(f.get('df.scaled', f.get('df')))}) = "
                  f"{F.num(f.get('chisq.scaled'), 2)}, ", italic("p"), " ",
                  _p_eq(f.get("pvalue.scaled")),
                  f" (scaling factor {F.num(f.get('chisq.scaling.factor'), 3)})"]
    sfx = " (robust)" if robust else ""
    cfi = f.get("cfi.robust") if robust else f.get("cfi")
    tli = f.get("tli.robust") if robust else f.get("tli")
    rmsea = f.get("rmsea.robust") if robust else f.get("rmsea")
    parts += [f"; CFI{sfx} = {F.num(cfi, 3, bounded=True)}, TLI{sfx} = {F.num(tli, 3, bounded=True)}, "
              f"RMSEA{sfx} = {F.num(rmsea, 3, bounded=True)}, SRMR = {F.num(f.get('srmr'), 3, bounded=True)}"]
    return join(parts)


def _p_eq(p) -> str:
    s = F.p_value(p)
    return s if s[0] in "<>" else f"= {s}"


def data_sentence(res) -> Rich:
    d = res.data_info
    parts = [italic("N"), f" = {d['n']} cases used"]
    dropped = d.get("dropped_rows", 0)
    if d.get("missing"):        # FIML: the counts are in the missing-data paragraph
        parts.append(f"; {d['missing']['rows_with_missing']} rows with missing values "
                     f"kept (FIML)")
    else:
        parts.append(f"; {dropped} row{'s' if dropped != 1 else ''} with missing values on the "
                     f"model's variables dropped (listwise deletion)" if dropped
                     else "; no row had missing values on the model's variables, so none was dropped")
    c = d.get("cluster")
    if c:
        parts.append(f"; clustered by '{c['name']}': {c['n']} clusters of {c['min']}"
                     f"{F.EN_DASH}{c['max']} cases (mean {F.num(c['mean'], 1)})")
    parts.append(".")
    return join(parts)


def corrections(res) -> Bullets:
    f = res.fit
    items = [join(["Standard errors: ", T.se_phrase(res), "."])]
    if T.is_robust(res):
        items.append(join(["Test statistic: ML ", T._chi2(), " and the Yuan-Bentler scaled ",
                           T._chi2(), " (MLR), scaling correction factor ",
                           F.num(f.get("chisq.scaling.factor"), 3), "; robust CFI, TLI and RMSEA."]))
    else:
        items.append(join(["Test statistic: ML ", T._chi2(), " (no scaling)."]))
    lvl = F.percent(res.ci.get("level", 0.95))
    items.append(f"Confidence intervals ({lvl}): parameters {res.ci.get('parameters', '')}; "
                 f"defined effects {res.ci.get('defined', '')}.")
    if res.ci.get("pvalues"):
        items.append(f"P-values from {res.ci['pvalues']} (G − 1 degrees of freedom of the "
                     f"cluster sandwich), not the normal distribution.")
    if res.draws:
        dr = res.draws
        items.append(f"Bootstrap: {dr.get('ok')} of {dr.get('n')} draws usable "
                     f"({dr.get('failed', 0)} failed), unit: {dr.get('unit')}, "
                     f"interval: {dr.get('interval')}, seed {dr.get('seed')}.")
    ms = res.provenance.get("options", {}).get("meanstructure")
    items.append("Mean structure: intercepts estimated." if ms else
                 "Mean structure: none (covariances only).")
    items.append(f"Estimator: {estimator_text(res)}.")
    return Bullets(items)


def estimator_text(res) -> str:
    est = res.provenance.get("options", {}).get("estimation") or {}
    method = est.get("method")
    g = est.get("gradient_norm")
    gtxt = f"; gradient norm at the solution {g:.1e}" if F.finite(g) else ""
    if method == "closed-form":
        return ("maximum likelihood in closed form (a recursive path model whose equations "
                f"separate into regressions){gtxt}")
    it = est.get("iterations", res.fit.get("iterations"))
    if method == "scoring":
        return (f"maximum likelihood (Fisher scoring on the analytic gradient from "
                f"moment-based start values; {it} iterations{gtxt})")
    return (f"maximum likelihood (semopy, finished by Fisher scoring on the analytic gradient; "
            f"{it} iterations{gtxt})")


def warnings_blocks(warnings, empty="None.") -> list:
    if not warnings:
        return [Para(empty)]
    return [Bullets(list(warnings), cls="warnings")]


def model_blocks(res, name: str, drawn: Drawn | None, src: str | None, *, level: int = 3,
                 heading: object = None, figure_title: object = None, data: bool = True,
                 anchor: str | None = None) -> list:
    """Diagram, fit, estimates, defined effects and R² of one model."""
    out = [Heading(heading if heading is not None else join(["Model ", code(name)]), level,
                   id=anchor)]
    out.append(Para(join([fit_sentence(res), "."])))
    out.append(Figure(svg=drawn.svg if drawn else None, src=src if drawn else None,
                      title=figure_title or join(["Path diagram of ", code(name)]),
                      note=(drawn.note if drawn and drawn.note else None)))
    out.append(T.fit_table(res, title=join(["Fit of ", code(name)])))
    out.append(T.estimates_table(res, title=join(["Parameter estimates of ", code(name)])))
    d = T.defined_table(res, title=join(["Defined (indirect) effects in ", code(name)]))
    if d is not None:
        out.append(d)
    r2 = T.r2_table(res, title=join([T._r2(), " of the endogenous variables in ", code(name)]))
    if r2 is not None:
        out.append(r2)
    if data:
        out.append(Heading("Data handling and corrections", level + 1))
        out.append(Para(data_sentence(res)))
        from .missing import missing_blocks
        out += missing_blocks(res)
        out.append(corrections(res))
        icc = T.icc_table(res)
        if icc is not None:
            out.append(icc)
    out.append(Heading("Warnings", level + 1))
    out += warnings_blocks(res.warnings)
    return out


def options_text(options: dict) -> str:
    """The fit options as key=value (JSON values), without the estimation record."""
    return ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in options.items()
                     if k != "estimation")


def provenance_blocks(res, name: str, spec_display: str | None = None, *, level: int = 3,
                      versions: bool = True, data_display: str | None = None) -> list:
    p = res.provenance
    opts = p.get("options", {})
    items = [("Spec", spec_display or p.get("spec_file") or "(text given directly)"),
             ("Spec SHA-256", code(p.get("spec_sha256", ""))),
             ("Data", data_display or p.get("data_source") or F.DASH)]
    if p.get("data_file_sha256"):
        items.append(("Data file SHA-256", code(p["data_file_sha256"])))
    items += [("Model data SHA-256", code(p.get("data_sha256", ""))),
              ("Options", code(options_text(opts))),
              ("Estimation", estimator_text(res)),
              ("Seed", F.DASH if opts.get("seed") is None else str(opts.get("seed")))]
    if versions:
        items.append(("Versions", versions_text(p)))
    return [Heading(join(["Provenance of ", code(name)]), level),
            KeyValues(items),
            Pre(p.get("spec", ""), caption=join(["Specification (", spec_display or
                                                 p.get("spec_file") or name, ")"]))]


def versions_text(p) -> str:
    v = p.get("versions", {})
    return ", ".join(f"{k} {val}" for k, val in v.items())


def comparison_blocks(cmp, figures: dict, srcs: dict, *, level: int = 2,
                      model_anchor=None) -> list:
    """The comparison tables and the diagrams of the alternatives."""
    out = []
    names = list(cmp.results)
    first = cmp.results[names[0]]
    out.append(Para(join(["Models compared: "] + listed([code(n) for n in names]) +
                         [". All were fitted to the same ", str(first.data_info["n"]),
                          " cases with standard errors ", T.se_phrase(first), "."])))
    out.append(T.comparison_fit_table(cmp))
    out.append(T.information_table(cmp))
    t = T.tests_table(cmp)
    if t is not None:
        out.append(t)
    else:
        out.append(Para("No pair of models is nested, so no difference test applies."))
    nn = T.nonnested_table(cmp)
    if nn is not None:
        out.append(nn)
    e = T.effects_table(cmp)
    if e is not None:
        out.append(e)
    if cmp.notes:
        out.append(Heading("Notes on the comparison", level + 1))
        out.append(Bullets(list(cmp.notes)))
    shared = any(d is not None and d.shared_layout for d in figures.values())
    out.append(Heading("Diagrams of the alternatives", level + 1))
    out.append(Para(("The models share one layout and the paths that differ between them are "
                     "highlighted. " if shared else "Each model is drawn on its own layout. ") +
                    "The figure notes (fit, defined effects with their CIs) are with each "
                    "model's own diagram below.", kind="small"))
    from .document import Div
    figs = []
    for n in names:
        d = figures.get(n)
        figs.append(Figure(svg=d.svg if d else None, src=srcs.get(n) if d else None,
                           title=join(["Model ", code(n)])))
    out.append(Div(figs, cls="figure-grid"))
    return out


