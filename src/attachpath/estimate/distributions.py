"""The few distribution functions a fit needs, without importing scipy.special.

Why not scipy.special: importing it costs about 1.1 G instructions (scipy's
array-API layer imports numpy.f2py and numpy.testing and parses docstrings),
half of a whole Rscript run of lavaan, for a handful of scalar functions a fit
evaluates (issue 19).  The standard library has what the normal needs
(math.erfc, statistics.NormalDist's Wichura AS241 quantile, called through
_statistics so that statistics itself is not imported); the chi-square
family needs the regularized incomplete gamma function, computed here by its
series and continued fraction (the textbook pair) and checked against
scipy.special over a grid in tests/estimate/test_distributions.py.

The noncentral chi-square is lavaan's Poisson mixture of central ones,
summed around the Poisson mode with the central probabilities obtained by
recurrence, and its noncentrality is found by a bounded bisection (lavaan
itself uses uniroot on pchisq).  Student's t (the t(G−1) reference of
three-level fits) comes from the regularized incomplete beta function by its
continued fraction, its quantile by bracketed Newton steps.
"""

from __future__ import annotations

import math

_EPS = 1e-16
_MAX_TERMS = 100_000        # the series and continued fraction converge in
                            # O(sqrt(a)) terms; this bound only stops a NaN loop


def gamma_p(a: float, x: float) -> float:
    """Regularized lower incomplete gamma P(a, x)."""
    return _incomplete_gamma(a, x)[0]


def gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x)."""
    return _incomplete_gamma(a, x)[1]


def _incomplete_gamma(a: float, x: float) -> tuple[float, float]:
    """(P, Q): the series below x = a + 1 gives P, the continued fraction
    above it gives Q, each directly where it is small (so that tiny p-values
    keep their digits), the other as its complement."""
    if not (a > 0) or math.isnan(x):
        return float("nan"), float("nan")
    if x <= 0:
        return 0.0, 1.0
    if math.isinf(x):
        return 1.0, 0.0
    if x < a + 1:
        p = _series(a, x)
        return p, 1.0 - p
    q = _continued_fraction(a, x)
    return 1.0 - q, q


def _prefactor(a: float, x: float) -> float:
    """x^a e^(−x) / Γ(a), in logs to avoid overflow."""
    return math.exp(a * math.log(x) - x - math.lgamma(a))


def _series(a: float, x: float) -> float:
    term = total = 1.0 / a
    ap = a
    for _ in range(_MAX_TERMS):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            return min(total * _prefactor(a, x), 1.0)
    return float("nan")


def _continued_fraction(a: float, x: float) -> float:
    """Q(a, x) by the modified Lentz evaluation of Legendre's fraction."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return max(min(h * _prefactor(a, x), 1.0), 0.0)
    return float("nan")


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for a chi-square with df degrees of freedom."""
    if not (df > 0) or not math.isfinite(x):
        return float("nan")
    return gamma_q(df / 2.0, max(x, 0.0) / 2.0)


def chi2_cdf(x: float, df: float, nc: float = 0.0) -> float:
    """P(X <= x), central or noncentral (nc) chi-square."""
    if not (df > 0) or math.isnan(x) or math.isnan(nc):
        return float("nan")
    x = max(x, 0.0)
    if nc > 0:
        return _noncentral_cdf(x, df, nc)
    return gamma_p(df / 2.0, x / 2.0)


def _noncentral_cdf(x: float, df: float, nc: float) -> float:
    if x == 0:
        return 0.0
    return _family(x, df, nc)(nc)[0]


_last_family: list = [None]


def _family(x: float, df: float, nc: float) -> "_Noncentral":
    """The _Noncentral of (x, df) covering nc: the last one made is kept,
    since a fit asks for one χ² value at several noncentralities (the RMSEA
    interval's bound check and its two root searches)."""
    fam = _last_family[0]
    if fam is None or fam.key != (x, df) or _window(nc / 2.0)[1] > fam.top:
        fam = _Noncentral(x, df, max(nc, x + 10.0 * math.sqrt(2.0 * (x + df)) + 50.0))
        _last_family[0] = fam
    return fam


def _window(mu: float) -> tuple[int, int]:
    """The j that carry the Poisson(mu) mass: mode ± (8 SD + 20); the tails
    left out are below 1e-15."""
    spread = int(8 * math.sqrt(mu) + 20)
    return max(int(mu) - spread, 0), int(mu) + spread


class _Noncentral:
    """P(X ≤ x) for X ~ χ²(df, nc), and its derivative in nc, for one x and
    df and any nc up to nc_max.

    The cdf is Σ_j w_j P(a+j, h) with Poisson weights w_j = Poisson(j; nc/2),
    a = df/2, h = x/2.  Only the weights depend on nc, so the central terms are
    made once: with t_j = h^(a+j) e^(−h) / Γ(a+j+1), P(a+j+1, h) = P(a+j, h) − t_j,
    and d/dnc = −½ Σ_j w_j t_j.  An evaluation sums over the j of _window,
    which makes a root search in nc cost a few numpy calls a step."""

    def __init__(self, x: float, df: float, nc_max: float):
        import numpy as np
        self.np, self.key = np, (x, df)
        a, self.h = df / 2.0, x / 2.0
        self.top = _window(nc_max / 2.0)[1]
        # log j! and log Γ(a+j+1) by running sums of logs (their rounding,
        # about 1e-16·sqrt(top) relative, moves the cdf by far less than 1e-9)
        steps = np.arange(1.0, self.top + 1.0)
        self.log_j_factorial = np.concatenate(([0.0], np.cumsum(np.log(steps))))
        log_gamma = math.lgamma(a + 1) + np.concatenate(([0.0], np.cumsum(np.log(a + steps))))
        self.t = np.exp((a + np.arange(self.top + 1.0)) * math.log(self.h) - self.h - log_gamma)
        self.p = np.empty(self.top + 1)
        self.p[0] = gamma_p(a, self.h)
        self.p[1:] = np.maximum(self.p[0] - np.cumsum(self.t[:-1]), 0.0)

    def __call__(self, nc: float) -> tuple[float, float]:
        np, mu = self.np, nc / 2.0
        if mu <= 0:
            return float(self.p[0]), -0.5 * float(self.t[0])
        lo, hi = _window(mu)
        if hi > self.top:
            raise ValueError("noncentrality beyond the range prepared")
        w = np.exp(np.arange(lo, hi + 1) * math.log(mu) - mu - self.log_j_factorial[lo:hi + 1])
        return (min(float(w @ self.p[lo:hi + 1]), 1.0),
                -0.5 * float(w @ self.t[lo:hi + 1]))


def chi2_noncentrality(x: float, df: float, p: float) -> float:
    """The noncentrality λ ≥ 0 with P(X <= x) = p for X ~ χ²(df, λ).

    The cdf falls with λ.  Newton steps from the normal approximation's root,
    kept inside the bracket the steps have established (bisecting, or
    doubling while no upper end is known, where a step would leave it);
    once a step is below 1e-7 of λ the next error is of its square, so that
    step is the last (bounded at 200 steps; about 4 are used)."""
    x = max(x, 0.0)
    if not (0 < p < 1) or not (df > 0) or not math.isfinite(x) or x == 0:
        return float("nan") if x != 0 else 0.0
    if chi2_cdf(x, df) <= p:
        return 0.0
    lo, hi = 0.0, math.inf
    lam = _normal_root(x, df, norm_ppf(p))
    for _ in range(200):
        f, slope = _family(x, df, lam)(lam)
        f -= p
        if f > 0:
            lo = lam
        else:
            hi = lam
        if f == 0 or hi - lo <= 1e-13 * hi:
            return lam
        step = lam - f / slope if slope < 0 else math.nan
        if not (lo < step < hi):
            step = 0.5 * (lo + hi) if math.isfinite(hi) else 2.0 * max(lam, 1.0)
        elif abs(step - lam) <= 1e-7 * lam:
            return step
        lam = step
    return float("nan")


def _normal_root(x: float, df: float, z: float) -> float:
    """λ with x = df + λ + z·sqrt(2(df + 2λ)) (X ≈ normal with the χ²(df, λ)
    mean and variance), a Newton start within a few percent of the root."""
    # with s = sqrt(2(df + 2λ)): λ = (s² − 2df)/4, so s²/4 + z s − (x − df/2) = 0
    disc = z * z + (x - df / 2.0)
    if disc <= 0:
        return max(x - df, 1.0)
    s = 2.0 * (-z + math.sqrt(disc))
    return max((s * s - 2.0 * df) / 4.0, 1e-3)


def norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


try:
    # the C function statistics.NormalDist().inv_cdf calls (Wichura's AS241),
    # without importing statistics, whose fractions and decimal cost about
    # 7 ms of a 0.5-s CLI fit; Pythons without it use NormalDist itself
    from _statistics import _normal_dist_inv_cdf
except ImportError:                                 # pragma: no cover
    _normal_dist_inv_cdf = None


def norm_ppf(p: float) -> float:
    if not (0 < p < 1):
        return {0.0: -math.inf, 1.0: math.inf}.get(p, float("nan"))
    if _normal_dist_inv_cdf is not None:
        return _normal_dist_inv_cdf(p, 0.0, 1.0)
    from statistics import NormalDist
    return NormalDist().inv_cdf(p)


def beta_inc(a: float, b: float, x: float, y: float | None = None) -> float:
    """Regularized incomplete beta I_x(a, b), by the continued fraction on
    the side where it converges fast (x below (a+1)/(a+b+2)), else by
    symmetry, so that a small tail keeps its digits.  y: 1 − x when the
    caller has it without cancellation (x close to 1)."""
    y = 1.0 - x if y is None else y
    if not (a > 0 and b > 0) or math.isnan(x) or math.isnan(y):
        return float("nan")
    if x <= 0:
        return 0.0
    if y <= 0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _beta_fraction(b, a, y, x)
    return _beta_fraction(a, b, x, y)


def _beta_fraction(a: float, b: float, x: float, y: float) -> float:
    """I_x(a, b) (y = 1 − x) by the modified Lentz evaluation of its
    continued fraction."""
    tiny = 1e-300
    front = math.exp(a * math.log(x) + b * math.log(y) + math.lgamma(a + b)
                     - math.lgamma(a) - math.lgamma(b)) / a
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (tiny if abs(d) < tiny else d)
    h = d
    for m in range(1, _MAX_TERMS):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + num * d
            d = 1.0 / (tiny if abs(d) < tiny else d)
            c = 1.0 + num / c
            c = tiny if abs(c) < tiny else c
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            return max(min(front * h, 1.0), 0.0)
    return float("nan")


def t_two_sided(t: float, df: float) -> float:
    """P(|T| > |t|) for Student's t with df degrees of freedom."""
    if math.isnan(t) or not (df > 0):
        return float("nan")
    if math.isinf(t):
        return 0.0
    return beta_inc(df / 2.0, 0.5, df / (df + t * t), t * t / (df + t * t))


def t_sf(t: float, df: float) -> float:
    """P(T > t)."""
    half = 0.5 * t_two_sided(t, df)
    return half if t >= 0 else 1.0 - half


def t_ppf(p: float, df: float) -> float:
    """The p quantile of t(df): Newton steps on the upper tail from the
    normal quantile, kept inside a bracket that halves when a step leaves
    it (bounded: at most 200 steps)."""
    if not (0 < p < 1) or not (df > 0):
        return {0.0: -math.inf, 1.0: math.inf}.get(p, float("nan")) if df > 0 \
            else float("nan")
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    if p == 0.5:
        return 0.0
    tail = 1.0 - p                       # find t > 0 with P(T > t) = tail
    log_c = (math.lgamma((df + 1) / 2) - math.lgamma(df / 2)
             - 0.5 * math.log(df * math.pi))
    lo, hi = 0.0, math.inf
    t = max(norm_ppf(p), 1e-3)
    for _ in range(200):
        f = 0.5 * t_two_sided(t, df) - tail
        if f > 0:
            lo = t
        else:
            hi = t
        density = math.exp(log_c - (df + 1) / 2 * math.log1p(t * t / df))
        step = f / density if density > 0 else math.inf
        new = t + step
        if not (lo < new < hi):
            new = (lo + hi) / 2 if math.isfinite(hi) else 2 * t + 1
        if abs(new - t) <= 1e-14 * max(1.0, abs(t)):
            return new
        t = new
    return t


def two_sided_p(z, df: int | None = None):
    """2·P(Z > |z|) elementwise over a sequence (NaN stays NaN); with df,
    from t(df) instead (the small-sample reference of a cluster sandwich)."""
    if df is not None:
        return [t_two_sided(float(v), df) for v in z]
    return [math.erfc(abs(v) / math.sqrt(2.0)) for v in z]


def wald_quantile(p: float, df: int | None = None) -> float:
    """The p quantile of a Wald statistic's reference: normal, or t(df)."""
    if df is None:
        return norm_ppf(p)
    return t_ppf(p, df)
