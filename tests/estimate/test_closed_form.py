"""The closed-form fast path agrees with semopy's fit wherever it applies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import attachpath as ap
from attachpath.estimate import closedform
from attachpath.fitting import partable_of

# the single-level specs (two-level ones are fitted to session rows by their
# own two-level ML, tests/test_twolevel_specs.py)
SPECS = sorted(p for p in (Path(__file__).resolve().parents[2] / "specs").glob("*.lav")
               if not p.name.startswith("twolevel_"))


@pytest.fixture(scope="module")
def clients():
    return ap.datasets.load_example_clients()


def both(spec, data, **kw):
    fast = ap.fit(spec, data, **kw)
    slow = ap.fit(spec, data, engine_method="semopy", **kw)
    return fast, slow


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_spec_closed_form_equals_semopy(spec, clients):
    fast, slow = both(spec, clients, cluster="therapist", se="robust")
    assert slow.provenance["options"]["estimation"]["method"] == "semopy"
    assert np.max(np.abs(fast.theta - slow.theta)) < 1e-6     # both at the ML optimum
    assert np.allclose(fast.estimates["se"], slow.estimates["se"], rtol=1e-5)
    assert fast.fit["chisq"] == pytest.approx(slow.fit["chisq"], rel=1e-7, abs=1e-9)


def test_closed_form_used_for_recursive_path_models_only(clients):
    by_name = {p.stem: p for p in SPECS}
    assert closedform.plan(partable_of(by_name["serial_esat_anx"])) is not None
    serial = partable_of("m ~ x\ny ~ m + x")
    assert closedform.plan(serial) is not None
    sur = partable_of("y1 ~ x1\ny2 ~ x2")                    # auto residual cov, different predictors
    assert closedform.plan(sur) is None
    same = partable_of("y1 ~ x1 + x2\ny2 ~ x1 + x2")         # identical predictors: OLS is ML
    assert closedform.plan(same) is not None
    assert closedform.plan(partable_of("f =~ a + b + c")) is None
    assert closedform.plan(partable_of("y ~ k*x1 + k*x2")) is None
    assert closedform.plan(partable_of("y ~ 0.5*x1 + x2")) is None
    assert closedform.plan(partable_of("y1 ~ y2 + x1\ny2 ~ y1 + x2")) is None


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_x=st.integers(1, 3), n_y=st.integers(1, 4),
       density=st.floats(0.3, 1.0))
def test_random_recursive_models_match_semopy(seed, n_x, n_y, density):
    rng = np.random.default_rng(seed)
    xs = [f"x{i}" for i in range(n_x)]
    ys = [f"y{i}" for i in range(n_y)]
    lines = []
    for j, y in enumerate(ys):
        preds = [v for v in xs + ys[:j] if rng.random() < density] or [xs[0]]
        lines.append(f"{y} ~ " + " + ".join(preds))
    spec = "\n".join(lines)
    n = 200
    data = pd.DataFrame(rng.normal(size=(n, n_x)), columns=xs)
    for y, line in zip(ys, lines):
        preds = line.split("~")[1].split("+")
        data[y] = sum(rng.normal(0, 0.5) * data[p.strip()] for p in preds) + rng.normal(size=n)
    fast, slow = both(spec, data)
    assert fast.fit["df"] == slow.fit["df"]
    assert np.max(np.abs(fast.theta - slow.theta)) < 1e-6
    assert fast.fit["chisq"] == pytest.approx(slow.fit["chisq"], rel=1e-6, abs=1e-8)


def test_vectorised_bootstrap_equals_draw_by_draw_refits(clients, monkeypatch):
    spec = SPECS[[p.stem for p in SPECS].index("serial_esat_anx")]
    fast = ap.fit(spec, clients, cluster="therapist", se="bootstrap", bootstrap=40, seed=9)
    monkeypatch.setattr(closedform, "plan", lambda pt: None)
    slow = ap.fit(spec, clients, cluster="therapist", se="bootstrap", bootstrap=40, seed=9)
    assert np.allclose(fast.estimates["se"], slow.estimates["se"], rtol=1e-6)
    assert np.allclose(fast.estimates["ci.lower"], slow.estimates["ci.lower"], rtol=1e-6, atol=1e-9)


def test_draw_by_draw_refits_spread_over_processes_equal_serial(clients, monkeypatch):
    from attachpath.estimate import bootstrap as boot
    spec = SPECS[[p.stem for p in SPECS].index("serial_esat_anx")]
    monkeypatch.setattr(closedform, "plan", lambda pt: None)
    monkeypatch.setattr(boot, "_workers", lambda n: 2)
    two = ap.fit(spec, clients, cluster="therapist", se="bootstrap", bootstrap=60, seed=5)
    monkeypatch.setattr(boot, "_workers", lambda n: 1)
    one = ap.fit(spec, clients, cluster="therapist", se="bootstrap", bootstrap=60, seed=5)
    pd.testing.assert_frame_equal(two.estimates, one.estimates)
    assert two.draws["ok"] == 60
