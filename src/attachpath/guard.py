"""The files a command reads, so that none of its outputs replaces one.

The CLI registers its inputs (spec, data, sessions) before running a command;
every output goes through files._commit, which refuses a target that is
one of them (the same file, also through a link or another spelling of the
path).  Light: no numpy or pandas, so `attachpath --help` stays quick.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

_inputs: dict[tuple[int, int], str] = {}


def _key(path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


@contextmanager
def protected(paths):
    """Register `paths` (those that exist) as inputs for the duration."""
    added = []
    for p in paths:
        key = _key(p)
        if key is not None and key not in _inputs:
            _inputs[key] = str(p)
            added.append(key)
    try:
        yield
    finally:
        for key in added:
            _inputs.pop(key, None)


def input_at(path: Path) -> str | None:
    """The input file that `path` would overwrite, or None."""
    key = _key(path)
    return None if key is None else _inputs.get(key)
