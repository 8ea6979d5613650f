"""One likelihood object per data situation, chosen once at fit time.

Everything after estimation (vcov kinds, the scaled test, fit measures,
comparison, identification) talks to the model through this interface and
does not know which data situation it holds:

    n                       rows used (N; fit measures' ntotal, vcov scale)
    values                  fixed values per table row (fixed.x filled in)
    discrepancy(θ)          F, scaled so that N·F differs from chisq by a constant
    gradient(θ)             dF/dθ
    expected_information(θ) ½·E[d²F], per row: vcov = (N·information)⁻¹
    observed_information(θ) ½·d²F, per row
    scores(θ)               dℓ_u/dθ per independent unit u (a case or a cluster)
    fit_statistics(θ, F)    fmin, chisq, logl, unrestricted.logl, baseline, srmr
    h1_trace(clusters)      tr(A₁⁻¹B₁) of the saturated model (scaled test)
    baseline_trace(clusters) the same for the baseline model
    estimate(start)         the verified ML solution

Implementations: `CompleteML` (complete single-level data; lavaan's
lav_mvnorm), `TwoLevelML` (two-level data; lav_mvnorm_cluster), `FIML`
(incomplete single-level data; lav_mvnorm_missing) and `TwoLevelFIML`
(incomplete two-level data; lav_mvnorm_cluster_missing).  `Clusters`
passed to the traces (and to vcov.meat) sum the units' scores within a
higher level: therapists over cases for a single-level fit, therapists over
clients for a two-level one.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from importlib import import_module

import numpy as np

from ..errors import EstimationError
from ..partable import ParTable, build
from ..syntax.statement import Statement
from . import engine, ml, starts
from .scoring import Discrepancy, fisher_scoring
from .robust_test import h0_trace
from .vcov import meat
from .ram import ram_of


class _OnFirstUse:
    """A module of this package imported when one of its names is first
    used: the two-level and FIML numerics (tl, tm, fiml below) are loaded
    only by fits of those data situations, not by every complete-data fit
    (about a tenth of a CLI fit's import time)."""

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attr):
        if self._module is None:
            self._module = import_module(self._name, __package__)
        return getattr(self._module, attr)


fiml = _OnFirstUse(".fiml")
tl = _OnFirstUse(".twolevel")
tm = _OnFirstUse(".twolevel_missing")

GRAD_TOL = 1e-9          # max |dF/dθ| accepted for a two-level solution
MAX_SCORING = 200


def verified_solution(lik, theta, method: str, what: str, check: str) -> engine.Solution:
    """Fisher scoring from θ, accepted only when the gradient vanishes
    (max |dF/dθ| ≤ GRAD_TOL); else an EstimationError saying what to try."""
    theta, it, gnorm = fisher_scoring(lik, theta, max_iter=MAX_SCORING, tol=GRAD_TOL / 10)
    f = lik.discrepancy(theta)
    if not np.isfinite(f) or gnorm > GRAD_TOL:
        raise EstimationError(
            f"The estimation of {what} did not converge: after {it} scoring iterations "
            f"the gradient norm is {gnorm:.2e} (needs < {GRAD_TOL:.0e}). Check that the "
            f"model is identified and that {check}; give start values with start().",
            iterations=it, gradient_norm=gnorm, theta=theta)
    return engine.Solution(theta, lik.values, it, gnorm, f, method)


# -- complete data, one level ------------------------------------------------------------

class CompleteML(Discrepancy):
    """Normal-theory ML on complete single-level data (estimate/ml.py); its
    discrepancy, gradient and expected information are scoring.Discrepancy's."""

    kind = "ml"
    default_information = "expected"

    def __init__(self, pt: ParTable, mom: ml.Moments):
        self.pt, self.mom = pt, mom
        self.ram = ram_of(pt)
        self.values = engine.fixed_values(pt, self.ram, mom)
        self.n = mom.n
        self.npar = pt.npar

    @classmethod
    def from_array(cls, pt: ParTable, X: np.ndarray) -> "CompleteML":
        return cls(pt, ml.Moments.from_array(X))

    def observed_information(self, theta):
        return ml.observed_information(self.ram, theta, self.mom, self.values)

    def scores(self, theta):
        return ml.casewise_scores(self.ram, theta, self.mom, self.values)

    def estimate(self, start=None, method="auto") -> engine.Solution:
        return engine.estimate(self.pt, self.mom, self.ram, start=start, method=method)

    def implied(self, theta):
        return self.ram.implied(theta, self.values)

    def fit_statistics(self, theta, fmin=None) -> dict:
        from . import fitmeasures
        return fitmeasures.complete_statistics(self.pt, self.ram, theta, self.values,
                                               self.mom, fmin)

    def h1_trace(self, clusters=None) -> float:
        from . import robust_test
        return robust_test.h1_trace(self.pt, self.mom, clusters)

    def baseline_trace(self, clusters=None) -> float:
        from . import robust_test
        return robust_test.baseline_trace(self.pt, self.mom, clusters)


# -- two levels ---------------------------------------------------------------------------

def _cov_statements(names, level, fixed=None, diagonal_only=False):
    out = []
    for i, a in enumerate(names):
        for b in names[i:]:
            if diagonal_only and a != b:
                continue
            out.append(Statement(a, "~~", b, fixed=None if fixed is None else fixed(a, b),
                                 level=level))
    return out


@lru_cache(maxsize=64)
def saturated_table(pt: ParTable) -> ParTable:
    """The two-level saturated (h1) model: every within and between
    covariance free, the means in the between part (within-only variables
    keep theirs at level 1); no fixed covariates."""
    ob1, ob2 = pt.blocks[0].observed, pt.blocks[1].observed
    l1, l2 = pt.levels
    stmts = _cov_statements(ob1, l1) + _cov_statements(ob2, l2)
    within_only = [v for v in ob1 if v not in ob2]
    stmts += [Statement(v, "~1", "", level=l1) for v in within_only]
    return build(stmts, meanstructure=True)


@lru_cache(maxsize=64)
def baseline_table(pt: ParTable) -> ParTable:
    """lavaan's two-level baseline: independence at both levels (a variance
    per variable and level, level-2 means free), the covariates' blocks and
    the level-1 means fixed at the saturated model's values.  Those rows
    hold NaN here (baseline_values fills them per fit), so that the table,
    its RAM layout and two-level structure are built once per model."""
    l1, l2 = pt.levels
    stmts = []
    for level, vars_b, x in ((l1, pt.blocks[0].observed, pt.blocks[0].covariates),
                             (l2, pt.blocks[1].observed, pt.blocks[1].covariates)):
        y = [v for v in vars_b if v not in x]
        stmts += _cov_statements(y, level, diagonal_only=True)
        stmts += _cov_statements(list(x), level, fixed=lambda a, b: np.nan)
        for v in vars_b:
            if level == l1 and v in pt.blocks[1].observed:
                continue                        # mean in the between part
            if level == l1 or v in x:
                stmts.append(Statement(v, "~1", "", fixed=np.nan, level=level))
            else:
                stmts.append(Statement(v, "~1", "", level=level))
    return build(stmts, meanstructure=True)


def baseline_values(bt: ParTable, h1: tl.MomentsAt) -> np.ndarray:
    """The values of baseline_table's rows: its NaN rows at the saturated
    model's moments of their level."""
    values = build_values(bt)
    iw, ib = h1.index
    for k, r in enumerate(bt.rows):
        if r.free or not np.isnan(values[k]):
            continue
        S, mu, idx = (h1.sigma_w, h1.mu_w, iw) if r.block == 1 else (h1.sigma_b, h1.mu_b, ib)
        values[k] = S[idx[r.lhs], idx[r.rhs]] if r.op == "~~" else mu[idx[r.lhs]]
    return values


class TwoLevelML:
    """Two-level normal ML on complete data (estimate/twolevel.py).

    The fixed covariates' moments are the saturated model's estimates (as
    lavaan), but the saturated model is fitted to convergence, not stopped
    at lavaan's loose EM tolerance (../shared/notes/multilevel.md)."""

    kind = "ml.twolevel"
    method = "twolevel"
    default_information = "observed"
    # Fisher scoring while max |dF/dθ| > 1e-3 (the expected information is
    # cheaper and safer far from the solution), Newton steps after it: the
    # expected information of two levels is not the Hessian at the solution
    # (nor is it with missing values), so scoring alone converges only
    # linearly (5-6 steps for the study model, 3 with Newton's)
    newton_below = 1e-3

    def __init__(self, pt: ParTable, data: tl.TwoLevelData, values=None, h1=None):
        self.pt, self.data = pt, data
        self.model = tl.TwoLevelModel(pt, data)
        self.n = data.n
        self.npar = pt.npar
        self._h1 = h1
        self.values = self._fixed_values() if values is None else values

    # the saturated model, fitted once and shared with the baseline
    @classmethod
    def saturated(cls, sat: ParTable, data, values) -> "TwoLevelML":
        """The saturated model `sat` (not yet fitted): its own h1."""
        lik = cls(sat, data, values=values)
        lik._h1 = lik
        return lik

    @property
    def h1(self) -> "TwoLevelML":
        if self._h1 is None:
            sat = saturated_table(self.pt)
            lik = type(self).saturated(sat, self.data, build_values(sat))
            lik.solution = lik._fit_saturated()
            self._h1 = lik
        return self._h1

    def h1_moments(self) -> tl.MomentsAt:
        h1 = self.h1
        s1, m1, s2, m2 = h1.model.moments(h1.solution.theta, h1.values)
        return tl.MomentsAt(h1.pt.blocks[0].observed, h1.pt.blocks[1].observed,
                            s1, m1, s2, m2)

    def _fixed_values(self) -> np.ndarray:
        values = build_values(self.pt)
        if not any(r.exo for r in self.pt.rows):
            return values
        m = self.h1_moments()
        iw, ib = m.index
        for k, r in enumerate(self.pt.rows):
            if not r.exo:
                continue
            S, mu, idx = (m.sigma_w, m.mu_w, iw) if r.block == 1 else (m.sigma_b, m.mu_b, ib)
            values[k] = S[idx[r.lhs], idx[r.rhs]] if r.op == "~~" else mu[idx[r.lhs]]
        return values

    # the likelihood interface -----------------------------------------------------
    def loglik(self, theta) -> float:
        return tl.loglik(self.model, theta, self.values)

    def discrepancy(self, theta):
        return -2.0 * self.loglik(theta) / self.n      # inf where not positive definite

    def gradient(self, theta):
        return -2.0 / self.n * tl.gradient(self.model, theta, self.values)

    def expected_information(self, theta):
        return tl.expected_information(self.model, theta, self.values) / self.n

    def observed_information(self, theta):
        return tl.observed_information(self.model, theta, self.values) / self.n

    def scores(self, theta):
        return tl.scores(self.model, theta, self.values)

    def implied(self, theta):
        return self.model.moments(theta, self.values)

    def _constant(self) -> float:
        """½·(values)·log 2π: the part of −ℓ that no model changes."""
        py, pz = len(self.data.y), len(self.data.z)
        return 0.5 * (self.n * py + self.data.n_clusters * pz) * ml.LOG2PI

    # estimation ------------------------------------------------------------------------
    @property
    def _start_data(self) -> tl.TwoLevelData:
        """Complete data whose moments start the saturated model."""
        return self.data

    def _fit_saturated(self):
        return self._finish(self._saturated_start(), what="the saturated two-level model")

    def _saturated_start(self) -> np.ndarray:
        """Pooled-within and cluster-mean moments: near the saturated MLE."""
        d = self._start_data
        sw = d.pooled_within()
        mu, C = d.between_start()
        iy = {v: i for i, v in enumerate(d.y)}
        ib = {v: i for i, v in enumerate(d.names)}
        theta = np.zeros(self.npar)
        for r in self.pt.rows:
            if not r.free:
                continue
            if r.op == "~~":
                theta[r.free - 1] = (sw[iy[r.lhs], iy[r.rhs]] if r.block == 1
                                     else C[ib[r.lhs], ib[r.rhs]])
            elif r.op == "~1":
                theta[r.free - 1] = mu[ib[r.lhs]]
        return theta

    def _finish(self, theta, what="the model"):
        if not np.isfinite(self.discrepancy(theta)):
            raise EstimationError(f"The start values of {what} imply a covariance matrix "
                                  f"that is not positive definite.")
        return verified_solution(self, theta, self.method, what,
                                 "no level-2 variance is close to zero")

    def start_values(self) -> np.ndarray:
        """Each block fitted on its own to the saturated model's moments of
        that level (the within moments with N, the between ones with J rows),
        with the single-level engine; shared labels take the first block's
        value."""
        m = self.h1_moments()
        theta = np.full(self.npar, np.nan)
        for b, (S, mu, n) in enumerate(((m.sigma_w, m.mu_w, self.n),
                                        (m.sigma_b, m.mu_b, self.data.n_clusters)), start=1):
            sub, index = _block_of(self.pt, b)
            try:
                est = _block_start(sub, _moments_with(S, mu, max(n, len(mu) + 2)))
            except (np.linalg.LinAlgError, ValueError, EstimationError):
                est = starts.simple(sub, S)      # a poor block start: simple starts
            for k_sub, k in enumerate(index):
                if np.isnan(theta[k]):
                    theta[k] = est[k_sub]
        return theta

    def estimate(self, start=None, method="auto") -> engine.Solution:
        theta = self.start_values() if start is None else np.asarray(start, float)
        if not np.isfinite(self.discrepancy(theta)):
            theta = _simple_starts_full(self)
        return self._finish(theta)

    # fit statistics ----------------------------------------------------------------------
    @cached_property
    def covariate_loglik(self) -> float:
        xw = list(self.pt.blocks[0].covariates)
        Xw = self.data.rows[:, [self.data.y.index(v) for v in xw]]
        return tl.covariate_loglik(self.data, Xw, list(self.pt.blocks[1].covariates))

    @cached_property
    def baseline(self) -> tuple["TwoLevelML", engine.Solution]:
        bt = baseline_table(self.pt)
        lik = type(self)(bt, self.data, values=baseline_values(bt, self.h1_moments()),
                         h1=self.h1)
        theta = np.zeros(lik.npar)
        m = self.h1_moments()
        iw, ib = m.index
        for r in bt.rows:
            if r.free and r.op == "~~":
                S, idx = (m.sigma_w, iw) if r.block == 1 else (m.sigma_b, ib)
                theta[r.free - 1] = max(S[idx[r.lhs], idx[r.lhs]], 1e-4)
            elif r.free and r.op == "~1":
                theta[r.free - 1] = m.mu_b[ib[r.lhs]]
        if isinstance(lik.data, tl.TwoLevelData):
            theta = _independence_start(lik, theta)
        return lik, lik._finish(theta, what="the baseline (independence) model")

    def fit_statistics(self, theta, fmin=None) -> dict:
        from ..partable import moment_counts
        ll = self.loglik(theta)
        h1 = self.h1
        ll1 = h1.loglik(h1.solution.theta)
        lx = self.covariate_loglik
        base, bsol = self.baseline
        llb = base.loglik(bsol.theta)
        data, fixed = moment_counts(self.pt)
        s1, m1, s2, m2 = self.implied(theta)
        hm = self.h1_moments()
        sw, sb = tl.srmr(hm.sigma_w, s1), tl.srmr(hm.sigma_b, s2)
        const = self._constant()
        return {
            "fmin": -(ll + const) / self.n,
            "chisq": max(2.0 * (ll1 - ll), 0.0),
            "logl": ll - lx,
            "unrestricted.logl": ll1 - lx,
            "baseline.chisq": 2.0 * (ll1 - llb),
            "baseline.df": data - fixed - base.npar,
            "srmr": sw + sb,
            "srmr_within": sw,
            "srmr_between": sb,
        }

    def h1_trace(self, clusters=None) -> float:
        """tr(A₁⁻¹B₁) of the saturated model at its estimates, the fixed
        covariates' moments left out."""
        h1 = self.h1
        theta = h1.solution.theta
        keep = _non_covariate_parameters(h1.pt, self.pt)
        A = h1.observed_information(theta)[np.ix_(keep, keep)]
        B = meat(h1.scores(theta)[:, keep], self.n, clusters)
        return h0_trace(A, B)

    def baseline_trace(self, clusters=None) -> float:
        base, sol = self.baseline
        return model_trace(base, sol.theta, self.n, clusters)


class TwoLevelFIML(TwoLevelML):
    """Two-level full-information ML on incomplete session rows and client
    values (estimate/twolevel_missing.py), lavaan's two-level
    missing = "ml".  Everything after the likelihood (the saturated model
    fitted to convergence, fixed covariates at its moments, the baseline,
    fit statistics, traces) is TwoLevelML's."""

    kind = "ml.twolevel.fiml"
    method = "twolevel.fiml"
    default_information = "observed"

    def loglik(self, theta) -> float:
        return tm.loglik(self.model, theta, self.values)

    def gradient(self, theta):
        return -2.0 / self.n * tm.gradient(self.model, theta, self.values)

    def expected_information(self, theta):
        return tm.expected_information(self.model, theta, self.values) / self.n

    def observed_information(self, theta):
        return tm.observed_information(self.model, theta, self.values) / self.n

    def scores(self, theta):
        return tm.scores(self.model, theta, self.values)

    def _constant(self) -> float:
        return tm.constant(self.data)

    @cached_property
    def _start_data(self) -> tl.TwoLevelData:
        return self.data.completed()

    @cached_property
    def covariate_loglik(self) -> float:
        """As lavaan: the level-1 covariates' sample covariance over the rows,
        the level-2 ones' over the cluster means (covariates are complete:
        rows with a missing covariate are dropped before)."""
        xw = list(self.pt.blocks[0].covariates)
        Xw = self.data.rows[:, [self.data.y.index(v) for v in xw]]
        return tl.covariate_loglik(self.data, Xw, list(self.pt.blocks[1].covariates))


# -- missing data: full-information ML ---------------------------------------------------

class FIML:
    """Full-information ML on incomplete single-level data (estimate/fiml.py),
    lavaan's missing = "ml" (rows with a missing covariate dropped by the
    caller) or "ml.x" (kept).  The covariates' fixed moments and the
    saturated model are the EM estimates, run to convergence."""

    kind = "ml.fiml"
    default_information = "observed"
    newton_below = np.inf      # Newton steps wherever the Hessian allows (scoring.step_information)

    def __init__(self, pt: ParTable, data, values=None, em=None, auxiliary=()):
        """`em`: the saturated model's (μ, Σ, iterations) when already known
        (the baseline model shares the model's).  `auxiliary`: the saturated
        correlates among pt's variables (kept correlated in the baseline)."""
        self.pt, self.data = pt, data
        self.auxiliary = tuple(auxiliary)
        self.ram = ram_of(pt)
        self.n = data.n
        self.npar = pt.npar
        if em is not None:
            self.__dict__["_saturated"] = em
        self.values = self._fixed_values() if values is None else values

    @cached_property
    def _saturated(self):
        """(μ, Σ, iterations) of the saturated model, fitted when first
        needed: a bootstrap refit with complete covariates never needs it."""
        return fiml.saturated(self.data)

    @property
    def em(self):
        return self._saturated[:2]

    @property
    def em_iterations(self) -> int:
        return self._saturated[2]

    def _fixed_values(self):
        """The covariates' fixed moments: their sample moments when they are
        complete (equal to the EM estimates there, as the likelihood factors
        into the covariates' marginal and the rest given them), else the EM
        estimates (fiml.x)."""
        pos = {v: i for i, v in enumerate(self.pt.observed)}
        x = [pos[v] for v in self.pt.covariates]
        Xx = self.data.X[:, x]
        if not x:
            return build_values(self.pt)
        if np.isnan(Xx).any():
            mu, sigma = self.em
        else:
            mu, sigma = np.zeros(len(pos)), np.zeros((len(pos), len(pos)))
            mu[x] = Xx.mean(axis=0)
            sigma[np.ix_(x, x)] = np.cov(Xx, rowvar=False, bias=True).reshape(len(x), len(x))
        values = build_values(self.pt)
        for k, r in enumerate(self.pt.rows):
            if r.exo:
                values[k] = sigma[pos[r.lhs], pos[r.rhs]] if r.op == "~~" else mu[pos[r.lhs]]
        return values

    def implied(self, theta):
        return self.ram.implied(theta, self.values)

    def loglik(self, theta) -> float:
        sigma, mu, *_ = self.ram.implied(theta, self.values)
        return fiml.loglik(self.data, mu, sigma)

    def discrepancy(self, theta):
        return -2.0 * self.loglik(theta) / self.n

    def gradient(self, theta):
        """dF/dθ (θ may carry leading batch dimensions)."""
        sigma, mu, *_ = self.ram.implied(theta, self.values)
        g_mu, G = fiml.moment_gradient(self.data, mu, sigma)
        g = np.concatenate([g_mu, tl._vechw(G)], axis=-1)
        J = self.ram.jacobian(theta, self.values)
        return -2.0 / self.n * np.einsum("...m,...mk->...k", g, J)

    def expected_information(self, theta):
        sigma, *_ = self.ram.implied(theta, self.values)
        J = self.ram.jacobian(theta, self.values)
        return J.T @ fiml.moment_information(self.data, sigma) @ J / self.n

    def observed_information(self, theta):
        """½·d²F/dθdθ': the analytic moment information through the RAM
        Jacobian, plus the moment gradient times the moments' second
        derivatives (ram.RAM.curvature: model algebra only, no data)."""
        theta = np.asarray(theta, dtype=float)
        sigma, mu, *_ = self.ram.implied(theta, self.values)
        J = self.ram.jacobian(theta, self.values)
        info = J.T @ fiml.moment_observed_information(self.data, mu, sigma) @ J
        g_mu, G = fiml.moment_gradient(self.data, mu, sigma)
        info = (info - self.ram.curvature(theta, self.values, G, g_mu)) / self.n
        return 0.5 * (info + info.T)

    def scores(self, theta):
        sigma, mu, *_ = self.ram.implied(theta, self.values)
        return fiml.moment_scores(self.data, mu, sigma) @ self.ram.jacobian(theta, self.values)

    def estimate(self, start=None, method="auto") -> engine.Solution:
        if start is None:
            mu, sigma = self.em
            theta = _block_start(self.pt, _moments_with(sigma, mu, max(self.n, len(mu) + 2)))
        else:
            theta = np.asarray(start, dtype=float)
        if not np.isfinite(self.discrepancy(theta)):
            theta = starts.simple(self.pt, self.em[1])
        observed = np.sum(~np.isnan(self.data.X), axis=0)
        fewest = np.argsort(observed, kind="stable")[:2]
        few = ", ".join(f"'{self.pt.observed[j]}' {observed[j]} of {self.n} rows"
                        for j in fewest)
        return verified_solution(self, theta, "fiml", "the model",
                                 f"every variable has enough observed values (the "
                                 f"fewest: {few})")

    # the saturated and baseline models ------------------------------------------------
    def h1_loglik(self) -> float:
        return fiml.loglik(self.data, *self.em)

    @cached_property
    def covariate_loglik(self) -> float:
        """The covariates' marginal, subtracted from the reported logl as
        lavaan does: all N rows at the covariates' fixed (EM) covariance."""
        idx = [self.pt.observed.index(v) for v in self.pt.covariates]
        return ml.loglik_saturated(self.em[1][np.ix_(idx, idx)], self.n) if idx else 0.0

    @cached_property
    def baseline(self):
        bt = baseline_table_single(self.pt, *self.em, auxiliary=self.auxiliary)
        lik = FIML(bt, self.data, values=build_values(bt), em=(*self.em, self.em_iterations))
        mu, sigma = self.em
        # a variable the baseline leaves uncorrelated has its available-case
        # mean and variance as ML estimates (its likelihood factors out):
        # start there, so scoring has only the correlated ones (auxiliaries)
        # left to do; the others start at the EM moments
        alone_mu, alone_var = self.data.start_moments()
        tied = {v for r in bt.rows if r.free and r.op == "~~" and r.lhs != r.rhs
                for v in (r.lhs, r.rhs)}
        pos = {v: i for i, v in enumerate(bt.observed)}
        theta = np.zeros(bt.npar)
        for r in bt.rows:
            if not r.free:
                continue
            i, alone = pos[r.lhs], r.lhs not in tied
            if r.op == "~1":
                theta[r.free - 1] = alone_mu[i] if alone else mu[i]
            elif r.lhs == r.rhs:
                theta[r.free - 1] = alone_var[i, i] if alone else sigma[i, i]
            else:
                theta[r.free - 1] = sigma[i, pos[r.rhs]]
        theta, it, gnorm = fisher_scoring(lik, theta)
        return lik, engine.Solution(theta, lik.values, it, gnorm, lik.discrepancy(theta), "fiml")

    def fit_statistics(self, theta, fmin=None) -> dict:
        from ..partable import moment_counts
        from . import fitmeasures
        ll, ll1, lx = self.loglik(theta), self.h1_loglik(), self.covariate_loglik
        base, bsol = self.baseline
        data, fixed = moment_counts(self.pt)
        chisq = max(2.0 * (ll1 - ll), 0.0)
        sigma, mu, *_ = self.implied(theta)
        em = ml.Moments(self.data.X, self.em[0], self.em[1], self.n)
        return {"fmin": chisq / (2.0 * self.n), "chisq": chisq, "logl": ll - lx,
                "unrestricted.logl": ll1 - lx,
                "baseline.chisq": 2.0 * (ll1 - base.loglik(bsol.theta)),
                "baseline.df": data - fixed - base.npar,
                "srmr": fitmeasures.srmr(self.pt, em, sigma, mu)}

    def h1_trace(self, clusters=None) -> float:
        from .robust_test import _h1_kept
        sat = fiml.Saturated(self.data)
        eta = sat.pack(*self.em)
        keep = _h1_kept(self.pt)
        A = sat.observed_information(eta)[np.ix_(keep, keep)]
        B = meat(fiml.moment_scores(self.data, *self.em)[:, keep], self.n, clusters)
        return h0_trace(A, B)

    def baseline_trace(self, clusters=None) -> float:
        base, sol = self.baseline
        return model_trace(base, sol.theta, self.n, clusters)


def model_trace(lik, theta, n, clusters=None) -> float:
    """tr(A⁻¹B) of a model at its estimates (observed information, meat of
    its unit scores)."""
    A = lik.observed_information(theta)
    B = meat(lik.scores(theta), n, clusters)
    return h0_trace(A, B)


def baseline_table_single(pt: ParTable, mu, sigma, auxiliary=()) -> ParTable:
    """lavaan's single-level baseline: a variance and a mean per
    non-covariate, the covariates' block fixed at the given moments; the
    auxiliaries (saturated correlates) keep their covariances with every
    variable, so that they do not inflate CFI/TLI (Graham, 2003)."""
    pos = {v: i for i, v in enumerate(pt.observed)}
    x = list(pt.covariates)
    y = [v for v in pt.observed if v not in x]
    stmts = _cov_statements(y, "", diagonal_only=True)
    aux = [a for a in pt.observed if a in set(auxiliary)]
    stmts += [Statement(a, "~~", v, level="") for i, a in enumerate(aux)
              for v in pt.observed if v not in aux[:i + 1]]
    stmts += _cov_statements(x, "", fixed=lambda a, b: float(sigma[pos[a], pos[b]]))
    stmts += [Statement(v, "~1", "", level="") for v in y]
    stmts += [Statement(v, "~1", "", fixed=float(mu[pos[v]]), level="") for v in x]
    bt = build(stmts, meanstructure=True)
    # the baseline must list the variables in the model's order
    from dataclasses import replace
    return replace(bt, observed=tuple(pt.observed), covariates=())


def _non_covariate_parameters(sat: ParTable, pt: ParTable) -> np.ndarray:
    """Free parameters of the saturated table that are not moments of the
    model's fixed covariates."""
    x = {1: set(pt.blocks[0].covariates), 2: set(pt.blocks[1].covariates)}
    keep = [r.free - 1 for r in sat.rows if r.free and not (
        r.lhs in x[r.block] and (r.op == "~1" or r.rhs in x[r.block]))]
    return np.array(sorted(set(keep)), dtype=int)


def build_values(pt: ParTable) -> np.ndarray:
    return np.array([r.value for r in pt.rows], dtype=float)


@lru_cache(maxsize=64)
def _block_of(pt: ParTable, b: int) -> tuple[ParTable, list[int]]:
    """Block b of a two-level table renumbered on its own (_renumbered),
    built once per table: every fit and bootstrap draw starts from it."""
    return _renumbered(pt.block(b))


@lru_cache(maxsize=64)
def _covariance_part(sub: ParTable) -> tuple[ParTable, list[int]]:
    """The table without its intercepts, renumbered (_renumbered), built
    once per table."""
    from dataclasses import replace
    cov_rows = tuple(r for r in sub.rows if r.op != "~1")
    return _renumbered(replace(sub, rows=cov_rows, meanstructure=False))


def _renumbered(pt_b: ParTable) -> tuple[ParTable, list[int]]:
    """A block's table with its own free numbering 1..k (for start values);
    and the global θ position of each of its parameters."""
    from dataclasses import replace
    mapping: dict[int, int] = {}
    rows = []
    for r in pt_b.rows:
        if r.free:
            mapping.setdefault(r.free, len(mapping) + 1)
            rows.append(replace(r, free=mapping[r.free]))
        else:
            rows.append(r)
    sub = replace(pt_b, rows=tuple(rows), n_free=None)
    return sub, [g - 1 for g in mapping]


def _block_start(sub: ParTable, mom: ml.Moments) -> np.ndarray:
    """θ of one block fitted on its own to the moments of its level: the
    covariance structure by the closed form where it applies, else by Fisher
    scoring from simple and instrumental-variable starts (bounded; no
    semopy, whose import alone costs seconds), then the free intercepts set
    so that the implied means equal the level's means."""
    from . import closedform
    cov_pt, index = _covariance_part(sub)
    ram = ram_of(cov_pt)
    values = engine.fixed_values(cov_pt, ram, mom)
    plan = closedform.plan(cov_pt)
    theta = closedform.solve(plan, mom.mean, mom.cov, cov_pt.npar) if plan is not None else None
    if theta is None or not np.all(np.isfinite(theta)):
        theta = starts.instrumental(cov_pt, mom.cov, starts.simple(cov_pt, mom.cov))
        if np.isfinite(ml.discrepancy(ram, theta, mom, values)):
            theta, _, _ = engine.fisher_scoring(ram, theta, mom, values, max_iter=50)
    full = np.zeros(sub.npar)
    full[index] = theta
    sub_ram = ram_of(sub)
    return engine.saturated_intercepts(sub, sub_ram, full,
                                       engine.fixed_values(sub, sub_ram, mom), mom)


def _moments_with(S, mu, n) -> ml.Moments:
    """Moments of n cases with mean mu and covariance S (made positive
    definite) for _block_start, which reads only the moments: no rows."""
    vals, vecs = np.linalg.eigh(S)
    S_pd = (vecs * np.maximum(vals, 1e-6 * max(vals.max(), 1e-8))) @ vecs.T
    return ml.Moments(None, np.asarray(mu, float), S_pd, n)


def _independence_start(lik: TwoLevelML, theta: np.ndarray) -> np.ndarray:
    """θ of the two-level baseline (independence) model with its variables
    that are no covariate at either level at their own ML estimates: such a
    variable shares no parameter and no covariance with any other, so its
    likelihood is its own (between-only: the mean and biased variance of
    its cluster values; level-1: twolevel.random_intercept_ml).  The fit
    from here (verified as every fit) then needs at most a step; variables
    of other roles keep their start from θ."""
    data = lik.data
    where = {(r.block, r.op, r.lhs): k for k, r in enumerate(lik.pt.rows)}
    free = {key: lik.pt.rows[k].free - 1 for key, k in where.items() if lik.pt.rows[k].free}
    theta = theta.copy()
    for i, v in enumerate(data.z):
        if (2, "~~", v) in free and (2, "~1", v) in free:
            col = data.d[:, i]
            theta[free[2, "~~", v]], theta[free[2, "~1", v]] = np.var(col), np.mean(col)
    both = [(j, v) for j, v in enumerate(data.y)
            if all(key in free for key in ((1, "~~", v), (2, "~~", v), (2, "~1", v)))]
    if both:
        m1 = np.array([lik.values[where[1, "~1", v]] if (1, "~1", v) in where else 0.0
                       for _, v in both])
        start = [np.array([theta[free[blk, "~~", v]] for _, v in both]) for blk in (1, 2)]
        start.append(np.array([theta[free[2, "~1", v]] for _, v in both]) + m1)
        est = tl.random_intercept_ml(data, [j for j, _ in both], start)
        if est is not None:
            a, b, mu = est
            for k, (_, v) in enumerate(both):
                theta[free[1, "~~", v]], theta[free[2, "~~", v]] = a[k], b[k]
                theta[free[2, "~1", v]] = mu[k] - m1[k]
    return theta


def _simple_starts_full(lik: TwoLevelML) -> np.ndarray:
    m = lik.h1_moments()
    theta = np.zeros(lik.npar)
    for b, S in ((1, m.sigma_w), (2, m.sigma_b)):
        sub, index = _block_of(lik.pt, b)
        est = starts.simple(sub, S)
        for k_sub, k in enumerate(index):
            if theta[k] == 0:
                theta[k] = est[k_sub]
    return theta
