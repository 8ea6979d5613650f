"""The multilevel analysis next to the client-means analysis, for reports.

`changes_blocks(client, multi)` compares a single-level fit on client means
with a two-level fit of the same structure on session rows: every path and
:= effect both estimate (paths matched by their variables, the two-level one
at the between level; effects by name), side by side with their SEs, p or
CI, the ratio of the SEs and whether the conclusion at the 5% level holds.
The sentences around the table are made from the same numbers, so they
cannot disagree with it.  `icc_sentence(multi)` reads the ICCs at both levels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import format as F
from . import tables as T
from .document import Para, Row, Table, code, join, listed

ARROW = "\u2192"


@dataclass
class Shared:
    """One quantity both analyses estimate."""
    name: object          # display (Rich)
    kind: str             # "path" | "effect"
    client: dict          # the estimates row of the client-means fit
    multi: dict           # the estimates row of the two-level fit (between level)

    def significant(self, which: str) -> bool:
        r = self.client if which == "client" else self.multi
        if self.kind == "path":
            return F.finite(r.get("pvalue")) and r["pvalue"] < 0.05
        lo, hi = r.get("ci.lower"), r.get("ci.upper")
        return F.finite(lo) and F.finite(hi) and (lo > 0 or hi < 0)

    @property
    def se_ratio(self) -> float:
        a, b = self.client.get("se"), self.multi.get("se")
        return b / a if F.finite(a) and F.finite(b) and a > 0 else math.nan

    @property
    def conclusion(self) -> tuple[bool, str]:
        """(holds, words) at the 5% level (paths: p; effects: the CI)."""
        c, m = self.significant("client"), self.significant("multi")
        if c and m:
            if (self.client["est"] > 0) != (self.multi["est"] > 0):
                return False, "changes: opposite signs"
            return True, "holds: significant in both"
        if not c and not m:
            return True, "holds: significant in neither"
        return False, ("changes: significant with client means only" if c
                       else "changes: significant in the two-level model only")


def shared_quantities(client, multi) -> list[Shared]:
    """The regressions and := effects of the client-means fit that the
    two-level fit also estimates (regressions at its between level)."""
    ce, me = client.estimates, multi.estimates
    between = me[(me["block"] == 2) & (me["op"] == "~")]
    out = []
    for r in ce[ce["op"] == "~"].to_dict("records"):
        m = between[(between["lhs"] == r["lhs"]) & (between["rhs"] == r["rhs"])]
        if m.empty:
            continue
        label = r.get("label") or ""
        name = join([f"{r['rhs']} {ARROW} {r['lhs']}"] + ([" (", code(label), ")"] if label else []))
        out.append(Shared(name, "path", r, m.iloc[0].to_dict()))
    md = {r["lhs"]: r for r in multi.defined().to_dict("records")}
    for r in client.defined().to_dict("records"):
        if r["lhs"] in md:
            out.append(Shared(join([code(r["lhs"]), " = ", T.definition_text(r["rhs"])]),
                              "effect", r, md[r["lhs"]]))
    return out


def _est_se(r, d=3) -> str:
    return f"{F.num(r['est'], d)} ({F.num(r['se'], d)})"


def _evidence(q: Shared, r) -> str:
    if q.kind == "path":
        return F.p_value(r.get("pvalue"))
    return F.ci(r.get("ci.lower"), r.get("ci.upper"), 4)


def changes_table(items: list[Shared], client, multi, names=("client means", "two-level")) -> Table:
    rows = []
    for kind, title in (("path", "Paths (two-level: between clients)"),
                        ("effect", "Indirect effects (two-level: between clients)")):
        these = [q for q in items if q.kind == kind]
        if not these:
            continue
        rows.append(Row([title], group=True))
        d = 3 if kind == "path" else 4
        for q in these:
            rows.append([q.name, _est_se(q.client, d), _evidence(q, q.client),
                         _est_se(q.multi, d), _evidence(q, q.multi),
                         F.num(q.se_ratio, 2), q.conclusion[1]])
    note = join([
        "Client means: ", code(names[0]), " on one row per client, SEs ",
        T.se_phrase(client), ". Two-level: ", code(names[1]), " on session rows, SEs ",
        T.se_phrase(multi), "; its between-level paths are the client-level paths of the "
        "client-means model. Paths: p values (Wald; ",
        _p_dist(client), " for client means, ", _p_dist(multi), " for two-level); effects: ",
        F.percent(multi.ci.get("level", 0.95)), " CIs (client means: ",
        client.ci.get("defined", ""), "; two-level: ", multi.ci.get("defined", ""),
        "). SE ratio = two-level SE / client-means SE. The conclusion holds when both "
        "analyses agree on p < .05 (paths) or on a CI excluding 0 (effects)."])
    return Table(title="Client means and the multilevel analysis, side by side",
                 header=["Parameter", "Client means: estimate (SE)", "p / CI",
                         "Two-level: estimate (SE)", "p / CI", "SE ratio", "Conclusion at 5%"],
                 rows=rows, note=note, align="lrrrrrl")


def changes_summary(items: list[Shared]) -> Para:
    """What changes, in sentences made from the table's numbers."""
    held = [q for q in items if q.conclusion[0]]
    changed = [q for q in items if not q.conclusion[0]]
    parts = [f"Of the {len(items)} paths and effects both analyses estimate, {len(held)} "
             f"lead to the same conclusion at the 5% level"]
    if changed:
        parts += ["; the conclusion changes for "]
        parts += listed([join([q.name, f" ({q.conclusion[1].removeprefix('changes: ')})"])
                       for q in changed])
    else:
        parts.append("; none changes")
    parts.append(". ")
    ratios = sorted(q.se_ratio for q in items if F.finite(q.se_ratio))
    if ratios:
        med = ratios[len(ratios) // 2] if len(ratios) % 2 else \
            (ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
        parts.append(f"The two-level standard errors are {F.num(ratios[0], 2)} to "
                     f"{F.num(ratios[-1], 2)} times the client-means ones (median "
                     f"{F.num(med, 2)}). ")
    paths = [q for q in items if q.kind == "path" and F.finite(q.client["est"])
             and abs(q.client["est"]) > 1e-12]
    # the largest change among the paths that matter (significant in either)
    sig = [q for q in paths if q.significant("client") or q.significant("multi")] or paths
    if sig:
        big = max(sig, key=lambda q: abs(abs(q.multi["est"]) - abs(q.client["est"]))
                  / abs(q.client["est"]))
        rel = (abs(big.multi["est"]) - abs(big.client["est"])) / abs(big.client["est"])
        parts += ["Among the paths significant in either analysis, the size of ", big.name,
                  " changes most: ", F.num(big.client["est"], 3), f" {ARROW} ",
                  F.num(big.multi["est"], 3), f" ({F.num(abs(rel) * 100, 0)}% "
                  f"{'larger' if rel >= 0 else 'smaller'} in the two-level model)."]
    return Para(join(parts))


def within_summary(client, multi) -> Para | None:
    """The session-level paths and the effects only the two-level model has
    (e.g. contextual effects: between minus within)."""
    me = multi.estimates
    within = me[(me["block"] == 1) & (me["op"] == "~")].to_dict("records")
    own = [r for r in multi.defined().to_dict("records")
           if r["lhs"] not in set(client.defined()["lhs"])]
    if not within and not own:
        return None
    parts = []
    if within:
        parts.append("At the session level (within clients), the model estimates ")
        parts += listed([join([f"{r['rhs']} {ARROW} {r['lhs']} ", _est_se(r), ", ",
                             F.p_text(r.get("pvalue"))]) for r in within])
        parts.append(": how a session that departs from the client's own mean on the "
                     "first variable departs on the second. ")
    if own:
        level = F.percent(multi.ci.get("level", 0.95))
        parts.append("Effects only the multilevel model has: ")
        parts += listed([join([code(r["lhs"]), " = ", _expr(r["rhs"]), " = ",
                             F.num(r["est"], 3), f", {level} CI ",
                             F.ci(r["ci.lower"], r["ci.upper"], 3)]) for r in own])
        parts.append(".")
    return Para(join(parts))


def _expr(rhs: str) -> str:
    """T.definition_text with a spaced minus (contextual effects: b - w)."""
    import re
    return T.definition_text(re.sub(r"\s*-\s*", " \u2212 ", str(rhs)))


def icc_sentence(multi) -> Para | None:
    """The ICCs at both levels in one or two sentences."""
    d = multi.data_info
    icc, th = d.get("icc") or {}, d.get("icc_therapist") or {}
    if not icc:
        return None
    lo = min(icc, key=lambda v: icc[v][0])
    hi = max(icc, key=lambda v: icc[v][0])
    c = d["cluster"]["name"]
    parts = [f"Between {F.num(icc[lo][0] * 100, 0)}% ({lo}) and "
             f"{F.num(icc[hi][0] * 100, 0)}% ({hi}) of the variance of the session measures "
             f"lies between {c}s (stable {c} differences), the rest within a {c} (session "
             f"to session): the two levels carry different information, which the "
             f"{c} means mix."]
    if th:
        t = d["therapist"]["name"]
        top = max(th, key=lambda v: th[v][0])
        parts.append(f" At the {t} level, ICC(1) reaches {F.num(th[top][0], 3, bounded=True)} "
                     f"({top}, design effect {F.num(th[top][1], 2)}): {c}s of one {t} are "
                     f"alike, which is why the standard errors are corrected for the "
                     f"{d['therapist']['n']} {t}s.")
    return Para(join(parts))


def _p_dist(res) -> str:
    """The reference distribution of a fit's p-values: t(G−1) for
    therapist/client fits by default, normal (z) otherwise."""
    return res.ci.get("pvalues") or "normal"
