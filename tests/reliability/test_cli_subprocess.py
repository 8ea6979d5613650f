"""The real `attachpath` process: what reaches the terminal on bad input is
one clear message on stderr and an exit code, never a traceback (unless
--debug asks for it), and a failed run leaves the folder as it was."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from reliability_support import SPECS, assert_no_temp_files, assert_nothing_changed, snapshot


def attachpath(*args, cwd):
    env = dict(os.environ, PYTHONWARNINGS="default")   # no warning may leak either
    proc = subprocess.run([sys.executable, "-m", "attachpath.cli", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def folder(tmp_path, previous_run):
    shutil.copy(previous_run / "clients.csv", tmp_path / "clients.csv")
    shutil.copytree(previous_run / "res", tmp_path / "res")
    shutil.copy(SPECS / "serial_esat_anx.lav", tmp_path / "serial_esat_anx.lav")
    return tmp_path


CASES = [
    ("spec-syntax", lambda d: (d / "m.lav").write_text("tds_ge ~ esat_anx +\n"),
     ["fit", "m.lav", "--data", "clients.csv", "--out", "res"], 2, "m.lav:1:19"),
    ("data-non-numeric", lambda d: (d / "x.csv").write_text(
        # the 6th field of the first row: tds_ge, a model variable
        re.sub(r"\n((?:[^,]*,){5})[^,]*,", r"\n\1abc,", (d / "clients.csv").read_text(),
               count=1)),
     ["fit", "serial_esat_anx.lav", "--data", "x.csv", "--out", "res"], 2,
     "'tds_ge' has a non-numeric value 'abc' at row 1"),
    ("data-missing", lambda d: None,
     ["fit", "serial_esat_anx.lav", "--data", "nope.csv", "--out", "res"], 2, "does not exist"),
    ("usage", lambda d: None,
     ["fit", "serial_esat_anx.lav", "--data", "clients.csv", "--level", "95"], 2, "0.95"),
    ("unidentified", lambda d: (d / "m.lav").write_text("f =~ cats_secure + tds_ge\n"),
     ["fit", "m.lav", "--data", "clients.csv", "--out", "res"], 2, "df = -1"),
    ("nonconvergence", lambda d: _write_two_factors(d),
     ["fit", "f.lav", "--data", "two.csv", "--out", "res"], 1, "gradient norm"),
]


def _write_two_factors(d):
    from test_failed_fits import two_factor_data
    two_factor_data().to_csv(d / "two.csv", index=False)
    (d / "f.lav").write_text("f1 =~ a1 + a2\nf2 =~ b1 + b2\n")


@pytest.mark.parametrize("setup,argv,code,needle", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_no_traceback_reaches_the_terminal(folder, setup, argv, code, needle):
    setup(folder)
    before = snapshot(folder)
    rc, out, err = attachpath(*argv, cwd=folder)
    assert rc == code, err
    assert needle in err
    assert "Traceback" not in err + out
    assert "Warning:" not in err           # no raw Python warning lines
    assert err.startswith("attachpath"), err
    assert_nothing_changed(before, snapshot(folder))
    assert_no_temp_files(folder)


def test_debug_shows_the_traceback(folder):
    (folder / "m.lav").write_text("tds_ge ~ esat_anx +\n")
    rc, out, err = attachpath("--debug", "check", "m.lav", cwd=folder)
    assert rc == 2 and "Traceback" in err and "m.lav:1:19" in err


def test_success_exit_0_and_warnings_as_plain_lines(folder):
    few = "\n".join(line for k, line in enumerate((folder / "clients.csv").read_text()
                                                   .splitlines())
                    if k == 0 or int(line.split(",")[1]) <= 12)
    (folder / "few.csv").write_text(few + "\n")
    rc, out, err = attachpath("fit", "serial_esat_anx.lav", "--data", "few.csv",
                              "--cluster", "therapist", "--out", "res", cwd=folder)
    assert rc == 0, err
    assert "Wrote estimates.csv, standardized.csv, fit.json" in out
    std = pd.read_csv(folder / "res" / "standardized.csv")
    assert list(std.columns) == ["lhs", "op", "rhs", "label", "est.std", "se", "z", "pvalue",
                                 "ci.lower", "ci.upper"]
    abc = std[std.op == ":="].set_index("lhs")
    assert abc["se"].gt(0).all() and (abc["ci.lower"] < abc["est.std"]).all()
    assert "attachpath: warning: Only 12 clusters" in err
    assert "Traceback" not in err and "ClusterWarning" not in err
    assert_no_temp_files(folder)
