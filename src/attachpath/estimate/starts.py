"""Start values for the complete-data ML fit, computed from the sample
moments without an optimizer.

`simple` follows lavaan's "simple" rule (loadings 1, regressions and
covariances 0, variances half the observed ones, latent 0.05, a user's
start() kept); `instrumental` replaces each measured factor's loadings and
variances by instrumental-variable estimates (lavaan's FABIN idea with one
instrument), which put a factor model close enough to its solution for
Fisher scoring to finish it.
"""

from __future__ import annotations

import numpy as np

from ..partable import ParTable


def simple(pt: ParTable, S) -> np.ndarray:
    """θ by lavaan's simple rule (S: the observed covariance matrix)."""
    theta = np.zeros(pt.npar)
    idx = {v: i for i, v in enumerate(pt.observed)}
    for r in pt.rows:
        if not r.free:
            continue
        k = r.free - 1
        if np.isfinite(r.start):
            theta[k] = r.start
        elif r.op == "=~":
            theta[k] = 1.0
        elif r.op == "~~" and r.lhs == r.rhs:
            theta[k] = 0.5 * S[idx[r.lhs], idx[r.lhs]] if r.lhs in idx else 0.05
    return theta


def instrumental(pt: ParTable, S, theta) -> np.ndarray:
    """θ with each measured factor's free loadings, variance and its
    indicators' residual variances set from instrumental-variable moments:
    for marker m, indicator j and a third indicator k, λ_j = s_jk / s_mk."""
    theta = np.array(theta, dtype=float, copy=True)
    pos = {v: i for i, v in enumerate(pt.observed)}

    def free_var(v):
        return next((r for r in pt.rows if r.op == "~~" and r.lhs == v and r.rhs == v
                     and r.free), None)
    for lv in pt.latent:
        loads = [r for r in pt.rows if r.op == "=~" and r.lhs == lv and r.rhs in pos]
        marker = next((r for r in loads if not r.free and r.value != 0), None)
        if marker is None or len(loads) < 3:
            continue
        m = pos[marker.rhs]
        lam = {marker.rhs: marker.value}
        for r in loads:
            if not r.free or np.isfinite(r.start):
                continue
            others = [pos[o.rhs] for o in loads if o.rhs not in (r.rhs, marker.rhs)]
            k = max(others, key=lambda k: abs(S[m, k]))
            if abs(S[m, k]) > 1e-12:
                lam[r.rhs] = marker.value * S[pos[r.rhs], k] / S[m, k]
                theta[r.free - 1] = lam[r.rhs]
        phis = [S[m, pos[v]] / (marker.value * l) for v, l in lam.items()
                if v != marker.rhs and abs(l) > 1e-12]
        if not phis:
            continue
        phi = float(np.median(phis))
        if (r := free_var(lv)) is not None and not np.isfinite(r.start):
            theta[r.free - 1] = phi
        for v, l in lam.items():
            if (r := free_var(v)) is not None and not np.isfinite(r.start):
                theta[r.free - 1] = S[pos[v], pos[v]] - l * l * phi
    return theta
