"""attachpath: structural equation models of nested psychotherapy data.

Write the model in lavaan syntax, fit it with semopy as the engine and get
numbers that agree with lavaan, with corrections for clients nested in
therapists.

    >>> import attachpath as ap
    >>> clients = ap.datasets.load_example_clients()
    >>> res = ap.fit(ap.specs.path("serial_esat_anx"), clients, cluster="therapist")
    >>> res.nobs, res.se_kind                   # cluster-robust SEs by default with a cluster
    (330, 'robust.cluster')
    >>> print(res.summary())                    # doctest: +ELLIPSIS
    attachpath ...: ML estimation, 7 observed variables
    ...
"""

__version__ = "0.1.0"

from .errors import (AttachpathError, DataError, EstimationError, ModelError,  # noqa: E402
                     SpecError)
from .partable import ParTable  # noqa: E402


def fit(spec, data, **options):
    """Fit a lavaan-syntax model; see attachpath.fitting.fit for the options."""
    from .fitting import fit as _fit
    return _fit(spec, data, **options)


def check(spec, data=None):
    """Validate a spec (and its variables against data) without fitting."""
    from .fitting import check as _check
    return _check(spec, data)


def compare(specs, data, **options):
    """Fit alternative specs to the same cases and compare them; see
    attachpath.comparison.compare."""
    from .comparison import compare as _compare
    return _compare(specs, data, **options)


def __getattr__(name):
    # heavy or optional parts load on first use, keeping `import attachpath` fast
    import importlib
    if name == "Result":
        from .result import Result
        return Result
    # attachpath.power is the subpackage, callable as the function
    # attachpath.power.power (a module attribute would be shadowed by the
    # subpackage as soon as it is imported, so the module itself is callable)
    if name in ("datasets", "simulate", "diagram", "report", "comparison", "fitting", "specs",
                "export", "power"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(name)


__all__ = ["fit", "check", "compare", "power", "Result", "ParTable", "AttachpathError", "SpecError",
           "DataError", "ModelError", "EstimationError", "__version__"]
