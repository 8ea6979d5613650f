"""Progress bars for the long loops (bootstrap draws, the models of a
comparison), drawn by tqdm.auto: a text bar with an ETA in a terminal, a
widget in Jupyter.

`progress` options everywhere mean: True (always), False (never; the CLI's
--quiet) or None (the default: when someone is watching, i.e. stderr is a
terminal or the code runs in a Jupyter kernel; never in a pipe or a log).
"""

from __future__ import annotations

import sys


def watching() -> bool:
    """Whether a person probably sees stderr: a terminal, or a Jupyter kernel."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def enabled(progress: bool | None) -> bool:
    """The one rule for the `progress` option (see the module docstring)."""
    return watching() if progress is None else bool(progress)


def _tqdm():
    """tqdm.auto's bar (a widget in Jupyter), or the text bar in a Jupyter
    without ipywidgets, where tqdm.auto would warn 'IProgress not found' and
    fall back to the text bar anyway."""
    import importlib.util
    if "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
        return tqdm
    from tqdm.auto import tqdm
    return tqdm


class Bar:
    """A bar over `total` steps; `bar(i)` says that i steps are done.
    Does nothing when the progress option is off."""

    def __init__(self, total: int, desc: str, progress: bool | None, unit: str = "draw"):
        self.done = 0
        self.bar = None
        if total > 0 and enabled(progress):
            tqdm = _tqdm()
            self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr,
                            dynamic_ncols=True)

    def __call__(self, i: int) -> None:
        if self.bar is None:
            return
        self.bar.update(i - self.done)
        self.done = i
        if i >= self.bar.total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
