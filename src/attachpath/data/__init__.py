"""The data layer: reading files, checking nesting, aggregating, model frames.

Example::

    >>> from attachpath.data import read_data, prepare, esat_scores, model_frame
    >>> from attachpath.datasets import example_path
    >>> ds = read_data(example_path())                   # the bundled sessions.csv
    >>> clients = esat_scores(prepare(ds.frame, session="session").clients)
    >>> X, info = model_frame(clients, ["ecr_anx", "esat_anx"], cluster="therapist")
    >>> X.shape, info["n_clusters"]
    ((330, 2), 44)
"""

from attachpath.data.checks import model_frame
from attachpath.data.io import Dataset, read_data, write_csv_atomic
from attachpath.data.prepare import Prepared, esat_scores, prepare

__all__ = ["Dataset", "Prepared", "esat_scores", "model_frame", "prepare", "read_data",
           "write_csv_atomic"]
