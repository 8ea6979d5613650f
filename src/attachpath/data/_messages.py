"""Small helpers that format values and rows for error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd


def show(value) -> str:
    """A value as a message shows it: numbers plain, strings quoted.

    Example::

        >>> show(np.int64(3)), show("T3"), show(np.float64(2.5))
        ('3', "'T3'", '2.5')
    """
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def row_name(frame: pd.DataFrame, pos: int) -> str:
    """'row 5 (index label 4)' for the 0-based position `pos` of `frame`.

    Example::

        >>> row_name(pd.DataFrame({"x": [1, 2]}, index=["a", "b"]), 1)
        "row 2 (index label 'b')"
    """
    return f"row {pos + 1} (index label {show(frame.index[pos])})"
