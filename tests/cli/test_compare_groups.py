"""`attachpath compare --group` and estimate.multigroup.compare_groups:
multiple-group models of the same cases, nested pairs found by NET and
tested as lavaan's lavTestLRT (ML; Satorra-Bentler 2001 for MLR, with or
without therapist clusters).  Fixtures: tests/reference/multigroup/, from
make_reference_multigroup.R and make_reference_multigroup_c.R (no R here)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from attachpath.cli import main
from attachpath.estimate import multigroup as mg

REF = Path(__file__).resolve().parents[1] / "reference"
HS = REF / "data" / "holzinger.csv"


def fixture(case):
    return json.loads((REF / "multigroup" / f"{case}.json").read_text())


def _test_row(cmp, a, b):
    t = cmp.tests
    return t[(t["model_a"] == a) & (t["model_b"] == b)].iloc[0]


@pytest.mark.parametrize("se, case", [("standard", "hs_school_loadings_intercepts"),
                                      ("robust", "hs_school_loadings_intercepts_mlr_c")])
def test_invariance_sequence_tests_match_lavtestlrt(se, case):
    c = fixture(case)
    cmp = mg.compare_groups({"hs": c["model"]}, HS, group="school", se=se,
                            group_equal=[(), "loadings", "loadings,intercepts"])
    assert list(cmp.results) == ["hs", "hs [loadings]", "hs [loadings,intercepts]"]
    assert len(cmp.tests) == 3                  # each step is nested in the freer ones
    row = _test_row(cmp, "hs [loadings,intercepts]", "hs")
    assert row["df_diff"] == c["lrt"]["df_diff"]
    assert row["chisq_diff"] == pytest.approx(c["lrt"]["chisq_diff"], rel=1e-3)  # 0.1% relative
    assert row["pvalue"] == pytest.approx(c["lrt"]["pvalue"], rel=1e-2)          # 1% relative
    assert ("Satorra-Bentler" in row["method"]) == (se == "robust")


def test_a_path_free_against_equal_with_therapist_clusters_matches_lavaan():
    """c(a1, a2)*x against c(a, a)*x: does the a path differ between female
    and male clients?  MLR with therapists as clusters within groups."""
    eq, free = fixture("med_female_a_equal_cluster"), fixture("med_female_cluster")
    cmp = mg.compare_groups({"equal_a": eq["model"], "free": free["model"]},
                            REF / eq["data"], group="female", cluster="therapist")
    row = _test_row(cmp, "equal_a", "free")
    assert row["df_diff"] == eq["lrt"]["df_diff"] == 1
    assert row["chisq_diff"] == pytest.approx(eq["lrt"]["chisq_diff"], rel=1e-3)  # 0.1% relative
    assert row["pvalue"] == pytest.approx(eq["lrt"]["pvalue"], rel=1e-3)          # 0.1% relative
    for name, c in (("equal_a", eq), ("free", free)):
        assert cmp.results[name].fit["chisq.scaled"] == pytest.approx(
            c["fit"]["chisq.scaled"], rel=1e-3)                                     # 0.1% relative


def test_pairs_that_are_not_nested_get_no_test():
    """A loading fixed at 1 in one school only (hs_school_c) is not a
    restriction of equal loadings, nor the other way round."""
    c = fixture("hs_school_c")
    free = fixture("hs_school_free")
    cmp = mg.compare_groups({"c": c["model"], "cfa": free["model"]}, HS, group="school",
                            group_equal=[(), "loadings"])
    pairs = set(zip(cmp.tests["model_a"], cmp.tests["model_b"]))
    assert ("cfa [loadings]", "cfa") in pairs and ("c", "cfa") in pairs
    assert ("cfa [loadings]", "c") not in pairs and ("c [loadings]", "c") in pairs


def test_cli_compare_groups_writes_tables_and_a_folder_per_model(tmp_path, capsys):
    c = fixture("hs_school_loadings_intercepts")
    spec = tmp_path / "hs.lav"
    spec.write_text(c["model"])
    out = tmp_path / "cmp"
    assert main(["compare", str(spec), "--data", str(HS), "--group", "school",
                 "--group-equal", "loadings,intercepts", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Nested models" in printed and "hs [loadings,intercepts]" in printed
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "comparison.csv", "hs/estimates.csv", "hs/fit.json",
        "hs_loadings_intercepts/estimates.csv", "hs_loadings_intercepts/fit.json", "tests.csv"]
    tests = pd.read_csv(out / "tests.csv")
    assert tests["chisq_diff"].iloc[0] == pytest.approx(c["lrt"]["chisq_diff"], rel=1e-6)  # 1e-6
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["df"]) == [fixture("hs_school_free")["fit"]["df"], c["fit"]["df"]]


@pytest.mark.parametrize("extra, message", [
    (["--group-equal", "loadings"], "--group-equal needs a group column"),
    (["--group", "school"], "compare needs at least two models"),
    (["--group", "school", "--group-equal", "loadings", "--mc", "100"],
     "--mc (mc_draws=) is not available with --group"),
    (["--group", "school", "--group-equal", "slopes"], "not 'slopes'"),
])
def test_cli_compare_groups_refusals_exit_2_without_outputs(tmp_path, capsys, extra, message):
    spec = tmp_path / "hs.lav"
    spec.write_text(fixture("hs_school_free")["model"])
    out = tmp_path / "cmp"
    assert main(["compare", str(spec), "--data", str(HS), *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()
