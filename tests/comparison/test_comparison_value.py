"""Comparison in a notebook: a short repr, summary() and an HTML table
(issue 18, item 1)."""

from __future__ import annotations

import warnings

import pytest

import attachpath as ap
from attachpath import specs

NAMES = ("serial_esat_anx", "serial_esat_anx_partial", "parallel_esat_anx")


@pytest.fixture(scope="module")
def cmp():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.compare([specs.path(n) for n in NAMES], ap.datasets.load_example_clients(),
                          cluster="therapist", progress=False)


def test_repr_is_short_and_names_the_models(cmp):
    r = repr(cmp)
    assert len(r.splitlines()) <= 4 and len(r) < 600
    assert all(n in r for n in NAMES)
    assert "1 nested-model test(s), 2 non-nested pair(s)" in r
    best = cmp.table.loc[cmp.table["akaike.weight"].idxmax(), "model"]
    assert f"largest Akaike weight: {best}" in r


def test_summary_and_str(cmp):
    s = cmp.summary()
    assert s == str(cmp)
    assert s.startswith("Model comparison") and "Nested-model tests" in s
    assert all(n in s for n in NAMES)


def test_repr_html_is_the_report_tables(cmp):
    html = cmp._repr_html_()
    assert html.count("<table") >= 3
    for title in ("Fit of the alternative models", "Nested-model tests", "Information criteria"):
        assert title in html
    assert all(n in html for n in NAMES)
    assert "vcov" not in html
