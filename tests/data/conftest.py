"""Make the src layout importable when attachpath is not installed."""

import sys
from pathlib import Path

try:
    import attachpath.data  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
