"""`python -m attachpath.cli` runs the `attachpath` command."""

import sys

from . import main

sys.exit(main())
