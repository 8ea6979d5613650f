"""Missing-value codes such as -99 or 999 (issue 17.3): warned about, naming
the column and the count, and declared missing with --na-values / na_values."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main
from attachpath.data.checks import missing_codes
from attachpath.data.io import read_data
from attachpath.errors import DataWarning

SPEC = "cats_secure ~ ecr_anx\ntds_ge ~ cats_secure\niip_post ~ tds_ge + iip_pre"


@pytest.fixture
def coded(tmp_path):
    data = ap.datasets.load_example_clients()
    data.loc[[3, 50, 90], "ecr_anx"] = -99
    data.loc[7, "iip_post"] = 999
    path = tmp_path / "coded.csv"
    data.to_csv(path, index=False)
    return path


def test_codes_far_outside_the_other_values_are_found():
    ages = np.array([18.0, 35, 80, 99, 999, 999])
    assert missing_codes(ages) == {999.0: 2}          # 99 is a possible age
    assert missing_codes(np.array([1.0, 4, 7, -99, -9, np.nan])) == {-99.0: 1}  # -9: near
    assert missing_codes(np.array([1.0, 4, 7, 9])) == {}


def test_fit_warns_naming_the_column_and_count(coded):
    res = ap.fit(SPEC, coded)
    text = " ".join(res.warnings)
    assert "'ecr_anx' holds 3 value(s)" in text and "-99 (3×)" in text
    assert "'iip_post' holds 1 value(s)" in text and "--na-values=" in text


def test_na_values_declares_them_missing(coded, tmp_path, capsys):
    ds = read_data(coded, na_values=["-99", "999"])
    assert ds.frame["ecr_anx"].isna().sum() == 3 and ds.frame["iip_post"].isna().sum() == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)        # the dropped rows
        clean = ap.fit(SPEC, ds)
        reference = ap.fit(SPEC, ds.frame.dropna(subset=["ecr_anx", "iip_post"]))
    assert clean.data_info["n"] == 326 and clean.data_info["dropped_rows"] == 4
    assert not any("missing-value codes" in w for w in clean.warnings)
    assert np.allclose(clean.estimates["est"], reference.estimates["est"])
    # the CLI: a warning without the option, a clean fit with it
    assert main(["fit", "--data", str(coded), _spec(tmp_path)]) == 0
    assert "look like missing-value codes" in capsys.readouterr().err
    assert main(["fit", _spec(tmp_path), "--data", str(coded), "--na-values=-99,999",
                 "--out", str(tmp_path / "res")]) == 0
    err = capsys.readouterr().err
    assert "missing-value codes" not in err and "Dropped 4 of 330 rows" in err
    fit = pd.read_csv(tmp_path / "res" / "estimates.csv")
    assert np.allclose(fit["est"], clean.estimates["est"])


def test_spss_file_without_declared_missing_values_is_warned(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    data = ap.datasets.load_example_clients()
    data.loc[[1, 2], "iip_pre"] = -999
    path = tmp_path / "coded.sav"
    pyreadstat.write_sav(data, str(path))
    res = ap.fit(SPEC, path)
    assert any("'iip_pre' holds 2 value(s)" in w and "-999 (2×)" in w for w in res.warnings)


def _spec(tmp_path):
    path = tmp_path / "m.lav"
    path.write_text(SPEC)
    return str(path)


def test_prepare_warns_and_takes_na_values(tmp_path, capsys):
    sessions = ap.datasets.load_example()
    sessions.loc[sessions["client"] == 12, "ecr_anx"] = -99
    path = tmp_path / "sessions.csv"
    sessions.to_csv(path, index=False)
    assert main(["prepare", str(path), "--out", str(tmp_path / "a.csv")]) == 0
    assert "'ecr_anx' holds" in capsys.readouterr().err
    assert main(["prepare", str(path), "--out", str(tmp_path / "b.csv"), "--na-values=-99"]) == 0
    assert "missing-value codes" not in capsys.readouterr().err
    clients = pd.read_csv(tmp_path / "b.csv").set_index("client")
    assert np.isnan(clients.loc[12, "ecr_anx"]) and clients["ecr_anx"].notna().sum() == 329
