"""Auxiliary variables under FIML (issue 14, item 5) against lavaan 0.6-14
running Graham's saturated-correlates model written by hand, with the
baseline adjusted for them (make_reference_fiml_auxiliary.R)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main
from attachpath.errors import OptionError

REF = Path(__file__).resolve().parents[1] / "reference"


@lru_cache(maxsize=None)
def case():
    return json.loads((REF / "twolevel" / "fiml_auxiliary_ml.json").read_text())


@lru_cache(maxsize=None)
def fitted():
    c = case()
    return ap.fit(c["model"], pd.read_csv(REF / c["data"]), missing="fiml",
                  auxiliary=c["auxiliary"])


def _row(rows, lhs, op, rhs):
    for key in ((lhs, op, rhs), (rhs, op, lhs) if op == "~~" else None):
        if key in rows:
            return rows[key]
    raise KeyError((lhs, op, rhs))


def test_estimates_and_ses_equal_the_hand_written_spec():
    res = fitted()
    mine = {(r["lhs"], r["op"], r["rhs"]): r for r in res.estimates.to_dict("records")}
    lav = case()["parameterEstimates"]
    assert len(mine) == len(lav)
    for r in lav:
        m = _row(mine, r["lhs"], r["op"], r["rhs"])
        # estimates 1e-5; SEs (observed information) 1e-4 relative
        assert m["est"] == pytest.approx(r["est"], abs=1e-5), r
        assert m["se"] == pytest.approx(r["se"], rel=1e-4), r


def test_fit_measures_with_the_adjusted_baseline():
    f, fm = fitted().fit, case()["fitMeasures"]
    for k in ("npar", "df", "ntotal", "baseline.df"):
        assert f[k] == fm[k], k
    # chisq 1e-6 relative (lavaan's EM stops at 1e-5); indices 1e-6
    for k in ("chisq", "baseline.chisq"):
        assert f[k] == pytest.approx(fm[k], rel=1e-6), k
    for k in ("cfi", "tli", "rmsea"):
        assert f[k] == pytest.approx(fm[k], abs=1e-6), k
    for k in ("logl", "unrestricted.logl", "aic", "bic"):
        assert f[k] == pytest.approx(fm[k], abs=1e-3), k
    assert f["srmr"] == pytest.approx(fm["srmr"], abs=1e-5)


def test_the_baseline_adjustment_matters():
    """lavaan's default baseline (auxiliaries independent) inflates CFI
    here from 0.970 to 0.989: attachpath reports the adjusted one."""
    f, default = fitted().fit, case()["fitMeasures_default_baseline"]
    assert default["cfi"] - f["cfi"] > 0.01
    assert default["baseline.df"] > f["baseline.df"]


def test_summary_names_the_auxiliaries():
    text = fitted().summary()
    assert "Auxiliary variables (saturated correlates" in text
    assert "aux_iip_pre, aux_sessions" in text


def test_cli_auxiliary_option(tmp_path, capsys):
    c = case()
    spec = tmp_path / "m.lav"
    spec.write_text(c["model"])
    out = tmp_path / "out"
    assert main(["fit", str(spec), "--data", str(REF / c["data"]), "--missing", "fiml",
                 "--auxiliary", ",".join(c["auxiliary"]), "--out", str(out)]) == 0
    fit = json.loads((out / "fit.json").read_text())
    assert fit["data"]["missing"]["auxiliary"] == c["auxiliary"]
    assert fit["cfi"] == pytest.approx(c["fitMeasures"]["cfi"], abs=1e-6)
    # an unknown column: exit 2, named, nothing written
    bad = tmp_path / "bad"
    assert main(["fit", str(spec), "--data", str(REF / c["data"]), "--missing", "fiml",
                 "--auxiliary", "aux_nope", "--out", str(bad)]) == 2
    assert "aux_nope" in capsys.readouterr().err and not bad.exists()


def test_auxiliary_needs_fiml_and_must_not_be_a_model_variable():
    c = case()
    data = pd.read_csv(REF / c["data"])
    with pytest.raises(OptionError, match="need --missing fiml"):
        ap.fit(c["model"], data, auxiliary=["aux_iip_pre"])
    with pytest.raises(OptionError, match="'tds_ge' is a variable of the model"):
        ap.fit(c["model"], data, missing="fiml", auxiliary=["tds_ge"])


def test_compare_passes_the_auxiliaries_to_every_model():
    c = case()
    data = pd.read_csv(REF / c["data"])
    direct = c["model"].replace("iip_post ~ c*tds_ge + cats_secure",
                                "iip_post ~ c*tds_ge + cats_secure + ecr_anx")
    cmp = ap.compare({"nodirect": c["model"], "direct": direct}, data, missing="fiml",
                     auxiliary=c["auxiliary"])
    for res in cmp.results.values():
        assert res.data_info["missing"]["auxiliary"] == c["auxiliary"]
    assert cmp.results["nodirect"].fit["cfi"] == pytest.approx(c["fitMeasures"]["cfi"],
                                                               abs=1e-6)
