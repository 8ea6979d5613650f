"""Writing files to disk, atomically and without losing anything: the
ground floor that every writer (diagram, report, data commands, export)
stands on.  It imports nothing of attachpath but its errors.

Every file is written to a temporary file in the target directory and then
renamed over the old one, so an interrupted or failed run leaves the
previous outputs intact.  An --out that is an existing file is refused.
What a fit or a comparison writes is decided one floor up, in export.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import OutputError

# Every numeric CSV attachpath writes uses this format: 15 significant digits
# are exact to 1e-15 relative, drop binary noise such as 3.1521999999999997,
# and make reruns on one machine byte-identical.  Other machines may differ
# in the last digit: compare such files with a tolerance, never by hash.
FLOAT_FORMAT = "%.15g"


def check_out_dir(path) -> Path:
    """The --out directory, checked before any work is done: not an existing
    file, and creatable and writable (its nearest existing ancestor is a
    writable directory).  Nothing is created here."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out '{out}' is an existing file; give a directory "
                          f"(it is created if missing).")
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"Cannot create the output directory '{out}': '{probe}' is a "
                          f"file, not a directory.")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"Cannot write into '{probe}': permission denied; choose "
                          f"another --out.")
    return out


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the output directory '{path}': "
                          f"{exc.strerror or exc}.") from None


def _temp_for(path: Path, data, binary: bool) -> str:
    """Write `data` to a new temporary file beside `path`; return its name."""
    if path.is_dir():
        raise OutputError(f"Cannot write '{path}': it is a directory.")
    tmp = str(path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp")
    try:
        # mode 0o666 lets the umask decide the permissions, as for any new file
        # (mkstemp would leave every output readable by its owner only)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise OutputError(f"Cannot write into '{path.parent}': {exc.strerror or exc}.") from None
    try:
        if binary:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"Cannot write '{path}': {exc.strerror or exc}.") from None
        raise
    return tmp


def _commit(pairs) -> None:
    """Move (temporary, final) pairs into place, all or none: the files being
    replaced are kept (hard links, else copies) until every rename has
    succeeded, and put back if one fails.  No temporary file survives."""
    import shutil
    from .guard import input_at
    pairs = [(str(t), Path(f)) for t, f in pairs]
    for tmp, final in pairs:
        source = input_at(final)
        if source is not None:
            for t, _ in pairs:
                if os.path.exists(t):
                    os.unlink(t)
            raise OutputError(f"The output '{final}' would overwrite the input '{source}'; "
                              f"nothing was written. Choose another --out.")
    backups: list[tuple[str, Path]] = []
    done: list[Path] = []
    try:
        if len(pairs) > 1:
            for _, final in pairs:
                if final.is_file():
                    bak = f"{final.parent}/.{final.name}.{os.getpid()}.bak.tmp"
                    try:
                        os.link(final, bak)
                    except OSError:
                        shutil.copy2(final, bak)
                    backups.append((bak, final))
        for tmp, final in pairs:
            try:
                os.replace(tmp, final)
            except OSError as exc:
                raise OutputError(f"Cannot write '{final}': {exc.strerror or exc}; the "
                                  f"previous outputs were kept.") from None
            done.append(final)
    except BaseException:
        saved = {final: bak for bak, final in backups}
        for final in done:
            try:
                if final in saved:
                    os.replace(saved.pop(final), final)
                else:
                    os.unlink(final)
            except OSError:
                pass
        raise
    finally:
        for tmp, _ in pairs:
            if os.path.exists(tmp):
                os.unlink(tmp)
        for bak, _ in backups:
            if os.path.exists(bak):
                os.unlink(bak)


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    _mkdir(path.parent)
    _commit([(_temp_for(path, text, False), path)])


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    _mkdir(path.parent)
    _commit([(_temp_for(path, data, True), path)])


def write_files_atomic(out: Path, files: dict) -> list[str]:
    """Write {relative name: text or bytes} into `out`, all or nothing as far
    as a file system allows: every file goes to a temporary file first, and
    only when all are written are they renamed over the old ones.  A failure
    before that leaves every previous output untouched and no temporary file."""
    out = Path(out)
    pairs: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            path = out / name
            _mkdir(path.parent)
            pairs.append((_temp_for(path, content, isinstance(content, bytes)), path))
    except BaseException:
        for tmp, _ in pairs:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise
    _commit(pairs)
    return list(files)
