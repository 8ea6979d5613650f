import argparse
import json

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
