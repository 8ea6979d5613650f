"""attachpath.specs: the shipped specs by name, usable outside a clone (issue 18, item 6)."""

from __future__ import annotations

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
