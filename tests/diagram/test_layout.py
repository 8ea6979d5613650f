"""Geometry of the built-in layout: no two labels overlap, no label sits on a
node, no path passes through a node, for a range of models.

The checks here are written independently of Layout.problems() (sampling
every path at 0.75 pt and testing node outlines directly)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest

import attachpath as ap
from attachpath.diagram import diagram, geometry as geo
from attachpath.diagram.layout import _pav, order_columns

from diagram_models import hs_model, pd_model

SPECS = Path(ap.__file__).parent / "specs"


def inside(shape, p, tol=0.5) -> bool:
    dx, dy = p[0] - shape.cx, p[1] - shape.cy
    if shape.shape == "rect":
        return abs(dx) < shape.w / 2 - tol and abs(dy) < shape.h / 2 - tol
    rx, ry = shape.w / 2 - tol, shape.h / 2 - tol
    return (dx / rx) ** 2 + (dy / ry) ** 2 < 1


def box_points(b, step=1.5):
    nx = max(2, int((b.x1 - b.x0) / step) + 1)
    ny = max(2, int((b.y1 - b.y0) / step) + 1)
    return [(b.x0 + (b.x1 - b.x0) * i / (nx - 1), b.y0 + (b.y1 - b.y0) * j / (ny - 1))
            for i in range(nx) for j in range(ny)]


def faults(d) -> list[str]:
    lay = d.layout
    out = []
    labels = lay.labels
    nodes = list(lay.nodes.values())
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if (a.box.x0 < b.box.x1 - 0.01 and b.box.x0 < a.box.x1 - 0.01
                    and a.box.y0 < b.box.y1 - 0.01 and b.box.y0 < a.box.y1 - 0.01):
                out.append(f"labels {a.owner} / {b.owner} overlap")
        pts = box_points(a.box)
        for n in nodes:
            if any(inside(n.shape, p, tol=0.0) for p in pts):
                out.append(f"label {a.owner} on node {n.name}")
    for i, n in enumerate(nodes):
        for m in nodes[i + 1:]:
            if n.shape.box.overlaps(m.shape.box, -0.5):
                out.append(f"nodes {n.name} / {m.name} overlap")
        b = n.shape.box
        if b.x0 < 0 or b.y0 < 0 or b.x1 > lay.width or b.y1 > lay.height:
            out.append(f"node {n.name} outside the canvas")
    for e in lay.edges:
        pts = geo.sample(e.path, 0.75)
        for n in nodes:
            own = n.name in (e.u, e.v)
            check = pts[3:-3] if own else pts
            if any(inside(n.shape, p) for p in check):
                out.append(f"path {e.key} {e.u}->{e.v} crosses node {n.name}")
    return out


def fitted(spec, data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.fit(spec, data, **kw)


CFA_CORR = hs_model() + "\nx1 ~~ x4\nx2 ~~ x3\nx7 ~~ x9\n"
NONREC = "y1 ~ y2 + x1\ny2 ~ y1 + x2\ny1 ~~ y2\n"
WIDE = "y ~ " + " + ".join(f"x{i}" for i in range(1, 9)) + "\n"
SECOND = ("g =~ f1 + f2 + f3\nf1 =~ a1 + a2 + a3\nf2 =~ b1 + b2 + b3\n"
          "f3 =~ c1 + c2 + c3\nout ~ g\n")
MIMIC = "f =~ y1 + y2 + y3 + y4\nf ~ x1 + x2\nz ~ f + x1\n"


@pytest.fixture(scope="module")
def pd_data():
    import pandas as pd
    from diagram_models import REF
    return pd.read_csv(REF / "data" / "political_democracy.csv")


@pytest.fixture(scope="module")
def hs_data():
    import pandas as pd
    from diagram_models import REF
    return pd.read_csv(REF / "data" / "holzinger.csv")


CASES = {
    "serial": lambda r: diagram(r["serial"]),
    "serial_all": lambda r: diagram(r["serial"], show=["residuals", "intercepts", "exo", "se", "ci"],
                                    highlight="abc"),
    "serial_std_note": lambda r: diagram(r["serial"], standardized=True, show=["note", "residuals"]),
    "serial_flat": lambda r: diagram(r["serial"], ranks={"cats_secure": 0, "tds_ge": 1}),
    "parallel_ci": lambda r: diagram(r["parallel"], show=["ci", "exo"], nonsig="dashed"),
    "pd": lambda r: diagram(r["pd"]),
    "pd_res_std": lambda r: diagram(r["pd"], standardized=True, show=["residuals"]),
    "pd_below": lambda r: diagram(r["pd"], indicators={"dem60": "below", "dem65": "right"}),
    "hs_res": lambda r: diagram(r["hs"], show=["residuals"]),
    "cfa_corr": lambda r: diagram(r["cfa_corr"], show=["residuals"]),
    "spec_pd": lambda r: diagram(pd_model(), show=["residuals"]),
    "spec_nonrecursive": lambda r: diagram(NONREC, show=["residuals", "exo"]),
    "spec_wide": lambda r: diagram(WIDE, show=["exo"]),
    "spec_second_order": lambda r: diagram(SECOND, show=["residuals"]),
    "spec_mimic": lambda r: diagram(MIMIC, show=["exo", "residuals"]),
}


@pytest.fixture(scope="module")
def results(serial_res, parallel_res, pd_res, hs_res, hs_data):
    return {"serial": serial_res, "parallel": parallel_res, "pd": pd_res, "hs": hs_res,
            "cfa_corr": fitted(CFA_CORR, hs_data)}


@pytest.mark.parametrize("name", list(CASES))
def test_no_overlaps_and_no_path_through_a_node(name, results):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = CASES[name](results)
    assert faults(d) == []
    assert d.layout.problems() == []
    assert d.layout.messages == []
    # every labelled path got its label
    labelled = sum(1 for *_, a in d.graph.edges(data=True) if a["label"])
    owners = {lab.owner for lab in d.layout.labels}
    assert labelled == len([o for o in owners if not isinstance(o, tuple)])


@pytest.mark.parametrize("name", ["serial", "parallel_ci", "pd", "hs_res", "pd_res_std"])
def test_labels_cover_no_other_path_in_the_examples(name, results):
    d = CASES[name](results)
    assert d.layout.covered() == []


@pytest.mark.parametrize("spec", sorted(p.name for p in SPECS.glob("*.lav")))
def test_bundled_specs(spec, clients):
    if spec.startswith("twolevel_"):
        # session rows with session-level ESAT; one panel per level
        from attachpath.data import esat_scores
        sessions = esat_scores(ap.datasets.load_example(), level="session")
        res = fitted(SPECS / spec, sessions, cluster="therapist/client", se="robust")
        d = diagram(res)              # one figure: within panel above between panel
        assert [p.level for p in d.panels] == [1, 2]
        assert d.layout.problems() == [] and d.messages == []
        assert d.layout.covered() == []
        return
    else:
        panels = [diagram(fitted(SPECS / spec, clients, cluster="therapist", se="robust"))]
    for d in panels:
        assert faults(d) == []
        assert d.layout.covered() == []


def test_deterministic(serial_res):
    assert diagram(serial_res).svg() == diagram(serial_res).svg()


def test_straight_chains(serial_res):
    """ecr_anx -> cats_secure -> tds_ge -> iip_post is the spine: the one-column
    paths are straight lines."""
    d = diagram(serial_res)
    for e in d.layout.edges:
        if e.kind == "regression" and abs(d.graph.nodes[e.u]["rank"] - d.graph.nodes[e.v]["rank"]) == 1:
            (p0, c1, c2, p1) = e.full[0]
            # control points on the chord
            for c in (c1, c2):
                cross = (p1[0] - p0[0]) * (c[1] - p0[1]) - (p1[1] - p0[1]) * (c[0] - p0[0])
                assert abs(cross) / max(geo.dist(p0, p1), 1) < 0.5


def test_barycentre_ordering_removes_avoidable_crossings():
    cols = {0: ["a", "b"], 1: ["d", "c"]}
    links = [("a", "c"), ("b", "d")]
    out = order_columns(cols, links, [])
    pos = {x: i for items in out.values() for i, x in enumerate(items)}
    assert (pos["a"] - pos["b"]) * (pos["c"] - pos["d"]) > 0
    # a user order wins
    out = order_columns(cols, links, [("b", "a")])
    assert out[0] == ["b", "a"]


def test_pav_is_isotonic_least_squares():
    assert _pav([3.0, 1.0, 2.0], [1.0, 1.0, 1.0]) == [2.0, 2.0, 2.0]
    assert _pav([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]) == [1.0, 2.0, 3.0]
    z = _pav([0.0, 10.0, 4.0], [1.0, 1.0, 3.0])
    assert z[0] == 0.0 and math.isclose(z[1], 5.5) and math.isclose(z[2], 5.5)


def test_large_model_is_laid_out_quickly():
    import time
    spec = "\n".join(f"m{i} ~ x{i} + x{i + 1}\ny ~ m{i}" for i in range(1, 9))
    t = time.perf_counter()
    d = diagram(spec)
    lay = d.layout
    assert time.perf_counter() - t < 20
    assert faults(d) == [] and not lay.messages


def random_model(rng) -> str:
    """A random recursive path model with a few factors and covariances."""
    n = rng.randint(3, 9)
    vs = [f"v{i}" for i in range(n)]
    lines = []
    for i in range(1, n):
        causes = [v for v in vs[:i] if rng.random() < 0.45]
        if causes:
            lines.append(f"{vs[i]} ~ " + " + ".join(causes))
    if not lines:
        lines.append("v1 ~ v0")
    for j in range(rng.randint(0, 2)):
        inds = [f"f{j}_{m}" for m in range(rng.randint(2, 5))]
        lines.append(f"f{j} =~ " + " + ".join(inds))
        tgt = rng.choice(vs)
        lines.append(f"{tgt} ~ f{j}" if rng.random() < 0.5 else f"f{j} ~ {tgt}")
        if len(inds) > 2 and rng.random() < 0.5:
            lines.append(f"{inds[0]} ~~ {inds[-1]}")
    pairs = {tuple(sorted(rng.sample(vs, 2))) for _ in range(rng.randint(0, 3))}
    lines += [f"{a} ~~ {b}" for a, b in sorted(pairs)]
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(12))
def test_random_models(seed):
    import random
    rng = random.Random(seed)
    spec = random_model(rng)
    show = [[], ["residuals"], ["exo"], ["residuals", "exo"]][seed % 4]
    d = diagram(spec, show=show)
    assert faults(d) == [], spec
    assert not d.layout.messages, spec
