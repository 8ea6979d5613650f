"""The parts of a Result that fit() leaves for the first read (derived.py,
result.Deferred; issue 19): read as values that do not depend on when they
are read, kept after the first read, pickled whole, still frozen."""

from __future__ import annotations

import dataclasses
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath import specs
from attachpath.result import Deferred, Result

DEFERRED = ("estimates", "fit", "vcov", "r2", "row_std", "data_info", "provenance",
            "warnings")


def _fit(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.fit(specs.path("serial_esat_anx"), frame, cluster="therapist")


def _read(res) -> dict:
    return {name: getattr(res, name) for name in DEFERRED}


def test_fit_defers_the_derived_parts_and_keeps_them_once_read():
    res = _fit(ap.datasets.load_example_clients())
    assert all(type(res.__dict__[name]) is Deferred for name in DEFERRED)
    fit = res.fit
    assert res.fit is fit and type(res.__dict__["fit"]) is dict
    assert res.estimates is res.estimates
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.fit = {}


def test_deferred_parts_do_not_depend_on_when_they_are_read():
    """Read at once, or after the data frame was overwritten in place: the
    same numbers (the deferred parts hold the fit's own copy of the data)."""
    now = _read(_fit(ap.datasets.load_example_clients()))
    frame = ap.datasets.load_example_clients()
    res = _fit(frame)
    frame.loc[:, frame.select_dtypes("number").columns] = 0.0
    later = _read(res)
    pd.testing.assert_frame_equal(now["estimates"], later["estimates"])
    pd.testing.assert_frame_equal(now["vcov"], later["vcov"])
    assert now["fit"] == later["fit"] and now["r2"] == later["r2"]
    assert now["data_info"] == later["data_info"] and now["warnings"] == later["warnings"]
    assert now["provenance"]["data_sha256"] == later["provenance"]["data_sha256"]
    np.testing.assert_array_equal(now["row_std"], later["row_std"])


def test_a_pickled_result_carries_every_deferred_part():
    res = _fit(ap.datasets.load_example_clients())
    back = pickle.loads(pickle.dumps(res))
    assert not any(type(v) is Deferred for v in back.__dict__.values())
    pd.testing.assert_frame_equal(back.estimates, res.estimates)
    assert back.fit == res.fit and back.warnings == res.warnings


def test_a_result_made_by_hand_takes_values_or_deferred_values():
    res = _fit(ap.datasets.load_example_clients())
    calls = []

    def r2():
        calls.append(1)
        return {"y": 0.5}
    given = {f.name: getattr(res, f.name) for f in dataclasses.fields(Result)}
    made = Result(**{**given, "r2": Deferred(r2)})
    assert calls == [] and made.r2 == {"y": 0.5} and made.r2 == {"y": 0.5}
    assert calls == [1]
    assert dataclasses.replace(made, warnings=("x",)).r2 == {"y": 0.5}
    assert Result(**{k: v for k, v in given.items() if k != "warnings"}).warnings == ()
