"""One chunk of replicates, run on a Dask worker (or in the client process).

Replicate r of design d draws its data from its own random stream,
SeedSequence(seed, spawn_key=(d, r)), so a replicate's data and estimates do
not depend on which chunk, worker or scheduler ran it.  Each analysis is
fitted by the lean path of attachpath.fitting.fit: the closed form of a
recursive path model where it applies (else Fisher scoring from the
population values, else semopy), checked by the analytic gradient, then the
vcov of the chosen kind.  Fit measures, standardized values and the Result
are skipped: a power study needs only estimates and SEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..estimate.ml import Moments
from .design import ClusteredDesign, SimpleDesign
from .population import (Analysis, analysis_partable, population_of, reported_rows,
                         true_values)


@dataclass(frozen=True)
class Study:
    """Everything a worker needs, small and picklable (spec texts, not tables)."""

    population: str
    analyses: tuple[Analysis, ...]
    designs: tuple[SimpleDesign | ClusteredDesign, ...]
    seed: int
    se: str | None = None          # None: robust for clustered designs, else standard

    def se_for(self, design) -> str:
        if self.se:
            return self.se
        return "robust" if design.kind == "clustered" else "standard"


def replicate_rng(seed: int, design: int, rep: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(design, rep)))


@lru_cache(maxsize=8)
def _prepared(study: Study):
    """Population Cholesky factor and, per analysis, its table, RAM, start
    values and the positions of the reported rows (built once per worker)."""
    from ..effects import Defined
    from ..estimate.ram import ram_of
    pop = population_of(study.population)
    chol = np.linalg.cholesky(pop.sigma)
    prepared = []
    for a in study.analyses:
        if a.kind != "single":
            # the plug-in point of two-level analyses: their own table, data
            # layout (rows of sessions, cluster ids per level) and fitter
            from ..errors import AttachpathError
            raise AttachpathError(f"Analyses of kind '{a.kind}' are not supported yet; "
                                  f"only single-level ('single') analyses are.")
        pt = analysis_partable(a)
        start, _ = true_values(pop, pt)
        rows = reported_rows(pt)
        free_idx = np.array([pt.rows[k].free - 1 for k in rows if pt.rows[k].op != ":="],
                            dtype=int)
        defined = Defined.from_partable(pt)
        cols = [list(pop.observed).index(v) for v in pt.observed]
        prepared.append((pt, ram_of(pt), start, free_idx, defined, cols))
    return pop, chol, prepared


def run_chunk(study: Study, design_index: int, start: int, stop: int) -> dict:
    """Estimates and SEs of replicates start..stop-1 of one design.

    Returns {"design", "start", "stop", "est": [m x k per analysis],
    "se": [...], "ok": [m bools per analysis]}; a replicate whose fit fails
    has ok False and NaN estimates."""
    from ..fitting import single_thread_blas
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
            closed = _closed_form_batch(pt, mean, cov)
            for i in range(m):
                mom = Moments(Xa[i], mean[i], cov[i], Xa.shape[1])
                res = fit_one(pt, ram, mom, start_theta, se_kind, cmat, free_idx, defined,
                              None if closed is None else closed[i])
                if res is not None:
                    out["est"][a][i], out["se"][a][i] = res
                    out["ok"][a][i] = True
    return out


def _closed_form_batch(pt, mean, cov):
    """θ̂ of every replicate at once when the model has a closed form
    (closedform.plan), else None."""
    from ..estimate import closedform, engine
    plan = closedform.plan(pt)
    if plan is None or engine._mean_structure_problem(pt):
        return None
    return closedform.solve(plan, mean, cov, pt.npar)


def fit_one(pt, ram, mom, start, se_kind, cmat, free_idx, defined, closed=None):
    """(estimates, SEs) of the reported rows, or None when the fit fails.

    `closed`: this replicate's closed-form θ̂, accepted when the analytic
    gradient vanishes there (engine.estimate's test); otherwise, and for
    models without a closed form, engine.estimate fits it (Fisher scoring
    from the population values, or semopy when some are unknown)."""
    from ..errors import AttachpathError
    from ..estimate import engine, ml
    from ..estimate import vcov as vc
    theta = values = None
    if closed is not None and np.all(np.isfinite(closed)):
        values = engine.fixed_values(pt, ram, mom)
        g = ml.gradient(ram, closed, mom, values)
        if not len(g) or float(np.max(np.abs(g))) <= engine.GRAD_TOL:
            theta = closed
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
    est = theta[free_idx]
    se = np.sqrt(np.where(np.diag(V) >= 0, np.diag(V), np.nan))[free_idx]
    if len(defined):
        d_est, _, d_V = defined.delta(theta, V)
        d_se = np.sqrt(np.where(np.diag(d_V) >= 0, np.diag(d_V), np.nan))
        est, se = np.concatenate([est, d_est]), np.concatenate([se, d_se])
    if not (np.all(np.isfinite(est)) and np.all(np.isfinite(se))):
        return None
    return est, se
