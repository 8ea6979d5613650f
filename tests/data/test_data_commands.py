import argparse
import json

import numpy as np
import pandas as pd
import pytest

from attachpath.cli import prepare as prepare_command, simulate as simulate_command
from attachpath.datasets import example_path, load_example
from attachpath.errors import DataError, OutputError


def run(argv):
    parser = argparse.ArgumentParser(prog="attachpath")
    sub = parser.add_subparsers(dest="command")
    prepare_command.add_command(sub)
    simulate_command.add_command(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_prepare_example_with_esat_and_within(tmp_path, capsys):
    out, within = tmp_path / "clients.csv", tmp_path / "within.csv"
    code = run(["prepare", str(example_path()), "--client", "client", "--therapist",
                "therapist", "--session", "session", "--esat", "--within", str(within),
                "--out", str(out)])
    assert code == 0
    clients = pd.read_csv(out)
    assert len(clients) == 330 and {"esat_anx", "esat_avoid"} <= set(clients.columns)
    assert len(pd.read_csv(within)) == len(load_example())
    text = capsys.readouterr().out
    assert "330 clients of 44 therapists" in text and str(out) in text


def test_prepare_refuses_to_overwrite_input(tmp_path):
    src = tmp_path / "s.csv"
    load_example().head(20).to_csv(src, index=False)
    before = src.read_bytes()
    with pytest.raises(OutputError, match="is the input file"):
        run(["prepare", str(src), "--out", str(tmp_path / "." / "s.csv")])
    with pytest.raises(OutputError, match="--within"):
        run(["prepare", str(src), "--within", str(src), "--out", str(tmp_path / "o.csv")])
    assert src.read_bytes() == before


def test_prepare_writes_nothing_when_a_check_fails(tmp_path):
    src = tmp_path / "s.csv"
    pd.DataFrame({"therapist": [1, 2], "client": [5, 5], "x": [1.0, 2.0]}).to_csv(
        src, index=False)
    out, within = tmp_path / "clients.csv", tmp_path / "within.csv"
    with pytest.raises(DataError, match="Client 5"):
        run(["prepare", str(src), "--within", str(within), "--out", str(out)])
    assert not out.exists() and not within.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_prepare_esat_needs_cats_columns(tmp_path):
    src = tmp_path / "s.csv"
    pd.DataFrame({"therapist": [1, 1], "client": [5, 5], "x": [1.0, 2.0]}).to_csv(
        src, index=False)
    with pytest.raises(DataError, match="cats_secure"):
        run(["prepare", str(src), "--esat", "--out", str(tmp_path / "o.csv")])
    assert not (tmp_path / "o.csv").exists()


def test_prepare_variable_lists(tmp_path):
    out = tmp_path / "o.csv"
    run(["prepare", str(example_path()), "--session-vars", "cats_secure,tds_ge",
         "--client-vars", "ecr_anx", "--out", str(out)])
    assert list(pd.read_csv(out).columns) == [
        "client", "therapist", "cats_secure", "tds_ge", "cats_secure_n", "tds_ge_n",
        "n_sessions", "ecr_anx"]


def test_simulate_command(tmp_path, capsys):
    code = run(["simulate", "--seed", "3", "--out", str(tmp_path / "sim"),
                "--therapists", "10", "--clients", "40"])
    assert code == 0
    sessions = pd.read_csv(tmp_path / "sim" / "sessions.csv")
    assert sessions["client"].nunique() == 40 and sessions["therapist"].nunique() == 10
    truth = json.loads((tmp_path / "sim" / "truth.json").read_text())
    assert truth["params"]["seed"] == 3
    assert "indirect a*b*c" in capsys.readouterr().out


def test_simulate_bad_design_is_an_attachpath_error(tmp_path):
    with pytest.raises(DataError, match="at least twice"):
        run(["simulate", "--seed", "1", "--out", str(tmp_path / "x"), "--clients", "10"])
    assert not (tmp_path / "x").exists()


def test_prepare_esat_with_other_column_names(tmp_path):
    """Differently named CATS columns (issue 18, item 7): same scores as the defaults."""
    renamed = load_example().rename(columns={"cats_secure": "SEC", "cats_preoc": "PRE",
                                             "cats_avoid": "AVO"})
    src = tmp_path / "renamed.csv"
    renamed.to_csv(src, index=False)
    assert run(["prepare", str(src), "--session", "session", "--esat-secure", "SEC",
                "--esat-preoccupied", "PRE", "--esat-avoidant", "AVO",
                "--out", str(tmp_path / "renamed_clients.csv")]) == 0
    assert run(["prepare", str(example_path()), "--session", "session", "--esat",
                "--out", str(tmp_path / "clients.csv")]) == 0
    a = pd.read_csv(tmp_path / "renamed_clients.csv")
    b = pd.read_csv(tmp_path / "clients.csv")
    for col in ("esat_anx", "esat_avoid"):
        assert np.allclose(a[col], b[col], rtol=0, atol=1e-12)      # same regression
    with pytest.raises(DataError, match="'cats_secure'"):
        run(["prepare", str(src), "--esat", "--out", str(tmp_path / "x.csv")])


LABELS = {"ecr_anx": "ECR anxiety", "tds_ge": "Growing engagement",
          "cats_secure": "CATS secure"}


def _sav_sessions(tmp_path):
    import pyreadstat
    path = tmp_path / "sessions.sav"
    pyreadstat.write_sav(load_example(), str(path), column_labels=[
        LABELS.get(c, "") for c in load_example().columns])
    return path


def test_prepare_keeps_spss_labels_in_a_sav_output(tmp_path, capsys):
    """Issue 18, item 3: prepare → .sav keeps the labels for fit and report."""
    from attachpath.data.io import read_data
    out = tmp_path / "clients.sav"
    assert run(["prepare", str(_sav_sessions(tmp_path)), "--session", "session", "--esat",
                "--out", str(out)]) == 0
    assert "kept in the SPSS file" in capsys.readouterr().out
    ds = read_data(out)
    assert ds.labels["ecr_anx"] == "ECR anxiety"            # a client-level variable
    for col in ("tds_ge", "cats_secure"):                   # session variables: means
        assert ds.labels[col] == f"{LABELS[col]} (client mean)"
    assert ds.labels["tds_ge_n"] == "Growing engagement: sessions"
    assert ds.labels["esat_anx"].startswith("ESAT anxiety")
    assert len(ds.frame) == 330


def test_prepare_to_csv_says_where_the_labels_go(tmp_path, capsys):
    assert run(["prepare", str(_sav_sessions(tmp_path)), "--session", "session",
                "--out", str(tmp_path / "clients.csv")]) == 0
    assert "use --out clients.sav to keep them" in capsys.readouterr().out


def test_labels_reach_fit_report_and_diagram(tmp_path, capsys):
    from attachpath.cli import main
    out = tmp_path / "clients.sav"
    assert run(["prepare", str(_sav_sessions(tmp_path)), "--session", "session", "--esat",
                "--out", str(out)]) == 0
    spec = tmp_path / "m.lav"
    spec.write_text("tds_ge ~ cats_secure + ecr_anx\n")
    capsys.readouterr()
    assert main(["fit", str(spec), "--data", str(out), "--cluster", "therapist",
                 "--out", str(tmp_path / "res")]) == 0
    printed = capsys.readouterr().out
    assert "Variable labels (from the data): " in printed
    assert "tds_ge = Growing engagement" in printed and "ecr_anx = ECR anxiety" in printed
    report = (tmp_path / "res" / "report.md").read_text()
    assert "ECR anxiety \u2192 Growing engagement" in report
    assert "Growing engagement" in (tmp_path / "res" / "diagram.svg").read_text()
    assert main(["fit", str(spec), "--data", str(out), "--cluster", "therapist",
                 "--labels", "names", "--out", str(tmp_path / "names")]) == 0
    assert "Variable labels" not in capsys.readouterr().out
    report = (tmp_path / "names" / "report.md").read_text()
    assert "ECR anxiety" not in report and "ecr_anx \u2192 tds_ge" in report


def _typo_sessions(tmp_path):
    """The example sessions with one mistyped pretreatment score (client 17)."""
    data = load_example()
    rows = (data["client"] == 17).to_numpy().nonzero()[0]
    data.loc[rows[1], "ecr_anx"] = 3.7
    path = tmp_path / "typo.csv"
    data.to_csv(path, index=False)
    return path, float(data.loc[rows[0], "ecr_anx"])


def test_prepare_refuses_a_client_variable_with_an_entry_error(tmp_path, capsys):
    """Issue 17.2: averaged silently before, exit 0."""
    from attachpath.cli import main
    path, right = _typo_sessions(tmp_path)
    out = tmp_path / "clients.csv"
    assert main(["prepare", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'ecr_anx'" in err and "client 17" in err and f"{right:g}" in err and "3.7" in err
    assert "--session-vars" in err
    assert not out.exists()
    # declared session-level, it is averaged
    assert main(["prepare", str(path), "--out", str(out), "--session-vars",
                 "cats_secure,cats_avoid,cats_preoc,tds_ge,tds_ga,ecr_anx"]) == 0
    text = capsys.readouterr().out
    assert "Session-level (client means): cats_secure, cats_avoid, cats_preoc, tds_ge, " \
           "tds_ga, ecr_anx." in text
    assert "Client-level (carried over): ecr_avoid, iip_pre, iip_post, age, female." in text


def test_prepare_says_which_variables_are_at_which_level(tmp_path, capsys):
    assert run(["prepare", str(example_path()), "--out", str(tmp_path / "c.csv")]) == 0
    text = capsys.readouterr().out
    assert "Session-level (client means): cats_secure, cats_avoid, cats_preoc, tds_ge, tds_ga." in text
    assert "Client-level (carried over): ecr_anx, ecr_avoid, iip_pre, iip_post, age, female." in text


def test_api_names_every_client_with_an_entry_error(tmp_path):
    from attachpath.data.prepare import prepare
    data = load_example()
    for cid in (17, 40):
        rows = (data["client"] == cid).to_numpy().nonzero()[0]
        data.loc[rows[-1], "iip_pre"] = -1.0
    with pytest.raises(DataError, match=r"'iip_pre'.*varies within 2: client 17 .*-1.0.*client 40"):
        prepare(data)


@pytest.mark.parametrize("ext", [".sav", ".parquet", ".tsv"])
def test_prepare_writes_the_format_its_extension_names(tmp_path, ext):
    """Issue 17.11: CSV text under a .sav or .parquet name before."""
    import pyreadstat
    from attachpath.data.io import read_data
    sessions = tmp_path / "sessions.sav"
    pyreadstat.write_sav(load_example(), str(sessions),
                         column_labels={"ecr_anx": "ECR anxiety", "cats_secure": "CATS secure"})
    out, within = tmp_path / f"clients{ext}", tmp_path / f"within{ext}"
    assert run(["prepare", str(sessions), "--out", str(out), "--within", str(within)]) == 0
    clients = read_data(out)
    assert clients.frame.shape == (330, 19)
    assert read_data(within).frame.shape[0] == len(load_example())
    if ext == ".sav":
        assert clients.labels["ecr_anx"] == "ECR anxiety"
        assert clients.labels["cats_secure"] == "CATS secure (client mean)"
    assert run(["prepare", str(example_path()), "--out", str(tmp_path / "ref.csv")]) == 0
    ref = pd.read_csv(tmp_path / "ref.csv")
    pd.testing.assert_frame_equal(clients.frame[ref.columns].astype(float), ref.astype(float),
                                  rtol=1e-12, atol=1e-12)


def test_prepare_refuses_an_output_format_it_cannot_write(tmp_path):
    for name in ("clients.xlsx", "clients"):
        with pytest.raises(OutputError, match="the extension names the format"):
            run(["prepare", str(example_path()), "--out", str(tmp_path / name)])
    assert list(tmp_path.iterdir()) == []
