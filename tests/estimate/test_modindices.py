"""Modification indices against lavaan 0.6-14's modificationIndices() (issue 16).

Fixtures: tests/reference/language/*.json (make_reference_language.R); the
`modindices` entry is modificationIndices(fit) with its defaults.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main
from attachpath.modindices import CAUTION, COLUMNS

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = ["pd_sem", "hs_cfa", "serial_misspec", "hs_mimic", "hs_orthogonal", "pd_labels",
         "hs_std_lv", "pd_na_from", "serial_esat_cluster", "hs_na_second_order"]


def load(case):
    c = json.loads((REF / "language" / f"{case}.json").read_text())
    return c, pd.read_csv(REF / c["data"])


def key(d):
    return list(d["lhs"] + d["op"] + d["rhs"].fillna("").astype(str))


@pytest.mark.parametrize("case", CASES)
def test_modification_indices_match_lavaan(case):
    c, data = load(case)
    cluster = c["call"].get("cluster")          # serial_esat_cluster: MLR, mean structure
    res = ap.fit(c["model"], data, std_lv=bool(c["call"].get("std.lv")),
                 orthogonal=bool(c["call"].get("orthogonal")), cluster=cluster,
                 se="robust" if cluster else "standard")
    mi = res.modindices()
    assert list(mi.columns) == COLUMNS
    assert (np.diff(mi["mi"].to_numpy()) <= 0).all()            # largest first
    ref = pd.DataFrame(c["modindices"])
    # lavaan also lists the fixed.x covariates' own moments and regressions
    # among covariates, always with mi 0; attachpath leaves them out
    x = set(res.partable.covariates)
    both_x = ref["lhs"].isin(x) & (ref["rhs"].isin(x) | (ref["op"] == "~1"))
    assert np.all(np.abs(ref.loc[both_x, "mi"]) < 1e-8)
    ref = ref[~both_x]
    assert sorted(key(mi)) == sorted(key(ref))
    m = mi.assign(k=key(mi)).merge(ref.assign(k=key(ref)), on="k", suffixes=("", "_lav"))
    # mi within 0.1% relative (1e-3 absolute below 1)
    assert np.all(np.abs(m["mi"] - m["mi_lav"]) <= 1e-3 * np.maximum(m["mi_lav"], 1.0))
    # epc and standardized epc: 0.1% relative, 1e-4 absolute below 0.1
    for col in ("epc", "sepc.lv", "sepc.all", "sepc.nox"):
        a, b = m[col].astype(float), m[col + "_lav"].astype(float)
        assert (a.isna() == b.isna()).all(), col
        ok = np.abs(a - b) <= 1e-3 * np.maximum(np.abs(b), 0.1)
        assert ok[b.notna()].all(), (col, m.loc[~ok & b.notna(), ["k", col, col + "_lav"]])


def test_freeing_the_largest_index_lowers_chisq_by_about_mi():
    """The score test's meaning, checked by refitting: freeing visual =~ x9
    in the Holzinger CFA lowers chi-square by about its MI."""
    c, data = load("hs_cfa")
    res = ap.fit(c["model"], data)
    top = res.modindices().iloc[0]
    assert (top["lhs"], top["op"], top["rhs"]) == ("visual", "=~", "x9")
    freed = ap.fit(c["model"] + "\nvisual =~ x9", data)
    drop = res.fit["chisq"] - freed.fit["chisq"]
    assert drop == pytest.approx(top["mi"], rel=0.25)          # a score test: approximate
    est = freed.estimates.query("lhs == 'visual' and op == '=~' and rhs == 'x9'")["est"].item()
    assert est == pytest.approx(top["epc"], rel=0.25)


def test_fit_command_writes_modindices_with_the_caution(tmp_path, capsys):
    c, data = load("pd_sem")
    spec = tmp_path / "pd.lav"
    spec.write_text(c["model"])
    csv = tmp_path / "pd.csv"
    data.to_csv(csv, index=False)
    assert main(["fit", str(spec), "--data", str(csv), "--modindices",
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Modification indices" in out and CAUTION in out
    mi = pd.read_csv(tmp_path / "out" / "modindices.csv", keep_default_na=False)
    assert list(mi.columns) == COLUMNS
    ref = pd.DataFrame(c["modindices"]).sort_values("mi", ascending=False)
    assert key(mi.head(3)) == key(ref.head(3))
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "Modification indices" in report and "post hoc" in report
    # without the flag: no modindices.csv and no table
    assert main(["fit", str(spec), "--data", str(csv), "--out", str(tmp_path / "plain")]) == 0
    assert not (tmp_path / "plain" / "modindices.csv").exists()
    assert "Modification indices" not in (tmp_path / "plain" / "report.md").read_text()
