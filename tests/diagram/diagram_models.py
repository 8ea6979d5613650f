"""Models shared by the diagram tests."""

from __future__ import annotations

import json
from pathlib import Path

REF = Path(__file__).resolve().parents[1] / "reference"

SERIAL = """cats_secure ~ a*ecr_anx + ecr_avoid
tds_ge ~ b*cats_secure + ecr_anx
iip_post ~ c*tds_ge + iip_pre + ecr_anx
abc := a*b*c
"""

PARALLEL = """cats_secure ~ a1*ecr_anx + ecr_avoid
tds_ge ~ a2*ecr_anx + ecr_avoid
iip_post ~ b1*cats_secure + b2*tds_ge + c*ecr_anx + iip_pre
cats_secure ~~ tds_ge
ind1 := a1*b1
ind2 := a2*b2
total := c + ind1 + ind2
"""


def pd_model() -> str:
    return json.loads((REF / "cases" / "pd_sem.json").read_text())["model"]


def hs_model() -> str:
    return json.loads((REF / "cases" / "hs_cfa.json").read_text())["model"]
