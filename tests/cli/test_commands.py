"""The cli/ package as a user meets it (issue 18, items 4, 5, 6, 10, 12)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import attachpath as ap
from attachpath import cli
from attachpath.cli import build_parser, main
from attachpath.errors import InternalError, OptionError

SPEC = Path(__file__).resolve().parents[2] / "specs" / "serial_esat_anx.lav"


@pytest.fixture(scope="module")
def clients():
    return ap.datasets.load_example_clients()


def test_every_command_is_registered():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(sub.choices) == list(cli.COMMANDS)
    assert set(cli.COMMANDS) >= {"fit", "check", "prepare", "simulate", "diagram", "compare", "demo"}


def test_a_broken_command_module_is_an_error_not_a_missing_command(monkeypatch):
    monkeypatch.setattr(cli, "COMMANDS", cli.COMMANDS + ("no_such_command",))
    with pytest.raises(ModuleNotFoundError):
        build_parser()


def test_european_csv_fits_like_the_plain_one(clients, tmp_path, capsys):
    plain, euro = tmp_path / "clients.csv", tmp_path / "excel.csv"
    clients.to_csv(plain, index=False)
    clients.to_csv(euro, index=False, sep=";", decimal=",")
    assert main(["fit", str(SPEC), "--data", str(plain), "--out", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    assert main(["fit", str(SPEC), "--data", str(euro), "--out", str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert f"Read '{euro}' as a semicolon-separated with decimal commas file" in err
    a = pd.read_csv(tmp_path / "a" / "estimates.csv")
    b = pd.read_csv(tmp_path / "b" / "estimates.csv")
    # the same numbers: the decimal-comma file holds the same values
    assert (a["est"] - b["est"]).abs().max() < 1e-9


def test_fit_style_lavaan(clients, tmp_path, capsys):
    data = tmp_path / "clients.csv"
    clients.to_csv(data, index=False)
    assert main(["fit", str(SPEC), "--data", str(data), "--cluster", "therapist",
                 "--style", "lavaan"]) == 0
    out = capsys.readouterr().out
    assert "Regressions:" in out and "Defined Parameters:" in out and "P(>|z|)" in out


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_fit_out_writes_pdf_and_png_with_graphviz(clients, tmp_path):
    data = tmp_path / "clients.csv"
    clients.to_csv(data, index=False)
    out = tmp_path / "res"
    assert main(["fit", str(SPEC), "--data", str(data), "--cluster", "therapist",
                 "--out", str(out)]) == 0
    assert (out / "diagram.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "diagram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_warnings_are_printed_once(clients, tmp_path, capsys):
    few = clients[clients["therapist"].isin(sorted(clients["therapist"].unique())[:20])]
    data = tmp_path / "few.csv"
    few.to_csv(data, index=False)
    assert main(["fit", str(SPEC), "--data", str(data), "--cluster", "therapist",
                 "--out", str(tmp_path / "res")]) == 0
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("attachpath: warning:")]
    assert any("Only 20 clusters" in x for x in lines)
    assert len(lines) == len(set(lines))


def test_option_errors_exit_2_without_traceback(tmp_path, capsys):
    assert main(["check", str(SPEC), "--cluster", "therapist"]) == 2
    err = capsys.readouterr().err
    assert "--cluster needs --data" in err and "Traceback" not in err
    assert issubclass(OptionError, ap.AttachpathError)


def test_internal_error_asks_for_a_bug_report():
    e = InternalError("semopy lost the parameter y~x.")
    assert e.exit_code == 1 and "bug in attachpath; please report it" in str(e)
