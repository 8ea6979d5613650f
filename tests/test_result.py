"""Result as a user meets it: a short repr, summary() in attachpath's and in
lavaan's layout, one p-value style (issue 18, items 1 and 5)."""

from __future__ import annotations

import re
import warnings

import pytest

import attachpath as ap
from attachpath import specs
from attachpath.errors import OptionError


@pytest.fixture(scope="module")
def res():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.fit(specs.path("serial_esat_anx"), ap.datasets.load_example_clients(),
                      cluster="therapist", mc_draws=2000, seed=1)


def test_repr_is_a_few_lines(res):
    r = repr(res)
    assert len(r.splitlines()) <= 4 and len(r) < 500          # was 13,000 characters
    assert r.startswith("<attachpath Result serial_esat_anx: N = 330, 44 clusters of therapist")
    assert f"chisq = {res.fit['chisq']:.3f}, df = {res.fit['df']}" in r
    assert "cluster-robust SEs" in r and "summary()" in r
    assert "vcov" not in r and "array" not in r


def test_summary_lavaan_style_has_lavaan_sections_and_columns(res):
    text = res.summary(style="lavaan")
    heads = [line for line in text.splitlines() if re.fullmatch(r"[A-Z][A-Za-z ]+:", line)]
    assert heads == ["Model Test User Model:", "Parameter Estimates:", "Regressions:",
                     "Intercepts:", "Variances:", "Defined Parameters:"]
    assert text.count("Estimate  Std.Err  z-value  P(>|z|)") == 4
    assert "Robust.cluster" in text and "Number of clusters [therapist]" in text
    # a regression row: name, label, then the four numbers of estimates.csv
    row = res.estimates.query("lhs == 'tds_ge' and op == '~'").iloc[0]
    line = next(x for x in text.splitlines() if x.strip().startswith("esat_anx") and "(b_ge)" in x)
    nums = line.split()[-4:] if "<" not in line else line.split()[-5:-2]
    assert float(nums[0]) == pytest.approx(row["est"], abs=5e-4)
    assert float(nums[1]) == pytest.approx(row["se"], abs=5e-4)
    # residual variances and intercepts of endogenous variables carry lavaan's dot
    assert re.search(r"^   \.tds_ge\s", text, re.M)
    scaled = text.splitlines()[[i for i, x in enumerate(text.splitlines())
                                if x.strip().startswith("Test Statistic")][0]].split()
    assert float(scaled[-1]) == pytest.approx(res.fit["chisq.scaled"], abs=5e-4)


def test_one_p_value_style(res):
    plain, lavaan = res.summary(), res.summary(style="lavaan")
    for text in (plain, lavaan):
        assert "< .001" in text
        assert "<.001" not in text
        assert not re.search(r"\s0\.\d{3}\s*$", "\n".join(
            x for x in text.splitlines() if "P-value" in x))   # no leading zero on p
    assert "p < .001" in plain or "p = ." in plain


def test_unknown_style_is_an_option_error(res):
    with pytest.raises(OptionError, match="'attachpath' or 'lavaan'"):
        res.summary(style="mplus")
