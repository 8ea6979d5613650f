"""The report's comparison of the client-means and the multilevel analysis
(report/multilevel.py), on the example: serial_esat_anx on client means and
twolevel_serial_esat_anx on session rows, both corrected for therapists."""

from __future__ import annotations

import re
import warnings

import pytest

import attachpath as ap
from attachpath.data import esat_scores
from attachpath.data.prepare import prepare
from attachpath.demo import spec_text
from attachpath.report import format as F
from attachpath.report import multilevel as ML
from attachpath.report.document import to_md


@pytest.fixture(scope="module")
def fits():
    sessions = ap.datasets.load_example()
    prep = prepare(sessions, client="client", therapist="therapist", session="session")
    clients = esat_scores(prep.clients, level="client", client="client")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = ap.fit(spec_text("serial_esat_anx"), clients, cluster="therapist", se="robust")
        multi = ap.fit(spec_text("twolevel_serial_esat_anx"),
                       esat_scores(sessions, level="session"),
                       cluster="therapist/client", se="robust")
    return client, multi


def _text(para) -> str:
    return re.sub(r"\s+", " ", to_md(para.text)).replace("`", "")


def test_shared_quantities_pair_client_paths_with_between_paths(fits):
    client, multi = fits
    items = ML.shared_quantities(client, multi)
    assert [q.kind for q in items] == ["path"] * 7 + ["effect"] * 6
    for q in items:
        if q.kind == "path":
            assert q.multi["block"] == 2
            assert (q.multi["lhs"], q.multi["rhs"]) == (q.client["lhs"], q.client["rhs"])
        else:
            assert q.multi["lhs"] == q.client["lhs"]
    b_ge = next(q for q in items if q.client.get("label") == "b_ge")
    row = multi.estimates.query("label == 'b_ge'").iloc[0]
    assert b_ge.multi["est"] == row["est"] and b_ge.multi["se"] == row["se"]
    assert b_ge.se_ratio == pytest.approx(row["se"] / b_ge.client["se"], rel=1e-12)


def _q(kind, c, m):
    return ML.Shared("x", kind, c, m)


def test_conclusions():
    sig, ns = {"est": 0.3, "se": 0.1, "pvalue": 0.001}, {"est": 0.1, "se": 0.1, "pvalue": 0.3}
    neg = {"est": -0.3, "se": 0.1, "pvalue": 0.001}
    assert _q("path", sig, sig).conclusion == (True, "holds: significant in both")
    assert _q("path", ns, ns).conclusion == (True, "holds: significant in neither")
    assert _q("path", sig, ns).conclusion == (False, "changes: significant with client means only")
    assert _q("path", ns, sig).conclusion == (False, "changes: significant in the two-level model only")
    assert _q("path", sig, neg).conclusion == (False, "changes: opposite signs")
    # effects: the CI, not p
    inside = {"est": 0.1, "se": 0.1, "ci.lower": -0.01, "ci.upper": 0.2, "pvalue": 0.001}
    outside = {"est": 0.1, "se": 0.1, "ci.lower": 0.01, "ci.upper": 0.2, "pvalue": 0.9}
    assert _q("effect", inside, outside).conclusion[0] is False
    assert _q("effect", outside, outside).conclusion == (True, "holds: significant in both")


def test_summary_made_from_the_numbers(fits):
    client, multi = fits
    items = ML.shared_quantities(client, multi)
    held = sum(q.conclusion[0] for q in items)
    text = _text(ML.changes_summary(items))
    assert f"Of the 13 paths and effects both analyses estimate, {held} lead" in text
    ratios = sorted(q.se_ratio for q in items)
    assert f"are {F.num(ratios[0], 2)} to {F.num(ratios[-1], 2)} times" in text
    # a changed conclusion is named
    items[1].multi = dict(items[1].multi, pvalue=0.001)       # a_av: n.s. with client means
    text = _text(ML.changes_summary(items))
    assert f"{held - 1} lead to the same conclusion" in text
    assert "the conclusion changes for ecr_avoid → esat_anx" in text
    assert "significant in the two-level model only" in text


def test_table_rows_and_within_summary(fits):
    client, multi = fits
    items = ML.shared_quantities(client, multi)
    t = ML.changes_table(items, client, multi, names=("serial_esat_anx", "twolevel_serial_esat_anx"))
    body = [r for r in t.rows if isinstance(r, list)]
    assert len(body) == 13
    first = body[0]
    assert first[1] == f"{F.num(items[0].client['est'], 3)} ({F.num(items[0].client['se'], 3)})"
    assert first[5] == F.num(items[0].se_ratio, 2)
    # the two fits' p-values come from different references (therapist/client
    # fits default to t(G−1)); the note says which
    note = re.sub(r"\s+", " ", to_md(t.note)).replace("`", "")
    assert "p values (Wald; normal for client means, t(43) for two-level)" in note
    w = _text(ML.within_summary(client, multi))
    r = multi.estimates.query("block == 1 and lhs == 'tds_ge' and op == '~'").iloc[0]
    assert f"esat_anx → tds_ge {F.num(r['est'], 3)} ({F.num(r['se'], 3)})" in w
    assert "contextual_ge" in w and "anx_ge" not in w.split("only the multilevel model has")[1]
    icc = _text(ML.icc_sentence(multi))
    assert "corrected for the 44 therapists" in icc
