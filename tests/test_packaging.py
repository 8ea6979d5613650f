"""Dependencies as declared (issue 18, item 8): pyarrow only in the parquet
extra, tqdm for progress, no unused graphviz package."""

from __future__ import annotations

import re
from importlib.metadata import requires
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "attachpath"


def _requirements():
    out = {}
    for req in requires("attachpath") or []:
        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower()
        extra = re.search(r'extra\s*==\s*"([^"]+)"', req)
        out.setdefault(name, set()).add(extra.group(1) if extra else None)
    return out


def test_pyarrow_is_the_parquet_extra_only():
    reqs = _requirements()
    assert None not in reqs["pyarrow"]              # not installed by plain `pip install`
    assert "parquet" in reqs["pyarrow"]
    assert None in reqs["tqdm"]


def test_graphviz_package_neither_declared_nor_imported():
    assert "graphviz" not in _requirements()
    for f in SRC.rglob("*.py"):
        assert not re.search(r"^\s*(import graphviz|from graphviz)", f.read_text(), re.M), f
