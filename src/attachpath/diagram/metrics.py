"""Text widths in Helvetica (Arial and Nimbus Sans share its metrics).

Widths are the Adobe Helvetica AFM advance widths in 1/1000 em; characters
outside the table count as the width of a digit.  The layout sizes nodes and
label boxes from these, so text fits whichever of the three fonts renders it.
"""

from __future__ import annotations

from . import fmt

_ASCII = (
    # 32..63:  space ! " # $ % & ' ( ) * + , - . / 0-9 : ; < = > ?
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    # 64..95: @ A-Z [ \ ] ^ _
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    # 96..126: ` a-z { | } ~
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)
WIDTHS = {chr(32 + i): w for i, w in enumerate(_ASCII)}
WIDTHS.update({
    "\u2212": 584,   # minus
    "\u00a0": 278,   # no-break space
    "\u2013": 556,   # en dash
    "\u2014": 1000,  # em dash
    "\u00d7": 584,   # multiplication sign
    "\u00b2": 333,   # superscript two
    "\u2265": 549,   # ≥
    "\u2264": 549,
    "\u03c7": 549,   # χ (Symbol font width)
    "\u03b2": 549,
    "\u00e9": 556, "\u00e8": 556, "\u00e4": 556, "\u00f6": 556, "\u00fc": 556,
    "\u00c4": 667, "\u00d6": 778, "\u00dc": 722, "\u00df": 611,
})
DEFAULT = 556

LINE = 1.22      # line height in em


def text_width(text: str, size: float) -> float:
    """Width in points of one line of text at `size` points."""
    return sum(WIDTHS.get(ch, DEFAULT) for ch in fmt.plain(text)) * size / 1000.0


def wrap_words(text: str, size: float, width: float) -> list[str]:
    """`text` broken at spaces into lines no wider than `width` points at
    `size` points (a single word wider than that keeps a line of its own)."""
    lines, cur = [], ""
    for w in text.split(" "):
        cand = (cur + " " + w) if cur else w
        if cur and text_width(cand, size) > width:
            lines.append(cur)
            cur = w
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines


def block_size(lines: list[str], size: float, sub: list[str] | None = None,
               sub_size: float = 9.0) -> tuple[float, float]:
    """(width, height) of lines of text plus optional smaller lines."""
    w = max((text_width(x, size) for x in lines), default=0.0)
    h = len(lines) * size * LINE
    for x in sub or ():
        w = max(w, text_width(x, sub_size))
        h += sub_size * LINE
    return w, h
