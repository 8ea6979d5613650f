"""Clustered-data corrections: Monte Carlo CIs, the cluster bootstrap and the
nested-data diagnostics.  (Cluster-robust SEs and scaled tests against lavaan
are in test_reference_lavaan.py.)"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.errors import ClusterWarning
from attachpath.estimate import bootstrap as boot
from attachpath.fitting import icc1

SPECS = Path(__file__).resolve().parents[2] / "specs"
REF = Path(__file__).resolve().parents[1] / "reference"
SERIAL = """cats_secure ~ a*ecr_anx + ecr_avoid
tds_ge ~ b*cats_secure + ecr_anx
iip_post ~ c*tds_ge + iip_pre + ecr_anx
abc := a*b*c"""


@pytest.fixture(scope="module")
def clients_a():
    return pd.read_csv(REF / "data" / "clients_a.csv")


def clustered_data(seed=0, g=40, m=10, slope=0.3):
    """x and y both with large cluster components: the naive slope SE is far
    too small (design effect about 1 + (m-1)·.25)."""
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(g), m)
    x = rng.normal(size=g)[cl] + rng.normal(size=g * m)
    y = slope * x + rng.normal(size=g)[cl] + rng.normal(size=g * m)
    return pd.DataFrame({"x": x, "y": y, "cl": cl})


def test_monte_carlo_ci_of_three_path_product_is_stable_across_seeds(clients_a):
    ends = []
    for seed in (1, 2, 3):
        res = ap.fit(SERIAL, clients_a, cluster="therapist", se="robust", mc_draws=20000, seed=seed)
        row = res.defined().set_index("lhs").loc["abc"]
        ends.append((row["ci.lower"], row["ci.upper"]))
    ends = np.array(ends)
    spread = (ends.max(axis=0) - ends.min(axis=0)) / np.abs(ends.mean(axis=0))
    assert np.all(spread < 0.02)                          # within 2% across seeds
    assert "Monte Carlo" in res.ci["defined"]


def test_monte_carlo_uses_the_chosen_vcov(clients_a):
    """For a linear function (a single label) MC percentiles approach the Wald
    interval of that vcov; cluster-robust and naive intervals differ."""
    spec = SERIAL + "\naa := a"
    rob = ap.fit(spec, clients_a, cluster="therapist", se="robust", mc_draws=40000, seed=5)
    std = ap.fit(spec, clients_a, se="standard", mc_draws=40000, seed=5)
    for res in (rob, std):
        r = res.defined().set_index("lhs").loc["aa"]
        assert r["ci.lower"] == pytest.approx(r["est"] - 1.959964 * r["se"], rel=0.02)
        assert r["ci.upper"] == pytest.approx(r["est"] + 1.959964 * r["se"], rel=0.02)
    w_rob = np.diff(rob.defined().set_index("lhs").loc["aa", ["ci.lower", "ci.upper"]].to_numpy())
    w_std = np.diff(std.defined().set_index("lhs").loc["aa", ["ci.lower", "ci.upper"]].to_numpy())
    assert abs(w_rob[0] / w_std[0] - 1) > 0.01


def test_cluster_bootstrap_is_reproducible_by_seed(clients_a):
    kw = dict(cluster="therapist", se="bootstrap", bootstrap=60)
    a = ap.fit(SERIAL, clients_a, seed=11, **kw)
    b = ap.fit(SERIAL, clients_a, seed=11, **kw)
    c = ap.fit(SERIAL, clients_a, seed=12, **kw)
    pd.testing.assert_frame_equal(a.estimates, b.estimates)
    assert not np.allclose(a.estimates["se"], c.estimates["se"])
    assert a.draws["unit"] == "cluster" and a.draws["n"] == 60
    assert a.se_kind == "bootstrap.cluster"


def test_cluster_bootstrap_tracks_cluster_robust_not_naive_ses():
    data = clustered_data()
    naive = ap.fit("y ~ x", data, se="standard")
    robust = ap.fit("y ~ x", data, cluster="cl", se="robust")
    booted = ap.fit("y ~ x", data, cluster="cl", se="bootstrap", bootstrap=400, seed=3)
    get = lambda r: r.estimates.set_index(["lhs", "op", "rhs"]).loc[("y", "~", "x"), "se"]
    s_naive, s_rob, s_boot = get(naive), get(robust), get(booted)
    assert s_rob > 1.4 * s_naive                     # the design really inflates the SE
    assert abs(s_boot / s_rob - 1) < 0.2             # bootstrap ≈ cluster-robust
    assert abs(s_boot / s_rob - 1) < abs(s_boot / s_naive - 1)


def test_failed_bootstrap_draws_are_counted_not_dropped_silently():
    # z varies in one cluster only: draws without that cluster make z constant
    rng = np.random.default_rng(1)
    cl = np.repeat(np.arange(6), 8)
    z = np.where(cl == 0, rng.normal(size=48), 0.0)
    x = rng.normal(size=48)
    y = x + z + rng.normal(size=48)
    data = pd.DataFrame({"x": x, "z": z, "y": y, "cl": cl})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClusterWarning)
        res = ap.fit("y ~ x + z", data, cluster="cl", se="bootstrap", bootstrap=50, seed=2)
    d = res.draws
    assert d["failed"] > 0 and d["ok"] + d["failed"] == 50
    assert any("bootstrap draws failed" in w for w in res.warnings)
    assert f"{d['ok']} of 50" in res.ci["parameters"]


def test_bca_interval_close_to_percentile_for_symmetric_statistic():
    data = clustered_data(seed=4)
    units = boot._units(len(data), data["cl"].to_numpy())
    assert len(units) == 40 and all(len(u) == 10 for u in units)
    draws = np.random.default_rng(0).normal(0.3, 0.05, size=(4000, 1))
    jack = (0.3 + 0.01 * np.linspace(-1, 1, 40))[:, None]   # symmetric: acceleration 0
    pct = boot.percentile(draws, 0.95)
    bca = boot.bca(draws, np.array([0.3]), jack, 0.95)
    assert np.allclose(pct, bca, atol=0.005)


def test_cluster_diagnostics_and_warnings():
    data = clustered_data(g=12, m=5)
    data.loc[data.index[-4:], "cl"] = [100, 101, 102, 103]   # singleton clusters
    with pytest.warns(ClusterWarning):
        res = ap.fit("y ~ x", data, cluster="cl", se="robust")
    info = res.data_info["cluster"]
    assert info["n"] == 16 and info["min"] == 1 and info["max"] == 5
    text = " ".join(res.warnings)
    assert "Only 16 clusters" in text and "single case" in text
    assert res.fit["nclusters"] == 16
    assert set(res.data_info["icc"]) == {"y", "x"}
    assert "Intraclass correlations" in res.summary()


def test_rank_deficient_cluster_vcov_is_warned():
    data = clustered_data(g=3, m=30)       # y~x, y~~y, y~1: 3 free parameters
    with pytest.warns(ClusterWarning, match="3 clusters do not exceed the 3 free parameters"):
        ap.fit("y ~ x", data, cluster="cl", se="robust")


def test_icc1_matches_balanced_anova_formula():
    rng = np.random.default_rng(3)
    g, m = 30, 6
    cl = np.repeat(np.arange(g), m)
    v = rng.normal(size=g)[cl] * 0.8 + rng.normal(size=g * m)
    means = pd.Series(v).groupby(cl).mean().to_numpy()
    msb = m * np.sum((means - v.mean()) ** 2) / (g - 1)
    msw = np.sum((v - means[cl]) ** 2) / (g * m - g)
    icc, deff = icc1(v, cl)
    assert icc == pytest.approx((msb - msw) / (msb + (m - 1) * msw), rel=1e-12)
    assert deff == pytest.approx(1 + (m - 1) * icc, rel=1e-12)


def test_bca_cluster_bootstrap_through_api_and_cli(clients_a, tmp_path):
    kw = dict(cluster="therapist", se="bootstrap", bootstrap=200, seed=4)
    pct = ap.fit(SERIAL, clients_a, **kw)
    bca = ap.fit(SERIAL, clients_a, boot_ci="bca", **kw)
    assert "bca bootstrap" in bca.ci["defined"] and "percentile" in pct.ci["defined"]
    # same draws, so the same SEs; the intervals differ (bias correction)
    assert np.allclose(pct.estimates["se"], bca.estimates["se"])
    assert not np.allclose(pct.estimates["ci.lower"], bca.estimates["ci.lower"])
    # the reported vcov is the covariance of the replicates
    e = pct.estimates
    free_se = e[(e["op"] != ":=") & (e["se"] > 0)]["se"].to_numpy()   # fixed rows: se 0
    assert np.allclose(np.sort(free_se), np.sort(np.sqrt(np.diag(pct.vcov.to_numpy()))))
    from attachpath.cli import main
    path = tmp_path / "a.csv"
    clients_a.to_csv(path, index=False)
    spec = tmp_path / "s.lav"
    spec.write_text(SERIAL)
    assert main(["fit", str(spec), "--data", str(path), "--cluster", "therapist", "--se",
                 "bootstrap", "--bootstrap", "200", "--seed", "4", "--boot-ci", "bca",
                 "--out", str(tmp_path / "o")]) == 0
    est = pd.read_csv(tmp_path / "o" / "estimates.csv")
    assert np.allclose(est["ci.lower"], bca.estimates["ci.lower"], rtol=1e-8)
