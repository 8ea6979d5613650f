"""Worst differences between attachpath and lavaan over the reference fixtures.

    python scripts/lavaan_agreement.py

Refits every single-fit case of tests/reference/cases (not the LRT pairs or
the bootstrap case) with the options lavaan used and prints, per quantity,
the largest difference and the case it comes from.  The test suite asserts
these with a tolerance per case; this is the summary a closing note quotes.
pd_labels' estimates are left out of the estimate line: lavaan's default
nlminb stops 1.2e-4 short of the optimum there (see its test).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import attachpath as ap

REF = Path(__file__).resolve().parents[1] / "tests" / "reference"
RELATIVE = ["chisq", "chisq.scaled", "chisq.scaling.factor",
            "baseline.chisq.scaling.factor", "logl", "unrestricted.logl", "aic", "bic"]
ABSOLUTE = ["cfi", "tli", "rmsea", "srmr", "rmsea.ci.lower", "rmsea.ci.upper",
            "cfi.scaled", "rmsea.scaled", "cfi.robust", "tli.robust", "rmsea.robust",
            "rmsea.ci.lower.robust", "rmsea.ci.upper.robust"]


def refit(case: dict):
    call = case["call"]
    data = pd.read_csv(REF / case["data"])
    se = "robust" if call.get("estimator") == "MLR" else "standard"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ap.fit(case["model"], data, cluster=call.get("cluster"), se=se,
                      meanstructure=call.get("meanstructure"))


def differences(case: dict, res) -> dict[str, float]:
    key = ["lhs", "op", "rhs"]
    m = pd.DataFrame(case["estimates"]).merge(res.estimates, on=key, suffixes=("_l", "_o"))
    out = {"SE (relative)": float(np.max(np.abs(m.se_l - m.se_o)[m.se_l > 0]
                                         / m.se_l[m.se_l > 0]))}
    if case["case"] != "pd_labels":
        out["estimates"] = float(np.max(np.abs(m.est_l - m.est_o)))
    if "std_solution" in case and res.se_kind != "bootstrap":
        s = pd.DataFrame(case["std_solution"]).merge(res.standardized_solution(), on=key,
                                                     suffixes=("_l", "_o"))
        out["standardizedSolution est.std"] = float(np.nanmax(np.abs(s["est.std_l"]
                                                                     - s["est.std_o"])))
        nz = s.se_l > 0
        out["standardizedSolution SE (relative)"] = float(np.nanmax(
            np.abs(s.se_l[nz] - s.se_o[nz]) / s.se_l[nz]))
    for k in RELATIVE + ABSOLUTE:
        lav = case["fit"].get(k)
        if isinstance(lav, (int, float)) and k in res.fit and np.isfinite(res.fit[k]):
            d = abs(float(lav) - float(res.fit[k]))
            out[f"{k} (relative)" if k in RELATIVE else k] = (
                d / max(abs(float(lav)), 1e-8) if k in RELATIVE else d)
    return out


def main() -> int:
    worst: dict[str, tuple[float, str]] = {}
    for path in sorted((REF / "cases").glob("*.json")):
        case = json.loads(path.read_text())
        if case["case"].startswith("lrt") or "boot" in case["case"]:
            continue
        for k, d in differences(case, refit(case)).items():
            if d > worst.get(k, (-1.0, ""))[0]:
                worst[k] = (d, case["case"])
    print("| quantity | worst difference | case |\n|---|---|---|")
    for k, (d, name) in worst.items():
        print(f"| {k} | {d:.1e} | {name} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
