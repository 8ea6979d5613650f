"""Bootstrap of two-level fits: whole therapists (with their clients and
sessions) or whole clients are resampled and refitted from the estimates."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.errors import EstimationError
from attachpath.estimate import twolevel_bootstrap as tb
from attachpath.estimate.clusters import Clusters
from attachpath.estimate.likelihood import TwoLevelML
from attachpath.estimate.twolevel import TwoLevelData

REF = Path(__file__).resolve().parents[1] / "reference"
CASE = json.loads((REF / "twolevel" / "nomixed_twolevel_ml.json").read_text())


@lru_cache(maxsize=None)
def sessions():
    return pd.read_csv(REF / "data" / "study_sessions_centred.csv")


@lru_cache(maxsize=None)
def robust(cluster):
    return ap.fit(CASE["model"], sessions(), cluster=cluster, se="robust")


def test_resampled_clients_are_new_clusters():
    """A client drawn twice is two clients: the statistics equal those built
    row by row from the stacked sessions with fresh client ids."""
    res = robust("client")
    data = res.likelihood.data
    picks = np.array([5, 5, 0, 17, 17, 17, 200, 3])
    members = data.clusters.members()
    mine = tb.resampled(data, picks)
    # the same draw made from rows: each occurrence gets an id of its own
    rows = np.concatenate([members[j] for j in picks])
    ids = np.repeat(np.arange(len(picks)), [len(members[j]) for j in picks])
    frame = sessions()
    kept = frame.dropna(subset=list(res.partable.observed))
    X = kept[list(res.partable.observed)].to_numpy(float)
    y, z = data.y, data.z
    ref = TwoLevelData.from_array(X[rows], res.partable.observed, y, z,
                                  Clusters.from_ids("client", ids))
    assert mine.n_clusters == len(picks) == ref.n_clusters
    assert mine.n == ref.n
    np.testing.assert_allclose(mine.W_total, ref.W_total, rtol=1e-12)
    np.testing.assert_allclose(np.sort(mine.d, axis=0), np.sort(ref.d, axis=0), rtol=1e-12)
    theta = res.theta
    a = TwoLevelML(res.partable, mine, values=res.values).loglik(theta)
    b = TwoLevelML(res.partable, ref, values=res.values).loglik(theta)
    assert a == pytest.approx(b, rel=1e-12)


def test_all_clients_once_reproduce_the_data():
    data = robust("client").likelihood.data
    same = tb.resampled(data, np.arange(data.n_clusters))
    res = robust("client")
    a = TwoLevelML(res.partable, data, values=res.values).loglik(res.theta)
    b = TwoLevelML(res.partable, same, values=res.values).loglik(res.theta)
    assert a == pytest.approx(b, rel=1e-12)


def test_therapist_units_keep_their_clients_together():
    res = robust("therapist/client")
    therapists = pd.Series(sessions().groupby("client")["therapist"].first())
    th = Clusters.from_ids("therapist", therapists.sort_index().to_numpy())
    units = tb.units(res.likelihood.data.n_clusters, th)
    assert len(units) == res.data_info["therapist"]["n"]
    clients = res.likelihood.data.clusters.ids
    for u in units:
        assert therapists.loc[clients[u]].nunique() == 1
    assert sorted(np.concatenate(units)) == list(range(len(clients)))


@lru_cache(maxsize=None)
def boot(cluster, n=40, seed=7, interval="percentile"):
    return ap.fit(CASE["model"], sessions(), cluster=cluster, se="bootstrap", bootstrap=n,
                  seed=seed, progress=False, boot_ci=interval)


def test_therapist_bootstrap_same_seed_same_bytes():
    a, b = boot("therapist/client", n=10), ap.fit(CASE["model"], sessions(),
                                                 cluster="therapist/client", se="bootstrap",
                                                 bootstrap=10, seed=7, progress=False)
    assert a.estimates.to_csv() == b.estimates.to_csv()
    assert a.se_kind == "bootstrap.cluster"
    assert a.draws["unit"] == "therapist" and a.draws["ok"] + a.draws["failed"] == 10
    c = boot("therapist/client", n=10, seed=8)
    assert c.estimates.to_csv() != a.estimates.to_csv()


@pytest.mark.parametrize("cluster", ["therapist/client", "client"])
def test_bootstrap_ses_are_near_the_sandwich(cluster):
    """40 draws: an SE from 40 draws is within ±11% (one sd) of its limit;
    the bounds 0.6–1.6 are about four sd, and they fail for an SE that is
    off by a factor (e.g. resampling sessions instead of clusters)."""
    b, r = boot(cluster), robust(cluster)
    free = r.estimates["se"].to_numpy() > 0          # the table lists fixed rows too
    ratio = b.estimates["se"].to_numpy()[free] / r.estimates["se"].to_numpy()[free]
    assert np.all((ratio > 0.6) & (ratio < 1.6)), ratio
    # the point estimates are the full-sample ones, not the draws' mean
    np.testing.assert_allclose(b.estimates["est"], r.estimates["est"], rtol=1e-12)
    est = b.estimates
    inside = (est["ci.lower"] <= est["est"]) & (est["est"] <= est["ci.upper"])
    assert inside.all()


def test_bca_intervals_for_defined_effects():
    b = boot("therapist/client", n=20, interval="bca")
    p = boot("therapist/client", n=20)
    d_b = b.estimates[b.estimates["op"] == ":="]
    d_p = p.estimates[p.estimates["op"] == ":="]
    assert np.all(np.isfinite(d_b[["ci.lower", "ci.upper"]].to_numpy()))
    assert not np.allclose(d_b["ci.lower"], d_p["ci.lower"])     # a different interval
    assert "bca bootstrap" in b.ci["defined"]


def test_failed_draws_are_counted_left_out_and_reported(monkeypatch):
    calls = {"n": 0}
    real = tb.resampled

    def every_fourth_fails(data, clients):
        calls["n"] += 1
        if calls["n"] % 4 == 0:
            raise EstimationError("singular")
        return real(data, clients)

    monkeypatch.setattr(tb, "resampled", every_fourth_fails)
    res = ap.fit(CASE["model"], sessions(), cluster="therapist/client", se="bootstrap",
                 bootstrap=20, seed=3, progress=False)
    assert res.draws["failed"] == 5 and res.draws["ok"] == 15
    assert "15 of 20 draws" in res.ci["parameters"]
    assert any("5 of 20 bootstrap draws" in w for w in res.warnings)


def test_parallel_draws_equal_serial_draws():
    res = robust("therapist/client")
    therapists = pd.Series(sessions().groupby("client")["therapist"].first())
    th = Clusters.from_ids("therapist", therapists.sort_index().to_numpy())
    a, fa = tb.replicates(res.likelihood, res.theta, therapists=th, n=6, seed=1, workers=1)
    b, fb = tb.replicates(res.likelihood, res.theta, therapists=th, n=6, seed=1, workers=2)
    assert fa == fb
    np.testing.assert_array_equal(a, b)


def test_report_and_figure_name_the_therapists_for_the_ses():
    """Sessions in clients in therapists: the SEs are the 44 therapists'."""
    from attachpath.diagram import diagram
    from attachpath.report.tables import se_phrase
    res = boot("therapist/client", n=10)
    n_t, n_c = res.data_info["therapist"]["n"], res.data_info["cluster"]["n"]
    note = diagram(res).note
    assert f"in {n_c} clients" in note
    assert f"cluster-bootstrap standard errors corrected for {n_t} therapists" in note
    assert f"{n_t} clusters of 'therapist'" in se_phrase(res)
    assert f"Standard errors: bootstrap over {n_t} therapists" in res.summary()
    assert "corrected for" not in res.summary()          # not the sandwich's sentence
    assert f"Standard errors: corrected for {n_t} therapists" in \
        robust("therapist/client").summary()
    robust_note = diagram(robust("therapist/client")).note
    assert f"cluster-robust standard errors corrected for {n_t} therapists" in robust_note
    clients_only = boot("client", n=10)
    assert f"cluster-bootstrap standard errors, {n_c} clients" in diagram(clients_only).note


def test_monte_carlo_intervals_from_the_therapist_robust_vcov():
    """Monte Carlo CIs of := effects draw from the therapist-corrected vcov:
    for a*b (SE/estimate ~0.15) the MC interval is close to the delta-method
    one (±10% of its width with 20,000 draws)."""
    mc = ap.fit(CASE["model"], sessions(), cluster="therapist/client", se="robust",
                mc_draws=20000, seed=4)
    assert "Monte Carlo" in mc.ci["defined"] and "robust.cluster" in mc.ci["defined"]
    r = robust("therapist/client")
    row = lambda res: res.estimates[res.estimates["lhs"] == "ab"].iloc[0]  # noqa: E731
    m, d = row(mc), row(r)
    width = d["ci.upper"] - d["ci.lower"]
    assert abs(m["ci.lower"] - d["ci.lower"]) < 0.1 * width
    assert abs(m["ci.upper"] - d["ci.upper"]) < 0.1 * width
    assert m["se"] == pytest.approx(d["se"], rel=1e-12)      # the SE stays the delta one


def _cli(args) -> tuple[int, str]:
    """(exit code, stderr) of `attachpath ARGS` run in process."""
    import contextlib
    import io

    from attachpath.cli import main
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue()


def test_cli_two_level_bootstrap(tmp_path):
    out = tmp_path / "out"
    code, err = _cli(["fit", str(REF.parents[1] / "specs" / "twolevel_serial_esat_anx.lav"),
                      "--data", str(REF / "data" / "example_sessions_esat.csv"),
                      "--cluster", "therapist/client", "--se", "bootstrap", "--bootstrap", "10",
                      "--seed", "3", "--out", str(out), "--quiet"])
    assert code == 0, err
    fit = json.loads((out / "fit.json").read_text())
    assert fit["se"] == "bootstrap.cluster"
    assert fit["bootstrap"]["unit"] == "therapist" and fit["bootstrap"]["n"] == 10
    assert fit["data"]["therapist"]["n"] == 44 and "icc_therapist" in fit["data"]


def _sleeping_refits(*args):
    import time
    time.sleep(30)


def test_interrupt_stops_the_two_level_workers_at_once(monkeypatch):
    """Ctrl-C during a multi-process two-level bootstrap terminates the
    workers instead of waiting for the draws they are refitting (here each
    would sleep 30 s): the pool is estimate/bootstrap.py's in_pool."""
    import multiprocessing
    import os
    import signal
    import threading
    import time
    res = robust("client")
    monkeypatch.setattr(tb, "_refit_many", _sleeping_refits)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        tb.replicates(res.likelihood, res.theta, n=8, seed=1, workers=2)
    timer.cancel()
    assert time.perf_counter() - start < 6
    assert not multiprocessing.active_children()


def _therapist_clusters(res):
    therapists = pd.Series(sessions().groupby("client")["therapist"].first())
    return Clusters.from_ids("therapist", therapists.loc[res.likelihood.data.clusters.ids]
                             .to_numpy())


def test_a_studentized_draw_carries_the_robust_ses_of_its_own_fit():
    """A studentized draw's SEs are those of `fit(se="robust")` on the drawn
    sessions, each drawn therapist (a repeat too) a therapist of its own and
    each drawn client a client of its own (5e-4: the draw stops scoring at
    max |dF/dθ| < 1e-6, the full fit at 1e-9)."""
    from attachpath.effects import Defined
    res = robust("therapist/client")
    th = _therapist_clusters(res)
    defined = Defined.from_partable(res.partable)
    unit_list = tb.units(res.likelihood.data.n_clusters, th)
    pick = np.random.default_rng(11).integers(0, len(unit_list), len(unit_list))
    draw, _ = tb.replicates(res.likelihood, res.theta, therapists=th, n=1, seed=11,
                            workers=1, studentize=defined)
    k = len(res.theta)
    assert draw.shape == (1, 2 * k + len(defined))
    # the same draw from the rows
    frame = sessions()
    ids = res.likelihood.data.clusters.ids
    parts = []
    for j, u in enumerate(pick):
        rows = frame[frame["client"].isin(ids[unit_list[u]])].copy()
        rows["client"] = rows["client"].astype(str) + f"/{j}"
        rows["therapist"] = j
        parts.append(rows)
    again = ap.fit(CASE["model"], pd.concat(parts, ignore_index=True),
                   cluster="therapist/client", se="robust")
    np.testing.assert_allclose(draw[0, :k], again.theta, rtol=1e-4, atol=1e-6)
    V = again.vcov.to_numpy()
    np.testing.assert_allclose(draw[0, k:2 * k], np.sqrt(np.diag(V)), rtol=5e-4)
    d = again.estimates[again.estimates["op"] == ":="]["se"].to_numpy()
    np.testing.assert_allclose(draw[0, 2 * k:], d, rtol=5e-4)


def test_studentized_interval_formula():
    """[θ̂ − ŝe·q(t*, 1−α/2), θ̂ − ŝe·q(t*, α/2)]; with every draw's SE equal
    to ŝe it is the basic bootstrap interval 2θ̂ − q(θ*); an SE of 0 gives
    [θ̂, θ̂]."""
    from attachpath.estimate.bootstrap import studentized
    rng = np.random.default_rng(2)
    both = rng.normal(1.0, 0.2, size=(400, 3)) ** 3
    est = np.array([1.0, 1.0, 1.0])
    se_hat = np.array([0.5, 0.2, 0.0])
    se_draws = np.column_stack([np.abs(both[:, 0]) * 0.4, np.full(400, 0.2), np.zeros(400)])
    ci = studentized(both, se_draws, est, se_hat, 0.90)
    t0 = (both[:, 0] - 1.0) / se_draws[:, 0]
    assert ci[0, 0] == pytest.approx(1.0 - 0.5 * np.quantile(t0, 0.95), rel=1e-12)
    assert ci[0, 1] == pytest.approx(1.0 - 0.5 * np.quantile(t0, 0.05), rel=1e-12)
    basic = 2 * 1.0 - np.quantile(both[:, 1], [0.95, 0.05])
    np.testing.assert_allclose(ci[1], basic, rtol=1e-12)
    assert tuple(ci[2]) == (1.0, 1.0)


def test_studentized_fit_same_seed_same_bytes_and_wider_tails():
    """The studentized interval of the same draws differs from the percentile
    one and contains the estimate; the SEs (the draws' SD) are the same."""
    s1 = boot("therapist/client", n=20, interval="studentized")
    s2 = boot("therapist/client", n=20, interval="studentized")
    p = boot("therapist/client", n=20)
    assert s1.estimates.to_csv() == s2.estimates.to_csv()
    np.testing.assert_array_equal(s1.estimates["se"], p.estimates["se"])
    free = s1.estimates["se"] > 0
    assert not np.allclose(s1.estimates["ci.lower"][free], p.estimates["ci.lower"][free])
    e = s1.estimates
    assert ((e["ci.lower"] <= e["est"]) & (e["est"] <= e["ci.upper"])).all()
    assert "studentized bootstrap" in s1.ci["defined"]
    assert s1.draws["interval"] == "studentized"
