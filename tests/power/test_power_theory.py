"""Theory checks of the Monte Carlo machinery (in process, no Dask): power of
one slope against the analytic Wald power, the rejection rate under a zero
population value, and the coverage of Wald intervals.  Tolerances are about
three Monte Carlo SEs at 2,000 replicates (sqrt(p(1-p)/2000))."""

import math

import pytest

from attachpath.power import power
from attachpath.power.summary import analytic_wald_power

REPS = 2000


@pytest.fixture(scope="module")
def slope_study():
    # var(x) = var(z) = 1, residual variance 1: the SE of a slope is 1/sqrt(n)
    return power("y ~ 0.2*x + 0*z\ny ~~ 1*y", n=100, reps=REPS, seed=20261202,
                 workers=0).table


def _row(table, lhs, op, rhs):
    sel = table[(table.lhs == lhs) & (table.op == op) & (table.rhs == rhs)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_power_of_one_slope_matches_the_analytic_wald_power(slope_study):
    r = _row(slope_study, "y", "~", "x")
    expected = analytic_wald_power(0.2 * math.sqrt(100), alpha=0.05)     # 0.516
    assert r.reps_used == REPS and r.nonconverged == 0
    assert abs(r.power - expected) < 0.035          # 3.1 MC SEs
    assert r.power_mcse == pytest.approx(math.sqrt(r.power * (1 - r.power) / REPS), rel=1e-12)


def test_type_one_error_under_a_zero_population_value(slope_study):
    r = _row(slope_study, "y", "~", "z")
    assert r.population == 0.0
    assert abs(r.power - 0.05) < 0.015              # 3.1 MC SEs of 0.05


def test_coverage_of_wald_intervals(slope_study):
    for rhs in ("x", "z"):
        r = _row(slope_study, "y", "~", rhs)
        assert abs(r.coverage - 0.95) < 0.015       # 3.1 MC SEs of 0.95
        assert abs(r.bias) < 3 * r.bias_mcse + 1e-12
        assert abs(r.se_ratio - 1) < 0.06           # ML SE vs SD of estimates


def test_therapist_robust_ses_keep_coverage_where_naive_ones_do_not():
    # ICC 0.3, 10 clients per therapist: design effect 3.7 for every variable;
    # naive SEs of the slope are too small, therapist-robust ones are right
    pop = "y ~ 0.3*x\ny ~~ 1*y"
    kw = dict(therapists=60, clients_per_therapist=10, icc=0.3, reps=600, seed=5, workers=0)
    robust = _row(power(pop, **kw).table, "y", "~", "x")
    naive = _row(power(pop, se="standard", **kw).table, "y", "~", "x")
    assert abs(robust.coverage - 0.95) < 0.03       # 3.4 MC SEs at 600 replicates
    assert naive.coverage < 0.90
