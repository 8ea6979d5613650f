"""APA number formatting shared by the diagrams and the reports.

* fixed decimals and a true minus sign (U+2212), never a negative zero;
* no leading zero for quantities that cannot exceed 1 in absolute value
  (standardized estimates, correlations, R², p values): ".47", "−.36".

>>> num(-0.2331, 3), num(0.4737, 3, bounded=True), num(-0.0004, 2), num(float("nan"), 2)
('−0.233', '.474', '0.00', 'NA')
>>> p_value(0.0004), p_value(0.0321), p_value(0.99971)
('< .001', '.032', '> .999')
"""

from __future__ import annotations

import math

MINUS = "\u2212"


def finite(x) -> bool:
    """A real, finite number (not None, not a bool, not NaN or inf)."""
    try:
        return x is not None and not isinstance(x, bool) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def num(x, decimals: int, *, bounded: bool = False, missing: str = "NA") -> str:
    """x with fixed decimals; `bounded` drops the leading zero when |x| < 1."""
    if not finite(x):
        return missing
    x = float(x)
    body = f"{abs(x):.{decimals}f}"
    negative = x < 0 and float(body) != 0.0
    if bounded and body.startswith("0.") and decimals > 0:
        body = body[1:]
    return (MINUS if negative else "") + body


def p_value(p, missing: str = "NA") -> str:
    """The one p-value style of every output (summaries, reports, diagrams):
    '< .001', '.032', '> .999', without 'p ='."""
    if not finite(p):
        return missing
    p = float(p)
    if p < 0.001:
        return "< .001"
    if p >= 0.9995:
        return "> .999"
    return num(p, 3, bounded=True)
