"""Multiple-group models against lavaan 0.6-14 (issue 16, item 3; the
likelihood and estimation so far: estimate/multigroup.py).

Fixtures: tests/reference/multigroup/*.json, written by
tests/reference/make_reference_multigroup.R (no R needed here): the
Holzinger-Swineford CFA by school, groups free and with
group.equal = c("loadings", "intercepts").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attachpath.errors import DataError, ModelError
from attachpath.estimate import multigroup as mg

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = {"hs_school_free": (), "hs_school_loadings_intercepts": ("loadings", "intercepts")}
_cache: dict = {}


def fitted(case):
    if case not in _cache:
        c = json.loads((REF / "multigroup" / f"{case}.json").read_text())
        data = pd.read_csv(REF / c["data"])
        _cache[case] = (c, mg.fit_groups(c["model"], data, c["group"], CASES[case]))
    return _cache[case]


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_ses_match_lavaan_in_every_group(case):
    c, res = fitted(case)
    assert res.groups == tuple(c["group_labels"]) and res.nobs == tuple(c["nobs"])
    ref = pd.DataFrame(c["estimates"])
    ref = ref[ref["op"] != "=="]                      # lavaan's equalities: shared θ here
    key = lambda d: (d["lhs"] + d["op"] + d["rhs"].fillna("").astype(str)  # noqa: E731
                     + "|" + d["group"].astype(str))
    assert list(key(res.estimates)) == list(key(ref))
    m = res.estimates.assign(k=key(res.estimates)).merge(ref.assign(k=key(ref)), on="k",
                                                         suffixes=("", "_lav"))
    assert ((m["se"] > 0) == (m["free"] > 0)).all()
    assert np.max(np.abs(m["est"] - m["est_lav"])) < 1e-4                      # 1e-4 absolute
    free = m["free"] > 0
    assert np.max(np.abs(m.loc[free, "se"] / m.loc[free, "se_lav"] - 1)) < 5e-4  # 0.05% relative


@pytest.mark.parametrize("case", list(CASES))
def test_overall_and_per_group_fit_match_lavaan(case):
    c, res = fitted(case)
    assert res.fit["npar"] == c["fit"]["npar"] and res.fit["df"] == c["fit"]["df"]
    for k in ("chisq", "pvalue", "cfi", "tli", "logl", "aic", "bic", "rmsea",
              "baseline.chisq", "baseline.df"):
        assert res.fit[k] == pytest.approx(c["fit"][k], rel=1e-6), k                # 1e-6 relative
    # SRMR: the n-weighted mean of the groups' (3e-6 relative off lavaan)
    assert res.fit["srmr"] == pytest.approx(c["fit"]["srmr"], rel=1e-5)           # 1e-5 relative
    assert np.allclose(res.fit["chisq.group"], c["chisq_group"], rtol=1e-6)       # 1e-6 relative


def test_equal_loadings_and_intercepts_share_parameters_and_free_latent_means():
    """group.equal: one θ entry per loading and intercept across groups; the
    latent means fixed at 0 in the first group and free in the second."""
    c, res = fitted("hs_school_loadings_intercepts")
    t1, t2 = res.likelihood.tables
    for a, b in zip(t1.rows, t2.rows):
        if a.op == "=~" or (a.op == "~1" and a.lhs in t1.observed):
            assert a.free == b.free
        elif a.op == "~~":
            assert a.free != b.free
        if a.op == "~1" and a.lhs in t1.latent:
            assert not a.free and a.value == 0 and b.free
    # the multiple-group likelihood is the n-weighted sum of the groups'
    lik, theta = res.likelihood, res.theta
    w = np.array(res.nobs) / sum(res.nobs)
    assert lik.discrepancy(theta) == pytest.approx(
        sum(wi * g.discrepancy(theta) for wi, g in zip(w, lik.groups)), rel=1e-12)
    assert lik.scores(theta).shape == (sum(res.nobs), lik.npar)
    assert np.allclose(lik.scores(theta).sum(axis=0), 0.0, atol=1e-6)     # at the MLE


def test_bad_group_options_are_refused():
    c, _ = fitted("hs_school_free")
    data = pd.read_csv(REF / c["data"])
    with pytest.raises(DataError, match="'schol'"):
        mg.fit_groups(c["model"], data, "schol")
    with pytest.raises(DataError, match="at least two"):
        mg.fit_groups(c["model"], data[data["school"] == "Pasteur"], "school")
    with pytest.raises(ModelError, match="group_equal"):
        mg.fit_groups(c["model"], data, "school", ("loading",))


def test_group_partial_frees_the_named_rows_as_lavaan():
    c = json.loads((REF / "multigroup" / "hs_school_partial.json").read_text())
    data = pd.read_csv(REF / c["data"])
    res = mg.fit_groups(c["model"], data, "school", ("loadings", "intercepts"),
                        group_partial=("visual=~x2", "x7 ~1"))
    assert res.fit["df"] == c["fit"]["df"]
    assert res.fit["chisq"] == pytest.approx(c["fit"]["chisq"], rel=1e-6)       # 1e-6 relative
    ref = pd.DataFrame(c["estimates"])
    ref = ref[ref["op"] != "=="]
    assert np.max(np.abs(res.estimates["est"].to_numpy() - ref["est"].to_numpy())) < 1e-4
    t1, t2 = res.likelihood.tables
    row = lambda t, lhs, op, rhs: next(r for r in t.rows  # noqa: E731
                                       if (r.lhs, r.op, r.rhs) == (lhs, op, rhs))
    assert row(t1, "visual", "=~", "x2").free != row(t2, "visual", "=~", "x2").free
    assert row(t1, "visual", "=~", "x3").free == row(t2, "visual", "=~", "x3").free
    with pytest.raises(ModelError, match="group_partial"):
        mg.fit_groups(c["model"], data, "school", ("loadings",), group_partial=("x1=~x2",))


def test_robust_ses_match_lavaans_mlr():
    c = json.loads((REF / "multigroup" / "hs_school_loadings_intercepts_mlr.json").read_text())
    data = pd.read_csv(REF / c["data"])
    res = mg.fit_groups(c["model"], data, "school", ("loadings", "intercepts"), se="robust")
    ref = pd.DataFrame(c["estimates"])
    ref = ref[ref["op"] != "=="]
    free = ref["free"].to_numpy() > 0
    ratio = res.estimates["se"].to_numpy()[free] / ref["se"].to_numpy()[free]
    assert np.max(np.abs(ratio - 1)) < 1e-3                                      # 0.1% relative
    assert res.fit["chisq"] == pytest.approx(c["fit"]["chisq"], rel=1e-6)       # 1e-6 relative


def test_nested_comparison_of_equal_against_free_groups():
    """Does the measurement differ between schools? lavaan's lavTestLRT."""
    c, eq = fitted("hs_school_loadings_intercepts")
    _, free = fitted("hs_school_free")
    out = mg.lrt(eq, free)
    assert out["df_diff"] == c["lrt"]["df_diff"]
    assert out["chisq_diff"] == pytest.approx(c["lrt"]["chisq_diff"], rel=1e-6)  # 1e-6 relative
    assert out["pvalue"] == pytest.approx(c["lrt"]["pvalue"], rel=1e-4)          # 1e-4 relative
    with pytest.raises(ModelError, match="more restricted"):
        mg.lrt(free, eq)
