"""Bad input under --missing fiml (issue 14, item 7): each case a clear
message naming the culprit, nothing dropped silently, CLI exit 2 for bad
data (1 for an estimation failure), no traceback, no outputs written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main
from attachpath.errors import DataError, DataWarning, EstimationError

MODEL = "m ~ x\ny ~ m\n"


def frame(n=120, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    m = 0.5 * x + rng.normal(size=n)
    return pd.DataFrame({"x": x, "m": m, "y": 0.4 * m + rng.normal(size=n)})


def run_cli(data, tmp_path, *extra):
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    spec = tmp_path / "model.lav"
    spec.write_text(MODEL)
    out = tmp_path / "out"
    code = main(["fit", str(spec), "--data", str(path), "--missing", "fiml",
                 "--out", str(out), *extra])
    return code, out


def test_a_variable_missing_in_every_row(tmp_path, capsys):
    d = frame()
    d["y"] = np.nan
    with pytest.raises(DataError, match="'y' has no observed values .*missing in every row"):
        ap.fit(MODEL, d, missing="fiml")
    code, out = run_cli(d, tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and "'y'" in err and "Traceback" not in err and not out.exists()


def test_a_variable_with_a_single_observed_value(tmp_path, capsys):
    d = frame()
    d.loc[1:, "y"] = np.nan
    with pytest.raises(DataError, match="'y' has a single observed value"):
        ap.fit(MODEL, d, missing="fiml")
    code, out = run_cli(d, tmp_path)
    assert code == 2 and not out.exists()


def test_rows_with_a_single_observed_value_are_used():
    """A pattern with one observed value is legitimate FIML data: those
    rows count in N and inform that variable's moments."""
    d = frame()
    d.loc[:9, ["m", "y"]] = np.nan             # 10 rows: only the covariate x
    d.loc[10:29, ["x", "m"]] = np.nan          # 20 rows: only y (x missing)
    with pytest.warns(DataWarning, match="20 rows with a missing covariate"):
        res = ap.fit(MODEL, d, missing="fiml")     # x missing: dropped, as lavaan
    assert res.data_info["n"] == 100
    pats = {tuple(p["observed"]): p["rows"] for p in res.data_info["missing"]["patterns"]}
    assert pats[("x",)] == 10
    kept = ap.fit(MODEL, d, missing="fiml.x")      # kept, with their single value
    pats = {tuple(p["observed"]): p["rows"] for p in kept.data_info["missing"]["patterns"]}
    assert kept.data_info["n"] == 120 and pats[("y",)] == 20
    # the y-only rows move the estimates (y's intercept, at 1e-3 here)
    without = ap.fit(MODEL, d.drop(index=range(10, 30)), missing="fiml.x")
    y_int = lambda r: r.estimates.query("lhs == 'y' and op == '~1'")["est"].iloc[0]
    assert abs(y_int(kept) - y_int(without)) > 1e-3


def test_a_missing_covariate_drops_rows_with_a_warning_naming_the_count():
    d = frame()
    d.loc[:6, "x"] = np.nan
    with pytest.warns(DataWarning, match=r"7 rows with a missing covariate \(x\).*fiml.x"):
        res = ap.fit(MODEL, d, missing="fiml")
    assert res.data_info["n"] == 113 and res.data_info["dropped_rows"] == 7
    assert any("7 rows with a missing covariate" in w for w in res.warnings)
    assert ap.fit(MODEL, d, missing="fiml.x").data_info["n"] == 120


def test_a_covariate_missing_in_every_row():
    d = frame()
    d["x"] = np.nan
    with pytest.raises(DataError, match="'x' has no observed values"):
        ap.fit(MODEL, d, missing="fiml")


def test_a_pair_never_observed_together(tmp_path, capsys):
    d = frame()
    d.loc[d.index % 2 == 0, "m"] = np.nan
    d.loc[d.index % 2 == 1, "y"] = np.nan
    with pytest.raises(DataError, match="'m' and 'y' are never observed in the same row"):
        ap.fit(MODEL, d, missing="fiml")
    code, out = run_cli(d, tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and "0% coverage" in err and "Traceback" not in err


def test_too_few_observed_values_fail_with_the_variable_named(tmp_path, capsys):
    d = frame()
    d.loc[2:, "y"] = np.nan      # two observed values of y: the fit degenerates
    with pytest.raises(EstimationError, match="the fewest: 'y' 2 of 120 rows"):
        ap.fit(MODEL, d, missing="fiml")
    code, out = run_cli(d, tmp_path)
    assert code == 1 and "'y' 2 of 120 rows" in capsys.readouterr().err
    assert not out.exists()


def test_every_row_missing_one_of_two_covariates(tmp_path, capsys):
    d = frame()
    d["x2"] = np.random.default_rng(3).normal(size=len(d))
    d.loc[d.index % 2 == 0, "x"] = np.nan
    d.loc[d.index % 2 == 1, "x2"] = np.nan
    with pytest.raises(DataError, match="Every row has a missing covariate.*fiml.x keeps"):
        ap.fit("m ~ x + x2\ny ~ m", d, missing="fiml")
