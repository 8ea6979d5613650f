"""Case and cluster bootstrap.

With clusters, whole clusters (therapists) are drawn with replacement and
keep all their cases (clients) together.  Each replicate is refitted from
the full-sample estimates (warm start, Fisher scoring on the analytic
gradient; no semopy call and no fit indices per draw).  A replicate fails
when its resample has a singular covariance matrix (a variable constant in
the resample, e.g. a rare dummy whose 1s were all left out, or variables
exactly collinear in it: ML has no solution there and a refit returns
arbitrary numbers such as a path of 1e19), when its fit does not converge,
or when it has a non-positive residual variance in the closed form.  Failed
draws are counted, reported and left out of the SEs and intervals, never
silently kept or dropped; many failures are a warning.
Intervals: percentile (default) or BCa with a jackknife acceleration over
the resampling units.

With missing values (FIML fits) every draw is refitted by FIML on its
resampled rows, incomplete ones included (a cluster keeps all its rows); a
draw counts as singular when a variable has no variance among its observed
values in the resample.
"""

from __future__ import annotations

import functools

import os
import warnings

import numpy as np

from ..errors import BootstrapWarning, EstimationError, OptionError
from . import closedform, engine, ml
from .distributions import norm_cdf, norm_ppf


def _units(n: int, clusters):
    """Row indices of each resampling unit (a case, or a cluster's cases)."""
    if clusters is None:
        return [np.array([i]) for i in range(n)]
    _, inv = np.unique(clusters, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.flatnonzero(np.diff(inv[order])) + 1
    return np.split(order, bounds)


# A draw's covariance matrix counts as singular when a variance falls below
# this fraction of the full sample's, or the smallest eigenvalue of its
# correlation matrix below it (relative, so the units of the data do not matter).
SINGULAR_TOL = 1e-10
# More failed draws than this share is warned about: the surviving draws are
# no longer a sample from the bootstrap distribution of the estimator.
FAILED_SHARE_WARNING = 0.05


def singular_draws(cov: np.ndarray, full_var: np.ndarray) -> np.ndarray:
    """True for each draw (cov: ..., p, p) whose sample covariance matrix is
    singular; full_var are the full sample's variances."""
    var = np.diagonal(cov, axis1=-2, axis2=-1)
    constant = np.any(~(var > SINGULAR_TOL * full_var), axis=-1)
    sd = np.sqrt(np.where(var > 0, var, 1.0))
    corr = cov / (sd[..., :, None] * sd[..., None, :])
    corr = np.where(np.isfinite(corr), corr, 0.0)
    smallest = np.linalg.eigvalsh(corr)[..., 0]
    return constant | ~(smallest > SINGULAR_TOL)


def singular_incomplete(X: np.ndarray, full_var: np.ndarray) -> bool:
    """True when a variable of the incomplete resample X has (almost) no
    variance among its observed values (or fewer than two of them)."""
    observed = np.sum(~np.isnan(X), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # all-missing columns
        var = np.nanvar(X, axis=0)
    return bool(np.any(observed < 2) or np.any(~(var > SINGULAR_TOL * full_var)))


def _refit(pt, ram, X, start, fiml=False, studentize=None, groups=None):
    """θ* of the rows X, warm-started; with `studentize` (the := parameters)
    followed by the draw's sandwich SEs (sandwich_se) over `groups` (a
    Clusters over the rows, each drawn cluster its own) or over its cases."""
    if studentize is None and not fiml:     # the common draw needs no likelihood object
        return engine.estimate(pt, ml.Moments.from_array(X), ram, start=start).theta
    lik = _likelihood(pt, X, fiml)
    theta = lik.estimate(start=start).theta
    if studentize is None:
        return theta
    return np.concatenate([theta, sandwich_se(lik, theta, studentize, groups)])


def _likelihood(pt, X, fiml):
    """The single-level likelihood of rows X (FIML when they have holes)."""
    if fiml:
        from .fiml import MissingData
        from .likelihood import FIML
        return FIML(pt, MissingData.from_array(X))
    from .likelihood import CompleteML
    return CompleteML.from_array(pt, X)


def sandwich_se(lik, theta, defined, clusters=None) -> np.ndarray:
    """SEs of θ then of the := parameters (delta method) from the sandwich
    the fit reports with se="robust": scores summed within `clusters`
    (CR1), or per unit (cases; a two-level model's clients).  Studentized
    intervals divide each draw by these and scale by their full-sample
    values; any likelihood (single-level, FIML, two-level)."""
    from . import vcov as vc
    V = vc.robust(lik, theta, clusters)[0]
    se = np.sqrt(np.diag(V))
    if len(defined):
        Vd = defined.delta(theta, V)[2]
        se = np.concatenate([se, np.sqrt(np.diag(Vd))])
    if not np.all(np.isfinite(se)):
        raise EstimationError("a bootstrap draw's sandwich SEs could not be computed")
    return se


def _closed_form_draws(pt, plan, X, units, picks):
    """All replicates at once: moments of each draw from the units' sums
    (weights = how often each unit was drawn), then the closed form."""
    centre = X.mean(axis=0)             # centring keeps raw moments accurate
    Xc = X - centre
    g = len(units)
    n_u = np.array([len(u) for u in units], dtype=float)
    s_u = np.stack([Xc[u].sum(axis=0) for u in units])
    q_u = np.stack([Xc[u].T @ Xc[u] for u in units])
    W = np.zeros((len(picks), g))
    np.add.at(W, (np.repeat(np.arange(len(picks)), g), picks.ravel()), 1.0)
    n = W @ n_u
    mean = (W @ s_u) / n[:, None]
    cov = np.einsum("rg,gij->rij", W, q_u) / n[:, None, None] - mean[:, :, None] * mean[:, None, :]
    theta = closedform.solve(plan, mean + centre, cov, pt.npar)
    variances = [eq.var for eq in plan.equations]
    singular = singular_draws(cov, np.var(X, axis=0))
    bad = (singular | ~np.all(np.isfinite(theta), axis=1)
           | np.any(theta[:, variances] <= 0, axis=1))
    theta[bad] = np.nan
    return theta, {"singular": int(singular.sum()), "other": int((bad & ~singular).sum())}


def _Progress(total, progress):
    """The bar over the draws (tqdm.auto; see attachpath.progress)."""
    from ..progress import Bar
    return Bar(total, "bootstrap", progress)


def _refit_many(pt, ram, X, theta, units, picks, bar=None, fiml=False, studentize=None,
                clustered=False):
    """Refit the draws in `picks` one by one: (estimates with NaN rows for
    failures, True for each draw whose resample was singular); with
    `studentize` each row also holds the draw's sandwich SEs."""
    from threadpoolctl import threadpool_limits
    out = np.full((len(picks), _width(len(theta), studentize)), np.nan)
    singular = np.zeros(len(picks), bool)
    full_var = np.nanvar(X, axis=0)
    with threadpool_limits(limits=1, user_api="blas"):
        for r, pick in enumerate(picks):
            drawn = [units[i] for i in pick]
            rows = np.concatenate(drawn)
            Xr = X[rows]
            singular[r] = (singular_incomplete(Xr, full_var) if fiml else
                           singular_draws(np.cov(Xr, rowvar=False, bias=True), full_var))
            if not singular[r]:
                groups = drawn_clusters(drawn, studentize is not None and clustered)
                try:
                    out[r] = _refit(pt, ram, Xr, theta, fiml, studentize, groups)
                except (EstimationError, np.linalg.LinAlgError, ValueError):
                    pass
            if bar is not None:
                bar(r + 1)
    return out, singular


def _width(k: int, studentize) -> int:
    """Columns of a draw's row: θ*, and with studentized draws their SEs and
    the := parameters' SEs."""
    return k if studentize is None else 2 * k + len(studentize)


def drawn_clusters(drawn, wanted: bool = True):
    """The Clusters of a draw made of the units `drawn` (their rows, in draw
    order): each drawn unit, a repeat too, is a cluster of the draw.  None
    when not `wanted` (a draw whose SEs are not needed, or per case)."""
    if not wanted:
        return None
    from .clusters import Clusters
    sizes = np.array([len(u) for u in drawn])
    g = len(sizes)
    return Clusters("cluster", np.arange(g), np.repeat(np.arange(g), sizes), sizes)


def _workers(n_draws: int) -> int:
    """Processes for draw-by-draw refits: all cores when there is enough work."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, n_draws // 50))


def replicates(pt, ram, X, theta, *, clusters=None, n=1000, seed=None, progress=False,
               fiml=False, studentize=None):
    """(R x k estimates with NaN rows for failed draws, failures by cause:
    {"singular": resamples with a singular covariance matrix, "other": fits
    that failed or did not converge}).

    All draws are made up front from the seed, so the result does not depend
    on how the refits are spread over processes.  fiml: X has missing
    values and every draw is refitted by FIML.  studentize (the :=
    parameters): each row also holds the draw's sandwich SEs (R x (2k + m));
    such draws are refitted one by one (the closed form gives no SEs)."""
    rng = np.random.default_rng(seed)
    units = _units(X.shape[0], clusters)
    g = len(units)
    picks = rng.integers(0, g, size=(n, g))
    plan = None if fiml or studentize is not None else closedform.plan(pt)
    if plan is not None:
        return _closed_form_draws(pt, plan, X, units, picks)
    workers = _workers(n)
    out = None
    how = dict(fiml=fiml, studentize=studentize, clustered=clusters is not None)
    if workers > 1:
        out = _parallel(pt, ram, X, theta, units, picks, workers, progress, how)
    if out is None:
        out = _refit_many(pt, ram, X, theta, units, picks, _Progress(n, progress), **how)
    out, singular = out
    failed = ~np.all(np.isfinite(out), axis=1)
    return out, {"singular": int(singular.sum()), "other": int((failed & ~singular).sum())}


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops them all at once."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _InterruptHeld:
    """From creation to release(), Ctrl-C (SIGINT) is noted instead of
    raised; release() restores the handler and raises KeyboardInterrupt if
    one came.  Only the main thread can set handlers; elsewhere it does
    nothing.  (Blocking the signal with pthread_sigmask is not enough: the
    kernel hands a process-directed SIGINT to any other thread, and Python
    then raises it in the main thread all the same.)"""

    def __init__(self):
        import signal
        import threading
        self.came = False
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._note)

    def _note(self, signum, frame):
        self.came = True

    def release(self) -> None:
        import signal
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None
            if self.came:
                raise KeyboardInterrupt


def _parallel(pt, ram, X, theta, units, picks, workers, progress, how):
    """The refits of `picks` spread over processes (`how`: _refit_many's
    keywords); None if a pool cannot be had."""
    chunks = [c for c in np.array_split(np.arange(len(picks)), workers * 4) if len(c)]
    work = functools.partial(_refit_chunk, pt, ram, X, theta, units, how)
    parts = in_pool(work, [picks[c] for c in chunks], workers, _Progress(len(picks), progress))
    if parts is None:
        return None
    out = np.full((len(picks), _width(len(theta), how.get("studentize"))), np.nan)
    singular = np.zeros(len(picks), bool)
    for c, (o, s) in zip(chunks, parts):
        out[c], singular[c] = o, s
    return out, singular


def _refit_chunk(pt, ram, X, theta, units, how, picks):
    """_refit_many of one chunk of draws in a worker (no progress bar there)."""
    return _refit_many(pt, ram, X, theta, units, picks, None, **how)


def in_pool(work, chunks, workers: int, bar=None) -> list | None:
    """[work(c) for c in chunks] computed by `workers` forked processes (each
    chunk a sequence of draws; bar(k) after each chunk with the draws done),
    or None if a pool cannot be had (the caller then refits serially).
    Used by every bootstrap (estimate/twolevel_bootstrap.py too).

    An interrupt (Ctrl-C) or any error in the parent terminates the workers
    at once instead of waiting for their remaining draws."""
    import multiprocessing as mp
    # Ctrl-C while the pool starts would leave its workers behind (the pool
    # is not ours yet to terminate): it is noted and raised once the pool is
    # in hand, inside the try below, which stops the workers
    held = _InterruptHeld()
    try:
        ctx = mp.get_context("fork")
        pool = ctx.Pool(workers, initializer=_ignore_sigint)
    except BaseException as exc:
        held.release()
        if isinstance(exc, (ValueError, OSError)):
            return None
        raise
    results, done = [], 0
    try:
        held.release()
        jobs = [pool.apply_async(work, (c,)) for c in chunks]
        for c, job in zip(chunks, jobs):
            while not job.ready():          # short waits: Ctrl-C is seen at once
                job.wait(0.2)
            results.append(job.get())
            done += len(c)
            if bar is not None:
                bar(done)
        pool.close()
    except (OSError, RuntimeError):     # the pool broke: refit serially instead
        pool.terminate()
        pool.join()
        return None
    except BaseException:
        pool.terminate()
        pool.join()
        raise
    pool.join()
    return results


def jackknife(pt, ram, X, theta, defined, clusters=None, fiml=False):
    """Leave-one-unit-out estimates (θ and := values) for the BCa acceleration."""
    units = _units(X.shape[0], clusters)
    keep = np.ones(X.shape[0], bool)
    vals = []
    for u in units:
        keep[u] = False
        try:
            t = _refit(pt, ram, X[keep], theta, fiml)
            vals.append(np.concatenate([t, defined.evaluate(t)]))
        except (EstimationError, np.linalg.LinAlgError, ValueError):
            pass
        keep[u] = True
    return np.array(vals)


def percentile(draws, level):
    a = (1 - level) / 2
    return np.nanquantile(draws, [a, 1 - a], axis=0).T


def bca(draws, est, jack, level):
    """Bias-corrected and accelerated intervals per column."""
    a = (1 - level) / 2
    out = np.full((draws.shape[1], 2), np.nan)
    for j in range(draws.shape[1]):
        d = draws[:, j][np.isfinite(draws[:, j])]
        if len(d) < 10:
            continue
        prop = np.mean(d < est[j]) + 0.5 * np.mean(d == est[j])
        prop = min(max(prop, 1.0 / (len(d) + 1)), 1 - 1.0 / (len(d) + 1))
        z0 = norm_ppf(prop)
        jm = jack[:, j].mean()
        num = np.sum((jm - jack[:, j]) ** 3)
        den = 6.0 * np.sum((jm - jack[:, j]) ** 2) ** 1.5
        acc = num / den if den > 0 else 0.0
        qs = []
        for z in (norm_ppf(a), norm_ppf(1 - a)):
            qs.append(norm_cdf(z0 + (z0 + z) / (1 - acc * (z0 + z))))
        out[j] = np.quantile(d, qs)
    return out


def run(pt, lik, sol, *, clusters=None, n=1000, seed=None, progress=False,
        level=0.95, interval="percentile") -> dict:
    """Bootstrap summary used by fit(): SEs, intervals and draw counts.  lik:
    the fit's single-level likelihood (CompleteML, or FIML: then every draw
    is refitted by FIML); clusters: the fit's Clusters, or None."""
    from .likelihood import FIML
    defined = check_request(pt, n, interval)
    fiml = isinstance(lik, FIML)
    theta, ram = sol.theta, lik.ram
    X = lik.data.X if fiml else lik.mom.X
    codes = None if clusters is None else clusters.codes
    student = interval == "studentized"
    draws, causes = replicates(pt, ram, X, theta, clusters=codes, n=n, seed=seed,
                               progress=progress, fiml=fiml,
                               studentize=defined if student else None)
    ok = np.all(np.isfinite(draws), axis=1)
    failed = n - int(ok.sum())
    se_hat = sandwich_se(lik, theta, defined, clusters) if student else None
    good, se, ci = summarize(draws, theta, defined, level, interval,
                             lambda: jackknife(pt, ram, X, theta, defined, codes, fiml),
                             se_hat)
    k = len(theta)
    notes = [failure_note(n, causes, clusters is not None)] if failed else []
    if failed > FAILED_SHARE_WARNING * n:
        warnings.warn(notes[0], BootstrapWarning, stacklevel=3)
    return {"n": n, "ok": int(ok.sum()), "failed": int(failed),
            "failed_singular": causes["singular"], "seed": seed,
            "interval": interval, "se": se[:k], "def_se": se[k:], "ci": ci[:k],
            "vcov": np.atleast_2d(np.cov(good, rowvar=False)),
            "def_ci": ci[k:], "notes": notes,
            "unit": "cluster" if clusters is not None else "case"}


def studentized(both, se_draws, est, se_hat, level):
    """Bootstrap-t intervals per column: t* = (θ* − θ̂) / se*, each draw
    studentized by its own SE, and [θ̂ − ŝe·t*₁₋α/₂, θ̂ − ŝe·t*α/₂] with ŝe the
    same SE formula on the full sample.  Unlike the percentile interval it
    corrects for the SE varying with the estimate, which is what makes the
    percentile intervals liberal with few clusters (reports/coverage).  A
    column whose SE is 0 (a := of fixed values) gets [θ̂, θ̂]."""
    a = (1 - level) / 2
    with np.errstate(all="ignore"):
        t = (both - est) / se_draws
    t[~np.isfinite(t)] = np.nan
    out = np.full((both.shape[1], 2), np.nan)
    has = np.any(np.isfinite(t), axis=0)
    if np.any(has):
        q = np.nanquantile(t[:, has], [a, 1 - a], axis=0)
        out[has, 0] = est[has] - se_hat[has] * q[1]
        out[has, 1] = est[has] - se_hat[has] * q[0]
    fixed = se_hat == 0
    out[fixed] = est[fixed, None]
    return out


INTERVALS = ("percentile", "bca", "studentized")


def check_request(pt, n: int, interval: str):
    """The := parameters of pt, once n and interval are known to be usable."""
    from ..effects import Defined
    if n < 2:
        raise EstimationError("The bootstrap needs at least 2 draws.")
    if interval not in INTERVALS:
        kinds = ", ".join(f"'{k}'" for k in INTERVALS[:-1]) + f" or '{INTERVALS[-1]}'"
        raise OptionError(f"Bootstrap intervals are {kinds}, not '{interval}'.")
    return Defined.from_partable(pt)


def summarize(draws, theta, defined, level, interval, jackknife_of, studentize=None):
    """(the good draws, SEs and intervals of θ then the := parameters) from
    the R x k replicates, failed draws (NaN rows) left out; `jackknife_of`
    gives the jackknife estimates BCa needs.  Shared by every bootstrap.
    Studentized intervals: `draws` holds each draw's SEs of θ and of the :=
    parameters after its k estimates, and `studentize` the full-sample SEs."""
    k = len(theta)
    good = draws[np.all(np.isfinite(draws), axis=1)]
    if len(good) < 2:
        raise EstimationError(f"All but {len(good)} of {len(draws)} bootstrap draws "
                              f"failed; the model cannot be bootstrapped on these data.")
    good, se_draws = good[:, :k], good[:, k:]
    def_draws = defined.evaluate(good) if len(defined) else np.zeros((len(good), 0))
    both = np.hstack([good, def_draws])
    est = np.concatenate([theta, defined.evaluate(theta)])
    if interval == "bca":
        ci = bca(both, est, jackknife_of(), level)
    elif interval == "studentized":
        ci = studentized(both, se_draws, est, np.asarray(studentize, dtype=float), level)
    else:
        ci = percentile(both, level)
    return good, both.std(axis=0, ddof=1), ci


def failure_note(n: int, causes: dict, clustered: bool) -> str:
    """What failed and why, and what to do when it is more than a few percent."""
    failed = causes["singular"] + causes["other"]
    why = []
    if causes["singular"]:
        why.append(f"{causes['singular']} because a variable was constant or collinear "
                   f"in the resample: a rare category, or a variable that varies in few "
                   f"{'clusters' if clustered else 'cases'}")
    if causes["other"]:
        why.append(f"{causes['other']} did not converge or gave a non-positive variance")
    text = (f"{failed} of {n} bootstrap draws failed ({'; '.join(why)}) and were "
            f"left out of the SEs and intervals.")
    if failed > FAILED_SHARE_WARNING * n:
        text += (f" That is {100 * failed / n:.0f}% of the draws: the bootstrap "
                 f"intervals are unreliable; prefer --se robust, or recode or drop the "
                 f"variable that is rarely non-constant.")
    return text
