"""`attachpath fit --group` and `attachpath.fit(group=)` (issue 16, item 3):
the multiple-group path wired to the command line and the API, checked
against the lavaan 0.6-14 fixtures of tests/reference/multigroup (written by
tests/reference/make_reference_multigroup.R; no R needed here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main
from attachpath.errors import DataError, OptionError

REF = Path(__file__).resolve().parents[1] / "reference"
DATA = REF / "data" / "holzinger.csv"


def fixture(case):
    return json.loads((REF / "multigroup" / f"{case}.json").read_text())


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "hs.lav"
    path.write_text(fixture("hs_school_free")["model"] + "\n")
    return path


def _key(d):
    return (d["lhs"] + d["op"] + d["rhs"].fillna("").astype(str) + "|"
            + d["group"].astype(str))


def _compare_estimates(est, c):
    ref = pd.DataFrame(c["estimates"])
    ref = ref[ref["op"] != "=="]          # lavaan's equality rows: one shared θ here
    assert list(_key(est)) == list(_key(ref))
    assert np.max(np.abs(est["est"].to_numpy() - ref["est"].to_numpy())) < 1e-4  # 1e-4 absolute
    free = ref["free"].to_numpy() > 0
    ratio = est["se"].to_numpy()[free] / ref["se"].to_numpy()[free]
    assert np.max(np.abs(ratio - 1)) < 5e-4                                        # 0.05% relative


def test_cli_writes_estimates_with_group_column_and_fit_json(spec, tmp_path, capsys):
    c = fixture("hs_school_loadings_intercepts")
    out = tmp_path / "res"
    code = main(["fit", str(spec), "--data", str(DATA), "--group", "school",
                 "--group-equal", "loadings,intercepts", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 groups of 'school'" in printed
    for label, n in zip(c["group_labels"], c["nobs"]):
        assert f"{label}: {n}" in printed
        assert f"[{label}] (n = {n})" in printed
    assert f"Chi-square {c['fit']['chisq']:.3f}, df {c['fit']['df']}" in printed
    assert "Wrote estimates.csv, fit.json" in printed
    assert "Standard errors: standard (expected information)" in printed
    est = pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""])
    assert {"lhs", "op", "rhs", "group", "est", "se", "z", "pvalue", "ci.lower",
            "ci.upper"} <= set(est.columns)
    _compare_estimates(est, c)
    fit = json.loads((out / "fit.json").read_text())
    assert fit["df"] == c["fit"]["df"] and fit["npar"] == c["fit"]["npar"]
    for k in ("chisq", "cfi", "tli", "rmsea", "aic", "bic"):
        assert fit[k] == pytest.approx(c["fit"][k], rel=1e-6), k                   # 1e-6 relative
    assert [g["label"] for g in fit["groups"]] == c["group_labels"]
    assert [g["n"] for g in fit["groups"]] == c["nobs"]
    assert np.allclose([g["chisq"] for g in fit["groups"]], c["chisq_group"], rtol=1e-6)
    assert fit["group_equal"] == ["loadings", "intercepts"] and fit["se"] == "standard"
    # diagram.pdf and diagram.png only with --pdf, --png
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["estimates.csv", "fit.json", "diagram.svg", "diagram.dot", "report.html",
         "report.md"])
    # the report: the groups, the whole model's fit, the figure, each group's estimates
    md = (out / "report.md").read_text()
    for label, n in zip(c["group_labels"], c["nobs"]):
        assert f"| school = {label} | {n} |" in md
        assert f"Estimates in group {label} (n = {n})" in md
    assert f"| Chi-square | {c['fit']['chisq']:.3f} |" in md
    assert f"| df | {c['fit']['df']} |" in md
    html = (out / "report.html").read_text()
    assert html.count("panel-title") >= 2 and "school = Grant-White (n = 145)" in html


def test_cli_group_partial_matches_lavaan(spec, tmp_path):
    c = fixture("hs_school_partial")
    out = tmp_path / "res"
    assert main(["fit", str(spec), "--data", str(DATA), "--group", "school",
                 "--group-equal", "loadings,intercepts",
                 "--group-partial", "visual=~x2, x7 ~1", "--out", str(out)]) == 0
    est = pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""])
    ref = pd.DataFrame(c["estimates"])
    ref = ref[ref["op"] != "=="]
    assert list(_key(est)) == list(_key(ref))
    assert np.max(np.abs(est["est"].to_numpy() - ref["est"].to_numpy())) < 1e-4  # 1e-4 absolute
    assert json.loads((out / "fit.json").read_text())["df"] == c["fit"]["df"]


def test_api_returns_the_group_fit(spec):
    c = fixture("hs_school_free")
    res = ap.fit(spec, pd.read_csv(DATA), group="school")
    assert res.groups == tuple(c["group_labels"]) and res.nobs == tuple(c["nobs"])
    _compare_estimates(res.estimates, c)
    assert res.fit["chisq"] == pytest.approx(c["fit"]["chisq"], rel=1e-6)          # 1e-6 relative
    assert "Group 2 [Grant-White]" in res.summary()
    # a path and a comma-separated string work as the CLI's values
    c2 = fixture("hs_school_loadings_intercepts")
    res2 = ap.fit(spec, DATA, group="school", group_equal="loadings, intercepts")
    assert res2.fit["chisq"] == pytest.approx(c2["fit"]["chisq"], rel=1e-6)        # 1e-6 relative


@pytest.mark.parametrize("options, match", [
    (dict(cluster="grade", se="standard"), "use --se robust"),
    (dict(cluster="grade/class"), "one column of cluster ids"),
    (dict(se="bootstrap"), "--se bootstrap"),
    (dict(missing="fiml"), "--missing fiml"),
    (dict(mc_draws=100), "--mc"),
    (dict(std_lv=True), "--std-lv"),
    (dict(model_type="growth"), "--model-type growth"),
    (dict(group_equal=["loading"]), "Did you mean 'loadings'"),
    (dict(group_partial=["visual=~x2"]), "give group_equal"),
])
def test_api_refuses_what_multiple_groups_do_not_support_yet(spec, options, match):
    with pytest.raises(OptionError, match=match):
        ap.fit(spec, DATA, group="school", **options)


def test_api_group_options_without_group_and_missing_column(spec):
    with pytest.raises(OptionError, match="need a group column"):
        ap.fit(spec, DATA, group_equal=["loadings"])
    with pytest.raises(DataError, match="'schol'.*did you mean 'school'"):
        ap.fit(spec, DATA, group="schol")
    with pytest.raises(OptionError, match="name of a column"):
        ap.fit(spec, DATA, group=["school"])


@pytest.mark.parametrize("extra, message", [
    (["--group", "schol"], "The group column 'schol' is not in the data; did you mean 'school'"),
    (["--group", "school", "--group-equal", "loadings,slopes"],
     "--group-equal (group_equal=) takes loadings, intercepts, regressions, residuals, "
     "residual.covariances, lv.variances, lv.covariances, means; not 'slopes'"),
    (["--group-equal", "loadings"], "need a group column"),
    (["--group", "school", "--cluster", "grdae"], "The cluster column 'grdae' is not in "
                                                  "the data; did you mean 'grade'"),
    (["--group", "school", "--missing", "fiml"], "--missing fiml (missing=) is not available"),
    (["--group", "school", "--se", "bootstrap"], "--se bootstrap is not available with --group"),
    (["--group", "school", "--modindices"], "--modindices is not available with --group yet"),
    (["--group", "school", "--style", "lavaan"], "--style lavaan is not available with --group"),
    (["--group", "school", "--group-equal", "loadings", "--group-partial", "x1=~x2"],
     "group_partial names 'x1=~x2', which is not a row of the model"),
])
def test_cli_refusals_exit_2_without_traceback_or_outputs(spec, tmp_path, capsys, extra,
                                                           message):
    out = tmp_path / "res"
    code = main(["fit", str(spec), "--data", str(DATA), *extra, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_cli_two_level_spec_and_small_group_refused(tmp_path, capsys):
    two = tmp_path / "two.lav"
    two.write_text("level: 1\nx1 ~ x2\nlevel: 2\nx1 ~ x2\n")
    assert main(["fit", str(two), "--data", str(DATA), "--group", "school"]) == 2
    assert "not available with --group (group=) yet" in capsys.readouterr().err
    per_group = tmp_path / "three.lav"
    per_group.write_text("visual =~ x1 + c(a, b, c)*x2 + x3\n")
    assert main(["fit", str(per_group), "--data", str(DATA), "--group", "school"]) == 2
    err = capsys.readouterr().err
    assert "three.lav:1" in err and "gives 3 values, but the data have 2 groups" in err
    assert "Traceback" not in err
    data = pd.read_csv(DATA)
    small = pd.concat([data[data["school"] == "Pasteur"],
                       data[data["school"] == "Grant-White"].head(5)])
    path = tmp_path / "small.csv"
    small.to_csv(path, index=False)
    spec = tmp_path / "hs.lav"
    spec.write_text(fixture("hs_school_free")["model"])
    assert main(["fit", str(spec), "--data", str(path), "--group", "school"]) == 2
    err = capsys.readouterr().err
    assert "Group 'Grant-White' of 'school' has only 5 complete cases for 9 variables" in err


def test_rows_without_group_or_with_missing_values_are_counted(spec, tmp_path, capsys):
    data = pd.read_csv(DATA)
    data.loc[[0, 1], "school"] = np.nan
    data.loc[[5], "x3"] = np.nan
    path = tmp_path / "holes.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "res"
    assert main(["fit", str(spec), "--data", str(path), "--group", "sex", "--out",
                 str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 groups of 'sex', N = 300" in printed      # sex is complete: one row drops
    assert "Rows dropped (a missing value or no group): 1" in printed
    res = ap.fit(spec, path, group="school")
    assert res.dropped_rows == 3 and sum(res.nobs) == 298
    assert "Rows dropped (a missing value or no group): 3" in res.summary()
    fit = json.loads((out / "fit.json").read_text())
    assert fit["dropped_rows"] == 1 and [g["label"] for g in fit["groups"]] == ["1", "2"]


def test_robust_ses_through_the_api_match_lavaans_mlr(spec):
    c = fixture("hs_school_loadings_intercepts_mlr")
    res = ap.fit(spec, DATA, group="school", group_equal=("loadings", "intercepts"),
                 se="robust")
    ref = pd.DataFrame(c["estimates"])
    ref = ref[ref["op"] != "=="]
    free = ref["free"].to_numpy() > 0
    ratio = res.estimates["se"].to_numpy()[free] / ref["se"].to_numpy()[free]
    assert np.max(np.abs(ratio - 1)) < 1e-3                                          # 0.1% relative
    assert "robust (MLR sandwich)" in res.summary()
    assert (f"Scaled chi-square (Yuan-Bentler) {c['fit']['chisq.scaled']:.3f}, df "
            f"{c['fit']['df']}" in res.summary())


def test_cli_mediation_compared_between_groups_with_clusters(tmp_path, capsys):
    """c() labels per group, := over them, and therapists as clusters within
    groups: estimates.csv carries lavaan's := rows (group 0) and fit.json the
    scaled test (fixture med_female_cluster, make_reference_multigroup_c.R)."""
    c = fixture("med_female_cluster")
    spec = tmp_path / "med.lav"
    spec.write_text(c["model"])
    out = tmp_path / "res"
    assert main(["fit", str(spec), "--data", str(REF / c["data"]), "--group", "female",
                 "--cluster", "therapist", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "robust (MLR sandwich), clusters of 'therapist' within groups" in printed
    assert "Defined parameters" in printed and "diff" in printed
    est = pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""])
    ref = pd.DataFrame(c["estimates"])
    assert list(_key(est)) == list(_key(ref))
    assert np.max(np.abs(est["est"] - ref["est"])) < 1e-4                            # 1e-4 absolute
    has_se = ref["se"] > 0
    assert np.max(np.abs(est["se"][has_se] / ref["se"][has_se] - 1)) < 1e-3         # 0.1% relative
    assert list(est.loc[est["op"] == ":=", "group"]) == [0, 0, 0]
    fit = json.loads((out / "fit.json").read_text())
    assert fit["cluster"] == "therapist" and fit["se"] == "robust"
    assert fit["chisq.scaled"] == pytest.approx(c["fit"]["chisq.scaled"], rel=1e-3)  # 0.1% relative
