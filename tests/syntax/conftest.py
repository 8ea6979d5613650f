"""Import paths for the syntax tests.

The src layout is importable without installing attachpath, and the shared
sample specs (spec_samples.py) import under any pytest import mode.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
try:
    import attachpath.syntax  # noqa: F401
except ImportError:
    sys.path.insert(0, str(_HERE.parents[1] / "src"))
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))
