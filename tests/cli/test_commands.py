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


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_a_commands_own_parser_is_the_full_parsers_part(name, capsys):
    # main builds the parser of the named command only: its help and what it
    # parses must be the full parser's
    def help_of(parser):
        with pytest.raises(SystemExit):
            parser.parse_args([name, "--help"])
        return capsys.readouterr().out
    full, own = build_parser(), build_parser(only=name)
    assert help_of(own) == help_of(full) and "usage: attachpath " + name in help_of(own)
    own_sub = next(a for a in own._actions if a.dest == "command")
    assert list(own_sub.choices) == [name]
    full_sub = next(a for a in full._actions if a.dest == "command")
    defaults = {a.dest: a.default for a in full_sub.choices[name]._actions}
    assert defaults == {a.dest: a.default for a in own_sub.choices[name]._actions}


def test_main_names_the_command_after_global_options():
    assert cli._command_named(["--debug", "fit", "m.lav", "--data", "d.csv"]) == "fit"
    assert cli._command_named(["--version"]) is None
    assert cli._command_named(["fitt", "x"]) == "fitt"      # not a command: the full parser


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


def _wrote(printed: str, out: Path) -> list[str]:
    """The files of the 'Wrote a, b to DIR' line."""
    line = next(x for x in printed.splitlines() if x.startswith("Wrote "))
    assert line.endswith(f" to {out}"), line
    return line[len("Wrote "):-len(f" to {out}")].split(", ")


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
@pytest.mark.parametrize("asked", [["--pdf"], ["--png"], ["--pdf", "--png"]])
def test_fit_out_writes_the_pdf_and_the_png_only_on_request(clients, tmp_path, capsys,
                                                            asked):
    """diagram.pdf and diagram.png (Graphviz's renders: 0.06 and 0.2 s CPU,
    a tenth and a quarter of a fit) are written on request only; the SVG
    and DOT always.  The Wrote line names exactly the files in the folder."""
    data = tmp_path / "clients.csv"
    clients.to_csv(data, index=False)
    argv = ["fit", str(SPEC), "--data", str(data), "--cluster", "therapist", "--mc", "0"]
    plain, more = tmp_path / "plain", tmp_path / "more"
    assert main([*argv, "--out", str(plain)]) == 0
    wrote = _wrote(capsys.readouterr().out, plain)
    assert sorted(wrote) == sorted(p.name for p in plain.iterdir())
    assert {"diagram.svg", "diagram.dot"} <= set(wrote)
    assert not {"diagram.pdf", "diagram.png"} & set(wrote)

    assert main([*argv, "--out", str(more), *asked]) == 0
    wrote_more = _wrote(capsys.readouterr().out, more)
    added = [f"diagram.{a[2:]}" for a in asked]
    assert sorted(wrote_more) == sorted(p.name for p in more.iterdir())
    assert sorted(wrote_more) == sorted(wrote + added)
    magic = {"diagram.pdf": b"%PDF-", "diagram.png": b"\x89PNG\r\n\x1a\n"}
    for f in added:
        assert (more / f).read_bytes().startswith(magic[f]), f
    for f in wrote:                      # the renders change nothing else
        assert (more / f).read_bytes() == (plain / f).read_bytes(), f


@pytest.mark.parametrize("asked", ["--pdf", "--png"])
def test_fit_render_without_graphviz_warns_and_fits(clients, tmp_path, capsys, monkeypatch,
                                                    asked):
    """--pdf or --png on a machine without dot: a warning naming Graphviz, no
    failure, and the Wrote line lists no PDF or PNG."""
    import attachpath.diagram as dg
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k:
                        None if name == "dot" else real(name, *a, **k))
    monkeypatch.setattr(dg, "_warned_no_dot", False)
    data = tmp_path / "clients.csv"
    clients.to_csv(data, index=False)
    out = tmp_path / "res"
    assert main(["fit", str(SPEC), "--data", str(data), "--mc", "0", "--out", str(out),
                 asked]) == 0
    printed = capsys.readouterr()
    assert "Graphviz's 'dot' program is not installed" in printed.err
    wrote = _wrote(printed.out, out)
    assert sorted(wrote) == sorted(p.name for p in out.iterdir())
    assert {"diagram.svg", "diagram.dot", "estimates.csv"} <= set(wrote)
    assert not {"diagram.pdf", "diagram.png"} & set(wrote)


@pytest.mark.parametrize("asked", ["--pdf", "--png"])
@pytest.mark.parametrize("argv", [
    ["fit", str(SPEC), "--data", "clients.csv"],
    ["compare", str(SPEC), str(SPEC), "--data", "clients.csv", "--group", "g", "--out",
     "o"]])
def test_a_render_where_no_diagram_is_written_is_refused(argv, asked, tmp_path, capsys,
                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, asked]) == 2
    err = capsys.readouterr().err
    assert asked in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_render_flags_are_the_diagrams_renders():
    # cli/options writes the renders out (no diagram import for --help)
    from attachpath.cli.options import renders_of
    from attachpath.diagram import RENDERS
    args = build_parser(only="fit").parse_args(["fit", "m.lav", "--data", "d.csv",
                                                *(f"--{r}" for r in RENDERS)])
    assert renders_of(args) == RENDERS


def test_a_fit_out_runs_no_graphviz(clients, tmp_path, capsys, monkeypatch):
    """Without --pdf/--png, fit --out never starts dot: its files are the same
    on a machine with Graphviz and without, and no warning is printed."""
    import subprocess
    started = []
    real = subprocess.Popen

    def spy(cmd, *a, **k):
        started.append(cmd)
        return real(cmd, *a, **k)
    monkeypatch.setattr(subprocess, "Popen", spy)
    data = tmp_path / "clients.csv"
    clients.to_csv(data, index=False)
    assert main(["fit", str(SPEC), "--data", str(data), "--mc", "0", "--out",
                 str(tmp_path / "res")]) == 0
    assert started == []
    assert "warning" not in capsys.readouterr().err


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
