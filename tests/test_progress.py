"""Progress bars (tqdm.auto) on the long loops, off with --quiet (issue 18, item 2)."""

from __future__ import annotations

import sys
import warnings

import pytest

import attachpath as ap
from attachpath import progress
from attachpath.cli import main

SPEC = "esat_anx ~ ecr_anx\ntds_ge ~ esat_anx\n"


def test_the_rule(monkeypatch):
    assert progress.enabled(True) and not progress.enabled(False)
    monkeypatch.setitem(sys.modules, "ipykernel", object())     # inside Jupyter
    assert progress.enabled(None)
    monkeypatch.delitem(sys.modules, "ipykernel")
    monkeypatch.setattr(sys, "stderr", open("/dev/null", "w"))  # a pipe or a log file
    assert not progress.enabled(None)


def test_bar_counts_to_the_total(capsys):
    bar = progress.Bar(40, "bootstrap", True)
    for i in range(1, 41):
        bar(i)
    err = capsys.readouterr().err
    assert "bootstrap" in err and "40/40" in err
    assert bar.bar is None                      # closed at the end


def _bootstrap_fit(show):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # semopy_method keeps the draw-by-draw refits (a closed-form model is vectorised)
        return ap.fit("f =~ cats_secure + cats_preoc + cats_avoid\ntds_ge ~ f\n",
                      ap.datasets.load_example_clients(), se="bootstrap", bootstrap=30,
                      seed=2, progress=show)


def test_bootstrap_shows_a_bar_with_an_eta(capsys):
    _bootstrap_fit(True)
    err = capsys.readouterr().err
    assert "bootstrap" in err and "30/30" in err and "<" in err    # elapsed<remaining


def test_bootstrap_is_silent_without_progress(capsys):
    _bootstrap_fit(False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", ["fit", "compare", "diagram"])
def test_quiet_is_an_option_of_the_long_commands(command):
    from attachpath.cli import build_parser
    argv = {"fit": ["fit", "m.lav", "--data", "d.csv"],
            "compare": ["compare", "a.lav", "b.lav", "--data", "d.csv", "--out", "o"],
            "diagram": ["diagram", "m.lav", "--out", "o.svg"]}[command]
    assert build_parser().parse_args(argv + ["--quiet"]).quiet is True


def test_cli_quiet_keeps_stderr_free_of_bars(tmp_path, capsys, monkeypatch):
    data = tmp_path / "clients.csv"
    ap.datasets.load_example_clients().to_csv(data, index=False)
    spec = tmp_path / "m.lav"
    spec.write_text("f =~ cats_secure + cats_preoc + cats_avoid\ntds_ge ~ f\n")
    monkeypatch.setattr(progress, "watching", lambda: True)     # as in a terminal
    assert main(["fit", str(spec), "--data", str(data), "--se", "bootstrap",
                 "--bootstrap", "20", "--seed", "1"]) == 0
    assert "20/20" in capsys.readouterr().err
    assert main(["fit", str(spec), "--data", str(data), "--se", "bootstrap",
                 "--bootstrap", "20", "--seed", "1", "--quiet"]) == 0
    assert "20/20" not in capsys.readouterr().err


def test_jupyter_without_ipywidgets_gets_the_text_bar(monkeypatch):
    import importlib.util

    from tqdm.std import tqdm as text_bar
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    assert progress._tqdm() is text_bar
