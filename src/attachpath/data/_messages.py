"""Small helpers that format values and rows for error messages."""

from __future__ import annotations

import numpy as np

from attachpath.data.columns import Columns


def show(value) -> str:
    """A value as a message shows it: numbers plain, strings quoted.

    Example::

        >>> show(np.int64(3)), show("T3"), show(np.float64(2.5))
        ('3', "'T3'", '2.5')
    """
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def row_label(frame, pos: int):
    """The label of the row at 0-based position `pos`: a DataFrame's index
    label; a Columns table's position (a CSV frame's RangeIndex label)."""
    return pos if isinstance(frame, Columns) else frame.index[pos]


def row_name(frame, pos: int) -> str:
    """'row 5 (index label 4)' for the 0-based position `pos` of `frame`
    (a DataFrame or a Columns table).

    Example::

        >>> import pandas as pd
        >>> row_name(pd.DataFrame({"x": [1, 2]}, index=["a", "b"]), 1)
        "row 2 (index label 'b')"
    """
    return f"row {pos + 1} (index label {show(row_label(frame, pos))})"
