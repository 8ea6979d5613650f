"""fit.json of a three-level fit: ICC(1) at both levels and both cluster counts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.report.tables import icc_table

REF = Path(__file__).resolve().parent / "reference"
CASE = json.loads((REF / "twolevel" / "nomixed_twolevel_ml.json").read_text())


def anova_icc(values: pd.Series, groups: pd.Series) -> float:
    """ICC(1) = (MSB − MSW) / (MSB + (n0 − 1) MSW), written out with pandas."""
    g = values.groupby(groups)
    n, k = len(values), g.ngroups
    sizes = g.size()
    ssb = float((sizes * (g.mean() - values.mean()) ** 2).sum())
    ssw = float(((values - g.transform("mean")) ** 2).sum())
    msb, msw = ssb / (k - 1), ssw / (n - k)
    n0 = (n - float((sizes ** 2).sum()) / n) / (k - 1)
    return (msb - msw) / (msb + (n0 - 1) * msw)


def test_icc_at_both_levels_and_both_cluster_counts():
    data = pd.read_csv(REF / "data" / "study_sessions_centred.csv")
    res = ap.fit(CASE["model"], data, cluster="therapist/client", se="robust")
    d = res.data_info
    # sessions within clients, for the level-1 variables
    for v in ("tds_ge", "cats_secure_w"):
        assert d["icc"][v][0] == pytest.approx(anova_icc(data[v], data["client"]), abs=1e-10)
    assert set(d["icc"]) == {"tds_ge", "cats_secure_w"}
    # client means within therapists, for every variable
    means = data.groupby("client").agg({**{v: "mean" for v in res.partable.observed},
                                        "therapist": "first"})
    assert set(d["icc_therapist"]) == set(res.partable.observed)
    for v in res.partable.observed:
        assert d["icc_therapist"][v][0] == pytest.approx(
            anova_icc(means[v], means["therapist"]), abs=1e-10), v
    # cluster counts and sizes at both levels
    per_client = data.groupby("client").size()
    per_therapist = means.groupby("therapist").size()
    assert d["cluster"]["n"] == len(per_client) and d["cluster"]["max"] == per_client.max()
    assert d["therapist"]["n"] == len(per_therapist)
    assert d["therapist"]["min"] == per_therapist.min()
    sessions = data.groupby("therapist").size()
    assert d["therapist"]["sessions"]["max"] == sessions.max()
    assert d["therapist"]["sessions"]["mean"] == pytest.approx(sessions.mean())
    table = icc_table(res)
    assert len(table.rows) == len(res.partable.observed)
    assert "therapist" in table.title
    from attachpath.export import fit_json
    out = json.loads(json.dumps(fit_json(res)))
    assert out["data"]["icc_therapist"]["ecr_anx"][0] == pytest.approx(
        d["icc_therapist"]["ecr_anx"][0])
    assert out["data"]["therapist"]["n"] == d["therapist"]["n"]
    assert "by therapist" in res.summary()
