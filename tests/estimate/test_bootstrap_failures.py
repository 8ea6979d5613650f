"""Bootstrap draws that cannot be estimated are failed draws (issue 17.1).

A dummy with two 1s among 330 clients is constant in about e⁻² ≈ 13% of the
case resamples; its path is then not estimable and a refit returns arbitrary
numbers (1e19), which must not enter the SEs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.errors import BootstrapWarning
from attachpath.estimate import bootstrap as boot, closedform

REF = Path(__file__).resolve().parents[1] / "reference"
SPEC = "cats_secure ~ ecr_anx + rare\ntds_ge ~ cats_secure"


@pytest.fixture(scope="module")
def rare_dummy():
    data = pd.read_csv(REF / "data" / "clients_a.csv")
    data["rare"] = 0.0
    data.loc[[10, 200], "rare"] = 1.0
    return data


def _se(res, rhs):
    return res.estimates.set_index(["lhs", "op", "rhs"]).loc[("cats_secure", "~", rhs), "se"]


@pytest.mark.parametrize("cluster", [None, "therapist"])
@pytest.mark.parametrize("path", ["closed-form", "refit"])
def test_draws_with_a_constant_column_are_failed_and_excluded(rare_dummy, cluster, path,
                                                              monkeypatch):
    if path == "refit":
        monkeypatch.setattr(closedform, "plan", lambda pt: None)
    n = 200 if path == "closed-form" else 60
    with pytest.warns(BootstrapWarning, match=r"bootstrap draws failed .* constant"):
        res = ap.fit(SPEC, rare_dummy, se="bootstrap", bootstrap=n, seed=1, cluster=cluster)
    d = res.draws
    # P(neither 1 drawn) ≈ 13% of case draws, about as many cluster draws
    assert d["failed"] >= 0.05 * n and d["failed_singular"] == d["failed"]
    assert d["ok"] + d["failed"] == n
    assert any("intervals are unreliable" in w for w in res.warnings)
    robust = ap.fit(SPEC, rare_dummy, se="robust", cluster=cluster)
    # without the bad draws the bootstrap SE is near the (cluster-)robust one
    # (it was 0.46 against 0.02, and the dummy's path SE about 1e19)
    assert _se(res, "ecr_anx") == pytest.approx(_se(robust, "ecr_anx"), rel=0.35)
    assert _se(res, "rare") == pytest.approx(_se(robust, "rare"), rel=0.5)


def test_singular_draws_detects_constant_and_collinear_resamples():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    full = X.var(axis=0)
    ok = np.cov(X, rowvar=False, bias=True)
    constant = ok.copy()
    constant[1, :] = constant[:, 1] = 0.0
    Y = X.copy()
    Y[:, 2] = 2 * Y[:, 0] - Y[:, 1]          # exactly collinear
    collinear = np.cov(Y, rowvar=False, bias=True)
    assert boot.singular_draws(np.stack([ok, constant, collinear]), full).tolist() == \
        [False, True, True]


def test_few_failures_are_noted_without_a_warning(rare_dummy):
    data = rare_dummy.copy()
    data.loc[[11, 12, 13, 14, 15, 16, 17, 18], "rare"] = 1.0    # 10 ones: rarely all out
    with warnings.catch_warnings():
        warnings.simplefilter("error", BootstrapWarning)
        res = ap.fit(SPEC, data, se="bootstrap", bootstrap=100, seed=1)
    assert res.draws["failed"] <= 5


def _sleeping_refits(*args):
    import time
    time.sleep(30)


def test_interrupt_stops_the_worker_processes_at_once(monkeypatch):
    """Issue 17.12: Ctrl-C during a multi-process bootstrap waited for every
    remaining draw (minutes).  Here each worker would sleep 30 s."""
    import multiprocessing
    import os
    import signal
    import threading
    import time

    monkeypatch.setattr(boot, "_refit_many", _sleeping_refits)
    X = np.random.default_rng(0).normal(size=(40, 2))
    units = boot._units(40, None)
    picks = np.zeros((8, 40), int)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        boot._parallel(None, None, X, np.zeros(3), units, picks, 2, False, {})
    timer.cancel()
    assert time.perf_counter() - start < 6
    assert not multiprocessing.active_children()


def test_interrupt_while_the_pool_starts_leaves_no_workers(monkeypatch):
    """Ctrl-C that lands while the worker pool is being started (the race
    behind a flaky run of the test above under heavy load) must still stop
    every worker: the pool is created with SIGINT held back."""
    import multiprocessing
    import multiprocessing.context as mpc
    import os
    import signal
    import threading

    started = mpc.ForkContext.Pool

    def pool_then_ctrl_c(self, *args, **kwargs):
        pool = started(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)        # as if Ctrl-C came at the end of the start
        return pool
    monkeypatch.setattr(mpc.ForkContext, "Pool", pool_then_ctrl_c)
    monkeypatch.setattr(boot, "_refit_many", _sleeping_refits)
    X = np.random.default_rng(0).normal(size=(40, 2))
    before = signal.getsignal(signal.SIGINT)
    # an idle thread, as a full test run has many: the kernel may hand the
    # signal to it rather than to the main thread (blocking it there fails)
    idle = threading.Event()
    threading.Thread(target=idle.wait, daemon=True).start()
    # the traceback is kept (as a caller's `except ... as e` does): no garbage
    # collection of a leaked pool may hide its workers
    with pytest.raises(KeyboardInterrupt) as caught:
        boot._parallel(None, None, X, np.zeros(3), boot._units(40, None),
                       np.zeros((8, 40), int), 2, False, {})
    assert not multiprocessing.active_children(), caught
    idle.set()
    assert signal.getsignal(signal.SIGINT) is before          # the handler is given back
