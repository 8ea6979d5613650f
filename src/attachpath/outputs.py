"""Writing results to disk, atomically and without losing anything.

Every file is written to a temporary file in the target directory and then
renamed over the old one, so an interrupted or failed run leaves the
previous outputs intact.  An --out that is an existing file is refused.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from pathlib import Path

import numpy as np

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
    tmp = str(path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
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


def _clean(x):
    """JSON-safe values: NaN/inf become null, numpy scalars plain numbers."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def fit_json(res) -> dict:
    out = dict(res.fit)
    out["se"] = res.se_kind
    out["ci"] = res.ci
    out["r2"] = res.r2
    out["data"] = {k: v for k, v in res.data_info.items() if k != "labels"}
    if res.draws:
        out["bootstrap"] = {k: res.draws[k] for k in ("n", "ok", "failed", "seed", "interval", "unit")}
    est = res.provenance.get("options", {}).get("estimation", {})
    if "admissible" in est:
        out["admissible"] = bool(est["admissible"])
        out["inadmissible"] = list(est.get("inadmissible", []))
    out["warnings"] = list(res.warnings)
    out["provenance"] = res.provenance
    return _clean(out)


def write_fit_outputs(res, out_dir, *, report: bool = False) -> list[str]:
    """estimates.csv, standardized.csv (lavaan's standardizedSolution) and
    fit.json, the diagram when available and, with
    report=True, report.html and report.md: all written to temporary files
    first and then moved into place together (a failure leaves every earlier
    output as it was).  A diagram or report that cannot be made is a warning,
    never a reason to lose the estimates."""
    out = check_out_dir(out_dir)
    files = fit_output_files(res, report=report)
    _mkdir(out)
    return write_files_atomic(out, files)


def fit_output_files(res, *, report: bool = False) -> dict:
    """{file name: content} of write_fit_outputs, for writers that put
    several results into one set (compare, demo)."""
    files = {
        "estimates.csv": res.estimates.to_csv(index=False, float_format=FLOAT_FORMAT,
                                              lineterminator="\n"),
        "standardized.csv": res.standardized_solution().to_csv(index=False,
                                                               float_format=FLOAT_FORMAT,
                                                               lineterminator="\n"),
        "fit.json": json.dumps(fit_json(res), indent=2) + "\n",
    }
    try:
        from .diagram import render_for_result
    except ImportError:
        render_for_result = None
    if render_for_result is not None:
        try:
            files.update(render_for_result(res))
        except Exception as exc:    # a diagram problem must not cost the estimates
            _warn(f"The path diagram could not be drawn ({type(exc).__name__}: {exc}); "
                  f"the other outputs are written without it.")
    if report:
        try:
            from .report import fit_report
        except ImportError:
            fit_report = None
        if fit_report is not None:
            try:
                doc = fit_report(res)
                files["report.html"] = doc.html()
                files["report.md"] = doc.markdown()
            except Exception as exc:
                _warn(f"The report could not be made ({type(exc).__name__}: {exc}); "
                      f"the other outputs are written without it.")
    return files


def _warn(message: str) -> None:
    import warnings
    from .errors import AttachpathWarning
    warnings.warn(message, AttachpathWarning, stacklevel=3)
