import warnings

import numpy as np
import pandas as pd
import pytest

from attachpath.data.checks import model_frame
from attachpath.errors import DataError, DataWarning


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 40
    return pd.DataFrame({
        "therapist": np.repeat(np.arange(8), 5),
        "ecr_anx": rng.normal(4, 1, n),
        "cats_secure": rng.normal(4.4, .7, n),
        "tds_ge": rng.normal(3.3, .6, n),
        "female": rng.random(n) < .7,
    }, index=[f"r{i}" for i in range(n)])


def test_clean_frame(df):
    X, info = model_frame(df, ["ecr_anx", "cats_secure", "female"], cluster="therapist")
    assert list(X.columns) == ["ecr_anx", "cats_secure", "female"]
    assert (X.dtypes == np.float64).all()
    assert set(X["female"].unique()) <= {0.0, 1.0}
    assert list(X.index) == list(df.index)
    assert info["dropped_rows"] == 0 and info["n_clusters"] == 8
    np.testing.assert_array_equal(info["clusters"], df["therapist"].to_numpy())
    assert info["cluster_sizes"].tolist() == [5] * 8


def test_absent_variable_suggests_closest(df):
    with pytest.raises(DataError) as err:
        model_frame(df, ["ecr_anx", "cats_secur"])
    assert "'cats_secur' is not in the data" in str(err.value)
    assert "Did you mean 'cats_secure'?" in str(err.value)
    assert err.value.column == "cats_secur"


def test_absent_variable_without_close_match_lists_columns(df):
    with pytest.raises(DataError, match="The data have: therapist, ecr_anx"):
        model_frame(df, ["zzz"])


def test_non_numeric_value_names_column_row_and_value(df):
    df = df.astype({"tds_ge": object})
    df.loc["r7", "tds_ge"] = "n.a."
    with pytest.raises(DataError) as err:
        model_frame(df, ["ecr_anx", "tds_ge"])
    msg = str(err.value)
    assert "'tds_ge'" in msg and "'n.a.'" in msg and "row 8" in msg and "'r7'" in msg
    assert err.value.row == "r7" and err.value.value == "n.a."


def test_numeric_text_is_accepted(df):
    df = df.assign(x=[str(v) for v in range(40)])
    X, _ = model_frame(df, ["x", "ecr_anx"])
    assert X["x"].iloc[3] == 3.0


def test_text_column_from_csv_with_a_stray_label():
    df = pd.DataFrame({"x": ["1.5", "2", "three", "4"], "y": [1.0, 2.0, 0.5, 3.0]})
    with pytest.raises(DataError, match=r"'x' has a non-numeric value 'three' at row 3 "
                                        r"\(index label 2\)"):
        model_frame(df, ["x", "y"])


def test_infinite_value(df):
    df.loc["r3", "cats_secure"] = np.inf
    with pytest.raises(DataError, match=r"'cats_secure' has an infinite value \(inf\) at "
                                        r"row 4 \(index label 'r3'\)"):
        model_frame(df, ["ecr_anx", "cats_secure"])


def test_constant_column(df):
    df["one"] = 1.0
    with pytest.raises(DataError, match="'one' is constant .*value 1.0"):
        model_frame(df, ["ecr_anx", "one"])


def test_constant_after_listwise_deletion():
    df = pd.DataFrame({"x": [1.0, 1.0, 2.0], "y": [1.0, 2.0, np.nan]})
    with pytest.warns(DataWarning), pytest.raises(DataError, match="'x' is constant"):
        model_frame(df, ["x", "y"])


def test_two_collinear_variables(df):
    df["anx_c"] = 2 * df["ecr_anx"] - 3
    with pytest.raises(DataError) as err:
        model_frame(df, ["ecr_anx", "tds_ge", "anx_c"])
    msg = str(err.value)
    assert "'ecr_anx' and 'anx_c' are perfectly collinear" in msg
    assert "tds_ge" not in msg


def test_minimal_dependent_set_of_three(df):
    df["total"] = df["ecr_anx"] + df["cats_secure"]
    with pytest.raises(DataError) as err:
        model_frame(df, ["ecr_anx", "tds_ge", "cats_secure", "total"])
    msg = str(err.value)
    assert "'ecr_anx', 'cats_secure' and 'total' are perfectly collinear" in msg
    assert "'total' is a linear combination of 'ecr_anx' and 'cats_secure'" in msg
    assert "tds_ge" not in msg


def test_nearly_collinear_warns(df):
    df["total"] = (df["ecr_anx"] + df["cats_secure"]).round(4)
    df["ecr_anx"] = df["ecr_anx"].round(4)
    df["cats_secure"] = df["cats_secure"].round(4) + 1e-5 * np.sin(np.arange(40))
    with pytest.warns(DataWarning, match="nearly collinear"):
        model_frame(df, ["ecr_anx", "cats_secure", "total"])


def test_listwise_deletion_counts_and_warns(df):
    df.loc[["r1", "r2"], "ecr_anx"] = np.nan
    df.loc["r2", "tds_ge"] = np.nan
    df.loc["r5", "tds_ge"] = np.nan
    with pytest.warns(DataWarning, match=r"Dropped 3 of 40 rows .*ecr_anx: 2, tds_ge: 2"):
        X, info = model_frame(df, ["ecr_anx", "tds_ge"], cluster="therapist")
    assert info["dropped_rows"] == 3 and len(X) == 37
    assert "r2" not in X.index
    assert len(info["clusters"]) == 37
    np.testing.assert_array_equal(info["clusters"], df.loc[X.index, "therapist"].to_numpy())
    assert info["kept"].sum() == 37


def test_fiml_keeps_incomplete_rows(df):
    df.loc["r1", "ecr_anx"] = np.nan
    df.loc["r4", ["ecr_anx", "tds_ge"]] = np.nan
    with pytest.warns(DataWarning, match="Dropped 1 of 40 rows with no observed value"):
        X, info = model_frame(df, ["ecr_anx", "tds_ge"], missing="fiml")
    assert len(X) == 39 and np.isnan(X.loc["r1", "ecr_anx"])


def test_no_warning_when_complete(df):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model_frame(df, ["ecr_anx", "tds_ge"], cluster="therapist")


def test_all_rows_missing():
    df = pd.DataFrame({"x": [np.nan, 1.0], "y": [1.0, np.nan]})
    with pytest.raises(DataError, match="No rows are left"):
        model_frame(df, ["x", "y"])


def test_cluster_errors(df):
    with pytest.raises(DataError, match="cluster column 'therapis' is not in the data.*"
                                        "Did you mean 'therapist'"):
        model_frame(df, ["ecr_anx"], cluster="therapis")
    bad = df.astype({"therapist": float})
    bad.loc["r9", "therapist"] = np.nan
    with pytest.raises(DataError, match=r"'therapist' has a missing id at row 10 "
                                        r"\(index label 'r9'\)"):
        model_frame(bad, ["ecr_anx"], cluster="therapist")
    one = df.assign(therapist=7)
    with pytest.raises(DataError, match="only one cluster \\(7\\)"):
        model_frame(one, ["ecr_anx"], cluster="therapist")


def test_other_argument_errors(df):
    with pytest.raises(DataError, match="missing must be one of"):
        model_frame(df, ["ecr_anx"], missing="pairwise")
    with pytest.raises(DataError, match="no observed variables"):
        model_frame(df, [])
    dates = df.assign(when=pd.Timestamp("2024-01-01"))
    with pytest.raises(DataError, match="'when' holds dates"):
        model_frame(dates, ["when"])


def test_categorical_and_nullable_columns(df):
    df["cat"] = pd.Categorical(np.tile([1, 2], 20))
    df["nullable"] = pd.array(np.tile([1, None, 3, 4], 10), dtype="Int64")
    with pytest.warns(DataWarning):
        X, info = model_frame(df, ["cat", "nullable", "ecr_anx"])
    assert info["dropped_rows"] == 10 and (X.dtypes == np.float64).all()
    df["lab"] = pd.Categorical(np.tile(["lo", "hi"], 20))
    with pytest.raises(DataError, match="'lab' has a non-numeric value 'lo' at row 1"):
        model_frame(df, ["lab"])


def test_duplicated_column_of_a_variable_is_named(df):
    dup = pd.concat([df, df[["ecr_anx"]]], axis=1)
    with pytest.raises(DataError, match="2 columns named 'ecr_anx'") as err:
        model_frame(dup, ["ecr_anx", "tds_ge"])
    assert err.value.column == "ecr_anx"
    model_frame(dup, ["cats_secure", "tds_ge"])      # other variables are unaffected


def test_whole_frame_and_column_by_column_conversion_agree(df):
    """A narrow all-numeric frame is converted in one call, others column by
    column; both give the same array and info."""
    narrow = df.assign(sessions=np.arange(len(df)) % 7)      # int, float and bool columns
    wide = narrow.assign(note="x", **{f"extra{i}": 0.0 for i in range(30)})
    variables = ["sessions", "ecr_anx", "female", "tds_ge"]
    X1, info1 = model_frame(narrow, variables, cluster="therapist")
    X2, info2 = model_frame(wide, variables, cluster="therapist")
    pd.testing.assert_frame_equal(X1, X2)
    assert (X1.dtypes == np.float64).all() and X1["female"].isin([0.0, 1.0]).all()
    np.testing.assert_array_equal(X1["sessions"], narrow["sessions"].astype(float))
    assert info1["n_clusters"] == info2["n_clusters"] == 8
