"""Small-sample options for cluster-robust SEs with few clusters (issue 13,
reports/coverage/): the bias-reduced CR2 meat (estimate/vcov.py cr2,
fit(cluster_se="cr2")), t(G−1) intervals and p-values (fit(ci_dist="t")) and
multivariate-t Monte Carlo draws (estimate/montecarlo.py).  CR2 is checked
against clubSandwich (tests/reference/make_reference_cr2.R) on OLS
estimating equations, where the score form must reproduce Bell &
McCaffrey's CR2 exactly."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import attachpath as ap
from attachpath.effects import Defined
from attachpath.errors import OptionError
from attachpath.estimate import montecarlo
from attachpath.estimate import vcov as vc
from attachpath.estimate.clusters import Clusters
from attachpath.simulate import simulate

REF = Path(__file__).resolve().parents[1] / "reference"
MODEL = """
level: 1
  tds_ge ~ cats_secure
level: 2
  cats_secure ~ a*ecr_anx
  tds_ge ~ b*cats_secure
  iip_post ~ c*tds_ge + iip_pre
  ab := a*b
  abc := a*b*c
"""


def ols_likelihood(X, y):
    """The OLS estimating equations in the likelihood seam's shape: per-row
    scores x_i (y_i − x_iᵀβ) (minus their derivative sums to XᵀX)."""
    return SimpleNamespace(n=len(y), scores=lambda beta: X * (y - X @ beta)[:, None])


def test_cr2_reproduces_clubsandwich_on_ols():
    t = json.loads((REF / "cr2" / "ols_cr2.json").read_text())
    d = pd.read_csv(REF / t["data"])
    X = np.column_stack([np.ones(len(d)), d["x1"], d["x2"]])
    y = d["y"].to_numpy()
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    np.testing.assert_allclose(beta, t["coef"], rtol=1e-10)
    # no cluster reaches the bound, so no eigenvalue is clipped
    assert t["max_cluster_leverage"] < vc.CR2_BOUND
    lik = ols_likelihood(X, y)
    clusters = Clusters.from_ids("cluster", d["cluster"].to_numpy())
    V, A, B = vc.cr2(lik, beta, clusters)
    ref = np.array(t["vcov_clubSandwich"])
    # clubSandwich's CR2 to 1e-8 relative (on the correlation scale off the diagonal)
    s = np.sqrt(np.diag(ref))
    assert np.max(np.abs(V - ref) / np.outer(s, s)) < 1e-8
    np.testing.assert_allclose(A * lik.n, X.T @ X, rtol=1e-7)
    # and it is not the CR1 sandwich (which is smaller here)
    V1 = vc.robust(SimpleNamespace(n=lik.n, scores=lik.scores,
                                   observed_information=lambda b: X.T @ X / lik.n),
                   beta, clusters)[0]
    assert np.all(np.diag(V) > np.diag(V1) * 1.01)


def test_cr2_bounds_a_cluster_that_carries_most_of_the_information():
    """Fay & Graubard's bound: a cluster with leverage above CR2_BOUND is
    corrected as if it had CR2_BOUND, so the meat stays finite."""
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(size=3) * 30, rng.normal(size=40)])
    X = np.column_stack([np.ones_like(x), x])
    y = 1 + 0.2 * x + rng.normal(size=len(x))
    ids = np.concatenate([[0, 0, 0], np.repeat(np.arange(1, 11), 4)])
    clusters = Clusters.from_ids("g", ids)
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    lik = ols_likelihood(X, y)
    H = vc.cluster_hessians(lik, beta, clusters)
    Hi = np.linalg.inv(np.linalg.cholesky(X.T @ X))
    lev = np.linalg.eigvalsh(Hi @ H[0] @ Hi.T).max()
    assert lev > vc.CR2_BOUND
    V = vc.cr2(lik, beta, clusters)[0]
    assert np.all(np.isfinite(V)) and np.all(np.diag(V) > 0)


def test_multivariate_t_draws_have_t_margins():
    z = montecarlo.t_draws(2 ** 15, 3, 5.0, seed=1)
    for j in range(3):
        q = np.quantile(z[:, j], [0.025, 0.975])
        np.testing.assert_allclose(q, stats.t.ppf([0.025, 0.975], 5), rtol=0.02)
    # one shared χ²: the coordinates are uncorrelated but not independent
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 0.02
    assert np.corrcoef(z[:, 0] ** 2, z[:, 1] ** 2)[0, 1] > 0.05


@pytest.fixture(scope="module")
def fits():
    sessions = simulate(seed=77, n_therapists=20, n_clients=120, min_sessions=2,
                        max_sessions=6, therapist_icc=0.15, dropout_mar=0.0,
                        missing=0.0).sessions
    kw = dict(cluster="therapist/client", se="robust", mc_draws=4000, seed=3)
    # ci_dist="normal": Mplus' (and lavaan's) z intervals, the baseline that
    # t(G−1) is compared with (three-level fits default to t(G−1))
    return (sessions, ap.fit(MODEL, sessions, ci_dist="normal", **kw),
            ap.fit(MODEL, sessions, ci_dist="t", **kw),
            ap.fit(MODEL, sessions, cluster_se="cr2", ci_dist="normal", **kw),
            ap.fit(MODEL, sessions, cluster_se="cr2", ci_dist="t", **kw))


def test_t_reference_widens_wald_intervals_and_p_values_by_t_of_g_minus_1(fits):
    sessions, r1, rt, _, _ = fits
    G = sessions["therapist"].nunique()
    assert r1.data_info["therapist"]["n"] == G == 20
    e1, et = r1.estimates, rt.estimates
    free = (e1["op"] != ":=") & (e1["se"] > 0)
    np.testing.assert_array_equal(et["se"], e1["se"])        # the vcov is the same
    ratio = ((et["ci.upper"] - et["ci.lower"]) / (e1["ci.upper"] - e1["ci.lower"]))[free]
    np.testing.assert_allclose(ratio, stats.t.ppf(0.975, G - 1) / stats.norm.ppf(0.975),
                               rtol=1e-10)
    np.testing.assert_allclose(et["pvalue"][free],
                               2 * stats.t.sf(np.abs(et["z"][free]), G - 1), rtol=1e-10)
    assert np.all(et["pvalue"][free] >= e1["pvalue"][free])
    assert rt.ci["parameters"] == f"t({G - 1}) (Wald)"
    assert f"multivariate t({G - 1})" in rt.ci["defined"]
    assert rt.provenance["options"]["ci_dist"] == "t"
    assert "ci_dist" not in r1.provenance["options"]       # lavaan's normal: not recorded
    # Monte Carlo intervals of := effects: multivariate t(G−1) draws, wider
    d = Defined.from_partable(rt.partable)
    V = rt.vcov.to_numpy()
    mc = montecarlo.intervals(d, rt.theta, V, n=4000, seed=3, df=G - 1)
    defined = et["op"] == ":="
    np.testing.assert_allclose(et.loc[defined, ["ci.lower", "ci.upper"]].to_numpy(),
                               np.array(mc), rtol=1e-12)
    w1 = (e1["ci.upper"] - e1["ci.lower"])[defined].to_numpy()
    wt = (et["ci.upper"] - et["ci.lower"])[defined].to_numpy()
    assert np.all(wt > w1)


def test_cr2_option_gives_the_cr2_vcov_and_keeps_the_cr1_test(fits):
    sessions, r1, _, r2, r2t = fits
    lik, theta = r2.likelihood, r2.theta
    ther_of = sessions.groupby("client")["therapist"].first()
    therapists = Clusters.from_ids("therapist", ther_of.loc[lik.data.clusters.ids].to_numpy())
    np.testing.assert_allclose(r2.vcov.to_numpy(), vc.cr2(lik, theta, therapists)[0],
                               rtol=1e-10)
    assert r2.se_kind == "robust.cluster.cr2" and r1.se_kind == "robust.cluster"
    # the bias-reduced meat is larger than G/(G−1)'s for most parameters here
    ratio = np.diag(r2.vcov.to_numpy()) / np.diag(r1.vcov.to_numpy())
    assert np.median(ratio) > 1
    # the scaled test is CR1's (no CR2 version of Yuan-Bentler is claimed)
    for k in ("chisq.scaled", "chisq.scaling.factor"):
        assert r2.fit[k] == r1.fit[k]
    assert r2.provenance["options"]["cluster_se"] == "cr2"
    assert "bias-reduced CR2" in r2.summary() and "CR2" not in r1.summary()
    # both options together: CR2 SEs with t(G−1) quantiles
    free = r2.estimates["op"] != ":="
    np.testing.assert_array_equal(r2t.estimates["se"], r2.estimates["se"])
    q = stats.t.ppf(0.975, 19)
    np.testing.assert_allclose((r2t.estimates["ci.upper"] - r2t.estimates["est"])[free],
                               q * r2t.estimates["se"][free], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("kw, culprit", [
    (dict(cluster="therapist/client", se="standard", ci_dist="t"), "se='robust'"),
    (dict(se="robust", cluster_se="cr2"), "cluster"),
    (dict(cluster="client", se="robust", ci_dist="t"), "therapist/client"),
    (dict(cluster="therapist/client", se="robust", cluster_se="CR3"), "'CR3'"),
    (dict(cluster="therapist/client", se="robust", ci_dist="student"), "'student'"),
])
def test_small_sample_options_refuse_what_they_cannot_mean(fits, kw, culprit):
    sessions = fits[0]
    with pytest.raises(OptionError, match=culprit):
        ap.fit(MODEL, sessions, **kw)


def test_three_level_fits_default_to_t_of_g_minus_1(fits):
    """The lead's decision (issue 13): CR1 SEs, t(G−1) intervals, p-values
    and Monte Carlo draws by default for cluster="therapist/client" (as
    Stata's vce(cluster)); "auto" is the same default spelt out."""
    sessions, r1, rt, _, _ = fits
    kw = dict(cluster="therapist/client", se="robust", mc_draws=4000, seed=3)
    for res in (ap.fit(MODEL, sessions, **kw), ap.fit(MODEL, sessions, ci_dist="auto", **kw)):
        for col in ("est", "se", "z", "pvalue", "ci.lower", "ci.upper"):
            np.testing.assert_allclose(res.estimates[col], rt.estimates[col], rtol=1e-12,
                                       atol=1e-15, err_msg=col)
        assert res.ci == rt.ci and res.ci["pvalues"] == "t(19)"
        assert "p-values from t(19)" in res.summary()
        assert res.provenance["options"]["ci_dist"] == "t"
    # ci_dist="normal" gives the old (Mplus) intervals: est ± z·se, normal p,
    # Monte Carlo from N(θ̂, V̂)
    e = r1.estimates
    free = (e["op"] != ":=") & (e["se"] > 0)
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(e["ci.upper"][free], (e["est"] + z * e["se"])[free], rtol=1e-12)
    np.testing.assert_allclose(e["pvalue"][free], 2 * stats.norm.sf(np.abs(e["z"][free])),
                               rtol=1e-10)
    mc = montecarlo.intervals(Defined.from_partable(r1.partable), r1.theta,
                              r1.vcov.to_numpy(), n=4000, seed=3)
    np.testing.assert_allclose(e.loc[e["op"] == ":=", ["ci.lower", "ci.upper"]].to_numpy(),
                               np.array(mc), rtol=1e-12)
    assert r1.ci["parameters"] == "normal (Wald)" and "pvalues" not in r1.ci
    # the default applies to the therapist sandwich only: model-based SEs of a
    # three-level fit keep normal quantiles
    std = ap.fit(MODEL, sessions, cluster="therapist/client", se="standard")
    assert std.ci["parameters"] == "normal (Wald)" and "ci_dist" not in std.provenance["options"]


def test_two_level_and_single_level_cluster_fits_keep_normal_intervals(fits):
    """Only therapist/client fits change: a two-level fit by clients, and a
    single-level cluster= fit (which must match lavaan), stay normal."""
    sessions = fits[0]
    two = ap.fit(MODEL, sessions, cluster="client", se="robust")
    assert two.ci["parameters"] == "normal (Wald)" and "pvalues" not in two.ci
    from attachpath.data import prepare
    clients = prepare(sessions).clients
    single = "cats_secure ~ a*ecr_anx\ntds_ge ~ b*cats_secure\nab := a*b\n"
    d = ap.fit(single, clients, cluster="therapist", se="robust")
    n = ap.fit(single, clients, cluster="therapist", se="robust", ci_dist="normal")
    for col in ("pvalue", "ci.lower", "ci.upper"):
        np.testing.assert_array_equal(d.estimates[col], n.estimates[col])
    e = d.estimates
    free = e["se"] > 0
    np.testing.assert_allclose(e["ci.upper"][free],
                               (e["est"] + stats.norm.ppf(0.975) * e["se"])[free], rtol=1e-12)
    assert "ci_dist" not in d.provenance["options"]
