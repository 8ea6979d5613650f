"""The package's copies of the specs (src/attachpath/specs/) equal specs/*.lav."""

from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not (ROOT / "specs").is_dir(), reason="not a clone")
def test_package_specs_equal_the_repository_specs():
    repo = {p.name: p.read_bytes() for p in (ROOT / "specs").glob("*.lav")}
    pkg_dir = resources.files("attachpath").joinpath("specs")
    pkg = {p.name: p.read_bytes() for p in pkg_dir.iterdir() if p.name.endswith(".lav")}
    assert repo == pkg, "run: python scripts/sync_specs.py"


def test_demo_reads_bundled_specs():
    from attachpath.demo import ALTERNATIVES, MAIN, spec_text
    for name in set(MAIN) | set(ALTERNATIVES):
        assert "~" in spec_text(name)
