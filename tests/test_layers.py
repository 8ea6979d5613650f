"""The house's floors (issue 18, item 9): files.py (atomic writes, the --out
check) at the bottom, diagram/ and report/ above it, export.py on top; no
module imports one from a floor above it, so there is no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "attachpath"


def _imports(path: Path) -> set[str]:
    """attachpath modules imported anywhere in a file (functions included)."""
    pkg = "attachpath." + ".".join(path.relative_to(SRC).with_suffix("").parts)
    if path.name == "__init__.py":
        pkg = pkg.rsplit(".", 1)[0] + "._"
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.rsplit(".", node.level)[0]
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            if mod.startswith("attachpath"):
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("attachpath"))
    return out


def _of(folder_or_file: str) -> set[str]:
    p = SRC / folder_or_file
    files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return set().union(*(_imports(f) for f in files))


def test_files_is_the_ground_floor():
    # files.py stands on errors and guard (the registry of a command's
    # inputs), which stand on nothing of attachpath
    ground = ("attachpath.errors", "attachpath.guard")
    assert {m for m in _of("files.py") if not m.startswith(ground)} == set()
    assert _of("guard.py") == set()


def test_diagram_and_report_do_not_import_export_or_the_old_outputs():
    for floor in ("diagram", "report", "data", "files.py", "result.py", "fitting.py"):
        mods = _of(floor)
        assert not any(m.startswith(("attachpath.export", "attachpath.outputs")) for m in mods), floor
    assert not (SRC / "outputs.py").exists()


def test_export_stands_on_report_and_diagram():
    mods = _of("export.py")
    assert "attachpath.report" in mods and "attachpath.diagram" in mods
    assert "attachpath.files" in mods


def test_importing_export_first_works():
    import subprocess
    import sys
    for first in ("attachpath.export", "attachpath.files", "attachpath.report", "attachpath.diagram"):
        proc = subprocess.run([sys.executable, "-c", f"import {first}"], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
