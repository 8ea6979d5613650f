"""Property tests: any text either parses or raises SpecError, and what
parses is consistent with the text it came from."""

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attachpath.errors import SpecError
from attachpath.syntax import Expression, parse
from attachpath.syntax.statement import OPERATORS
from spec_samples import SEEDS

FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# Characters that matter to the syntax, so random text hits the parser's
# branches far more often than arbitrary unicode would.
SYNTAX_CHARS = "abxy1209._ ~=*+-/^()<>:;|%!#'\"\n\t,NAstrlbe"


def parse_or_spec_error(text):
    """Parse `text`; check the result or the SpecError for consistency."""
    try:
        statements = parse(text, "fuzz.lav")
    except SpecError as err:
        check_error(err, text)
        return None
    check_statements(statements, text)
    return statements


def check_error(err, text):
    assert err.message and str(err)
    assert err.file == "fuzz.lav"
    if err.line:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        assert 1 <= err.line <= len(lines)
        assert err.source_line == lines[err.line - 1]
        assert 1 <= err.col <= len(err.source_line) + 1


def check_statements(statements, text):
    assert statements
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for s in statements:
        assert s.op in OPERATORS
        assert s.source == lines[s.line - 1]
        at = s.source[s.col - 1:]
        if s.op in ("=~", "~", "~~"):
            assert at.startswith(s.rhs)
        elif s.op in ("~1", ":="):
            assert at.startswith(s.lhs)
        else:
            Expression(s.lhs), Expression(s.rhs)
        if s.op == ":=":
            Expression(s.rhs)


@FAST
@given(st.text())
def test_any_text(text):
    parse_or_spec_error(text)


@FAST
@given(st.text(alphabet=SYNTAX_CHARS, max_size=80))
def test_syntax_like_text(text):
    parse_or_spec_error(text)


def mutate(data, text):
    """Apply a few random edits of the kinds a person makes while typing."""
    for _ in range(data.draw(st.integers(1, 4))):
        n = len(text)
        edit = data.draw(st.sampled_from(
            ["insert", "delete", "replace", "join", "split", "duplicate", "swap"]))
        i = data.draw(st.integers(0, n))
        if edit == "insert":
            ch = data.draw(st.one_of(st.sampled_from(SYNTAX_CHARS), st.characters()))
            text = text[:i] + ch + text[i:]
        elif edit == "delete":
            j = data.draw(st.integers(i, min(n, i + 6)))
            text = text[:i] + text[j:]
        elif edit == "replace" and i < n:
            ch = data.draw(st.sampled_from(SYNTAX_CHARS))
            text = text[:i] + ch + text[i + 1:]
        elif edit == "join" and "\n" in text:
            k = data.draw(st.sampled_from([k for k, c in enumerate(text) if c == "\n"]))
            glue = data.draw(st.sampled_from(["", " ", ";", " + "]))
            text = text[:k] + glue + text[k + 1:]
        elif edit == "split":
            text = text[:i] + "\n" + text[i:]
        else:
            lines = text.split("\n")
            k = data.draw(st.integers(0, len(lines) - 1))
            m = data.draw(st.integers(0, len(lines) - 1))
            if edit == "duplicate":
                lines.insert(m, lines[k])
            else:
                lines[k], lines[m] = lines[m], lines[k]
            text = "\n".join(lines)
    return text


@FAST
@given(st.data())
def test_mutated_realistic_specs(data):
    text = mutate(data, data.draw(st.sampled_from(SEEDS)))
    parse_or_spec_error(text)


def test_seeds_parse():
    for seed in SEEDS:
        assert parse_or_spec_error(seed)


# -- round trip: generated valid specs parse to what was generated ---------

# Lower-case first letter: never one of R's reserved words (NA, TRUE, ...).
NAMES = st.builds(str.__add__, st.sampled_from("abfxyz"),
                  st.text(alphabet="ab12_.", max_size=3))
NUMBERS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(
    lambda x: float(repr(x)))


@st.composite
def terms(draw, intercept_ok):
    """(text, expected modifiers, rhs name) of one right-hand-side term."""
    name = "1" if intercept_ok and draw(st.booleans()) else draw(NAMES)
    mods, parts = {}, []
    kinds = draw(st.lists(st.sampled_from(["label", "fixed", "free", "start"]),
                          unique=True, max_size=3))
    if "fixed" in kinds:   # a fixed value rules out NA and start
        kinds = [k for k in kinds if k not in ("free", "start")]
    for kind in kinds:
        if kind == "label":
            mods["label"] = draw(NAMES)
            quoted = draw(st.sampled_from(["{}", 'label("{}")', "label('{}')"]))
            parts.append(quoted.format(mods["label"]))
        elif kind == "fixed":
            mods["fixed"] = draw(NUMBERS)
            parts.append(repr(mods["fixed"]))
        elif kind == "free":
            mods["free"] = True
            parts.append("NA")
        else:
            mods["start"] = draw(NUMBERS)
            parts.append(f"start({mods['start']!r})")
    star = draw(st.sampled_from(["*", " * ", "*\n  "]))
    return star.join(parts + [name]), mods, name


@st.composite
def statements(draw):
    op = draw(st.sampled_from(["=~", "~", "~~"]))
    lhs = draw(st.lists(NAMES, min_size=1, max_size=2, unique=True))
    rhs = draw(st.lists(terms(op == "~"), min_size=1, max_size=4,
                        unique_by=lambda t: t[2]))
    plus = draw(st.sampled_from([" + ", "+", " +\n    ", "\n  + "]))
    text = " + ".join(lhs) + f" {op} " + plus.join(t[0] for t in rhs)
    expected = []
    for left in lhs:
        for _, mods, name in rhs:
            if name == "1":
                row = (left, "~1", "")
            else:
                row = (left, op, name)
            expected.append(row + (mods.get("label"), mods.get("fixed"),
                                   mods.get("free", False), mods.get("start")))
    return text, expected


def key(row):
    lhs, op, rhs = row[:3]
    return (*sorted((lhs, rhs)), op) if op == "~~" else (lhs, op, rhs)


@FAST
@given(st.lists(statements(), min_size=1, max_size=5),
       st.sampled_from(["\n", "; ", "\n# comment\n\n", " ! note\n"]))
def test_generated_specs_round_trip(specs, separator):
    expected = [row for _, rows in specs for row in rows]
    text = separator.join(t for t, _ in specs)
    if len({key(r) for r in expected}) < len(expected):
        try:
            parse(text)
        except SpecError as err:
            assert "already appears" in err.message or "same parameter" in err.message
            return
        raise AssertionError("a repeated statement was accepted")
    got = [(s.lhs, s.op, s.rhs, s.label, s.fixed, s.free, s.start)
           for s in parse(text)]
    assert got == expected


# -- expressions -------------------------------------------------------------

EXPR_CHARS = "ab.1 2+-*/^()e,xplsqrt"


@FAST
@given(st.text(alphabet=EXPR_CHARS, max_size=40))
def test_expression_builds_or_raises_spec_error(text):
    try:
        expr = Expression(text)
    except SpecError as err:
        assert 1 <= err.col <= len(text) + 1
        return
    scalar = expr.evaluate({n: 1.5 for n in expr.names})
    assert isinstance(scalar, float)
    draws = expr.evaluate({n: np.array([0.5, 1.5, -2.0]) for n in expr.names})
    if expr.names:
        assert np.shape(draws) == (3,)
        same = draws[1]
        assert same == scalar or (math.isnan(same) and math.isnan(scalar))
