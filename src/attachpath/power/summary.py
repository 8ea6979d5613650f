"""Summaries of a power study, folded chunk by chunk in replicate order.

The client keeps, per design × analysis, running sums over the replicates
(not the replicates themselves), so its memory does not grow with the
number of replicates.  Chunks may finish in any order; they are folded in
replicate order (a chunk waits in a small buffer until the ones before it
have arrived) and the sums are accumulated one replicate after another
(np.add.accumulate is strictly sequential), so the floating-point sums, and
with them power.csv, are identical whatever the chunk size, the number of
workers or the order in which chunks finish.
"""

from __future__ import annotations

import math

import numpy as np

from ..estimate.distributions import norm_ppf, wald_quantile

STATS = ("used", "reject", "cover", "dev", "dev2", "se")


class Fold:
    """Running sums of one design × analysis over replicates 0, 1, 2, ..."""

    def __init__(self, truth: np.ndarray, alpha: float, level: float, df: int | None = None):
        """df: the Wald test and interval use t(df) quantiles (a therapist
        sandwich, as fit()'s default for therapist/client); None: normal."""
        self.truth = np.asarray(truth, dtype=float)
        self.ref = np.where(np.isfinite(self.truth), self.truth, 0.0)
        self.df = df
        self.z_alpha = wald_quantile(1 - alpha / 2, df)
        self.z_level = wald_quantile(0.5 + level / 2, df)
        k = len(self.truth)
        self.sums = np.zeros((len(STATS), k))
        self.reps = 0
        self.failed = 0

    def add(self, est: np.ndarray, se: np.ndarray, ok: np.ndarray) -> None:
        """Fold the replicates of one chunk (rows in replicate order)."""
        ok = np.asarray(ok, dtype=bool)
        self.reps += len(ok)
        self.failed += int(np.sum(~ok))
        if not np.any(ok):
            return
        est, se = est[ok], se[ok]
        dev = est - self.ref
        contrib = np.stack([
            np.ones_like(est),
            (np.abs(est / se) > self.z_alpha).astype(float),
            (np.abs(est - self.truth) <= self.z_level * se).astype(float),
            dev, dev * dev, se], axis=1)                          # m x stats x k
        rows = np.concatenate([self.sums[None], contrib], axis=0)
        self.sums = np.add.accumulate(rows, axis=0)[-1]

    def table(self) -> dict[str, np.ndarray]:
        used, reject, cover, dev, dev2, se = self.sums
        with np.errstate(all="ignore"):
            n = np.where(used > 0, used, np.nan)
            power = reject / n
            coverage = np.where(np.isfinite(self.truth), cover / n, np.nan)
            mean_dev = dev / n
            mean_est = self.ref + mean_dev
            bias = np.where(np.isfinite(self.truth), mean_dev, np.nan)
            var = np.maximum(dev2 - n * mean_dev ** 2, 0.0) / (n - 1)
            sd_est = np.sqrt(var)
            mean_se = se / n
            rmse = np.where(np.isfinite(self.truth), np.sqrt(dev2 / n), np.nan)
            rel_bias = np.where(np.isfinite(self.truth) & (self.truth != 0),
                                bias / self.truth, np.nan)
            return {
                "population": self.truth, "mean_est": mean_est,
                "power": power, "power_mcse": np.sqrt(power * (1 - power) / n),
                "coverage": coverage,
                "coverage_mcse": np.sqrt(coverage * (1 - coverage) / n),
                "bias": bias, "bias_mcse": sd_est / np.sqrt(n),
                "rel_bias": rel_bias, "rmse": rmse,
                "mean_se": mean_se, "sd_est": sd_est, "se_ratio": mean_se / sd_est,
                "reps_used": used.astype(int),
                "nonconverged": np.full(len(used), self.failed, dtype=int),
            }


def wald_df(design, analysis, se_kind: str) -> int | None:
    """Degrees of freedom of the Wald reference distribution of an analysis
    on a design, as `fit(ci_dist="auto")` chooses them: t(G−1) for a
    two-level analysis of session rows with the therapist sandwich (G
    therapists), None (normal) otherwise (single-level analyses keep
    lavaan's normal, as their fits do)."""
    if design.kind == "sessions" and analysis.kind == "twolevel" and se_kind == "robust":
        return int(design.therapists) - 1
    return None


class OrderedFolds:
    """Folds chunks of every design in replicate order, whatever order they
    arrive in.  `folds[d][a]` is the Fold of design d, analysis a."""

    def __init__(self, folds: list[list[Fold]]):
        self.folds = folds
        self.next_start = [0] * len(folds)
        self.waiting: list[dict[int, dict]] = [{} for _ in folds]

    def add(self, chunk: dict) -> None:
        d = chunk["design"]
        self.waiting[d][chunk["start"]] = chunk
        while self.next_start[d] in self.waiting[d]:
            c = self.waiting[d].pop(self.next_start[d])
            for a, fold in enumerate(self.folds[d]):
                fold.add(c["est"][a], c["se"][a], c["ok"][a])
            self.next_start[d] = c["stop"]

    def buffered(self) -> int:
        return sum(len(w) for w in self.waiting)


def analytic_wald_power(effect_z: float, alpha: float = 0.05) -> float:
    """Power of a two-sided Wald test whose statistic is N(effect_z, 1)."""
    from ..estimate.distributions import norm_cdf
    z = norm_ppf(1 - alpha / 2)
    return float(norm_cdf(effect_z - z) + norm_cdf(-effect_z - z))


def mcse(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)
