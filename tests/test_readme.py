"""The README's Use section as a user follows it (issue 18, item 6)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
pytestmark = pytest.mark.skipif(not README.is_file(), reason="not a clone")


def _use_section() -> str:
    text = README.read_text()
    return text[text.index("## Use"):text.index("\n## ", text.index("## Use") + 1)]


def test_commands_in_the_order_a_user_runs_them():
    block = re.search(r"```bash\n(.*?)```", _use_section(), re.S).group(1)
    commands = re.findall(r"^attachpath (\w+)", block, re.M)
    # the data are made before anything reads clients.csv
    first_use = min(i for i, c in enumerate(commands) if c in ("check", "fit", "compare", "diagram"))
    assert commands.index("prepare") < first_use
    assert "--out clients.csv" in block.split("attachpath check")[0]


def test_syntax_table_lists_only_supported_operators():
    row = next(x for x in README.read_text().splitlines() if x.startswith("| spec |"))
    ops = re.search(r"`([^`]*)`", row).group(1).split()
    from attachpath.errors import SpecError
    from attachpath.spec import partable_of
    for op in ops:            # every listed operator parses
        spec = {"~": "y ~ x", "=~": "f =~ a + b + c", "~~": "y1 ~ x\ny2 ~ x\ny1 ~~ y2", "~1": "y ~ x\ny ~ 1",
                ":=": "y ~ b*x\nd := 2*b", "==": "y ~ b*x + c*z\nb == c",
                "<": "y ~ b*x + c*z\nb < c", ">": "y ~ b*x\nb > 0"}[op]
        partable_of(spec)
    with pytest.raises(SpecError, match="not available in two-level"):
        partable_of("level: 1\ny ~ b*x\nlevel: 2\ny ~ x\nb > 0")


def test_python_example_runs_outside_the_clone(tmp_path):
    code = re.search(r"```python\n(.*?)```", _use_section(), re.S).group(1)
    code = code.replace("mc_draws=20000", "mc_draws=2000")      # quicker, same code path
    code += "\nprint(type(res).__name__, res.se_kind, type(cmp).__name__)\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-3:] == ["Result", "robust.cluster", "Comparison"]
