"""The missing-data part of a FIML fit's report: a sentence on the rows
used, the patterns (most frequent first) and the pairwise coverage
(data/missingness.py computes them)."""

from __future__ import annotations

from . import format as F
from .document import Para, Row, Table, code, join

MAX_PATTERNS = 12


def missing_blocks(res) -> list:
    """[] for a fit without FIML."""
    miss = res.data_info.get("missing")
    if not miss or "patterns" not in miss:
        return []
    names = list(res.partable.observed)
    per_var = ", ".join(f"{v} {F.num(miss['percent_missing'][v], 1)}%" for v in names)
    text = (f"Missing values were handled by full-information maximum likelihood (FIML"
            f"{', covariates with missing values kept (fiml.x)' if miss['method'] == 'fiml.x' else ''}): "
            f"{miss['rows_used']} rows used, {miss['rows_complete']} of them complete"
            + (f", in {miss['clusters_used']} clusters" if "clusters_used" in miss else "")
            + (f"; {miss['dropped_missing_covariate']} rows with a missing covariate were "
               f"dropped" if miss.get("dropped_missing_covariate") else "")
            + f". Missing per variable: {per_var}."
            + (f" Auxiliary variables (saturated correlates, Graham 2003, kept correlated "
               f"in the baseline model so that CFI and TLI are not inflated): "
               f"{', '.join(miss['auxiliary'])}." if miss.get("auxiliary") else ""))
    pats = miss["patterns"]
    rows = [[("\u2713" if v in set(p["observed"]) else "\u2013") for v in names]
            + [str(p["rows"]), f"{F.num(p['percent'], 1)}%"] for p in pats[:MAX_PATTERNS]]
    note = None
    if len(pats) > MAX_PATTERNS:
        rest = pats[MAX_PATTERNS:]
        note = (f"{len(rest)} rarer patterns ({sum(p['rows'] for p in rest)} rows) are listed "
                f"in fit.json.")
    patterns = Table(title="Missing-data patterns (\u2713 observed, \u2013 missing), most "
                           "frequent first",
                     header=[code(v) for v in names] + ["rows", "share"], rows=rows,
                     note=note, align="c" * len(names) + "rr")
    cov = miss["coverage"]
    coverage = Table(title="Coverage: share of rows observing both variables",
                     header=[""] + [code(v) for v in names],
                     rows=[Row([code(a)] + [F.num(cov[a][b], 3) if j <= i else ""
                                            for j, b in enumerate(names)])
                           for i, a in enumerate(names)])
    return [Para(join([text])), patterns, coverage]
