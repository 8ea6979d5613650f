"""Two-level diagrams (diagram/twolevel.py): one figure, the within panel above
the between panel, on the study's two-level model fitted to the example
sessions with therapists."""

from __future__ import annotations

import re
import shutil
import warnings
import xml.etree.ElementTree as ET

import pytest

import attachpath as ap
from attachpath.data import esat_scores
from attachpath.demo import spec_text
from attachpath.diagram import diagram
from attachpath.diagram import fmt

NS = {"s": "http://www.w3.org/2000/svg"}
BOTH = {"esat_anx", "tds_ge", "tds_ga"}               # at both levels: random intercepts
BETWEEN_ONLY = {"ecr_anx", "ecr_avoid", "iip_pre", "iip_post"}


@pytest.fixture(scope="module")
def res():
    sessions = esat_scores(ap.datasets.load_example(), level="session")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.fit(spec_text("twolevel_serial_esat_anx"), sessions,
                      cluster="therapist/client", se="robust")


@pytest.fixture(scope="module")
def fig(res):
    return diagram(res)


@pytest.fixture(scope="module")
def svg(fig):
    return ET.fromstring(fig.svg())


def _nodes(svg, level):
    return {g.get("data-name"): g for g in svg.iterfind(".//s:g", NS)
            if "node" in (g.get("class") or "").split() and g.get("data-level") == str(level)}


def test_random_intercepts_dotted_within_and_latent_between(svg):
    within, between = _nodes(svg, 1), _nodes(svg, 2)
    assert set(within) == BOTH
    assert set(between) == BOTH | BETWEEN_ONLY
    for v, g in within.items():
        assert g.find("s:rect", NS) is not None                 # a box ...
        assert len(g.findall("s:circle[@class='random-intercept']", NS)) == 1   # ... with a dot
    for v, g in between.items():
        assert not g.findall("s:circle[@class='random-intercept']", NS)
        if v in BOTH:      # the between part of a random intercept: latent
            assert g.find("s:ellipse", NS) is not None and g.find("s:rect", NS) is None
        else:
            assert g.find("s:rect", NS) is not None and g.find("s:ellipse", NS) is None


def test_same_horizontal_place_within_above_between(fig):
    nodes = fig.layout.nodes
    for v in BOTH:
        assert nodes[f"{v}@1"].shape.cx == pytest.approx(nodes[f"{v}@2"].shape.cx, abs=1e-9)
    # the same top-to-bottom order of the shared column
    assert nodes["tds_ge@1"].shape.cy < nodes["tds_ga@1"].shape.cy
    assert nodes["tds_ge@2"].shape.cy < nodes["tds_ga@2"].shape.cy
    low_within = max(n.shape.cy + n.shape.h / 2 for n in nodes.values() if n.level == 1)
    top_between = min(n.shape.cy - n.shape.h / 2 for n in nodes.values() if n.level == 2)
    rule = fig.layout.rules[0][1]
    assert low_within < rule < top_between
    # causal order left to right: ECR, ESAT, TDS, IIP post
    x = {v: nodes[f"{v}@2"].shape.cx for v in BOTH | BETWEEN_ONLY}
    assert x["ecr_anx"] < x["esat_anx"] < x["tds_ge"] < x["iip_post"]


def test_clean_layout(fig):
    assert fig.layout.problems() == []
    assert fig.layout.covered() == []
    assert fig.messages == []


def test_estimates_and_stars_per_level(svg, res):
    est = res.estimates.set_index(["lhs", "op", "rhs", "block"])
    labels = {g.get("data-owner"): "".join(g.itertext()) for g in svg.iterfind(".//s:g", NS)
              if g.get("class") == "label"}
    text = " | ".join(labels.values())
    for lhs, rhs, block in (("tds_ge", "esat_anx", 1), ("tds_ge", "esat_anx", 2),
                            ("esat_anx", "ecr_anx", 2)):
        r = est.loc[(lhs, "~", rhs, block)]
        assert fmt.num(r["est"], 2) + fmt.stars(r["pvalue"]) in text


def test_indirect_effect_paths_highlighted_where_they_live(svg, res):
    d = res.defined().set_index("lhs")
    sig = [n for n in ("anx_ge", "anx_ga", "avoid_ge", "avoid_ga")
           if d.loc[n, "ci.lower"] > 0 or d.loc[n, "ci.upper"] < 0]
    assert sig == ["anx_ge"]            # the data's one specific effect excluding 0
    bold = {(g.get("data-from"), g.get("data-to")) for g in svg.iterfind(".//s:g", NS)
            if "highlighted" in (g.get("class") or "").split()}
    assert bold == {("ecr_anx@2", "esat_anx@2"), ("esat_anx@2", "tds_ge@2"),
                    ("tds_ge@2", "iip_post@2")}
    # every path of an indirect effect says which (a_av is in avoid_ge and avoid_ga)
    ind = {(g.get("data-from"), g.get("data-to")): g.get("data-indirect")
           for g in svg.iterfind(".//s:g", NS) if g.get("data-indirect")}
    assert set(ind[("ecr_avoid@2", "esat_anx@2")].split()) == {"avoid_ge", "avoid_ga",
                                                               "avoid_total"}
    assert not any(k[0].endswith("@1") for k in ind)         # none at the within level
    # the bold paths are drawn heavier
    widths = {(g.get("data-from"), g.get("data-to")): float(g.find("s:path", NS).get("stroke-width"))
              for g in svg.iterfind(".//s:g", NS) if "edge" in (g.get("class") or "").split()}
    assert widths[("esat_anx@2", "tds_ge@2")] > 2 * widths[("esat_anx@2", "tds_ga@2")]


def test_panel_note_gives_the_effects_and_their_cis(svg, fig, res):
    notes = [" ".join("".join(t.itertext()) for t in g.findall("s:text", NS))
             for g in svg.iterfind(".//s:g[@class='panel-note']", NS)]
    assert len(notes) == 1                              # the between panel's only
    r = res.defined().set_index("lhs").loc["anx_ge"]
    want = (f"anx_ge = a_anx × b_ge × c_ge = {fmt.num(r['est'], 3)}, 95% CI "
            f"{fmt.interval(r['ci.lower'], r['ci.upper'], 3)}")
    assert want in fig.panel_notes[2]
    assert fig.panel_notes[1] == ""
    # the drawn note holds the same text (wrapped into lines)
    assert re.sub(r"\s+", " ", notes[0]).replace("\u00a0", " ") == fig.panel_notes[2]
    assert "Bold paths: anx_ge" in fig.panel_notes[2]
    # a total of indirect effects lives at the level of its parts
    assert "anx_total = anx_ge + anx_ga" in fig.panel_notes[2]


def test_figure_note_counts_se_and_fit(fig, svg, res):
    note = fig.note
    n_rows = res.data_info["n"]
    assert f"N = {n_rows:,} sessions in 330 clients and 44 therapists" in note
    assert "cluster-robust standard errors corrected for 44 therapists" in note
    assert f"χ²(11) = {fmt.num(res.fit['chisq.scaled'], 2)}" in note
    # the effect mixing the levels (contextual: between minus within) is here
    r = res.defined().set_index("lhs").loc["contextual_ge"]
    assert f"contextual_ge = b_ge − w_ge = {fmt.num(r['est'], 3)}" in note
    drawn = " ".join("".join(t.itertext()) for t in svg.iterfind(".//s:g[@class='note']/s:text", NS))
    assert "corrected for 44 therapists" in drawn.replace("\u00a0", " ")
    # one note only, under the between panel
    assert len(svg.findall(".//s:g[@class='note']", NS)) == 1
    titles = ["".join(g.itertext()).strip() for g in svg.iterfind(".//s:g[@class='panel-title']", NS)]
    assert titles == ["Level 1 (within clients)", "Level 2 (between clients)"]


def test_highlight_names_one_effect(res):
    d = diagram(res, highlight="anx_ga")
    bold = {(e.u, e.v) for e in d.layout.edges if getattr(e, "mark", None) == "highlighted"}
    assert bold == {("ecr_anx@2", "esat_anx@2"), ("esat_anx@2", "tds_ga@2"),
                    ("tds_ga@2", "iip_post@2")}


def test_spec_only():
    d = diagram(spec_text("twolevel_serial_esat_anx"))
    assert sorted(n.var for n in d.layout.nodes.values() if n.dot) == sorted(BOTH)
    # not fitted: every specific indirect effect's paths are bold
    bold = {(e.u, e.v) for e in d.layout.edges if getattr(e, "mark", None) == "highlighted"}
    assert ("ecr_avoid@2", "esat_anx@2") in bold and ("tds_ga@2", "iip_post@2") in bold
    assert "anx_ge = a_anx × b_ge × c_ge" in d.panel_notes[2]
    assert d.layout.problems() == []


def test_note_off(res):
    d = diagram(res, show="-note")
    assert d.layout.note_lines == [] and "<g class=\"note\">" not in d.svg()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_png_of_the_whole_figure(fig, tmp_path):
    out = fig.render(tmp_path / "fig.png")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG") and b"pHYs" in data[:100]
    import struct
    w, h = struct.unpack(">II", data[16:24])
    # 300 dpi of the layout's size in points plus Graphviz's pad (0.17 in a side)
    pad = 2 * 0.17 * 72
    assert w == pytest.approx((fig.layout.width + pad) * 300 / 72, rel=0.01)
    total = fig.layout.height + fig.layout.note_block
    assert h == pytest.approx((total + pad) * 300 / 72, rel=0.01)


def test_dashed_nonsignificant_without_stars(res):
    d = diagram(res, nonsig="dashed", show="-stars")
    assert "Dashed paths: p ≥ .05." in d.note and "* p < .05" not in d.note
    dashed = [e for e in d.layout.edges if e.style.dashed]
    assert dashed and all(e.attrs.get("sig") is False for e in dashed)
