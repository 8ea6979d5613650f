"""The population of a power study: lavaan simulateData's defaults, the
default analysis, the true values of analysis parameters, and bad input."""

import numpy as np
import pytest

from attachpath.errors import AttachpathError, SpecWarning
from attachpath.power.population import (Analysis, analysis_partable, freed_spec,
                                         population_of, true_values)


def test_unspecified_values_follow_simulatedata():
    # simulateData(standardized = FALSE): unspecified variances 1, covariances
    # and means 0, regressions 0 (with a warning); x is random (fixed.x = FALSE)
    with pytest.warns(SpecWarning, match="set to 0"):
        pop = population_of("y ~ 0.5*x + z\nm ~ 0.4*x\ny ~~ 0.75*y")
    S = dict(zip(pop.observed, range(len(pop.observed))))
    # var(y) = 0.5² var(x) + 0² var(z) + 0.75; cov(y, m) = 0.5·0.4 var(x) (residuals uncorrelated)
    assert pop.sigma[S["y"], S["y"]] == pytest.approx(0.25 + 0.75, abs=1e-12)
    assert pop.sigma[S["m"], S["m"]] == pytest.approx(0.16 + 1.0, abs=1e-12)
    assert pop.sigma[S["y"], S["m"]] == pytest.approx(0.2, abs=1e-12)
    assert pop.sigma[S["x"], S["z"]] == 0.0 and pop.sigma[S["x"], S["x"]] == 1.0
    assert np.all(pop.mu == 0.0)


def test_factor_model_population():
    pop = population_of("f =~ 0.8*x1 + 0.7*x2 + 0.6*x3\nx1 ~~ 0.36*x1\nx2 ~~ 0.51*x2\n"
                        "x3 ~~ 0.64*x3\nf ~~ 1*f")
    # the first loading is the written 0.8, not the analysis default 1
    assert np.allclose(np.diag(pop.sigma), 1.0, atol=1e-12)
    assert pop.sigma[0, 1] == pytest.approx(0.56, abs=1e-12)


def test_not_positive_definite_population_is_refused():
    with pytest.raises(AttachpathError, match="not positive definite"):
        population_of("y ~ 0.5*x + 0.5*z\nx ~~ 2*z")  # corr(x, z) = 2


def test_freed_spec_frees_values_and_leaves_covariates_to_sem():
    text = "y ~ 0.3*b*x + 0*z\nx ~~ 1*x\nx ~~ 0.2*z\ny ~~ 0.5*y\nind := b*2"
    freed = freed_spec(text)
    assert "0.3" not in freed and "0.5" not in freed and "x ~~" not in freed
    assert "y ~ b*x" in freed and "y ~~ y" in freed and "ind := b*2" in freed
    pt = analysis_partable(Analysis("a", freed))
    assert set(pt.covariates) == {"x", "z"}


def test_true_values_match_rows_and_evaluate_defined():
    pop = population_of("m ~ 0.4*a*x\ny ~ 0.3*b*m\ny ~~ 0.5*y")
    pt = analysis_partable(Analysis("a", "m ~ a*x\ny ~ b*m\nab := a*b"))
    _, truth = true_values(pop, pt)
    names = [r.lhs + r.op + r.rhs for r in pt.rows if r.free and r.op != "~1"] + ["ab"]
    got = dict(zip(names, truth))
    assert got["m~x"] == 0.4 and got["y~m"] == 0.3 and got["y~~y"] == 0.5
    assert got["m~~m"] == 1.0
    assert got["ab"] == pytest.approx(0.12, abs=1e-12)
    # a residual covariance the analysis adds by default (two pure outcomes)
    # is 0 in the population, as simulateData's auto.cov.y leaves it
    pop2 = population_of("y1 ~ 0.4*x\ny2 ~ 0.3*x")
    pt2 = analysis_partable(Analysis("b", "y1 ~ x\ny2 ~ x"))
    _, truth2 = true_values(pop2, pt2)
    rows2 = [r for r in pt2.rows if r.free and r.op != "~1"]
    cov = [t for r, t in zip(rows2, truth2) if r.op == "~~" and r.lhs != r.rhs]
    assert cov == [0.0]


def test_paths_the_population_lacks_are_zero_and_unknown_variances_nan():
    pop = population_of("m ~ 0.4*a*x\ny ~ 0.3*b*m")
    pt = analysis_partable(Analysis("partial", "m ~ a*x\ny ~ b*m + d*x\nx ~~ x\n"
                                               "total := d + a*b"))
    _, truth = true_values(pop, pt)
    rows = [r for r in pt.rows if (r.free and r.op != "~1") or r.op == ":="]
    got = {(r.lhs, r.op, r.rhs): t for r, t in zip(rows, truth)}
    assert got[("y", "~", "x")] == 0.0
    assert [t for (lhs, op, _), t in got.items() if op == ":="] == [pytest.approx(0.12, abs=1e-12)]
    assert got[("x", "~~", "x")] == 1.0          # x's variance is in the population
