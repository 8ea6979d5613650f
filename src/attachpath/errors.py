"""Errors and warnings a user can meet, each naming its culprit.

Every error the user can cause derives from AttachpathError; the CLI turns
these into a message on stderr and an exit code (2 for bad input, 1 for a
failed estimation) without a traceback.
"""

from __future__ import annotations



class AttachpathError(Exception):
    """Base class of every error attachpath raises on purpose."""

    exit_code = 2


class SpecError(AttachpathError):
    """A model specification that cannot be read.

    Carries the file, 1-based line and column, the offending text and, where
    one exists, the closest valid name, and renders them with a caret under
    the culprit.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int = 0,
                 col: int = 0, text: str = "", source_line: str = "",
                 suggestion: str | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        self.text = text
        self.source_line = source_line
        self.suggestion = suggestion
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or "<spec>"
        if self.line:
            where += f":{self.line}:{self.col}"
        out = f"{where}: {self.message}"
        if self.suggestion:
            out += f" Did you mean '{self.suggestion}'?"
        if self.source_line:
            out += f"\n    {self.source_line}\n    {' ' * max(self.col - 1, 0)}^"
        return out


class DataError(AttachpathError):
    """Data that cannot be used as asked: names the column, row and value."""

    def __init__(self, message: str, *, column: str | None = None,
                 row: object = None, value: object = None):
        self.column = column
        self.row = row
        self.value = value
        super().__init__(message)


class ModelError(AttachpathError):
    """A model that parses but cannot be estimated as written (e.g. not identified)."""


class EstimationError(AttachpathError):
    """The optimizer did not reach a trustworthy solution."""

    exit_code = 1

    def __init__(self, message: str, *, iterations: int | None = None,
                 gradient_norm: float | None = None, theta=None):
        self.iterations = iterations
        self.gradient_norm = gradient_norm
        self.theta = theta          # the last iterate, for a diagnosis (or None)
        super().__init__(message)


class OutputError(AttachpathError):
    """An output location that would overwrite or lose something."""


class OptionError(AttachpathError):
    """An option value that cannot be used (a bad --level, an unknown SE kind,
    --cluster without --data, a diagram keyword that does not exist); with
    the closest valid value when there is one."""

    def __init__(self, message: str, *, suggestion: str | None = None):
        self.suggestion = suggestion
        super().__init__(message + (f" Did you mean '{suggestion}'?" if suggestion else ""))


class InternalError(AttachpathError):
    """A broken internal invariant: a bug in attachpath, not in the input."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(f"{message} This is a bug in attachpath; please report it "
                         f"with the command and data that produced it.")


class AttachpathWarning(UserWarning):
    """Base class of attachpath's warnings; each is also kept in the Result."""


class BootstrapWarning(AttachpathWarning):
    """More than a few percent of the bootstrap draws failed."""


class ClusterWarning(AttachpathWarning):
    """Few clusters, singleton clusters, or a rank-deficient cluster-robust vcov."""


class DataWarning(AttachpathWarning):
    """Rows dropped, constant or nearly collinear columns, and the like."""


class AdmissibilityWarning(AttachpathWarning):
    """Negative variances or correlations beyond +/-1 in the solution."""


class SpecWarning(AttachpathWarning):
    """A spec that parses but probably does not say what was meant."""


def closest(name: str, candidates, cutoff: float = 0.6) -> str | None:
    """The candidate most like `name` (for 'did you mean' hints), or None."""
    candidates = [str(c) for c in candidates]
    name = str(name)
    # the same name but for case or surrounding spaces beats any near-miss
    # ('TDS_GE' for 'tds_ge', not 'tds_ge_n')
    key = str(name).strip().lower()
    for c in candidates:
        if c.strip().lower() == key and c != name:
            return c
    import difflib          # on use: a user error, not every start-up
    hits = difflib.get_close_matches(name, candidates, n=1, cutoff=cutoff)
    return hits[0] if hits else None


def missing_file_hint(path) -> str:
    """' (looked in /abs/dir). Did you mean 'x.csv'?' for a path that does not
    exist: where it was looked for, and the closest file name there."""
    from pathlib import Path
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    out = ""
    if not p.is_absolute():
        try:
            out = f" (looked in {parent.resolve()})"
        except OSError:
            out = ""
    try:
        names = [q.name for q in parent.iterdir() if q.is_file()] if parent.is_dir() else []
    except OSError:
        names = []
    hint = closest(p.name, names, cutoff=0.75)
    if hint:
        out += f". Did you mean '{parent / hint if str(parent) != '.' else hint}'?"
    return out
