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

_DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".sav", ".xlsx", ".xls")


def _looks_like_path(text: str) -> bool:
    """A one-line string that names a file rather than holding model syntax:
    a .lav name, an existing file or directory, or something with a path
    separator or a file suffix and none of lavaan's operator characters."""
    t = text.strip()
    if not t or "\n" in t:
        return False
    if t.endswith(".lav"):
        return True
    try:
        if Path(t).exists():
            return True
    except (OSError, ValueError):
        return False
    if any(c in t for c in "~=<>:;+*"):
        return False
    return ("/" in t or "\\" in t
            or Path(t).suffix.lower() in (".txt", ".r", ".model") + _DATA_SUFFIXES)


def _refuse_special_file(path: Path) -> None:
    """A FIFO with no writer blocks on open and a device never ends: refuse
    what is not a regular file (or a directory, reported below)."""
    import stat
    try:
        mode = path.stat().st_mode
    except OSError:
        return                          # reading reports it
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "not a regular file")
        raise SpecError(f"'{path}' is {kind}, not a regular file; give the spec as a "
                        f".lav file saved on disk.", file=str(path))


def read_spec(spec) -> tuple[str, str | None]:
    """(text, file name) from spec text or a path to a spec file."""
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and _looks_like_path(spec)):
        path = Path(spec.strip() if isinstance(spec, str) else spec)
        _refuse_special_file(path)
        # read first, ask why after
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            from .errors import missing_file_hint
            hint = missing_file_hint(path)
            raise SpecError(f"The spec file '{path}' does not exist{hint}"
                            + ("" if hint.endswith("?") else "."), file=str(path)) from None
        except IsADirectoryError:
            raise SpecError(f"'{path}' is a directory; give the path of a spec file "
                            f"(.lav) in it.", file=str(path)) from None
        except OSError as exc:
            if path.is_dir():
                raise SpecError(f"'{path}' is a directory; give the path of a spec file "
                                f"(.lav) in it.", file=str(path)) from None
            raise SpecError(f"The spec file '{path}' cannot be read: {exc.strerror}.",
                            file=str(path)) from None
        if path.suffix.lower() in _DATA_SUFFIXES:
            raise SpecError(f"'{path}' looks like a data file, not a model spec; the "
                            f"spec comes first and the data after --data, as in: "
                            f"attachpath fit model.lav --data {path.name}", file=str(path))
        try:
            return raw.decode("utf-8-sig"), str(path)
        except UnicodeDecodeError as exc:
            if b"\x00" in raw[:4096]:
                raise SpecError(f"The spec file '{path}' is a binary file, not lavaan "
                                f"model syntax (text).", file=str(path)) from None
            line = raw[:exc.start].count(b"\n") + 1
            col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            shown = raw.splitlines()[line - 1].decode("utf-8", "replace")
            raise SpecError(f"The spec file '{path}' is not UTF-8 text: this line holds "
                            f"the byte 0x{raw[exc.start:exc.start + 1].hex()}; save the "
                            f"file as UTF-8 (or use only plain ASCII characters).",
                            file=str(path), line=line, col=col,
                            text=f"0x{raw[exc.start:exc.start + 1].hex()}",
                            source_line=shown) from None
    if not isinstance(spec, str):
        hint = (" Decode it first, e.g. spec.decode('utf-8')."
                if isinstance(spec, (bytes, bytearray)) else "")
        raise SpecError(f"A spec must be lavaan model syntax text or a path to a .lav "
                        f"file, not {type(spec).__name__}.{hint}")
    return spec, None


# More defined (:=) parameters than this are refused before parsing: their
# delta-method and standardized covariance matrices grow with the square of
# their number (100,000 of them asked for 75 GiB).
MAX_DEFINED = 2000


def _refuse_absurd_size(text: str, file: str | None) -> None:
    """A SpecError, in time linear in the text, for more than MAX_DEFINED
    `:=` lines (pointing at the first one beyond the limit)."""
    if text.count(":=") <= MAX_DEFINED:
        return
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        seen += line.split("#", 1)[0].count(":=")
        if seen > MAX_DEFINED:
            raise SpecError(f"The spec defines more than {MAX_DEFINED} parameters with "
                            f"':='; attachpath handles at most {MAX_DEFINED} (their "
                            f"covariance matrices grow with the square of their number). "
                            f"Keep the effects you report, or split them over several "
                            f"specs.", file=file, line=number, col=1, source_line=line)


def partable_of(spec, *, meanstructure: bool = False, std_lv: bool = False,
                orthogonal: bool = False, model_type: str = "sem") -> ParTable:
    """The checked table of spec text or a .lav file; std_lv, orthogonal and
    model_type ("sem" or "growth") are lavaan's options (see partable.build)."""
    if isinstance(spec, ParTable):
        return spec
    text, file = read_spec(spec)
    _refuse_absurd_size(text, file)
    return _partable(text, file, meanstructure, bool(std_lv), bool(orthogonal), model_type)


@lru_cache(maxsize=256)
def _partable(text: str, file: str | None, meanstructure: bool, std_lv: bool = False,
              orthogonal: bool = False, model_type: str = "sem") -> ParTable:
    # ParTables are immutable, so refits of the same spec (bootstrap
    # replicates, simulation studies, compare) parse it once
    pt = build(parse(text, file=file), meanstructure=meanstructure, text=text, file=file,
               std_lv=std_lv, orthogonal=orthogonal, model_type=model_type)
    check_identification(pt)
    return pt


def check_columns(pt: ParTable, columns) -> None:
    """Every observed variable is a data column; else a SpecError at the
    first statement that names the missing variable."""
    if all(v in columns for v in pt.observed):    # a hash lookup per variable
        return
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
        # a name the model uses for another variable is suggested only when it
        # is a plain typo of it ('tds_gee' -> 'tds_ge'), not a sibling
        # ('iip_pre' missing from the data is not 'iip_post')
        used = [c for c in cols if c in set(pt.observed) - {v}]
        hint = closest(v, used, cutoff=0.85) or closest(v, [c for c in cols if c not in used])
        msg = f"The variable '{v}' is not a column of the data."
        if hint is None:
            shown = ", ".join(cols[:15]) + (f" and {len(cols) - 15} more" if len(cols) > 15 else "")
            msg += (f" The data have: {shown}. If '{v}' is meant to be a latent "
                    f"variable, define it with '{v} =~ indicator1 + indicator2 + ...'.")
        raise SpecError(msg, file=pt.file, line=row.line if row else 0, col=col,
                        text=v, source_line=source, suggestion=hint)
