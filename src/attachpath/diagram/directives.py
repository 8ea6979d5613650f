"""The diagram mini-language: layout and display directives kept with the spec.

Where directives are read from, in this order (later ones win):

1. comment lines of the spec that start with ``diagram:`` after the comment
   character::

       cats_secure ~ a*ecr_anx + ecr_avoid
       # diagram: rank ecr_anx ecr_avoid = 0
       # diagram: label cats_secure = "Therapeutic attachment"

   The directive must be the whole line (a ``# diagram:`` comment after a
   statement is an error, so it is never silently ignored);
2. a sidecar file next to a spec file: ``model.diagram`` or
   ``model.lav.diagram`` for ``model.lav`` (not both), holding the same
   directives without the ``# diagram:`` prefix; blank lines and lines
   starting with ``#`` are comments there (the prefixed form is accepted too);
3. the ``directives=`` text given to `attachpath.diagram.diagram()`;
4. its keyword arguments.

Grammar (one directive per line; NAME is a model variable, as in the spec;
``#`` or ``!`` outside quotes starts a comment)::

    rank NAME... = INT          put variables in column INT (0 = leftmost);
                                variables not ranked stay one column right of
                                their latest cause; empty columns are removed
    order NAME NAME...          top-to-bottom order of these variables within
                                their column (or an indicator row/column); a
                                variable may appear in one order line only
    label NAME = "TEXT"         display label; \\n in TEXT breaks the line
    labels data|names           use the data's variable labels (SPSS) where
                                present, or plain names (the default)
    hide NAME...                leave out variables and all their paths
    hide path LHS OP RHS        leave out one path; OP is ~, =~ or ~~
                                (``hide path y ~~ y`` hides a residual)
    show ELEMENT...             switch elements on
    omit ELEMENT...             switch elements off
    highlight NAME              emphasise the paths of the := parameter NAME
    estimates std|unstd         standardized (std.all) or raw estimates
    decimals INT                decimals of estimates (0-4; default 2)
    theme apa|colour            greyscale APA (default) or colour (color too)
    nonsig solid|dashed|grey    style of paths with p >= .05 (default solid)
    indicators NAME left|right|above|below
                                where the indicators of latent NAME go

ELEMENT is one of: r2 (R² in endogenous variables, on by default),
residuals (residual variances and variances, off), intercepts (off),
covariances (covariances other than the covariates', on), exo (covariances
of the exogenous covariates, which are fixed at their sample values, off),
stars (on), se (off), ci (off), note (the figure note drawn under the
figure, off).

Every error is an `attachpath.errors.SpecError` with the file, line and
column of the offending word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from attachpath.errors import SpecError, closest
from attachpath.syntax.lexer import is_name_char, is_name_start

ELEMENTS = ("r2", "residuals", "intercepts", "covariances", "exo", "stars", "se",
            "ci", "note")
DEFAULT_SHOW = {"r2": True, "residuals": False, "intercepts": False,
                "covariances": True, "exo": False, "stars": True, "se": False,
                "ci": False, "note": False}
KEYWORDS = ("rank", "order", "label", "labels", "hide", "show", "omit", "highlight",
            "estimates", "decimals", "theme", "nonsig", "indicators")
THEMES = {"apa": "apa", "colour": "colour", "color": "colour"}
NONSIG = {"solid": "solid", "dashed": "dashed", "grey": "grey", "gray": "grey"}
ESTIMATES = {"std": True, "standardized": True, "standardised": True,
             "unstd": False, "unstandardized": False, "unstandardised": False,
             "raw": False}
SIDES = ("left", "right", "above", "below")
PATH_OPS = ("~", "=~", "~~")

_PREFIX = re.compile(r"^\s*[#!]+\s*diagram\s*:", re.IGNORECASE)
_INLINE = re.compile(r"^[#!]+\s*diagram\s*:", re.IGNORECASE)


# -- tokens ----------------------------------------------------------------------

@dataclass(frozen=True)
class Tok:
    kind: str     # "name", "int", "string", "op"
    text: str     # the value (strings unquoted and unescaped)
    col: int      # 1-based column in the source line


@dataclass(frozen=True)
class Directive:
    """One parsed directive with where it came from."""

    kind: str              # a KEYWORD, or "hide path"
    args: tuple            # strings / ints, as the kind needs
    cols: tuple            # 1-based column of each arg (for errors)
    line: int
    col: int
    file: str | None = None
    source: str = ""       # the physical line, for error carets


def _error(message, *, file, line, col, source, suggestion=None) -> SpecError:
    return SpecError(message, file=file, line=line, col=col, source_line=source,
                     suggestion=suggestion)


def _comment_start(line: str, start: int = 0) -> int:
    """Index of the first # or ! outside quotes, or -1."""
    quote = ""
    i = start
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and i + 1 < len(line):
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "#!":
            return i
        i += 1
    return -1


def _tokens(line: str, start: int, *, file, lineno) -> list[Tok]:
    out: list[Tok] = []
    i, n = start, len(line)

    def fail(msg, at):
        return _error(msg, file=file, line=lineno, col=at + 1, source=line)

    while i < n:
        ch = line[i]
        nxt = line[i + 1] if i + 1 < n else ""
        if ch.isspace() or ch == "\ufeff":
            i += 1
        elif ch in "#!":
            break
        elif ch in "\"'":
            j, buf = i + 1, []
            while j < n and line[j] != ch:
                if line[j] == "\\" and j + 1 < n:
                    esc = line[j + 1]
                    buf.append("\n" if esc == "n" else esc)
                    j += 2
                else:
                    buf.append(line[j])
                    j += 1
            if j >= n:
                raise fail(f"The quote {ch} opened here is never closed; add the "
                           f"closing {ch} on the same line.", i)
            out.append(Tok("string", "".join(buf), i + 1))
            i = j + 1
        elif ch.isdigit() or (ch == "-" and nxt.isdigit()):
            j = i + 1
            while j < n and (line[j].isdigit() or line[j] == "."):
                j += 1
            out.append(Tok("int", line[i:j], i + 1))
            i = j
        elif is_name_start(ch, nxt):
            j = i + 1
            while j < n and is_name_char(line[j]):
                j += 1
            out.append(Tok("name", line[i:j], i + 1))
            i = j
        elif ch in "=~":
            j = i + 1
            while j < n and line[j] in "=~":
                j += 1
            op = line[i:j]
            if op not in ("=", "~", "~~", "=~"):
                raise fail(f"'{op}' is not an operator of the diagram directives; "
                           f"use '=' (rank, label) or ~, =~, ~~ (hide path).", i)
            out.append(Tok("op", op, i + 1))
            i = j
        elif ch in "<>-":
            j = i + 1
            while j < n and line[j] in "<>-=~":
                j += 1
            raise fail(f"'{line[i:j]}' is not an operator of the diagram directives; "
                       f"write paths as in the spec, e.g. 'hide path y ~ x'.", i)
        elif ch in "\u201c\u201d\u2018\u2019":
            raise fail("Curly quotes come from word processors; type straight \" "
                       "quotes around the label instead.", i)
        else:
            shown = ch if ch.isprintable() else repr(ch)
            raise fail(f"The character '{shown}' cannot appear in a diagram directive.", i)
    return out


# -- parsing ---------------------------------------------------------------------

def parse_directives(text: str, *, file: str | None = None, prefixed: bool = False) -> list[Directive]:
    """Parse directives.

    prefixed=True reads a spec: only whole-line ``# diagram:`` comments are
    directives.  prefixed=False reads a sidecar (or ``directives=`` text):
    every non-comment line is a directive and the prefix is optional.
    """
    out: list[Directive] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _PREFIX.match(line)
        if m:
            start = m.end()
        elif prefixed:
            at = _comment_start(line)
            if at > 0 and line[:at].strip() and _INLINE.match(line[at:]):
                raise _error("A '# diagram:' directive must be on a line of its own, "
                             "not after a statement; move it to the next line.",
                             file=file, line=lineno, col=at + 1, source=line)
            continue
        else:
            stripped = line.lstrip()
            if not stripped or stripped[0] in "#!":
                continue
            start = len(line) - len(stripped)
        toks = _tokens(line, start, file=file, lineno=lineno)
        if not toks:
            if m:
                raise _error("An empty '# diagram:' directive; write one of "
                             + ", ".join(KEYWORDS) + " after 'diagram:'.",
                             file=file, line=lineno, col=start + 1, source=line)
            continue
        out.append(_parse_line(toks, line=lineno, file=file, source=line))
    return out


def _parse_line(toks: list[Tok], *, line: int, file, source: str) -> Directive:
    head, rest = toks[0], toks[1:]

    def fail(msg, tok=None, suggestion=None):
        col = tok.col if tok is not None else len(source.rstrip()) + 1
        return _error(msg, file=file, line=line, col=col, source=source,
                      suggestion=suggestion)

    def make(kind, args, cols):
        return Directive(kind, tuple(args), tuple(cols), line, head.col, file, source)

    def names(items, what):
        for t in items:
            if t.kind != "name":
                raise fail(f"'{t.text}' is not a {what} name.", t)
        return [t.text for t in items], [t.col for t in items]

    def one_word(choices, what):
        if len(rest) != 1 or rest[0].kind != "name":
            raise fail(f"'{head.text}' takes one word: {what}.", rest[1] if len(rest) > 1 else None)
        word = rest[0].text
        if word.lower() not in choices:
            raise fail(f"'{word}' is not one of {what}.", rest[0],
                       suggestion=closest(word.lower(), list(choices)))
        return word.lower()

    if head.kind != "name" or head.text not in KEYWORDS:
        raise fail(f"Unknown diagram directive '{head.text}'; the directives are "
                   + ", ".join(KEYWORDS) + ".", head,
                   suggestion=closest(head.text, KEYWORDS) if head.kind == "name" else None)
    kw = head.text

    if kw == "rank":
        eq = next((i for i, t in enumerate(rest) if t.kind == "op"), None)
        if eq is None or rest[eq].text != "=":
            raise fail("A rank directive reads 'rank NAME... = INT', e.g. "
                       "'rank ecr_anx ecr_avoid = 0'.", rest[eq] if eq is not None else None)
        if eq == 0:
            raise fail("Name at least one variable before '=' in a rank directive.", rest[0])
        vs, cols = names(rest[:eq], "variable")
        value = rest[eq + 1:]
        if len(value) != 1 or value[0].kind != "int":
            raise fail("A rank is a whole number (0 = the leftmost column) after '='.",
                       value[1] if len(value) > 1 else (value[0] if value else None))
        try:
            r = int(value[0].text)
        except ValueError:
            raise fail(f"'{value[0].text}' is not a whole number.", value[0]) from None
        if r < 0:
            raise fail("A rank cannot be negative; 0 is the leftmost column.", value[0])
        return make("rank", [tuple(vs), r], [tuple(cols), value[0].col])

    if kw == "order":
        if len(rest) < 2:
            raise fail("An order directive names at least two variables, top to bottom.",
                       rest[0] if rest else None)
        vs, cols = names(rest, "variable")
        return make("order", vs, cols)

    if kw == "label":
        if len(rest) < 3 or rest[0].kind != "name" or rest[1].text != "=":
            raise fail('A label directive reads \'label NAME = "TEXT"\', e.g. '
                       '\'label cats_secure = "Therapeutic attachment"\'.',
                       rest[0] if rest else None)
        if rest[2].kind != "string":
            raise fail('Put the label in double quotes: label NAME = "TEXT".', rest[2])
        if len(rest) > 3:
            raise fail("Unexpected text after the label.", rest[3])
        if not rest[2].text.strip():
            raise fail("A label cannot be empty; use 'hide NAME' to leave a variable out.",
                       rest[2])
        return make("label", [rest[0].text, rest[2].text], [rest[0].col, rest[2].col])

    if kw == "labels":
        return make("labels", [one_word(("data", "names"), "data or names")], [rest[0].col])

    if kw == "hide":
        if not rest:
            raise fail("Name the variables to hide, or 'hide path LHS OP RHS'.")
        if (rest[0].kind == "name" and rest[0].text == "path" and len(rest) >= 2
                and any(t.kind == "op" for t in rest)):
            p = rest[1:]
            if (len(p) != 3 or p[0].kind != "name" or p[1].kind != "op"
                    or p[1].text not in PATH_OPS or p[2].kind != "name"):
                bad = next((t for t in p if t.kind == "op" and t.text not in PATH_OPS), None)
                raise fail("A path reads 'LHS OP RHS' with OP one of ~ =~ ~~, as in the "
                           "spec: 'hide path iip_post ~ ecr_anx'.", bad or (p[3] if len(p) > 3 else p[0]))
            return make("hide path", [p[0].text, p[1].text, p[2].text],
                        [p[0].col, p[1].col, p[2].col])
        vs, cols = names(rest, "variable")
        return make("hide", vs, cols)

    if kw in ("show", "omit"):
        if not rest:
            raise fail(f"Name what to {kw}: " + ", ".join(ELEMENTS) + ".")
        for t in rest:
            if t.kind != "name" or t.text.lower() not in ELEMENTS:
                raise fail(f"'{t.text}' is not a diagram element; the elements are "
                           + ", ".join(ELEMENTS) + ".", t,
                           suggestion=closest(t.text.lower(), ELEMENTS))
        return make(kw, [t.text.lower() for t in rest], [t.col for t in rest])

    if kw == "highlight":
        if len(rest) != 1 or rest[0].kind != "name":
            raise fail("'highlight' takes the name of one defined (:=) parameter.",
                       rest[1] if len(rest) > 1 else (rest[0] if rest else None))
        return make("highlight", [rest[0].text], [rest[0].col])

    if kw == "estimates":
        word = one_word(tuple(ESTIMATES), "std or unstd")
        return make("estimates", [ESTIMATES[word]], [rest[0].col])

    if kw == "decimals":
        if len(rest) != 1 or rest[0].kind != "int" or not rest[0].text.isdigit():
            raise fail("'decimals' takes a whole number from 0 to 4.",
                       rest[0] if rest else None)
        d = int(rest[0].text)
        if d > 4:
            raise fail("'decimals' takes a whole number from 0 to 4.", rest[0])
        return make("decimals", [d], [rest[0].col])

    if kw == "theme":
        word = one_word(tuple(THEMES), "apa or colour")
        return make("theme", [THEMES[word]], [rest[0].col])

    if kw == "nonsig":
        word = one_word(tuple(NONSIG), "solid, dashed or grey")
        return make("nonsig", [NONSIG[word]], [rest[0].col])

    # indicators
    if len(rest) != 2 or rest[0].kind != "name" or rest[1].kind != "name":
        raise fail("An indicators directive reads 'indicators LATENT left|right|above|below'.",
                   rest[0] if rest else None)
    side = rest[1].text.lower()
    if side not in SIDES:
        raise fail(f"'{rest[1].text}' is not a side; use left, right, above or below.",
                   rest[1], suggestion=closest(side, SIDES))
    return make("indicators", [rest[0].text, side], [rest[0].col, rest[1].col])


# -- reading from a spec -----------------------------------------------------------

def sidecar_path(spec_file) -> Path | None:
    """The sidecar of a spec file, if one exists (model.diagram or model.lav.diagram)."""
    if not spec_file:
        return None
    p = Path(spec_file)
    candidates = [p.with_suffix(".diagram"), p.with_name(p.name + ".diagram")]
    found = [c for c in dict.fromkeys(candidates) if c.is_file()]
    if len(found) > 1:
        raise SpecError(f"Two diagram sidecar files for '{p}': '{found[0]}' and "
                        f"'{found[1]}'; keep one.", file=str(found[1]))
    return found[0] if found else None


def from_spec(text: str | None, file: str | None) -> list[Directive]:
    """The directives of a spec: its '# diagram:' lines, then its sidecar file."""
    out = parse_directives(text or "", file=file, prefixed=True)
    side = sidecar_path(file)
    if side is not None:
        try:
            side_text = side.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"The diagram file '{side}' cannot be read ({exc}).",
                            file=str(side)) from None
        out += parse_directives(side_text, file=str(side), prefixed=False)
    return out


# -- settings --------------------------------------------------------------------

@dataclass
class Settings:
    """Everything the directives and keyword arguments decide."""

    ranks: dict = field(default_factory=dict)          # var -> int
    order: list = field(default_factory=list)          # [tuple of vars]
    labels: dict = field(default_factory=dict)         # var -> text
    data_labels: bool = True         # the data's variable labels, when it has them
    hide: set = field(default_factory=set)             # vars
    hide_paths: set = field(default_factory=set)       # (lhs, op, rhs) as in the partable
    show: dict = field(default_factory=lambda: dict(DEFAULT_SHOW))
    highlight: str | None = None
    standardized: bool = False
    decimals: int = 2
    theme: str = "apa"
    nonsig: str = "solid"
    indicators: dict = field(default_factory=dict)     # latent -> side


def _path_key(pt, lhs, op, rhs):
    """The partable orientation of a path, or None if the model has no such row."""
    keys = {(r.lhs, r.op, r.rhs) for r in pt.rows if r.op in PATH_OPS}
    if (lhs, op, rhs) in keys:
        return (lhs, op, rhs)
    if op == "~~" and (rhs, op, lhs) in keys:
        return (rhs, op, lhs)
    return None


def apply(directives, pt, settings: Settings | None = None) -> Settings:
    """Check directives against the model and fold them into Settings."""
    s = settings or Settings()
    variables = list(pt.variables)
    latent = set(pt.latent)
    defined = [r.lhs for r in pt.defined()]
    ordered_at: dict[str, int] = {}

    for d in directives:
        def fail(msg, i=None, suggestion=None, _d=d):
            col = _d.col
            if i is not None:
                c = _d.cols[i]
                col = c[0] if isinstance(c, tuple) else c
            return _error(msg, file=_d.file, line=_d.line, col=col, source=_d.source,
                          suggestion=suggestion)

        def check_vars(vs, cols, _d=d):
            for v, c in zip(vs, cols):
                if v not in variables:
                    raise _error(f"'{v}' is not a variable of the model.", file=_d.file,
                                 line=_d.line, col=c, source=_d.source,
                                 suggestion=closest(v, variables))

        k = d.kind
        if k == "rank":
            vs, r = d.args
            check_vars(vs, d.cols[0])
            for v in vs:
                s.ranks[v] = r
        elif k == "order":
            check_vars(d.args, d.cols)
            for v, c in zip(d.args, d.cols):
                if v in ordered_at:
                    raise _error(f"'{v}' is already ordered on line {ordered_at[v]}; a "
                                 f"variable may appear in one order line only.",
                                 file=d.file, line=d.line, col=c, source=d.source)
                ordered_at[v] = d.line
            s.order.append(tuple(d.args))
        elif k == "label":
            check_vars([d.args[0]], [d.cols[0]])
            s.labels[d.args[0]] = d.args[1]
        elif k == "labels":
            s.data_labels = d.args[0] == "data"
        elif k == "hide":
            check_vars(d.args, d.cols)
            s.hide.update(d.args)
        elif k == "hide path":
            lhs, op, rhs = d.args
            check_vars([lhs, rhs], [d.cols[0], d.cols[2]])
            key = _path_key(pt, lhs, op, rhs)
            if key is None:
                raise fail(f"The model has no path '{lhs} {op} {rhs}'.", 0)
            s.hide_paths.add(key)
        elif k in ("show", "omit"):
            for e in d.args:
                s.show[e] = k == "show"
        elif k == "highlight":
            name = d.args[0]
            if name not in defined:
                what = ("has no defined (:=) parameters to highlight" if not defined
                        else "defines " + ", ".join(defined) + " with :=")
                raise fail(f"'{name}' is not a defined (:=) parameter; the model {what}.",
                           0, suggestion=closest(name, defined))
            s.highlight = name
        elif k == "estimates":
            s.standardized = d.args[0]
        elif k == "decimals":
            s.decimals = d.args[0]
        elif k == "theme":
            s.theme = d.args[0]
        elif k == "nonsig":
            s.nonsig = d.args[0]
        elif k == "indicators":
            name, side = d.args
            if name not in latent:
                raise fail(f"'{name}' is not a latent variable of the model"
                           + (f" (the latent variables are {', '.join(pt.latent)})."
                              if pt.latent else " (it has none)."),
                           0, suggestion=closest(name, list(pt.latent)))
            s.indicators[name] = side
    return s
