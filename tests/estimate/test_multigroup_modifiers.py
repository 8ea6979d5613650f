"""lavaan's c() modifiers in multiple-group models, := over the groups'
labels, MLR (the Yuan-Bentler scaled test) and cluster-robust SEs within
groups, against lavaan 0.6-14 (issue 16, item 3).

Fixtures: tests/reference/multigroup/{med_female_*,hs_school_c}.json, written
by tests/reference/make_reference_multigroup_c.R (no R needed here): a
mediation chain compared between female and male clients (labels per group,
a path equal by a shared label, a value fixed in one group only, the
difference of the indirect effects by :=), and the Holzinger-Swineford CFA
by school with c() labels and a loading fixed in one school.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attachpath.errors import OptionError, SpecError
from attachpath.estimate import multigroup as mg

REF = Path(__file__).resolve().parents[1] / "reference"
_cache: dict = {}


def case(name):
    return json.loads((REF / "multigroup" / f"{name}.json").read_text())


def fitted(name):
    if name not in _cache:
        c = case(name)
        data = pd.read_csv(REF / c["data"])
        robust = c["call"].get("estimator") == "MLR" or "cluster" in c["call"]
        _cache[name] = (c, mg.fit_groups(c["model"], data, c["group"],
                                         se="robust" if robust else "standard",
                                         cluster=c["call"].get("cluster")))
    return _cache[name]


def merged(c, res):
    ref = pd.DataFrame(c["estimates"])
    key = lambda d: (d["lhs"] + d["op"] + d["rhs"].fillna("").astype(str)  # noqa: E731
                     + "|" + d["group"].astype(str))
    assert list(key(res.estimates)) == list(key(ref))
    return res.estimates.assign(k=key(res.estimates)).merge(
        ref.assign(k=key(ref)), on="k", suffixes=("", "_lav"))


@pytest.mark.parametrize("name", ["med_female_labels", "med_female_equal", "hs_school_c"])
def test_c_modifiers_estimates_ses_and_defined_parameters_match_lavaan(name):
    c, res = fitted(name)
    assert tuple(map(str, res.groups)) == tuple(c["group_labels"])
    assert res.nobs == tuple(c["nobs"])
    m = merged(c, res)
    assert (m["label"].fillna("") == m["label_lav"].fillna("")).all()
    assert np.max(np.abs(m["est"] - m["est_lav"])) < 1e-4                      # 1e-4 absolute
    has_se = m["se_lav"] > 0                    # free rows and the := rows
    assert ((m["se"] > 0) == has_se).all()
    assert np.max(np.abs(m.loc[has_se, "se"] / m.loc[has_se, "se_lav"] - 1)) < 5e-4  # 0.05%
    assert (m["op"] == ":=").sum() == sum(r["op"] == ":=" for r in c["estimates"])
    # std.all: each group standardized by its own implied variances (lavaan's
    # standardizedSolution by group); := from its labels' std.all
    assert np.max(np.abs(m["std.all"] - m["std.all_lav"])) < 1e-4              # 1e-4 absolute
    assert res.fit["npar"] == c["fit"]["npar"] and res.fit["df"] == c["fit"]["df"]
    for k in ("chisq", "pvalue", "cfi", "tli", "logl", "aic", "bic", "rmsea"):
        assert res.fit[k] == pytest.approx(c["fit"][k], rel=1e-6), k                # 1e-6 relative
    assert res.fit["srmr"] == pytest.approx(c["fit"]["srmr"], rel=1e-5)           # 1e-5 relative
    assert np.allclose(res.fit["chisq.group"], c["chisq_group"], rtol=1e-6)       # 1e-6 relative


def test_shared_label_and_fixed_values_per_group_make_the_parameters_lavaans():
    """c(a, a): one θ entry in both groups; c(0.3, NA): fixed at 0.3 in the
    first group, free in the second; c(a1, a2): one entry per group."""
    _, res = fitted("med_female_equal")
    t1, t2 = res.likelihood.tables
    row = lambda t, lhs, rhs: next(r for r in t.rows  # noqa: E731
                                   if (r.lhs, r.op, r.rhs) == (lhs, "~", rhs))
    assert row(t1, "esat_anx", "ecr_anx").free == row(t2, "esat_anx", "ecr_anx").free > 0
    assert row(t1, "tds_ge", "esat_anx").free != row(t2, "tds_ge", "esat_anx").free
    fixed = row(t1, "iip_post", "iip_pre")
    assert fixed.free == 0 and fixed.value == 0.3 and row(t2, "iip_post", "iip_pre").free
    est = res.estimates.set_index(["lhs", "op", "rhs", "group"])
    assert est.loc[("iip_post", "~", "iip_pre", 1), "est"] == 0.3
    assert est.loc[("iip_post", "~", "iip_pre", 1), "se"] == 0.0


def test_robust_ses_and_the_scaled_test_with_groups_match_lavaans_mlr():
    for name in ("med_female_mlr", "hs_school_loadings_intercepts_mlr"):
        c = case(name)
        data = pd.read_csv(REF / c["data"])
        equal = c["call"].get("group.equal", ())
        res = mg.fit_groups(c["model"], data, c["group"], equal, se="robust")
        m = merged(c, res)
        has_se = m["se_lav"] > 0
        ratio = m.loc[has_se, "se"] / m.loc[has_se, "se_lav"]
        assert np.max(np.abs(ratio - 1)) < 1e-3, name                            # 0.1% relative
        for k in ("chisq.scaled", "chisq.scaling.factor", "baseline.chisq.scaled",
                  "cfi.robust", "tli.robust", "rmsea.robust", "rmsea.scaled"):
            assert res.fit[k] == pytest.approx(c["fit"][k], rel=1e-3), (name, k)  # 0.1% relative


def test_cluster_robust_ses_within_groups_match_lavaan():
    """group= with cluster=: the scores summed within therapists of each
    group (a therapist with clients of both groups is two clusters), each
    group's meat times G_g/(G_g-1)."""
    c, res = fitted("med_female_cluster")
    m = merged(c, res)
    has_se = m["se_lav"] > 0
    ratio = m.loc[has_se, "se"] / m.loc[has_se, "se_lav"]
    assert np.max(np.abs(ratio - 1)) < 1e-3                                      # 0.1% relative
    for k in ("chisq.scaled", "chisq.scaling.factor", "cfi.robust", "rmsea.robust"):
        assert res.fit[k] == pytest.approx(c["fit"][k], rel=1e-3), k              # 0.1% relative
    _, plain = fitted("med_female_mlr")
    assert not np.allclose(res.estimates["se"], plain.estimates["se"], rtol=1e-3)


def test_start_values_per_group_are_used_and_change_nothing():
    c = case("med_female_labels")
    data = pd.read_csv(REF / c["data"])
    model = c["model"].replace("c(b1, b2)*esat_anx",
                               "c(b1, b2)*start(c(0.9, -0.4))*esat_anx")
    res = mg.fit_groups(model, data, c["group"])
    m = merged(c, res)
    assert np.max(np.abs(m["est"] - m["est_lav"])) < 1e-4                      # 1e-4 absolute


def test_wrong_number_of_group_values_names_the_line():
    c = case("med_female_labels")
    data = pd.read_csv(REF / c["data"])
    model = c["model"].replace("c(b1, b2)", "c(b1, b2, b3)")
    with pytest.raises(SpecError, match="gives 3 values, but the data have 2 groups") as e:
        mg.fit_groups(model, data, c["group"])
    assert e.value.line == 2 and "c(b1, b2, b3)" in e.value.source_line


def test_a_c_modifier_in_a_single_group_fit_is_an_error_naming_it():
    from attachpath.partable import build
    from attachpath.syntax.parser import parse
    with pytest.raises(SpecError, match="single-group fit") as e:
        build(parse("y ~ x\nm ~ c(a1, a2)*x\n"))
    assert e.value.line == 2


def test_a_constraint_between_labels_of_different_groups_is_refused():
    c = case("med_female_labels")
    data = pd.read_csv(REF / c["data"])
    with pytest.raises(OptionError, match="a1 == a2"):
        mg.fit_groups(c["model"] + "a1 == a2\n", data, c["group"])
