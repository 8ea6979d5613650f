"""What is missing in the rows a FIML fit uses: the share missing per
variable, the missing-data patterns (most frequent first) and the pairwise
coverage (lavaan's lavInspect(fit, "coverage"): the share of rows observing
both variables of a pair).  Plain numbers, for the summary, fit.json and the
report."""

from __future__ import annotations

import numpy as np


def describe(X: np.ndarray, names, cluster_ids=None) -> dict:
    """The missing-data section of data_info for the rows X (NaN = missing)."""
    names = [str(v) for v in names]
    n = X.shape[0]
    obs = ~np.isnan(X)
    masks, counts = np.unique(obs, axis=0, return_counts=True)
    # most frequent first; ties in the order of fewer missing values, then the mask
    order = sorted(range(len(masks)), key=lambda k: (-counts[k], int((~masks[k]).sum()),
                                                      tuple(~masks[k])))
    patterns = [{"observed": [v for v, o in zip(names, masks[k]) if o],
                 "missing": [v for v, o in zip(names, masks[k]) if not o],
                 "rows": int(counts[k]), "percent": float(100.0 * counts[k] / n)}
                for k in order]
    both = obs.T.astype(float) @ obs.astype(float) / n
    out = {"rows_used": int(n),
           "rows_complete": int(obs.all(axis=1).sum()),
           "percent_missing": {v: 100.0 * float(1 - obs[:, j].mean())
                               for j, v in enumerate(names)},
           "patterns": patterns,
           "coverage": {a: {b: float(both[i, j]) for j, b in enumerate(names)}
                        for i, a in enumerate(names)}}
    if cluster_ids is not None:
        out["clusters_used"] = int(len(np.unique(cluster_ids)))
    return out


def pattern_text(pattern: dict, names) -> str:
    """One pattern as a row of x (observed) and . (missing) per variable."""
    seen = set(pattern["observed"])
    return " ".join("x" if str(v) in seen else "." for v in names)


def summary_lines(info: dict, names, top: int = 8) -> list[str]:
    """The summary's missing-data section (FIML fits)."""
    names = [str(v) for v in names]
    lines = [f"Missing data (FIML: {info['rows_used']} rows used, "
             f"{info['rows_complete']} complete"
             + (f"; {info['clusters_used']} clusters" if "clusters_used" in info else "")
             + (f"; {info['dropped_missing_covariate']} rows with a missing covariate "
                f"dropped" if info.get("dropped_missing_covariate") else "") + ")"]
    if info.get("auxiliary"):
        lines.append("  Auxiliary variables (saturated correlates, Graham 2003; kept "
                     "correlated in the baseline model): " + ", ".join(info["auxiliary"]))
    lines.append("  % missing: " + "  ".join(f"{v} {info['percent_missing'][v]:.1f}"
                                           for v in names))
    width = max(len(v) for v in names)
    lines.append(f"  Patterns (x observed, . missing; most frequent first), columns: "
                 + " ".join(names))
    for pat in info["patterns"][:top]:
        lines.append(f"    {pattern_text(pat, names):<{2 * len(names)}}  {pat['rows']:>6} rows "
                     f"({pat['percent']:.1f}%)")
    rest = info["patterns"][top:]
    if rest:
        lines.append(f"    ... {len(rest)} more patterns, {sum(p['rows'] for p in rest)} rows "
                     f"(all in fit.json)")
    lines.append("  Coverage (share of rows observing both variables)")
    for i, a in enumerate(names):
        cells = " ".join(f"{info['coverage'][a][b]:6.3f}" for b in names[:i + 1])
        lines.append(f"    {a:<{width}} {cells}")
    return lines
