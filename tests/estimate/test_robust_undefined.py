"""Robust fit indices when the scaling factor is negative (issue 17.6).

lavaan 0.6-14, sem(NONREC, clients_a, estimator = "MLR", cluster = "therapist"):
chisq.scaling.factor, cfi.robust, tli.robust, rmsea.robust are all NA."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

import attachpath as ap
from attachpath.cli import main

DATA = Path(__file__).resolve().parents[1] / "reference" / "data" / "clients_a.csv"
NONREC = """cats_secure ~ tds_ge + ecr_anx
tds_ge ~ cats_secure + ecr_avoid + iip_pre
"""
UNDEFINED = ["chisq.scaled", "chisq.scaling.factor", "cfi.robust", "tli.robust", "rmsea.robust"]


def test_negative_scaling_factor_leaves_robust_indices_undefined():
    res = ap.fit(NONREC, pd.read_csv(DATA), se="robust", cluster="therapist")
    assert res.fit["df"] == 2
    for name in UNDEFINED:
        assert math.isnan(res.fit[name]), name
    assert any("scaling factor" in w and "undefined" in w for w in res.warnings)
    summary = res.summary()
    assert "robust: CFI = NA  TLI = NA  RMSEA = NA" in summary
    assert "scaled chisq = NA (scaling factor NA)" in summary


def test_negative_scaling_factor_is_null_in_fit_json_and_warned(tmp_path, capsys):
    (tmp_path / "m.lav").write_text(NONREC)
    code = main(["fit", str(tmp_path / "m.lav"), "--data", str(DATA), "--cluster",
                 "therapist", "--out", str(tmp_path / "res")])
    assert code == 0
    assert "scaling factor of the robust chi-square is negative" in capsys.readouterr().err
    fit = json.loads((tmp_path / "res" / "fit.json").read_text())
    for name in UNDEFINED:
        assert fit[name] is None, name
    report = (tmp_path / "res" / "report.md").read_text()
    # the report falls back to the ML indices and says why; never a perfect robust fit
    assert "(robust) = 1" not in report and "robust chi-square is negative" in report
