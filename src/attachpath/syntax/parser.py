"""lavaan model syntax -> a tuple of Statement values.

Text is read line by line into tokens, the tokens are grouped into logical
statements (split at `;` and line ends, joined across lines that are
visibly incomplete), and each statement becomes one Statement per
lhs x rhs pair.  Checks that need the whole spec (repeats, names used in
expressions) run last, so a label may be defined after it is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from attachpath.errors import SpecError, closest
from attachpath.syntax import lexer as lx
from attachpath.syntax.expression import Expression
from attachpath.syntax.lexer import Source, Token
from attachpath.syntax.statement import Statement
from attachpath.syntax.terms import (join_tokens, parse_lhs, parse_rhs, text_of,
                                     unsupported)

_TERM_OPS = ("=~", "~", "~~")
_EXPR_OPS = ("==", "<", ">")
_KNOWN_OPS = _TERM_OPS + (":=",) + _EXPR_OPS

_UNSUPPORTED_OPS = {
    "|": "'|' (thresholds of ordinal variables)",
    "~*~": "'~*~' (scale factors)",
    "<~": "'<~' (composites)",
    "%": "'%' (the operator of lavaan's extensions)",
    "|~": "'|~'",
}
_BLOCKS = ("level", "group", "block")
MAX_LEVELS = 2

_UNKNOWN_HINTS = {
    "=": "use '=~' for a latent variable, '~' for a regression, or ':=' to "
         "define a parameter",
    "->": "lavaan writes a regression of y on x as 'y ~ x', not with arrows",
    "<-": "lavaan writes a regression of y on x as 'y ~ x', not with arrows "
          "(for the constraint a < -1 put a space between '<' and '-')",
    ">=": "inequality constraints are written with '>' or '<'",
    "<=": "inequality constraints are written with '>' or '<'",
    "=>": "inequality constraints are written with '>' or '<'",
    "=<": "inequality constraints are written with '>' or '<'",
    "~=": "use '=~' for a latent variable or '~~' for a covariance",
}

# A line ending in one of these cannot end a statement, so the next line
# continues it; the same holds when the next line starts with `+` or `*`.
_OPEN_ENDS = (lx.PLUS, lx.STAR, lx.MINUS, lx.SLASH, lx.CARET, lx.COMMA, lx.OP)
_EXPR_KINDS = (lx.NAME, lx.NUMBER, lx.PLUS, lx.MINUS, lx.STAR, lx.SLASH,
               lx.CARET, lx.LPAREN, lx.RPAREN, lx.COMMA)


def parse(text: str, file: str | None = None) -> tuple[Statement, ...]:
    """Parse lavaan model syntax; raise SpecError naming the first problem."""
    if file is not None and not isinstance(file, str):
        file = os.fsdecode(file) if isinstance(file, (bytes, os.PathLike)) else str(file)
    if not isinstance(text, str):
        hint = ("decode it first, e.g. spec.decode('utf-8')"
                if isinstance(text, (bytes, bytearray)) else
                "pass the model syntax as a string")
        raise SpecError(f"The model spec must be text (str), not "
                        f"{type(text).__name__}; {hint}.", file=file)
    return _Parser(text, file).run()


class _Parser:
    def __init__(self, text: str, file: str | None):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.src = Source(text.split("\n"), file)
        self.statements: list[Statement] = []
        self.seen: dict[tuple, Statement] = {}
        # (statement, tokens of its expression sides) for the final name check
        self.expressions: list[tuple[Statement, list[Token]]] = []
        self.level = ""                 # label of the current `level:` block
        self.levels: list[str] = []     # labels in order of appearance

    def run(self) -> tuple[Statement, ...]:
        for tokens in self._logical_statements():
            self._statement(tokens)
        if not self.statements:
            raise SpecError("The model spec is empty: it has only blank lines "
                            "or comments. Write at least one statement, such "
                            "as 'y ~ x'.", file=self.src.file)
        self._check_expression_names()
        if len(self.levels) == 1:
            raise SpecError(f"The spec has only one level ('level: {self.levels[0]}'); "
                            f"a two-level model needs a 'level: 2' block too (it may "
                            f"hold just the variances, e.g. 'y ~~ y').",
                            file=self.src.file)
        return tuple(self.statements)

    # -- grouping tokens into statements ---------------------------------

    def _logical_statements(self) -> Iterator[list[Token]]:
        # A generator, so that errors come out in the order of the text.
        current: list[Token] = []
        opened: list[Token] = []
        for lineno, line in enumerate(self.src.lines, start=1):
            tokens = lx.tokenize_line(line, lineno, self.src.file)
            if not tokens:
                continue
            if current and not self._continues(current, tokens[0], opened):
                yield current
                current = []
            for tok in tokens:
                if tok.kind == lx.SEMI:
                    if opened:
                        raise self.src.error("This '(' is not closed before the "
                                             "';' that ends the statement; add "
                                             "the matching ')'.", opened[-1])
                    if current:
                        yield current
                    current = []
                    continue
                if tok.kind == lx.LPAREN:
                    opened.append(tok)
                elif tok.kind == lx.RPAREN:
                    if not opened:
                        raise self.src.error("This ')' has no matching '('; "
                                             "remove it or add the '('.", tok)
                    opened.pop()
                current.append(tok)
        if opened:
            raise self.src.error("This '(' is never closed; add the matching "
                                 "')'.", opened[-1])
        if current:
            yield current

    @staticmethod
    def _continues(current: list[Token], first: Token, opened: list[Token]) -> bool:
        return bool(opened) or current[-1].kind in _OPEN_ENDS \
            or first.kind in (lx.PLUS, lx.STAR, lx.OP)

    # -- one statement ---------------------------------------------------

    def _statement(self, tokens: list[Token]) -> None:
        first = tokens[0]
        if first.kind == lx.NAME and first.text.lower() in _BLOCKS \
                and len(tokens) > 1 and tokens[1].kind == lx.COLON:
            if first.text.lower() != "level":
                raise unsupported(self.src, f"A '{first.text}:' block", first,
                                  text_of(tokens[:2]))
            tokens = self._level_header(tokens)
            if not tokens:
                return
            first = tokens[0]
        ops = [t for t in tokens if t.kind == lx.OP]
        for k, op in enumerate(ops):
            self._check_operator(op, k, ops)
        if not ops:
            hint = (" If it continues the statement above, end that line with "
                    "'+'." if self.statements else "")
            raise self.src.error(f"'{text_of(tokens)}' has no operator; each "
                                 f"statement needs one of "
                                 f"{', '.join(_KNOWN_OPS)}, as in 'y ~ x'.{hint}",
                                 first, text_of(tokens))
        op = ops[0]
        at = tokens.index(op)
        lhs, rhs = tokens[:at], tokens[at + 1:]
        if op.text in _TERM_OPS:
            self._term_statement(lhs, op, rhs)
        elif op.text == ":=":
            self._definition(lhs, op, rhs)
        else:
            self._constraint(lhs, op, rhs)

    def _level_header(self, tokens: list[Token]) -> list[Token]:
        """`level: 1` (or `level: within`) opens a block; returns the tokens
        after the header (a statement may follow on the same line)."""
        if len(tokens) < 3 or tokens[2].kind not in (lx.NAME, lx.NUMBER):
            raise self.src.error("'level:' needs a label after it, as in "
                                 "'level: 1' or 'level: within'.", tokens[1])
        label = tokens[2].text
        model_before = any(s.op not in (":=", "==", "<", ">") for s in self.statements)
        if not self.levels and model_before:
            raise self.src.error("The first 'level:' line comes after model "
                                 "statements; in a two-level spec every model "
                                 "statement belongs to a level, so start the spec "
                                 "with 'level: 1'.", tokens[0], text_of(tokens[:3]))
        if label in self.levels:
            raise self.src.error(f"'level: {label}' appears a second time; write "
                                 f"each level's statements in one block.",
                                 tokens[2], label)
        if len(self.levels) == MAX_LEVELS:
            raise self.src.error(
                f"A third level ('level: {label}') is not supported: lavaan's "
                f"syntax has two levels. For sessions in clients in therapists "
                f"write a two-level spec and fit it with --cluster "
                f"therapist/client.", tokens[2], label)
        self.levels.append(label)
        self.level = label
        return tokens[3:]

    def _check_operator(self, op: Token, k: int, ops: list[Token]) -> None:
        if op.text in _UNSUPPORTED_OPS:
            raise unsupported(self.src, f"The operator {_UNSUPPORTED_OPS[op.text]}",
                              op)
        if op.text not in _KNOWN_OPS:
            hint = _UNKNOWN_HINTS.get(op.text)
            if hint:
                raise self.src.error(f"'{op.text}' is not an operator of lavaan "
                                     f"syntax; {hint}.", op)
            raise self.src.error(f"'{op.text}' is not an operator of lavaan "
                                 f"syntax; the operators are "
                                 f"{', '.join(_KNOWN_OPS)}.", op,
                                 suggestion=closest(op.text, _KNOWN_OPS))
        if k > 0:
            raise self.src.error(f"'{op.text}' is a second operator in one "
                                 f"statement (after '{ops[0].text}' on line "
                                 f"{ops[0].line}); put each statement on its "
                                 f"own line or separate statements with ';'.", op)

    def _term_statement(self, lhs: list[Token], op: Token, rhs: list[Token]) -> None:
        names = parse_lhs(self.src, lhs, op)
        terms = parse_rhs(self.src, rhs, op)
        for name in names:
            for term in terms:
                where = name if term.intercept else term.token
                self._add(Statement(
                    lhs=name.text, op="~1" if term.intercept else op.text,
                    rhs="" if term.intercept else term.name, label=term.label,
                    fixed=term.fixed, free=term.free, start=term.start,
                    group_label=term.group_label, group_fixed=term.group_fixed,
                    group_start=term.group_start, line=where.line, col=where.col,
                    source=self.src.lines[where.line - 1], level=self.level), where)

    def _definition(self, lhs: list[Token], op: Token, rhs: list[Token]) -> None:
        if not lhs:
            raise self.src.error("':=' has nothing on its left; write the new "
                                 "parameter's name before it, as in "
                                 "'ab := a*b'.", op)
        if len(lhs) != 1 or lhs[0].kind != lx.NAME or lhs[0].text in lx.RESERVED:
            shown = text_of(lhs)
            raise self.src.error(f"'{shown}' cannot be defined with ':='; its "
                                 f"left side must be one new name (no modifiers), "
                                 f"as in 'ab := a*b'.", lhs[0], shown)
        if not rhs:
            raise self.src.error(f"':=' has no expression after it; write what "
                                 f"'{lhs[0].text}' equals, as in "
                                 f"'{lhs[0].text} := a*b'.", op)
        name = lhs[0]
        stmt = Statement(lhs=name.text, op=":=", rhs=self._expression(rhs),
                         line=name.line, col=name.col,
                         source=self.src.lines[name.line - 1])
        self._add(stmt, name)
        self.expressions.append((stmt, rhs))

    def _constraint(self, lhs: list[Token], op: Token, rhs: list[Token]) -> None:
        for side, name in ((lhs, "left"), (rhs, "right")):
            if not side:
                raise self.src.error(f"'{op.text}' has nothing on its {name}; "
                                     f"a constraint compares two expressions, "
                                     f"as in 'a {op.text} b'.", op)
        left, right = self._expression(lhs), self._expression(rhs)
        stmt = Statement(lhs=left, op=op.text, rhs=right, line=rhs[0].line,
                         col=rhs[0].col, source=self.src.lines[rhs[0].line - 1])
        self._add(stmt, rhs[0])
        self.expressions.append((stmt, lhs + rhs))

    def _expression(self, tokens: list[Token]) -> str:
        """The normalised text of an expression side, checked by Expression."""
        for tok in tokens:
            if tok.kind not in _EXPR_KINDS:
                raise self.src.error(f"'{tok.text}' cannot appear in an "
                                     f"expression; use labels, numbers, "
                                     f"+ - * / ^, parentheses and exp(), log(), "
                                     f"sqrt(), abs().", tok)
        text, starts = join_tokens(tokens)
        try:
            Expression(text)
        except SpecError as err:
            culprit = max((k for k, s in enumerate(starts) if s <= err.col - 1),
                          default=0)
            raise self.src.error(err.message, tokens[culprit], err.text) from None
        return text

    # -- whole-spec checks -----------------------------------------------

    def _add(self, stmt: Statement, where: Token) -> None:
        if stmt.op == ":=":
            key: tuple = (stmt.lhs, ":=")
        elif stmt.op == "~~":
            key = (*sorted((stmt.lhs, stmt.rhs)), "~~", stmt.level)
        else:
            key = (stmt.lhs, stmt.op, stmt.rhs, stmt.level)
        first = self.seen.get(key)
        if first is not None:
            if stmt.op == ":=":
                msg = (f"'{stmt.lhs}' is already defined on line {first.line}; "
                       f"give this definition another name or remove it.")
            else:
                if stmt.op == "~~" and stmt.lhs != first.lhs:
                    msg = (f"'{_describe(stmt)}' is the same parameter as "
                           f"'{_describe(first)}' on line {first.line} (a "
                           f"covariance is symmetric); remove one of them.")
                else:
                    msg = (f"'{_describe(stmt)}' already appears on line "
                           f"{first.line}; remove one of them.")
            raise self.src.error(msg, where)
        self.seen[key] = stmt
        self.statements.append(stmt)

    def _check_expression_names(self) -> None:
        labels = {}
        for stmt in self.statements:
            for label in (stmt.label, *(stmt.group_label or ())):
                if label is not None:
                    labels.setdefault(label, stmt)
        order = {id(s): k for k, s in enumerate(self.statements)}
        defined = {s.lhs: s for s in self.statements if s.op == ":="}
        for name, stmt in defined.items():
            if name in labels:
                raise self.src.error_at(
                    f"'{name}' is already a parameter label (line "
                    f"{labels[name].line}); give the ':=' definition another "
                    f"name.", stmt.line, stmt.col, name)
        for stmt, tokens in self.expressions:
            for k, tok in enumerate(tokens):
                if tok.kind != lx.NAME or (k + 1 < len(tokens)
                                           and tokens[k + 1].kind == lx.LPAREN):
                    continue
                self._check_name(stmt, tok, labels, defined, order)

    def _check_name(self, stmt, tok, labels, defined, order) -> None:
        name = tok.text
        if name in labels:
            return
        target = defined.get(name)
        if target is not None:
            if stmt.op != ":=" or order[id(target)] < order[id(stmt)]:
                return
            if target is stmt:
                raise self.src.error(f"'{name}' is defined in terms of itself; "
                                     f"use other labels on the right of ':='.",
                                     tok)
            raise self.src.error(f"'{name}' is used here but defined only later, "
                                 f"on line {target.line}; move this definition "
                                 f"below that one.", tok)
        where = "':=' definition" if stmt.op == ":=" else f"'{stmt.op}' constraint"
        raise self.src.error(
            f"'{name}' in this {where} is neither a parameter label nor a name "
            f"defined with ':='; label a parameter (as in '{name}*x') or fix the "
            f"name.", tok, suggestion=closest(name, [*labels, *defined]))


def _describe(stmt: Statement) -> str:
    if stmt.op == "~1":
        return f"{stmt.lhs} ~ 1"
    return f"{stmt.lhs} {stmt.op} {stmt.rhs}"


__all__ = ["parse"]
