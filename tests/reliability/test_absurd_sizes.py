"""Absurd sizes are refused at once with a message (issue 17.15): a header of
millions of columns ran past 5 GB, 100,000 `:=` lines asked for 75 GiB."""

from __future__ import annotations

import time

import pytest

import attachpath as ap
from attachpath.data import io as data_io
from attachpath.errors import DataError, SpecError
from attachpath.spec import MAX_DEFINED, partable_of

MODEL = "cats_secure ~ a*ecr_anx + ecr_avoid\ntds_ge ~ b*cats_secure + ecr_anx\n"


def _defined(n):
    return MODEL + "".join(f"d{i} := a*b*{i + 1}\n" for i in range(n))


def test_too_many_defined_parameters_are_refused_in_linear_time():
    text = _defined(50 * MAX_DEFINED)
    start = time.perf_counter()
    with pytest.raises(SpecError, match=f"more than {MAX_DEFINED} parameters with ':='") as err:
        partable_of(text)
    assert time.perf_counter() - start < 2          # no parse of 100,000 expressions
    assert err.value.line == 2 + MAX_DEFINED + 1
    assert len(partable_of(_defined(MAX_DEFINED)).defined()) == MAX_DEFINED


def test_a_file_with_too_many_columns_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(data_io, "MAX_COLUMNS", 50)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"v{i}" for i in range(51)) + "\n" + ",".join("1" * 51) + "\n")
    with pytest.raises(DataError, match="has 51 columns; attachpath reads at most 50"):
        data_io.read_data(wide)
    frame = ap.datasets.load_example_clients()
    frame.to_parquet(tmp_path / "ok.parquet")
    assert data_io.read_data(tmp_path / "ok.parquet").frame.shape[1] <= 50
    wide_frame = frame.assign(**{f"extra{i}": 0.0 for i in range(40)})
    wide_frame.to_parquet(tmp_path / "wide.parquet")
    with pytest.raises(DataError, match="columns; attachpath reads at most 50"):
        data_io.read_data(tmp_path / "wide.parquet")
