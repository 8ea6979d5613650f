"""A fit's estimates as named columns: what attachpath's own writers read.

The summary, estimates.csv, fit.json, the report and the diagrams read the
estimates of a fit row by row or column by column; none of them needs
pandas, whose import costs more CPU than the whole of a small fit from the
command line (issues 12 and 19).  `Table` holds the columns as numpy arrays
(strings as object arrays, integers as int64, numbers as float64) in
lavaan's parameterEstimates order; `to_frame()` gives the pandas DataFrame
that `Result.estimates` shows to users, with the same dtypes as before.

Example::

    >>> t = Table({"lhs": ["y", "y"], "op": ["~", "~~"], "est": [0.5, 1.2]})
    >>> t.where(t["op"] == "~").records()
    [{'lhs': 'y', 'op': '~', 'est': 0.5}]
"""

from __future__ import annotations

import csv
import io

import numpy as np


class Table:
    """Columns of equal length by name, read-only.  A value: operations
    return new tables and never change this one."""

    __slots__ = ("_columns", "_n")

    def __init__(self, columns: dict):
        cols = {}
        n = None
        for name, values in columns.items():
            a = np.asarray(values)
            if a.dtype.kind in "US":            # text as Python str objects
                a = a.astype(object)
            if a.ndim != 1:
                raise ValueError(f"column '{name}' is not one-dimensional")
            if n is not None and len(a) != n:
                raise ValueError(f"column '{name}' has {len(a)} values, not {n}")
            n = len(a)
            if a.flags.writeable:
                a = a.copy()
                a.setflags(write=False)
            cols[name] = a
        self._columns = cols
        self._n = 0 if n is None else n

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._columns)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, name) -> bool:
        return name in self._columns

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._columns[name]
        except KeyError:
            raise KeyError(f"no column '{name}'; the table has {', '.join(self._columns)}") \
                from None

    def __eq__(self, other) -> bool:
        """Same columns in the same order with equal values (NaN equal to NaN)."""
        if not isinstance(other, Table):
            return NotImplemented
        if self.columns != other.columns or len(self) != len(other):
            return False
        return all(np.array_equal(a, b, equal_nan=a.dtype.kind == "f" == b.dtype.kind)
                   for a, b in zip(self._columns.values(), other._columns.values()))

    __hash__ = None

    def __repr__(self) -> str:
        return f"<Table: {self._n} rows, columns {', '.join(self._columns)}>"

    def where(self, mask) -> "Table":
        """The rows where `mask` (bool array) is true, in order."""
        mask = np.asarray(mask, dtype=bool)
        return Table({k: v[mask] for k, v in self._columns.items()})

    def take(self, rows) -> "Table":
        """The rows at the positions `rows`, in that order."""
        rows = np.asarray(rows, dtype=int)
        return Table({k: v[rows] for k, v in self._columns.items()})

    def drop(self, *names: str) -> "Table":
        return Table({k: v for k, v in self._columns.items() if k not in names})

    def with_values(self, name: str, rows, value) -> "Table":
        """A copy with column `name` set to `value` at the rows of `rows`
        (a bool mask)."""
        cols = dict(self._columns)
        col = cols[name].copy()
        col[np.asarray(rows, dtype=bool)] = value
        cols[name] = col
        return Table(cols)

    def records(self) -> list[dict]:
        """One dict per row with Python values, as DataFrame.to_dict("records")."""
        names = list(self._columns)
        cols = [v.tolist() for v in self._columns.values()]
        return [dict(zip(names, row)) for row in zip(*cols)]

    def to_csv(self, float_format: str) -> str:
        """The table as CSV text, byte for byte what pandas writes for
        `self.to_frame().to_csv(index=False, float_format=float_format,
        lineterminator="\\n")`: `float_format % x` in float columns only,
        NaN (and None) as an empty field, integers and text as they print,
        quoting as the csv module's QUOTE_MINIMAL (pandas writes through it).
        Object columns are taken to hold text, as the estimates' do."""
        cells = []
        for col in self._columns.values():
            if col.dtype.kind == "f":
                cells.append(["" if x != x else float_format % x for x in col.tolist()])
            else:
                # None and NaN are pandas' missing values: written as na_rep ""
                cells.append(["" if x is None or x != x else x for x in col.tolist()])
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(self._columns)
        w.writerows(zip(*cells))
        return buf.getvalue()

    @classmethod
    def from_frame(cls, frame) -> "Table":
        """The columns of a pandas DataFrame (a Result made by hand may give
        only its estimates DataFrame)."""
        return cls({str(c): frame[c].to_numpy() for c in frame.columns})

    def to_frame(self):
        """The pandas DataFrame of these columns (imports pandas)."""
        import pandas as pd
        # text as lists, so that pandas infers its text dtype (object or str);
        # an empty text column gets that dtype by name ([] would be float64)
        return pd.DataFrame({k: (v.copy() if v.dtype != object else
                                 v.tolist() if len(v) else pd.Series([], dtype="str"))
                             for k, v in self._columns.items()})
