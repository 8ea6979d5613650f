"""compare_diagrams: alternative models on one shared layout, differences marked."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import attachpath as ap
from attachpath.diagram import DiagramWarning, compare_diagrams, diagram
from attachpath.diagram import compare as cmpmod
from attachpath.diagram import geometry as geo
from attachpath.errors import OptionError, SpecError

SPECS = Path(ap.__file__).parent / "specs"
STUDY = ["serial_esat_anx", "serial_esat_anx_partial", "parallel_esat_anx",
         "reversed_esat_anx", "engagement_only_esat_anx", "autonomy_only_esat_anx"]


@pytest.fixture(scope="module")
def study(clients):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = ap.compare([str(SPECS / f"{n}.lav") for n in STUDY], clients,
                         cluster="therapist")
    return cmp.results


@pytest.fixture(scope="module")
def figs(study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare_diagrams(study)


def real_nodes(d):
    return {k: n for k, n in d.layout.nodes.items() if n.kind != "residual"}


def edge_groups(svg: str) -> list[tuple[str, str]]:
    """(opening tag, body) of every edge group of an SVG."""
    return re.findall(r'(<g class="edge [^"]*"[^>]*>)(.*?)</g>', svg, flags=re.S)


def by_path(d):
    return {e.data["path"]: e for e in d.layout.edges if getattr(e, "data", None)
            and "path" in e.data}


# -- one layout -------------------------------------------------------------------------

def test_every_figure_has_the_same_positions_and_canvas(figs):
    assert list(figs) == STUDY
    ref = figs[STUDY[0]]
    for name, d in figs.items():
        assert (d.layout.width, d.layout.height) == (ref.layout.width, ref.layout.height)
        head = d.svg().split("\n", 1)[0]
        assert head == ref.svg().split("\n", 1)[0]          # width, height, viewBox
        nodes = real_nodes(d)
        assert set(nodes) == set(real_nodes(ref))           # the same seven variables
        for v, n in nodes.items():
            r = ref.layout.nodes[v].shape
            assert (n.shape.cx, n.shape.cy, n.shape.w, n.shape.h) == (r.cx, r.cy, r.w, r.h), \
                (name, v)


def test_svg_node_coordinates_agree(figs):
    def rects(svg):
        return dict(re.findall(r'<g class="node observed" data-name="([^"]+)">\n<rect ([^/]*)/>',
                               svg))
    ref = rects(figs[STUDY[0]].svg())
    assert len(ref) == 7
    for d in figs.values():
        got = rects(d.svg())
        # position and size of each box are the same text in every figure
        assert {k: re.sub(r' (fill|stroke)[^ ]*', "", v) for k, v in got.items()} == \
            {k: re.sub(r' (fill|stroke)[^ ]*', "", v) for k, v in ref.items()}


def test_columns_compromise_for_the_reversed_model(figs):
    """The serial order (ECR, ESAT, TDS, IIP) wins: the reversed model's
    TDS -> ESAT paths run right to left, and its note says so."""
    lay = figs["reversed_esat_anx"].layout
    x = {v: n.shape.cx for v, n in real_nodes(figs["reversed_esat_anx"]).items()}
    assert x["ecr_anx"] < x["esat_anx"] < x["tds_ge"] == x["tds_ga"] < x["iip_post"]
    e = by_path(figs["reversed_esat_anx"])["esat_anx ~ tds_ge"]
    assert e.tips[1][0] < e.path[0][0][0]                    # drawn leftwards
    assert "right to left" in figs["reversed_esat_anx"].note
    assert "right to left" not in figs["serial_esat_anx"].note
    assert lay.messages == []


# -- the marking ------------------------------------------------------------------------

def test_paths_are_classified_against_the_other_models(figs):
    serial = figs["serial_esat_anx"].compare
    assert serial["iip_post ~ iip_pre"] == "all"             # in all six
    assert serial["tds_ge ~ esat_anx"] == "some"             # not in parallel, reversed
    assert serial["esat_anx ~ tds_ge"] == "absent"           # the reversed model's
    assert serial["iip_post ~ ecr_anx"] == "absent"          # the partial model's
    eng = figs["engagement_only_esat_anx"].compare
    # fixed to 0 in this model: absent here, a ghost
    assert eng["tds_ga ~ esat_anx"] == "absent" and eng["iip_post ~ tds_ga"] == "absent"
    # ... and "not in every model" in the models that estimate them
    assert serial["tds_ga ~ esat_anx"] == "some"
    assert figs["parallel_esat_anx"].compare["esat_anx ~ ecr_anx"] == "some"


def test_marks_in_svg_and_dot(figs):
    d = figs["serial_esat_anx"]
    groups = edge_groups(d.svg())
    marks = {re.search(r'data-path="([^"]+)"', tag).group(1): tag for tag, _ in groups
             if "data-path" in tag}
    assert 'class="edge regression some"' in marks["tds_ge ~ esat_anx"]
    assert 'data-compare="all"' in marks["iip_post ~ iip_pre"]
    assert 'data-compare="absent"' in marks["esat_anx ~ tds_ge"]
    t = ap.diagram.themes.THEMES["apa"]
    for tag, body in groups:
        if "data-legend" in tag:
            continue
        width = float(re.search(r'stroke-width="([\d.]+)"', body).group(1))
        if 'data-compare="some"' in tag:
            assert width == t.accent_width                   # bold
        elif 'data-compare="all"' in tag:
            assert width == t.edge_width
        else:
            assert f'stroke-dasharray="{cmpmod.GHOST_DASH}"' in body   # dotted grey
            assert f'stroke="{t.dim}"' in body
    # the DOT is the pinned shared layout: ghosts dotted, marks as classes
    dot = d.dot
    assert "-Kneato -n2" in dot and 'class="absent"' in dot and "style=dotted" in dot
    assert dot.count('class="some"') == sum(1 for v in d.compare.values() if v == "some") + 1


def test_colour_theme_marks_in_the_accent_colour(study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = compare_diagrams(study, theme="colour")
    accent = ap.diagram.themes.THEMES["colour"].accent
    some = [body for tag, body in edge_groups(ds["parallel_esat_anx"].svg())
            if 'data-compare="some"' in tag]
    assert some and all(f'stroke="{accent}"' in body for body in some)
    assert "Bold red paths: not in every model." in ds["parallel_esat_anx"].note


def test_ghost_paths_are_unlabeled(figs):
    for name, d in figs.items():
        lay = d.layout
        owners = {lab.owner for lab in lay.labels}
        ghosts = [e for e in lay.edges if getattr(e, "mark", None) == "absent"
                  and e.kind != "legend"]
        assert ghosts, name
        for e in ghosts:
            assert e.label is None and e.key not in owners
        # every estimated path keeps its label, with this model's estimate
        shown = [e for e in lay.edges if getattr(e, "mark", None) in ("all", "some")
                 and e.kind != "legend"]
        assert all(e.label is not None for e in shown)
        assert len(lay.labels) == len(shown) + 3                # + the legend's three
    # different estimates of the same path in different figures
    a = by_path(figs["serial_esat_anx"])["iip_post ~ iip_pre"].label.lines
    b = by_path(figs["reversed_esat_anx"])["iip_post ~ iip_pre"].label.lines
    assert a != b


def test_note_explains_the_marking(figs):
    for name, d in figs.items():
        note = d.note
        assert "Bold paths: not in every model." in note
        assert "Dotted grey paths: in other models, absent here (or fixed to 0)." in note
        others = [n for n in STUDY if n != name]
        assert "placed as in the diagrams of " + ", ".join(others[:-1]) in note
    svg = figs["serial_esat_anx"].svg()
    for text in cmpmod.LEGEND:                                 # the key under the figure
        assert f">{text}</text>" in svg


def test_geometry_of_all_six_figures(figs):
    for name, d in figs.items():
        lay = d.layout
        assert lay.problems() == [], name                        # no overlaps, no path
        assert lay.messages == [], name                          # through a node
        assert cmpmod._faults(lay) == (0, 0), name               # no label on own paths
        for i, a in enumerate(lay.labels):
            for b in lay.labels[i + 1:]:
                assert not a.box.overlaps(b.box), (name, a.lines, b.lines)
        for e in lay.edges:
            pts = geo.sample(e.path, 1.5)
            for n in lay.nodes.values():
                if n.name in (e.u, e.v):
                    continue
                assert not any(n.shape.inside(p, -0.5) for p in pts), (name, e.key, n.name)


def test_deterministic(study, figs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = compare_diagrams(study)
    for n in STUDY:
        assert again[n].svg() == figs[n].svg()
        assert again[n].dot == figs[n].dot


def test_a_sequence_is_named_by_spec_file(study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = compare_diagrams(list(study.values())[:2], ghosts=False, legend=False)
    assert list(ds) == STUDY[:2]
    d = ds["serial_esat_anx"]
    assert not any(getattr(e, "mark", None) == "absent" for e in d.layout.edges)
    assert "Dotted grey" not in d.note and "data-legend" not in d.svg()


# -- directives and keywords -----------------------------------------------------------------

def test_directives_label_is_shared_and_highlight_is_dropped(figs, study):
    for d in figs.values():
        assert d.layout.nodes["esat_anx"].lines == ["ESAT (anx)"]  # serial's label line
    serial = figs["serial_esat_anx"]
    assert any("highlight anx_ge" in m for m in serial.messages)
    assert "Bold paths: anx_ge" not in serial.note
    with pytest.raises(OptionError, match="highlight"):
        compare_diagrams(study, highlight="anx_ge")
    with pytest.raises(OptionError, match="built-in layout"):
        compare_diagrams(study, layout="dot")


A = "m1 ~ a*x\ny ~ b*m1 + c*x\n"
B = ('m1 ~ a*x\nm2 ~ d*m1\ny ~ e*m2 + z\n# diagram: label m2 = "Second mediator"\n'
     "# diagram: hide z\n")
C = "y ~ x + w\nm1 ~ y\n"


def test_specs_with_different_variables():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = compare_diagrams({"A": A, "B": B, "C": C})
    lays = {n: d.layout for n, d in ds.items()}
    assert len({(lay.width, lay.height) for lay in lays.values()}) == 1
    # a variable a model lacks is drawn faint in its slot, at the same place
    a = lays["A"].nodes
    assert getattr(a["m2"], "faint", False) and getattr(a["w"], "faint", False)
    assert a["m2"].lines == ["Second mediator"]              # B's label everywhere
    for v in ("x", "m1", "m2", "y", "w"):
        assert {(lay.nodes[v].shape.cx, lay.nodes[v].shape.cy) for lay in lays.values()} \
            and len({(lay.nodes[v].shape.cx, lay.nodes[v].shape.cy)
                     for lay in lays.values()}) == 1
    assert 'class="node observed faint"' in ds["A"].svg()
    assert "faint dashed boxes" in ds["A"].note
    # hidden in the only model that has it: no slot at all
    assert all("z" not in lay.nodes for lay in lays.values())
    assert "Not shown: z." in ds["B"].note
    # a new mediator gets its own column between its cause and its effect
    x = {v: lays["B"].nodes[v].shape.cx for v in ("x", "m1", "m2", "y")}
    assert x["x"] < x["m1"] < x["m2"] < x["y"]
    for d in ds.values():
        assert d.layout.problems() == []


def test_keyword_names_of_one_model_only():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = compare_diagrams({"A": A, "C": C}, labels={"w": "Covariate W"},
                              hide=["y ~ x"])
    assert ds["A"].layout.nodes["w"].lines == ["Covariate W"]
    assert "y ~ x" not in ds["A"].compare                    # hidden: neither drawn nor ghost
    with pytest.raises(OptionError, match="not a variable of any"):
        compare_diagrams({"A": A, "C": C}, labels={"nope": "x"})
    with pytest.raises(OptionError, match="at least two"):
        compare_diagrams({"A": A})


def test_with_residuals_and_note_the_canvases_still_match(study):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = compare_diagrams(study, show=["residuals", "note"], theme="colour")
    heads = {d.svg().split("\n", 1)[0] for d in ds.values()}
    assert len(heads) == 1
    for d in ds.values():
        assert d.layout.problems() == []
        assert d.layout.note_lines and "Bold red paths" in " ".join(d.layout.note_lines)


# -- Graphviz or not --------------------------------------------------------------------------

def test_without_graphviz_svg_and_dot_are_written(study, no_dot, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = compare_diagrams(study)
    d = ds["parallel_esat_anx"]
    with pytest.warns(DiagramWarning, match="Graphviz"):
        d.render(tmp_path / "p.svg")
    assert (tmp_path / "p.svg").read_text().startswith("<svg")
    d.render(tmp_path / "p.dot")
    with pytest.raises(ap.diagram.GraphvizMissingError):
        d.render(tmp_path / "p.png")


def test_with_graphviz_the_png_files_have_one_size(figs, has_dot, tmp_path):
    from test_render import png_size
    sizes = set()
    for n in ("serial_esat_anx", "reversed_esat_anx", "serial_esat_anx_partial"):
        figs[n].render(tmp_path / f"{n}.png")
        sizes.add(png_size((tmp_path / f"{n}.png").read_bytes()))
    assert len(sizes) == 1


def test_report_draws_the_shared_layout(study):
    from attachpath.report.figures import comparison_figures
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = comparison_figures(study)
    assert all(d is not None and d.shared_layout for d in out.values())
    assert 'data-compare="some"' in out["serial_esat_anx"].svg


# -- the layout change: reciprocal paths --------------------------------------------------------

def test_reciprocal_paths_bow_apart():
    """y ~ x and x ~ y between two columns: two separate curves (a bow is
    signed along u -> v, so the reverse sibling flips it)."""
    d = diagram("y ~ x + z\nx ~ y + w\n")
    lay = d.layout
    xy = [e for e in lay.edges if {e.u, e.v} == {"x", "y"}]
    assert len(xy) == 2
    mids = [geo.sample(e.path, 2.0) for e in xy]
    mids = [pts[len(pts) // 2] for pts in mids]
    assert geo.dist(*mids) > 18                      # (about 10 when both bowed one way)
    assert geo.polylines_cross(geo.sample(xy[0].path, 2.0), geo.sample(xy[1].path, 2.0)) == 0
    assert lay.problems() == []


def test_a_variance_in_one_model_and_a_residual_in_another():
    """f is exogenous in A (a variance loop) and regressed on x in B (a
    residual circle): A draws its loop where B has the circle."""
    ds = compare_diagrams({"A": "f =~ a + b + c\ny ~ f",
                           "B": "f =~ a + b + c\nf ~ x\ny ~ f"}, show=["residuals"])
    a, b = ds["A"].layout, ds["B"].layout
    assert [e.kind for e in a.edges if e.u == e.v == "f"] == ["variance"]
    assert "~res:f" in b.nodes and "~res:f" not in a.nodes
    loop = geo.bbox(geo.sample(next(e for e in a.edges if e.kind == "variance").path, 2.0))
    assert loop.overlaps(b.nodes["~res:f"].shape.box.grow(8))
    assert a.problems() == [] and b.problems() == []
