"""Theory checks of the two-level power path (in process, no Dask).

Sessions within clients within 60 therapists, a zero between-level path
(y ~ z, z a client-level variable), a non-zero within and between slope of
x.  At 600 replicates the Monte Carlo SE of a rejection rate of 0.05 is
0.0089 and of a coverage of 0.95 also 0.0089; tolerances are 3 of them.
The two-level analysis must keep the Type I error and the coverage of its
paths at both levels; the client-means analysis keeps the Type I error of
the zero path but its between slope of x is attenuated by the session noise
in the client means (the reason to compare the two on the same data)."""

import math

import pytest

from attachpath.power import power

REPS = 600
TOL = 3 * math.sqrt(0.05 * 0.95 / REPS)          # 0.0267

POP = """level: 1
  y ~ 0.3*x
  x ~~ 1*x
  y ~~ 1*y
level: 2
  y ~ 0*bz*z + 0.4*bx*x
  x ~~ 0.5*x
  y ~~ 0.4*y
  z ~~ 1*z
"""
TWO_LEVEL = """level: 1
  y ~ x
  x ~~ x
level: 2
  y ~ bz*z + bx*x
  x ~~ x
"""


@pytest.fixture(scope="module")
def study():
    return power(POP, analyses={"two-level": TWO_LEVEL, "client means": "y ~ bz*z + bx*x"},
                 therapists=60, clients_per_therapist=4, sessions="3-6", icc=0.1,
                 reps=REPS, seed=20261203, workers=0).table


def _row(t, analysis, lhs, op, rhs, level=""):
    sel = t[(t.analysis == analysis) & (t.lhs == lhs) & (t.op == op) & (t.rhs == rhs)
            & (t.level == level)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_every_replicate_is_fitted(study):
    assert (study.reps_used == REPS).all() and (study.nonconverged == 0).all()
    assert set(study.se) == {"robust.cluster"}


def test_type_one_error_of_a_zero_between_path(study):
    for analysis, level in (("two-level", "2"), ("client means", "")):
        r = _row(study, analysis, "y", "~", "z", level)
        assert r.population == 0.0
        assert abs(r.power - 0.05) < TOL, (analysis, r.power)


def test_coverage_and_bias_of_the_two_level_paths(study):
    for level in ("1", "2"):
        for rhs in ("x", "z") if level == "2" else ("x",):
            r = _row(study, "two-level", "y", "~", rhs, level)
            assert abs(r.coverage - 0.95) < TOL, (level, rhs, r.coverage)
            assert abs(r.bias) < 3 * r.bias_mcse, (level, rhs, r.bias)
            assert abs(r.se_ratio - 1) < 0.1          # SD of SEs: ~3% at 600 reps


def test_client_means_attenuate_the_between_slope(study):
    # the mean of 3-6 sessions carries Σ_W/n: var(x̄) = 0.5 + 1/n̄, cov(ȳ, x̄)
    # = 0.4·0.5 + 0.3/n̄, so the slope is pulled towards 0.3 and (0.3·var) down
    # per client: 0.36 with 3 sessions to 0.375 with 6; ±3 MC SEs (0.0026)
    r = _row(study, "client means", "y", "~", "x")
    two = _row(study, "two-level", "y", "~", "x", "2")
    assert r.bias < -5 * r.bias_mcse
    assert 0.36 - 0.008 < r.mean_est < 0.375 + 0.008
    assert abs(two.bias) < 3 * two.bias_mcse
