"""Expression: the whitelist, the names it reports, and vectorised values."""

import math

import numpy as np
import pytest

from attachpath.errors import SpecError
from attachpath.syntax import Expression


def value(text, **env):
    return Expression(text).evaluate(env)


@pytest.mark.parametrize("text, names", [
    ("a*b", ("a", "b")),
    ("b*a + a", ("b", "a")),
    ("exp(a) + log(b) - sqrt(c) / abs(d)", ("a", "b", "c", "d")),
    ("2 * 3", ()),
    ("a.b + .c + _d", ("a.b", ".c", "_d")),
    ("exp", ("exp",)),          # a bare function name is a label
    ("if + lambda", ("if", "lambda")),   # Python keywords are plain labels
])
def test_names(text, names):
    assert Expression(text).names == names


@pytest.mark.parametrize("text, expected", [
    ("a*b", 6.0),
    ("a + b*2", 8.0),
    ("(a + b)*2", 10.0),
    ("a^2", 4.0),
    ("a**2", 4.0),            # R reads ** as ^
    ("-a^2", -4.0),           # ^ binds tighter than unary minus, as in R
    ("2^a^2", 16.0),          # ^ is right-associative, as in R
    ("a^-1", 0.5),
    ("b/a", 1.5),
    ("--a", 2.0),
    ("+a", 2.0),
    ("exp(0*a)", 1.0),
    ("log(b) - log(a)", math.log(1.5)),
    ("sqrt(a*8)", 4.0),
    ("abs(a - b)", 1.0),
    ("1e-3*a", 0.002),
    ("007", 7.0),
])
def test_values(text, expected):
    assert value(text, a=2.0, b=3.0) == pytest.approx(expected)


def test_scalar_result_is_a_python_float():
    assert type(value("a*b", a=2, b=3)) is float


def test_vectorised_over_draws():
    draws = np.array([1.0, 2.0, 3.0])
    out = value("a*b + 1", a=draws, b=2.0)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [3.0, 5.0, 7.0])


def test_two_arrays_broadcast_elementwise():
    out = value("a/b", a=np.array([1.0, 4.0]), b=np.array([2.0, 8.0]))
    np.testing.assert_allclose(out, [0.5, 0.5])


def test_non_finite_results_are_returned_not_raised():
    assert math.isnan(value("log(a)", a=-1.0))
    assert value("1/a", a=0.0) == math.inf
    out = value("sqrt(a)", a=np.array([4.0, -1.0]))
    assert out[0] == 2.0 and math.isnan(out[1])


def test_missing_value_raises_spec_error():
    with pytest.raises(SpecError, match="'b'"):
        Expression("a*b").evaluate({"a": 1.0})


def test_equality_and_repr():
    assert Expression("a*b") == Expression("a*b")
    assert hash(Expression("a*b")) == hash(Expression("a*b"))
    assert repr(Expression("a*b")) == "Expression('a*b')"


@pytest.mark.parametrize("text, col, culprit, words", [
    ("", 1, "", "empty"),
    ("a*", 2, "*", "ends too soon"),
    ("*a", 1, "*", "cannot be read"),
    ("a b", 3, "b", "cannot be read"),
    ("a + 'b'", 5, "'b'", "cannot appear"),
    ("a == b", 3, "==", "cannot appear"),
    ("a:b", 2, ":", "cannot appear"),
    ("a # b", 3, "#", "comment"),
    ("a ! b", 3, "!", "comment"),
    ("a $ b", 3, "$", "cannot appear"),
    ("2a", 1, "2a", "neither a number nor a valid name"),
    ("foo(a)", 1, "foo", "unknown function"),
    ("__import__(a)", 1, "__import__", "unknown function"),
    ("exp(a, b)", 1, "exp", "exactly one argument"),
    ("exp(a,)", 6, ",", "nothing after it"),
    ("exp()", 1, "exp", "exactly one argument"),
    ("(a)(b)", 2, "a", "'*'"),
    ("a, b", 2, ",", "','"),
    ("()", 1, "(", "nothing inside"),
    ("(a", 1, "(", "never closed"),
    ("a)", 2, ")", "no matching"),
    ("a\n*", 3, "*", "ends too soon"),
])
def test_invalid(text, col, culprit, words):
    with pytest.raises(SpecError) as info:
        Expression(text)
    assert (info.value.col, info.value.text) == (col, culprit)
    assert words in info.value.message


@pytest.mark.parametrize("text", ["-" * 400 + "a", "(" * 250 + "a" + ")" * 250,
                                  "+".join(["a"] * 400)])
def test_too_deep_is_a_spec_error(text):
    with pytest.raises(SpecError, match="nested too deeply"):
        Expression(text)


@pytest.mark.parametrize("bad", [None, b"a*b", 3])
def test_non_text(bad):
    with pytest.raises(SpecError, match="must be text"):
        Expression(bad)
