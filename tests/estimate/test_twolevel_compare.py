"""Comparing two-level models (against lavaan's lavTestLRT) and the
two-level mistakes a user can make."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.comparison import compare
from attachpath.errors import AttachpathError, DataError, SpecError

REF = Path(__file__).resolve().parents[1] / "reference"
C = json.loads((REF / "twolevel" / "compare_twolevel.json").read_text())
DATA = pd.read_csv(REF / C["data"])


@pytest.mark.parametrize("se, key", [("standard", "ML"), ("robust", "MLR")])
def test_nested_two_level_models_are_tested_as_lavaan_does(se, key):
    ref = C[key]
    cmp = compare(dict(C["models"]), DATA, cluster="client", se=se)
    assert len(cmp.tests) == 1
    t = cmp.tests.iloc[0]
    assert (t["model_a"], t["model_b"], t["df_diff"]) == ("restricted", "full", 1)
    # 1e-3 relative (lavaan's saturated models stop early; the difference of
    # two chisq cancels most of it)
    assert t["chisq_diff"] == pytest.approx(ref["chisq_diff"], rel=1e-3)
    assert t["pvalue"] == pytest.approx(ref["pvalue"], abs=1e-4)
    aic = cmp.table.set_index("model")["aic"]
    # AIC within 0.01
    assert aic["full"] == pytest.approx(ref["aic"][0], abs=0.01)
    assert aic["restricted"] == pytest.approx(ref["aic"][1], abs=0.01)


def test_models_with_different_paths_are_not_nested():
    other = C["models"]["full"].replace("iip_post ~ c*tds_ge + cats_secure_b",
                                         "iip_post ~ c*tds_ge + ecr_anx")
    restricted = C["models"]["restricted"]
    cmp = compare({"restricted": restricted, "other": other}, DATA, cluster="client")
    assert cmp.tests.empty
    assert list(cmp.information["relation"]) == ["non-nested"]


def test_a_two_level_and_a_single_level_model_are_not_compared():
    with pytest.raises(AttachpathError, match="different data"):
        compare({"two": C["models"]["full"], "one": "tds_ge ~ cats_secure_b"}, DATA,
                cluster="client")


def test_one_row_per_cluster_is_refused():
    clients = DATA.groupby("client", as_index=False).first()
    with pytest.raises(DataError, match="single row"):
        ap.fit(C["models"]["full"], clients, cluster="client")


def test_a_between_variable_that_varies_within_a_client_is_named():
    bad = DATA.copy()
    first = bad.index[bad["client"] == bad["client"].iloc[0]]
    bad.loc[first[1], "ecr_anx"] += 1.0
    with pytest.raises(DataError) as err:
        ap.fit(C["models"]["full"], bad, cluster="client")
    msg = str(err.value)
    assert "ecr_anx" in msg and f"client {bad['client'].iloc[0]}" in msg
    assert f"{DATA['ecr_anx'].iloc[0]:g}" in msg


def test_a_level_one_variable_without_within_variance_is_refused():
    spec = "level: 1\n tds_ge ~ ecr_anx\nlevel: 2\n tds_ge ~~ tds_ge\n ecr_anx ~~ ecr_anx"
    with pytest.raises(DataError, match="'ecr_anx' is a level-1 variable but has no variance"):
        ap.fit(spec, DATA, cluster="client")


def test_a_two_level_spec_needs_a_cluster():
    with pytest.raises(DataError, match="--cluster client"):
        ap.fit(C["models"]["full"], DATA)


def test_clusters_of_one_row_inform_the_between_part_only():
    # drop all but one session of 30 clients: they stay in the fit
    keep = DATA.groupby("client").cumcount() == 0
    ids = DATA["client"].unique()[:30]
    data = DATA[~DATA["client"].isin(ids) | keep]
    res = ap.fit(C["models"]["full"], data, cluster="client")
    assert res.fit["nclusters"] == DATA["client"].nunique()
    assert res.data_info["cluster"]["min"] == 1


def test_a_single_level_spec_on_session_rows_gets_a_warning():
    res = ap.fit("tds_ge ~ cats_secure_b", DATA)
    assert any("repeat ids in column 'client'" in w and "level:" in w for w in res.warnings)
    clients = DATA.groupby("client", as_index=False).first()
    res = ap.fit("tds_ge ~ cats_secure_b", clients)
    assert not any("repeat ids" in w for w in res.warnings)


def test_each_client_must_have_one_therapist():
    bad = DATA.copy()
    i = bad.index[bad["client"] == bad["client"].iloc[0]][1]
    bad.loc[i, "therapist"] = bad["therapist"].max() + 1
    with pytest.raises(DataError, match="belongs to two therapists"):
        ap.fit(C["models"]["full"], bad, cluster="therapist/client")


def test_two_cluster_columns_need_a_two_level_spec():
    with pytest.raises(DataError, match="no 'level:' blocks"):
        ap.fit("tds_ge ~ cats_secure_b", DATA, cluster="therapist/client")


def test_cli_two_level_fit_writes_block_columns(tmp_path):
    spec = tmp_path / "m.lav"
    spec.write_text(C["models"]["full"])
    data = tmp_path / "sessions.csv"
    DATA.to_csv(data, index=False)
    out = tmp_path / "res"
    run = subprocess.run([sys.executable, "-m", "attachpath.cli", "fit", str(spec), "--data",
                          str(data), "--cluster", "client", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    est = pd.read_csv(out / "estimates.csv")
    assert list(est.columns[:6]) == ["lhs", "op", "rhs", "block", "level", "label"]
    assert set(est["block"]) == {1, 2}
    fit = json.loads((out / "fit.json").read_text())
    assert fit["srmr_within"] >= 0 and fit["nclusters"] == 330
    assert fit["levels"]["srmr_between"] == "level 2"
    assert "Level 1 [within]:" in run.stdout and "Level 2 [client]:" in run.stdout
    svg = (out / "diagram.svg").read_text()
    assert "Level 1 (within clients)" in svg and "Level 2 (between clients)" in svg


def test_cli_two_level_spec_on_client_rows_exits_2(tmp_path):
    spec = tmp_path / "m.lav"
    spec.write_text(C["models"]["full"])
    data = tmp_path / "clients.csv"
    DATA.groupby("client", as_index=False).first().to_csv(data, index=False)
    run = subprocess.run([sys.executable, "-m", "attachpath.cli", "fit", str(spec), "--data",
                          str(data), "--cluster", "client"], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 2
    assert "single row" in run.stderr and "Traceback" not in run.stderr


def test_level_syntax_error_points_at_the_line():
    with pytest.raises(SpecError) as err:
        ap.fit("level: 1\n y ~ x\nlevel: 1\n y ~~ y", DATA, cluster="client")
    assert err.value.line == 3
