"""One BLAS thread for fits.

The matrices of a fit are small (p ≤ ~40): with OpenBLAS' default threads on
a 2-core machine some fits took 40x longer, so every fit runs with one BLAS
thread.  Inside a Python session that is a threadpoolctl limit around the fit
(its first use scans the loaded libraries: about 0.1 s).  The `attachpath`
command does better: it asks for one thread through the environment before
numpy is imported, so BLAS never starts its thread pool (whose start-up and
spinning cost ~0.1 s CPU per command) and fits need no limit.  Child
processes (bootstrap pools, dask workers) inherit the environment.
"""

from __future__ import annotations

import contextlib
import os
import sys

# the variables OpenBLAS, MKL and OpenMP builds of numpy read at load time
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")

_started_single = False
_controller = None


def start_single_threaded() -> bool:
    """Before numpy is imported: one BLAS thread for this process and its
    children, unless the user chose a number (their choice is kept).  True
    when BLAS is now known to start single-threaded."""
    global _started_single
    if "numpy" in sys.modules:          # too late: BLAS has started
        return _started_single
    if any(os.environ.get(v, "1") != "1" for v in THREAD_VARIABLES):
        return False
    for v in THREAD_VARIABLES:
        os.environ[v] = "1"
    _started_single = True
    return True


def single_thread_blas():
    """A context in which BLAS uses one thread (a no-op when it started so)."""
    global _controller
    if _started_single:
        return contextlib.nullcontext()
    if _controller is None:
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
