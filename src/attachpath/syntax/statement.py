"""One statement of a model spec, as written: the parser's output.

The parser turns spec text into a tuple of Statement values (lavaan's "flat"
table); attachpath.partable builds the full parameter table from them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    # lavaan's c() modifiers, one element per group (None when not given):
    # labels (None: no label), fixed values (None: NA, free), start values
    group_label: tuple | None = None
    group_fixed: tuple | None = None
    group_start: tuple | None = None

    @property
    def per_group(self) -> bool:
        """Whether a c() modifier gives this statement values per group."""
        return any(v is not None for v in (self.group_label, self.group_fixed,
                                           self.group_start))

    @property
    def group_count(self) -> int:
        """How many values its c() modifiers give (0 without one)."""
        return max((len(v) for v in (self.group_label, self.group_fixed,
                                     self.group_start) if v is not None), default=0)

    def in_group(self, g: int) -> "Statement":
        """The statement as it holds in group g (0-based): its c() modifiers
        replaced by their g-th elements."""
        if not self.per_group:
            return self
        out = replace(self, group_label=None, group_fixed=None, group_start=None)
        if self.group_label is not None:
            out = replace(out, label=self.group_label[g])
        if self.group_fixed is not None:
            value = self.group_fixed[g]
            out = replace(out, fixed=value, free=value is None)
        if self.group_start is not None and self.group_start[g] is not None:
            out = replace(out, start=self.group_start[g])
        return out
