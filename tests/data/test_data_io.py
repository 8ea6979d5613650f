import hashlib
import os
import stat
import warnings

import numpy as np
import pandas as pd
import pytest

from attachpath.data.io import (Dataset, read_data, write_csv_atomic, write_text_atomic,
                                write_texts_atomic)
from attachpath.errors import DataError, DataWarning, OutputError


@pytest.fixture
def frame():
    return pd.DataFrame({
        "therapist": [1, 1, 2, 2],
        "client": [10, 10, 20, 21],
        "cats_secure": [4.25, np.nan, 3.5, 5.0],
        "ecr_anx": [3.0, 3.0, 5.5, 2.0],
    })


def test_csv_round_trip(tmp_path, frame):
    path = write_csv_atomic(frame, tmp_path / "s.csv")
    ds = read_data(path)
    assert isinstance(ds, Dataset)
    pd.testing.assert_frame_equal(ds.frame, frame)
    assert ds.labels == {} and ds.value_labels == {}
    assert ds.source == path and ds.path == path
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_tsv_and_bom(tmp_path, frame):
    path = tmp_path / "s.tsv"
    path.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(sep="\t", index=False).encode())
    pd.testing.assert_frame_equal(read_data(path).frame, frame)


def test_parquet_round_trip(tmp_path, frame):
    path = tmp_path / "s.parquet"
    frame.to_parquet(path)
    pd.testing.assert_frame_equal(read_data(path).frame, frame)


def test_sav_round_trip_keeps_labels(tmp_path, frame):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "s.sav"
    df = frame.assign(female=[1.0, 1.0, 0.0, 1.0])
    pyreadstat.write_sav(df, path,
                         column_labels={"cats_secure": "CATS Secure (item mean)",
                                        "ecr_anx": "ECR anxiety"},
                         variable_value_labels={"female": {0.0: "male", 1.0: "female"}})
    ds = read_data(path)
    assert ds.labels["cats_secure"] == "CATS Secure (item mean)"
    assert ds.labels["ecr_anx"] == "ECR anxiety"
    assert "client" not in ds.labels
    assert ds.value_labels["female"] == {0.0: "male", 1.0: "female"}
    np.testing.assert_allclose(ds.frame["cats_secure"], df["cats_secure"])
    assert ds.frame["female"].tolist() == [1.0, 1.0, 0.0, 1.0]  # codes, not labels


def test_reading_never_modifies_the_file(tmp_path, frame):
    path = write_csv_atomic(frame, tmp_path / "s.csv")
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    ds = read_data(path)
    ds.frame.loc[0, "cats_secure"] = 99.0
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"'.*nope\.csv' does not exist\."):
        read_data(tmp_path / "nope.csv")


def test_directory(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        read_data(tmp_path)


def test_unknown_extension_names_it_and_the_supported_ones(tmp_path):
    path = tmp_path / "s.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError) as err:
        read_data(path)
    msg = str(err.value)
    assert "'.xlsx'" in msg
    for ext in (".csv", ".tsv", ".parquet", ".sav"):
        assert ext in msg


def test_no_extension(tmp_path):
    path = tmp_path / "data"
    path.write_text("a\n1\n")
    with pytest.raises(DataError, match="no extension"):
        read_data(path)


@pytest.mark.parametrize("content", [b"", b"  \n\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "s.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match="is empty"):
        read_data(path)


def test_header_only(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("client,therapist\n")
    with pytest.raises(DataError, match="no rows"):
        read_data(path)


@pytest.mark.parametrize("ext, kind", [(".parquet", "Parquet"), (".sav", "SPSS")])
def test_unreadable(tmp_path, ext, kind):
    path = tmp_path / f"s{ext}"
    path.write_bytes(b"this is not a binary data file at all")
    with pytest.raises(DataError, match=f"Cannot read .* as (an )?{kind}"):
        read_data(path)


def test_semicolon_csv_is_read_and_the_choice_reported(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("client;therapist\n1;2\n")
    with pytest.warns(DataWarning, match="semicolon-separated file"):
        ds = read_data(path)
    assert ds.reading == "semicolon-separated"
    assert ds.frame.to_dict("list") == {"client": [1], "therapist": [2]}


def test_european_excel_csv_with_decimal_commas(tmp_path):
    """Excel in a decimal-comma locale: semicolons between fields, '3,5' for 3.5."""
    path = tmp_path / "clients.csv"
    path.write_text("client;therapist;ecr_anx;tds_ge\n1;7;3,5;-0,25\n2;7;4;1,125\n3;8;;2\n")
    with pytest.warns(DataWarning, match="semicolon-separated with decimal commas"):
        ds = read_data(path)
    assert ds.reading == "semicolon-separated with decimal commas"
    f = ds.frame
    assert f["ecr_anx"].tolist()[:2] == [3.5, 4.0] and np.isnan(f["ecr_anx"][2])
    assert f["tds_ge"].tolist() == [-0.25, 1.125, 2.0]
    assert f["client"].dtype.kind == "i"


def test_comma_csv_is_not_reported(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1.5,2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = read_data(path)
    assert ds.reading is None and ds.frame["a"][0] == 1.5


def test_bad_encoding_and_override(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("navn,x\nS\xf8ren,1\n".encode("cp1252"))
    with pytest.raises(DataError, match="not valid utf-8"):
        read_data(path)
    assert read_data(path, encoding="cp1252").frame["navn"][0] == "S\xf8ren"


def test_write_csv_atomic_replaces_and_leaves_no_temp(tmp_path, frame):
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    write_csv_atomic(frame, path)
    assert path.read_text().startswith("therapist,client")
    assert "\r" not in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_respects_umask(tmp_path, frame):
    old = os.umask(0o022)
    try:
        path = write_csv_atomic(frame, tmp_path / "out.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_write_into_missing_directory(tmp_path, frame):
    with pytest.raises(OutputError, match="does not exist"):
        write_csv_atomic(frame, tmp_path / "no" / "out.csv")


def test_write_texts_atomic_is_all_or_nothing(tmp_path):
    first = tmp_path / "a.csv"
    with pytest.raises(OutputError):
        write_texts_atomic([("a\n", first), ("b\n", tmp_path / "missing" / "b.csv")])
    assert list(tmp_path.iterdir()) == []
    write_text_atomic("x\n", first)
    assert first.read_text() == "x\n"


def test_write_onto_a_directory_is_an_output_error(tmp_path, frame):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        write_csv_atomic(frame, tmp_path / "d.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    import sys
    path = tmp_path / "clients.parquet"
    pd.DataFrame({"a": [1.0, 2.0]}).to_parquet(path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)      # as if not installed
    with pytest.raises(DataError, match=r"pip install 'attachpath\[parquet\]'") as err:
        read_data(path)
    assert "clients.parquet" in str(err.value)


def test_a_fit_reads_only_the_columns_it_uses(tmp_path):
    """Issue 17, item 15: a wide file costs the columns the model uses, not
    all of them; the header's names stay for hints."""
    import numpy as np
    import pandas as pd

    import attachpath as ap
    from attachpath.data.io import read_data
    rng = np.random.default_rng(3)
    n = 200
    wide = pd.DataFrame(rng.normal(size=(n, 3)), columns=["y", "x", "z"])
    for k in range(300):           # text columns: parsing them would cost time and memory
        wide[f"note_{k}"] = "free text, not a number"
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    ds = read_data(path, columns=lambda c: c in {"y", "x"})
    assert list(ds.frame.columns) == ["y", "x"]
    assert len(ds.frame.attrs["all_columns"]) == 303
    res = ap.fit("y ~ x", str(path))
    assert res.nobs == n
    with pytest.raises(Exception, match="Did you mean 'z'"):
        ap.fit("y ~ x", str(path), cluster="zz")
