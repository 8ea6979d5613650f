"""table.Table.to_csv writes what pandas writes (issue 19): estimates.csv and
standardized.csv of a fit are made without pandas and must stay byte for
byte what `frame.to_csv(index=False, float_format=FLOAT_FORMAT,
lineterminator="\\n")` wrote before."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attachpath.files import FLOAT_FORMAT
from attachpath.table import Table


def _pandas_csv(t: Table, float_format: str = FLOAT_FORMAT) -> str:
    return t.to_frame().to_csv(index=False, float_format=float_format, lineterminator="\n")


AWKWARD_TEXT = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "", " lead",
                "trail ", "ünï", "tab\there", '"', ",", "x" * 40]


def test_awkward_numbers_and_text_are_written_as_pandas_writes_them():
    n = len(AWKWARD_TEXT)
    floats = [np.nan, np.inf, -np.inf, -0.0, 0.0, 0.1 + 0.2, 1e-300, 1.5e20, -123.456,
              3.1521999999999997, 5e-324, 1.0, 2.0 / 3.0]
    t = Table({"lhs": AWKWARD_TEXT,
               "op": ["~"] * n,
               "block": np.arange(n, dtype=np.int64) - 3,
               "label": [None if k % 4 == 0 else s for k, s in enumerate(AWKWARD_TEXT)],
               "est": floats,
               "ci,lower": floats[::-1],     # a header that needs quoting
               'say "p"': np.linspace(-1, 1, n)})
    assert t.to_csv(FLOAT_FORMAT) == _pandas_csv(t)
    # another format too: the float format applies to float columns only
    assert t.to_csv("%.3f") == _pandas_csv(t, "%.3f")
    assert "\nplain,~,-3,," in t.to_csv(FLOAT_FORMAT)       # ints stay ints


def test_a_single_text_column_with_empty_values_and_an_empty_table():
    t = Table({"label": ["", "a", ""]})
    assert t.to_csv(FLOAT_FORMAT) == _pandas_csv(t)
    empty = Table({"lhs": np.array([], dtype=object), "est": np.array([], dtype=float),
                   "block": np.array([], dtype=np.int64)})
    assert empty.to_csv(FLOAT_FORMAT) == _pandas_csv(empty) == "lhs,est,block\n"


def test_all_missing_columns():
    t = Table({"label": np.array([None, None], dtype=object), "est": [np.nan, np.nan]})
    assert t.to_csv(FLOAT_FORMAT) == _pandas_csv(t)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(min_value=-2**62, max_value=2**62),
                          st.text(max_size=8)), max_size=12))
def test_random_tables_match_pandas(rows):
    t = Table({"est": np.array([r[0] for r in rows], dtype=float),
               "n": np.array([r[1] for r in rows], dtype=np.int64),
               "label": np.array([r[2] for r in rows], dtype=object)})
    assert t.to_csv(FLOAT_FORMAT) == _pandas_csv(t)


def test_from_frame_round_trips():
    t = Table({"lhs": ["y", "x"], "block": np.array([1, 2], dtype=np.int64),
               "est": [0.5, np.nan]})
    back = Table.from_frame(t.to_frame())
    assert back.columns == t.columns
    assert back.to_csv(FLOAT_FORMAT) == t.to_csv(FLOAT_FORMAT)
    with pytest.raises(KeyError, match="no column 'rhs'"):
        back["rhs"]


def test_tables_are_values():
    """Equal columns and values (NaN equal to NaN) make equal tables, so a
    pickled Result's table equals the original's."""
    import pickle
    t = Table({"lhs": ["y", "y"], "est": [0.5, float("nan")], "block": [1, 2]})
    assert t == pickle.loads(pickle.dumps(t))
    assert t != t.with_values("est", [True, False], 0.6)
    assert t != t.drop("block") and t != t.where([True, False])
    assert Table({"a": [1.0]}) != Table({"b": [1.0]})
