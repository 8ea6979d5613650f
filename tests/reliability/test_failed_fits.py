"""Failed and doubtful fits: non-convergence (exit 1 with iterations, the
gradient norm and what to try), identification found before and after
fitting, inadmissible solutions flagged in the summary and fit.json,
failed bootstrap draws counted, warnings that reach the user, and the
outputs of an earlier run surviving every failure."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath import export, files, fitting
from attachpath.errors import EstimationError, ModelError
from attachpath.estimate import engine
from reliability_support import SPECS, assert_no_temp_files, assert_nothing_changed

SPEC = "serial_esat_anx.lav"


def scales_data(n=200, seed=1):
    """A factor whose indicators' variances differ by 1e16: SLSQP and Fisher
    scoring both fail to reach a zero gradient."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    return pd.DataFrame({"x1": z * 1e4 + rng.normal(size=n) * 1e4,
                         "x2": z * 1e-4 + rng.normal(size=n) * 1e-4,
                         "x3": z + rng.normal(size=n)})


def two_factor_data(n=200, seed=1):
    """Two uncorrelated factors with two indicators each: identified in
    general (df = 1), but with the factor covariance near 0 the data barely
    identify the loadings; neither SLSQP nor Fisher scoring converges."""
    rng = np.random.default_rng(seed)
    f1, f2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"a1": f1 + rng.normal(size=n), "a2": f1 + rng.normal(size=n),
                         "b1": f2 + rng.normal(size=n), "b2": f2 + rng.normal(size=n)})


def heywood_data(n=400, seed=0):
    """Three indicators of one factor whose covariances imply a factor
    variance (s12*s13/s23 = 1.2) above the variance of x1 (1): the ML
    solution has a negative residual variance of x1 (a Heywood case)."""
    cov = np.array([[1, .6, .6], [.6, 1, .3], [.6, .3, 1]])
    X = np.random.default_rng(seed).multivariate_normal(np.zeros(3), cov, size=n)
    return pd.DataFrame(X, columns=["x1", "x2", "x3"])


def factor_data(n=300, seed=2):
    """Four good indicators of one factor: converges from any start."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    return pd.DataFrame({f"y{i}": 0.8 * f + rng.normal(scale=0.6, size=n)
                         for i in range(1, 5)})


# -- non-convergence -----------------------------------------------------------

def test_real_nonconvergence_exit_1_and_diagnostic(work):
    work.csv("two.csv", two_factor_data())
    work.write("two.lav", "f1 =~ a1 + a2\nf2 =~ b1 + b2\n")
    before = work.snapshot()
    r = work.run("fit", "two.lav", "--data", "two.csv", "--out", "res")
    assert r.code == 1, r.err
    assert "did not converge" in r.err
    assert re.search(r"after \d+ optimizer and \d+ scoring iterations", r.err)
    assert re.search(r"gradient norm (is )?\d\.\d+e[+-]\d+", r.err)
    assert "start values" in r.err or "What to try" in r.err
    assert "Traceback" not in r.err and not r.out
    assert_nothing_changed(before, work.snapshot())
    assert_no_temp_files(work.path)


def test_data_notes_reach_the_user_with_an_estimation_failure(work, monkeypatch):
    def fail(*args, **kwargs):
        raise EstimationError("The estimation did not converge.", iterations=546,
                              gradient_norm=2.7e4)
    monkeypatch.setattr(engine, "estimate", fail)
    work.csv("scales.csv", scales_data())
    work.write("factor.lav", "f =~ x1 + x2 + x3\n")
    r = work.run("fit", "factor.lav", "--data", "scales.csv", "--out", "res")
    assert r.code == 1
    assert "546 iterations" in r.err and "gradient norm 2.70e+04" in r.err
    assert "variances of the model variables differ" in r.err
    assert "divide 'x1' by 1e+08" in r.err


def test_engine_failure_exit_1_with_iterations_and_gradient(work, monkeypatch):
    def fail(*args, **kwargs):
        raise EstimationError("The estimation did not converge.", iterations=57,
                              gradient_norm=3.2e-3)
    monkeypatch.setattr(engine, "estimate", fail)
    before = work.snapshot()
    r = work.run("fit", "simultaneous_secure_anx.lav", "--data", "clients.csv",
                 "--cluster", "therapist", "--out", "res")
    assert r.code == 1
    assert "57 iterations" in r.err and "gradient norm 3.20e-03" in r.err
    assert "What to try" in r.err
    assert "Traceback" not in r.err
    assert_nothing_changed(before, work.snapshot())


def test_engine_failure_with_last_iterate_names_the_culprits(example_clients, monkeypatch):
    spec = "f1 =~ cats_secure + tds_ge\nf2 =~ iip_pre + iip_post\nf1 ~~ f2\n"
    pt = fitting.partable_of(spec)
    # the factor covariance at 0 leaves both 2-indicator factors unidentified
    theta = _theta(pt, {"f1 ~~ f2": 0.0})

    def fail(*args, **kwargs):
        raise EstimationError("The estimation did not converge.", iterations=134,
                              gradient_norm=2.1, theta=theta)
    monkeypatch.setattr(engine, "estimate", fail)
    with pytest.raises(EstimationError) as info:
        ap.fit(spec, example_clients)
    msg = str(info.value)
    assert "134 iterations" in msg and "gradient norm 2.10e+00" in msg
    assert "Where it stopped" in msg and "'f1 =~ tds_ge'" in msg


def test_nonconvergence_in_python_api():
    with pytest.raises(EstimationError) as info:
        ap.fit("f1 =~ a1 + a2\nf2 =~ b1 + b2", two_factor_data())
    assert info.value.exit_code == 1
    assert info.value.iterations and info.value.gradient_norm > 1e-6


def _theta(pt, overrides):
    """Plausible values for every free parameter: loadings 0.8, variances
    0.3 (factors 1.0), covariances 0.2, then `overrides` by readable name."""
    names = fitting.describe_parameters(pt)
    theta = []
    for name in names:
        lhs, op, rhs = name.split()[:3]
        if name in overrides:
            theta.append(overrides[name])
        elif op == "=~":
            theta.append(0.8)
        elif lhs == rhs:
            theta.append(1.0 if lhs in pt.latent else 0.3)
        else:
            theta.append(0.2)
    return np.array(theta)


# -- identification ------------------------------------------------------------

def test_rank_check_names_the_unidentified_parameters(example_clients):
    spec = ("tds_ge ~ tds_ga + ecr_anx\ntds_ga ~ tds_ge + ecr_anx\n"
            "iip_post ~ ecr_avoid\n")
    with pytest.raises(ModelError) as info:
        ap.fit(spec, example_clients)
    msg = str(info.value)
    assert "df = 4" in msg and "'tds_ge ~ tds_ga'" in msg and "'tds_ga ~ tds_ge'" in msg
    assert "'iip_post ~ ecr_avoid'" not in msg


def test_information_check_after_fitting_names_the_null_direction(example_clients):
    spec = "f1 =~ cats_secure + tds_ge\nf2 =~ iip_pre + iip_post\nf1 ~~ f2\n"
    pt = fitting.partable_of(spec)
    from attachpath.estimate import ml
    from attachpath.estimate.ram import RAM
    X = example_clients[list(pt.observed)].to_numpy(float)
    mom = ml.Moments.from_array(X)
    ram = RAM.from_partable(pt)
    values = engine.fixed_values(pt, ram, mom)
    # identified in general (df = 1): the rank check passes ...
    fitting.check_rank(pt, ram, values)

    class Sol:
        method = "semopy"
        theta = _theta(pt, {"f1 ~~ f2": 0.0})
    Sol.values = values
    # ... but at estimates with a zero factor covariance it is not
    with pytest.raises(ModelError) as info:
        fitting.check_information(pt, ram, Sol)
    msg = str(info.value)
    assert "empirical under-identification" in msg
    assert "'f1 =~ tds_ge'" in msg and "'f2 =~ iip_post'" in msg
    Sol.theta = _theta(pt, {"f1 ~~ f2": 0.3})
    assert fitting.check_information(pt, ram, Sol) == []


def test_nonrecursive_model_is_fitted_correctly(example_clients):
    """A just-identified non-recursive model: ML equals instrumental variables."""
    spec = ("tds_ge ~ tds_ga + ecr_anx\ntds_ga ~ tds_ge + ecr_avoid\n"
            "tds_ge ~~ tds_ga\n")
    res = ap.fit(spec, example_clients)
    assert res.fit["df"] == 0
    est = res.params()
    X = example_clients[["tds_ge", "tds_ga", "ecr_anx", "ecr_avoid"]].to_numpy(float)
    ge, ga, anx, av = (X - X.mean(axis=0)).T
    b1 = np.linalg.solve(np.c_[av, anx].T @ np.c_[ga, anx], np.c_[av, anx].T @ ge)
    b2 = np.linalg.solve(np.c_[anx, av].T @ np.c_[ge, av], np.c_[anx, av].T @ ga)
    assert est["tds_ge~tds_ga"] == pytest.approx(b1[0], abs=1e-6)
    assert est["tds_ge~ecr_anx"] == pytest.approx(b1[1], abs=1e-6)
    assert est["tds_ga~tds_ge"] == pytest.approx(b2[0], abs=1e-6)
    assert est["tds_ga~ecr_avoid"] == pytest.approx(b2[1], abs=1e-6)


def test_collinear_regression_caught_by_data_checks(example_clients):
    data = example_clients.assign(x2=2 * example_clients["ecr_anx"])
    with pytest.raises(ap.DataError, match="'ecr_anx' and 'x2' are perfectly collinear"):
        ap.fit("tds_ge ~ ecr_anx + x2", data)


# -- inadmissible solutions -------------------------------------------------------

def test_heywood_case_flagged_in_summary_stderr_and_fit_json(work):
    work.csv("heywood.csv", heywood_data())
    work.write("factor.lav", "f =~ x1 + x2 + x3\n")
    r = work.run("fit", "factor.lav", "--data", "heywood.csv", "--out", "hw")
    assert r.code == 0, r.err
    assert "Inadmissible solution" in r.out and "'x1'" in r.out
    assert "attachpath: warning: Inadmissible solution" in r.err
    fit = json.loads((work.path / "hw" / "fit.json").read_text())
    assert fit["admissible"] is False
    assert any("'x1'" in w and "negative" in w for w in fit["inadmissible"])
    est = pd.read_csv(work.path / "hw" / "estimates.csv")
    row = est[(est.lhs == "x1") & (est.op == "~~")]
    assert float(row["est"].iloc[0]) < 0      # reported, as lavaan does, not clamped
    assert_no_temp_files(work.path)


def test_correlation_beyond_one_flagged():
    # cross-factor covariances (0.4) above the within-factor ones (0.3): the
    # implied factor correlation is 4/3
    J = np.ones((3, 3))
    cov = np.block([[0.7 * np.eye(3) + 0.3 * J, 0.4 * J], [0.4 * J, 0.7 * np.eye(3) + 0.3 * J]])
    X = np.random.default_rng(0).multivariate_normal(np.zeros(6), cov, size=500)
    data = pd.DataFrame(X, columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    res = ap.fit("fa =~ a1 + a2 + a3\nfb =~ b1 + b2 + b3", data)
    flags = export.fit_json(res)["inadmissible"]
    assert any("'fa' and 'fb'" in w and "beyond ±1" in w for w in flags)
    assert export.fit_json(res)["admissible"] is False
    assert "beyond ±1" in res.summary()


def test_admissible_solution_says_so(example_clients):
    res = ap.fit(SPECS / SPEC, example_clients, cluster="therapist", se="robust")
    assert export.fit_json(res)["admissible"] is True
    assert export.fit_json(res)["inadmissible"] == []


# -- bootstrap draws ---------------------------------------------------------------

def _flaky_engine(monkeypatch, every):
    real = engine.estimate
    calls = {"n": 0}

    def flaky(pt, mom, ram=None, start=None, method="auto"):
        if start is not None:            # a bootstrap replicate
            calls["n"] += 1
            if calls["n"] % every == 0:
                raise EstimationError("did not converge", iterations=100,
                                      gradient_norm=1.0)
        return real(pt, mom, ram, start=start, method=method)
    monkeypatch.setattr(engine, "estimate", flaky)
    return calls


def test_failed_bootstrap_draws_are_counted(work, monkeypatch):
    _flaky_engine(monkeypatch, every=4)
    work.csv("factor.csv", factor_data())
    work.write("factor.lav", "f =~ y1 + y2 + y3 + y4\n")
    r = work.run("fit", "factor.lav", "--data", "factor.csv", "--se", "bootstrap",
                 "--bootstrap", "20", "--seed", "1", "--out", "boot")
    assert r.code == 0, r.err
    fit = json.loads((work.path / "boot" / "fit.json").read_text())
    assert fit["bootstrap"]["n"] == 20
    assert fit["bootstrap"]["failed"] == 5 and fit["bootstrap"]["ok"] == 15
    assert any("5 of 20 bootstrap draws failed" in w for w in fit["warnings"])
    assert "5 of 20 bootstrap draws failed" in r.out and "15 of 20 draws" in r.out
    assert "5 of 20 bootstrap draws failed" in r.err


def test_all_bootstrap_draws_failing_is_exit_1(work, monkeypatch):
    _flaky_engine(monkeypatch, every=1)
    work.csv("factor.csv", factor_data())
    work.write("factor.lav", "f =~ y1 + y2 + y3 + y4\n")
    before = work.snapshot()
    r = work.run("fit", "factor.lav", "--data", "factor.csv", "--se", "bootstrap",
                 "--bootstrap", "10", "--seed", "1", "--out", "res")
    assert r.code == 1
    assert "bootstrap draws failed" in r.err
    assert_nothing_changed(before, work.snapshot())


# -- warnings that reach the user ---------------------------------------------------

def test_missing_values_dropped_and_reported(work, example_clients):
    data = example_clients.copy()
    data.loc[[1, 2, 50], "tds_ge"] = np.nan
    data.loc[7, "iip_post"] = np.nan
    work.csv("missing.csv", data)
    r = work.run("fit", SPEC, "--data", "missing.csv", "--out", "miss")
    assert r.code == 0, r.err
    assert "Observations used: 326 (4 rows with missing values dropped, listwise)" in r.out
    assert "Dropped 4 of 330 rows" in r.err and "tds_ge: 3" in r.err
    fit = json.loads((work.path / "miss" / "fit.json").read_text())
    assert fit["data"]["dropped_rows"] == 4 and fit["data"]["n"] == 326
    assert fit["ntotal"] == 326


def test_few_clusters_warned(work, example_clients):
    few = example_clients[example_clients.therapist.isin(
        example_clients.therapist.unique()[:12])]
    work.csv("few.csv", few)
    r = work.run("fit", SPEC, "--data", "few.csv", "--cluster", "therapist", "--out", "few")
    assert r.code == 0, r.err
    assert "attachpath: warning: Only 12 clusters in 'therapist'" in r.err
    assert r.err.count("Only 12 clusters") == 1       # once, not once per source
    fit = json.loads((work.path / "few" / "fit.json").read_text())
    assert any("Only 12 clusters" in w for w in fit["warnings"])
    r = work.run("check", SPEC, "--data", "few.csv", "--cluster", "therapist")
    assert r.code == 0 and "note: Only 12 clusters" in r.out


def test_latent_named_like_a_column_is_noted(work):
    work.write("lat.lav", "tds_ge =~ cats_secure + tds_ga + ecr_anx\n")
    r = work.run("fit", "lat.lav", "--data", "clients.csv")
    assert r.code == 0
    assert "latent variable 'tds_ge' has the name of a data column" in r.err


# -- files ------------------------------------------------------------------------

def test_success_replaces_outputs_and_keeps_other_files(work):
    (work.path / "res" / "notes.txt").write_text("mine\n")
    old = (work.path / "res" / "estimates.csv").read_bytes()
    src = (work.path / "clients.csv").read_bytes(), (work.path / "clients.csv").stat().st_mtime_ns
    r = work.run("fit", "parallel_esat_anx.lav", "--data", "clients.csv", "--out", "res")
    assert r.code == 0, r.err
    assert (work.path / "res" / "notes.txt").read_text() == "mine\n"
    assert (work.path / "res" / "estimates.csv").read_bytes() != old
    assert ((work.path / "clients.csv").read_bytes(),
            (work.path / "clients.csv").stat().st_mtime_ns) == src
    assert_no_temp_files(work.path)


def test_failure_while_writing_keeps_previous_outputs(work, monkeypatch):
    real = files._temp_for

    def disk_full(path, data, binary):
        if path.name == "fit.json":
            raise ap.errors.OutputError(f"Cannot write '{path}': No space left on device.")
        return real(path, data, binary)
    monkeypatch.setattr(files, "_temp_for", disk_full)
    before = work.snapshot()
    r = work.run("fit", "parallel_esat_anx.lav", "--data", "clients.csv", "--out", "res")
    assert r.code == 2 and "No space left on device" in r.err
    assert_nothing_changed(before, work.snapshot())
    assert_no_temp_files(work.path)


def test_failed_rename_rolls_back_the_whole_set(work, monkeypatch):
    real = os.replace
    state = {"n": 0}

    def flaky_replace(src, dst):
        if str(src).endswith(".tmp") and ".bak." not in str(src):
            state["n"] += 1
            if state["n"] == 2:
                raise OSError(5, "Input/output error")
        return real(src, dst)
    monkeypatch.setattr(os, "replace", flaky_replace)
    before = work.snapshot()
    r = work.run("fit", "parallel_esat_anx.lav", "--data", "clients.csv", "--out", "res")
    assert r.code == 2 and "Input/output error" in r.err and "previous outputs were kept" in r.err
    assert_nothing_changed(before, work.snapshot())
    assert_no_temp_files(work.path)


def test_interrupt_keeps_previous_outputs(work, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(engine, "estimate", interrupted)
    before = work.snapshot()
    r = work.run("fit", "simultaneous_secure_anx.lav", "--data", "clients.csv", "--out", "res")
    assert r.code == 130 and "interrupted" in r.err
    assert_nothing_changed(before, work.snapshot())


def test_diagram_failure_does_not_cost_the_estimates(work, monkeypatch):
    import attachpath.diagram as diagram
    if not hasattr(diagram, "diagram_files"):
        pytest.skip("no diagrams in this checkout")

    def broken(d, **kw):
        raise RuntimeError("layout exploded")
    monkeypatch.setattr(diagram, "diagram_files", broken)
    r = work.run("fit", "parallel_esat_anx.lav", "--data", "clients.csv", "--out", "new")
    assert r.code == 0, r.err
    assert "diagram could not be drawn" in r.err and "layout exploded" in r.err
    assert (work.path / "new" / "estimates.csv").is_file()
    assert (work.path / "new" / "fit.json").is_file()


def test_internal_error_is_one_line_without_debug_and_traceback_with(work, monkeypatch):
    def bug(*a, **k):
        raise ZeroDivisionError("oops")
    monkeypatch.setattr(engine, "estimate", bug)
    r = work.run("fit", "simultaneous_secure_anx.lav", "--data", "clients.csv")
    assert r.code == 1 and "internal error (ZeroDivisionError: oops)" in r.err
    assert "--debug" in r.err and "Traceback" not in r.err
    r = work.run("--debug", "fit", "simultaneous_secure_anx.lav", "--data", "clients.csv")
    assert r.code == 1 and "Traceback" in r.err


def test_report_failure_does_not_cost_the_estimates(work, monkeypatch):
    def broken(res, **kw):
        raise RuntimeError("template missing")
    monkeypatch.setattr(export, "fit_report", broken)     # what export calls
    r = work.run("fit", "parallel_esat_anx.lav", "--data", "clients.csv", "--out", "new")
    assert r.code == 0, r.err
    assert "report could not be made" in r.err and "template missing" in r.err
    assert (work.path / "new" / "estimates.csv").is_file()
    assert not (work.path / "new" / "report.html").exists()


def test_fit_out_writes_every_output_together(work):
    r = work.run("fit", "parallel_esat_anx.lav", "--data", "clients.csv", "--out", "new")
    assert r.code == 0, r.err
    names = {p.name for p in (work.path / "new").iterdir()}
    assert {"estimates.csv", "fit.json"} <= names
    assert_no_temp_files(work.path)


# -- a Heywood case the optimizer must still reach; a demo that fails cleanly -----

def test_three_indicator_factor_with_negative_variance_converges(example_clients):
    # s12 < 0, s13 > 0, s23 > 0: the exact (chisq 0) ML solution has a factor
    # variance of -0.186, which lavaan reports with a warning
    res = ap.fit("f =~ cats_secure + cats_avoid + cats_preoc", example_clients)
    assert res.fit["chisq"] == pytest.approx(0, abs=1e-8)
    assert res.params()["f~~f"] == pytest.approx(-0.1861, abs=1e-3)
    assert export.fit_json(res)["admissible"] is False


def test_failed_demo_leaves_no_partial_outputs(work, monkeypatch):
    from attachpath.cli import build_parser
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    if "demo" not in sub.choices:
        pytest.skip("no demo command in this checkout")
    import attachpath.fitting as fitting_module

    def fail(*a, **k):
        raise EstimationError("did not converge", iterations=3, gradient_norm=1.0)
    monkeypatch.setattr(fitting_module, "fit", fail)
    before = work.snapshot()
    r = work.run("demo", "--out", "demo", "--quiet")
    assert r.code == 1
    assert_nothing_changed(before, work.snapshot())


def test_simulate_and_compare_keep_other_files(work):
    for d in ("sim", "cmp"):
        (work.path / d).mkdir()
        (work.path / d / "notes.txt").write_text("mine\n")
    r = work.run("simulate", "--seed", "3", "--out", "sim")
    assert r.code == 0, r.err
    assert {"sessions.csv", "truth.json", "notes.txt"} <= {p.name for p in (work.path / "sim").iterdir()}
    r = work.run("compare", "serial_esat_anx.lav", "serial_esat_anx_partial.lav", "--data",
                 "clients.csv", "--out", "cmp")
    if r.code == 2 and "invalid choice" in r.err:
        pytest.skip("no compare command in this checkout")
    assert r.code == 0, r.err
    assert (work.path / "cmp" / "notes.txt").read_text() == "mine\n"
    assert (work.path / "cmp" / "comparison.csv").is_file()
    assert_no_temp_files(work.path)

    # a failed comparison into the same folder leaves all of it as it was
    work.write("bad.lav", "f =~ cats_secure + tds_ge\n")
    before = work.snapshot()
    r = work.run("compare", "serial_esat_anx.lav", "bad.lav", "--data", "clients.csv",
                 "--out", "cmp")
    assert r.code == 2 and "bad.lav" in r.err
    assert_nothing_changed(before, work.snapshot())


def test_compare_writes_its_folder_as_one_set(work, monkeypatch):
    """Issue 17.10: a failure while writing the comparison's own files had
    already replaced the models' folders."""
    from attachpath import files as outputs
    argv = ("compare", "serial_esat_anx.lav", "serial_esat_anx_partial.lav", "--data",
            "clients.csv", "--out", "cmp")
    assert work.run(*argv).code == 0
    before = work.snapshot()
    real = outputs._temp_for

    def disk_full_at_the_report(path, data, binary):
        if path.name == "report.html":
            raise outputs.OutputError(f"Cannot write '{path}': No space left on device.")
        return real(path, data, binary)
    monkeypatch.setattr(outputs, "_temp_for", disk_full_at_the_report)
    r = work.run(*argv)
    assert r.code == 2 and "No space left" in r.err
    assert_nothing_changed(before, work.snapshot())
    assert_no_temp_files(work.path)


def test_nearly_collinear_predictors_are_named_not_blamed_on_the_model(work, example_clients):
    """Issue 17.8: a copy plus 1e-7 noise gave 'the model implies a singular
    covariance matrix ... check variances fixed at 0'."""
    noise = np.random.default_rng(1).normal(size=len(example_clients)) * 1e-7
    work.csv("near.csv", example_clients.assign(ecr_copy=example_clients["ecr_anx"] + noise))
    work.write("near.lav", "cats_secure ~ ecr_anx + ecr_copy\ntds_ge ~ cats_secure\n")
    r = work.run("fit", "near.lav", "--data", "near.csv")
    assert r.code == 2
    assert "'ecr_anx' and 'ecr_copy' are nearly perfectly collinear" in r.err
    assert "singular covariance matrix of the observed" not in r.err


def test_a_variable_scaled_by_a_million_is_named_with_a_rescaling_hint(work, example_clients):
    work.csv("big.csv", example_clients.assign(iip_pre=example_clients["iip_pre"] * 1e6))
    r = work.run("fit", "serial_esat_anx.lav", "--data", "big.csv")
    assert "singular covariance matrix of the observed" not in r.err
    assert "divide 'iip_pre' by 1e+06" in r.err
    if r.code == 0:       # the fit itself is right: the path shrinks by 1e6
        rescaled = ap.fit(SPECS / "serial_esat_anx.lav", example_clients)
        big = ap.fit(SPECS / "serial_esat_anx.lav",
                     example_clients.assign(iip_pre=example_clients["iip_pre"] * 1e6))
        get = lambda res: res.estimates.set_index(["lhs", "op", "rhs"]).loc[
            ("iip_post", "~", "iip_pre"), "est"]
        assert get(big) * 1e6 == pytest.approx(get(rescaled), rel=1e-4)
