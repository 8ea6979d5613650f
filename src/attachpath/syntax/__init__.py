"""Reading lavaan model syntax: `parse` text into Statements, and
`Expression` for the arithmetic of `:=` definitions and constraints."""

from attachpath.syntax.expression import Expression
from attachpath.syntax.parser import parse
from attachpath.syntax.statement import Statement

__all__ = ["parse", "Expression", "Statement"]
