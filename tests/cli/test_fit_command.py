"""`attachpath fit` and `attachpath check` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main
from attachpath.result import COLUMNS

SPEC = Path(__file__).resolve().parents[2] / "specs" / "serial_esat_anx.lav"
FIT_NAMES = ["npar", "ntotal", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi",
             "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "logl",
             "unrestricted.logl", "aic", "bic"]
CLUSTER_NAMES = ["nclusters", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
                 "baseline.chisq.scaled", "cfi.robust", "tli.robust", "rmsea.robust"]


@pytest.fixture(scope="module")
def clients_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "clients.csv"
    ap.datasets.load_example_clients().to_csv(path, index=False)
    return path


def test_fit_writes_estimates_fit_json_diagram_and_report(clients_csv, tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["fit", str(SPEC), "--data", str(clients_csv), "--cluster", "therapist",
                 "--mc", "20000", "--seed", "3", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "cluster-robust" in printed and "anx_ge := a_anx*b_ge*c_ge" in printed
    est = pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""])
    assert list(est.columns) == COLUMNS
    assert set(est["op"]) == {"~", "~~", "~1", ":="}
    fit = json.loads((out / "fit.json").read_text())
    for name in FIT_NAMES + CLUSTER_NAMES:
        assert isinstance(fit[name], (int, float)), name
    assert fit["nclusters"] == 44
    assert fit["ci"]["defined"].startswith("Monte Carlo (20000 draws")
    assert fit["provenance"]["options"]["seed"] == 3
    for name in ("diagram.svg", "diagram.dot", "report.html", "report.md"):
        assert (out / name).stat().st_size > 0, name
    assert "<svg" in (out / "report.html").read_text()
    assert not list(out.glob(".*.tmp"))


def test_same_seed_same_bytes(clients_csv, tmp_path):
    runs = []
    for name in ("a", "b"):
        assert main(["fit", str(SPEC), "--data", str(clients_csv), "--cluster", "therapist",
                     "--se", "bootstrap", "--bootstrap", "200", "--seed", "8",
                     "--out", str(tmp_path / name)]) == 0
        runs.append((tmp_path / name / "estimates.csv").read_bytes())
    assert runs[0] == runs[1]


def test_check_reports_the_model_without_fitting(capsys):
    assert main(["check", str(SPEC)]) == 0
    out = capsys.readouterr().out
    assert "7 observed and 0 latent variables, 11 free parameters, 6 defined" in out


def test_check_against_data_names_a_misspelt_variable(clients_csv, tmp_path, capsys):
    spec = tmp_path / "typo.lav"
    spec.write_text("esat_anx ~ ecr_anx\ntds_ge ~ esat_anxx\n")
    assert main(["check", str(spec), "--data", str(clients_csv)]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:2:10" in err and "'esat_anxx'" in err and "Did you mean 'esat_anx'" in err
    assert "Traceback" not in err


def test_result_renders_in_notebooks():
    res = ap.fit("tds_ge ~ esat_anx", ap.datasets.load_example_clients())
    html = res._repr_html_()
    assert "<table" in html and "esat_anx" in html


def test_small_sample_flags_reach_the_fit(clients_csv, tmp_path, capsys):
    """--cluster-se cr2 --ci-dist t: the CR2 sandwich and t(G−1) intervals,
    the same numbers as the API's cluster_se/ci_dist (tests/estimate/
    test_small_sample.py checks those against clubSandwich)."""
    out = tmp_path / "cr2"
    code = main(["fit", str(SPEC), "--data", str(clients_csv), "--cluster", "therapist",
                 "--cluster-se", "cr2", "--ci-dist", "t", "--out", str(out)])
    assert code == 0
    assert "t(43)" in capsys.readouterr().out
    est = pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""])
    ref = ap.fit(str(SPEC), ap.datasets.load_example_clients(), cluster="therapist",
                 cluster_se="cr2", ci_dist="t").estimates
    cr1 = ap.fit(str(SPEC), ap.datasets.load_example_clients(), cluster="therapist").estimates
    free = ref["se"] > 0
    assert est["se"][free].to_numpy() == pytest.approx(ref["se"][free].to_numpy(), rel=1e-6)
    assert not est["se"][free].to_numpy() == pytest.approx(cr1["se"][free].to_numpy(), rel=1e-4)


def test_small_sample_flags_without_a_cluster_exit_2(clients_csv, capsys):
    code = main(["fit", str(SPEC), "--data", str(clients_csv), "--cluster-se", "cr2"])
    assert code == 2
    assert "--cluster-se cr2" in capsys.readouterr().err


THREE_LEVEL = """
level: 1
  tds_ge ~ cats_secure
level: 2
  cats_secure ~ a*ecr_anx
  tds_ge ~ b*cats_secure
  ab := a*b
"""


def test_three_level_fits_default_to_t_and_ci_dist_normal_gives_mplus(tmp_path, capsys):
    """--ci-dist auto (default): t(G−1) for --cluster therapist/client, said
    in the summary, fit.json and the report; --ci-dist normal: Mplus' z."""
    from attachpath.simulate import simulate
    sessions = tmp_path / "sessions.csv"
    simulate(seed=21, n_therapists=20, n_clients=100, max_sessions=5).sessions.to_csv(
        sessions, index=False)
    spec = tmp_path / "m.lav"
    spec.write_text(THREE_LEVEL)
    fits = {}
    for name, extra in (("auto", []), ("normal", ["--ci-dist", "normal"])):
        out = tmp_path / name
        code = main(["fit", str(spec), "--data", str(sessions), "--cluster",
                     "therapist/client", "--out", str(out)] + extra)
        assert code == 0
        fits[name] = (capsys.readouterr().out, json.loads((out / "fit.json").read_text()),
                      (out / "report.md").read_text(),
                      pd.read_csv(out / "estimates.csv", keep_default_na=False, na_values=[""]))
    printed, fit, report, est = fits["auto"]
    assert "parameters t(19) (Wald)" in printed and "p-values from t(19)" in printed
    assert fit["ci"]["parameters"] == "t(19) (Wald)" and fit["ci"]["pvalues"] == "t(19)"
    assert "P-values from t(19)" in report
    assert "p-values and CIs from t(19)" in (tmp_path / "auto" / "diagram.dot").read_text()
    printed_n, fit_n, report_n, est_n = fits["normal"]
    assert fit_n["ci"]["parameters"] == "normal (Wald)" and "pvalues" not in fit_n["ci"]
    assert "t(19)" not in printed_n and "P-values from" not in report_n
    free = est["se"] > 0
    assert est["se"][free].to_numpy() == pytest.approx(est_n["se"][free].to_numpy(), rel=1e-12)
    w, w_n = ((e["ci.upper"] - e["ci.lower"])[free] for e in (est, est_n))
    assert (w / w_n).to_numpy() == pytest.approx(2.093024 / 1.959964, rel=1e-5)
