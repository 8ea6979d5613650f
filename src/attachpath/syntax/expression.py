"""Arithmetic of `:=` definitions and `==`/`<`/`>` constraints.

The text is lexed with the model-syntax lexer, rewritten into Python source in
which every name and number is a placeholder, parsed with `ast`, and checked
against a whitelist.  Evaluation walks that checked tree with numpy, so it
never runs code the user wrote and works on arrays of bootstrap or Monte
Carlo draws as well as on single estimates.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from attachpath.errors import SpecError
from attachpath.syntax import lexer as lx

# numpy ufuncs by name: numpy is imported when an expression is evaluated,
# not when a spec is parsed (`attachpath check` and `--help` stay light)
FUNCTIONS = {"exp": "exp", "log": "log", "sqrt": "sqrt", "abs": "abs"}

_BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply",
           ast.Div: "divide", ast.Pow: "power"}
_UNARY = {ast.USub: "negative", ast.UAdd: "positive"}

# The evaluator recurses once per level of the tree; this bound keeps it far
# from Python's recursion limit whatever the caller's own stack depth.
MAX_DEPTH = 300

_ALLOWED = ("labels, :=-defined names, numbers, + - * / ^, parentheses and "
            + ", ".join(f"{f}()" for f in FUNCTIONS))


class Expression:
    """A checked arithmetic expression over parameter labels.

    `names` lists the labels it uses, in order of first use; function names
    are not included.  `evaluate(env)` computes it from a mapping of those
    names to floats or 1-D arrays (broadcast together).
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise SpecError(f"An expression must be text, not "
                            f"{type(text).__name__}; pass it as a string.")
        self.text = text
        self._names: list[str] = []
        self._consts: list[float] = []
        source, self._cols = self._to_python(text)
        self._tree = self._check(self._parse(source), 1)

    @property
    def _shown(self) -> str:
        return self.text if len(self.text) <= 60 else self.text[:57] + "..."

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._names)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    # -- building --------------------------------------------------------

    def _error(self, message: str, col: int, culprit: str) -> SpecError:
        return SpecError(message, line=1, col=col, text=culprit,
                         source_line=self.text)

    def _to_python(self, text: str) -> tuple[str, list[tuple[int, lx.Token]]]:
        """Python source for `text`, and (python offset, token) pairs.

        Placeholders (`_v0`, `_c0`) stand for names and numbers so that R
        names with dots, Python keywords and literals Python reads
        differently (007, 1e999) all become plain, safe identifiers.
        """
        for i, ch in enumerate(text):
            if ch in "#!":
                raise self._error(f"'{ch}' cannot appear in an expression; it "
                                  f"starts a comment in a model spec.", i + 1, ch)
        try:
            tokens = lx.tokenize_line(text.replace("\n", " "), 1)
        except SpecError as err:
            raise self._error(err.message, err.col, err.text) from None
        if not tokens:
            raise self._error("The expression is empty; write an expression "
                              "such as 'a*b'.", 1, "")
        self._check_brackets(tokens)
        pieces: list[str] = []
        cols: list[tuple[int, lx.Token]] = []
        offset = 0
        k = 0
        while k < len(tokens):
            tok = tokens[k]
            nxt = tokens[k + 1] if k + 1 < len(tokens) else None
            if tok.kind == lx.STAR and nxt is not None and nxt.kind == lx.STAR \
                    and nxt.col == tok.col + 1:
                piece, k = "**", k + 1   # R reads `**` as `^`
            else:
                piece = self._python_piece(tok, nxt)
            cols.append((offset, tok))
            pieces.append(piece)
            offset += len(piece) + 1
            k += 1
        return " ".join(pieces), cols

    def _python_piece(self, tok: lx.Token, nxt: lx.Token | None) -> str:
        if tok.kind == lx.NAME:
            if nxt is not None and nxt.kind == lx.LPAREN:
                if tok.text not in FUNCTIONS:
                    raise self._error(
                        f"'{tok.text}(' calls an unknown function; expressions "
                        f"may only use {', '.join(FUNCTIONS)}.", tok.col, tok.text)
                return tok.text
            if tok.text not in self._names:
                self._names.append(tok.text)
            return f"_v{self._names.index(tok.text)}"
        if tok.kind == lx.NUMBER:
            self._consts.append(float(tok.text))
            return f"_c{len(self._consts) - 1}"
        if tok.kind == lx.CARET:
            return "**"   # R's power operator
        if tok.kind in (lx.PLUS, lx.MINUS, lx.STAR, lx.SLASH,
                        lx.LPAREN, lx.RPAREN, lx.COMMA):
            return tok.text
        raise self._error(f"'{tok.text}' cannot appear in an expression; use "
                          f"only {_ALLOWED}.", tok.col, tok.text)

    def _check_brackets(self, tokens: list[lx.Token]) -> None:
        # Checked here because Python's messages would name placeholders, and
        # Python accepts a trailing comma in a call where R does not.
        open_: list[lx.Token] = []
        for k, tok in enumerate(tokens):
            if tok.kind == lx.COMMA and (k + 1 == len(tokens)
                                         or tokens[k + 1].kind == lx.RPAREN):
                raise self._error("This ',' has nothing after it; remove it.",
                                  tok.col, ",")
            if tok.kind == lx.LPAREN:
                open_.append(tok)
            elif tok.kind == lx.RPAREN:
                if not open_:
                    raise self._error("This ')' has no matching '('; remove it "
                                      "or add the '('.", tok.col, ")")
                open_.pop()
        if open_:
            raise self._error("This '(' is never closed; add the matching ')'.",
                              open_[-1].col, "(")

    def _token_at(self, py_offset: int) -> lx.Token:
        """The token whose Python piece covers 0-based `py_offset`."""
        best = self._cols[0][1]
        for start, tok in self._cols:
            if start <= py_offset:
                best = tok
        return best

    def _parse(self, source: str) -> ast.expr:
        try:
            return ast.parse(source, mode="eval").body
        except SyntaxError as err:
            offset = (err.offset or 0) - 1
            if "too many nested" in (err.msg or ""):
                raise self._error(f"The expression is nested too deeply (more "
                                  f"than {MAX_DEPTH} levels); simplify it.", 1,
                                  self.text[:20]) from None
            if offset < 0 or offset >= len(source.rstrip()):
                last = self._cols[-1][1]
                raise self._error(f"The expression '{self._shown}' ends too "
                                  f"soon after '{last.text}'; complete it.",
                                  last.col, last.text) from None
            tok = self._token_at(offset)
            raise self._error(f"The expression '{self._shown}' cannot be read "
                              f"at '{tok.text}': an operator or an operand is "
                              f"missing or misplaced there; fix it.",
                              tok.col, tok.text) from None
        except (RecursionError, MemoryError):
            raise self._error(f"The expression is nested too deeply (more than "
                              f"{MAX_DEPTH} levels); simplify it.", 1,
                              self.text[:20]) from None

    def _node_error(self, node: ast.AST, message: str) -> SpecError:
        tok = self._token_at(getattr(node, "col_offset", 0))
        return self._error(message.format(tok=tok.text), tok.col, tok.text)

    def _check(self, node: ast.expr, depth: int) -> ast.expr:
        if depth > MAX_DEPTH:
            raise self._node_error(node, "The expression is nested too deeply "
                                   f"(more than {MAX_DEPTH} levels); simplify it.")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            self._check(node.left, depth + 1)
            self._check(node.right, depth + 1)
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            self._check(node.operand, depth + 1)
        elif isinstance(node, ast.Name) and node.id[:2] in ("_v", "_c"):
            pass
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in FUNCTIONS:
            if len(node.args) != 1 or node.keywords \
                    or isinstance(node.args[0], ast.Starred):
                raise self._node_error(node, "{tok}() takes exactly one "
                                       "argument, as in {tok}(a).")
            self._check(node.args[0], depth + 1)
        elif isinstance(node, ast.Call):
            raise self._node_error(node.func, "'{tok}' is followed by '(' with "
                                   "no operator between them; write '*' to "
                                   "multiply.")
        elif isinstance(node, ast.Tuple) and not node.elts:
            raise self._node_error(node, "'()' has nothing inside; put an "
                                   "expression between the parentheses.")
        elif isinstance(node, ast.Tuple):
            comma = next(tok for start, tok in self._cols
                         if start >= node.col_offset and tok.kind == lx.COMMA)
            raise self._error("A ',' may only separate the arguments of a "
                              "function; remove this one or write the "
                              "expression as one value.", comma.col, comma.text)
        else:
            raise self._node_error(node, "'{tok}' cannot be used here; "
                                   f"expressions may use only {_ALLOWED}.")
        return node

    # -- evaluating ------------------------------------------------------

    def evaluate(self, env: Mapping[str, float | np.ndarray]) -> float | np.ndarray:
        """The value for the labels in `env`: a float, or an array if any
        value in `env` is an array (values broadcast like numpy arrays)."""
        import numpy as np
        values = []
        for name in self._names:
            if name not in env:
                raise SpecError(f"The expression '{self.text}' uses '{name}', "
                                f"which has no value; give every label it uses "
                                f"a value.", text=name)
            values.append(np.asarray(env[name], dtype=float))
        # Non-finite results (log of a negative draw, division by zero) are
        # data for the caller to summarise, not reasons to stop.
        with np.errstate(all="ignore"):
            out = self._eval(self._tree, values)
        out = np.asarray(out, dtype=float)
        return float(out) if out.ndim == 0 else out

    def _eval(self, node: ast.expr, values: list[np.ndarray]):
        import numpy as np
        if isinstance(node, ast.BinOp):
            return getattr(np, _BINOPS[type(node.op)])(self._eval(node.left, values),
                                                       self._eval(node.right, values))
        if isinstance(node, ast.UnaryOp):
            return getattr(np, _UNARY[type(node.op)])(self._eval(node.operand, values))
        if isinstance(node, ast.Call):
            return getattr(np, FUNCTIONS[node.func.id])(self._eval(node.args[0], values))
        index = int(node.id[2:])
        if node.id.startswith("_v"):
            return values[index]
        return np.float64(self._consts[index])
