"""APA number formatting, Markdown/HTML escaping and SVG inlining."""

import re

import pytest

from attachpath.report import format as F
from attachpath.report.document import (Document, Figure, Para, Pre, Table, inline_svg, md_esc,
                                        sanitize_svg)


@pytest.mark.parametrize("p, text", [
    (0.0, "< .001"), (0.000999, "< .001"), (0.001, ".001"), (0.0214, ".021"),
    (0.6213, ".621"), (0.9994, ".999"), (0.9996, "> .999"), (1.0, "> .999"),
    (float("nan"), F.DASH), (None, F.DASH)])
def test_p_values_apa(p, text):
    assert F.p_value(p) == text


def test_numbers_minus_sign_and_leading_zero():
    assert F.num(-0.2331) == "\u22120.233"
    assert F.num(-0.0001) == "0.000"                       # no negative zero
    assert F.std(0.4737) == ".474" and F.std(-0.4161) == "\u2212.416"
    assert F.std(1.4271) == "1.427"                         # |β| > 1 keeps its digit
    assert F.ci(-0.278, -0.188) == "[\u22120.278, \u22120.188]"
    assert F.num(float("inf")) == F.DASH
    assert F.percent(0.95) == "95%" and F.percent(0.975) == "97.5%"
    assert F.decimals_for([0.0319, -0.0008]) == 4 and F.decimals_for([0.5, 0.2]) == 3


def test_markdown_escaping_neutralises_html_and_syntax():
    assert md_esc("<script>alert(1)</script>") == "\\<script>alert(1)\\</script>"
    assert md_esc("a|b *c* `d`") == "a\\|b \\*c\\* \\`d\\`"
    assert md_esc("[x](javascript:y)") == "[x]\\(javascript:y)"
    assert md_esc("a_anx") == "a_anx"                      # intraword _ is no emphasis


def test_document_escapes_plain_text_everywhere():
    evil = '<img src=x onerror="alert(1)"> & </table>'
    doc = Document(title=evil, subtitle=evil)
    doc.add(Para(evil), Pre(evil, caption=evil),
            Table(title=evil, header=[evil, "x"], rows=[[evil, "1"]], note=evil))
    html = doc.html()
    assert "<img" not in html and "</table> &" not in html
    assert html.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") >= 6
    md = doc.markdown()
    outside_code = re.sub(r"```.*?```", "", md, flags=re.S)
    assert not re.search(r"(?<!\\)<img", outside_code) and "\\<img" in outside_code


def test_svg_is_sanitised_and_ids_prefixed():
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n'
           '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><defs>'
           '<marker id="arrow"/></defs><script>alert(2)</script>'
           '<foreignObject><div>x</div></foreignObject>'
           '<a href="javascript:alert(3)"><path id="p1" marker-end="url(#arrow)"/></a>'
           '<use href="#p1"/></svg>')
    clean = sanitize_svg(svg)
    assert clean.startswith("<svg") and "alert" not in clean and "foreignObject" not in clean
    inl = inline_svg(svg, "fig-2")
    assert 'id="fig-2-arrow"' in inl and "url(#fig-2-arrow)" in inl and 'href="#fig-2-p1"' in inl


def test_figures_and_tables_are_numbered_in_order():
    doc = Document(title="t")
    doc.add(Table(title="A", header=["x"], rows=[["1"]]),
            Figure(svg="<svg></svg>", src="a.svg", title="F"),
            Table(title="B", header=["x"], rows=[["2"]]))
    html = doc.html()
    assert html.index("Table 1") < html.index("Figure 1") < html.index("Table 2")
    md = doc.markdown()
    assert "**Table 2.** B" in md and "![Figure 1: F](<a.svg>)" in md
