"""Fisher scoring with step halving, for any discrepancy: the one loop every
estimator finishes with (complete data, two levels, FIML).

`lik` needs discrepancy(θ), gradient(θ) (dF/dθ) and expected_information(θ)
(½·E[d²F]).  A likelihood whose scoring converges only linearly (missing
values; means that cannot match the sample means) sets `newton_below`: once
max |dF/dθ| is below it, steps use its observed_information(θ) (½·d²F) where
that is positive definite, i.e. Newton steps (step_information)."""

from __future__ import annotations

import numpy as np

TOL = 1e-11          # stop when max |dF/dθ| is below this
MIN_STEP = 1e-8      # smallest step fraction tried by the halving


def fisher_scoring(lik, theta, max_iter: int = 100, tol: float = TOL):
    """(θ, iterations, max |dF/dθ|).  Bounded: at most max_iter steps, each
    halved at most log2(1/MIN_STEP) times."""
    theta = np.asarray(theta, dtype=float)
    f = lik.discrepancy(theta)
    g = lik.gradient(theta)
    it = 0
    while it < max_iter and len(g) and np.max(np.abs(g)) > tol:
        it += 1
        info = step_information(lik, theta, g)
        try:
            step = -np.linalg.solve(2.0 * info, g)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(2.0 * info, g, rcond=None)[0]
        t = 1.0
        while t > MIN_STEP:
            cand = theta + t * step
            fc = lik.discrepancy(cand)
            if np.isfinite(fc) and fc <= f + 1e-13 * max(1.0, abs(f)):
                break
            t /= 2
        else:
            break
        theta, f = cand, fc
        g = lik.gradient(theta)
        if np.max(np.abs(t * step)) < 1e-13:
            break
    return theta, it, float(np.max(np.abs(g))) if len(g) else 0.0


def step_information(lik, theta, g) -> np.ndarray:
    """The information a step at θ (gradient g) uses: Fisher scoring's
    expected information, or the observed one (a Newton step) where the
    likelihood asks for it (`newton_below`, see the module) and it is
    positive definite.  Far from the solution the expected information is
    cheaper and safer; near it Newton converges quadratically."""
    below = getattr(lik, "newton_below", None)
    if below is None or np.max(np.abs(g)) > below:
        return lik.expected_information(theta)
    H = lik.observed_information(theta)
    if np.all(np.isfinite(H)):
        try:
            np.linalg.cholesky(H)
            return H
        except np.linalg.LinAlgError:
            pass
    return lik.expected_information(theta)


def numerical_information(gradient, theta, h: float = 1e-6) -> np.ndarray:
    """½ × the Hessian of F from central differences of its analytic
    gradient (dF/dθ, batch-capable): all 2k gradients in one call."""
    theta = np.asarray(theta, dtype=float)
    k = len(theta)
    steps = h * np.eye(k)
    g = gradient(np.vstack([theta + steps, theta - steps]))
    H = ((g[:k] - g[k:]) / (2 * h)).T
    return 0.25 * (H + H.T)


def numerical_jacobian(f, theta, h: float = 1e-6) -> np.ndarray:
    """k x k central differences of a batch-capable f: R^k -> R^k (row: f's
    entry, column: θ's)."""
    k = len(theta)
    steps = h * np.eye(k)
    v = f(np.vstack([theta + steps, theta - steps]))
    return ((v[:k] - v[k:]) / (2 * h)).T


class Discrepancy:
    """The complete-data ML discrepancy of a RAM layout on given moments,
    in the shape fisher_scoring takes.

    newton: take Newton steps (the Hessian from central differences of the
    analytic gradient) where it is positive definite.  Models whose implied
    means cannot match the sample means (fixed or equal intercepts) carry
    the mean residuals in the Hessian, which the expected information
    leaves out; with a large misfit Fisher scoring then creeps."""

    def __init__(self, ram, mom, values, newton: bool = False):
        self.ram, self.mom, self.values = ram, mom, values
        self.newton_below = np.inf if newton else None

    def observed_information(self, theta):
        return numerical_information(self.gradient, theta)

    def discrepancy(self, theta):
        from . import ml
        return ml.discrepancy(self.ram, theta, self.mom, self.values)

    def gradient(self, theta):
        from . import ml
        return ml.gradient(self.ram, theta, self.mom, self.values)

    def expected_information(self, theta):
        from . import ml
        return ml.expected_information(self.ram, theta, self.values)
