"""Doctests of src/attachpath (run by `pytest`, see pyproject's addopts): each
runs in a fresh temporary folder, so examples that write files leave nothing
behind, and with `ap` and the bundled example at hand as `clients` and `sessions`."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _doctest_setup(request, tmp_path, monkeypatch):
    from _pytest.doctest import DoctestItem
    if not isinstance(request.node, DoctestItem):
        yield
        return
    import warnings

    import attachpath
    from attachpath import datasets
    monkeypatch.chdir(tmp_path)
    ns = request.getfixturevalue("doctest_namespace")
    ns["ap"] = attachpath
    ns["clients"] = datasets.load_example_clients()
    ns["sessions"] = datasets.load_example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # examples show results, not warnings
        yield
