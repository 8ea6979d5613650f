"""APA number formatting for diagram labels and figure notes.

* fixed decimals (default 2);
* no leading zero for values that cannot exceed 1 in absolute value:
  standardized estimates, correlations, R² and p values (".47", "−.36");
* a true minus sign (U+2212), never a negative zero ("−.00" is ".00");
* significance stars: * p < .05, ** p < .01, *** p < .001.

Italic runs (the statistical symbols N, p, R, χ) are marked with the
private characters ITALIC_ON / ITALIC_OFF; the DOT and SVG writers turn them
into <I>…</I> and <tspan font-style="italic">…</tspan>, and `plain()`
removes them.
"""

from __future__ import annotations

from ..apa import MINUS, finite  # noqa: F401 (re-exported for the diagram modules)
from ..apa import num as _num
NBSP = "\u00a0"       # keeps "p < .05" on one line in a wrapped note
ITALIC_ON = "\x01"
ITALIC_OFF = "\x02"

STAR_LEVELS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


def italic(text: str) -> str:
    return f"{ITALIC_ON}{text}{ITALIC_OFF}"


def plain(text: str) -> str:
    """The text without italic markers (and with ordinary spaces)."""
    return text.replace(ITALIC_ON, "").replace(ITALIC_OFF, "").replace(NBSP, " ")


def runs(text: str) -> list[tuple[str, bool]]:
    """[(text, is_italic), ...] of one line."""
    out: list[tuple[str, bool]] = []
    cur, it = "", False
    for ch in text:
        if ch in (ITALIC_ON, ITALIC_OFF):
            if cur:
                out.append((cur, it))
            cur, it = "", ch == ITALIC_ON
        else:
            cur += ch
    if cur:
        out.append((cur, it))
    return out


def num(x, decimals: int = 2, *, bounded: bool = False) -> str:
    """A number with fixed decimals; `bounded` drops the leading zero.

    >>> num(0.4677, 2, bounded=True), num(-0.361, 2, bounded=True), num(-0.001)
    ('.47', '−.36', '0.00')
    >>> num(1.234, 2, bounded=True), num(-12.5, 1)
    ('1.23', '−12.5')
    """
    return _num(x, decimals, bounded=bounded, missing="NA")


def fixed_value(x) -> str:
    """A fixed parameter value as written in a spec: 1, 0.5, -2 (shortest form)."""
    if not finite(x):
        return "NA"
    x = float(x)
    if x == int(x):
        return (MINUS if x < 0 else "") + str(abs(int(x)))
    text = f"{abs(x):.6g}"
    return (MINUS if x < 0 else "") + text


def stars(p) -> str:
    if not finite(p):
        return ""
    for level, mark in STAR_LEVELS:
        if p < level:
            return mark
    return ""


def p_text(p) -> str:
    """APA p: 'p < .001' or 'p = .032' (italic p)."""
    if not finite(p):
        return f"{italic('p')} = NA"
    if p < 0.001:
        return f"{italic('p')}{NBSP}<{NBSP}.001"
    return f"{italic('p')}{NBSP}={NBSP}{num(p, 3, bounded=True)}"


def interval(lo, hi, decimals: int = 2, *, bounded: bool = False) -> str:
    return f"[{num(lo, decimals, bounded=bounded)}, {num(hi, decimals, bounded=bounded)}]"


def plural(word: str, n: int) -> str:
    """'therapist' -> 'therapists' (a simple English plural for cluster units)."""
    if n == 1 or not word:
        return word
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"
