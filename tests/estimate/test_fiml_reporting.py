"""The missing-data section of a FIML fit (issue 14, item 6): summary,
fit.json, report and the diagram note."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.diagram import diagram
from attachpath.export import fit_json
from attachpath.report import fit_report

REF = Path(__file__).resolve().parents[1] / "reference"
MODEL = """
cats_secure ~ a*ecr_anx
tds_ge ~ b*cats_secure
iip_post ~ c*tds_ge + cats_secure
abc := a*b*c
"""


@lru_cache(maxsize=None)
def data():
    return pd.read_csv(REF / "data" / "clients_missing.csv")


@lru_cache(maxsize=None)
def fitted(missing="fiml"):
    return ap.fit(MODEL, data(), missing=missing, cluster="therapist")


def test_patterns_coverage_and_shares_are_those_of_the_rows_used():
    res = fitted()
    miss = res.data_info["missing"]
    names = list(res.partable.observed)
    frame = data()[names]
    used = frame[frame["ecr_anx"].notna()]          # a missing covariate: dropped
    assert miss["rows_used"] == len(used) == res.data_info["n"]
    assert miss["rows_complete"] == int(used.notna().all(axis=1).sum())
    assert miss["clusters_used"] == data().loc[used.index, "therapist"].nunique()
    for v in names:
        assert miss["percent_missing"][v] == pytest.approx(100 * used[v].isna().mean(), rel=1e-12)
    counts = used.notna().value_counts()
    got = [(tuple(v in p["observed"] for v in names), p["rows"]) for p in miss["patterns"]]
    assert sorted(got) == sorted(zip(counts.index, counts.values))
    assert [r for _, r in got] == sorted((r for _, r in got), reverse=True)
    assert sum(r for _, r in got) == len(used)
    obs = used.notna().to_numpy(float)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            assert miss["coverage"][a][b] == pytest.approx((obs[:, i] * obs[:, j]).mean(), rel=1e-12)


def test_summary_names_fiml_and_shows_the_section():
    text = fitted().summary()
    assert "ML estimation (FIML" in text
    assert "with missing values kept" in text and "listwise" not in text
    assert "Missing data (FIML: 319 rows used, 211 complete" in text
    assert "x x . x       56 rows (17.6%)" in text
    assert "Coverage (share of rows observing both variables)" in text
    # listwise fits keep their old line and have no section
    lw = ap.fit(MODEL, data(), cluster="therapist")
    assert "Missing data (FIML" not in lw.summary() and "listwise" in lw.summary()


def test_fit_json_carries_the_section():
    out = json.loads(json.dumps(fit_json(fitted()), default=str))
    miss = out["data"]["missing"]
    assert miss["method"] == "fiml" and miss["patterns"][0]["rows"] == 211
    assert set(miss["coverage"]) == set(fitted().partable.observed)


def test_report_and_diagram_note_say_fiml():
    res = fitted()
    html = fit_report(res).html()
    assert "full-information maximum likelihood (FIML)" in html
    assert "Missing-data patterns" in html and "Coverage: share of rows" in html
    assert "FIML" in diagram(res).note
    lw = ap.fit(MODEL, data(), cluster="therapist")
    assert "FIML" not in diagram(lw).note
    assert "Missing-data patterns" not in fit_report(lw).html()
