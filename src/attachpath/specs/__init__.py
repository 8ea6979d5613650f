"""The study's model specs, shipped with the package (copies of the
repository's specs/*.lav, kept equal by scripts/sync_specs.py).

    >>> from attachpath import specs
    >>> "serial_esat_anx" in specs.names()
    True
    >>> specs.path("serial_esat_anx").name
    'serial_esat_anx.lav'

`path(name)` is a real file path, so it can go wherever a spec file can:
``ap.fit(specs.path("serial_esat_anx"), clients, cluster="therapist")``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def names() -> list[str]:
    """The names of the shipped specs (file stems), sorted."""
    return sorted(p.stem for p in HERE.glob("*.lav"))


def path(name: str) -> Path:
    """The file of the shipped spec `name` ('serial_esat_anx' or
    'serial_esat_anx.lav'); OptionError naming the closest one otherwise."""
    stem = name[:-4] if name.endswith(".lav") else name
    p = HERE / f"{stem}.lav"
    if not p.is_file():
        from ..errors import OptionError, closest
        hint = closest(stem, names())
        raise OptionError(f"attachpath ships no spec named '{name}'"
                          + (f"; did you mean '{hint}'?" if hint else ".")
                          + f" The shipped specs are: {', '.join(names())}.")
    return p


def text(name: str) -> str:
    """The text of the shipped spec `name`."""
    return path(name).read_text(encoding="utf-8")
