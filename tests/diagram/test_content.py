"""What a diagram shows: every variable, every path with its estimate, ranks,
styles, the figure note, APA number formatting; in the DOT and the SVG."""

from __future__ import annotations

import re
import warnings
from html import unescape

import pytest

import attachpath as ap
from attachpath.diagram import Diagram, diagram, fmt
from attachpath.diagram.model import fit_sentence

from diagram_models import PARALLEL, REF, SERIAL, pd_model


def svg_texts(svg: str) -> list[str]:
    """The text of every <text> element (tspans joined)."""
    out = []
    for m in re.finditer(r"<text[^>]*>(.*?)</text>", svg, re.S):
        out.append(unescape(re.sub(r"<[^>]+>", "", m.group(1))))
    return out


def dot_ranks(dot: str) -> list[set]:
    return [set(re.findall(r'"([^"]+)"', m.group(1)))
            for m in re.finditer(r"\{ rank=same; (.*?) \}", dot)]


def dot_edges(dot: str) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2), m.group(3))
            for m in re.finditer(r'^\s*"([^"]+)" -> "([^"]+)" \[(.*)\];$', dot, re.M)]


# -- APA formatting -------------------------------------------------------------------

def test_apa_numbers():
    assert fmt.num(0.4677, 2, bounded=True) == ".47"
    assert fmt.num(-0.361, 2, bounded=True) == "\u2212.36"
    assert fmt.num(0.4677) == "0.47"
    assert fmt.num(-0.004, 2) == "0.00"             # no negative zero
    assert fmt.num(-0.004, 2, bounded=True) == ".00"
    assert fmt.num(1.234, 2, bounded=True) == "1.23"
    assert fmt.num(12.3456, 1) == "12.3"
    assert fmt.num(float("nan")) == "NA"
    assert fmt.num(0.5, 0, bounded=True) == "0"
    assert [fmt.stars(p) for p in (0.2, 0.049, 0.0099, 0.0009, float("nan"))] == \
        ["", "*", "**", "***", ""]
    assert fmt.plain(fmt.p_text(0.0312)) == "p = .031"
    assert fmt.plain(fmt.p_text(0.00001)) == "p < .001"
    assert fmt.plural("therapist", 44) == "therapists"
    assert fmt.plural("class", 3) == "classes"
    assert fmt.plural("therapy", 2) == "therapies"
    assert fmt.fixed_value(1.0) == "1" and fmt.fixed_value(0.5) == "0.5"


# -- a fitted model --------------------------------------------------------------------

def test_every_variable_and_path_is_drawn_with_its_estimate(serial_res):
    d = diagram(serial_res)
    pt = serial_res.partable
    texts = svg_texts(d.svg())
    est = serial_res.estimates
    for v in ("ecr_anx", "ecr_avoid", "cats_secure", "tds_ge", "iip_pre", "iip_post"):
        assert v in d.graph
        assert v in texts
        assert f'"{v}"' in d.dot
    regs = est[est["op"] == "~"]
    assert len(regs) == 7
    for r in regs.itertuples():
        label = fmt.num(r.est, 2) + fmt.stars(r.pvalue)
        assert label in texts, label
        # the DOT edge x -> y carries the same label
        edges = [a for u, v, a in dot_edges(d.dot) if (u, v) == (r.rhs, r.lhs)]
        assert len(edges) == 1 and f"label=<{label}>" in edges[0]
    # each label is drawn once; the edge count matches the regressions
    assert sum(1 for *_, a in d.graph.edges(data=True) if a["kind"] == "regression") == 7
    assert len(d.layout.labels) == 7
    assert len(pt.rows) > 7


def test_r2_inside_endogenous_nodes(serial_res):
    d = diagram(serial_res)
    for v, r2 in serial_res.r2.items():
        text = f"R² = {fmt.num(r2, 2, bounded=True)}"
        assert text in [fmt.plain(x) for x in d.graph.nodes[v]["sub"]]
        assert text in svg_texts(d.svg())
    assert not d.graph.nodes["ecr_anx"]["sub"]
    assert "<I>R</I>² = " in d.dot
    assert not diagram(serial_res, show="-r2").graph.nodes["tds_ge"]["sub"]


def test_ranks_follow_the_causal_stages(serial_res):
    d = diagram(serial_res)
    ranks = {v: d.graph.nodes[v]["rank"] for v in d.graph}
    assert ranks == {"ecr_anx": 0, "ecr_avoid": 0, "iip_pre": 0, "cats_secure": 1,
                     "tds_ge": 2, "iip_post": 3}
    assert dot_ranks(d.dot) == [{"ecr_anx", "ecr_avoid", "iip_pre"}, {"cats_secure"},
                               {"tds_ge"}, {"iip_post"}]
    assert 'rankdir="LR"' in d.dot
    # left to right in the built-in layout too
    x = {v: n.shape.cx for v, n in d.layout.nodes.items()}
    assert x["ecr_anx"] < x["cats_secure"] < x["tds_ge"] < x["iip_post"]
    assert x["ecr_anx"] == x["ecr_avoid"] == x["iip_pre"]


def test_user_ranks_shift_the_variables_after_them(serial_res):
    d = diagram(serial_res, ranks={"cats_secure": 2, "iip_pre": 3})
    r = {v: d.graph.nodes[v]["rank"] for v in d.graph}
    # column 1 is empty and removed; tds_ge follows cats_secure
    assert r == {"ecr_anx": 0, "ecr_avoid": 0, "cats_secure": 1, "tds_ge": 2,
                 "iip_pre": 2, "iip_post": 3}


def test_order_within_a_rank(serial_res):
    d = diagram(serial_res, order=["iip_pre", "ecr_avoid", "ecr_anx"])
    y = {v: n.shape.cy for v, n in d.layout.nodes.items()}
    assert y["iip_pre"] < y["ecr_avoid"] < y["ecr_anx"]
    assert '"iip_pre" -> "ecr_avoid" [style=invis]' in d.dot


def test_order_across_columns_is_reported(serial_res):
    with pytest.warns(ap.errors.AttachpathWarning, match="share a column"):
        d = diagram(serial_res, order=["iip_pre", "iip_post"])
    assert any("changes nothing" in m for m in d.messages)
    d = diagram(serial_res, ranks={"iip_pre": 3, "iip_post": 3}, order=["iip_pre", "iip_post"])
    assert d.layout.nodes["iip_pre"].shape.cy < d.layout.nodes["iip_post"].shape.cy


def test_exogenous_covariances_hidden_by_default(serial_res):
    d = diagram(serial_res)
    assert not [a for *_, a in d.graph.edges(data=True) if a["kind"] == "covariance"]
    assert 'dir="both"' not in d.dot
    assert "Covariances among the exogenous covariates are not shown." in d.note
    shown = diagram(serial_res, show=["exo"])
    covs = [(u, v) for u, v, a in shown.graph.edges(data=True) if a["kind"] == "covariance"]
    assert len(covs) == 3 and all(set(c) <= {"ecr_anx", "ecr_avoid", "iip_pre"} for c in covs)
    assert shown.dot.count('dir="both"') == 3
    assert "not shown" not in shown.note


def test_covariances_are_curved_double_headed(parallel_res):
    d = diagram(parallel_res)
    [cov] = [e for e in d.layout.edges if e.kind == "covariance"]
    assert len(cov.heads) == 2 and cov.tips[0] is not None
    (p0, c1, c2, p1) = cov.path[0]
    assert c1 != p0 and c2 != p1                        # a curve, not a line
    assert cov.style.width < d.theme.edge_width          # lighter than paths
    assert 'class="edge covariance"' in d.svg()


def test_nonsignificant_paths_dashed_when_asked(serial_res):
    est = serial_res.estimates
    ns = {(r.rhs, r.lhs) for r in est.itertuples() if r.op == "~" and r.pvalue >= 0.05}
    assert ns                                   # the example has some
    plain = diagram(serial_res)
    assert "dashed" not in plain.dot and "stroke-dasharray" not in plain.svg()
    d = diagram(serial_res, nonsig="dashed")
    for u, v, attrs in dot_edges(d.dot):
        assert ('style="dashed"' in attrs) == ((u, v) in ns), (u, v)
    svg = d.svg()
    found = 0
    for m in re.finditer(r'<g class="edge regression" data-from="([^"]+)" data-to="([^"]+)"'
                         r'[^>]*>\s*(<path [^>]*/>)', svg):
        found += 1
        assert ("stroke-dasharray" in m.group(3)) == ((m.group(1), m.group(2)) in ns)
    assert found == 7
    assert "Dashed paths: p ≥ .05." in d.note
    grey = diagram(serial_res, nonsig="grey")
    for u, v, attrs in dot_edges(grey.dot):
        assert (f'color="{grey.theme.dim}"' in attrs) == ((u, v) in ns)


def test_standardized_labels_drop_the_leading_zero(serial_res):
    d = diagram(serial_res, standardized=True)
    texts = svg_texts(d.svg())
    std = serial_res.estimates.set_index(["lhs", "op", "rhs"])["std.all"]
    assert fmt.num(std[("tds_ge", "~", "cats_secure")], 2, bounded=True) + "***" in texts
    assert not any(re.fullmatch(r"\u2212?0\.\d\d\**", t) for t in texts)
    assert "Standardized estimates (std.all)" in d.note


def test_se_and_ci_on_labels(serial_res):
    d = diagram(serial_res, show=["se", "ci"], decimals=3)
    r = serial_res.estimates.query("lhs == 'tds_ge' and rhs == 'cats_secure'").iloc[0]
    [edge] = [a for u, v, a in d.graph.edges(data=True) if (u, v) == ("cats_secure", "tds_ge")]
    assert edge["label"] == [f"{fmt.num(r.est, 3)}{fmt.stars(r.pvalue)} ({fmt.num(r.se, 3)})",
                             fmt.interval(r["ci.lower"], r["ci.upper"], 3)]
    assert "standard errors in parentheses, 95% confidence intervals in brackets" in d.note
    with pytest.warns(ap.errors.AttachpathWarning, match="only with unstandardized"):
        diagram(serial_res, show=["ci"], standardized=True)


def test_the_figure_note(serial_res):
    d = diagram(serial_res)
    note = d.note
    f = serial_res.fit
    assert note.startswith("Note. Unstandardized estimates.")
    assert "N = 330; cluster-robust standard errors, 44 therapists." in note
    assert (f"Yuan–Bentler scaled χ²(5) = {fmt.num(f['chisq.scaled'], 2)}, "
            f"{fmt.plain(fmt.p_text(f['pvalue.scaled']))}") in note
    assert f"robust CFI = {fmt.num(f['cfi.robust'], 3, bounded=True)}" in note
    assert f"robust RMSEA = {fmt.num(f['rmsea.robust'], 3, bounded=True)}" in note
    assert f"SRMR = {fmt.num(f['srmr'], 3, bounded=True)}" in note
    abc = serial_res.defined().iloc[0]
    assert (f"abc = a × b × c = {fmt.num(abc.est, 3)}, 95% CI "
            f"[{fmt.num(abc['ci.lower'], 3)}, {fmt.num(abc['ci.upper'], 3)}]") in note
    assert "* p < .05. ** p < .01. *** p < .001." in note
    assert "\x01" not in note and "\u00a0" not in note
    # the note travels with the files too
    assert fmt.plain(d.content.note).replace("\u00a0", " ") == note
    assert note in unescape(d.svg())                    # as <desc>
    assert d.dot.splitlines()[0].endswith(note)          # as a comment


def test_note_without_clusters_and_unscaled_fit(pd_res):
    note = diagram(pd_res).note
    assert "N = 75; ML standard errors." in note
    f = pd_res.fit
    assert f"χ²(35) = {fmt.num(f['chisq'], 2)}, p = " in note
    assert f"CFI = {fmt.num(f['cfi'], 3, bounded=True)}" in note
    assert "robust" not in note and "Defined effects" not in note


def test_fit_sentence_saturated():
    assert "saturated" in fit_sentence({"chisq": 0.0, "df": 0, "pvalue": float("nan")})


def test_note_drawn_in_the_figure_when_asked(serial_res):
    d = diagram(serial_res, show=["note"])
    texts = " ".join(svg_texts(d.svg()))
    assert "cluster-robust standard errors, 44" in texts.replace("\u00a0", " ")
    assert d.layout.note_lines
    assert 'labelloc=b' in d.dot


def test_highlight_an_indirect_effect(serial_res):
    d = diagram(serial_res, highlight="abc")
    states = {(u, v): a["state"] for u, v, a in d.graph.edges(data=True)}
    on = {k for k, s in states.items() if s == "on"}
    assert on == {("ecr_anx", "cats_secure"), ("cats_secure", "tds_ge"), ("tds_ge", "iip_post")}
    assert all(s == "off" for k, s in states.items() if k not in on)
    for e in d.layout.edges:
        if (e.u, e.v) in on:
            assert e.style.width == d.theme.accent_width and e.style.color == d.theme.accent
        else:
            assert e.style.color == d.theme.dim and e.style.width < d.theme.accent_width
    assert "Bold paths: abc = a × b × c." in d.note
    assert d.graph.nodes["cats_secure"]["emph"] and not d.graph.nodes["iip_pre"]["emph"]


def test_highlight_follows_nested_definitions(parallel_res):
    d = diagram(parallel_res, highlight="total")
    on = {(u, v) for u, v, a in d.graph.edges(data=True) if a["state"] == "on"}
    assert on == {("ecr_anx", "cats_secure"), ("cats_secure", "iip_post"),
                  ("ecr_anx", "tds_ge"), ("tds_ge", "iip_post"), ("ecr_anx", "iip_post")}


def test_hide_variables_and_paths(serial_res):
    d = diagram(serial_res, hide=["iip_pre", "iip_post ~ ecr_anx"])
    assert "iip_pre" not in d.graph and '"iip_pre"' not in d.dot
    assert not d.graph.has_edge("ecr_anx", "iip_post")
    assert "Not shown: iip_pre; the path from ecr_anx to iip_post." in d.note
    assert "iip_pre" not in svg_texts(d.svg())


def test_display_labels(serial_res, clients):
    d = diagram(serial_res, labels={"cats_secure": "Therapeutic attachment to the therapist"})
    lab = d.graph.nodes["cats_secure"]["label"]
    assert lab == "Therapeutic\nattachment to the\ntherapist"          # wrapped
    texts = svg_texts(d.svg())
    assert "Therapeutic" in texts and "therapist" in texts
    data = clients.copy()
    data.attrs["labels"] = {"ecr_anx": "ECR anxiety", "tds_ge": "Growing engagement"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ap.fit("tds_ge ~ ecr_anx", data)
    # the data's labels are used when present (issue 18), unless asked for names
    assert diagram(res).graph.nodes["ecr_anx"]["label"] == "ECR anxiety"
    assert diagram(res, labels="names").graph.nodes["ecr_anx"]["label"] == "ecr_anx"
    assert diagram(res, directives="labels names").graph.nodes["ecr_anx"]["label"] == "ecr_anx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_name = ap.fit("tds_ge ~ ecr_anx", data, labels="names")
    assert diagram(by_name).graph.nodes["ecr_anx"]["label"] == "ecr_anx"
    d = diagram(res, labels="data")
    assert d.graph.nodes["ecr_anx"]["label"] == "ECR anxiety"
    d = diagram(res, directives="labels data\nlabel tds_ge = \"TDS-GE\"")
    assert d.graph.nodes["tds_ge"]["label"] == "TDS-GE"
    assert d.graph.nodes["ecr_anx"]["label"] == "ECR anxiety"


def test_residuals_and_intercepts(serial_res):
    d = diagram(serial_res, show=["residuals", "intercepts"])
    svg = d.svg()
    assert svg.count('class="residual"') == 3          # the three endogenous
    est = serial_res.estimates.set_index(["lhs", "op", "rhs"])
    var = est.loc[("tds_ge", "~~", "tds_ge"), "est"]
    assert fmt.num(var, 2) in svg_texts(svg)             # no stars on variances
    assert '"tds_ge":n -> "tds_ge":n [dir=both' in d.dot
    icpt = est.loc[("tds_ge", "~1", ""), "est"]
    assert f"Intercept = {fmt.num(icpt, 2)}" in d.graph.nodes["tds_ge"]["sub"]


def test_latent_model(pd_res):
    d = diagram(pd_res)
    g = d.graph
    assert {v for v in g if g.nodes[v]["kind"] == "latent"} == {"ind60", "dem60", "dem65"}
    assert g.nodes["x1"]["factor"] == "ind60" and g.nodes["x1"]["rank"] is None
    assert [g.nodes[v]["rank"] for v in ("ind60", "dem60", "dem65")] == [0, 1, 2]
    svg = d.svg()
    assert svg.count("<ellipse") == 3 and svg.count("<rect") >= 11
    assert d.dot.count("shape=ellipse") == 3
    # the fixed first loadings show their value without stars
    assert g.edges["ind60", "x1", next(iter(g["ind60"]["x1"]))]["label"] == ["1.00"]
    # residual covariances of indicators are drawn
    covs = {frozenset((u, v)) for u, v, a in g.edges(data=True) if a["kind"] == "covariance"}
    assert frozenset(("y1", "y5")) in covs and len(covs) == 6
    # indicators beside their factor: left of the exogenous one, above the others
    n = d.layout.nodes
    assert all(n[x].shape.cx < n["ind60"].shape.cx for x in ("x1", "x2", "x3"))
    assert all(n[y].shape.cy < n["dem60"].shape.cy for y in ("y1", "y2", "y3", "y4"))


def test_indicator_side_override(pd_res):
    d = diagram(pd_res, indicators={"dem65": "below", "ind60": "above"})
    n = d.layout.nodes
    assert all(n[y].shape.cy > n["dem65"].shape.cy for y in ("y5", "y6", "y7", "y8"))
    assert all(n[x].shape.cy < n["ind60"].shape.cy for x in ("x1", "x2", "x3"))


# -- spec only --------------------------------------------------------------------------

def test_spec_only_shows_labels_and_fixed_values():
    d = diagram(SERIAL)
    assert isinstance(d, Diagram) and not d.content.fitted
    labels = {(u, v): a["label"] for u, v, a in d.graph.edges(data=True)}
    assert [fmt.plain(x) for x in labels[("ecr_anx", "cats_secure")]] == ["a"]
    assert labels[("ecr_avoid", "cats_secure")] == []
    assert "label=<<I>a</I>>" in d.dot
    assert "a" in svg_texts(d.svg())
    assert "Model specification, not estimated" in d.note
    assert not any(d.graph.nodes[v]["sub"] for v in d.graph)      # no R² without data
    pdd = diagram(pd_model())
    assert ["1"] == pdd.graph.edges["dem60", "y1", next(iter(pdd.graph["dem60"]["y1"]))]["label"]


def test_spec_only_accepts_unidentified_models():
    # more parameters than moments: fitting refuses it, drawing it still helps
    spec = "y1 ~ x\ny2 ~ x\ny1 ~~ y2\ny1 ~ y2"
    d = diagram(spec)
    assert set(d.graph) == {"y1", "y2", "x"}
    with pytest.raises(ap.errors.ModelError):
        ap.check(spec)


def test_spec_file_path(tmp_path):
    spec = tmp_path / "m.lav"
    spec.write_text(PARALLEL)
    d = diagram(spec)
    assert "cats_secure" in d.graph and d.graph.number_of_edges() == 9


def test_repr_and_jupyter(serial_res):
    d = diagram(serial_res)
    assert "6 variables" in repr(d) and "fitted" in repr(d)
    assert d._repr_svg_().startswith("<svg")


def test_paths_fixed_to_zero_are_not_drawn_and_the_note_says_so(clients):
    spec = REF.parents[1] / "specs" / "engagement_only_esat_anx.lav"
    for source in (spec, ap.fit(spec, clients, cluster="therapist", se="robust")):
        d = diagram(source)
        edges = {(u, v) for u, v, a in d.graph.edges(data=True) if a["kind"] == "regression"}
        assert ("esat_anx", "tds_ga") not in edges and ("tds_ga", "iip_post") not in edges
        assert ("esat_anx", "tds_ge") in edges and ("tds_ge", "iip_post") in edges
        assert "tds_ga" in d.graph                      # the variable stays, unconnected
        assert ("Paths fixed to 0 in the model: esat_anx → tds_ga, "
                "tds_ga → iip_post.") in d.note
        assert '"esat_anx" -> "tds_ga"' not in d.dot


def test_inadmissible_solution_is_marked_in_figure_and_note():
    """Issue 17.7: an R² outside [0, 1] (from a negative residual variance)
    was drawn unflagged.  x1 regressed on a factor whose two indicators'
    covariances imply more variance than x1 has (a Heywood case)."""
    import numpy as np
    import pandas as pd
    cov = np.array([[1, .6, .6], [.6, 1, .3], [.6, .3, 1]])
    X = np.random.default_rng(0).multivariate_normal(np.zeros(3), cov, size=400)
    res = ap.fit("f =~ x2 + x3\nx1 ~ f", pd.DataFrame(X, columns=["x1", "x2", "x3"]))
    assert res.r2["x1"] > 1
    d = diagram(res)
    texts = " ".join(svg_texts(d.svg()))
    assert re.search(r"R\s*² = 1\.\d+ \(inadmissible\)", texts), texts
    assert "Inadmissible solution: the (residual) variance of 'x1' is negative" in d.note
    ok = diagram(ap.fit(SERIAL, pd.read_csv(REF / "data" / "clients_a.csv")))
    assert "inadmissible" not in ok.svg().lower() and "Inadmissible" not in ok.note
