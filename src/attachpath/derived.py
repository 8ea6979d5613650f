"""The parts of a fit's Result computed on first access (issue 19).

fit() computes at once what every fit needs and everything that can fail or
warn: the estimates, their vcov and SEs, the := values with delta-method
SEs, the checks of identification, admissibility and clusters.  What is
derived from those numbers, and costs more than the estimation of a small
path model, waits until it is read: the fit measures and the scaled test of
a complete-data fit, the standardized columns, R², the estimates DataFrame,
the named vcov (and, in fitting.py, the ICCs and the data hash of the
provenance).  One Derived per fit computes each part once; the Result holds
them as result.Deferred values and reads the same as if they were computed
in the fit.

Two-level and FIML fits compute their fit measures at once (Derived.fit in
_inference): their saturated and baseline models are fitted iteratively and
a failure to converge must surface at fit time, not on a later read.
"""

from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np

from . import effects
from .estimate import fitmeasures
from .estimate.distributions import two_sided_p
from .partable import ParTable
from .result import COLUMNS
from .table import Table

MODEL_OPS = ("~", "=~", "~~", "~1")


class Derived:
    """The deferred parts of one fit, each computed on first use and kept.

    `est`, `se`, `lo`, `hi`: the numbers of the estimates table (model rows,
    then := rows) as fit() computed them; `robust`: (A, B) of the sandwich
    when the fit is MLR (for the scaled test); `fit_extra`: entries set after
    the fit measures (converged, iterations, nclusters, FIML's corrected
    indices); `held`: rows held at an inequality bound (no SE, z, p or CI)."""

    def __init__(self, pt, lik, sol, *, V, defined, est, se, lo, hi, df_t,
                 clusters=None, robust=None, fit_extra=None, fit_late=None, held=()):
        self.pt, self.lik, self.sol = pt, lik, sol
        self.V, self.defined = V, defined
        self.est, self.se, self.lo, self.hi, self.df_t = est, se, lo, hi, df_t
        self.clusters, self.robust = clusters, robust
        self.fit_extra = fit_extra or {}
        self.fit_late = fit_late
        self.held = held

    # -- fit measures ------------------------------------------------------
    @cached_property
    def _fit(self) -> tuple[dict, list[str]]:
        lik, theta = self.lik, self.sol.theta
        fit = fitmeasures.fit_measures(lik, theta, fmin=self.sol.discrepancy)
        fit["converged"] = True
        fit["iterations"] = self.sol.iterations
        notes = []
        if self.robust is not None:
            from .estimate import robust_test
            scaled = robust_test.scaled_fit(lik, theta, self.clusters, fit, *self.robust)
            notes = scaled.pop("notes", [])
            fit.update(scaled)
        if self.fit_late is not None:        # FIML's corrected indices need df
            fit.update(self.fit_late(fit))
        fit.update(self.fit_extra)
        return fit, notes

    @property
    def fit(self) -> dict:
        return self._fit[0]

    @property
    def fit_notes(self) -> list[str]:
        """Warnings of the fit measures (a negative scaling factor)."""
        return self._fit[1]

    def warnings(self, before, after) -> tuple[str, ...]:
        """The Result's warnings: `before`, the fit measures' notes, `after`."""
        return tuple(dict.fromkeys(list(before) + self.fit_notes + list(after)))

    # -- standardized values and the table -----------------------------------
    @cached_property
    def row_std(self) -> np.ndarray:
        return effects.standardized_rows(self.pt, self.sol.theta, self.sol.values)

    @cached_property
    def r2(self) -> dict:
        return effects.r_squared_rows(self.pt, self.sol.theta, self.sol.values)

    @cached_property
    def vcov(self):
        """The vcov as a named pandas DataFrame (Result.vcov)."""
        import pandas as pd

        from .data.checks import column_index
        names = column_index(tuple(self.pt.free_names))
        return pd.DataFrame(self.V, index=names, columns=names)

    @cached_property
    def table(self) -> Table:
        pt, theta, values = self.pt, self.sol.theta, self.sol.values
        model_rows, _ = model_rows_of(pt)
        row_lv, row_nox = effects.standardized_lv_nox_rows(pt, theta, values)
        std = np.column_stack([
            np.concatenate([r[model_rows], effects.standardized_defined(pt, self.defined, r)])
            for r in (row_lv, self.row_std, row_nox)])
        est = estimates_table(pt, self.est, self.se, self.lo, self.hi, std, self.df_t)
        if self.held:
            # a parameter held at a bound has no sampling variance: lavaan shows
            # no SE, z, p or interval for it
            rows = np.isin(est["lhs"] + est["op"] + est["rhs"], list(self.held))
            for name in ("se", "z", "pvalue", "ci.lower", "ci.upper"):
                est = est.with_values(name, rows, np.nan)
        return est

    @cached_property
    def estimates(self):
        """The table as the pandas DataFrame users read (Result.estimates)."""
        return self.table.to_frame()


@lru_cache(maxsize=256)
def model_rows_of(pt: ParTable) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the model rows (all but :=) in pt.rows and of their
    parameters in θ (-1 for a fixed row)."""
    rows = np.array([k for k, r in enumerate(pt.rows) if r.op in MODEL_OPS], dtype=int)
    idx = np.array([pt.rows[k].free - 1 for k in rows], dtype=int)
    rows.setflags(write=False)
    idx.setflags(write=False)
    return rows, idx


@lru_cache(maxsize=256)
def _names_columns(pt: ParTable) -> dict:
    """lhs, op, rhs, label of the estimates rows: model rows, then := rows;
    two-level models add lavaan's block and level after rhs."""
    model = [pt.rows[k] for k in model_rows_of(pt)[0]]
    defined = pt.defined()
    cols = {"lhs": [r.lhs for r in model] + [r.lhs for r in defined],
            "op": [r.op for r in model] + [":="] * len(defined),
            "rhs": [r.rhs for r in model] + [r.rhs for r in defined]}
    if pt.multilevel:
        blocks = [r.block for r in model] + [0] * len(defined)
        cols["block"] = np.array(blocks, dtype=np.int64)
        cols["level"] = np.array(blocks, dtype=np.int64)
    cols["label"] = [r.label for r in model] + [r.lhs for r in defined]
    return Table(cols)._columns        # read-only arrays, shared by the fits of pt


def estimates_table(pt, est, se, lo, hi, std, df_t=None) -> Table:
    """The estimates in the columns of COLUMNS (two-level: with block and
    level after rhs): the model's cached names next to the numbers
    (p-values from t(df_t) when given)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.isfinite(se) & (se > 0), est / se, np.nan)
    p = two_sided_p(z, df_t)    # t(G−1) with ci_dist="t", the therapist/client default
    numbers = np.column_stack([est, se, z, p, lo, hi, std]).astype(float)
    cols = dict(_names_columns(pt))
    cols.update(zip(COLUMNS[4:], numbers.T))
    return Table(cols)
