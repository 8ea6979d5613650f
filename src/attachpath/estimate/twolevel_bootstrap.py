"""Bootstrap of two-level models: resample whole therapists or whole clients.

With therapists (cluster="therapist/client") a draw picks G therapists with
replacement and keeps all their clients and sessions; without, it picks J
clients with replacement and keeps their sessions.  A client drawn twice
enters the draw as two clients (new ids), so the two copies never merge into
one cluster.  Each draw is refitted from the full-sample estimates (warm
start, TwoLevelML.estimate); draws whose fit fails are counted, left out
and reported.  The intervals (percentile, BCa, studentized) are
estimate/bootstrap.py's; studentized draws also carry their sandwich SEs.

A draw's sufficient statistics are built from the clients' own (cluster
means, within cross-products, rows), so no row-level pass is repeated.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from ..errors import DataError, EstimationError
from . import bootstrap as boot
from .clusters import Clusters
from .twolevel import TwoLevelData, size_groups

# A draw is converged at max |dF/dθ| < 1e-6, the tolerance single-level fits
# and their bootstrap draws accept (engine.GRAD_TOL).  Scoring converges
# linearly here (rate ~0.17 per step on the study model), so the θ left to
# gain is ~1e-6, four orders below the SEs, for four scoring steps fewer per
# fit than the full-sample two-level tolerance (likelihood.GRAD_TOL = 1e-9).
DRAW_TOL = 1e-6

_FAILURES = (EstimationError, DataError, np.linalg.LinAlgError, ValueError,
             FloatingPointError)


def resampled(data: TwoLevelData, clients: np.ndarray) -> TwoLevelData:
    """The data of the clients `clients` (indices, repeats allowed), each
    occurrence a client of its own."""
    clients = np.asarray(clients, dtype=np.intp)
    order, starts = data.clusters._order
    sizes = data.clusters.sizes[clients]
    # the rows of each drawn client, in draw order, as one index (a client's
    # rows are contiguous in `order`): no per-client arrays to split and join
    first = np.repeat(starts[clients] - (np.cumsum(sizes) - sizes), sizes)
    rows = data.rows[order[first + np.arange(int(sizes.sum()))]]
    J = len(clients)
    cl = Clusters(data.clusters.name, np.arange(J), np.repeat(np.arange(J), sizes), sizes)
    d, W = data.d[clients], data.W[clients]
    usizes, group, count, mean, cov = size_groups(d, sizes)
    return replace(data, n=int(sizes.sum()), clusters=cl, d=d, W=W, W_total=W.sum(axis=0),
                   sizes=usizes, size_group=group, rows=rows, count=count, mean=mean, cov=cov)


def units(n_clients: int, therapists: Clusters | None) -> list[np.ndarray]:
    """Client indices of each resampling unit: a therapist's clients, or one client."""
    if therapists is None:
        return [np.array([j]) for j in range(n_clients)]
    return therapists.members()


class _Refit:
    """Refits of one model on resampled data, warm-started at the full-sample
    estimates of the model and of its saturated (h1) model (whose moments fix
    the covariates' values, as in the full-sample fit).  Scoring stops at the
    two-level acceptance tolerance (likelihood.GRAD_TOL), not below it."""

    def __init__(self, lik, theta, studentize=None, by_therapist=False):
        self.pt, self.theta = lik.pt, np.asarray(theta, dtype=float)
        h1 = lik.h1
        self.sat, self.sat_values = h1.pt, h1.values
        self.studentize = studentize        # the := parameters, for studentized draws
        self.by_therapist = by_therapist    # the draws resample therapists
        self.width = boot._width(len(self.theta), studentize)

    def __call__(self, data, therapists=None) -> np.ndarray:
        """θ* of the draw; with `studentize`, followed by its sandwich SEs
        (bootstrap.sandwich_se) with the draw's `therapists` (a Clusters over its
        clients, each drawn therapist a cluster of its own) or, without, its
        clients as the clusters."""
        from .likelihood import TwoLevelML
        h1 = TwoLevelML.saturated(self.sat, data, self.sat_values)
        # the draw's own pooled-within and cluster-mean moments start the
        # saturated model closer than the full-sample h1 estimates do (3
        # scoring steps instead of 8 on the study model)
        h1.solution = _solve(h1, h1._saturated_start(), h1._fit_saturated)
        lik = TwoLevelML(self.pt, data, h1=h1)
        theta = _solve(lik, self.theta, lik.estimate).theta
        if self.studentize is None:
            return theta
        se = boot.sandwich_se(lik, theta, self.studentize, therapists)
        return np.concatenate([theta, se])


def _solve(lik, start, cold):
    """Fisher scoring from `start`; from the default start (`cold`) if the
    warm start is not admissible on these data."""
    from .engine import Solution
    from .likelihood import fisher_scoring
    if not np.isfinite(lik.discrepancy(start)):
        return cold()
    theta, it, gnorm = fisher_scoring(lik, start, tol=DRAW_TOL)
    if not np.isfinite(lik.discrepancy(theta)) or gnorm > DRAW_TOL:
        raise EstimationError(f"a bootstrap draw did not converge (gradient {gnorm:.1e})")
    return Solution(theta, lik.values, it, gnorm, lik.discrepancy(theta), "twolevel")


def _refit_many(refit, data, unit_list, picks, bar=None):
    """Refit the draws in `picks` one by one (NaN rows for failures)."""
    from threadpoolctl import threadpool_limits
    out = np.full((len(picks), refit.width), np.nan)
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(all="ignore"):
        for r, pick in enumerate(picks):
            drawn = [unit_list[i] for i in pick]
            groups = boot.drawn_clusters(drawn, refit.studentize is not None
                                         and refit.by_therapist)
            try:
                out[r] = refit(resampled(data, np.concatenate(drawn)), groups)
            except _FAILURES:
                pass
            if bar is not None:
                bar(r + 1)
    return out


def _parallel(refit, data, unit_list, picks, workers, progress):
    """The refits of `picks` spread over processes (bootstrap.in_pool: Ctrl-C
    stops the workers at once); None if a pool cannot be had."""
    chunks = [c for c in np.array_split(np.arange(len(picks)), workers * 4) if len(c)]
    work = functools.partial(_refit_many, refit, data, unit_list)
    parts = boot.in_pool(work, [picks[c] for c in chunks], workers,
                         boot._Progress(len(picks), progress))
    if parts is None:
        return None
    out = np.full((len(picks), refit.width), np.nan)
    for c, part in zip(chunks, parts):
        out[c] = part
    return out


def replicates(lik, theta, *, therapists=None, n=1000, seed=None, progress=False,
               workers=None, studentize=None):
    """(R x k estimates with NaN rows for failed draws, number failed); with
    `studentize` (the := parameters) each row also holds the draw's sandwich
    SEs of θ and of the := parameters (R x (2k + m)).

    All draws are made up front from the seed, so the result does not depend
    on how the refits are spread over processes."""
    rng = np.random.default_rng(seed)
    data, refit = lik.data, _Refit(lik, theta, studentize, therapists is not None)
    unit_list = units(data.n_clusters, therapists)
    g = len(unit_list)
    picks = rng.integers(0, g, size=(n, g))
    workers = boot._workers(n) if workers is None else workers
    out = None
    if workers > 1:
        out = _parallel(refit, data, unit_list, picks, workers, progress)
    if out is None:
        out = _refit_many(refit, data, unit_list, picks, boot._Progress(n, progress))
    failed = int(np.sum(~np.all(np.isfinite(out), axis=1)))
    return out, failed


def jackknife(lik, theta, defined, therapists=None):
    """Leave-one-unit-out estimates (θ and := values) for the BCa acceleration."""
    data, refit = lik.data, _Refit(lik, theta)
    unit_list = units(data.n_clusters, therapists)
    everyone = np.arange(data.n_clusters)
    vals = []
    with np.errstate(all="ignore"):
        for u in unit_list:
            try:
                t = refit(resampled(data, np.setdiff1d(everyone, u)))
                vals.append(np.concatenate([t, defined.evaluate(t)]))
            except _FAILURES:
                pass
    return np.array(vals)


def run(pt, lik, sol, *, therapists=None, n=1000, seed=None, progress=False,
        level=0.95, interval="percentile", workers=None) -> dict:
    """Bootstrap summary for fit(): SEs, intervals and draw counts, in the
    form of estimate.bootstrap.run."""
    defined = boot.check_request(pt, n, interval)
    theta = sol.theta
    student = interval == "studentized"
    draws, failed = replicates(lik, theta, therapists=therapists, n=n, seed=seed,
                               progress=progress, workers=workers,
                               studentize=defined if student else None)
    ok = np.all(np.isfinite(draws), axis=1)
    good, se, ci = boot.summarize(draws, theta, defined, level, interval,
                                  lambda: jackknife(lik, theta, defined, therapists),
                                  boot.sandwich_se(lik, theta, defined, therapists) if student
                                  else None)
    k = len(theta)
    unit = therapists.name if therapists is not None else lik.data.clusters.name
    notes = []
    if failed:
        notes.append(f"{failed} of {n} bootstrap draws (resampling whole {unit}s) failed "
                     f"to converge and were left out of the SEs and intervals.")
    return {"n": n, "ok": int(ok.sum()), "failed": int(failed), "seed": seed,
            "interval": interval, "se": se[:k], "def_se": se[k:], "ci": ci[:k],
            "vcov": np.atleast_2d(np.cov(good, rowvar=False)),
            "def_ci": ci[k:], "notes": notes, "unit": unit}
