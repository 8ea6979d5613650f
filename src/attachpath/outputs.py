"""Writing results to disk, atomically and without losing anything.

Every file is written to a temporary file in the target directory and then
renamed over the old one, so an interrupted or failed run leaves the
previous outputs intact.  An --out that is an existing file is refused.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import OutputError


def check_out_dir(path) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out '{out}' is an existing file; give a directory "
                          f"(it is created if missing).")
    return out


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
    out["warnings"] = list(res.warnings)
    out["provenance"] = res.provenance
    return _clean(out)


def write_fit_outputs(res, out_dir) -> list[str]:
    """estimates.csv and fit.json (plus the diagram when available)."""
    out = check_out_dir(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "estimates.csv": res.estimates.to_csv(index=False, float_format="%.10g"),
        "fit.json": json.dumps(fit_json(res), indent=2) + "\n",
    }
    try:
        from .diagram import render_for_result
        files.update(render_for_result(res))
    except ImportError:
        pass
    for name, content in files.items():
        if isinstance(content, bytes):
            write_bytes_atomic(out / name, content)
        else:
            write_text_atomic(out / name, content)
    return list(files)
