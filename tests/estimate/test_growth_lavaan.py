"""Mean structures against lavaan 0.6-14 (issue 16, item 1): free latent
means, fixed and equal intercepts, and lavaan's growth().

Fixtures: tests/reference/growth/*.json, written by
tests/reference/make_reference_growth.R (no R needed here):

* tds_growth_ml, tds_growth_cov_mlr: a linear growth curve of TDS over
  sessions 1-4 (tests/reference/data/tds_wide.csv, the clients who attended
  all four), the second with attachment anxiety predicting intercept and
  slope, MLR;
* demo_growth_ml, demo_growth_tvc_mlr: lavaan's Demo.growth, the basic model
  and lavaan's tutorial model with time-varying covariates (MLR);
* hs_latent_means: sem() with free latent means, a marker intercept fixed at
  0 per factor; hs_equal_intercepts: two intercepts equal through a label
  and one fixed at 5.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = ["tds_growth_ml", "tds_growth_cov_mlr", "demo_growth_ml", "demo_growth_tvc_mlr",
         "hs_latent_means", "hs_equal_intercepts"]
FIT_KEYS = ["chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli",
            "logl", "unrestricted.logl", "aic", "bic", "rmsea", "srmr"]
STOPS_SHORT = {"hs_equal_intercepts"}
ROBUST_KEYS = ["chisq.scaled", "chisq.scaling.factor", "cfi.robust", "rmsea.robust"]


def load(case):
    c = json.loads((REF / "growth" / f"{case}.json").read_text())
    return c, pd.read_csv(REF / c["data"])


_cache: dict = {}


def fitted(case):
    if case not in _cache:
        c, data = load(case)
        robust = c["call"]["estimator"] == "MLR"
        _cache[case] = (c, ap.fit(c["model"], data, model_type=c["call"]["function"]
                                  if c["call"]["function"] == "growth" else "sem",
                                  se="robust" if robust else "standard"))
    return _cache[case]


def lavaan_refined(c, res):
    """lavaan's estimates as θ, finished with Newton steps on the analytic
    gradient where lavaan's optimizer stopped short (hs_equal_intercepts: a
    Heywood solution on a flat ridge, where nlminb stops 1.5e-4 away); the
    refined point must fit no worse than lavaan's own."""
    from attachpath.estimate import engine
    ref = pd.DataFrame(c["estimates"])
    lav = np.zeros(res.partable.npar)
    for r in res.partable.rows:
        if r.free:
            row = ref[(ref.lhs == r.lhs) & (ref.op == r.op) & (ref.rhs.fillna("") == r.rhs)]
            lav[r.free - 1] = row["est"].item()
    lik = res.likelihood
    theta, _, g = engine.fisher_scoring(lik.ram, lav, lik.mom, lik.values, newton=True)
    assert g < 1e-8
    assert lik.discrepancy(theta) <= lik.discrepancy(lav) + 1e-12
    assert np.max(np.abs(theta - lav)) < 1e-3          # a finish, not another solution
    return theta


def _key(d):
    return d["lhs"] + d["op"] + d["rhs"].fillna("").astype(str)


@pytest.mark.parametrize("case", CASES)
def test_every_row_matches_lavaan(case):
    """All rows of parameterEstimates(standardized = TRUE): which are fixed
    (intercepts at 0 in growth(), latent means free), est, se and the three
    standardizations, means included."""
    c, res = fitted(case)
    ref = pd.DataFrame(c["estimates"])
    ref = ref[~ref["op"].isin(["==", "<", ">"])]      # lavaan's == rows: shared labels here
    assert res.fit["npar"] == c["fit"]["npar"]     # shared labels count once, as fitMeasures
    assert list(_key(res.estimates)) == list(_key(ref))
    m = res.estimates.assign(key=_key(res.estimates)).merge(
        ref.assign(key=_key(ref)), on="key", suffixes=("", "_lav"))
    free = m["free"] > 0
    assert (m.loc[free, "se"] > 0).all() and (m.loc[~free, "se"] == 0).all()
    # 1e-4 absolute; 2e-4 where lavaan stops short (then 1e-6 of its refined point)
    tol_est = 2e-4 if case in STOPS_SHORT else 1e-4
    assert np.max(np.abs(m["est"] - m["est_lav"])) < tol_est
    assert np.max(np.abs(res.theta - lavaan_refined(c, res))) < 1e-6          # 1e-6 absolute
    tol = 1e-3 if c["call"]["estimator"] == "MLR" else 5e-4
    assert np.max(np.abs(m.loc[free, "se"] / m.loc[free, "se_lav"] - 1)) < tol  # 0.1% MLR, 0.05% ML
    for col in ("std.lv", "std.all", "std.nox"):
        a, b = m[col].astype(float), m[col + "_lav"].astype(float)
        assert (a.isna() == b.isna()).all(), col
        assert np.nanmax(np.abs(a - b)) < tol_est, col                         # as est


@pytest.mark.parametrize("case", CASES)
def test_fit_measures_match_lavaan(case):
    c, res = fitted(case)
    keys = FIT_KEYS + (ROBUST_KEYS if c["call"]["estimator"] == "MLR" else [])
    for k in keys:
        ours, lav = res.fit[k], c["fit"][k]
        assert abs(ours - lav) < 1e-6 * max(1.0, abs(lav)) + 1e-7, k          # 1e-6 relative


def test_growth_defaults_are_lavaans():
    """growth(): every observed intercept of the curve fixed at 0 and every
    latent mean free, covariates' means fixed.x; a user's `~ 1` wins."""
    c, res = fitted("demo_growth_tvc_mlr")
    pt = res.partable
    means = {r.lhs: r for r in pt.rows if r.op == "~1"}
    assert all(means[v].free for v in ("i", "s"))
    assert all(not means[v].free and means[v].value == 0 for v in ("t1", "t2", "t3", "t4"))
    assert all(means[v].exo for v in ("x1", "x2", "c1", "c4"))
    own = ap.fitting.check(c["model"] + "\nt1 ~ 1", model_type="growth")
    assert next(r for r in own.rows if r.op == "~1" and r.lhs == "t1").free
    sem = ap.fitting.check(c["model"])        # sem(): no mean structure by default
    assert not sem.meanstructure


def test_free_latent_mean_without_fixed_intercepts_is_not_identified():
    """A free latent mean beside all intercepts free is one mean too many:
    the fit refuses it with the rank check, it does not loop or guess."""
    c, data = load("hs_latent_means")
    with pytest.raises(ap.AttachpathError, match="identif"):
        ap.fit("visual =~ x1 + x2 + x3\nvisual ~ 1", data)


def test_growth_on_the_command_line(tmp_path, capsys):
    c, data = load("tds_growth_ml")
    spec = tmp_path / "growth.lav"
    spec.write_text(c["model"])
    csv = tmp_path / "wide.csv"
    data.to_csv(csv, index=False)
    assert main(["fit", str(spec), "--data", str(csv), "--model-type", "growth",
                 "--out", str(tmp_path / "out")]) == 0
    out = pd.read_csv(tmp_path / "out" / "estimates.csv")
    ref = pd.DataFrame(c["estimates"])
    for lv in ("i", "s"):
        got = out[(out["lhs"] == lv) & (out["op"] == "~1")]["est"].item()
        lav = ref[(ref["lhs"] == lv) & (ref["op"] == "~1")]["est"].item()
        assert abs(got - lav) < 1e-4                                           # 1e-4 absolute
    fit = json.loads((tmp_path / "out" / "fit.json").read_text())
    assert fit["df"] == c["fit"]["df"]
    assert fit["provenance"]["options"]["model_type"] == "growth"
    capsys.readouterr()
    assert main(["fit", str(spec), "--data", str(csv), "--model-type", "curve"]) == 2
    capsys.readouterr()


@pytest.mark.parametrize("case", ["demo_growth_ml", "hs_latent_means", "hs_equal_intercepts"])
def test_modification_indices_match_lavaan(case):
    """Score tests with a mean structure that is not saturated: the fixed
    intercepts and loadings of a growth curve are candidates too."""
    c, res = fitted(case)
    mi = res.modindices()
    ref = pd.DataFrame(c["modindices"])
    k = lambda d: list(d["lhs"] + d["op"] + d["rhs"].fillna("").astype(str))  # noqa: E731
    assert sorted(k(mi)) == sorted(k(ref))
    m = mi.assign(k=k(mi)).merge(ref.assign(k=k(ref)), on="k", suffixes=("", "_lav"))
    # mi within 0.1% relative (1e-3 absolute below 1)
    assert np.all(np.abs(m["mi"] - m["mi_lav"]) <= 1e-3 * np.maximum(m["mi_lav"], 1.0))
    for col in ("epc", "sepc.lv", "sepc.all", "sepc.nox"):
        a, b = m[col].astype(float), m[col + "_lav"].astype(float)
        assert (a.isna() == b.isna()).all(), col
        ok = np.abs(a - b) <= 1e-3 * np.maximum(np.abs(b), 0.1)              # 0.1% relative
        assert ok[b.notna()].all(), (col, m.loc[~ok & b.notna(), ["k", col, col + "_lav"]])


def test_modification_indices_of_a_heywood_growth_curve_follow_lavaans_refits():
    """tds_growth_ml has a negative slope variance (lavaan warns).  There
    lavaan's modificationIndices() departs from its own refits (mi 2.66 for
    tds1 ~~ tds2 against a chisq drop of 1.08 when freed; 6.52 for s =~ tds4
    against 0.23), so attachpath's indices are checked against lavaan's
    refits: a score test approximates the drop and the EPC the change."""
    c, res = fitted("tds_growth_ml")
    mi = res.modindices().set_index(["lhs", "op", "rhs"])
    for k in c["lr_checks"]:
        row = mi.loc[(k["lhs"], k["op"], k["rhs"])]
        assert row["mi"] == pytest.approx(k["drop"], rel=0.25)            # score vs LR test
        fixed = next((r.value for r in res.partable.rows
                      if (r.lhs, r.op, r.rhs) == (k["lhs"], k["op"], k["rhs"])), 0.0)
        assert fixed + row["epc"] == pytest.approx(k["est"], rel=0.1, abs=0.01)  # EPC vs refit
