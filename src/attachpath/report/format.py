"""APA-style number formatting for report tables.

* fixed decimals; a true minus sign (U+2212) and never a negative zero;
* no leading zero for quantities that cannot exceed 1 in absolute value
  (p values, standardized estimates below 1, fit indices such as CFI):
  ".47", "−.36";
* p values to three decimals, "< .001" below .001 and "> .999" above .999;
* missing or non-finite values as an em dash.

>>> num(-0.2331), num(0.4737, bounded=True), p_value(0.0004), p_value(0.6213)
('−0.233', '.474', '< .001', '.621')
>>> ci(-0.278, -0.188)
'[−0.278, −0.188]'
"""

from __future__ import annotations


from ..apa import MINUS, finite  # noqa: F401 (re-exported for the report modules)
from ..apa import num as _num, p_value as _p_value

DASH = "\u2014"
EN_DASH = "\u2013"


def num(x, decimals: int = 3, *, bounded: bool = False) -> str:
    """x with fixed decimals; `bounded` drops the leading zero when |x| < 1."""
    return _num(x, decimals, bounded=bounded, missing=DASH)


def std(x, decimals: int = 3) -> str:
    """A standardized estimate: no leading zero when it is below 1 in size."""
    return num(x, decimals, bounded=True)


def p_value(p) -> str:
    """An APA p value for a table cell (without 'p ='): '< .001', '.032', '> .999'."""
    return _p_value(p, missing=DASH)


def p_text(p) -> str:
    """'p < .001' or 'p = .032' (plain text; callers italicise p)."""
    s = p_value(p)
    if s == DASH:
        return "p = NA"
    return f"p {s}" if s[0] in "<>" else f"p = {s}"


def ci(lo, hi, decimals: int = 3, *, bounded: bool = False) -> str:
    if not (finite(lo) and finite(hi)):
        return DASH
    return f"[{num(lo, decimals, bounded=bounded)}, {num(hi, decimals, bounded=bounded)}]"


def integer(x) -> str:
    if not finite(x):
        return DASH
    return f"{int(round(float(x))):d}".replace("-", MINUS)


def percent(level: float) -> str:
    """0.95 -> '95%', 0.9 -> '90%', 0.975 -> '97.5%'."""
    v = round(float(level) * 100, 6)
    return f"{v:g}%"


def decimals_for(values, base: int = 3, most: int = 4) -> int:
    """Decimals so that the smallest non-zero |value| shows a significant digit
    (at least `base`, at most `most`)."""
    vals = [abs(float(v)) for v in values if finite(v) and float(v) != 0.0]
    if not vals:
        return base
    small = min(vals)
    d = base
    while d < most and small < 10 ** (-(d - 1)):
        d += 1
    return d
