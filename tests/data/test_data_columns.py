"""Reading a plain CSV without pandas (data/io.py read_columns, data/columns.py):
the values pandas' read_csv gives, whenever the light reader takes a file,
and pandas' own path (its messages and warnings) for every file it does not."""

from __future__ import annotations

import io
import sys
import subprocess
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from attachpath.data.checks import model_array
from attachpath.data.columns import Columns, factorize
from attachpath.data.io import NA_CODES, parse_data, read_columns, read_data
from attachpath.errors import DataError


def test_na_codes_are_pandas_defaults():
    from pandas._libs.parsers import STR_NA_VALUES
    assert NA_CODES == set(STR_NA_VALUES)


# -- the property: light values == pandas' values ------------------------------

_digits = st.text("0123456789", min_size=1, max_size=22)
_number = st.one_of(
    st.integers(-10**20, 10**20).map(str),
    st.builds(lambda s, d: s + d, st.sampled_from(["", "+", "-"]), _digits),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:.9g}"),
    st.builds(lambda a, b, e: f"{a}.{b}e{e}", _digits, _digits, st.integers(-330, 330)),
    st.builds(lambda a, b: f"{a}.{b}", st.sampled_from(["", "-", "+", "0", "12"]), _digits),
    st.builds(lambda a: f"{a}.", _digits),
)
_cell = st.one_of(
    _number, _number, _number,
    st.sampled_from(sorted(NA_CODES)),
    st.sampled_from(["T1", "T2", "client 3", "x", "inf", "-inf", "NAN", "1,5", "1e", ".",
                     "True", "false", "1_000", "0x10", "3 4", " NA", "n.a.", "Infinity", "-INF",
                     "+inf", "1.#INF", "NAN", " nan", "+nan", "0x1p3", "1e5x"]),
    st.text(" \tab,\"1.-", max_size=5),
)
_pad = st.sampled_from(["", "", " ", "  ", "\t"])


@st.composite
def _csv(draw):
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d", " e", "id"]), min_size=2,
                          max_size=4, unique=True))
    kinds = [draw(st.sampled_from(["number", "int", "cell", "text"])) for _ in names]
    n = draw(st.integers(1, 7))
    rows = []
    for _ in range(n):
        row = []
        for k in kinds:
            if k == "int":
                v = str(draw(st.integers(-10**19, 10**19)))
            elif k == "number":
                v = draw(st.one_of(_number, st.sampled_from(["", "NA", "nan"])))
            elif k == "text":
                v = draw(st.sampled_from(["T1", "T2", "T3", "c 4"]))
            else:
                v = draw(_cell)
            v = draw(_pad) + v + draw(_pad)
            quoting = draw(st.integers(0, 9))
            if quoting == 0:            # a stray quote or carriage return, unescaped
                at = draw(st.integers(0, len(v)))
                v = v[:at] + draw(st.sampled_from(['"', "\r", '""'])) + v[at:]
            if quoting == 1 or "," in v or ('"' in v and quoting != 0):
                v = '"' + v.replace('"', '""') + '"'
            row.append(v)
        rows.append(",".join(row))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [",".join(names)] + rows
    if draw(st.booleans()):
        lines.insert(draw(st.integers(1, len(lines))), "")     # a blank line
    return end.join(lines) + draw(st.sampled_from([end, "", end + end]))


def _same(light: np.ndarray, frame_col: pd.Series, cells=None) -> bool:
    """light equals pandas' column; numbers: equal to the correctly rounded
    values of the cells (Python's float) and to pandas' within one unit in
    the last place (pandas' parser is off by one for some 17-digit numbers,
    e.g. '.10000000000000021')."""
    heavy = frame_col.to_numpy()
    if light.dtype.kind == "O":
        return (frame_col.dtype.kind in "OT" or isinstance(frame_col.dtype, pd.StringDtype)) \
            and list(light) == list(heavy)
    if light.dtype != heavy.dtype:
        return False
    if light.dtype.kind == "f":
        if cells is not None:
            exact = np.array([float(c) if c.strip() and c.strip() not in NA_CODES
                              else np.nan for c in cells])
            if not np.array_equal(light, exact, equal_nan=True):
                return False
        nan = np.isnan(light)
        a, b = light[~nan], heavy[~nan]
        # equal values (infinities too: '0.2e309' overflows in both) or one ulp apart
        return bool(np.array_equal(nan, np.isnan(heavy))
                    and np.array_equal(np.signbit(light), np.signbit(heavy))
                    and np.all((a == b) | (np.abs(a - b) <= np.spacing(np.abs(b)))))
    return bool(np.array_equal(light, heavy))


@settings(max_examples=800, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_csv())
def test_light_reader_gives_pandas_values(text):
    raw = text.encode()
    light = read_columns(raw, ",", "utf-8-sig", lambda c: True, lambda c: False)
    if light is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # pandas' path warns of nothing either
        heavy = parse_data(raw, "x.csv").frame
    assert light.columns == list(heavy.columns)
    assert len(light) == len(heavy)
    import csv
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    for j, c in enumerate(light.columns):
        cells = [r[j] for r in rows[1:]]
        assert _same(light.column(c), heavy[c], cells), (c, light.column(c), heavy[c].tolist())


def test_light_reader_is_correctly_rounded_where_pandas_is_not():
    """The case the property test found: pandas reads '+.10000000000000021'
    as 0.1000000000000002, one ulp from the nearest double; the light reader
    gives the nearest double (what Python's float and R's read.csv give)."""
    raw = b'a,b\n"0","+.10000000000000021 "\n'
    light = read_columns(raw, ",", "utf-8-sig", lambda c: True, lambda c: False)
    heavy = parse_data(raw, "x.csv").frame
    assert light.column("b")[0] == float("+.10000000000000021") == 0.10000000000000021
    assert abs(heavy["b"][0] - light.column("b")[0]) == np.spacing(0.1)


@pytest.mark.parametrize("cells, kind", [
    (["1", " 2", "+3\t", "-0", "007"], "i"),
    (["1", "", "3"], "f"),
    (["1.5", "NA", ".5", "3.", "1e-3", "-2E+2", " 4 "], "f"),
    (["NA", "", "null"], "f"),
    (["T1", "T2", " T3 "], "O"),
])
def test_light_reader_takes_plain_columns(cells, kind):
    text = "x,y\n" + "".join(f'"{c}",{k}\n' for k, c in enumerate(cells))
    light = read_columns(text.encode(), ",", "utf-8", lambda c: True, lambda c: c == "y")
    assert light is not None and light.column("x").dtype.kind == kind
    assert _same(light.column("x"), pd.read_csv(io.StringIO(text), index_col=False)["x"])


@pytest.mark.parametrize("text", [
    "x;y\n1,5;2\n3;4\n",                 # European (semicolon, decimal comma)
    "x\n1\n2\n",                          # one column: no separator in the header
    "x,x\n1,2\n3,4\n",                    # a repeated name
    "x,\n1,2\n3,4\n",                     # an empty name
    "x,y\n1,2\n3,4,5\n",                  # a row with more fields
    "x,y\n1,2\n3\n",                      # a row with fewer fields
    "x,y\n1,2\n   \n3,4\n",               # a line of spaces (pandas skips it)
    "x,y\n1,2\n",                         # fine, but y must be a number below:
    "x,y\n1,b\n3,4\n",                    # text in a model variable
    "x,y\n1,inf\n3,4\n",                  # inf: pandas reads it, the light reader not
    "x,y\n1, NA\n3,4\n",                  # ' NA' is text for pandas
    "x,y\nT1,2\n,4\n",                    # a text id with a missing cell
    "x,y\nT1,2\n7,4\n",                   # text and numbers in one column
    "x,y\n99999999999999999999,2\n3,4\n",  # beyond int64
    "x,y\nTrue,2\nFalse,4\n",            # booleans
    "x,y\n\xe9,2\n",                      # not UTF-8 below (Latin-1 bytes)
])
def test_light_reader_leaves_the_rest_to_pandas(text):
    raw = text.encode("latin-1")
    numeric = (lambda c: c in ("y", "x")) if text != "x,y\nT1,2\n7,4\n" else (lambda c: c == "y")
    got = read_columns(raw, ",", "utf-8-sig", lambda c: True, numeric)
    assert (got is not None) == (text == "x,y\n1,2\n")


def test_factorize_is_pandas():
    for ids in (np.array([3, 1, 3, 2, 1]), np.array([2.5, -1.0, 2.5]),
                np.array(["T2", "T1", "T2", "T10"], dtype=object)):
        codes, uniques = factorize(ids)
        want_codes, want_uniques = pd.factorize(ids)
        assert codes.tolist() == want_codes.tolist()
        assert uniques.tolist() == list(want_uniques)


# -- the fit's checks: the same on a Columns table as on its DataFrame ---------

def _outcome(frame, variables, cluster, missing):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            X, info = model_array(frame, variables, cluster=cluster, missing=missing)
        except DataError as exc:
            return ("error", str(exc), exc.column, exc.row)
    return ("ok", X.tobytes(), X.flags.f_contiguous, {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                for k, v in info.items()},
            [str(w.message) for w in caught])


_TABLES = [
    {"x": np.array([1.0, 2, np.nan, 4, 5]), "y": np.array([2, 1, 4, 3, 5]),
     "therapist": np.array(["T1", "T1", "T2", "T2", "T3"], dtype=object)},
    {"x": np.array([1.0, 2, 3, np.inf]), "y": np.array([2.0, 1, 4, 3]),
     "therapist": np.array([1, 1, 2, 2])},
    {"x": np.array([1.0, 2, 3, 4]), "y": np.array([2.0, 1, 4, 3]),
     "therapist": np.array([1.0, np.nan, 2, 2])},
    {"x": np.array([1.0, 1, 1, 1]), "y": np.array([2.0, 1, 4, 3]),
     "therapist": np.array([7, 7, 7, 7])},
    {"x": np.array([1.0, 2, 3, 4]), "y": np.array([2.0, 4, 6, 8]),
     "therapist": np.array([7, 7, 8, 8])},
    {"x": np.array([1.0, 2, 3, 4]), "y": np.array([2.0, 1, 4, -999]),
     "therapist": np.array([7, 8, 7, 8])},
    {"x": np.array([1.0, 2, 3, 4]), "y": np.array(["2", "b", "4", "1"], dtype=object),
     "therapist": np.array([7, 8, 7, 8])},
    {"x": np.array([1.0, 2, 3, 4]), "y": np.array([2.0, 1, 4, 3]),
     "therapist": np.array([7, 7, 7, 7])},
]


@pytest.mark.parametrize("table", range(len(_TABLES)))
@pytest.mark.parametrize("missing", ["listwise", "fiml"])
@pytest.mark.parametrize("variables", [["x", "y"], ["x", "y", "z"]])
def test_checks_on_columns_are_the_dataframes(table, missing, variables):
    cols = Columns(_TABLES[table], {"all_columns": ["x", "y", "therapist", "zz"]})
    frame = cols.to_frame()
    assert _outcome(cols, variables, "therapist", missing) == \
        _outcome(frame, variables, "therapist", missing)


# -- a fit given a path --------------------------------------------------------

SPEC = "y ~ x\n"


def _fit_outcome(data, **kw):
    from attachpath.fitting import fit
    try:
        res = fit(SPEC, data, **kw)
    except DataError as exc:
        return ("error", str(exc))
    # the same numbers to the last bit: both fits run here, from the same cells
    # (the summary prints the gradient norm, which shows any other order of sums)
    return ("ok", res.estimates[["est", "se"]].to_numpy().tobytes(), list(res.warnings),
            res.provenance["data_sha256"], res.data_info["n"], res.summary())


def _check_outcome(data, **kw):
    from attachpath.fitting import check
    try:
        return ("ok", check(SPEC, data, **kw).notes)
    except DataError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("text, light", [
    ("x,y,therapist\n" + "".join(f"{i % 7 * 0.5},{i * 1.5 % 5},T{i % 4}\n"
                                 for i in range(40)), True),
    ("client,x,y,therapist\n" + "".join(f"{i // 2},{i % 7},{i * 1.5 % 5},{i % 4}\n"
                                        for i in range(40)) + "40,,3,1\n", True),
    ("x;y;therapist\n" + "".join(f"{i % 7},5;{i * 1.5 % 5};{i % 4}\n".replace(".", ",")
                                 for i in range(40)), False),
    ("x,y,therapist\n1,2,3\n4,5,6,7\n" + "2,3,1\n" * 30, False),
    ("x,y,x\n1,2,3\n" + "2,3,1\n" * 30, False),
    ("x,y,therapist\n1,b,3\n" + "2,3,1\n" * 30, False),
    ("x,y,therapist\n1,inf,3\n" + "2,3,1\n" * 30, False),
    ("x,y,therapist\n1,2,\n" + "".join(f"{i % 5},{i % 3},T{i % 4}\n" for i in range(30)),
     False),
    ("x,y,therapist\n1,2,7\n" + "".join(f"{i % 5},{i % 3},T{i % 4}\n" for i in range(30)),
     False),
    ("x,y,therapist\n1,2,3\n" + "".join(f"{i % 5},{i % 3},{i % 4}\n" for i in range(30))
     + "1,NA,\n", True),
])
def test_a_fit_from_a_path_is_the_fit_from_pandas(tmp_path, monkeypatch, text, light):
    import attachpath.data.io as dio
    path = tmp_path / "d.csv"
    path.write_text(text)
    taken = read_columns(path.read_bytes(), ",", "utf-8-sig", lambda c: True,
                         lambda c: c in ("x", "y"))
    assert (taken is not None) == light
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kw in ({"cluster": "therapist"}, {}):
            got = _fit_outcome(path, **kw), _check_outcome(path, **kw)
            with monkeypatch.context() as m:     # pandas' path only, as before
                m.setattr(dio, "read_columns", lambda *a: None)
                assert (_fit_outcome(path, **kw), _check_outcome(path, **kw)) == got


def test_ids_print_as_integers(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y,therapist\n" + "1,2,17\n2,3,17\n3,1,17\n")
    with pytest.raises(DataError, match=r"only one cluster \(17\)"):
        _fit_raise(path)


def _fit_raise(path):
    from attachpath.fitting import fit
    fit(SPEC, path, cluster="therapist")


# -- no pandas on the way ------------------------------------------------------

# The steps of a fit this part owns: reading, checking, estimating.  The
# Result (result.py, derived.py) still imports pandas; once it does not, the
# assertion can be about fit() itself (see test_fit_imports_pandas_only_for_the_result).
_STEPS = textwrap.dedent("""
    import sys, warnings
    from attachpath.spec import partable_of
    from attachpath.data.io import read_data
    from attachpath.data.checks import model_array
    from attachpath.estimate.clusters import Clusters
    from attachpath.estimate.likelihood import CompleteML, TwoLevelML
    from attachpath.estimate.twolevel import TwoLevelData
    from attachpath.estimate import vcov
    spec, path, cluster = sys.argv[1:4]
    pt = partable_of(spec, meanstructure=True)
    wanted = set(pt.observed) | {cluster}
    ds = read_data(path, columns=wanted.__contains__, numeric=set(pt.observed).__contains__)
    assert type(ds.frame).__name__ == "Columns", type(ds.frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, info = model_array(ds.frame, list(pt.observed), cluster=cluster)
    ids = Clusters.from_ids(cluster, info["clusters"])
    if pt.multilevel:
        roles = pt.variable_levels
        data = TwoLevelData.from_array(
            X, pt.observed, pt.blocks[0].observed,
            tuple(v for v in pt.blocks[1].observed if roles[v] == "between"), ids)
        lik = TwoLevelML(pt, data)
        sol = lik.estimate()
        vcov.standard(lik, sol.theta, None)
    else:
        lik = CompleteML.from_array(pt, X)
        sol = lik.estimate()
        vcov.robust(lik, sol.theta, ids)
    print(sorted(m for m in ("pandas", "pyarrow") if m in sys.modules))
""")

# fit() itself: pandas may be imported only by the Result's modules (lightout's
# part, in progress), never by reading, checking or fitting.
_FIT = textwrap.dedent("""
    import sys, traceback, warnings
    first = []

    class Watch:
        def find_spec(self, name, path=None, target=None):
            if name == "pandas" and not first:
                first.append([f.filename for f in traceback.extract_stack()
                              if "/attachpath/" in f.filename])
            return None

    sys.meta_path.insert(0, Watch())
    from attachpath.fitting import fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(sys.argv[1], sys.argv[2], cluster=sys.argv[3])
    res.provenance                # versions() too (it looks pandas up, not imports it)
    loaded = "pandas" in sys.modules
    print(first[0][-1].split("/attachpath/")[-1] if loaded and first else "-")
""")


def _example_files(tmp_path):
    import attachpath as ap
    from attachpath.data import esat_scores
    clients, sessions = tmp_path / "clients.csv", tmp_path / "sessions.csv"
    ap.datasets.load_example_clients().to_csv(clients, index=False)
    esat_scores(ap.datasets.load_example(), level="session").to_csv(sessions, index=False)
    return clients, sessions


@pytest.fixture(scope="module")
def example_files(tmp_path_factory):
    return _example_files(tmp_path_factory.mktemp("light"))


def _run(code, *args):
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("spec, which, cluster", [
    ("specs/serial_esat_anx.lav", 0, "therapist"),
    ("specs/twolevel_serial_esat_anx.lav", 1, "client"),
])
def test_reading_checking_and_fitting_import_no_pandas(example_files, spec, which, cluster):
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    assert _run(_STEPS, root / spec, example_files[which], cluster) == "[]"


@pytest.mark.parametrize("spec, which, cluster", [
    ("specs/serial_esat_anx.lav", 0, "therapist"),
    ("specs/twolevel_serial_esat_anx.lav", 1, "client"),
])
def test_fit_imports_pandas_only_for_the_result(example_files, spec, which, cluster):
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    importer = _run(_FIT, root / spec, example_files[which], cluster)
    assert importer == "-", importer         # no pandas at all


@pytest.mark.parametrize("spec, which, cluster", [
    ("serial_esat_anx.lav", 0, "therapist"),
    ("twolevel_serial_esat_anx.lav", 1, "therapist/client"),
])
def test_the_study_fits_from_a_path_are_the_fits_from_pandas(example_files, monkeypatch,
                                                             spec, which, cluster):
    """Byte-identical summaries (the gradient norm in them shows the order of
    the sums over the data, which follows the memory order of X)."""
    import attachpath.data.io as dio
    from pathlib import Path

    from attachpath.fitting import fit
    spec = Path(__file__).resolve().parents[2] / "specs" / spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = fit(spec, example_files[which], cluster=cluster)
        monkeypatch.setattr(dio, "read_columns", lambda *a: None)
        want = fit(spec, example_files[which], cluster=cluster)
    assert got.summary() == want.summary()
    assert got.provenance == want.provenance


def test_tsv_is_read_light_as_pandas_reads_it(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("x\ty\tid\n1.5\t2\tT1\n\t3\tT2\n4e2\t-1\tT3\n")
    light = read_data(path, numeric=lambda c: c in ("x", "y")).frame
    heavy = read_data(path).frame
    assert isinstance(light, Columns)
    assert all(_same(light.column(c), heavy[c]) for c in ("x", "y", "id"))
    assert light.attrs["all_columns"] == ["x", "y", "id"]


def test_versions_read_without_importing_are_the_packages_own():
    from importlib.metadata import version

    from attachpath.fitting import installed_version
    assert installed_version("pandas") == pd.__version__
    for name in ("semopy", "numpy", "scipy"):
        assert installed_version(name) == version(name)


def test_a_large_file_is_read_by_pandas(tmp_path, monkeypatch):
    import attachpath.data.io as dio
    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,2\n3,4\n")
    assert isinstance(read_data(path, numeric=lambda c: True).frame, Columns)
    monkeypatch.setattr(dio, "LIGHT_MAX_BYTES", path.stat().st_size - 1)
    assert isinstance(read_data(path, numeric=lambda c: True).frame, pd.DataFrame)
