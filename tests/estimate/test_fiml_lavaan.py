"""Full-information ML against lavaan 0.6-14 (make_reference_twolevel.R, the
FIML cases): missing = "ml" and "ml.x", ML and MLR, with and without the
therapist clusters.  lavaan's h1 EM stops at max|Δ| < 1e-5; attachpath
runs the saturated model to convergence, so chisq is compared with the
chisq of a converged h1 (`chisq_converged`) and with lavaan's at 1e-6."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.errors import OptionError

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = ["fiml_nodirect_ml", "fiml_nodirect_mlx", "fiml_nodirect_mlr",
         "fiml_nodirect_mlr_cluster", "fiml_serial_ml", "fiml_serial_mlr",
         "fiml_serial_mlr_cluster", "fiml_serial_mlx", "fiml_hs_cfa_ml"]


@lru_cache(maxsize=None)
def case(name):
    return json.loads((REF / "twolevel" / f"{name}.json").read_text())


@lru_cache(maxsize=None)
def fitted(name):
    c = case(name)
    call = c["call"]
    se = "robust" if call["estimator"] == "MLR" else "standard"
    return ap.fit(c["model"], pd.read_csv(REF / c["data"]), missing=call["missing"], se=se,
                  cluster=call.get("cluster"))


@pytest.mark.parametrize("name", CASES)
def test_estimates_and_standard_errors(name):
    c, res = case(name), fitted(name)
    lav = {(r["lhs"], r["op"], r["rhs"]): r for r in c["parameterEstimates"]
           if r["op"] == ":=" or r["se"] != 0}
    mine = {(r["lhs"], r["op"], r["rhs"]): r for r in res.estimates.to_dict("records")
            if r["op"] == ":=" or r["se"] != 0}
    assert set(lav) == set(mine)
    for key, r in lav.items():
        # estimates: 1e-5 of lavaan's Newton-polished solution
        assert mine[key]["est"] == pytest.approx(r.get("est_polished", r["est"]), abs=1e-5), key
        # SEs (observed information, or the MLR sandwich): 1e-4 relative
        assert mine[key]["se"] == pytest.approx(r["se"], rel=1e-4), key


@pytest.mark.parametrize("name", CASES)
def test_fit_measures(name):
    c, res = case(name), fitted(name)
    fm, f = c["fitMeasures"], res.fit
    for k in ("npar", "df", "ntotal", "baseline.df"):
        assert f[k] == fm[k], k
    # chisq: 1e-6 relative to lavaan's (its EM stops at 1e-5)
    assert f["chisq"] == pytest.approx(fm["chisq"], rel=1e-6, abs=1e-8)
    assert f["baseline.chisq"] == pytest.approx(fm["baseline.chisq"], rel=1e-6)
    for k in ("cfi", "tli", "rmsea", "fmin"):
        assert f[k] == pytest.approx(fm[k], abs=1e-6), k
    assert f["srmr"] == pytest.approx(fm["srmr"], abs=1e-5)
    # logl, aic, bic within 1e-3 (ml.x's unrestricted.logl: lavaan's is inconsistent,
    # test_ml_x_unrestricted_logl_is_consistent_where_lavaan_is_not)
    for k in ("logl", "aic", "bic"):
        assert f[k] == pytest.approx(fm[k], abs=1e-3), k
    if c["call"]["missing"] == "ml":
        assert f["unrestricted.logl"] == pytest.approx(fm["unrestricted.logl"], abs=1e-3)


@pytest.mark.parametrize("name", [n for n in CASES if "mlr" in n])
def test_scaled_test(name):
    c, res = case(name), fitted(name)
    fm, f = c["fitMeasures"], res.fit
    if fm["df"] == 0:
        # a saturated model: no scaled test (lavaan prints 0, attachpath NaN)
        assert f["df"] == 0 and f["chisq"] == pytest.approx(0.0, abs=1e-8)
        return
    # 1e-4 relative: lavaan's A1 and B1 sit at its loose EM moments
    assert f["chisq.scaled"] == pytest.approx(fm["chisq.scaled"], rel=1e-4)
    assert f["chisq.scaling.factor"] == pytest.approx(fm["chisq.scaling.factor"], rel=1e-4)


@pytest.mark.parametrize("name", CASES)
def test_fiml_corrected_robust_indices(name):
    """lavaan's FIML-corrected cfi/tli/rmsea.robust (Zhang & Savalei 2022;
    "V3" with MLR, "V6" with ML): 2e-5, as they sit at lavaan's EM moments,
    which stop at max|Δ| < 1e-5 (ours run to convergence)."""
    c, res = case(name), fitted(name)
    fm, f = c["fitMeasures"], res.fit
    for k in ("cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust",
              "rmsea.ci.upper.robust"):
        assert f[k] == pytest.approx(fm[k], abs=2e-5), k


def test_fiml_corrected_indices_differ_from_the_complete_data_formula():
    """With MLR the FIML-corrected robust RMSEA is not the complete-data one
    (sqrt(chisq/(N·df) − c/N) from the scaled test's c), which lavaan
    reports for complete data only: on this case they differ by > 0.01."""
    import math
    f = fitted("fiml_nodirect_mlr").fit
    naive = math.sqrt(max(f["chisq"] / (f["ntotal"] * f["df"])
                          - f["chisq.scaling.factor"] / f["ntotal"], 0.0))
    assert abs(f["rmsea.robust"] - naive) > 0.01


def test_ml_drops_rows_with_a_missing_covariate_and_says_so():
    res = fitted("fiml_nodirect_ml")
    assert res.data_info["missing"]["dropped_missing_covariate"] == 11
    assert any("11 rows with a missing covariate" in w for w in res.warnings)
    assert fitted("fiml_nodirect_mlx").data_info["missing"]["dropped_missing_covariate"] == 0


def test_complete_data_fiml_equals_ml_with_observed_information():
    c = case("fiml_nodirect_ml")
    data = pd.read_csv(REF / c["data"]).dropna()
    a = ap.fit(c["model"], data, missing="fiml")
    b = ap.fit(c["model"], data, meanstructure=True, information="observed")
    assert np.allclose(a.estimates["est"], b.estimates["est"], atol=1e-8)
    assert np.allclose(a.estimates["se"], b.estimates["se"], rtol=1e-5)
    assert a.fit["chisq"] == pytest.approx(b.fit["chisq"], abs=1e-8)


@pytest.mark.parametrize("name", ["fiml_serial_ml", "fiml_hs_cfa_ml"])
def test_observed_information_matches_numerical_derivatives(name):
    # the analytic observed information of the model (Newton steps,
    # observed-information SEs) and of the saturated model (its Newton steps,
    # the scaled test's h1 trace, the corrected indices) against central
    # differences of the analytic gradients, at and away from the estimates
    from attachpath.estimate import fiml
    from attachpath.estimate.scoring import numerical_information
    lik = fitted(name).likelihood
    sat = fiml.Saturated(lik.data)
    eta = sat.pack(*lik.em)
    theta = lik.estimate().theta
    for L, t in ((lik, theta), (lik, theta + 0.02), (sat, eta), (sat, eta + 0.02)):
        num = numerical_information(L.gradient, t)
        np.testing.assert_allclose(L.observed_information(t), num, rtol=0,
                                   atol=1e-6 * np.max(np.abs(num)))
    away = theta + 0.02
    assert np.max(np.abs(lik.observed_information(away) - lik.expected_information(away))) \
        > 1e-3 * np.max(np.abs(lik.expected_information(away)))


def test_unknown_missing_mode_lists_the_valid_ones():
    with pytest.raises(OptionError, match="listwise, fiml, fiml.x"):
        ap.fit("y ~ x", pd.DataFrame({"y": [1.0, 2, 3], "x": [1.0, 0, 2]}), missing="pairwise")


def test_two_level_fiml_x_is_refused_clearly():
    # (two-level FIML itself: test_twolevel_fiml.py)
    c = json.loads((REF / "twolevel" / "nomixed_twolevel_ml.json").read_text())
    with pytest.raises(OptionError, match="two-level"):
        ap.fit(c["model"], pd.read_csv(REF / c["data"]), cluster="client", missing="fiml.x")


@pytest.mark.parametrize("name", [n for n in CASES if n.endswith("mlx")])
def test_ml_x_unrestricted_logl_is_consistent_where_lavaan_is_not(name):
    """With missing = "ml.x" lavaan's unrestricted.logl disagrees with its own
    logl and chisq: on the saturated serial model (chisq 0) its logl is
    −690.2112 but its unrestricted.logl −690.1734.  attachpath keeps
    unrestricted.logl = logl + chisq/2, the identity lavaan itself holds
    with "ml"; its logl and chisq match lavaan's (test_fit_measures)."""
    c, res = case(name), fitted(name)
    fm, f = c["fitMeasures"], res.fit
    assert f["unrestricted.logl"] == pytest.approx(f["logl"] + f["chisq"] / 2, abs=1e-6)
    assert (fm["unrestricted.logl"] - (fm["logl"] + fm["chisq"] / 2)) == pytest.approx(
        0.0378, abs=1e-3)      # lavaan's own inconsistency, the same in both cases
