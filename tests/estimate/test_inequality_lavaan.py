"""Inequality constraints (`a > 0`, `a < b`) against lavaan 0.6-14 (issue
16, item 2).

Fixtures: tests/reference/inequality/*.json, written by
tests/reference/make_reference_inequality.R (no R needed here), on the
Holzinger CFA with labelled loadings a, b and the variance v of x2:

* hs_ineq_inactive: `a > 0`, `a < b`, `v > 0.5`, all met by the
  unconstrained solution;
* hs_ineq_active_bound: `v > 1.5` (unconstrained v = 1.13): v on the bound,
  no SE for it (lavaan shows NA), the other SEs those of v fixed at 1.5;
* hs_ineq_active_order(_mlr): `a > b` (unconstrained a = 0.55 < b = 0.73):
  a = b, with ML and MLR SEs.

lavaan keeps npar and df as without the constraints.  Its augmented
Lagrangian stops 2e-8 short of a = b, which moves its estimates by up to
7e-5 and SRMR and the scaling factor by up to 2e-5 relative; attachpath
holds the active constraint exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main
from attachpath.errors import SpecError

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = ["hs_ineq_inactive", "hs_ineq_active_bound", "hs_ineq_active_order",
         "hs_ineq_active_order_mlr"]
FIT_KEYS = ["npar", "df", "chisq", "pvalue", "cfi", "tli", "logl", "aic", "bic", "rmsea",
            "srmr"]
ROBUST_KEYS = ["chisq.scaled", "chisq.scaling.factor", "cfi.robust", "rmsea.robust"]


def load(case):
    c = json.loads((REF / "inequality" / f"{case}.json").read_text())
    return c, pd.read_csv(REF / c["data"])


_cache: dict = {}


def fitted(case):
    if case not in _cache:
        c, data = load(case)
        se = "robust" if c["call"]["estimator"] == "MLR" else "standard"
        _cache[case] = (c, ap.fit(c["model"], data, se=se))
    return _cache[case]


def merged(c, res):
    ref = pd.DataFrame(c["estimates"])
    ref = ref[~ref["op"].isin(["==", "<", ">"])]
    key = lambda d: d["lhs"] + d["op"] + d["rhs"].fillna("").astype(str)  # noqa: E731
    assert list(key(res.estimates)) == list(key(ref))
    return res.estimates.assign(key=key(res.estimates)).merge(
        ref.assign(key=key(ref)), on="key", suffixes=("", "_lav"))


@pytest.mark.parametrize("case", CASES)
def test_estimates_and_ses_match_lavaan(case):
    c, res = fitted(case)
    m = merged(c, res)
    assert np.max(np.abs(m["est"] - m["est_lav"])) < 1e-4                     # 1e-4 absolute
    # no SE where lavaan shows none (a parameter held at a bound)
    assert (m["se"].isna() == m["se_lav"].isna()).all()
    free = m["se_lav"] > 0
    tol = 1e-3 if c["call"]["estimator"] == "MLR" else 5e-4
    assert np.max(np.abs(m.loc[free, "se"] / m.loc[free, "se_lav"] - 1)) < tol  # 0.1% MLR, 0.05% ML


@pytest.mark.parametrize("case", CASES)
def test_fit_measures_match_lavaan(case):
    c, res = fitted(case)
    keys = FIT_KEYS + (ROBUST_KEYS if c["call"]["estimator"] == "MLR" else [])
    # 1e-6 relative; 5e-5 where a constraint is active (lavaan's point is short of it)
    rel = 1e-6 if case == "hs_ineq_inactive" else 5e-5
    assert res.fit["npar"] == c["fit"]["npar"] and res.fit["df"] == c["fit"]["df"]
    for k in keys:
        ours, lav = res.fit[k], c["fit"][k]
        assert abs(ours - lav) < rel * max(1.0, abs(lav)), k
    assert abs(res.fit["chisq"] - c["fit"]["chisq"]) < 1e-6 * c["fit"]["chisq"]  # 1e-6 relative


def test_inactive_constraints_leave_the_fit_alone():
    c, res = fitted("hs_ineq_inactive")
    free = ap.fit(c["model"].split("a > 0")[0], load("hs_ineq_inactive")[1])
    assert np.array_equal(res.theta, free.theta)
    assert np.array_equal(res.estimates["se"].to_numpy(), free.estimates["se"].to_numpy())
    assert not any("active" in w for w in res.warnings)


def test_active_constraints_hold_exactly_at_a_kkt_point():
    """On the bound exactly; the multiplier has the sign that says leaving the
    bound would worsen the fit; the note says which constraint is active."""
    from attachpath.estimate import inequality
    for case, label in (("hs_ineq_active_bound", "v"), ("hs_ineq_active_order", "a")):
        c, res = fitted(case)
        est = res.estimates.set_index(res.estimates["label"])["est"]
        if label == "v":
            assert est["v"] == 1.5
        else:
            assert est["a"] == est["b"]
        assert any("is active" in w and c["model"].strip().splitlines()[-1] in w
                   for w in res.warnings)
        # unconstrained fit violates it; its discrepancy is lower (a real bound)
        full_pt = ap.fitting.partable_of(c["model"])
        data = load(case)[1]
        free = ap.fit(c["model"].rsplit("\n", 2)[0], data)
        assert np.min(inequality.slack(full_pt, free.theta)) < -0.1
        assert free.fit["chisq"] < res.fit["chisq"] - 1.0


def test_bad_inequalities_point_at_the_line(tmp_path, capsys):
    base = "visual =~ x1 + a*x2 + b*x3\n"
    with pytest.raises(SpecError) as e:
        ap.fitting.check(base + "a > x1\n")
    assert e.value.line == 2 and "'x1'" in str(e.value)
    with pytest.raises(SpecError, match="names no parameter"):
        ap.fitting.check(base + "1 < 2\n")
    with pytest.raises(SpecError) as e:
        ap.fitting.check(base + "aa < b\n")
    assert "'a'" in str(e.value)              # did you mean 'a'?
    with pytest.raises(SpecError, match="two-level"):
        ap.fitting.check("level: 1\ny ~ a*x\nlevel: 2\ny ~ x\na > 0\n")
    c, data = load("hs_ineq_inactive")
    spec = tmp_path / "bad.lav"
    spec.write_text(base + "a > 1 + b\n")
    csv = tmp_path / "hs.csv"
    data.to_csv(csv, index=False)
    assert main(["fit", str(spec), "--data", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "bad.lav:2" in err and "Traceback" not in err


def test_active_constraint_on_the_command_line(tmp_path, capsys):
    c, data = load("hs_ineq_active_bound")
    spec = tmp_path / "bound.lav"
    spec.write_text(c["model"])
    csv = tmp_path / "hs.csv"
    data.to_csv(csv, index=False)
    assert main(["fit", str(spec), "--data", str(csv), "--out", str(tmp_path / "out")]) == 0
    out = pd.read_csv(tmp_path / "out" / "estimates.csv")
    row = out[out["label"] == "v"]
    assert row["est"].item() == 1.5 and np.isnan(row["se"].item())
    assert "is active" in capsys.readouterr().err


def test_bootstrap_with_inequalities_is_refused_and_fiml_holds_them():
    c, data = load("hs_ineq_active_bound")
    with pytest.raises(ap.errors.OptionError, match="inequality constraints"):
        ap.fit(c["model"], data, se="bootstrap", bootstrap=10, seed=1)
    # full-information ML on complete data is ML with a mean structure: the
    # same active bound, chisq and estimates as the ML fixture
    res = ap.fit(c["model"], data, missing="fiml")
    assert res.fit["chisq"] == pytest.approx(c["fit"]["chisq"], rel=1e-6)        # 1e-6 relative
    ours = res.estimates[res.estimates["op"] != "~1"].reset_index(drop=True)
    ref = pd.DataFrame(c["estimates"])
    ref = ref[~ref["op"].isin(["<", ">"])].reset_index(drop=True)
    assert list(ours["lhs"] + ours["op"] + ours["rhs"]) == list(ref["lhs"] + ref["op"] + ref["rhs"])
    assert np.max(np.abs(ours["est"] - ref["est"])) < 1e-4                        # 1e-4 absolute
    assert np.isnan(ours.loc[ours["label"] == "v", "se"]).all()
