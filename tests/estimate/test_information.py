"""The analytic Hessian of F equals a numerical derivative of the analytic
gradient (the way lavaan computes observed information)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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
