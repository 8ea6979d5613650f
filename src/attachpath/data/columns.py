"""A small table of named numpy columns: what a fit needs of its data file.

Why it exists: importing pandas (and the pyarrow it loads) costs about 0.8 s
CPU, more than reading, checking and fitting a study-sized CSV.  A fit given
a .csv or .tsv path reads it into a `Columns` (data/io.py, without pandas)
and checks it (data/checks.py) on plain arrays; everything else keeps using
DataFrames, and `to_frame()` gives one when a caller needs it.

A column is float64 (numbers, NaN where missing), int64 (whole numbers, none
missing) or object (text), exactly as pandas' read_csv types the same cells.
Rows have no labels of their own: a row's label is its 0-based position, as
in the RangeIndex of a frame read from a CSV file.

Example::

    >>> import numpy as np
    >>> t = Columns({"client": np.array([17, 18]), "x": np.array([2.5, np.nan])})
    >>> t.columns, len(t), t.column("client").tolist()
    (['client', 'x'], 2, [17, 18])
"""

from __future__ import annotations

import sys

import numpy as np

from ..table import Table


class Columns(Table):
    """A data file's columns: a table.Table (name -> read-only numpy array,
    all of one length, in file order) with a DataFrame's `attrs` ("all_columns":
    every name of the file's header; "reading": how a non-standard file was
    read) and its `columns` list."""

    __slots__ = ("attrs",)

    def __init__(self, data: dict[str, np.ndarray], attrs: dict | None = None):
        super().__init__(data)
        self.attrs = dict(attrs or {})

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def column(self, name) -> np.ndarray:
        return self[name]

    def to_frame(self):
        """The same table as a pandas DataFrame (imports pandas)."""
        frame = super().to_frame()
        frame.attrs.update(self.attrs)
        return frame


def is_frame(data) -> bool:
    """Whether `data` is a pandas DataFrame, without importing pandas (an
    object cannot be a DataFrame unless pandas is loaded)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(data, pd.DataFrame)


def values_of(table, name) -> np.ndarray:
    """One column of a Columns or a DataFrame as a numpy array."""
    if isinstance(table, Columns):
        return table.column(name)
    return table[name].to_numpy()


def row_labels(table, rows) -> np.ndarray:
    """The row labels of `rows` (positions or a mask): a DataFrame's index
    labels, a Columns' positions."""
    if isinstance(table, Columns):
        return np.arange(len(table))[rows]
    return table.index[rows]


def isna(values: np.ndarray) -> np.ndarray:
    """Missing cells of a column (pd.isna for object arrays that may hold
    more than text)."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind in "iub":
        return np.zeros(len(values), dtype=bool)
    if all(type(v) is str for v in values):
        return np.zeros(len(values), dtype=bool)
    import pandas as pd
    return pd.isna(values)


def factorize(values: np.ndarray):
    """(codes, uniques) in order of first appearance, as pd.factorize, for
    numbers or text; other object arrays go to pandas."""
    if values.dtype.kind not in "fiub" and not all(type(v) is str for v in values):
        import pandas as pd
        return pd.factorize(values)
    uniques, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(-1)], uniques[order]
