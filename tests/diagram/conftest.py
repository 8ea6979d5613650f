"""Shared models and fits for the diagram tests."""

from __future__ import annotations

import shutil
import warnings

import pandas as pd
import pytest

import attachpath as ap

from diagram_models import REF, SERIAL, PARALLEL, hs_model, pd_model  # noqa: E402,F401


@pytest.fixture(scope="session")
def clients():
    return ap.datasets.load_example_clients()


@pytest.fixture(scope="session")
def serial_res(clients):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.fit(SERIAL, clients, cluster="therapist", se="robust")


@pytest.fixture(scope="session")
def parallel_res(clients):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.fit(PARALLEL, clients, cluster="therapist", se="robust")


@pytest.fixture(scope="session")
def pd_res():
    data = pd.read_csv(REF / "data" / "political_democracy.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.fit(pd_model(), data)


@pytest.fixture(scope="session")
def hs_res():
    data = pd.read_csv(REF / "data" / "holzinger.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.fit(hs_model(), data)


@pytest.fixture
def no_dot(monkeypatch):
    """Simulate a machine without Graphviz: shutil.which('dot') is None."""
    import attachpath.diagram as dg
    real = shutil.which

    def which(name, *args, **kwargs):
        if name == "dot":
            return None
        return real(name, *args, **kwargs)

    monkeypatch.setattr(shutil, "which", which)
    monkeypatch.setattr(dg, "_warned_no_dot", False)
    return which


@pytest.fixture
def has_dot():
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    return shutil.which("dot")
