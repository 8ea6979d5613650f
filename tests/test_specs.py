"""attachpath.specs: the shipped specs by name, usable outside a clone (issue 18, item 6)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from attachpath import specs
from attachpath.errors import OptionError


def test_names_and_path():
    assert {"serial_esat_anx", "parallel_esat_anx"} <= set(specs.names())
    p = specs.path("serial_esat_anx")
    assert p.is_file() and p.suffix == ".lav" and "a_anx" in specs.text("serial_esat_anx")
    assert specs.path("serial_esat_anx.lav") == p


def test_unknown_spec_names_the_closest():
    with pytest.raises(OptionError, match="did you mean 'serial_esat_anx'"):
        specs.path("serial_anx")


def test_readme_python_example_runs_outside_the_clone(tmp_path):
    """The README's Python example, run from a folder without specs/."""
    code = ("import attachpath as ap\n"
            "from attachpath import specs\n"
            "clients = ap.datasets.load_example_clients()\n"
            "res = ap.fit(specs.path('serial_esat_anx'), clients, cluster='therapist',\n"
            "             mc_draws=2000, seed=1)\n"
            "print(res.se_kind, res.nobs)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["robust.cluster", "330"]
