"""The Python API meets the same mistakes with the same errors: every misuse
is an AttachpathError (exit code 2 from the command line) naming what is
wrong, never a TypeError from deep inside."""

from __future__ import annotations

import numpy as np
import pytest

import attachpath as ap
from attachpath.errors import AttachpathError, DataError, SpecError

SPEC = "tds_ge ~ esat_anx"


@pytest.mark.parametrize("spec,needle", [
    (b"tds_ge ~ esat_anx", "decode"),
    (None, "not NoneType"),
    (3, "not int"),
    (["tds_ge ~ esat_anx"], "not list"),
], ids=["bytes", "none", "int", "list"])
def test_non_text_spec(example_clients, spec, needle):
    with pytest.raises(SpecError, match=needle):
        ap.fit(spec, example_clients)
    with pytest.raises(SpecError, match=needle):
        ap.check(spec)


@pytest.mark.parametrize("data,needle", [
    (None, "not NoneType"),
    ([1, 2], "not list"),
    (np.zeros((10, 2)), "pd.DataFrame"),
    ({"tds_ge": [1.0, 2.0]}, "pd.DataFrame"),
], ids=["none", "list", "ndarray", "dict"])
def test_data_of_the_wrong_type(data, needle):
    with pytest.raises(DataError, match=needle):
        ap.fit(SPEC, data)


@pytest.mark.parametrize("options,needle", [
    (dict(se="sandwich"), "se must be one of"),
    (dict(level="95%"), "confidence level"),
    (dict(level=95), "0.95"),
    (dict(level=0), "between 0 and 1"),
    (dict(mc_draws=1.5), "Monte Carlo"),
    (dict(mc_draws=-10), "Monte Carlo"),
    (dict(seed="1"), "seed"),
    (dict(seed=-1), "seed"),
    (dict(se="bootstrap", bootstrap=1), "bootstrap"),
    (dict(cluster=3), "cluster column '3'"),
], ids=lambda x: str(x))
def test_bad_options(example_clients, options, needle):
    with pytest.raises(AttachpathError, match=needle) as info:
        ap.fit(SPEC, example_clients, **options)
    assert info.value.exit_code == 2


def test_spec_path_that_does_not_exist(example_clients):
    with pytest.raises(SpecError, match="does not exist"):
        ap.fit("models/serial", example_clients)


def test_empty_data(example_clients):
    with pytest.raises(DataError, match="no rows"):
        ap.fit(SPEC, example_clients.iloc[:0])


def test_input_frame_is_not_modified(example_clients):
    frame = example_clients.copy()
    frame.loc[3, "tds_ge"] = np.nan
    before = frame.copy()
    ap.fit(SPEC, frame, cluster="therapist")
    assert frame.equals(before)
