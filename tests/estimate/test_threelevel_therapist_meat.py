"""Issue 13 check (b): the therapist meat (per-client scores summed within
therapists) and the therapist-corrected vcov equal a recomputation in R from
lavaan's own clusterwise two-level scores (tests/reference/
make_reference_therapist_meat.R, fixture threelevel/therapist_meat.json, on
simulated sessions the other tests do not use, with real therapist variance)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.estimate import vcov as vc
from attachpath.estimate.clusters import Clusters

REF = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(scope="module")
def case():
    t = json.loads((REF / "threelevel" / "therapist_meat.json").read_text())
    data = pd.read_csv(REF / t["data"])
    res = ap.fit(t["model"], data, cluster="therapist/client", se="robust")
    return t, data, res


def matrix(m):
    return m["names"], np.array(m["matrix"], dtype=float)


def relative(V, T):
    """|V − T| in units of sqrt(T_ii T_jj): relative on the diagonal, on the
    correlation scale off it."""
    s = np.sqrt(np.diag(T))
    return np.max(np.abs(V - T) / np.outer(s, s))


def at_lavaans_estimates(t, data, res):
    """(theta, therapist Clusters) with lavaan's estimates and lavaan's fixed
    covariate moments (from its loose h1 EM) put into the fit's likelihood."""
    lik = res.likelihood
    lav = {(r["lhs"], r["op"], r["rhs"], r["block"]): r["est"] for r in t["parTable"]}
    theta, values = res.theta.copy(), lik.values.copy()
    for k, r in enumerate(res.partable.rows):
        if r.op == ":=":
            continue
        if r.free:
            theta[r.free - 1] = lav[(r.lhs, r.op, r.rhs, r.block)]
        elif r.exo:
            values[k] = lav[(r.lhs, r.op, r.rhs, r.block)]
    lik.values = values
    ther_of = data.groupby("client")["therapist"].first()
    clients = lik.data.clusters.ids
    therapists = Clusters.from_ids("therapist", ther_of.loc[clients].to_numpy())
    return theta, therapists


def test_fixture_recipe_reproduces_lavaans_own_mlr():
    t = json.loads((REF / "threelevel" / "therapist_meat.json").read_text())
    # the R scores summed by client are lavaan's own MLR meat and vcov
    assert t["check_client_meat_vs_information_first_order_relmax"] < 1e-12
    assert t["check_client_vcov_vs_lavaan_relmax"] < 1e-12


def test_therapist_meat_and_vcov_equal_the_r_recomputation(case):
    t, data, res = case
    assert res.data_info["therapist"]["n"] == t["ntherapists"]
    assert res.data_info["cluster"]["n"] == t["nclients"]
    lik = res.likelihood
    theta, therapists = at_lavaans_estimates(t, data, res)
    J, G = t["nclients"], t["ntherapists"]
    names, B_sum = matrix(t["meat_therapist_sum"])
    _, B3 = matrix(t["meat_therapist"])
    _, V3 = matrix(t["vcov_therapist"])
    pos = [list(res.vcov.index).index(n) for n in names]
    assert sorted(pos) == list(range(len(theta)))
    ix = np.ix_(pos, pos)
    # Σ_t S_t S_t' from attachpath's own per-client scores, at lavaan's
    # estimates: 1e-6 relative (the scores are closed-form on both sides)
    S = therapists.sum(lik.scores(theta))
    assert S.shape == (G, len(theta))
    assert relative((S.T @ S)[ix], B_sum) < 1e-6
    # the meat and the sandwich as vcov.robust computes them for the fit
    # (G/(G−1), observed-information bread; attachpath's A and B are per
    # session, lavaan's per client): 1e-6 relative; the bread is a
    # numerical Hessian on both sides
    V, A, B = vc.robust(lik, theta, therapists)
    assert lik.n == t["nsessions"]
    assert relative(B[ix] * lik.n / J, B3) < 1e-6
    assert relative(V[ix], V3) < 1e-6
    # the therapists matter here: without them the vcov is lavaan's MLR one,
    # which differs from the therapist-corrected one by far more than 1e-6
    _, V_lav = matrix(t["vcov_lavaan_mlr"])
    assert relative(V_lav, V3) > 0.05


def test_fitted_therapist_ses_match_at_polished_estimates(case):
    """The fit's own SEs (at attachpath's fully converged estimates, which
    lavaan misses by up to ~1e-5): 1e-4 relative."""
    t, _, res = case
    names, V3 = matrix(t["vcov_therapist"])
    se = dict(zip(names, np.sqrt(np.diag(V3))))
    est = res.estimates
    free = est[est["op"] != ":="]
    assert res.se_kind == "robust.cluster"
    for name, v in se.items():
        mine = float(np.sqrt(res.vcov.loc[name, name]))
        assert mine == pytest.approx(v, rel=1e-4), name
    d = t["defined"]
    for name, v in zip(d["names"], d["se_therapist"]):
        row = est[(est["op"] == ":=") & (est["lhs"] == name)]
        assert float(row["se"].iloc[0]) == pytest.approx(v, rel=1e-4), name
    assert len(free) > 0
