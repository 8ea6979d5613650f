"""lavaan's FIML-corrected robust CFI, TLI and RMSEA (Zhang & Savalei, 2022,
"New computations for RMSEA and CFI following FIML and TS estimation with
missing data", Psychological Methods), which lavaan 0.6-14 reports as
cfi.robust / tli.robust / rmsea.robust for every missing = "ml" fit.

With missing values the chisq of a FIML fit does not estimate the
population misfit the complete-data indices are built on.  The corrected
versions use instead

    T̃ = N·F_ML(θ̂; μ̃, Σ̃)     the complete-data ML discrepancy of the FIML
                                estimates at the EM (saturated) moments,

and a scaling factor ĉ = k/df from the saturated FIML model's observed
information Wm (at the EM moments, unit), its first-order information Jm
(casewise scores, summed within clusters × G/(G−1)), the complete-data
information Wc at (μ̃, Σ̃), and the model's Jacobian Δ:

    U = Wm − Wm Δ (Δ' Wm Δ)⁻¹ Δ' Wm
    k = tr(U Wm⁻¹ Wc Wm⁻¹ U Γ),  Γ = Wm⁻¹ Jm Wm⁻¹    with a scaled test (MLR; "V3")
    k = tr(Wc Wm⁻¹ U Wm⁻¹)                            otherwise (ML; "V6")

the same for the baseline model (its Δ, its estimates).  All matrices leave
out the fixed covariates' moments.  The indices are then lavaan's robust
formulas (Brosseau-Liard & Savalei) with (T̃, ĉ) and (T̃_b, ĉ_b).
"""

from __future__ import annotations

import math

import numpy as np

from . import fitmeasures, fiml, ml
from .vcov import meat


def corrected_fit(lik, theta, df: int, baseline_df: int, clusters=None,
                  scaled: bool = False) -> dict:
    """cfi.robust, tli.robust, rmsea.robust and its interval of a FIML fit
    (lik: likelihood.FIML at its estimates θ)."""
    from .robust_test import _h1_kept
    if df <= 0:
        return {"cfi.robust": 1.0, "tli.robust": 1.0, "rmsea.robust": 0.0,
                "rmsea.ci.lower.robust": 0.0, "rmsea.ci.upper.robust": 0.0}
    keep = _h1_kept(lik.pt)
    mu, sigma = lik.em
    n = lik.n
    sat = fiml.Saturated(lik.data)
    Wm = sat.observed_information(sat.pack(mu, sigma))[np.ix_(keep, keep)]
    Wc = ml.weight(np.linalg.inv(sigma), True)[np.ix_(keep, keep)]
    Wm_inv = np.linalg.inv(Wm)
    if scaled:
        Jm = meat(fiml.moment_scores(lik.data, mu, sigma)[:, keep], n, clusters)
        gamma = Wm_inv @ Jm @ Wm_inv
    tilde = _moments(mu, sigma, n)

    def trace_and_stat(model, est):
        D = model.ram.jacobian(est, model.values)[keep]
        U = Wm - Wm @ D @ np.linalg.solve(D.T @ Wm @ D, D.T @ Wm)
        if scaled:
            k = np.trace(U @ Wm_inv @ Wc @ Wm_inv @ U @ gamma)
        else:
            k = np.trace(Wc @ Wm_inv @ U @ Wm_inv)
        return float(k), n * ml.discrepancy(model.ram, est, tilde, model.values)

    k, t = trace_and_stat(lik, theta)
    base, bsol = lik.baseline
    k_b, t_b = trace_and_stat(base, bsol.theta)
    c, c_b = k / df, k_b / baseline_df
    if not (c > 0 and c_b > 0):      # undefined, as a negative scaling factor
        return {key: float("nan") for key in ROBUST_KEYS}
    return robust_indices(t, df, c, t_b, baseline_df, c_b, n)


ROBUST_KEYS = ("cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust",
               "rmsea.ci.upper.robust")


def robust_indices(t, df, c, t_b, df_b, c_b, n) -> dict:
    """lavaan's robust CFI/TLI (Brosseau-Liard & Savalei 2014, eq. 15) and
    RMSEA with its interval, from a statistic t with scaling factor c and the
    baseline's (t_b, c_b)."""
    t1 = max(t - c * df, 0.0)
    t2 = max(t - c * df, t_b - c_b * df_b, 0.0)
    den = t_b - c_b * df_b
    lo, hi = fitmeasures.rmsea_ci(t / c, df, n, c_hat=c)
    return {"cfi.robust": 1.0 if t2 == 0 else 1.0 - t1 / t2,
            "tli.robust": 1.0 - ((t - c * df) * df_b) / (den * df) if den != 0 else 1.0,
            "rmsea.robust": math.sqrt(max((t / n) / df - c / n, 0.0)),
            "rmsea.ci.lower.robust": lo, "rmsea.ci.upper.robust": hi}


def _moments(mu, sigma, n) -> ml.Moments:
    """Sample statistics that are the EM moments (no rows needed)."""
    return ml.Moments(np.zeros((0, len(mu))), np.asarray(mu), np.asarray(sigma), n)
