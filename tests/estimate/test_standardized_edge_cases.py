"""std.all where lavaan has a rule of its own (issue 17.4 and 17.5).

lavaan 0.6-14 values, produced by:

    h <- read.csv("tests/reference/data/holzinger.csv")
    f <- cfa('visual =~ x1 + x2 + x3 + x9
              textual =~ x4 + x5 + x6
              speed =~ x7 + x8 + x9
              x7 ~~ x8', h)
    parameterEstimates(f, standardized = TRUE); standardizedSolution(f)
    d <- read.csv("tests/reference/data/clients_a.csv")
    sem(SHARED, d); sem(EQUAL, d)       # the two specs below
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import attachpath as ap

REF = Path(__file__).resolve().parents[1] / "reference" / "data"
HS_CROSS = """visual =~ x1 + x2 + x3 + x9
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
x7 ~~ x8"""
SHARED = """tds_ge ~ t*cats_secure + v*ecr_anx
tds_ga ~ t*cats_secure + ecr_avoid
dvt := v - t"""
EQUAL = """tds_ge ~ t*cats_secure + v*ecr_anx
tds_ga ~ t2*cats_secure + ecr_avoid
t2 == t
dvt := v - t2"""


def _row(table, lhs, op, rhs):
    return table.set_index(["lhs", "op", "rhs"]).loc[(lhs, op, rhs)]


def test_residual_covariance_at_a_negative_variance_uses_its_absolute_value():
    res = ap.fit(HS_CROSS, pd.read_csv(REF / "holzinger.csv"))
    assert not res.provenance["options"]["estimation"]["admissible"]      # still flagged
    assert any("'x8' is negative" in w for w in res.warnings)
    # lavaan: x7 ~~ x8 / (√θ77 · √|θ88|)
    assert _row(res.estimates, "x7", "~~", "x8")["std.all"] == pytest.approx(-1.8970097953, abs=1e-4)
    assert _row(res.estimates, "x8", "~~", "x8")["std.all"] == pytest.approx(-0.1498879302, abs=1e-4)
    std = _row(res.standardized_solution(), "x7", "~~", "x8")
    assert std["est.std"] == pytest.approx(-1.8970097953, abs=1e-4)
    assert std["se"] == pytest.approx(2.9036176872, rel=1e-3)     # SEs within 0.1%


@pytest.mark.parametrize("spec, std_all, se", [
    (SHARED, -0.3767914990, 0.0548620985),    # t: the row tds_ge ~ cats_secure
    (EQUAL, -0.3820725377, 0.0566970429),     # t2: its own row tds_ga ~ cats_secure
])
def test_defined_parameter_takes_the_first_row_of_each_label(spec, std_all, se):
    res = ap.fit(spec, pd.read_csv(REF / "clients_a.csv"))
    est = res.estimates.set_index("lhs")
    assert est.loc["dvt", "std.all"] == pytest.approx(std_all, abs=1e-4)
    row = res.standardized_solution().set_index("lhs").loc["dvt"]
    assert row["est.std"] == pytest.approx(std_all, abs=1e-4)
    assert row["se"] == pytest.approx(se, rel=1e-3)


def test_equality_constraint_keeps_the_written_labels():
    res = ap.fit(EQUAL, pd.read_csv(REF / "clients_a.csv"))
    est = res.estimates
    assert _row(est, "tds_ga", "~", "cats_secure")["label"] == "t2"
    assert _row(est, "tds_ge", "~", "cats_secure")["label"] == "t"
    assert (_row(est, "tds_ga", "~", "cats_secure")["est"]
            == _row(est, "tds_ge", "~", "cats_secure")["est"])
