"""One chunk of replicates, run on a Dask worker (or in the client process).

Replicate r of design d draws its data from its own random stream,
SeedSequence(seed, spawn_key=(d, r)), so a replicate's data and estimates do
not depend on which chunk, worker or scheduler ran it.  Each analysis is
fitted by the lean path of attachpath.fitting.fit: the closed form of a
recursive path model where it applies (else Fisher scoring from the
population values, else semopy), checked by the analytic gradient, then the
vcov of the chosen kind.  Fit measures, standardized values and the Result
are skipped: a power study needs only estimates and SEs.

Session designs (a two-level population) feed every analysis of a replicate
the same session data: a "twolevel" analysis is fitted to the session rows by
fit_twolevel (TwoLevelML, start values from the population, the between-only
covariates' fixed moments in closed form, Fisher scoring bounded by
likelihood.MAX_SCORING steps), a single-level analysis to the client means
(sessions averaged per client), both with therapist-robust SEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..estimate.ml import Moments
from .design import ClusteredDesign, SessionDesign, SimpleDesign
from .population import (Analysis, analysis_partable, population_of, reported_rows,
                         true_values)


@dataclass(frozen=True)
class Study:
    """Everything a worker needs, small and picklable (spec texts, not tables)."""

    population: str
    analyses: tuple[Analysis, ...]
    designs: tuple[SimpleDesign | ClusteredDesign | SessionDesign, ...]
    seed: int
    se: str | None = None          # None: robust for clustered designs, else standard

    def se_for(self, design) -> str:
        if self.se:
            return self.se
        return "robust" if design.kind in ("clustered", "sessions") else "standard"


def replicate_rng(seed: int, design: int, rep: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(design, rep)))


@lru_cache(maxsize=8)
def _prepared(study: Study):
    """Population Cholesky factor(s) and, per analysis, its table, RAM, start
    values and the positions of the reported rows (built once per worker)."""
    from ..effects import Defined
    from ..estimate.ram import ram_of
    pop = population_of(study.population)
    if pop.multilevel:
        chol = (np.linalg.cholesky(pop.levels.sigma_w), np.linalg.cholesky(pop.levels.sigma_b))
    else:
        chol = np.linalg.cholesky(pop.sigma)
    prepared = []
    for a in study.analyses:
        pt = analysis_partable(a)
        start, _ = true_values(pop, pt)
        rows = reported_rows(pt)
        free_idx = np.array([pt.rows[k].free - 1 for k in rows if pt.rows[k].op != ":="],
                            dtype=int)
        defined = Defined.from_partable(pt)
        cols = [list(pop.observed).index(v) for v in pt.observed]
        prepared.append((pt, None if pt.multilevel else ram_of(pt), start, free_idx,
                         defined, cols))
    return pop, chol, prepared


def run_chunk(study: Study, design_index: int, start: int, stop: int) -> dict:
    """Estimates and SEs of replicates start..stop-1 of one design.

    Returns {"design", "start", "stop", "est": [m x k per analysis],
    "se": [...], "ok": [m bools per analysis]}; a replicate whose fit fails
    has ok False and NaN estimates."""
    from ..threads import single_thread_blas
    pop, chol, prepared = _prepared(study)
    design = study.designs[design_index]
    se_kind = study.se_for(design)
    m = stop - start
    out = {"design": design_index, "start": start, "stop": stop, "est": [], "se": [], "ok": []}
    for pt, *_ in prepared:
        k = len(reported_rows(pt))
        out["est"].append(np.full((m, k), np.nan))
        out["se"].append(np.full((m, k), np.nan))
        out["ok"].append(np.zeros(m, dtype=bool))
    if design.kind == "sessions":
        with single_thread_blas():
            _session_chunk(study, pop, chol, prepared, design, se_kind, out)
        return out
    with single_thread_blas():
        draws = [design.draw(replicate_rng(study.seed, design_index, rep), chol, pop.mu)
                 for rep in range(start, stop)]
        clusters = draws[0][1]
        cmat = None
        if clusters is not None:
            from ..estimate.clusters import Clusters
            cmat = Clusters.from_ids("cluster", clusters)   # the same for every replicate
        stack = np.stack([X for X, _ in draws])     # m x n x p
        del draws
        for a, (pt, ram, start_theta, free_idx, defined, cols) in enumerate(prepared):
            Xa = stack[:, :, cols]
            mean = Xa.mean(axis=1)
            R = Xa - mean[:, None, :]
            cov = np.einsum("rni,rnj->rij", R, R) / Xa.shape[1]
            closed = _closed_form_batch(pt, ram, mean, cov, Xa.shape[1])
            fits = [_fit_single(pt, ram, Moments(Xa[i], mean[i], cov[i], Xa.shape[1]),
                                start_theta, se_kind, cmat,
                                None if closed is None else closed[i]) for i in range(m)]
            _store(out, a, fits, free_idx, defined)
    return out


def _session_chunk(study, pop, chol, prepared, design, se_kind, out) -> None:
    """Fill `out` for a chunk of a session design: every analysis on the
    same simulated sessions of each replicate."""
    from ..estimate.clusters import Clusters
    d, start, stop = out["design"], out["start"], out["stop"]
    names = pop.observed
    draws = [design.draw(replicate_rng(study.seed, d, rep), pop.levels, *chol, names)
             for rep in range(start, stop)]
    therapists = [Clusters.from_ids("therapist", dr.therapist) for dr in draws]
    clients = [Clusters.from_ids("client", dr.client) for dr in draws]
    means = None
    for a, (pt, ram, start_theta, free_idx, defined, cols) in enumerate(prepared):
        if pt.multilevel:
            _store(out, a, [_fit_twolevel(pt, dr.X[:, cols], clients[i], therapists[i],
                                          start_theta, se_kind)
                            for i, dr in enumerate(draws)], free_idx, defined)
            continue
        if means is None:        # client rows: the sessions averaged per client
            means = np.stack([clients[i].mean(dr.X) for i, dr in enumerate(draws)])
        Xa = means[:, :, cols]
        mean = Xa.mean(axis=1)
        R = Xa - mean[:, None, :]
        cov = np.einsum("rni,rnj->rij", R, R) / Xa.shape[1]
        closed = _closed_form_batch(pt, ram, mean, cov, Xa.shape[1])
        _store(out, a, [_fit_single(pt, ram, Moments(Xa[i], mean[i], cov[i], Xa.shape[1]),
                                    start_theta, se_kind, therapists[i],
                                    None if closed is None else closed[i])
                        for i in range(len(draws))], free_idx, defined)


def _store(out: dict, a: int, fits: list, free_idx, defined) -> None:
    """Estimates and SEs of the reported rows of analysis a from each
    replicate's (θ̂, vcov) (None: failed), the := rows' delta method for the
    whole chunk in one vectorised evaluation (the same arithmetic per
    replicate as effects.central_jacobian, so the same numbers)."""
    done = [i for i, f in enumerate(fits) if f is not None]
    if not done:
        return
    theta = np.stack([fits[i][0] for i in done])                 # r x k
    V = np.stack([fits[i][1] for i in done])                     # r x k x k
    var = np.diagonal(V, axis1=1, axis2=2)
    est = theta[:, free_idx]
    se = np.sqrt(np.where(var >= 0, var, np.nan))[:, free_idx]
    if len(defined):
        r, k = theta.shape
        h = 1e-6 * np.maximum(1.0, np.abs(theta))                 # as central_jacobian
        eye = np.eye(k)[None]
        batch = np.concatenate([theta[:, None, :], theta[:, None, :] + eye * h[:, None, :],
                                theta[:, None, :] - eye * h[:, None, :]], axis=1)
        vals = defined.evaluate(batch.reshape(-1, k)).reshape(r, 2 * k + 1, -1)
        J = np.swapaxes((vals[:, 1:k + 1] - vals[:, k + 1:]) / (2 * h)[:, :, None], 1, 2)
        d_var = np.diagonal(J @ V @ np.swapaxes(J, 1, 2), axis1=1, axis2=2)
        est = np.concatenate([est, vals[:, 0]], axis=1)
        se = np.concatenate([se, np.sqrt(np.where(d_var >= 0, d_var, np.nan))], axis=1)
    good = np.all(np.isfinite(est), axis=1) & np.all(np.isfinite(se), axis=1)
    rows = np.array(done)[good]
    out["est"][a][rows], out["se"][a][rows] = est[good], se[good]
    out["ok"][a][rows] = True


def twolevel_values(pt, data) -> np.ndarray | None:
    """Fixed values of a two-level table when every fixed covariate is a
    between-only variable: their moments are the mean and biased covariance
    of the clients' values, which is exactly the saturated model's MLE (the
    likelihood factors into the covariates' marginal and the rest given
    them).  None when a level-1 covariate needs the saturated model."""
    from ..estimate.likelihood import build_values
    values = build_values(pt)
    z = data.z
    idx = {v: i for i, v in enumerate(data.names)}
    D = None
    for k, r in enumerate(pt.rows):
        if not r.exo:
            continue
        if r.block != 2 or r.lhs not in z or (r.op == "~~" and r.rhs not in z):
            return None
        if D is None:
            D = data.d
            mu = D.mean(axis=0)
            C = (D - mu).T @ (D - mu) / len(D)
        values[k] = C[idx[r.lhs], idx[r.rhs]] if r.op == "~~" else mu[idx[r.lhs]]
    return values


# A two-level replicate stops at max |dF/dθ| ≤ 1e-8 (attachpath.fit: 1e-10):
# the estimates then differ from the fully converged ones by ~1e-8 (measured),
# far below any SE, and two scoring steps of ten are saved.
TWOLEVEL_TOL = 1e-8


def fit_twolevel(pt, X, clients, therapists, start, se_kind, free_idx, defined):
    """(estimates, SEs) of the reported rows of a two-level analysis on
    session rows X (columns pt.observed), or None when the fit fails."""
    fit = _fit_twolevel(pt, X, clients, therapists, start, se_kind)
    return None if fit is None else _with_defined(*fit, free_idx, defined)


def _fit_twolevel(pt, X, clients, therapists, start, se_kind):
    """(θ̂, vcov) of a two-level analysis on session rows X, or None.
    Standard SEs: the observed information (the two-level default); robust:
    the sandwich with the client scores summed within therapists."""
    from ..errors import AttachpathError
    from ..estimate import vcov as vc
    from ..estimate.likelihood import MAX_SCORING, TwoLevelML
    from ..estimate.scoring import fisher_scoring
    from ..estimate.twolevel import TwoLevelData
    try:
        roles = pt.variable_levels
        z = tuple(v for v in pt.blocks[1].observed if roles[v] == "between")
        data = TwoLevelData.from_array(X, pt.observed, pt.blocks[0].observed, z, clients)
        lik = TwoLevelML(pt, data, values=twolevel_values(pt, data))
        if np.all(np.isfinite(start)) and np.isfinite(lik.discrepancy(start)):
            theta, _, gnorm = fisher_scoring(lik, start, max_iter=MAX_SCORING, tol=TWOLEVEL_TOL)
            if not (gnorm <= TWOLEVEL_TOL and np.isfinite(lik.discrepancy(theta))):
                return None
        else:                       # attachpath.fit's own start values and checks
            theta = lik.estimate().theta
        if se_kind == "robust":
            V = vc.robust(lik, theta, therapists)[0]
        else:
            V = vc.standard(lik, theta)
    except (AttachpathError, np.linalg.LinAlgError, ValueError, FloatingPointError):
        return None
    return theta, V


def _with_defined(theta, V, free_idx, defined):
    est = theta[free_idx]
    se = np.sqrt(np.where(np.diag(V) >= 0, np.diag(V), np.nan))[free_idx]
    if len(defined):
        d_est, _, d_V = defined.delta(theta, V)
        d_se = np.sqrt(np.where(np.diag(d_V) >= 0, np.diag(d_V), np.nan))
        est, se = np.concatenate([est, d_est]), np.concatenate([se, d_se])
    if not (np.all(np.isfinite(est)) and np.all(np.isfinite(se))):
        return None
    return est, se


def _closed_form_batch(pt, ram, mean, cov, n):
    """(θ̂, fixed values) of every replicate at once when the model has a
    closed form (closedform.plan), else None; a replicate's θ̂ is NaN where
    the analytic gradient does not vanish there (engine.estimate's test,
    here for the whole chunk in one vectorised call)."""
    from ..estimate import closedform, engine, ml
    plan = closedform.plan(pt)
    if plan is None or engine._mean_structure_problem(pt):
        return None
    theta = closedform.solve(plan, mean, cov, pt.npar)
    values = np.repeat(ram.fixed_values[None], len(theta), axis=0)
    pos = {v: i for i, v in enumerate(pt.observed)}
    for k, r in enumerate(pt.rows):            # engine.fixed_values, per replicate
        if r.exo:
            values[:, k] = (cov[:, pos[r.lhs], pos[r.rhs]] if r.op == "~~"
                            else mean[:, pos[r.lhs]])
    ok = np.all(np.isfinite(theta), axis=1)
    if pt.npar and ok.any():
        g = np.full(theta.shape, np.inf)
        with np.errstate(all="ignore"):
            try:
                g[ok] = ml.gradient(ram, theta[ok], ml.Moments(None, mean[ok], cov[ok], n),
                                    values[ok])
            except np.linalg.LinAlgError:      # a singular Σ: test one at a time
                for i in np.flatnonzero(ok):
                    try:
                        g[i] = ml.gradient(ram, theta[i], ml.Moments(None, mean[i], cov[i],
                                                                     n), values[i])
                    except np.linalg.LinAlgError:
                        pass
        ok &= np.max(np.abs(g), axis=1) <= engine.GRAD_TOL
    theta[~ok] = np.nan
    return list(zip(theta, values))


def fit_one(pt, ram, mom, start, se_kind, cmat, free_idx, defined, closed=None):
    """(estimates, SEs) of the reported rows, or None when the fit fails."""
    fit = _fit_single(pt, ram, mom, start, se_kind, cmat, closed)
    return None if fit is None else _with_defined(*fit, free_idx, defined)


def _fit_single(pt, ram, mom, start, se_kind, cmat, closed=None):
    """(θ̂, vcov) of a single-level analysis, or None when the fit fails.

    `closed`: this replicate's (closed-form θ̂, fixed values) from
    _closed_form_batch, θ̂ NaN where its gradient test failed; then, and for
    models without a closed form, engine.estimate fits it (Fisher scoring
    from the population values, or semopy when some are unknown)."""
    from ..errors import AttachpathError
    from ..estimate import engine
    from ..estimate import vcov as vc
    theta = values = None
    if closed is not None and np.all(np.isfinite(closed[0])):
        theta, values = closed
    if theta is None:
        try:
            sol = engine.estimate(pt, mom, ram,
                                  start=start if np.all(np.isfinite(start)) else None)
        except (AttachpathError, np.linalg.LinAlgError, ValueError, FloatingPointError):
            return None
        theta, values = sol.theta, sol.values
    from ..estimate.likelihood import CompleteML
    lik = CompleteML(pt, mom)
    if se_kind == "robust":
        V = vc.robust(lik, theta, cmat)[0]
    else:
        V = vc.standard(lik, theta)
    return theta, V
