"""The bundled example: one simulated data set in the shape of the CROP study.

330 clients of 44 therapists, 2-10 sessions each, simulated by
`attachpath.simulate.simulate(seed=2024)` and rounded to 4 decimals
(regenerate with ``python -m attachpath.simulate --regenerate-example``).
It is simulated, not real data; `example_truth()` gives the population
values that generated it.

Example::

    >>> from attachpath.datasets import load_example, load_example_clients
    >>> load_example().shape[1], len(load_example_clients())
    (14, 330)
"""

from __future__ import annotations

import atexit
import contextlib
import json
from importlib import resources
from pathlib import Path

import pandas as pd

SESSIONS_FILE = "example_sessions.csv"
TRUTH_FILE = "example_truth.json"

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def _resource(name: str):
    return resources.files(__name__).joinpath(name)


def load_example() -> pd.DataFrame:
    """The example sessions: long format, one row per session (columns as in
    attachpath.simulate.COLUMNS).

    Example::

        >>> df = load_example()
        >>> bool(df.groupby("client").size().between(2, 10).all())
        True
    """
    with _resource(SESSIONS_FILE).open("rb") as fh:
        return pd.read_csv(fh)


def load_example_clients() -> pd.DataFrame:
    """The example aggregated to one row per client, with esat_anx and esat_avoid.

    Built with `prepare(load_example(), session="session")` and
    `esat_scores(..., level="client")` (ESAT residuals across client means).

    Example::

        >>> clients = load_example_clients()
        >>> {"esat_anx", "esat_avoid", "cats_secure_n"} <= set(clients.columns)
        True
    """
    from attachpath.data.prepare import esat_scores, prepare

    return esat_scores(prepare(load_example(), session="session").clients, level="client")


def example_path() -> Path:
    """A file-system path of example_sessions.csv (e.g. to try the CLI on).

    Example::

        >>> example_path().name
        'example_sessions.csv'
    """
    res = _resource(SESSIONS_FILE)
    if isinstance(res, Path):
        return res
    return Path(_extracted.enter_context(resources.as_file(res)))


def example_truth() -> dict:
    """The population values behind the example (see attachpath.simulate).

    Example::

        >>> truth = example_truth()
        >>> round(truth["indirect_abc"], 5) == round(truth["a"] * truth["b"] * truth["c"], 5)
        True
    """
    with _resource(TRUTH_FILE).open("r", encoding="utf-8") as fh:
        return json.load(fh)
