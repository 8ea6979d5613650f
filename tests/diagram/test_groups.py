"""Diagrams of multiple-group fits (diagram/groups.py): one panel per group
on one shared layout, each drawn from its own group's estimates, stacked in
one figure under the groups' titles."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from attachpath.diagram import dot_binary
from attachpath.diagram.groups import group_diagrams, group_figure
from attachpath.estimate import multigroup as mg

REF = Path(__file__).resolve().parents[1] / "reference"


def fitted(case, replace=None):
    c = json.loads((REF / "multigroup" / f"{case}.json").read_text())
    model = c["model"] if replace is None else c["model"].replace(*replace)
    return mg.fit_groups(model, pd.read_csv(REF / c["data"]), c["group"])


@pytest.fixture(scope="module")
def hs():
    return fitted("hs_school_c")


def _label(d, lhs, op, rhs):
    return next(a["label"][0] for *_, a in d.graph.edges(data=True)
                if (a["lhs"], a["op"], a["rhs"]) == (lhs, op, rhs))


def test_panels_share_one_layout_and_show_their_groups_estimates(hs):
    panels = group_diagrams(hs)
    assert list(panels) == ["Pasteur", "Grant-White"]
    a, b = (p.layout for p in panels.values())
    assert (a.width, a.height) == (b.width, b.height)
    for v in hs.likelihood.tables[0].variables:
        assert (a.nodes[v].shape.cx, a.nodes[v].shape.cy) == (b.nodes[v].shape.cx,
                                                              b.nodes[v].shape.cy)
    est = hs.estimates.set_index(["lhs", "op", "rhs", "group"])["est"]
    for gi, d in enumerate(panels.values(), start=1):
        assert d.title == f"school = {hs.groups[gi - 1]} (n = {hs.nobs[gi - 1]})"
        shown = _label(d, "visual", "=~", "x2").replace("−", "-").rstrip("*")
        assert shown == f"{est[('visual', '=~', 'x2', gi)]:.2f}"
    # c(1, NA)*x5: fixed (no stars) in Pasteur, estimated in Grant-White
    assert _label(panels["Pasteur"], "textual", "=~", "x5") == "1.00"
    assert _label(panels["Grant-White"], "textual", "=~", "x5").endswith("***")


def test_the_figure_stacks_the_panels_under_their_titles(hs):
    fig = group_figure(hs)
    lay = fig.layout
    dy = lay.nodes["x1@2"].shape.cy - lay.nodes["x1@1"].shape.cy
    assert dy > 0
    for v in hs.likelihood.tables[0].variables:
        one, two = lay.nodes[f"{v}@1"].shape, lay.nodes[f"{v}@2"].shape
        assert one.cx == two.cx and two.cy - one.cy == pytest.approx(dy)
    titles = [t.lines[0] for t in lay.texts if t.cls == "panel-title"]
    assert titles == ["school = Pasteur (n = 156)", "school = Grant-White (n = 145)"]
    assert not lay.problems()
    svg = fig.svg()
    assert "school = Grant-White (n = 145)" in svg and "d2 = v2a" in svg
    assert f"{hs.fit['chisq']:.2f}" in fig.note             # the whole model's fit
    if dot_binary():
        assert fig.to_bytes("png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_path_fixed_to_zero_in_one_group_is_a_ghost_there():
    gf = fitted("med_female_labels", ("iip_post ~ tds_ge + iip_pre",
                                      "iip_post ~ tds_ge + c(0, NA)*iip_pre"))
    panels = group_diagrams(gf)
    first, second = panels.values()
    assert first.compare["iip_post ~ iip_pre"] == "absent"
    assert second.compare["iip_post ~ iip_pre"] == "some"      # bold there
    assert second.compare["iip_post ~ tds_ge"] == "all"
    assert ("Bold paths: fixed to 0 in another group; dotted grey paths: free in another "
            "group, fixed to 0 in this one.") in first.note
