"""Fit measures under lavaan's fitMeasures() names and definitions.

With fixed.x covariates the log-likelihoods are conditional on them (the
joint value minus the covariates' marginal), the covariates' moments are not
counted as data, and the baseline model keeps their block fixed: all as in
lavaan 0.6.
"""

from __future__ import annotations

import math

import numpy as np
from .distributions import chi2_cdf, chi2_noncentrality, chi2_sf

from ..partable import ParTable, moment_counts
from . import ml
from .ram import RAM


counts = moment_counts     # (sample moments, covariate moments)


def covariate_loglik(pt: ParTable, mom: ml.Moments) -> float:
    idx = [pt.observed.index(v) for v in pt.covariates]
    if not idx:
        return 0.0
    return ml.loglik_saturated(mom.cov[np.ix_(idx, idx)], mom.n)


def baseline_chisq(pt: ParTable, mom: ml.Moments) -> tuple[float, int]:
    """Independence model: free variances (and means) of the non-covariates,
    covariates' block at its sample values.  Its ML solution is closed form."""
    x = [pt.observed.index(v) for v in pt.covariates]
    y = [i for i in range(len(pt.observed)) if i not in x]
    logdet_s = mom.cov_logdet
    logdet_b = float(np.sum(np.log(np.diag(mom.cov)[y])))
    if x:
        logdet_b += np.linalg.slogdet(mom.cov[np.ix_(x, x)])[1]
    chisq = mom.n * (logdet_b - logdet_s)
    p, q = len(pt.observed), len(x)
    df = p * (p + 1) // 2 - q * (q + 1) // 2 - (p - q)
    return float(chisq), df


def rmsea(chisq, df, n, c_hat=1.0):
    if df <= 0:
        return 0.0
    return math.sqrt(max((chisq / n) / df - c_hat / n, 0.0))


def rmsea_ci(chisq, df, n, level=0.90, c_hat=1.0):
    """lavaan's noncentral chi-square interval for the RMSEA: the
    noncentralities at which the observed chisq is the upper and lower
    (1 − level)/2 quantile, 0 where none exists in [0, max(n, 4·chisq)]."""
    if df < 1 or not np.isfinite(chisq):
        return 0.0, 0.0
    hi_p, lo_p = 1 - (1 - level) / 2, (1 - level) / 2
    cdf0 = chi2_cdf(chisq, df)
    lower = upper = 0.0
    if cdf0 >= hi_p:
        lower = math.sqrt(c_hat * chi2_noncentrality(chisq, df, hi_p) / (n * df))
    if cdf0 >= lo_p:
        # the cdf falls with the noncentrality, so "cdf at the end of the
        # range ≤ lo_p" is "the root lies in the range"
        lam = chi2_noncentrality(chisq, df, lo_p)
        if lam <= max(n, chisq * 4):
            upper = math.sqrt(c_hat * lam / (n * df))
    return lower, upper


def cfi(chisq, df, b_chisq, b_df):
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, b_chisq - b_df, 0.0)
    return 1.0 if t2 == 0 else 1.0 - t1 / t2


def tli(chisq, df, b_chisq, b_df):
    if df <= 0:
        return 1.0
    t1 = b_chisq / b_df - chisq / df
    t2 = b_chisq / b_df - 1.0
    return 1.0 if t2 == 0 else t1 / t2


def srmr(pt: ParTable, mom: ml.Moments, sigma: np.ndarray, mu: np.ndarray) -> float:
    """Bentler's SRMR (lavaan's "srmr"): residuals scaled by the sample SDs,
    means included when the model has a mean structure."""
    sd = np.sqrt(np.diag(mom.cov))
    r = (mom.cov - sigma) / np.outer(sd, sd)
    p = len(sd)
    li, lj = ml.vech_indices(p)
    total = float(np.sum(r[li, lj] ** 2))
    nel = len(li)
    if pt.meanstructure:
        total += float(np.sum(((mom.mean - mu) / sd) ** 2))
        nel += p
    return math.sqrt(total / nel)


def complete_statistics(pt: ParTable, ram: RAM, theta, values, mom: ml.Moments,
                        fmin: float | None = None) -> dict:
    """The likelihood-specific statistics of a complete-data fit (see
    fit_measures); `fmin`: F_ML at θ when the estimator already has it."""
    sigma, mu, *_ = ram.implied(theta, values)
    n = mom.n
    if fmin is None:
        fmin = ml.discrepancy(ram, theta, mom, values)
    lx = covariate_loglik(pt, mom)
    # −N/2 (F + log|S| + p + p log 2π): the joint log-likelihood from F_ML
    p = len(pt.observed)
    ulogl = -0.5 * n * (mom.cov_logdet + p + p * ml.LOG2PI)
    b_chisq, b_df = baseline_chisq(pt, mom)
    return {"fmin": fmin / 2.0, "chisq": n * fmin,
            "logl": ulogl - 0.5 * n * fmin - lx, "unrestricted.logl": ulogl - lx,
            "baseline.chisq": b_chisq, "baseline.df": b_df,
            "srmr": srmr(pt, mom, sigma, mu)}


def fit_measures(lik, theta, fmin: float | None = None) -> dict:
    """fitMeasures at θ for any likelihood object (estimate/likelihood.py):
    it supplies chisq, the log-likelihoods, the baseline and SRMR; the
    indices built on them are defined here once."""
    stats = lik.fit_statistics(theta, fmin)
    n, npar = lik.n, lik.npar
    data, fixed = counts(lik.pt)
    df = data - fixed - npar
    chisq, logl = stats["chisq"], stats["logl"]
    b_chisq, b_df = stats["baseline.chisq"], stats["baseline.df"]
    lo, hi = rmsea_ci(chisq, df, n)
    out = {
        "npar": npar,
        "fmin": stats["fmin"],
        "chisq": chisq,
        "df": df,
        "pvalue": chi2_sf(chisq, df),
        "baseline.chisq": b_chisq,
        "baseline.df": b_df,
        "baseline.pvalue": chi2_sf(b_chisq, b_df),
        "cfi": cfi(chisq, df, b_chisq, b_df),
        "tli": tli(chisq, df, b_chisq, b_df),
        "logl": logl,
        "unrestricted.logl": stats["unrestricted.logl"],
        "aic": -2 * logl + 2 * npar,
        "bic": -2 * logl + npar * math.log(n),
        "bic2": -2 * logl + npar * math.log((n + 2) / 24),
        "ntotal": n,
        "rmsea": rmsea(chisq, df, n),
        "rmsea.ci.lower": lo,
        "rmsea.ci.upper": hi,
        "rmsea.ci.level": 0.90,
        "rmsea.pvalue": 1.0 - chi2_cdf(chisq, df, n * df * 0.05 ** 2) if df > 0 else float("nan"),
    }
    out.update({k: v for k, v in stats.items() if k.startswith("srmr")})
    return out
