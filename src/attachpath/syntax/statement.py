"""One statement of a model spec, as written: the parser's output.

The parser turns spec text into a tuple of Statement values (lavaan's "flat"
table); attachpath.partable builds the full parameter table from them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Operators of lavaan's model syntax that attachpath estimates.
OPERATORS = ("=~", "~", "~~", "~1", ":=", "==", "<", ">")


@dataclass(frozen=True)
class Statement:
    """One lhs-op-rhs term.

    `y ~ a*x1 + 0.5*x2` gives two Statements.  For `~1` the rhs is "".  For
    `:=` the lhs is the new name and rhs the expression text; for `==`, `<`
    and `>` both sides are expression texts (whitespace-normalised).

    Modifiers of a term: `label` ("a" in a*x, or from label("a")), `fixed`
    (0.5 in 0.5*x), `free` (True for NA*x: free even where a default would fix
    it), `start` (start(0.3)*x).  A term may carry several (e.g. a*start(1)*x).

    `level` is the label of the `level:` block the statement sits in (lavaan's
    two-level syntax), "" when the spec has no blocks.

    `line` and `col` (1-based) point at the rhs term (or at the lhs for
    single-sided statements); `source` is the whole text of that line.
    """

    lhs: str
    op: str
    rhs: str
    label: str | None = None
    fixed: float | None = None
    free: bool = False
    start: float | None = None
    line: int = 0
    col: int = 0
    source: str = ""
    level: str = ""     # the `level:` block's label as written ("" outside blocks)
