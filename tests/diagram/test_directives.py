"""The diagram mini-language: parsing, checking against the model, errors
with file, line and column, sidecar files, precedence."""

from __future__ import annotations

import pytest

from attachpath.diagram import diagram
from attachpath.diagram.directives import (DEFAULT_SHOW, apply, from_spec,
                                           parse_directives, sidecar_path)
from attachpath.errors import OptionError, SpecError
from attachpath.spec import partable_of

from diagram_models import PARALLEL, SERIAL, pd_model

PT = partable_of(SERIAL)


def one(text):
    [d] = parse_directives(text)
    return d


# -- parsing -------------------------------------------------------------------

def test_every_directive_parses():
    text = """
rank ecr_anx ecr_avoid = 0
order iip_pre iip_post
label cats_secure = "Therapeutic attachment"
labels data
hide iip_pre
hide path iip_post ~ ecr_anx
show residuals ci
omit stars
highlight abc
estimates std
decimals 3
theme colour
nonsig dashed
indicators dem60 above
"""
    ds = parse_directives(text, file="m.diagram")
    assert [d.kind for d in ds] == ["rank", "order", "label", "labels", "hide", "hide path",
                                   "show", "omit", "highlight", "estimates", "decimals",
                                   "theme", "nonsig", "indicators"]
    assert ds[0].args == (("ecr_anx", "ecr_avoid"), 0)
    assert ds[0].line == 2 and ds[0].file == "m.diagram"
    assert ds[2].args == ("cats_secure", "Therapeutic attachment")
    assert ds[5].args == ("iip_post", "~", "ecr_anx")
    assert ds[9].args == (True,)
    assert ds[11].args == ("colour",)


def test_path_without_spaces_and_escapes():
    assert one("hide path iip_post~ecr_anx").args == ("iip_post", "~", "ecr_anx")
    assert one("hide path f=~x1").args == ("f", "=~", "x1")
    assert one(r'label x = "Line one\nline two \"q\""').args == ("x", 'Line one\nline two "q"')
    assert one("label x = 'single'").args == ("x", "single")


def test_comments_and_blank_lines_in_a_sidecar():
    ds = parse_directives("# a comment\n\n  rank x = 1   # trailing\n! other comment\n"
                          "# diagram: order a b\n")
    assert [(d.kind, d.line) for d in ds] == [("rank", 3), ("order", 5)]


def test_spec_reads_only_whole_line_diagram_comments():
    spec = ("y ~ x   # a normal comment\n"
            "# diagram: rank x = 0\n"
            "   #diagram:label y = \"Outcome\"\n"
            "# diagrams are nice (not a directive)\n"
            "! diagram: hide x\n")
    ds = parse_directives(spec, prefixed=True)
    assert [(d.kind, d.line) for d in ds] == [("rank", 2), ("label", 3), ("hide", 5)]
    # columns point into the physical line
    assert ds[0].col == len("# diagram: ") + 1


@pytest.mark.parametrize("text, line, col, words", [
    ("rank x = 0\nrnak y = 1", 2, 1, ["Unknown diagram directive 'rnak'", "rank"]),
    ("rank x y", 1, 9, ["rank NAME... = INT"]),
    ("rank x = -1", 1, 10, ["cannot be negative"]),
    ("rank x = 1.5", 1, 10, ["not a whole number"]),
    ("order x", 1, 7, ["at least two"]),
    ("label x = Outcome", 1, 11, ["double quotes"]),
    ('label x = "open', 1, 11, ["never closed"]),
    ("label x = “curly”", 1, 11, ["Curly quotes"]),
    ("show r2 legend", 1, 9, ["'legend' is not a diagram element"]),
    ("hide path y -> x", 1, 13, ["not an operator"]),
    ("hide path y = x", 1, 13, ["OP one of ~ =~ ~~"]),
    ("theme blue", 1, 7, ["apa or colour"]),
    ("decimals 7", 1, 10, ["0 to 4"]),
    ("indicators f sideways", 1, 14, ["not a side"]),
    ("estimates both", 1, 11, ["std or unstd"]),
    ("highlight a b", 1, 13, ["one defined"]),
    ("rank x = 0 $", 1, 12, ["cannot appear"]),
])
def test_syntax_errors_name_line_and_column(text, line, col, words):
    with pytest.raises(SpecError) as err:
        parse_directives(text, file="model.diagram")
    e = err.value
    assert (e.file, e.line, e.col) == ("model.diagram", line, col)
    for w in words:
        assert w in e.message or w in str(e)


def test_unknown_directive_suggests_the_closest():
    with pytest.raises(SpecError) as err:
        parse_directives("higlight abc")
    assert err.value.suggestion == "highlight"
    assert "Did you mean 'highlight'?" in str(err.value)


def test_inline_directive_after_a_statement_is_an_error():
    with pytest.raises(SpecError) as err:
        parse_directives("y ~ x  # diagram: rank x = 0\n", file="m.lav", prefixed=True)
    assert err.value.line == 1 and err.value.col == 8
    assert "own" in err.value.message


def test_empty_prefixed_directive_is_an_error():
    with pytest.raises(SpecError) as err:
        parse_directives("y ~ x\n# diagram:\n", prefixed=True)
    assert err.value.line == 2


# -- checking against the model ---------------------------------------------------

@pytest.mark.parametrize("text, line, col, msg, hint", [
    ("rank ecr_anx ecr_avod = 0", 1, 14, "'ecr_avod' is not a variable", "ecr_avoid"),
    ("\norder iip_pre iip_pots", 2, 15, "'iip_pots'", "iip_post"),
    ('label cats_secur = "x"', 1, 7, "'cats_secur'", "cats_secure"),
    ("hide tds", 1, 6, "'tds'", None),
    ("hide path iip_post ~ ecr_avoid", 1, 11, "no path 'iip_post ~ ecr_avoid'", None),
    ("highlight ab", 1, 11, "not a defined (:=) parameter", "abc"),
    ("indicators cats_secure left", 1, 12, "not a latent variable", None),
])
def test_unknown_names_raise_spec_errors(text, line, col, msg, hint):
    ds = parse_directives(text, file="serial.diagram")
    with pytest.raises(SpecError) as err:
        apply(ds, PT)
    e = err.value
    assert (e.file, e.line, e.col) == ("serial.diagram", line, col)
    assert msg in e.message
    if hint:
        assert e.suggestion == hint


def test_a_variable_in_two_order_lines():
    ds = parse_directives("order ecr_anx ecr_avoid\norder iip_pre ecr_anx")
    with pytest.raises(SpecError) as err:
        apply(ds, PT)
    assert err.value.line == 2 and "already ordered on line 1" in err.value.message


def test_settings_from_directives():
    ds = parse_directives("rank iip_pre = 2\norder iip_pre tds_ge\nhide path ecr_avoid ~~ ecr_anx"
                          "\nhide path iip_post ~ ecr_anx\nshow exo residuals\nomit r2\n"
                          "highlight abc\nestimates std\ndecimals 3\ntheme color\nnonsig grey")
    s = apply(ds, PT)
    assert s.ranks == {"iip_pre": 2}
    assert s.order == [("iip_pre", "tds_ge")]
    # a covariance is found in either orientation and stored as in the table
    assert ("ecr_anx", "~~", "ecr_avoid") in s.hide_paths
    assert ("iip_post", "~", "ecr_anx") in s.hide_paths
    assert s.show["exo"] and s.show["residuals"] and not s.show["r2"]
    assert s.highlight == "abc" and s.standardized and s.decimals == 3
    assert s.theme == "colour" and s.nonsig == "grey"
    assert DEFAULT_SHOW["r2"] and not DEFAULT_SHOW["exo"]


def test_indicators_directive_on_a_latent():
    s = apply(parse_directives("indicators dem60 below"), partable_of(pd_model()))
    assert s.indicators == {"dem60": "below"}


# -- where directives come from -----------------------------------------------------

def test_spec_file_and_sidecar(tmp_path):
    spec = tmp_path / "serial.lav"
    spec.write_text(SERIAL + '# diagram: label cats_secure = "Attachment"\n# diagram: theme colour\n')
    assert sidecar_path(spec) is None
    side = tmp_path / "serial.diagram"
    side.write_text("theme apa\nrank iip_pre = 2\n")
    assert sidecar_path(spec) == side
    ds = from_spec(spec.read_text(), str(spec))
    assert [(d.kind, d.file) for d in ds] == [("label", str(spec)), ("theme", str(spec)),
                                             ("theme", str(side)), ("rank", str(side))]
    d = diagram(spec)
    assert d.settings.theme == "apa"               # the sidecar comes later and wins
    assert d.graph.nodes["cats_secure"]["label"] == "Attachment"
    assert d.graph.nodes["iip_pre"]["rank"] == 2


def test_sidecar_named_after_the_full_file_name(tmp_path):
    spec = tmp_path / "serial.lav"
    spec.write_text(SERIAL)
    (tmp_path / "serial.lav.diagram").write_text("hide iip_pre\n")
    assert "iip_pre" not in diagram(spec).graph
    (tmp_path / "serial.diagram").write_text("hide ecr_avoid\n")
    with pytest.raises(SpecError, match="Two diagram sidecar files"):
        diagram(spec)


def test_sidecar_error_names_the_sidecar(tmp_path):
    spec = tmp_path / "serial.lav"
    spec.write_text(SERIAL)
    (tmp_path / "serial.diagram").write_text("\n\nrank ecr_anx = 0\nlabel tds = \"x\"\n")
    with pytest.raises(SpecError) as err:
        diagram(spec)
    assert err.value.file == str(tmp_path / "serial.diagram")
    assert (err.value.line, err.value.col) == (4, 7)
    assert err.value.source_line == 'label tds = "x"'


def test_spec_comment_error_points_into_the_spec(tmp_path):
    spec = tmp_path / "m.lav"
    spec.write_text("y ~ x\n\n   # diagram: hide z\n")
    with pytest.raises(SpecError) as err:
        diagram(spec)
    assert (err.value.file, err.value.line, err.value.col) == (str(spec), 3, 20)


def test_keyword_arguments_win_over_directives():
    spec = SERIAL + "# diagram: theme colour\n# diagram: estimates std\n# diagram: highlight abc\n"
    d = diagram(spec, theme="apa", show=["-r2", "ci"], ranks={"iip_pre": 1},
                order=["iip_pre", "cats_secure"], hide=["iip_post ~ ecr_anx"])
    s = d.settings
    assert s.theme == "apa" and s.standardized and s.highlight == "abc"
    assert not s.show["r2"] and s.show["ci"]
    assert s.ranks["iip_pre"] == 1 and ("iip_pre", "cats_secure") in s.order
    assert ("iip_post", "~", "ecr_anx") in s.hide_paths


def test_keyword_argument_errors():
    with pytest.raises(OptionError, match="not a diagram element"):
        diagram(SERIAL, show=["legend"])
    with pytest.raises(OptionError, match="not a variable"):
        diagram(SERIAL, ranks={"tds": 1})
    with pytest.raises(OptionError, match="no path"):
        diagram(SERIAL, hide=["tds_ge ~ iip_pre"])
    with pytest.raises(OptionError, match="not a defined"):
        diagram(SERIAL, highlight="a")
    with pytest.raises(OptionError, match="theme"):
        diagram(SERIAL, theme="neon")
    with pytest.raises(OptionError, match="layout"):
        diagram(SERIAL, layout="neato")


def test_directives_argument_text():
    d = diagram(PARALLEL, directives="hide path cats_secure ~~ tds_ge\nnonsig dashed")
    assert not any(a["kind"] == "covariance" for *_, a in d.graph.edges(data=True))
    assert d.settings.nonsig == "dashed"
    with pytest.raises(SpecError) as err:
        diagram(PARALLEL, directives="rank x = 1")
    assert err.value.file == "<directives>"
