"""The distribution functions a fit uses (estimate/distributions.py) agree with
scipy.special, which a fit no longer imports (issue 19: scipy.special alone
costs about 1.1 G instructions to import)."""

import math

import numpy as np

import pytest
from scipy import special

from attachpath.estimate import distributions as d

DFS = [0.5, 1, 2, 3, 4, 5, 7, 10, 24, 45, 100, 300, 1000, 4.5]
XS = [0.0, 1e-8, 0.01, 0.5, 1, 2, 5, 10, 30, 50, 100, 300, 1000, 3000]


@pytest.mark.parametrize("df", DFS)
def test_central_chi_square_against_scipy(df):
    for x in XS:
        sf, ref = d.chi2_sf(x, df), special.chdtrc(df, x)
        assert abs(sf - ref) < 1e-13                         # absolute
        if ref > 1e-300:
            assert abs(sf - ref) <= 1e-12 * ref              # tiny p-values keep their digits
        assert abs(d.chi2_cdf(x, df) - special.chdtr(df, x)) < 1e-13


@pytest.mark.parametrize("df", [1, 3, 10, 45, 300])
def test_noncentral_chi_square_against_scipy(df):
    for x in [0.5, 2, 10, 50, 300, 3000]:
        for nc in [0.1, 1, 5, 20, 100, 1000, 5000]:
            assert abs(d.chi2_cdf(x, df, nc) - special.chndtr(x, df, nc)) < 1e-10


@pytest.mark.parametrize("df", [1, 3, 10, 45, 200])
def test_noncentrality_root_against_scipy(df):
    for x in [0.5, 3, 20, 60, 150, 400, 2000]:
        for p in [0.05, 0.95]:
            lam = d.chi2_noncentrality(x, df, p)
            if special.chdtr(df, x) <= p:
                assert lam == 0.0                            # no root in λ ≥ 0
            else:
                ref = special.chndtrinc(x, df, p)
                assert abs(lam - ref) <= 1e-9 * max(ref, 1.0)


def test_normal_functions_against_scipy():
    for p in [1e-12, 1e-6, 0.001, 0.025, 0.3, 0.5, 0.975, 0.999999]:
        assert abs(d.norm_ppf(p) - special.ndtri(p)) < 1e-12
    for z in [-37.0, -8.0, -1.96, 0.0, 1.0, 5.0, 9.0]:
        ref = special.ndtr(z)
        # relative: libm's erfc and cephes' ndtr part at 2e-13 near 1e-300
        assert abs(d.norm_cdf(z) - ref) <= 1e-12 * ref
        assert abs(d.norm_sf(-z) - ref) <= 1e-12 * ref
    p = d.two_sided_p([-1.96, 0.0, float("nan"), 4.0])
    assert abs(p[0] - 0.04999579029644087) < 1e-15 and p[1] == 1.0 and math.isnan(p[2])
    assert d.norm_ppf(0.0) == -math.inf and d.norm_ppf(1.0) == math.inf
    assert math.isnan(d.norm_ppf(1.5))


def test_normal_quantile_is_the_standard_librarys(monkeypatch):
    """norm_ppf calls the C function behind statistics.NormalDist().inv_cdf
    (without importing statistics), and falls back to NormalDist itself."""
    from statistics import NormalDist
    ps = [1e-300, 1e-12, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 0.999, 1 - 1e-12]
    want = [NormalDist().inv_cdf(p) for p in ps]
    assert d._normal_dist_inv_cdf is not None           # CPython has it
    for fast in (d._normal_dist_inv_cdf, None):
        monkeypatch.setattr(d, "_normal_dist_inv_cdf", fast)
        for p, w in zip(ps, want):
            assert math.isclose(d.norm_ppf(p), w, rel_tol=1e-15, abs_tol=0), p


def test_bad_arguments_give_nan_not_a_loop():
    assert math.isnan(d.chi2_sf(float("nan"), 3)) and math.isnan(d.chi2_sf(3.0, 0))
    assert math.isnan(d.chi2_cdf(3.0, -1)) and math.isnan(d.chi2_cdf(float("nan"), 2, 1.0))
    assert math.isnan(d.chi2_noncentrality(5.0, 2, 1.5))
    assert math.isnan(d.chi2_sf(math.inf, 3))                  # as scipy-era code did


def test_wald_reference_is_normal_or_t():
    """One place decides the Wald reference (fits, derived tables, power)."""
    from scipy import stats
    from attachpath.estimate.distributions import two_sided_p, wald_quantile
    assert abs(wald_quantile(0.975) - stats.norm.ppf(0.975)) < 1e-12
    assert abs(wald_quantile(0.975, 43) - stats.t.ppf(0.975, 43)) < 1e-12
    z = [0.5, -2.1, float("nan")]
    assert np.allclose(two_sided_p(z, 43), 2 * stats.t.sf(np.abs(z), 43), equal_nan=True)
    assert np.allclose(two_sided_p(z), 2 * stats.norm.sf(np.abs(z)), equal_nan=True)


@pytest.mark.parametrize("df", [1, 2, 3, 4.5, 9, 19, 43, 199, 1000, 1e5])
def test_student_t_against_scipy(df):
    """t(G−1), the reference of three-level fits, without scipy.stats (about
    1 G instructions to import): tails to 1e-8 relative, quantiles to 1e-9."""
    from scipy import stats
    for t in np.concatenate([np.linspace(-40, 40, 321), [1e-8, 1e-3, 2.017, 60, 300]]):
        # (+1e-300: below it both are underflow, subnormal or 0)
        ref = 2 * stats.t.sf(abs(t), df)
        assert abs(d.t_two_sided(t, df) - ref) <= 1e-8 * ref + 1e-300
        ref = stats.t.sf(t, df)
        assert abs(d.t_sf(t, df) - ref) <= 1e-8 * ref + 1e-300
    for p in [1e-6, 1e-4, 0.0005, 0.005, 0.025, 0.05, 0.2, 0.5, 0.8, 0.95, 0.975, 0.995,
              0.9995, 1 - 1e-6]:
        ref = stats.t.ppf(p, df)
        assert abs(d.t_ppf(p, df) - ref) <= 1e-9 * max(1.0, abs(ref))
    assert d.t_ppf(0.0, df) == -math.inf and d.t_ppf(1.0, df) == math.inf
    assert math.isnan(d.t_two_sided(float("nan"), df)) and d.t_two_sided(math.inf, df) == 0
    assert math.isnan(d.t_ppf(0.5, 0)) and math.isnan(d.t_two_sided(1.0, -2))
