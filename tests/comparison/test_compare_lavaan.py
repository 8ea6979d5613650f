"""Nested-model tests against lavaan 0.6-14 lavTestLRT (fixtures in tests/reference)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.comparison import difference_test, nested_in

REF = Path(__file__).resolve().parents[1] / "reference"
LRT = sorted(p.stem for p in (REF / "cases").glob("lrt_*.json"))


def load(case):
    c = json.loads((REF / "cases" / f"{case}.json").read_text())
    return c, pd.read_csv(REF / c["data"])


def compare_case(c, data):
    call = c["call"]
    se = "robust" if call["estimator"] == "MLR" else "standard"
    return ap.compare({"m0": c["model0"], "m1": c["model1"]}, data,
                      cluster=call.get("cluster"), se=se)


@pytest.mark.parametrize("case", LRT)
def test_difference_test_matches_lavTestLRT(case):
    c, data = load(case)
    cmp = compare_case(c, data)
    assert len(cmp.tests) == 1, "the pair must be detected as nested"
    t = cmp.tests.iloc[0]
    lav = c["lrt"]["rows"][1]
    assert (t.model_a, t.model_b) == ("m0", "m1")
    assert t.df_diff == lav["Df diff"]
    assert t.chisq_diff == pytest.approx(lav["Chisq diff"], rel=5e-3)   # 0.5% relative
    assert abs(t.pvalue - lav["Pr(>Chisq)"]) < 2e-3                     # 0.002 absolute
    expected = "Satorra-Bentler 2001" if c["call"]["estimator"] == "MLR" else "likelihood ratio"
    assert t.method.startswith(expected)


@pytest.mark.parametrize("case", [k for k in LRT if "mlr" in k])
def test_sb2010_matches_lavaan(case):
    c, data = load(case)
    lav = c["other_methods"].get("satorra.bentler.2010", {}).get("rows", [None, None])[1]
    if lav is None or lav["Chisq diff"] is None:
        pytest.skip("lavaan gave no 2010 statistic for this pair")
    cmp = compare_case(c, data)
    r0, r1 = cmp.results["m0"], cmp.results["m1"]
    from attachpath.data.checks import model_frame
    df, info = model_frame(data, list(r1.partable.observed), cluster=c["call"]["cluster"])
    X = df.to_numpy(float)
    X0 = data[list(r0.partable.observed)].to_numpy(float)
    t = difference_test(r0, r1, X, np.asarray(info["clusters"]), True, X0=X0, method="2010")
    assert t["chisq_diff"] == pytest.approx(lav["Chisq diff"], rel=5e-3)   # 0.5% relative
    assert abs(t["pvalue"] - lav["Pr(>Chisq)"]) < 2e-3


def test_non_nested_pair_gets_information_criteria_not_a_test():
    data = ap.datasets.load_example_clients()
    spec = Path(__file__).resolve().parents[2] / "specs"
    cmp = ap.compare([spec / "serial_esat_anx.lav", spec / "reversed_esat_anx.lav"], data)
    assert cmp.tests.empty
    row = cmp.information.iloc[0]
    assert row.relation == "non-nested"
    aic = cmp.table.set_index("model")["aic"]
    assert row.aic_diff == pytest.approx(aic["serial_esat_anx"] - aic["reversed_esat_anx"])
    assert cmp.table["akaike.weight"].sum() == pytest.approx(1.0)


def test_nesting_detects_fixed_paths_and_rejects_reverse():
    data = ap.datasets.load_example_clients()
    spec = Path(__file__).resolve().parents[2] / "specs"
    full = ap.fit(spec / "serial_esat_anx.lav", data)
    eng = ap.fit(spec / "engagement_only_esat_anx.lav", data)
    X = data[list(eng.partable.observed)].to_numpy(float)
    Xf = data[list(full.partable.observed)].to_numpy(float)
    assert nested_in(eng, full, X)
    assert not nested_in(full, eng, Xf)


def test_models_fitted_on_different_rows_are_refused():
    data = ap.datasets.load_example_clients().copy()
    data.loc[data.index[:5], "cats_secure"] = np.nan      # only the second model uses it
    specs = {"small": "tds_ge ~ ecr_anx", "large": "tds_ge ~ ecr_anx + cats_secure"}
    with pytest.warns(ap.errors.DataWarning), \
            pytest.raises(ap.errors.DataError, match="not fitted on the same cases") as err:
        ap.compare(specs, data)
    assert "330 rows for 'small' but 325 for 'large'" in str(err.value)
    data.loc[data.index[:5], "ecr_anx"] = np.nan            # now both drop the same rows
    with pytest.warns(ap.errors.DataWarning):
        assert len(ap.compare(specs, data).table) == 2
    other = {"anx": "tds_ge ~ ecr_anx", "secure": "tds_ge ~ cats_secure"}
    data = ap.datasets.load_example_clients().copy()
    data.loc[data.index[:5], "ecr_anx"] = np.nan            # same count, other rows
    data.loc[data.index[5:10], "cats_secure"] = np.nan
    with pytest.warns(ap.errors.DataWarning), \
            pytest.raises(ap.errors.DataError, match="325 rows for both 'anx' and 'secure', "
                                                     "but not the same ones"):
        ap.compare(other, data)
