"""Two-level FIML (estimate/twolevel_missing.py, likelihood.TwoLevelFIML):
its algebra against the complete-data two-level likelihood and numerical
derivatives, its fits against lavaan 0.6-14
(tests/reference/make_reference_twolevel_fiml.R), and its user errors."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main
from attachpath.errors import DataError, OptionError
from attachpath.estimate.clusters import Clusters
from attachpath.estimate.likelihood import TwoLevelFIML, TwoLevelML
from attachpath.estimate.twolevel import TwoLevelData
from attachpath.estimate.twolevel_missing import TwoLevelMissingData
from attachpath.fitting import partable_of

REF = Path(__file__).resolve().parents[1] / "reference"
MODEL = """
level: 1
  tds_ge ~ bw*cats_secure_w
level: 2
  cats_secure_b ~ a*ecr_anx
  tds_ge ~ b*cats_secure_b + ecr_anx
  iip_post ~ c*tds_ge + cats_secure_b
"""


@lru_cache(maxsize=None)
def table():
    return partable_of(MODEL, meanstructure=True)


def arrays(frame):
    pt = table()
    roles = pt.variable_levels
    y = pt.blocks[0].observed
    z = tuple(v for v in pt.blocks[1].observed if roles[v] == "between")
    X = frame[list(pt.observed)].to_numpy(float)
    return pt, X, y, z, Clusters.from_ids("client", frame["client"].to_numpy())


@lru_cache(maxsize=None)
def complete_frame():
    return pd.read_csv(REF / "data" / "study_sessions_centred.csv")


@lru_cache(maxsize=None)
def missing_frame():
    """The complete sessions with 10% of tds_ge cells and 15% of the clients'
    iip_post missing (seeded)."""
    df = complete_frame().copy()
    rng = np.random.default_rng(7)
    df.loc[rng.random(len(df)) < 0.1, "tds_ge"] = np.nan
    ids = df["client"].unique()
    df.loc[df["client"].isin(ids[rng.random(len(ids)) < 0.15]), "iip_post"] = np.nan
    return df


@lru_cache(maxsize=None)
def complete_pair():
    pt, X, y, z, cl = arrays(complete_frame())
    ml = TwoLevelML(pt, TwoLevelData.from_array(X, pt.observed, y, z, cl))
    fiml = TwoLevelFIML(pt, TwoLevelMissingData.from_array(X, pt.observed, y, z, cl),
                        values=ml.values)
    theta = ml.estimate().theta + 0.01       # away from the solution
    return ml, fiml, theta


def test_complete_data_equals_the_two_level_likelihood():
    # with no missing value the stacked-cluster density is the two-level
    # likelihood of twolevel.py (closed form by cluster size)
    ml, fiml, theta = complete_pair()
    assert fiml.loglik(theta) == pytest.approx(ml.loglik(theta), rel=1e-12)
    np.testing.assert_allclose(fiml.gradient(theta), ml.gradient(theta), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fiml.scores(theta), ml.scores(theta), rtol=0, atol=1e-11)
    np.testing.assert_allclose(fiml.expected_information(theta),
                               ml.expected_information(theta), rtol=1e-10, atol=1e-12)


@lru_cache(maxsize=None)
def missing_lik():
    pt, X, y, z, cl = arrays(missing_frame())
    ml, _, theta = complete_pair()
    lik = TwoLevelFIML(pt, TwoLevelMissingData.from_array(X, pt.observed, y, z, cl),
                       values=ml.values)
    return lik, theta


def test_gradient_matches_numerical_derivatives():
    lik, theta = missing_lik()
    g = lik.gradient(theta)
    h = 1e-6
    num = np.array([(lik.discrepancy(theta + h * e) - lik.discrepancy(theta - h * e)) / (2 * h)
                    for e in np.eye(len(theta))])
    assert np.max(np.abs(g)) > 1e-2               # not at a stationary point
    np.testing.assert_allclose(g, num, rtol=0, atol=1e-8)


def test_cluster_scores_sum_to_the_gradient():
    lik, theta = missing_lik()
    s = lik.scores(theta)
    assert s.shape == (lik.data.n_clusters, lik.npar)
    np.testing.assert_allclose(-2.0 / lik.n * s.sum(axis=0), lik.gradient(theta),
                               rtol=0, atol=1e-13)


def test_batched_gradient_equals_single_ones():
    lik, theta = missing_lik()
    batch = np.vstack([theta, theta + 0.002])
    g = lik.gradient(batch)
    np.testing.assert_allclose(g[1], lik.gradient(theta + 0.002), rtol=0, atol=1e-14)


def test_observed_information_matches_numerical_derivatives():
    # the analytic observed information (Newton steps, observed-information
    # SEs) against central differences of the analytic gradient, at a point
    # away from the solution (residual terms matter) and for the saturated
    # model (moments linear in θ: no second-order term)
    from attachpath.estimate.scoring import numerical_information
    lik, theta = missing_lik()
    for L, t in ((lik, theta), (lik.h1, lik.h1.solution.theta + 0.01)):
        num = numerical_information(L.gradient, t)
        np.testing.assert_allclose(L.observed_information(t), num, rtol=0,
                                   atol=1e-6 * np.max(np.abs(num)))
        assert np.max(np.abs(L.observed_information(t) - L.expected_information(t))) > \
            1e-3 * np.max(np.abs(num))         # not merely the expected information


def test_complete_data_informations_equal_the_two_level_ones():
    ml, fiml, theta = complete_pair()
    from attachpath.estimate.scoring import numerical_information
    np.testing.assert_allclose(fiml.observed_information(theta),
                               numerical_information(ml.gradient, theta), rtol=0, atol=1e-7)


def test_row_order_within_clusters_does_not_matter():
    # rows are exchangeable: shuffled rows give the same patterns and value
    lik, theta = missing_lik()
    df = missing_frame().sample(frac=1.0, random_state=3)
    pt, X, y, z, cl = arrays(df)
    other = TwoLevelFIML(pt, TwoLevelMissingData.from_array(X, pt.observed, y, z, cl),
                         values=lik.values)
    assert other.data.patterns == lik.data.patterns
    assert other.loglik(theta) == pytest.approx(lik.loglik(theta), rel=1e-12)


def test_clusters_sharing_size_and_pattern_share_a_pattern():
    lik, _ = missing_lik()
    assert lik.data.patterns < lik.data.n_clusters / 2


# -- against lavaan ---------------------------------------------------------------------

@lru_cache(maxsize=None)
def case(name):
    return json.loads((REF / "twolevel" / f"{name}.json").read_text())


@lru_cache(maxsize=None)
def fitted(name, se=None):
    c = case(name)
    if se is None:
        se = "robust" if c["call"]["estimator"] == "MLR" else "standard"
    data = pd.read_csv(REF / c["data"])
    return ap.fit(c["model"], data, cluster=c["call"]["cluster"], missing="fiml", se=se)


def lavaan_free(c):
    return {(r["lhs"], r["op"], r["rhs"], int(r["block"])): r for r in c["parameterEstimates"]
            if r["op"] == ":=" or r["free"] > 0}


def ours(res):
    return {(r["lhs"], r["op"], r["rhs"], int(r["block"])): r
            for r in res.estimates.to_dict("records") if r["op"] == ":=" or r["se"] != 0}


# -- user errors and options ----------------------------------------------------------------

def small_frame():
    """40 clients of the missing-data sessions (fast fits)."""
    df = missing_frame()
    return df[df["client"].isin(df["client"].unique()[:40])].copy()


def test_a_cluster_whose_rows_are_all_empty_is_named():
    df = small_frame()
    cid = df["client"].iloc[0]
    df.loc[df["client"] == cid, ["tds_ge", "cats_secure_w", "cats_secure_b", "ecr_anx",
                                 "iip_post"]] = np.nan
    with pytest.raises(DataError, match=f"client {cid}\\b.*no observed value|"
                                        f"no observed value.*client {cid}\\b"):
        ap.fit(MODEL, df, cluster="client", missing="fiml")


def test_fiml_x_and_bootstrap_are_refused_for_two_levels():
    df = small_frame()
    with pytest.raises(OptionError, match="fiml.x"):
        ap.fit(MODEL, df, cluster="client", missing="fiml.x")
    with pytest.raises(OptionError, match="Bootstrap"):
        ap.fit(MODEL, df, cluster="client", missing="fiml", se="bootstrap")


def test_rows_with_a_missing_covariate_are_dropped_with_a_note():
    df = small_frame()
    df.loc[df.index[:3], "cats_secure_w"] = np.nan
    res = ap.fit(MODEL, df, cluster="client", missing="fiml", se="standard")
    assert res.data_info["missing"]["dropped_missing_covariate"] == 3
    assert res.fit["ntotal"] == len(df) - 3
    assert any("3 rows with a missing covariate" in w for w in res.warnings)


def test_three_levels_with_one_client_per_therapist_is_client_mlr_times_j_over_j_minus_1():
    # the therapist sandwich sums client scores within therapists and
    # multiplies by G/(G-1); with a therapist per client only the factor remains
    df = small_frame()
    df["solo"] = df["client"]
    mlr = ap.fit(MODEL, df, cluster="client", missing="fiml", se="robust")
    three = ap.fit(MODEL, df, cluster="solo/client", missing="fiml", se="robust")
    j = mlr.fit["nclusters"]
    np.testing.assert_allclose(three.vcov.to_numpy(), mlr.vcov.to_numpy() * j / (j - 1),
                               rtol=1e-10, atol=1e-14)
    assert three.se_kind == "robust.cluster"


def test_cli_fits_two_level_fiml_and_says_so(tmp_path, capsys):
    spec = tmp_path / "m.lav"
    spec.write_text(MODEL)
    data = tmp_path / "s.csv"
    small_frame().to_csv(data, index=False)
    before = data.read_bytes()
    code = main(["fit", str(spec), "--data", str(data), "--cluster", "client",
                 "--missing", "fiml", "--out", str(tmp_path / "out")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "FIML" in printed
    fit = json.loads((tmp_path / "out" / "fit.json").read_text())
    assert fit["provenance"]["options"]["likelihood"] == "ml.twolevel.fiml"
    assert data.read_bytes() == before


def test_ml_estimates_and_standard_errors_match_lavaan():
    c, res = case("fiml2l_ml"), fitted("fiml2l_ml")
    lav, mine = lavaan_free(c), ours(res)
    assert set(lav) == set(mine) and len(lav) == 15
    for key, r in lav.items():
        m = mine[key]
        # estimates within 1e-4 of lavaan's Newton-polished solution (1e-11 measured)
        assert m["est"] == pytest.approx(r["est_polished"], abs=1e-4), key
        # SEs (observed information, lavaan's default with missing data) 0.1%
        assert m["se"] == pytest.approx(r["se"], rel=1e-3), key
    assert res.se_kind == "standard.observed"


def test_ml_fit_measures_match_lavaan():
    c, res = case("fiml2l_ml"), fitted("fiml2l_ml")
    fm, f = c["fitMeasures"], res.fit
    assert f["ntotal"] == fm["ntotal"] == c["ntotal"] == 801     # 4 empty rows dropped
    assert f["nclusters"] == c["nclusters"]
    for k in ("npar", "df", "baseline.df"):
        assert f[k] == fm[k], k
    # logl, aic, bic within 0.01 (lavaan's loglik.x subtracted, as lavaan)
    for k in ("logl", "aic", "bic", "bic2"):
        assert f[k] == pytest.approx(fm[k], abs=0.01), k
    # lavaan's fmin here: −(ℓ + ½·(observed cells)·log 2π)/N (measured 1.1e-9 apart)
    assert f["fmin"] == pytest.approx(fm["fmin"], abs=1e-6)
    # the saturated model: lavaan stops its nlminb at rel.tol 1e-7; ours is
    # fitted to convergence and matches lavaan's own fit refined by Newton
    # steps (make_reference_twolevel_fiml.R) to 1e-8
    conv = c["h1_converged"]["unrestricted_logl"]
    assert f["unrestricted.logl"] == pytest.approx(conv, abs=1e-8)
    assert f["unrestricted.logl"] == pytest.approx(fm["unrestricted.logl"], abs=0.01)
    # chisq 0.1% of lavaan's, and 1e-5 of the chisq against the converged h1
    # (the rest: lavaan's covariate moments come from its loose h1)
    assert f["chisq"] == pytest.approx(fm["chisq"], rel=1e-3)
    assert f["chisq"] == pytest.approx(
        c["chisq_converged"]["chisq_converged_h1_polished_h0"], rel=1e-5)
    assert f["baseline.chisq"] == pytest.approx(fm["baseline.chisq"], rel=1e-3)
    for k in ("cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper"):
        assert f[k] == pytest.approx(fm[k], abs=1e-3), k
    # SRMR: lavaan's residuals are against its loose h1 (its between
    # covariances are up to 2.3e-4 off the converged ones), so 2e-4 here
    for k in ("srmr", "srmr_within", "srmr_between"):
        assert f[k] == pytest.approx(fm[k], abs=2e-4), k


# lavaan 0.6-14 cannot compute two-level FIML with MLR (it stops in
# eigen(VarCov)); fiml2l_mlr.json holds the sandwich built from lavaan's own
# log-likelihood (clusterwise scores by central differences with one client
# left out, lavaan's ML vcov as bread; make_reference_twolevel_fiml.R)
@pytest.mark.parametrize("cluster, key", [("client", "se_mlr"),
                                          ("therapist/client", "se_therapist_client")])
def test_robust_standard_errors_match_the_sandwich_built_from_lavaan(cluster, key):
    c = case("fiml2l_mlr")
    assert "infinite or missing values" in c["lavaan_mlr_error"]
    data = pd.read_csv(REF / c["data"])
    res = ap.fit(c["model"], data, cluster=cluster, missing="fiml", se="robust")
    se = c[key]["values"]
    mine = ours(res)
    rows = [r for r in c["parameterEstimates"] if r["free"] > 0]
    assert len(rows) == res.partable.npar == len(se)
    for r in rows:
        k = (r["lhs"], r["op"], r["rhs"], int(r["block"]))
        # 0.1% relative (the scores' central differences are good to ~1e-7)
        assert mine[k]["se"] == pytest.approx(se[r["free"] - 1], rel=1e-3), k
    assert res.se_kind == ("robust" if cluster == "client" else "robust.cluster")
    assert res.fit["chisq.scaling.factor"] > 0


def test_complete_data_gives_the_two_level_ml_fit():
    # FIML on complete rows is two-level ML: same estimates, SEs, scaled test
    df = complete_frame()
    df = df[df["client"].isin(df["client"].unique()[:60])]
    a = ap.fit(MODEL, df, cluster="client", se="robust")
    b = ap.fit(MODEL, df, cluster="client", missing="fiml", se="robust")
    assert b.provenance["options"]["likelihood"] == "ml.twolevel.fiml"
    np.testing.assert_allclose(b.estimates["est"], a.estimates["est"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(b.estimates["se"], a.estimates["se"], rtol=1e-6, atol=1e-12)
    for k in ("chisq", "logl", "unrestricted.logl", "baseline.chisq", "chisq.scaled",
              "chisq.scaling.factor", "srmr", "cfi.robust"):
        assert b.fit[k] == pytest.approx(a.fit[k], rel=1e-6, abs=1e-9), k


def test_a_variable_missing_in_every_row_is_named():
    df = small_frame()
    df["iip_post"] = np.nan
    with pytest.raises(DataError, match="'iip_post' has no observed values"):
        ap.fit(MODEL, df, cluster="client", missing="fiml")


def test_estimation_is_bounded_and_fails_clearly(monkeypatch):
    from attachpath.errors import EstimationError
    from attachpath.estimate import likelihood
    monkeypatch.setattr(likelihood, "MAX_SCORING", 1)
    with pytest.raises(EstimationError, match="did not converge: after 1 scoring iterations"):
        ap.fit(MODEL, small_frame(), cluster="client", missing="fiml")
