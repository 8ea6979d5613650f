"""The analytic Hessian of F equals a numerical derivative of the analytic
gradient (the way lavaan computes observed information)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from attachpath.estimate.clusters import Clusters
import pandas as pd
import pytest

import attachpath as ap
from attachpath.estimate import ml
from attachpath.estimate.ram import ram_of

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = ["pd_sem", "pd_labels", "hs_cfa", "latent_na_ml", "two_outcomes_ml",
         "serial_mlr_cluster_a", "spec_simultaneous_secure_anx", "resid_cov_ml"]


def numerical(ram, theta, mom, values, h=1e-6):
    k = len(theta)
    steps = h * np.eye(k)
    g = ml.gradient(ram, np.vstack([theta + steps, theta - steps]), mom, values)
    H = ((g[:k] - g[k:]) / (2 * h)).T
    return 0.5 * (H + H.T)


@pytest.mark.parametrize("case", CASES)
def test_analytic_hessian_equals_numerical(case):
    c = json.loads((REF / "cases" / f"{case}.json").read_text())
    data = pd.read_csv(REF / c["data"])
    res = ap.fit(c["model"], data, cluster=c["call"].get("cluster"))
    ram = ram_of(res.partable)
    mom = ml.Moments.from_array(data[list(res.partable.observed)].to_numpy(float))
    H = ml.analytic_hessian(ram, res.theta, mom, res.values)
    Hn = numerical(ram, res.theta, mom, res.values)
    assert np.max(np.abs(0.5 * (H + H.T) - Hn)) < 1e-7 * np.max(np.abs(Hn))
    # the analytic form is the one observed_information uses at the solution
    assert np.allclose(ml.observed_information(ram, res.theta, mom, res.values),
                       0.25 * (H + H.T), rtol=1e-12, atol=0)


def test_away_from_the_solution_the_numerical_hessian_is_used():
    c = json.loads((REF / "cases" / "serial_mlr_cluster_a.json").read_text())
    data = pd.read_csv(REF / c["data"])
    res = ap.fit(c["model"], data, cluster="therapist")
    ram = ram_of(res.partable)
    mom = ml.Moments.from_array(data[list(res.partable.observed)].to_numpy(float))
    theta = res.theta.copy()
    theta[-1] += 0.1                                   # an intercept: means no longer fit
    A = ml.observed_information(ram, theta, mom, res.values)
    assert np.allclose(A, 0.5 * numerical(ram, theta, mom, res.values), rtol=1e-6, atol=1e-9)



def test_ram_curvature_equals_central_differences_of_the_jacobian():
    # Σ_m g_m d²m/dθdθ' of a model with loadings, a structural path, an
    # equality, a fixed non-zero path, a residual covariance, a covariate
    # and intercepts, against central differences of g·(dm/dθ)
    from attachpath.estimate.scoring import numerical_jacobian
    from attachpath.fitting import partable_of
    pt = partable_of("""
        f =~ x1 + a*x2 + a*x3
        g =~ x4 + x5 + 0.5*x6
        g ~ b*f + x7
        x1 ~~ x4
        x5 ~ 0.3*x1
    """, meanstructure=True)
    ram = ram_of(pt)
    rng = np.random.default_rng(1)
    theta = rng.uniform(0.3, 0.9, pt.npar)
    values = np.where(np.isnan(ram.fixed_values), 0.4, ram.fixed_values)
    p = ram.n_obs
    g = rng.standard_normal(ram.jacobian(theta, values).shape[0])
    num = numerical_jacobian(lambda t: np.einsum("a,...ak->...k", g, ram.jacobian(t, values)),
                             theta)
    li, lj = np.triu_indices(p)[1], np.triu_indices(p)[0]      # vech order
    G = np.zeros((p, p))
    G[li, lj] += 0.5 * g[p:]
    G[lj, li] += 0.5 * g[p:]
    got = ram.curvature(theta, values, G, g[:p])
    # central differences: good to ~1e-9 of the largest entry
    np.testing.assert_allclose(got, num, rtol=0, atol=1e-7 * np.max(np.abs(num)))
    assert np.max(np.abs(got[:, :3])) > 0.1                 # non-trivial
    # without a mean gradient the mean terms drop out
    assert np.max(np.abs(ram.curvature(theta, values, G) - got)) > 1e-3


def lavaan_baseline(pt):
    """lavaan's independence (baseline) model of pt's observed variables: free
    variances (and intercepts) of the non-covariates, the covariates' block
    fixed at the sample values -- the reference robust_test.baseline_trace
    is checked against."""
    from attachpath.partable import Param, ParTable
    x = set(pt.covariates)
    rows = []

    def add(**kw):
        rows.append(Param(id=len(rows) + 1, user=0, **kw))

    k = 0
    for v in pt.observed:
        if v not in x:
            k += 1
            add(lhs=v, op="~~", rhs=v, free=k)
    cov = list(pt.covariates)
    for i in range(len(cov)):
        for j in range(i, len(cov)):
            add(lhs=cov[i], op="~~", rhs=cov[j], exo=1)
    if pt.meanstructure:
        for v in pt.observed:
            k += v not in x
            add(lhs=v, op="~1", rhs="", **({"exo": 1} if v in x else {"free": k}))
    return ParTable(rows=tuple(rows), observed=pt.observed, latent=(),
                    covariates=pt.covariates, meanstructure=pt.meanstructure)


def duplication(p):
    """D with vec(M) = D vech(M) for symmetric M (vech column by column)."""
    from attachpath.estimate.ram import vech_indices
    li, lj = vech_indices(p)
    D = np.zeros((p * p, len(li)))
    for k, (i, j) in enumerate(zip(li, lj)):
        D[j * p + i, k] = 1.0
        D[i * p + j, k] = 1.0
    return D


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("meanstructure", [False, True])
def test_baseline_trace_closed_form_equals_the_general_formulas(case, meanstructure):
    """robust_test.baseline_trace (a diagonal information) against the RAM
    formulas applied to lavaan's baseline model at its ML
    solution: tr(expected information⁻¹ · meat of the casewise scores)."""
    from attachpath.estimate import robust_test, vcov
    from attachpath.estimate.engine import fixed_values

    c = json.loads((REF / "cases" / f"{case}.json").read_text())
    data = pd.read_csv(REF / c["data"])
    from attachpath.spec import partable_of
    pt = partable_of(c["model"], meanstructure=meanstructure)
    mom = ml.Moments.from_array(data[list(pt.observed)].to_numpy(float))
    bpt = lavaan_baseline(pt)
    bram = ram_of(bpt)
    pos = {v: i for i, v in enumerate(bpt.observed)}
    theta = np.zeros(bpt.npar)
    for r in bpt.rows:
        if r.free:
            i = pos[r.lhs]
            theta[r.free - 1] = mom.cov[i, i] if r.op == "~~" else mom.mean[i]
    values = fixed_values(bpt, bram, mom)
    A = ml.expected_information(bram, theta, values)
    clusters = Clusters.from_ids("cl", np.arange(mom.n) % 17)
    for cl in (None, clusters):
        B = vcov.meat(ml.casewise_scores(bram, theta, mom, values), mom.n, cl)
        general = float(np.trace(np.linalg.solve(A, B)))
        assert robust_test.baseline_trace(pt, mom, cl) == pytest.approx(general, rel=1e-10)


@pytest.mark.parametrize("p", [1, 2, 3, 6, 9])
def test_dup_kron_equals_the_kronecker_product_through_the_duplication_matrix(p):
    rng = np.random.default_rng(p)
    X = rng.normal(size=(p, p))
    X = X + X.T
    Y = rng.normal(size=(p, p))
    Y = Y @ Y.T
    D = duplication(p)
    assert np.allclose(ml.dup_kron(X, Y), D.T @ np.kron(X, Y) @ D, rtol=1e-13, atol=1e-13)
    batch = np.stack([X, Y])
    assert np.allclose(ml.dup_kron(batch, batch)[1], D.T @ np.kron(Y, Y) @ D,
                       rtol=1e-13, atol=1e-13)


def test_dup_kron_is_symmetric_in_its_arguments():
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(2, 5, 5))
    X, Y = X + X.T, Y + Y.T
    assert np.allclose(ml.dup_kron(X, Y), ml.dup_kron(Y, X), rtol=1e-14, atol=1e-14)
