"""From spec text or a .lav file to a checked parameter table.

Light on purpose (no numpy/pandas/semopy): `attachpath check` and every
parse-only path import just this, the parser and the table builder.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from .errors import SpecError, closest
from .partable import ParTable, build, check_identification
from .syntax import parse

def read_spec(spec) -> tuple[str, str | None]:
    """(text, file name) from spec text or a path to a .lav file."""
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and "\n" not in spec
                                          and spec.strip().endswith(".lav")):
        path = Path(spec)
        if not path.exists():
            raise SpecError(f"The spec file '{path}' does not exist.", file=str(path))
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except UnicodeDecodeError:
            raise SpecError(f"The spec file '{path}' is not UTF-8 text.", file=str(path)) from None
        except OSError as exc:
            raise SpecError(f"The spec file '{path}' cannot be read: {exc.strerror}.",
                            file=str(path)) from None
    if not isinstance(spec, str):
        raise SpecError(f"A spec must be lavaan model syntax text or a path to a .lav "
                        f"file, not {type(spec).__name__}.")
    return spec, None


def partable_of(spec, *, meanstructure: bool = False) -> ParTable:
    if isinstance(spec, ParTable):
        return spec
    text, file = read_spec(spec)
    return _partable(text, file, meanstructure)


@lru_cache(maxsize=256)
def _partable(text: str, file: str | None, meanstructure: bool) -> ParTable:
    # ParTables are immutable, so refits of the same spec (bootstrap
    # replicates, simulation studies, compare) parse it once
    pt = build(parse(text, file=file), meanstructure=meanstructure, text=text, file=file)
    check_identification(pt)
    return pt


def check_columns(pt: ParTable, columns) -> None:
    """Every observed variable is a data column; else a SpecError at the
    first statement that names the missing variable."""
    cols = [str(c) for c in columns]
    for v in pt.observed:
        if v in cols:
            continue
        row = next((r for r in pt.rows if r.user and v in (r.lhs, r.rhs)), None)
        source = ""
        if row is not None and pt.text:
            lines = pt.text.splitlines()
            if 0 < row.line <= len(lines):
                source = lines[row.line - 1]
        col = row.col if row else 0
        if row is not None and source:
            where = source.find(v)
            col = where + 1 if where >= 0 else col
        raise SpecError(f"The variable '{v}' is not a column of the data.",
                        file=pt.file, line=row.line if row else 0, col=col,
                        source_line=source, suggestion=closest(v, cols))
