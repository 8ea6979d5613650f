"""What the benchmarks' whole-process timings share.

Bytecode: a whole process is measured as it runs after any install, with the
modules' bytecode cached.  This machine sets PYTHONDONTWRITEBYTECODE, which
would make every run of an editable install recompile attachpath's sources
(about 0.17 G instructions of `attachpath --help`'s 0.43 G), a cost no user
pays twice; R's packages are byte-compiled at install, so lavaan's Rscript
runs do not pay it either.  The cache goes to a directory of its own
(PYTHONPYCACHEPREFIX), never into the source tree, and every command is run
once untimed first to fill it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

NOTE = ("whole processes run with Python's bytecode cache (PYTHONPYCACHEPREFIX, filled by "
        "one untimed run of each command first), as after any install")


def use_bytecode_cache() -> None:
    """Let this process's children cache bytecode, outside the source tree."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("PYTHONPYCACHEPREFIX",
                          str(Path(tempfile.gettempdir()) / "attachpath-bench-pycache"))
