"""The content of a diagram as a small graph of its own, before any layout.

`build(pt, res, settings, labels)` returns a `Content`: a `ContentGraph` with
one node per shown variable and one edge per shown path (keyed by the
parameter-table row), each carrying its display text and style facts, plus
the figure note.  Both renderers (Graphviz DOT and the built-in SVG) read
only this.  The graph is not a networkx graph: importing networkx costs
about 0.4 s of CPU, more than drawing a diagram of ten variables, and the
diagram needs only nodes and edges in a fixed order; `to_networkx()` gives
the MultiDiGraph that `Diagram.graph` shows API users.

Node attributes: kind ("observed" | "latent"), label (display text, may
hold line breaks), sub (small lines such as R²), rank (column; None for
indicators drawn beside their factor), factor (that factor), side (for a
factor: where its indicators go), residual (None or {"text", "kind",
"row"}), emph (on a highlighted path).

Edge attributes: kind ("regression" | "loading" | "covariance"), row (index
in the parameter table), lhs/op/rhs, label (list of lines), free, sig
(True/False/None), exo, state ("on" | "off" | None for highlighting),
nonsig (True when drawn in the non-significant style).
Edges run cause -> effect (x -> y for y ~ x, f -> x for f =~ x); a
covariance runs lhs -> rhs.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from attachpath.syntax.expression import Expression

from ..partable import causal_stages
from . import fmt
from .directives import Settings

WRAP = 18   # characters per line of a wrapped display label
_S = fmt.NBSP


class ContentGraph:
    """What a diagram draws: `nodes` (variable -> attribute dict, in the order
    added) and edges (u, v, key, attribute dict) from `edges()`.

    Edges come out grouped as networkx's MultiDiGraph gives them (by source in
    node order, then by target in the order its first edge from that source
    came, then by key in the order added), because the layout breaks ties in
    that order and so the drawn figures depend on it."""

    def __init__(self):
        self.nodes: dict[str, dict] = {}
        self._out: dict[str, dict[str, dict]] = {}     # u -> v -> key -> attributes

    def add_node(self, name: str, **attrs) -> None:
        self.nodes[name] = attrs
        self._out.setdefault(name, {})

    def add_edge(self, u: str, v: str, key, **attrs) -> None:
        for x in (u, v):               # as networkx: an unknown end becomes a bare node
            if x not in self.nodes:
                self.add_node(x)
        self._out[u].setdefault(v, {})[key] = attrs

    def remove_edge(self, u: str, v: str, key) -> None:
        del self._out[u][v][key]
        if not self._out[u][v]:
            del self._out[u][v]

    def edges(self) -> list[tuple[str, str, object, dict]]:
        return [(u, v, k, a) for u, targets in self._out.items()
                for v, keyed in targets.items() for k, a in keyed.items()]

    def __contains__(self, name) -> bool:
        return name in self.nodes

    def to_networkx(self):
        """The same nodes, edges, keys and attributes as a networkx
        MultiDiGraph (imported here only: it is for API users)."""
        import networkx as nx
        g = nx.MultiDiGraph()
        for v, a in self.nodes.items():
            g.add_node(v, **a)
        for u, v, k, a in self.edges():
            g.add_edge(u, v, key=k, **a)
        return g


def causes_without_cycles(nodes, paths) -> dict[str, set]:
    """node -> its causes, from (cause, effect) paths taken in order, leaving
    out any path that would close a cycle (one running against the order of
    the paths before it).  For the column order of union and panel layouts."""
    causes: dict = {v: set() for v in nodes}
    effects: dict = {v: [] for v in nodes}
    for u, v in paths:
        if u in causes[v] or _reaches(effects, v, u):
            continue
        causes[v].add(u)
        effects[u].append(v)
    return causes


def _reaches(effects: dict, start, goal) -> bool:
    """Whether `goal` lies on a path of effects from `start` (each node once)."""
    seen, todo = {start}, [start]
    while todo:
        x = todo.pop()
        if x == goal:
            return True
        for y in effects[x]:
            if y not in seen:
                seen.add(y)
                todo.append(y)
    return False


@dataclass
class Content:
    graph: ContentGraph
    settings: Settings
    fitted: bool
    note: str                 # with italic markers
    messages: list = field(default_factory=list)   # things the user should know

    @property
    def plain_note(self) -> str:
        return fmt.plain(self.note)


# -- helpers -------------------------------------------------------------------

def wrap_label(text: str, width: int = WRAP) -> str:
    """Break a long display label at spaces (explicit line breaks are kept)."""
    lines = []
    for part in text.split("\n"):
        if len(part) > width and " " in part:
            lines += textwrap.wrap(part, width=width, break_long_words=False) or [part]
        else:
            lines.append(part)
    return "\n".join(lines)


def defined_labels(pt, name: str) -> set[str]:
    """Labels a := parameter uses, following other := names it refers to."""
    exprs = {r.lhs: r.rhs for r in pt.defined()}
    out: set[str] = set()
    seen: set[str] = set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for used in Expression(exprs[n]).names:
            if used in exprs:
                visit(used)
            else:
                out.add(used)

    visit(name)
    return out


def attached_indicators(pt, hidden: set, hidden_paths: set) -> dict[str, str]:
    """indicator -> factor for observed indicators drawn beside their factor:
    those measuring one shown factor and in no regression."""
    in_reg = {v for r in pt.rows if r.op == "~" for v in (r.lhs, r.rhs)}
    factors: dict[str, list[str]] = {}
    for r in pt.rows:
        if r.op == "=~" and (r.lhs, r.op, r.rhs) not in hidden_paths:
            factors.setdefault(r.rhs, []).append(r.lhs)
    lat = set(pt.latent)
    out = {}
    for v, fs in factors.items():
        shown = [f for f in fs if f not in hidden]
        if v in lat or v in in_reg or v in hidden or len(shown) != 1:
            continue
        out[v] = shown[0]
    return out


def compute_ranks(pt, structural, overrides: dict[str, int]) -> dict[str, int]:
    """Column of every structural variable: the table's causal stages
    (partable.causal_stages) with the user's rank directives."""
    return causal_stages(pt, list(structural), overrides)


# -- building ------------------------------------------------------------------

def build(pt, res, s: Settings, labels: dict | None = None) -> Content:
    fitted = res is not None
    g = ContentGraph()
    messages: list[str] = []
    d = s.decimals
    std = s.standardized and fitted
    show = s.show
    hidden = set(s.hide)

    est_rows = {}
    if fitted:
        for rec in res.table.records():
            key = rec["lhs"] if rec["op"] == ":=" else (rec["lhs"], rec["op"], rec["rhs"])
            est_rows[key] = rec
    if std and (show.get("se") or show.get("ci")):
        messages.append("Standard errors and confidence intervals are shown only with "
                        "unstandardized estimates; they are left out of this "
                        "standardized diagram.")

    # -- which rows are drawn --------------------------------------------------
    def shown_row(r) -> bool:
        if r.op not in ("~", "=~", "~~", "~1"):
            return False
        if (r.lhs, r.op, r.rhs) in s.hide_paths:
            return False
        if r.lhs in hidden or (r.rhs and r.rhs in hidden):
            return False
        if r.exo and not show["exo"]:
            return False
        if r.op == "~~" and r.lhs != r.rhs and not show["covariances"] and not r.exo:
            return False
        if _fixed_zero(r) and (r.op != "~~" or r.lhs != r.rhs):
            return False           # a path or covariance fixed to zero: no arrow
        return True

    highlight_labels: set[str] = set()
    if s.highlight:
        highlight_labels = defined_labels(pt, s.highlight)

    # -- nodes ---------------------------------------------------------------------
    attached = attached_indicators(pt, hidden, s.hide_paths)
    variables = [v for v in pt.variables if v not in hidden]
    structural = [v for v in variables if v not in attached]
    ranks = compute_ranks(pt, structural, s.ranks)
    for group in s.order:
        where = [("col", ranks[v]) if v in ranks else ("factor", attached.get(v))
                 for v in group if v in ranks or v in attached]
        if not any(where.count(w) > 1 for w in where):
            messages.append(f"order {' '.join(group)}: no two of these variables share a "
                            f"column (or a factor's indicators), so the line changes "
                            f"nothing; put them in one column with a rank directive.")
    data_labels = (res.data_info.get("labels") or {}) if (fitted and s.data_labels) else {}
    endo_reg = {r.lhs for r in pt.rows if r.op == "~"}
    for v in variables:
        text = (labels or {}).get(v) or s.labels.get(v) or data_labels.get(v) or v
        g.add_node(v, kind="latent" if v in pt.latent else "observed",
                   label=wrap_label(str(text)), sub=[], rank=ranks.get(v),
                   factor=attached.get(v), side=s.indicators.get(v), residual=None,
                   emph=False)

    # -- per-row text ------------------------------------------------------------
    def value_text(k, r, stars=True) -> tuple[list[str], bool | None]:
        """Label lines and significance of row k."""
        if not fitted:
            parts = []
            if r.label:
                parts.append(fmt.italic(r.label))
            if not r.free and fmt.finite(r.value) and not r.exo:
                parts.append(fmt.fixed_value(r.value))
            return ([" = ".join(parts)] if parts else []), None
        rec = est_rows.get((r.lhs, r.op, r.rhs))
        val = res.row_std[k] if std else res.row_est[k]
        bounded = std
        if r.op == "~~" and r.lhs != r.rhs and std:
            bounded = True
        if not r.free or rec is None:
            return [fmt.num(val, d, bounded=bounded)], None
        p = rec["pvalue"]
        sig = bool(p < 0.05) if fmt.finite(p) else None
        first = fmt.num(val, d, bounded=bounded)
        if show["stars"] and stars:
            first += fmt.stars(p)
        lines = [first]
        if not std and show["se"] and fmt.finite(rec["se"]):
            lines[0] += f" ({fmt.num(rec['se'], d)})"
        if not std and show["ci"] and fmt.finite(rec["ci.lower"]):
            lines.append(fmt.interval(rec["ci.lower"], rec["ci.upper"], d))
        return lines, sig

    for k, r in enumerate(pt.rows):
        if not shown_row(r):
            continue
        if r.op == "~~" and r.lhs == r.rhs:
            if not show["residuals"]:
                continue
            lines, sig = value_text(k, r, stars=False)   # (residual) variances: no stars
            kind = "residual" if r.lhs in pt.endogenous else "variance"
            g.nodes[r.lhs]["residual"] = {"text": lines[0] if lines else "", "kind": kind,
                                          "row": k, "lines": lines}
            continue
        lines, sig = value_text(k, r, stars=r.op != "~1")
        if r.op == "~1":
            if not show["intercepts"] or (r.lhs in pt.latent and not r.free):
                continue
            word = "Mean" if r.lhs not in pt.endogenous else "Intercept"
            if lines:
                g.nodes[r.lhs]["sub"].append(f"{word} = {lines[0]}")
            continue
        if r.op == "~":
            u, v, kind = r.rhs, r.lhs, "regression"
        elif r.op == "=~":
            u, v, kind = r.lhs, r.rhs, "loading"
        else:
            u, v, kind = r.lhs, r.rhs, "covariance"
        state = None
        if s.highlight:
            state = "on" if (r.label and r.label in highlight_labels) else "off"
        nonsig = fitted and sig is False and s.nonsig != "solid"
        g.add_edge(u, v, key=k, kind=kind, row=k, lhs=r.lhs, op=r.op, rhs=r.rhs,
                   label=lines, free=bool(r.free), sig=sig, exo=bool(r.exo),
                   state=state, nonsig=nonsig, plabel=r.label)

    # R² of the structural endogenous variables; one outside [0, 1] comes from
    # a negative (residual) variance and is marked as inadmissible
    if fitted and show["r2"]:
        for v in variables:
            if v in endo_reg and v in res.r2 and fmt.finite(res.r2[v]):
                bad = not 0 <= res.r2[v] <= 1
                g.nodes[v]["sub"].insert(0, f"{fmt.italic('R')}² = "
                                            f"{fmt.num(res.r2[v], d, bounded=not bad)}"
                                            + (" (inadmissible)" if bad else ""))

    if s.highlight:
        on = [(u, v) for u, v, _, a in g.edges() if a["state"] == "on"]
        for u, v in on:
            g.nodes[u]["emph"] = g.nodes[v]["emph"] = True
        if not on:
            messages.append(f"None of the paths of '{s.highlight}' is shown, so nothing "
                            f"is highlighted.")

    note = build_note(pt, res, s, g, hidden)
    return Content(graph=g, settings=s, fitted=fitted, note=note, messages=messages)


# -- the figure note -----------------------------------------------------------



def _unit(name: str) -> str:
    base = name
    for suffix in ("_id", ".id", "_ID", "id", "ID"):
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    return base.strip("_.")


def _ci_kind(text: str) -> str:
    t = (text or "").lower()
    if "monte carlo" in t:
        return "Monte Carlo"
    if "bootstrap" in t:
        return "bootstrap"
    return "delta-method"


def fit_sentence(fit: dict) -> str:
    """'χ²(5) = 6.26, p = .281, CFI = .996, RMSEA = .028, SRMR = .021'
    (scaled test and robust indices when present)."""
    chi = fmt.italic("χ") + "²"
    df = fit.get("df")
    if df is None or not fmt.finite(fit.get("chisq")):
        return ""
    df_text = str(int(df)) if fmt.finite(df) and float(df) == int(df) else fmt.num(df, 2)
    if df == 0:
        return "The model is saturated (df = 0), so it fits perfectly."

    def idx(name, key):
        v = fit.get(key)
        return f"{name}{_S}={_S}{fmt.num(v, 3, bounded=True)}" if fmt.finite(v) else ""

    if "chisq.scaled" in fit and fmt.finite(fit["chisq.scaled"]):
        parts = [f"Yuan–Bentler scaled {chi}({df_text}){_S}={_S}{fmt.num(fit['chisq.scaled'], 2)}, "
                 f"{fmt.p_text(fit.get('pvalue.scaled'))}",
                 idx("robust CFI", "cfi.robust") or idx("scaled CFI", "cfi.scaled"),
                 idx("robust RMSEA", "rmsea.robust") or idx("scaled RMSEA", "rmsea.scaled"),
                 idx("SRMR", "srmr")]
    else:
        parts = [f"{chi}({df_text}){_S}={_S}{fmt.num(fit['chisq'], 2)}, {fmt.p_text(fit.get('pvalue'))}",
                 idx("CFI", "cfi"), idx("RMSEA", "rmsea"), idx("SRMR", "srmr")]
    return ", ".join(p for p in parts if p) + "."


def _inadmissible_sentences(res) -> list[str]:
    """The solution's inadmissibility (negative variances, correlations
    beyond ±1) in the note: the first sentence of each finding."""
    est = res.provenance.get("options", {}).get("estimation", {})
    if est.get("admissible", True):
        return []
    found = [m.split(". ")[0].removeprefix("Inadmissible solution: ").rstrip(".")
             for m in est.get("inadmissible", [])]
    return [f"Inadmissible solution: {'; '.join(found)}; estimates involving it cannot "
            f"be interpreted as they stand."] if found else \
        ["Inadmissible solution: estimates cannot be interpreted as they stand."]


def build_note(pt, res, s: Settings, g, hidden) -> str:
    out: list[str] = [fmt.italic("Note.")]
    fitted = res is not None
    if not fitted:
        out.append("Model specification, not estimated: paths show their labels and "
                   "fixed values.")
    else:
        std = s.standardized
        what = "Standardized estimates (std.all)" if std else "Unstandardized estimates"
        extra = []
        if not std and s.show["se"]:
            extra.append("standard errors in parentheses")
        if not std and s.show["ci"]:
            level = int(round(100 * res.ci.get("level", 0.95)))
            extra.append(f"{level}% confidence intervals in brackets")
        out.append(what + ("; " + ", ".join(extra) if extra else "") + ".")
        info = res.data_info
        n = info.get("n", res.fit.get("ntotal"))
        sample = f"{fmt.italic('N')}{_S}={_S}{n}"
        from ..se_kinds import se_kind
        kind = se_kind(res.se_kind)
        se_text = kind.figure
        cl = info.get("cluster")
        th = info.get("therapist")      # a two-level fit with therapists as a third level
        if th:
            unit = fmt.plural(_unit(str(cl["name"])), int(cl["n"]))
            sample += f" in {cl['n']} {unit}"
            t_unit = fmt.plural(_unit(str(th["name"])), int(th["n"]))
            se_text = f"{se_text} corrected for {th['n']} {t_unit}"
        elif cl and kind.clustered:
            unit = fmt.plural(_unit(str(cl["name"])), int(cl["n"]))
            se_text = f"{se_text}, {cl['n']} {unit}"
        elif cl:
            unit = fmt.plural(_unit(str(cl["name"])), int(cl["n"]))
            sample += f" in {cl['n']} {unit}"
        if info.get("missing"):
            sample += ", missing values by FIML"
        if kind.bootstrap and res.draws:
            se_text += f" ({res.draws.get('ok', '')} bootstrap draws)"
        if res.se_kind == "none":
            se_text = "no standard errors"
        elif res.ci.get("pvalues"):         # t(G−1) rather than z
            se_text += f", p-values and CIs from {res.ci['pvalues']}"
        out.append(f"{sample}; {se_text}." if se_text else f"{sample}.")
        fs = fit_sentence(res.fit)
        if fs:
            out.append(fs)
        out += _inadmissible_sentences(res)
        defined = res.defined_rows()
        if defined:
            level = int(round(100 * res.ci.get("level", 0.95)))
            kind = _ci_kind(res.ci.get("defined", ""))
            dd = max(s.decimals, 3)
            items = []
            for rec in defined:
                expr = rec["rhs"].replace("*", " × ")
                val = fmt.num(rec["est"], dd)
                text = f"{rec['lhs']} = {expr} = {val}"
                if fmt.finite(rec["ci.lower"]):
                    text += f", {level}% CI {fmt.interval(rec['ci.lower'], rec['ci.upper'], dd)}"
                if std and fmt.finite(rec.get("std.all")):
                    text += f" (standardized {fmt.num(rec['std.all'], dd, bounded=True)})"
                items.append(text)
            out.append(f"Defined effects ({kind} CIs): " + "; ".join(items) + ".")
        if s.show["stars"] and any(a.get("sig") is not None for *_, a in g.edges()):
            p = fmt.italic("p")
            out.append(f"*{_S}{p}{_S}<{_S}.05. **{_S}{p}{_S}<{_S}.01. ***{_S}{p}{_S}<{_S}.001.")
        if s.nonsig == "dashed":
            out.append(f"Dashed paths: {fmt.italic('p')}{_S}≥{_S}.05.")
        elif s.nonsig == "grey":
            out.append(f"Grey paths: {fmt.italic('p')}{_S}≥{_S}.05.")
    if s.highlight:
        expr = next(r.rhs for r in pt.defined() if r.lhs == s.highlight)
        out.append(f"Bold paths: {s.highlight} = {expr.replace('*', ' × ')}.")
    exo_pairs = [r for r in pt.rows if r.exo and r.op == "~~" and r.lhs != r.rhs
                 and r.lhs not in hidden and r.rhs not in hidden]
    if exo_pairs and not s.show["exo"]:
        out.append("Covariances among the exogenous covariates are not shown.")
    gone = [v for v in pt.variables if v in hidden]
    for lhs, op, rhs in sorted(s.hide_paths):
        if lhs in hidden or rhs in hidden:
            continue
        if op == "~":
            gone.append(f"the path from {rhs} to {lhs}")
        elif op == "=~":
            gone.append(f"the loading of {rhs} on {lhs}")
        elif lhs == rhs:
            gone.append(f"the (residual) variance of {lhs}")
        else:
            gone.append(f"the covariance of {lhs} and {rhs}")
    if gone:
        out.append("Not shown: " + "; ".join(gone) + ".")
    zero = [f"{r.rhs} → {r.lhs}" if r.op == "~" else f"{r.lhs} → {r.rhs}"
            for r in pt.rows if r.op in ("~", "=~") and _fixed_zero(r)
            and r.lhs not in hidden and r.rhs not in hidden]
    if zero:
        out.append(f"{'Paths' if len(zero) > 1 else 'Path'} fixed to 0 in the model: "
                   f"{', '.join(zero)}.")
    return " ".join(out)


def _fixed_zero(r) -> bool:
    """A model row fixed at 0 (an absent path, e.g. `y ~ 0*x`)."""
    return (r.op in ("~", "=~", "~~") and not r.free and not r.exo
            and fmt.finite(r.value) and r.value == 0)
