"""The data layer: reading files, checking nesting, aggregating, model frames.

Example::

    >>> from attachpath.data import read_data, prepare, esat_scores, model_frame
    >>> ds = read_data("sessions.csv")                                   # doctest: +SKIP
    >>> clients = esat_scores(prepare(ds.frame).clients)                 # doctest: +SKIP
    >>> X, info = model_frame(clients, ["ecr_anx", "esat_anx"], cluster="therapist")  # doctest: +SKIP
"""

from attachpath.data.checks import model_frame
from attachpath.data.io import Dataset, read_data, write_csv_atomic
from attachpath.data.prepare import Prepared, esat_scores, prepare

__all__ = ["Dataset", "Prepared", "esat_scores", "model_frame", "prepare", "read_data",
           "write_csv_atomic"]
