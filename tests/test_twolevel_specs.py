"""The study's two-level specs (specs/twolevel_*.lav) on the bundled example
sessions, against lavaan 0.6-14 (tests/reference/make_reference_twolevel_specs.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.data import esat_scores
from attachpath.datasets import load_example
from attachpath.demo import spec_text

REF = Path(__file__).resolve().parent / "reference"
LAV = json.loads((REF / "twolevel" / "specs_twolevel_example.json").read_text())


@pytest.fixture(scope="module")
def sessions():
    s = esat_scores(load_example(), level="session")
    ref = pd.read_csv(REF / "data" / "example_sessions_esat.csv")
    # the file lavaan read is these session-level ESAT scores
    np.testing.assert_allclose(s["esat_anx"], ref["esat_anx"], rtol=1e-12, equal_nan=True)
    return s


@pytest.mark.parametrize("name", sorted(LAV))
def test_two_level_spec_matches_lavaan(sessions, name):
    lav = LAV[name]
    res = ap.fit(spec_text(name), sessions, cluster="client", se="standard")
    assert res.partable.multilevel and res.fit["nclusters"] == lav["nclusters"]
    # 1e-3 relative: lavaan's h1 EM stops at Δℓ < 1e-4 (multilevel.md §1.7)
    assert res.fit["chisq"] == pytest.approx(lav["fit"]["chisq"], rel=1e-3)
    assert res.fit["df"] == lav["fit"]["df"]
    est = res.estimates.set_index(["lhs", "op", "rhs", "block"])
    for r in lav["estimates"]:
        if r["op"] == "~" and r["se"] == 0:
            assert r["est"] == 0            # a path fixed at 0 (the *_only specs)
            continue
        mine = est.loc[(r["lhs"], r["op"], r["rhs"], r["block"])]
        # lavaan's estimates stop up to ~1e-5 short of the maximum (§1.3)
        assert mine["est"] == pytest.approx(r["est"], rel=1e-4, abs=1e-6), r
        # SEs from the observed information: 0.2% (central differences)
        assert mine["se"] == pytest.approx(r["se"], rel=2e-3, abs=1e-6), r


@pytest.mark.parametrize("name", sorted(LAV))
def test_two_level_spec_with_therapists(sessions, name):
    res = ap.fit(spec_text(name), sessions, cluster="therapist/client", se="robust")
    assert res.se_kind == "robust.cluster"
    assert res.data_info["therapist"]["n"] == sessions["therapist"].nunique()
    assert res.fit["chisq"] == pytest.approx(LAV[name]["fit"]["chisq"], rel=1e-3)


def test_every_alternative_has_a_two_level_form():
    """The alternatives of specs/ (item 3 of issue 13) exist in two-level form,
    and each level of every two-level spec opens with a comment saying what its
    paths mean (the clinical reading of the level)."""
    from attachpath import specs
    names = set(specs.names())
    for alt in ("serial_esat_anx", "serial_esat_anx_partial", "parallel_esat_anx",
                "reversed_esat_anx", "engagement_only_esat_anx", "autonomy_only_esat_anx",
                "serial_esat_avoid"):
        assert f"twolevel_{alt}" in names, alt
        assert f"twolevel_{alt}" in LAV, alt           # and lavaan has fitted it
    for name in sorted(n for n in names if n.startswith("twolevel_")):
        lines = spec_text(name).splitlines()
        starts = [i for i, line in enumerate(lines) if line.strip().startswith("level:")]
        assert len(starts) == 2, name
        for i in starts:
            comment = []
            for line in lines[i + 1:]:
                if not line.strip().startswith("#"):
                    break
                comment.append(line)
            assert len(comment) >= 3, (name, lines[i])
        # the within comment speaks of sessions, the between one of clients
        within = " ".join(lines[starts[0]:starts[1]]).lower()
        between = " ".join(lines[starts[1]:]).lower()
        assert "session" in within and "client" in between, name
