#!/usr/bin/env python3
"""Copy the study's specs (specs/*.lav) into the package (src/attachpath/specs/).

The repository's specs/ folder is the one to edit; the copies ship with the
package (pyproject's package-data "specs/*.lav") so that `attachpath demo`
finds them when attachpath is installed rather than run from a clone.

    python scripts/sync_specs.py           # copy (and remove stale copies)
    python scripts/sync_specs.py --check   # exit 1 if the copies differ

tests/report/test_specs_sync.py fails when the two folders drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "specs"
TARGET = ROOT / "src" / "attachpath" / "specs"


def differences() -> list[str]:
    src = {p.name: p.read_bytes() for p in sorted(SOURCE.glob("*.lav"))}
    dst = {p.name: p.read_bytes() for p in sorted(TARGET.glob("*.lav"))} if TARGET.is_dir() else {}
    out = [f"missing in the package: {n}" for n in src if n not in dst]
    out += [f"stale in the package: {n}" for n in dst if n not in src]
    out += [f"differs: {n}" for n in src if n in dst and src[n] != dst[n]]
    return out


def sync() -> list[str]:
    TARGET.mkdir(parents=True, exist_ok=True)
    changed = []
    names = set()
    for p in sorted(SOURCE.glob("*.lav")):
        names.add(p.name)
        q = TARGET / p.name
        data = p.read_bytes()
        if not q.exists() or q.read_bytes() != data:
            q.write_bytes(data)
            changed.append(f"copied {p.name}")
    for q in sorted(TARGET.glob("*.lav")):
        if q.name not in names:
            q.unlink()
            changed.append(f"removed {q.name}")
    return changed


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        diff = differences()
        for d in diff:
            print(d)
        if diff:
            print("run: python scripts/sync_specs.py", file=sys.stderr)
        return 1 if diff else 0
    for line in sync() or ["specs are in sync"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
