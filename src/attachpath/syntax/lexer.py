"""Tokens of lavaan's model syntax, one physical line at a time.

The parser and `Expression` share this lexer so that a name, a number or an
operator means the same thing in a regression term and in a `:=` expression,
and so that every token knows the line and column it came from.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from attachpath.errors import SpecError

NAME, NUMBER, STRING, OP, COLON = "name", "number", "string", "op", "colon"
PLUS, MINUS, STAR, SLASH, CARET = "+", "-", "*", "/", "^"
LPAREN, RPAREN, COMMA, SEMI = "(", ")", ",", ";"

_SINGLE = {c: c for c in "+-*/^(),;"}

# Characters that glue into one operator token.  Reading the longest run
# makes typos such as `=~~` or `>=` one unknown operator the user can see,
# instead of a confusing pair of valid ones.
_OPCHARS = set("=~<>:|%")
# Operators holding a character outside that set.  `<-` is R's assignment
# even in `a<-1`, so it is read the way R reads it.
_SPECIAL_OPS = ("~*~", "->", "<-")

# R's numeric literals (no hex, no 1L): 1, 1., .5, 1e-3, 2.5E+4.
_NUMBER_RE = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")

# Words R would not accept as a plain label or variable name.
RESERVED = frozenset({"NA", "TRUE", "FALSE", "NULL", "Inf", "NaN"})


class Token(NamedTuple):
    kind: str
    text: str   # as written (strings keep their quotes)
    line: int   # 1-based
    col: int    # 1-based

    @property
    def value(self) -> str:
        """The text of a string token without its quotes; else the text."""
        return self.text[1:-1] if self.kind == STRING else self.text


class Source:
    """The lines of a spec and its file name, for errors that show them."""

    def __init__(self, lines: list[str], file: str | None = None):
        self.lines = lines
        self.file = file

    def error(self, message: str, tok: Token, text: str | None = None,
              suggestion: str | None = None) -> SpecError:
        return self.error_at(message, tok.line, tok.col,
                             tok.text if text is None else text, suggestion)

    def error_at(self, message: str, line: int, col: int, text: str,
                 suggestion: str | None = None) -> SpecError:
        source_line = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return SpecError(message, file=self.file, line=line, col=col,
                         text=text, source_line=source_line,
                         suggestion=suggestion)


def is_name_start(ch: str, nxt: str = "") -> bool:
    # R lets a name start with '.', but '.5' is a number.
    if ch == ".":
        return not nxt.isdigit() or not nxt.isascii()
    return ch.isalpha() or ch == "_"


def is_name_char(ch: str) -> bool:
    return ch.isalpha() or ch == "_" or ch == "." or ch in "0123456789"


def is_valid_name(text: str) -> bool:
    """True for a name attachpath accepts as a variable or label."""
    if not text or not is_name_start(text[0], text[1:2]):
        return False
    return all(is_name_char(c) for c in text)


def _is_space(ch: str) -> bool:
    # A byte-order mark or a no-break space pasted from a word processor is
    # invisible to the user, so it must not be a syntax error.
    return ch.isspace() or ch == "\ufeff"


def tokenize_line(line: str, lineno: int, file: str | None = None) -> list[Token]:
    """The tokens of one physical line, stopping at a `#` or `!` comment."""
    tokens: list[Token] = []
    i, n = 0, len(line)

    def fail(message: str, start: int, text: str) -> SpecError:
        return SpecError(message, file=file, line=lineno, col=start + 1,
                         text=text, source_line=line)

    while i < n:
        ch = line[i]
        nxt = line[i + 1] if i + 1 < n else ""
        if _is_space(ch):
            i += 1
        elif ch in "#!":
            break
        elif ch in "\"'":
            end = line.find(ch, i + 1)
            if end < 0:
                raise fail(f"The quote {ch} opened here is never closed; add the "
                           f"closing {ch} on the same line.", i, line[i:])
            tokens.append(Token(STRING, line[i:end + 1], lineno, i + 1))
            i = end + 1
        elif ch in "0123456789" or (ch == "." and nxt in "0123456789" and nxt):
            m = _NUMBER_RE.match(line, i)
            j = m.end()
            if j < n and is_name_char(line[j]):
                # `2x`, `1e`, `0x1F`: neither a number nor a name.
                while j < n and is_name_char(line[j]):
                    j += 1
                bad, number, rest = line[i:j], m.group(), line[m.end():j]
                raise fail(f"'{bad}' is neither a number nor a valid name: names "
                           "start with a letter, '_' or '.'; to fix a coefficient "
                           "put '*' between the number and the name, as in "
                           f"'{number}*{rest}'.", i, bad)
            tokens.append(Token(NUMBER, line[i:j], lineno, i + 1))
            i = j
        elif is_name_start(ch, nxt):
            j = i + 1
            while j < n and is_name_char(line[j]):
                j += 1
            tokens.append(Token(NAME, line[i:j], lineno, i + 1))
            i = j
        elif any(line.startswith(op, i) for op in _SPECIAL_OPS):
            op = next(op for op in _SPECIAL_OPS if line.startswith(op, i))
            tokens.append(Token(OP, op, lineno, i + 1))
            i += len(op)
        elif ch in _OPCHARS:
            j = i + 1
            while j < n and line[j] in _OPCHARS:
                j += 1
            text = line[i:j]
            tokens.append(Token(COLON if text == ":" else OP, text, lineno, i + 1))
            i = j
        elif ch in _SINGLE:
            tokens.append(Token(_SINGLE[ch], ch, lineno, i + 1))
            i += 1
        else:
            if ch == "`":
                hint = ("R's backtick-quoted names are not supported; rename the "
                        "variable to letters, digits, '_' and '.'")
            elif ch in "\u2018\u2019\u201c\u201d":
                hint = "curly quotes come from word processors; type straight ' or \" instead"
            else:
                hint = ("names may contain only letters, digits, '_' and '.'; "
                        "remove it or rename the variable")
            shown = ch if ch.isprintable() else repr(ch)
            raise fail(f"The character '{shown}' cannot appear in a model spec: "
                       f"{hint}.", i, ch)
    return tokens
