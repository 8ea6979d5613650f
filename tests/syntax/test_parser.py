"""The statements `parse` produces for each syntax feature, and its errors."""

from pathlib import Path

import pytest

from attachpath.errors import SpecError
from attachpath.syntax import Statement, parse
from spec_samples import KITCHEN_SINK, POLITICAL_DEMOCRACY, SERIAL_MEDIATION

NOT_YET = "is lavaan syntax attachpath does not support yet"


def rows(text):
    """The statements as compact tuples, for exact comparison."""
    return [(s.lhs, s.op, s.rhs, s.label, s.fixed, s.free, s.start)
            for s in parse(text)]


def where(text):
    return [(s.line, s.col) for s in parse(text)]


def error(text, file=None):
    with pytest.raises(SpecError) as info:
        parse(text, file)
    return info.value


# -- operators -------------------------------------------------------------

def test_regression():
    assert rows("y ~ x") == [("y", "~", "x", None, None, False, None)]


def test_loading():
    assert rows("f =~ x1") == [("f", "=~", "x1", None, None, False, None)]


def test_covariance():
    assert rows("x1 ~~ x2") == [("x1", "~~", "x2", None, None, False, None)]


def test_variance():
    assert rows("x1 ~~ x1") == [("x1", "~~", "x1", None, None, False, None)]


def test_intercept():
    assert rows("y ~ 1") == [("y", "~1", "", None, None, False, None)]


def test_intercept_fixed_to_zero():
    assert rows("y ~ 0*1") == [("y", "~1", "", None, 0.0, False, None)]


def test_intercept_with_label():
    assert rows("y ~ a*1") == [("y", "~1", "", "a", None, False, None)]


def test_intercept_free_and_start():
    assert rows("y ~ NA*start(2)*1") == [("y", "~1", "", None, None, True, 2.0)]


def test_intercept_among_regression_terms():
    assert rows("y ~ 1 + x") == [("y", "~1", "", None, None, False, None),
                                 ("y", "~", "x", None, None, False, None)]


def test_definition():
    spec = "y ~ a*x + b*z\nab := a*b"
    assert rows(spec)[-1] == ("ab", ":=", "a*b", None, None, False, None)


def test_definition_text_is_normalised():
    spec = "y ~ a*x + b*z\nab :=  ( a  +  b ) ^ 2 / 2"
    assert parse(spec)[-1].rhs == "(a+b)^2/2"


def test_definition_keeps_space_between_adjacent_words_out_of_its_text():
    spec = "y ~ a*x + b*z\nd := 2 * a - .5*b"
    assert parse(spec)[-1].rhs == "2*a-.5*b"


@pytest.mark.parametrize("op", ["==", "<", ">"])
def test_constraints(op):
    spec = f"y ~ a*x + b*z\n a {op} 2 * b"
    assert rows(spec)[-1] == ("a", op, "2*b", None, None, False, None)


def test_constraint_with_expressions_on_both_sides():
    spec = "y ~ a*x + b*z\nexp(a) - 1 == (b)"
    assert rows(spec)[-1][:3] == ("exp(a)-1", "==", "(b)")


def test_constraint_on_a_defined_name():
    spec = "y ~ a*x\nd := 2*a\nd > 0"
    assert rows(spec)[-1][:3] == ("d", ">", "0")


def test_statement_is_the_dataclass():
    assert parse("y ~ x") == (Statement("y", "~", "x", line=1, col=5,
                                        source="y ~ x"),)


# -- several terms and several lhs -----------------------------------------

def test_several_rhs_terms_keep_order():
    assert [s.rhs for s in parse("y ~ x1 + x2 + x3")] == ["x1", "x2", "x3"]


def test_several_lhs_expand_to_every_pair():
    assert [(s.lhs, s.rhs) for s in parse("y1 + y2 ~ x1 + x2")] == [
        ("y1", "x1"), ("y1", "x2"), ("y2", "x1"), ("y2", "x2")]


def test_several_lhs_share_the_modifiers():
    assert rows("y1 + y2 ~ b*x") == [("y1", "~", "x", "b", None, False, None),
                                     ("y2", "~", "x", "b", None, False, None)]


def test_several_lhs_with_intercept():
    assert [(s.lhs, s.op) for s in parse("y1 + y2 ~ 1")] == [("y1", "~1"),
                                                             ("y2", "~1")]


# -- modifiers ---------------------------------------------------------------

@pytest.mark.parametrize("term, fixed", [
    ("0.5*x", 0.5), ("-1*x", -1.0), ("1e-3*x", 0.001), ("0*x", 0.0),
    (".5*x", 0.5), ("2.*x", 2.0), ("-.25*x", -0.25), ("1E+2*x", 100.0),
    ("007*x", 7.0),
])
def test_fixed_values(term, fixed):
    (s,) = parse(f"y ~ {term}")
    assert (s.rhs, s.fixed, s.label, s.free) == ("x", fixed, None, False)


def test_na_frees():
    (s,) = parse("f =~ NA*x1")
    assert (s.free, s.fixed, s.label) == (True, None, None)


@pytest.mark.parametrize("term", ["start(0.3)*x", "start( 0.3 )*x"])
def test_start(term):
    (s,) = parse(f"y ~ {term}")
    assert (s.start, s.fixed, s.label) == (0.3, None, None)


def test_negative_start():
    assert parse("y ~ start(-1.5)*x")[0].start == -1.5


@pytest.mark.parametrize("term", ["a*x", 'label("a")*x', "label('a')*x"])
def test_labels(term):
    (s,) = parse(f"y ~ {term}")
    assert (s.label, s.rhs) == ("a", "x")


@pytest.mark.parametrize("label", ["b1", "a.b", "_a", ".a", "a_1.x", "T", "F"])
def test_label_names_r_allows(label):
    assert parse(f"y ~ {label}*x")[0].label == label


@pytest.mark.parametrize("term", ["a*start(0.3)*x", "start(0.3)*a*x"])
def test_label_and_start_chain_in_either_order(term):
    (s,) = parse(f"y ~ {term}")
    assert (s.label, s.start, s.rhs) == ("a", 0.3, "x")


def test_label_and_fixed_value():
    (s,) = parse("y ~ a*0.5*x")
    assert (s.label, s.fixed) == ("a", 0.5)


def test_na_with_start_and_label():
    (s,) = parse('f =~ NA*start(1)*label("l1")*x1')
    assert (s.free, s.start, s.label) == (True, 1.0, "l1")


@pytest.mark.parametrize("term, label, fixed, start", [
    ("c(a1, a2)*x", ("a1", "a2"), None, None),
    ('c("a1", NA)*x', ("a1", None), None, None),
    ("c(0.5, NA)*x", None, (0.5, None), None),
    ("c(NA, NA)*x", None, (None, None), None),
    ("c(-1, 2)*x", None, (-1.0, 2.0), None),
    ("c(a, a)*start(c(0.3, NA))*x", ("a", "a"), None, (0.3, None)),
])
def test_c_modifiers_give_values_per_group(term, label, fixed, start):
    """lavaan's c(): labels (NA: none), fixed values (NA: free) or starts
    per group; the multiple-group fit takes them apart (Statement.in_group)."""
    (s,) = parse(f"y ~ {term}")
    assert (s.group_label, s.group_fixed, s.group_start) == (label, fixed, start)
    assert s.per_group and s.group_count == 2
    g1, g2 = s.in_group(0), s.in_group(1)
    assert not g1.per_group and g1.label == (label[0] if label else None)
    if fixed:
        assert (g2.fixed, g2.free) == (fixed[1], fixed[1] is None)


def test_a_c_modifier_of_one_value_is_the_plain_modifier():
    assert rows("y ~ c(a)*x + c(0.5)*z + c(NA)*w") == [
        ("y", "~", "x", "a", None, False, None), ("y", "~", "z", None, 0.5, False, None),
        ("y", "~", "w", None, None, True, None)]


def test_group_labels_count_as_labels_in_definitions():
    stmts = parse("y ~ c(a1, a2)*x\nd := a1 - a2")
    assert stmts[-1].op == ":=" and stmts[-1].rhs == "a1-a2"


@pytest.mark.parametrize("text, culprit, words", [
    ("y ~ c(a1, 0.5)*x", "c(a1,0.5)", "mixes labels and numbers"),
    ("y ~ c()*x", "c()", "one value per group"),
    ("y ~ c(a1,,a2)*x", "c(a1,,a2)", "one value per group"),
    ("y ~ c(a1, a2)*c(b1, b2)*x", "c(b1,b2)", "already has a label per group"),
    ("y ~ a*c(b1, b2)*x", "c(b1,b2)", "already has a label"),
    ("y ~ NA*c(1, NA)*x", "c(1,NA)", "already has a NA (free)"),
    ("y ~ start(c(a, b))*x", "start(c(a,b))", "needs numbers"),
    ("y ~ c(a1, a2)", "c(a1,a2)", "needs a variable after it"),
])
def test_bad_c_modifiers(text, culprit, words):
    err = error(text)
    assert err.text == culprit and words in err.message


def test_modifiers_apply_to_their_own_term_only():
    assert rows("y ~ a*x1 + x2 + 0*x3") == [
        ("y", "~", "x1", "a", None, False, None),
        ("y", "~", "x2", None, None, False, None),
        ("y", "~", "x3", None, 0.0, False, None)]


# -- names -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["x.1", "x_1", "X1", ".x", "x..y", "_x",
                                  "Ängstlichkeit", "level", "group", "start",
                                  "label", "c", "exp"])
def test_variable_names(name):
    assert parse(f"y ~ {name}")[0].rhs == name


# -- layout: comments, blank lines, ; and continuation --------------------

def test_hash_and_bang_comments():
    spec = "# heading\ny ~ x # trailing\n! bang line\nz ~ w ! trailing"
    assert [(s.lhs, s.rhs) for s in parse(spec)] == [("y", "x"), ("z", "w")]


def test_comment_char_inside_quotes_is_not_a_comment():
    (s,) = parse("y ~ label('a') * x")
    assert s.label == "a"
    assert error("y ~ label('a#b')*x").text == "a#b"


def test_blank_and_whitespace_lines():
    assert len(parse("\n\n  y ~ x\n\t\n\n z ~ w \n\n")) == 2


def test_semicolons():
    spec = "y ~ x; z ~ w;;\n f =~ a + b;"
    assert [(s.lhs, s.rhs) for s in parse(spec)] == [
        ("y", "x"), ("z", "w"), ("f", "a"), ("f", "b")]


def test_semicolon_positions():
    assert where("y ~ x; z ~ w") == [(1, 5), (1, 12)]


def test_line_ending_in_plus_continues():
    spec = "y ~ x1 +\n    x2 +\n\n    # a comment in between\n    x3\nz ~ w"
    assert [(s.lhs, s.rhs, s.line, s.col) for s in parse(spec)] == [
        ("y", "x1", 1, 5), ("y", "x2", 2, 5), ("y", "x3", 5, 5),
        ("z", "w", 6, 5)]


def test_line_starting_with_plus_continues():
    assert where("y ~ x1\n  + x2") == [(1, 5), (2, 5)]


def test_line_ending_in_star_continues():
    (s,) = parse("y ~ a*\n x")
    assert (s.label, s.rhs, s.line, s.col) == ("a", "x", 2, 2)


def test_line_starting_with_star_continues():
    (s,) = parse("y ~ a\n   *x")
    assert (s.label, s.rhs, s.line, s.col) == ("a", "x", 2, 5)


def test_line_ending_in_operator_continues():
    (s,) = parse("y ~\n  x")
    assert (s.lhs, s.rhs, s.line, s.col) == ("y", "x", 2, 3)


def test_line_starting_with_operator_continues():
    assert rows("y\n  ~ x") == [("y", "~", "x", None, None, False, None)]


def test_open_parenthesis_continues():
    (s,) = parse("y ~ start(\n 0.3\n)*x")
    assert (s.start, s.line, s.col) == (0.3, 3, 3)


def test_open_parenthesis_in_expression_continues():
    spec = "y ~ a*x + b*z\nab := (a +\n b)"
    assert parse(spec)[-1].rhs == "(a+b)"


def test_complete_line_ends_statement():
    assert len(parse("y ~ x\nz ~ w")) == 2


def test_crlf_and_cr_line_ends():
    assert where("y ~ x\r\nz ~ w\r\n") == [(1, 5), (2, 5)]
    assert where("y ~ x\rz ~ w") == [(1, 5), (2, 5)]


def test_byte_order_mark_and_no_break_space_are_blank():
    assert where("\ufeffy ~ x") == [(1, 6)]
    assert rows("y ~\u00a0x")[0][:3] == ("y", "~", "x")


# -- line, col and source ----------------------------------------------------

def test_col_points_at_the_rhs_term_not_its_modifiers():
    assert where("y ~ x1 + a*x2 + start(1)*x3") == [(1, 5), (1, 12), (1, 26)]


def test_intercept_points_at_its_lhs():
    assert where("  y1 + y2 ~ 1") == [(1, 3), (1, 8)]


def test_definition_points_at_its_name():
    spec = "y ~ a*x\n\n   ind := a*2"
    assert where(spec)[-1] == (3, 4)


def test_constraint_points_at_its_rhs():
    spec = "y ~ a*x\na  >  0"
    assert where(spec)[-1] == (2, 7)


def test_source_is_the_whole_line_with_comment():
    spec = "# x\n  y ~ a*x + z   # note"
    assert {s.source for s in parse(spec)} == {"  y ~ a*x + z   # note"}


def test_source_of_a_continued_statement_is_the_terms_own_line():
    assert [s.source for s in parse("y ~ x1 +\n  x2")] == ["y ~ x1 +", "  x2"]


def test_tabs_count_as_one_column():
    assert where("y\t~\tx") == [(1, 5)]


# -- realistic specs ---------------------------------------------------------

def test_serial_mediation():
    got = rows(SERIAL_MEDIATION)
    assert got[:6] == [
        ("m1", "~", "x", "a1", None, False, None),
        ("m2", "~", "x", "a2", None, False, None),
        ("m2", "~", "m1", "d21", None, False, None),
        ("y", "~", "x", "cp", None, False, None),
        ("y", "~", "m1", "b1", None, False, None),
        ("y", "~", "m2", "b2", None, False, None)]
    assert [r[:3] for r in got[6:]] == [
        ("ind1", ":=", "a1*b1"), ("ind2", ":=", "a2*b2"),
        ("ind3", ":=", "a1*d21*b2"), ("total", ":=", "cp+ind1+ind2+ind3")]
    assert [(s.line, s.col) for s in parse(SERIAL_MEDIATION)][6:] == [
        (6, 1), (7, 1), (8, 1), (9, 1)]


def test_political_democracy():
    got = parse(POLITICAL_DEMOCRACY)
    assert len(got) == 20
    assert [s.op for s in got].count("=~") == 11
    assert [s.op for s in got].count("~") == 3
    assert [s.op for s in got].count("~~") == 6
    assert [(s.rhs, s.label) for s in got if s.lhs == "dem65" and s.op == "=~"] == [
        ("y5", None), ("y6", "a"), ("y7", "b"), ("y8", "c")]
    y2 = [s for s in got if s.lhs == "y2"]
    assert [(s.rhs, s.line, s.col) for s in y2] == [("y4", 10, 11), ("y6", 10, 16)]


def test_kitchen_sink():
    got = rows(KITCHEN_SINK)
    assert got == [
        ("f", "=~", "x1", None, None, True, None),
        ("f", "=~", "x2", None, None, False, 0.8),
        ("f", "=~", "x3", "lam3", None, False, None),
        ("f", "=~", "x4", "lam4", None, False, None),
        ("f", "~~", "f", None, 1.0, False, None),
        ("x1", "~~", "x2", None, None, False, None),
        ("y", "~1", "", None, None, False, None),
        ("y", "~", "f", "b", None, False, None),
        ("y", "~", "z", None, -0.5, False, None),
        ("y", "~", "w", None, 0.001, False, None),
        ("y", "~~", "y", None, None, False, 0.3),
        ("diff", ":=", "(lam3-lam4)^2/2", None, None, False, None),
        ("lam3", ">", "0", None, None, False, None),
        ("lam3", "==", "exp(lam4)", None, None, False, None)]


def test_labels_may_be_defined_after_their_use():
    assert len(parse("ab := a*b\ny ~ a*x + b*z")) == 3


def test_definitions_may_use_earlier_definitions():
    assert len(parse("y ~ a*x\nd := 2*a\ne := d + a")) == 3


def test_same_label_on_several_parameters_is_allowed():
    assert len(parse("y ~ a*x1 + a*x2")) == 2


# -- errors: locations and messages -----------------------------------------

@pytest.mark.parametrize("text, line, col, culprit, words", [
    # unknown operators
    ("y =~~ x", 1, 3, "=~~", "not an operator"),
    ("y -> x", 1, 3, "->", "y ~ x"),
    ("y <- x", 1, 3, "<-", "y ~ x"),
    ("y = x", 1, 3, "=", "'=~'"),
    ("y ~ a*x\na >= 0", 2, 3, ">=", "'>' or '<'"),
    ("f ~= x", 1, 3, "~=", "'=~'"),
    ("y ~~~ x", 1, 3, "~~~", "not an operator"),
    # dangling + and *
    ("y ~ x +", 1, 7, "+", "nothing after it"),
    ("y ~ x +\n\n# only comments after", 1, 7, "+", "nothing after it"),
    ("y ~ + x", 1, 5, "+", "nothing before it"),
    ("y ~ x + + z", 1, 9, "+", "nothing between"),
    ("y1 + ~ x", 1, 4, "+", "nothing after it"),
    ("y ~ a*", 1, 6, "*", "no variable after it"),
    ("y ~ *x", 1, 5, "*", "nothing before it"),
    ("y ~ a**x", 1, 7, "*", "nothing between"),
    # missing sides
    ("~ x", 1, 1, "~", "nothing on its left"),
    ("y ~", 1, 3, "~", "nothing on its right"),
    ("x =~", 1, 3, "=~", "nothing on its right"),
    ("y ~ x\n =~ z", 2, 2, "=~", "second operator"),
    ("y ~ x ~ z", 1, 7, "~", "second operator"),
    ("y x", 1, 1, "y x", "no operator"),
    ("y ~ x\nz", 2, 1, "z", "no operator"),
    # terms that are not names
    ("y ~ 2x", 1, 5, "2x", "'2*x'"),
    ("y ~ .5x", 1, 5, ".5x", "'.5*x'"),
    ("y ~ 1e-3x", 1, 5, "1e-3x", "'1e-3*x'"),
    ("y ~ (x)", 1, 5, "(x)", "without parentheses"),
    ("y ~ 2", 1, 5, "2", "'2*x'"),
    ("f =~ 1", 1, 6, "1", "only after '~'"),
    ("x ~~ 1", 1, 6, "1", "only after '~'"),
    ("y ~ x z", 1, 7, "z", "'+'"),
    ("y ~ x - z", 1, 7, "-", "'+'"),
    ("y ~ -x", 1, 5, "-", "cannot start a term"),
    ("y ~ 'x'", 1, 5, "'x'", "remove the quotes"),
    ("y ~ NA", 1, 5, "NA", "reserved"),
    ("1 ~ x", 1, 1, "1", "variable names only"),
    ("y + y ~ x", 1, 5, "y", "twice"),
    ("y ~ start(0.3)", 1, 5, "start(0.3)", "start(0.3)*x"),
    ("y ~ start(0.3)x", 1, 15, "x", "start(0.3)*x"),
    ("y ~ x$z", 1, 6, "$", "cannot appear"),
    ("y ~ `x`", 1, 5, "`", "backtick"),
    ("y ~ x\u0000", 1, 6, "\u0000", "cannot appear"),
    ("y ~ label(\u201ca\u201d)*x", 1, 11, "\u201c", "straight"),
    ("y ~ I(x^2)", 1, 5, "I(x^2)", "not a variable name"),
    ("f =~ x1 + x2\n   x3", 2, 4, "x3", "end that line with '+'"),
    # labels and modifiers
    ("y ~ label('1a')*x", 1, 11, "1a", "not a valid label"),
    ("y ~ label('1.5')*x", 1, 11, "1.5", "not a valid label"),
    ('y ~ label("a b")*x', 1, 11, "a b", "not a valid label"),
    ('y ~ label("a-b")*x', 1, 11, "a-b", "not a valid label"),
    ('y ~ label("")*x', 1, 11, "", "empty"),
    ('y ~ label("NA")*x', 1, 11, "NA", "reserved"),
    ("y ~ TRUE*x", 1, 5, "TRUE", "reserved"),
    ("y ~ label(a)*x", 1, 5, "label(a)", 'label("a")'),
    ('y ~ "a"*x', 1, 5, '"a"', 'label("a")'),
    ("y ~ foo(1)*x", 1, 5, "foo(1)", "not a modifier"),
    ("y ~ start(a)*x", 1, 5, "start(a)", "one number"),
    ("y ~ start(1, 2)*x", 1, 5, "start(1,2)", "one number"),
    ("y ~ a*b*x", 1, 7, "b", "already has a label"),
    ("y ~ 1*2*x", 1, 7, "2", "already has a fixed value"),
    ("y ~ NA*0.5*x", 1, 8, "0.5", "already has a NA"),
    ("y ~ 0.5*start(1)*x", 1, 9, "start(1)", "already has a fixed value"),
    ("y ~ start(1)*start(2)*x", 1, 14, "start(2)", "already has a start"),
    ("y ~ 1e999*x", 1, 5, "1e999", "finite"),
    ("y ~ start(1)(2)*x", 1, 13, "(", "'*'"),
    # modifiers on the left-hand side
    ("a*y ~ x", 1, 1, "a*", "left-hand side"),
    ("0.5*y =~ x", 1, 1, "0.5*", "left-hand side"),
    ("y + b*z ~ x", 1, 5, "b*", "left-hand side"),
    # parentheses and quotes
    ("y ~ start(0.3*x", 1, 10, "(", "never closed"),
    ("y ~ start(0.3*x\nz ~ w", 1, 10, "(", "never closed"),
    ("y ~ x)", 1, 6, ")", "no matching '('"),
    ("y ~ start(0.3; z ~ w", 1, 10, "(", "';'"),
    ("y ~ label('a)*x", 1, 11, "'a)*x", "never closed"),
    ('y ~ label("a)*x', 1, 11, '"a)*x', "never closed"),
    # definitions
    ("ab :=", 1, 4, ":=", "no expression"),
    ("ab := # nothing", 1, 4, ":=", "no expression"),
    (":= a*b", 1, 1, ":=", "nothing on its left"),
    ("a*b := x", 1, 1, "a*b", "one new name"),
    ("a + b := x", 1, 1, "a+b", "one new name"),
    ("2 := x", 1, 1, "2", "one new name"),
    ("y ~ a*x\nab := a*", 2, 8, "*", "ends too soon"),
    ("y ~ a*x\nab := a b", 2, 9, "b", "cannot be read"),
    ("y ~ a*x\nab := a + 'b'", 2, 11, "'b'", "cannot appear in an expression"),
    ("y ~ a*x\nab := a:b", 2, 8, ":", "cannot appear in an expression"),
    ("y ~ a*x\nab := foo(a)", 2, 7, "foo", "unknown function"),
    ("y ~ a*x\nab := exp(a, a)", 2, 7, "exp", "exactly one argument"),
    ("y ~ a*x\nab := exp()", 2, 7, "exp", "exactly one argument"),
    ("y ~ a*x\nab := a, a", 2, 8, ",", "','"),
    ("y ~ a*x\nab := 2(a)", 2, 7, "2", "'*'"),
    ("y ~ a*x\nab := ()", 2, 7, "(", "nothing inside"),
    ("y ~ a*x\nab := a*(2", 2, 9, "(", "never closed"),
    # constraints
    ("y ~ a*x\na ==", 2, 3, "==", "nothing on its right"),
    ("y ~ a*x; > a", 1, 10, ">", "nothing on its left"),
    ("y ~ a*x\na == 'b'", 2, 6, "'b'", "cannot appear in an expression"),
    ("y ~ a*x\na < b +", 2, 7, "+", "ends too soon"),
])
def test_errors(text, line, col, culprit, words):
    err = error(text, "model.lav")
    assert (err.line, err.col, err.text) == (line, col, culprit)
    assert words in err.message
    assert err.file == "model.lav"
    assert err.source_line == text.split("\n")[line - 1]
    assert err.message.rstrip().endswith(".")


@pytest.mark.parametrize("text, line, col, culprit, what", [
    ("x1 | t1 + t2", 1, 4, "|", "'|'"),
    ("f ~*~ 1*f", 1, 3, "~*~", "'~*~'"),
    ("f <~ x1 + x2", 1, 3, "<~", "'<~'"),
    ("y ~ x % z", 1, 7, "%", "'%'"),
    ("x1 |~ x2", 1, 4, "|~", "'|~'"),
    ("group: 1", 1, 1, "group:", "'group:'"),
    ("block: 2", 1, 1, "block:", "'block:'"),
    ("y ~ x1:x2", 1, 7, "x1:x2", "interaction"),
    ("y ~ x + x1:x2", 1, 11, "x1:x2", "interaction"),
    ('efa("efa1")*f1 =~ x1 + x2', 1, 1, 'efa("efa1")', 'efa("...")'),
    ('f =~ efa("e")*x1', 1, 6, 'efa("e")', 'efa("...")'),
    ('y ~ equal("y~x1")*x2', 1, 5, 'equal("y~x1")', "equal(...)"),
    ("y ~ lower(0)*x", 1, 5, "lower(0)", "lower(...)"),
    ("y ~ upper(1)*x", 1, 5, "upper(1)", "upper(...)"),
    ('y ~ prior("dnorm(0,1)")*x', 1, 5, 'prior("dnorm(0,1)")', "prior(...)"),
])
def test_unsupported_lavaan_syntax(text, line, col, culprit, what):
    err = error(text)
    assert (err.line, err.col, err.text) == (line, col, culprit)
    assert NOT_YET in err.message
    assert what in err.message


def test_duplicate_statement_points_at_second():
    err = error("y ~ x\nz ~ w\n  y ~ x # again")
    assert (err.line, err.col, err.text) == (3, 7, "x")
    assert "'y ~ x' already appears on line 1" in err.message


def test_duplicate_with_different_modifiers_is_still_a_duplicate():
    err = error("y ~ a*x\ny ~ 0.5*x")
    assert (err.line, err.col) == (2, 9)


def test_duplicate_within_one_statement():
    err = error("y ~ x + x")
    assert (err.line, err.col, err.text) == (1, 9, "x")


def test_reversed_covariance_is_a_duplicate():
    err = error("x ~~ y\ny ~~ x")
    assert (err.line, err.col) == (2, 6)
    assert "symmetric" in err.message


def test_duplicate_intercept_points_at_its_lhs():
    err = error("y ~ 1\ny ~ 0*1")
    assert (err.line, err.col, err.text) == (2, 1, "y")


def test_duplicate_definition():
    err = error("y ~ a*x\nd := a\nd := 2*a")
    assert (err.line, err.col, err.text) == (3, 1, "d")
    assert "already defined on line 2" in err.message


def test_duplicate_constraint():
    err = error("y ~ a*x\na > 0\na > 0")
    assert (err.line, err.col) == (3, 5)


def test_definition_reusing_a_label_name():
    err = error("y ~ a*x\na := 2")
    assert (err.line, err.col, err.text) == (2, 1, "a")
    assert "already a parameter label" in err.message


def test_undefined_label_in_definition_suggests_closest():
    err = error("y ~ alpha*x + beta1*m\nab := alpha*beta")
    assert (err.line, err.col, err.text) == (2, 13, "beta")
    assert err.suggestion == "beta1"
    assert "Did you mean 'beta1'?" in str(err)


def test_variable_name_is_not_a_label():
    err = error("y ~ a*x\nd := a*x")
    assert (err.line, err.col, err.text) == (2, 8, "x")


def test_undefined_label_in_constraint():
    err = error("y ~ a*x\n a == b")
    assert (err.line, err.col, err.text) == (2, 7, "b")
    assert "'==' constraint" in err.message


def test_undefined_label_on_constraint_lhs():
    err = error("y ~ a*x\n c > a")
    assert (err.line, err.col, err.text) == (2, 2, "c")


def test_definition_used_before_it_is_defined():
    err = error("y ~ a*x\nd := e\ne := a")
    assert (err.line, err.col, err.text) == (2, 6, "e")
    assert "line 3" in err.message


def test_definition_in_terms_of_itself():
    err = error("y ~ a*x\nd := d + a")
    assert (err.line, err.col, err.text) == (2, 6, "d")


def test_constraint_may_use_a_later_definition():
    assert len(parse("y ~ a*x\nd > 0\nd := 2*a")) == 3


def test_function_name_needs_a_call_or_a_label():
    err = error("y ~ a*x\nd := exp")
    assert err.text == "exp"
    assert len(parse("y ~ exp*x\nd := exp(exp)")) == 2


def test_first_error_in_text_order_wins():
    err = error("y ~ \nz ~ 2x\nw ~ $")
    assert (err.line, err.col, err.text) == (2, 5, "2x")
    err = error("y ~ x\nz ~ 2x\nw ~ $")
    assert (err.line, err.col, err.text) == (2, 5, "2x")


# -- whole-input errors ------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "\n\n", "# just a comment\n! and another",
                                  ";;", " ; \n ;"])
def test_empty_spec(text):
    err = error(text, "empty.lav")
    assert "empty" in err.message
    assert err.file == "empty.lav"


@pytest.mark.parametrize("value, word", [(b"y ~ x", "bytes"), (None, "NoneType"),
                                         (42, "int"), (["y ~ x"], "list")])
def test_non_text_input(value, word):
    err = error(value)
    assert word in err.message
    assert "str" in err.message


def test_bytes_hint_says_decode():
    assert "decode" in error(b"y ~ x").message


def test_path_file_name_is_kept_as_text():
    err = error("y ~ 2x", Path("specs/m.lav"))
    assert str(err).startswith(f"{Path('specs/m.lav')}:1:5:")


def test_rendered_error_shows_line_and_caret():
    err = error("y ~ x\nz ~ 2x", "m.lav")
    lines = str(err).split("\n")
    assert lines[0].startswith("m.lav:2:5: '2x'")
    assert lines[1] == "    z ~ 2x"
    assert lines[2] == "        ^"


# -- two-level blocks ------------------------------------------------------------

def test_level_blocks_carry_their_label_into_statements():
    stmts = parse("level: 1\n y ~ x\nlevel: 2\n y ~ w\nab := 1")
    assert [(s.lhs, s.op, s.rhs, s.level) for s in stmts] == [
        ("y", "~", "x", "1"), ("y", "~", "w", "2"), ("ab", ":=", "1", "")]


def test_the_same_statement_may_appear_at_both_levels():
    stmts = parse("level: within\n y ~~ y\nlevel: between\n y ~~ y")
    assert [s.level for s in stmts] == ["within", "between"]


@pytest.mark.parametrize("text, line, col, message", [
    ("y ~ x\nlevel: 1\ny ~ x\nlevel: 2\ny ~~ y", 2, 1, "start the spec with 'level: 1'"),
    ("level: 1\ny ~ x\nlevel: 1\ny ~~ y", 3, 8, "second time"),
    ("level: 1\ny ~ x\nlevel: 2\ny ~~ y\nlevel: 3\ny ~~ y", 5, 8, "therapist/client"),
    ("level:\ny ~ x", 1, 6, "needs a label"),
    ("level: 1\ny ~ x\ny ~ x", 3, 5, "already appears"),
])
def test_level_block_errors_point_at_the_line(text, line, col, message):
    with pytest.raises(SpecError) as err:
        parse(text)
    assert message in str(err.value)
    assert (err.value.line, err.value.col) == (line, col)


def test_a_single_level_block_is_refused():
    with pytest.raises(SpecError, match="only one level"):
        parse("level: 1\ny ~ x")
