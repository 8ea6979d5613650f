"""Bad specs, bad data, bad options and failed fits, as a new user makes them.

Each case runs `attachpath ...` in-process in a user's folder (the bundled
example as clients.csv and sessions.csv, the study's specs, and res/ from an
earlier successful fit) and checks:

* the exit code (2 bad input or usage, 1 estimation failed);
* stderr names the culprit (file:line:col for specs; column, row and value
  for data; the closest name for a misspelt one) and says what to do;
* no traceback and no "internal error";
* nothing was written or changed: every file of the folder (inputs, the
  earlier res/estimates.csv) is byte-identical with the same mtime, and no
  new file, folder or temporary file appeared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

from reliability_support import SPECS, assert_no_temp_files, assert_nothing_changed


@dataclass
class Case:
    id: str
    setup: Callable          # (work, clients) -> argv
    code: int
    needles: tuple           # substrings stderr must contain
    absent: tuple = field(default=())   # substrings it must not contain


def spec_case(id, text, needles, *, command="check", code=2, data=True):
    def setup(w, c):
        w.write("bad.lav", text)
        argv = [command, "bad.lav"]
        if data or command == "fit":
            argv += ["--data", "clients.csv"]
        if command == "fit":
            argv += ["--out", "res"]
        return argv
    return Case(id, setup, code, needles)


def data_case(id, make, needles, *, cluster=None, spec="serial_esat_anx.lav", code=2,
              name="bad.csv"):
    def setup(w, c):
        out = make(w, c.copy())
        fname = out if isinstance(out, str) else w.csv(name, out)
        argv = ["fit", spec, "--data", fname, "--out", "res"]
        if cluster:
            argv += ["--cluster", cluster]
        return argv
    return Case(id, setup, code, needles)


def where(spec: str, name: str) -> str:
    """'line:col' of the first statement of SPECS/spec that uses `name`
    (comments skipped), as an error about `name` reports it."""
    for k, line in enumerate((SPECS / spec).read_text().splitlines(), start=1):
        m = re.search(rf"\b{name}\b", line.split("#", 1)[0])
        if m:
            return f"{k}:{m.start() + 1}"
    raise AssertionError(f"{name} not in {spec}")


def _set(frame, col, row, value):
    frame[col] = frame[col].astype(object)
    frame.loc[row, col] = value
    return frame


SPEC_CASES = [
    spec_case("unknown-operator", "tds_ge = esat_anx\n",
              ("bad.lav:1:8", "'='", "'~' for a regression")),
    spec_case("arrow-operator", "esat_anx -> tds_ge\n",
              ("bad.lav:1:10", "'->'", "'y ~ x'")),
    spec_case("typo-operator", "tds_ge ~> esat_anx\n",
              ("bad.lav:1:8", "'~>'", "Did you mean '~'?")),
    spec_case("dangling-plus", "tds_ge ~ esat_anx +\n",
              ("bad.lav:1:19", "'+' has nothing after it")),
    spec_case("double-plus", "tds_ge ~ esat_anx + + ecr_anx\n",
              ("bad.lav:1:21", "nothing between this '+'")),
    spec_case("missing-term", "tds_ge ~\n",
              ("bad.lav:1:8", "nothing on its right")),
    spec_case("missing-lhs", "~ ecr_anx\ntds_ge ~ esat_anx\n",
              ("bad.lav:1:1", "nothing on its left")),
    spec_case("line-starting-with-operator", "tds_ge ~ esat_anx\n~ ecr_anx\n",
              ("bad.lav:2:1", "second operator", "own line")),
    spec_case("label-starts-with-digit", "tds_ge ~ 1a*esat_anx\n",
              ("bad.lav:1:10", "'1a'", "'1*a'")),
    spec_case("reserved-label", "tds_ge ~ TRUE*esat_anx\n",
              ("bad.lav:1:10", "'TRUE'", "reserved word")),
    spec_case("bad-modifier", "tds_ge ~ a-b*esat_anx\n",
              ("bad.lav:1:10", "'a-b' is not a modifier")),
    spec_case("unclosed-paren-definition", "tds_ge ~ a*esat_anx\nab := (a*2\n",
              ("bad.lav:2:7", "'(' is never closed")),
    spec_case("unclosed-start", "tds_ge ~ start(0.3*esat_anx\n",
              ("bad.lav:1:15", "'(' is never closed")),
    spec_case("stray-close-paren", "tds_ge ~ esat_anx)\n",
              ("bad.lav:1:18", "')' has no matching '('")),
    spec_case("undefined-label-in-definition",
              "tds_ge ~ a*esat_anx\niip_post ~ b*tds_ge\nab := a*bb\n",
              ("bad.lav:3:9", "'bb'", "neither a parameter label", "Did you mean 'b'?")),
    spec_case("definition-used-before-defined",
              "tds_ge ~ a*esat_anx\niip_post ~ b*tds_ge\ntot := ab + a\nab := a*b\n",
              ("bad.lav:3:8", "'ab'", "defined only later, on line 4")),
    spec_case("empty-spec", "", ("bad.lav", "empty", "y ~ x")),
    spec_case("comments-only", "# the model comes later\n\n", ("bad.lav", "empty")),
    spec_case("curly-quotes", "tds_ge ~ label(\u201ca\u201d)*esat_anx\n",
              ("bad.lav:1:16", "curly quotes", "straight")),
    spec_case("two-operators", "tds_ge ~ esat_anx ~ ecr_anx\n",
              ("bad.lav:1:19", "second operator")),
    spec_case("repeated-statement", "tds_ge ~ esat_anx\ntds_ge ~ esat_anx\n",
              ("bad.lav:2:10", "already appears on line 1")),
    spec_case("level-block", "level: 1\ntds_ge ~ esat_anx\n",
              ("bad.lav", "only one level", "level: 2")),
    spec_case("group-block", "group: 1\ntds_ge ~ esat_anx\n",
              ("bad.lav:1:1", "'group:' block", "not support")),
    spec_case("inequality-constraint", "tds_ge ~ a*esat_anx\na > zz\n",
              ("bad.lav:2:5", "'zz'", "neither a parameter label")),
    spec_case("self-regression", "tds_ge ~ tds_ge\n",
              ("bad.lav:1:10", "regressed on itself")),
    spec_case("negative-fixed-variance", "tds_ge ~ ecr_anx\ntds_ge ~~ -1*tds_ge\n",
              ("bad.lav:2:14", "cannot be negative")),
    spec_case("misspelt-variable", "tds_ge ~ esat_anxx\n",
              ("bad.lav:1:10", "'esat_anxx' is not a column", "Did you mean 'esat_anx'?")),
    spec_case("misspelt-variable-in-fit", "tds_ge ~ ecr_anx + ecr_avodi\n",
              ("bad.lav:1:20", "'ecr_avodi'", "Did you mean 'ecr_avoid'?"), command="fit"),
    spec_case("latent-never-defined", "f ~ ecr_anx\n",
              ("bad.lav:1:1", "'f' is not a column", "f =~")),
    spec_case("syntax-error-in-fit", "tds_ge ~ esat_anx +\n",
              ("bad.lav:1:19",), command="fit"),
]


def _binary_spec(w, c):
    w.write("model.lav", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return ["check", "model.lav"]


def _latin1_spec(w, c):
    w.write("model.lav", "# Modell f\u00fcr die Studie\ntds_ge ~ esat_anx\n".encode("latin-1"))
    return ["check", "model.lav"]


FILE_CASES = [
    Case("spec-file-missing", lambda w, c: ["fit", "serial_esat_anx_full.lav", "--data",
                                            "clients.csv", "--out", "res"],
         2, ("serial_esat_anx_full.lav", "does not exist", "looked in")),
    Case("spec-is-a-folder", lambda w, c: ["check", "res"], 2, ("'res' is a directory",)),
    Case("spec-and-data-swapped", lambda w, c: ["fit", "clients.csv", "--data",
                                                "serial_esat_anx.lav", "--out", "res"],
         2, ("'clients.csv' looks like a data file", "--data")),
    Case("spec-binary", _binary_spec, 2, ("model.lav", "binary")),
    Case("spec-latin1", _latin1_spec, 2, ("model.lav:1:", "not UTF-8", "save the file as UTF-8")),
    Case("spec-path-without-suffix", lambda w, c: ["check", "models/serial"], 2,
         ("models/serial", "does not exist")),
]


MODEL_CASES = [
    spec_case("factor-two-indicators-alone", "f =~ cats_secure + tds_ge\n",
              ("bad.lav", "df = -1", "not identified", "'f' has only 2 indicator"),
              command="fit"),
    spec_case("latent-without-scale", "f =~ NA*cats_secure + tds_ge + tds_ga\n",
              ("bad.lav", "'f' has no scale", "f ~~ 1*f"), command="fit"),
    spec_case("nonrecursive-not-identified",
              "tds_ge ~ tds_ga + ecr_anx\ntds_ga ~ tds_ge + ecr_anx\niip_post ~ ecr_avoid\n",
              ("bad.lav", "not identified although df = 4", "'tds_ge ~ tds_ga'",
               "'tds_ga ~ tds_ge'"), command="fit"),
    spec_case("unconnected-two-indicator-factor",
              "f1 =~ cats_secure + tds_ge + tds_ga\nf2 =~ iip_pre + iip_post\nf1 ~~ 0*f2\n",
              ("bad.lav", "not identified", "'f2 =~ iip_post'"), command="fit"),
    spec_case("residual-variance-fixed-at-zero", "tds_ge ~ ecr_anx\ntds_ge ~~ 0*tds_ge\n",
              ("bad.lav", "singular covariance matrix", "'tds_ge' is fixed at 0"),
              command="fit"),
    spec_case("unidentified-in-check", "f =~ cats_secure + tds_ge\n",
              ("bad.lav", "df = -1"), command="check"),
    spec_case("rank-deficient-in-check",
              "tds_ge ~ tds_ga + ecr_anx\ntds_ga ~ tds_ge + ecr_anx\niip_post ~ ecr_avoid\n",
              ("not identified although df",), command="check"),
]


def _tab_csv(w, c):
    c.to_csv(w.path / "tabs.csv", index=False, sep="\t")
    return "tabs.csv"


def _latin1_csv(w, c):
    text = c.head(40).assign(note="caf\u00e9").to_csv(index=False)
    w.write("latin.csv", text.encode("latin-1"))
    return "latin.csv"


def _ragged_csv(w, c):
    text = c.head(20).to_csv(index=False) + ",".join(["1"] * 25) + "\n"
    return w.write("ragged.csv", text)


def _extra_field_first_row(w, c):
    # pandas would take the first column as the index and shift every column
    header, first, rest = c.to_csv(index=False).split("\n", 2)
    return w.write("shifted.csv", f"{header}\n{first},7\n{rest}")


def _duplicate_header(w, c):
    text = c.to_csv(index=False)
    header, rest = text.split("\n", 1)
    return w.write("dup.csv", header.replace("tds_ga", "tds_ge", 1) + "\n" + rest)


DATA_CASES = [
    Case("data-missing", lambda w, c: ["fit", "serial_esat_anx.lav", "--data", "client.csv",
                                       "--out", "res"],
         2, ("'client.csv' does not exist", "looked in", "Did you mean 'clients.csv'?")),
    Case("data-is-a-folder", lambda w, c: ["fit", "serial_esat_anx.lav", "--data", "res",
                                           "--out", "res"], 2, ("'res' is a directory",)),
    data_case("data-excel", lambda w, c: w.write("clients.xlsx", b"PK\x03\x04xlsx"),
              ("'.xlsx'", "Save the sheet as CSV")),
    data_case("data-empty-file", lambda w, c: w.write("empty.csv", ""), ("'empty.csv' is empty",)),
    data_case("data-header-only", lambda w, c: w.write("head.csv", "client,therapist,tds_ge\n"),
              ("'head.csv' has column names but no rows",)),
    data_case("data-tab-separated-csv", lambda w, c: _tab_csv(w, c),
              ("tabs.csv", "tab-separated", ".tsv")),
    data_case("data-latin1", lambda w, c: _latin1_csv(w, c),
              ("latin.csv", "line 2", "0xe9", "Save it as UTF-8")),
    data_case("data-ragged-row", lambda w, c: _ragged_csv(w, c),
              ("ragged.csv", "line 22 has 25 fields", "header has 21")),
    data_case("data-duplicate-header", lambda w, c: _duplicate_header(w, c),
              ("'tds_ge' appears twice", "columns 6 and 7", "rename one")),
    data_case("data-garbage-parquet", lambda w, c: w.write("clients.parquet", b"not parquet"),
              ("clients.parquet", "as Parquet")),
    data_case("data-garbage-spss", lambda w, c: w.write("clients.sav", b"not spss"),
              ("clients.sav", "SPSS")),
    data_case("column-absent-renamed-case", lambda w, c: c.rename(columns={"tds_ge": "TDS_GE"}),
              (f"serial_esat_anx.lav:{where('serial_esat_anx.lav', 'tds_ge')}",
               "'tds_ge' is not a column", "Did you mean 'TDS_GE'?")),
    # iip_post is in the model as another variable, so it is not suggested for iip_pre
    data_case("column-absent-no-close-name", lambda w, c: c.drop(columns=["iip_pre"]),
              (f"serial_esat_anx.lav:{where('serial_esat_anx.lav', 'iip_pre')}",
               "'iip_pre' is not a column", "The data have:"), ),
    data_case("non-numeric-value", lambda w, c: _set(c, "tds_ge", 17, "n/a?"),
              ("'tds_ge'", "non-numeric value 'n/a?'", "row 18")),
    data_case("decimal-comma-value", lambda w, c: _set(c, "ecr_anx", 4, "3,5"),
              ("'ecr_anx'", "'3,5'", "row 5", "decimal comma: write 3.5")),
    data_case("missing-code-value", lambda w, c: _set(c, "iip_post", 0, "."),
              ("'iip_post'", "'.'", "row 1", "leave the cell empty or write NA")),
    data_case("extra-field-in-first-row", lambda w, c: _extra_field_first_row(w, c),
              ("shifted.csv", "line 2 has 22 fields", "header has 21", "stray comma")),
    data_case("infinite-value", lambda w, c: _set(c, "iip_pre", 9, np.inf),
              ("'iip_pre'", "infinite value (inf)", "row 10")),
    data_case("constant-column", lambda w, c: c.assign(iip_pre=2.0),
              ("'iip_pre' is constant", "2.0")),
    data_case("collinear-columns", lambda w, c: c.assign(ecr_avoid=2 * c["ecr_anx"] + 1),
              ("'ecr_anx' and 'ecr_avoid' are perfectly collinear", "drop one")),
    data_case("variable-all-missing", lambda w, c: c.assign(tds_ga=np.nan),
              ("No rows are left", "tds_ga: 330")),
    data_case("too-few-rows", lambda w, c: c.head(5), ("only 5 are left",)),
    data_case("cluster-absent", lambda w, c: c, ("cluster column 'therapst'",
                                                 "Did you mean 'therapist'?"), cluster="therapst"),
    data_case("cluster-missing-ids", lambda w, c: _set(c, "therapist", [3, 40], np.nan),
              ("cluster column 'therapist' has a missing id", "row 4", "2 rows"),
              cluster="therapist"),
    data_case("cluster-single", lambda w, c: c.assign(therapist="T1"),
              ("only one cluster", "'T1'"), cluster="therapist"),
]


def _prepared_input(w, c):
    return ["prepare", "clients.csv", "--out", "clients2.csv"]


USAGE_CASES = [
    Case("level-as-percent", lambda w, c: ["fit", "serial_esat_anx.lav", "--data", "clients.csv",
                                           "--level", "95", "--out", "res"],
         2, ("--level", "0.95")),
    Case("level-nan", lambda w, c: ["fit", "serial_esat_anx.lav", "--data", "clients.csv",
                                    "--level", "nan"], 2, ("--level",)),
    Case("negative-seed", lambda w, c: ["fit", "serial_esat_anx.lav", "--data", "clients.csv",
                                        "--mc", "100", "--seed", "-3"], 2, ("--seed", "-3")),
    Case("negative-mc", lambda w, c: ["fit", "serial_esat_anx.lav", "--data", "clients.csv",
                                      "--mc", "-1"], 2, ("--mc", "-1")),
    Case("one-bootstrap-draw", lambda w, c: ["fit", "serial_esat_anx.lav", "--data",
                                             "clients.csv", "--se", "bootstrap",
                                             "--bootstrap", "1", "--out", "res"],
         2, ("--bootstrap", "at least 2")),
    Case("unknown-se", lambda w, c: ["fit", "serial_esat_anx.lav", "--data", "clients.csv",
                                     "--se", "sandwich"], 2, ("invalid choice: 'sandwich'",)),
    Case("fit-without-data", lambda w, c: ["fit", "serial_esat_anx.lav"], 2,
         ("required", "--data")),
    Case("unknown-command", lambda w, c: ["estimate", "serial_esat_anx.lav"], 2,
         ("invalid choice: 'estimate'",)),
    Case("no-command", lambda w, c: [], 2, ("give a command",)),
    Case("out-is-a-file", lambda w, c: ["fit", "serial_esat_anx.lav", "--data", "clients.csv",
                                        "--out", "clients.csv"],
         2, ("--out 'clients.csv' is an existing file",)),
    Case("out-under-a-file", lambda w, c: ["fit", "serial_esat_anx.lav", "--data",
                                           "clients.csv", "--out", "clients.csv/res"],
         2, ("'clients.csv' is a file, not a directory",)),
    Case("check-cluster-without-data", lambda w, c: ["check", "serial_esat_anx.lav",
                                                     "--cluster", "therapist"],
         2, ("--cluster needs --data",)),
    Case("check-bad-cluster", lambda w, c: ["check", "serial_esat_anx.lav", "--data",
                                            "clients.csv", "--cluster", "therapists"],
         2, ("'therapists'", "Did you mean 'therapist'?")),
]


PREPARE_CASES = [
    Case("prepare-missing-input", lambda w, c: ["prepare", "session.csv", "--out", "prep.csv"],
         2, ("'session.csv' does not exist",)),
    Case("prepare-overwrite-input", lambda w, c: ["prepare", "sessions.csv", "--out",
                                                  "sessions.csv"],
         2, ("is the input file",)),
    Case("prepare-misspelt-client", lambda w, c: ["prepare", "sessions.csv", "--client",
                                                  "clientid", "--out", "prep.csv"],
         2, ("'clientid'", "Did you mean 'client'?")),
    Case("prepare-already-prepared", _prepared_input, 2, ("n_sessions", "already prepared")),
    Case("prepare-out-in-missing-folder", lambda w, c: ["prepare", "sessions.csv", "--out",
                                                        "nofolder/prep.csv"],
         2, ("'nofolder' does not exist",)),
    Case("prepare-out-is-a-folder", lambda w, c: ["prepare", "sessions.csv", "--out", "res"],
         2, ("'res'", "directory")),
]


SIMULATE_CASES = [
    Case("simulate-out-is-a-file", lambda w, c: ["simulate", "--seed", "1", "--out",
                                                 "clients.csv"],
         2, ("'clients.csv'", "not a directory")),
    Case("simulate-negative-seed", lambda w, c: ["simulate", "--seed", "-1", "--out", "res"],
         2, ("--seed",)),
    Case("simulate-no-therapists", lambda w, c: ["simulate", "--seed", "1", "--therapists", "0",
                                                 "--out", "res"],
         2, ("n_therapists", "0")),
    Case("simulate-too-few-clients", lambda w, c: ["simulate", "--seed", "1", "--clients", "5",
                                                   "--therapists", "10", "--out", "res"],
         2, ("5 clients for 10 therapists",)),
    Case("simulate-sessions-reversed", lambda w, c: ["simulate", "--seed", "1",
                                                     "--min-sessions", "5", "--max-sessions",
                                                     "2", "--out", "res"],
         2, ("min_sessions <= max_sessions",)),
]


COMPARE_CASES = [
    Case("compare-one-spec", lambda w, c: ["compare", "serial_esat_anx.lav", "--data",
                                           "clients.csv", "--out", "res"],
         2, ("at least two specs",)),
    Case("compare-spec-error", lambda w, c: [
        "compare", "serial_esat_anx.lav", w.write("bad.lav", "tds_ge ~ esat_anx +\n"),
        "--data", "clients.csv", "--out", "res"], 2, ("bad.lav:1:19",)),
    Case("compare-unidentified", lambda w, c: [
        "compare", "serial_esat_anx.lav", w.write("bad.lav", "f =~ cats_secure + tds_ge\n"),
        "--data", "clients.csv", "--out", "res"], 2, ("bad.lav", "df = -1")),
    Case("compare-misspelt-cluster", lambda w, c: [
        "compare", "serial_esat_anx.lav", "parallel_esat_anx.lav", "--data", "clients.csv",
        "--cluster", "Therapist", "--out", "res"], 2, ("Did you mean 'therapist'?",)),
    Case("compare-out-is-a-file", lambda w, c: [
        "compare", "serial_esat_anx.lav", "parallel_esat_anx.lav", "--data", "clients.csv",
        "--out", "clients.csv"], 2, ("existing file",)),
    Case("compare-level-as-percent", lambda w, c: [
        "compare", "serial_esat_anx.lav", "parallel_esat_anx.lav", "--data", "clients.csv",
        "--level", "90", "--out", "res"], 2, ("0.9",)),
]


DEMO_CASES = [
    Case("demo-out-is-a-file", lambda w, c: ["demo", "--out", "clients.csv"], 2,
         ("existing file",)),
    Case("demo-out-under-a-file", lambda w, c: ["demo", "--out", "clients.csv/demo"], 2,
         ("'clients.csv' is a file",)),
]


def _commands():
    from attachpath.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices)


DIAGRAM_CASES = [
    Case("diagram-unknown-format", lambda w, c: ["diagram", "serial_esat_anx.lav", "--out",
                                                 "model.gif"], 2, ("'model.gif'", ".svg")),
    Case("diagram-out-is-a-folder", lambda w, c: ["diagram", "serial_esat_anx.lav", "--out",
                                                  "res"], 2, ("'res'",)),
    Case("diagram-spec-error", lambda w, c: [
        "diagram", w.write("bad.lav", "tds_ge ~~ \n"), "--out", "d.svg"], 2, ("bad.lav:1:",)),
    Case("diagram-unknown-highlight", lambda w, c: [
        "diagram", "serial_esat_anx.lav", "--data", "clients.csv", "--highlight", "anx_gee",
        "--out", "d.svg"], 2, ("'anx_gee'", "anx_ge")),
    Case("diagram-misspelt-data-column", lambda w, c: [
        "diagram", "serial_esat_anx.lav", "--data", w.csv("renamed.csv", c.rename(
            columns={"tds_ga": "TDS_GA"})), "--out", "d.svg"], 2, ("Did you mean 'TDS_GA'?",)),
]


CASES = (SPEC_CASES + FILE_CASES + MODEL_CASES + DATA_CASES + USAGE_CASES + PREPARE_CASES
         + SIMULATE_CASES + COMPARE_CASES + DEMO_CASES + DIAGRAM_CASES)


def test_enough_cases():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, work, example_clients):
    argv = case.setup(work, example_clients.copy())
    if argv and argv[0] not in _commands():
        if argv[0] in ("compare", "demo", "diagram"):
            pytest.skip(f"no '{argv[0]}' command in this checkout")
    before = work.snapshot()
    r = work.run(*argv)
    assert r.code == case.code, (r.code, r.err)
    for needle in case.needles:
        assert needle in r.err, f"{needle!r} not in stderr:\n{r.err}"
    assert "Traceback" not in r.err and "Traceback" not in r.out
    assert "internal error" not in r.err
    assert r.err.strip(), "a failure must say why on stderr"
    assert r.err.startswith(("attachpath", "usage:")), r.err
    assert_nothing_changed(before, work.snapshot())
    assert_no_temp_files(work.path)
