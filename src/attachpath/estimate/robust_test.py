"""The Yuan-Bentler scaled test (Mplus variant, lavaan's MLR default) and the
robust fit indices built on it (lavaan 0.6 definitions).

c = [tr(A1⁻¹B1) − tr(E⁻¹B0)] / df, with A1 the saturated model's unit
information at the sample moments and B1 its first-order information (both
without the covariates' fixed moments), E the model's unit observed
information and B0 its first-order information; with clusters every B sums
the casewise scores within clusters and carries G/(G−1).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from .distributions import chi2_sf

from ..partable import ParTable
from . import fitmeasures, ml, vcov
from .ram import vech_indices


@lru_cache(maxsize=256)
def _h1_kept(pt: ParTable) -> np.ndarray:
    """Positions of the saturated moments that are not fixed covariate moments."""
    p = len(pt.observed)
    x = {pt.observed.index(v) for v in pt.covariates}
    li, lj = vech_indices(p)
    keep_cov = [not (i in x and j in x) for i, j in zip(li, lj)]
    keep = ([i not in x for i in range(p)] if pt.meanstructure else []) + keep_cov
    out = np.flatnonzero(keep)
    out.setflags(write=False)
    return out


def h1_trace(pt: ParTable, mom: ml.Moments, clusters) -> float:
    keep = _h1_kept(pt)
    A1 = ml.weight(mom.cov_inv, pt.meanstructure)[np.ix_(keep, keep)]
    B1 = vcov.meat(ml.h1_moment_scores(mom, pt.meanstructure)[:, keep], mom.n, clusters)
    return h0_trace(A1, B1)


def h0_trace(A: np.ndarray, B: np.ndarray) -> float:
    """tr(A⁻¹B) of an information A and a meat B (any model: h0, h1, baseline)."""
    return float(np.trace(np.linalg.solve(A, B)))


def scaling_factor(trace_h1, trace_h0, df) -> float:
    if df <= 0:
        return float("nan")
    c = (trace_h1 - trace_h0) / df
    return c if c > 0 else float("nan")


def baseline_trace(pt: ParTable, mom: ml.Moments, clusters) -> float:
    """tr(A⁻¹B) of lavaan's baseline model at its ML solution.

    The independence model's free parameters are the variances s_ii (and
    means x̄_i) of the non-covariates, each variable its own block of Σ, so
    its information matrix is diagonal: 1/(2 s_ii²) per variance and 1/s_ii
    per mean (observed = expected at this solution), with casewise scores
    ½(r_i²/s_ii² − 1/s_ii) and r_i/s_ii.  The trace needs only the
    diagonal of the meat.  tests/estimate check it against the general RAM
    formulas (expected_information, casewise_scores) of lavaan's baseline
    parameter table."""
    x = set(pt.covariates)
    y = [i for i, v in enumerate(pt.observed) if v not in x]
    s = np.diag(mom.cov)[y]
    R = mom.X[:, y] - mom.mean[y]
    scores = 0.5 * (R * R / (s * s) - 1.0 / s)
    info = 0.5 / (s * s)
    if pt.meanstructure:
        scores = np.hstack([scores, R / s])
        info = np.concatenate([info, 1.0 / s])
    return float(np.sum(np.diag(vcov.meat(scores, mom.n, clusters)) / info))


def scaled_fit(lik, theta, clusters, fit: dict, A: np.ndarray, B: np.ndarray) -> dict:
    """fitMeasures' scaled and robust entries for MLR (with or without
    clusters), for any likelihood object (estimate/likelihood.py), and under
    "notes" the warnings about them (a list, to be popped)."""
    t1 = lik.h1_trace(clusters)
    df, chisq, n = fit["df"], fit["chisq"], lik.n
    t0 = h0_trace(A, B)
    c = scaling_factor(t1, t0, df)
    b_chisq, b_df = fit["baseline.chisq"], fit["baseline.df"]
    c_b = scaling_factor(t1, lik.baseline_trace(clusters), b_df)
    t_s = chisq / c if df > 0 else float("nan")
    tb_s = b_chisq / c_b
    out = {
        "chisq.scaled": t_s,
        "df.scaled": df,
        "pvalue.scaled": chi2_sf(t_s, df),
        "chisq.scaling.factor": c,
        "baseline.chisq.scaled": tb_s,
        "baseline.df.scaled": b_df,
        "baseline.pvalue.scaled": chi2_sf(tb_s, b_df),
        "baseline.chisq.scaling.factor": c_b,
        "cfi.scaled": fitmeasures.cfi(t_s, df, tb_s, b_df) if df > 0 else 1.0,
        "tli.scaled": fitmeasures.tli(t_s, df, tb_s, b_df) if df > 0 else 1.0,
        "rmsea.scaled": fitmeasures.rmsea(t_s, df, n) if df > 0 else 0.0,
    }
    if df > 0 and np.isfinite(c):
        t1_ = max(chisq - c * df, 0.0)
        t2_ = max(chisq - c * df, b_chisq - c_b * b_df, 0.0)
        out["cfi.robust"] = 1.0 if t2_ == 0 else 1.0 - t1_ / t2_
        den = (b_chisq - c_b * b_df) * df
        out["tli.robust"] = 1.0 - ((chisq - c * df) * b_df) / den if den != 0 else 1.0
        out["rmsea.robust"] = math.sqrt(max((chisq / n) / df - c / n, 0.0))
        lo, hi = fitmeasures.rmsea_ci(t_s, df, n, c_hat=c)
        out["rmsea.ci.lower.robust"], out["rmsea.ci.upper.robust"] = lo, hi
    elif df > 0:
        # a negative (or undefined) scaling factor leaves the scaled test and
        # every robust index undefined, as in lavaan: never report a perfect fit
        out.update({k: float("nan") for k in (
            "cfi.robust", "tli.robust", "rmsea.robust",
            "rmsea.ci.lower.robust", "rmsea.ci.upper.robust")})
        out["notes"] = [
            f"The scaling factor of the robust chi-square is negative or undefined "
            f"({(t1 - t0) / df:.4g}); the "
            f"scaled test and the robust CFI, TLI and RMSEA are undefined (NA in the "
            f"summary, '—' in tables, null in fit.json). This happens with few clusters or a "
            f"non-recursive model with few degrees of freedom; report the ML test "
            f"or use bootstrap standard errors."]
    else:
        out.update({"cfi.robust": 1.0, "tli.robust": 1.0, "rmsea.robust": 0.0})
    return out
