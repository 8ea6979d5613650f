"""Latent models are fitted by Fisher scoring from moment-based starts
(estimate/starts.py), with semopy as the fallback: both routes must land on
the same ML solution, and a model the starts cannot finish still fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.estimate import engine, starts


def factor_data(k=3, n=400, seed=3):
    rng = np.random.default_rng(seed)
    F = rng.standard_normal((n, k)) @ np.linalg.cholesky(0.4 + 0.6 * np.eye(k)).T
    cols = {}
    for i in range(k):
        for j, lam in enumerate((1.0, 0.8, 0.6)):
            cols[f"x{i}{j}"] = lam * F[:, i] + 0.7 * rng.standard_normal(n)
    return pd.DataFrame(cols)


CFA = "\n".join(f"f{i} =~ x{i}0 + x{i}1 + x{i}2" for i in range(3))
SEM = CFA + "\nf1 ~ f0\nf2 ~ f1 + f0"
STDLV = "f0 =~ NA*x00 + x01 + x02\nf0 ~~ 1*f0\nf1 =~ x10 + x11 + x12\nf1 ~ f0"


@pytest.mark.parametrize("spec", [CFA, SEM, STDLV], ids=["cfa", "sem", "std-lv"])
def test_scoring_from_starts_equals_semopy(spec):
    d = factor_data()
    own = ap.fit(spec, d)
    ref = ap.fit(spec, d, engine_method="semopy")
    assert own.provenance["options"]["estimation"]["method"] == "scoring"
    assert ref.provenance["options"]["estimation"]["method"] == "semopy"
    assert np.max(np.abs(own.theta - ref.theta)) < 1e-6        # the same ML optimum
    assert np.allclose(own.estimates["se"], ref.estimates["se"], rtol=1e-5)
    assert own.fit["chisq"] == pytest.approx(ref.fit["chisq"], rel=1e-7)


def test_instrumental_starts_are_close_to_the_solution():
    # with three indicators per factor the one-instrument loadings are
    # consistent: at N = 400 they lie within sampling error of the ML ones
    d = factor_data(n=4000, seed=11)
    res = ap.fit(CFA, d)
    pt = res.partable
    X = d[list(pt.observed)].to_numpy()
    S = np.cov(X, rowvar=False, bias=True)
    theta0 = starts.instrumental(pt, S, starts.simple(pt, S))
    loads = [r.free - 1 for r in pt.rows if r.op == "=~" and r.free]
    assert np.max(np.abs(theta0[loads] - res.theta[loads])) < 0.1
    # the simple rule alone is further off (loadings all 1)
    assert np.max(np.abs(starts.simple(pt, S)[loads] - res.theta[loads])) > 0.15


def test_semopy_takes_over_when_scoring_does_not_converge(monkeypatch):
    monkeypatch.setattr(engine, "_own_start_fit", lambda *a: None)
    res = ap.fit(SEM, factor_data())
    assert res.provenance["options"]["estimation"]["method"] == "semopy"
    assert res.provenance["options"]["estimation"]["gradient_norm"] < engine.GRAD_TOL
