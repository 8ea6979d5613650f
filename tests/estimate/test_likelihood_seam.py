"""The likelihood objects (estimate/likelihood.py) keep one contract, whatever
the data situation: the gradient is the derivative of the discrepancy, the
unit scores add up to the gradient, the information matrices are those of
the same discrepancy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attachpath.estimate.clusters import Clusters
from attachpath.estimate.fiml import MissingData
from attachpath.estimate.likelihood import FIML, CompleteML, TwoLevelML
from attachpath.estimate.twolevel import TwoLevelData
from attachpath.spec import partable_of

REF = Path(__file__).resolve().parents[1] / "reference"


def complete():
    d = pd.read_csv(REF / "data" / "clients_missing.csv").dropna()
    pt = partable_of("cats_secure ~ ecr_anx\ntds_ge ~ cats_secure\niip_post ~ tds_ge",
                     meanstructure=True)
    return CompleteML.from_array(pt, d[list(pt.observed)].to_numpy(float))


def two_level():
    c = json.loads((REF / "twolevel" / "demo_twolevel_ml.json").read_text())
    d = pd.read_csv(REF / c["data"])
    pt = partable_of(c["model"])
    roles = pt.variable_levels
    data = TwoLevelData.from_array(d[list(pt.observed)].to_numpy(float), pt.observed,
                                   pt.blocks[0].observed,
                                   tuple(v for v in pt.blocks[1].observed
                                         if roles[v] == "between"),
                                   Clusters.from_ids("cluster", d["cluster"].to_numpy()))
    return TwoLevelML(pt, data)


def fiml():
    c = json.loads((REF / "twolevel" / "fiml_hs_cfa_ml.json").read_text())
    d = pd.read_csv(REF / c["data"])
    pt = partable_of(c["model"], meanstructure=True)
    X = d[list(pt.observed)].to_numpy(float)
    return FIML(pt, MissingData.from_array(X[~np.isnan(X).all(axis=1)]))


@pytest.fixture(scope="module", params=["complete", "two_level", "fiml"])
def lik_and_theta(request):
    lik = {"complete": complete, "two_level": two_level, "fiml": fiml}[request.param]()
    sol = lik.estimate()
    rng = np.random.default_rng(3)
    # a point near, not at, the solution (the gradient is not zero there)
    return lik, sol.theta + 0.01 * rng.standard_normal(len(sol.theta)), sol


def test_the_solution_is_verified(lik_and_theta):
    lik, _, sol = lik_and_theta
    assert sol.gradient_norm < 1e-9
    # the gradient vanishes: F cannot be lowered along any coordinate
    for k in range(len(sol.theta)):
        e = np.zeros(len(sol.theta))
        e[k] = 1e-4
        assert lik.discrepancy(sol.theta + e) >= sol.discrepancy - 1e-12


def test_gradient_is_the_derivative_of_the_discrepancy(lik_and_theta):
    lik, theta, _ = lik_and_theta
    h = 1e-6
    num = np.array([(lik.discrepancy(theta + e) - lik.discrepancy(theta - e)) / (2 * h)
                    for e in h * np.eye(len(theta))])
    # central differences: 1e-6 absolute on dF/dθ
    assert np.allclose(lik.gradient(theta), num, atol=1e-6)


def test_unit_scores_add_up_to_the_gradient(lik_and_theta):
    lik, theta, _ = lik_and_theta
    s = lik.scores(theta)
    # F = −2ℓ/N, scores are dℓ_u/dθ
    assert np.allclose(-2.0 / lik.n * s.sum(axis=0), lik.gradient(theta), atol=1e-10)


def test_observed_information_is_half_the_hessian(lik_and_theta):
    lik, _, sol = lik_and_theta
    A = lik.observed_information(sol.theta)
    assert np.allclose(A, A.T)
    assert np.all(np.linalg.eigvalsh(A) > 0)
    E = lik.expected_information(sol.theta)
    # at the solution of a well-fitting model the two are close (10% of the diagonal)
    assert np.allclose(np.diag(A), np.diag(E), rtol=0.1)
