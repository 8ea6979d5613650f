"""Helpers of the reliability tests: file snapshots and the checks that a
failed run left every file as it was."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"


def snapshot(root: Path) -> dict:
    """path -> (bytes, mtime_ns) of every file, and None for every directory."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        out[rel] = None if p.is_dir() else (p.read_bytes(), p.stat().st_mtime_ns)
    return out


def assert_nothing_changed(before: dict, after: dict, *, allowed_new=()) -> None:
    """Every file there before is byte-identical with the same mtime; nothing
    new appeared (no partial output, no temporary file, no new folder)."""
    for rel, content in before.items():
        assert rel in after, f"{rel} was deleted"
        if content is not None:
            assert after[rel] is not None, f"{rel} became a directory"
            assert after[rel][0] == content[0], f"{rel} was modified"
            assert after[rel][1] == content[1], f"{rel} was rewritten (mtime changed)"
    new = sorted(set(after) - set(before) - set(allowed_new))
    assert not new, f"new files after a failed run: {new}"


def assert_no_temp_files(root: Path) -> None:
    stray = [p.name for p in root.rglob("*") if p.name.endswith(".tmp")]
    assert not stray, f"temporary files left behind: {stray}"
