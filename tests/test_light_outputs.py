"""A fit's summary, estimates.csv, standardized.csv and fit.json without
pandas (issues 12 and 19): they read the Result's table.Table and must be
byte for byte what pandas made from `res.estimates` and
`res.standardized_solution()` before."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
import warnings

import pandas as pd
import pytest

import attachpath as ap
from attachpath import specs
from attachpath.data import esat_scores
from attachpath.datasets import load_example
from attachpath.export import fit_data_files, fit_json
from attachpath.files import FLOAT_FORMAT
from attachpath.result import Result


def _pandas_csv(frame) -> str:
    return frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


@pytest.fixture(scope="module")
def clients():
    return ap.datasets.load_example_clients()


@pytest.fixture(scope="module")
def sessions():
    return esat_scores(load_example(), level="session")


def _fits(clients, sessions):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield "single-level", ap.fit("tds_ge ~ ecr_anx + ecr_avoid\niip_post ~ tds_ge", clients)
        yield ":= with therapist-robust SEs", ap.fit(specs.path("serial_esat_anx"), clients,
                                                     cluster="therapist", se="robust")
        yield "two-level with :=", ap.fit(specs.path("twolevel_serial_esat_anx"), sessions,
                                          cluster="client")


def test_the_files_are_what_pandas_wrote(clients, sessions):
    for what, res in _fits(clients, sessions):
        files = fit_data_files(res)
        assert files["estimates.csv"] == _pandas_csv(res.estimates), what
        assert files["standardized.csv"] == _pandas_csv(res.standardized_solution()), what
        assert files["fit.json"] == json.dumps(fit_json(res), indent=2) + "\n", what
        assert json.loads(files["fit.json"])["provenance"]["versions"]["pandas"] == \
            pd.__version__
        # the table and the DataFrame view hold the same rows and columns
        assert list(res.estimates.columns) == list(res.table.columns), what
        assert len(res.estimates) == len(res.table)


def test_params_and_defined_read_the_table(clients):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ap.fit(specs.path("serial_esat_anx"), clients)
    e = res.estimates
    d = res.defined()
    pd.testing.assert_frame_equal(d, e[e["op"] == ":="].reset_index(drop=True))
    p = res.params()
    assert p["tds_ge~esat_anx"] == e.query("lhs == 'tds_ge' and rhs == 'esat_anx'")["est"].item()
    assert p["anx_ge"] == e.query("lhs == 'anx_ge'")["est"].item()
    assert len(p) == len(e)


def test_a_result_made_by_hand_with_a_dataframe_only_reads_its_table_from_it(clients):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ap.fit(specs.path("serial_esat_anx"), clients, cluster="therapist")
    given = {f.name: getattr(res, f.name) for f in dataclasses.fields(Result)}
    made = Result(**{**given, "table": None, "vcov_matrix": None})
    assert made.table is not res.table and made.table.columns == res.table.columns
    assert made.summary() == res.summary()
    assert made.summary(style="lavaan") == res.summary(style="lavaan")
    assert fit_data_files(made) == fit_data_files(res)


CHILD = textwrap.dedent("""
    import json, sys, warnings
    from attachpath.fitting import fit
    from attachpath.files import FLOAT_FORMAT
    warnings.simplefilter("ignore")
    spec, data, cluster = sys.argv[1:4]

    def run():
        return fit(spec, data, cluster=cluster or None)

    # what pandas writes, from a first fit (reading the data imports pandas today)
    ref = run()
    want = {"estimates.csv": ref.estimates.to_csv(index=False, float_format=FLOAT_FORMAT,
                                                  lineterminator="\\n"),
            "standardized.csv": ref.standardized_solution().to_csv(
                index=False, float_format=FLOAT_FORMAT, lineterminator="\\n")}
    res = run()
    sys.modules["pandas"] = None      # from here on `import pandas` raises ImportError
    from attachpath.export import fit_data_files
    text = [res.summary(), res.summary(style="lavaan"), repr(res)]
    files = fit_data_files(res)
    assert files["estimates.csv"] == want["estimates.csv"]
    assert files["standardized.csv"] == want["standardized.csv"]
    lv = res.level(1) if res.partable.multilevel else res
    text.append(lv.summary())
    try:
        res.estimates
    except ImportError:
        print(json.dumps({"ok": True, "lines": sum(t.count("\\n") for t in text)}))
    else:
        print(json.dumps({"ok": False}))
""")


@pytest.mark.parametrize("spec,which,cluster", [
    ("serial_esat_anx", "clients", "therapist"),
    ("twolevel_serial_esat_anx", "sessions", "client"),
])
def test_summary_and_files_need_no_pandas_after_the_fit(tmp_path, clients, sessions,
                                                        spec, which, cluster):
    data = tmp_path / f"{which}.csv"
    (clients if which == "clients" else sessions).to_csv(data, index=False)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(specs.path(spec)), str(data),
                           cluster], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # ok: the DataFrame view really needed pandas, so the blocking worked
    assert out["ok"] and out["lines"] > 30
