"""Check that every two-level / FIML fixture loads and has the documented keys.

Run by hand after ``Rscript tests/reference/make_reference_twolevel.R``:

    python3 tests/reference/check_twolevel_fixtures.py

Not a pytest module (the name does not start with ``test_``): it checks the
fixture files, not attachpath. Exits 1 with a list of problems, 0 when all
is well.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "twolevel"

CASE_KEYS = [
    "case", "description", "lavaan_version", "model", "data", "call", "options",
    "converged", "nobs", "ntotal", "npar", "nlevels", "parTable",
    "parameterEstimates", "vcov", "fitMeasures", "logl", "information",
    "information_observed", "information_expected", "h1", "implied", "test",
    "newton", "warnings",
]
ESTIMATE_COLS = [
    "lhs", "op", "rhs", "block", "level", "label", "est", "se", "z", "pvalue",
    "ci.lower", "ci.upper", "std.all", "est_polished", "free",
]
PARTABLE_COLS = ["id", "lhs", "op", "rhs", "block", "level", "free", "label", "est"]
FIT_KEYS = ["npar", "chisq", "df", "logl", "unrestricted.logl", "aic", "bic", "cfi",
            "tli", "rmsea", "srmr", "ntotal"]
TWOLEVEL_FIT_KEYS = ["srmr_within", "srmr_between"]
ROBUST_FIT_KEYS = ["chisq.scaled", "chisq.scaling.factor"]
H1_CONV_KEYS = ["loglik_lavaan", "loglik_converged", "em_tol", "moments_converged"]
CHISQ_CONV_KEYS = ["chisq_lavaan", "chisq_converged_h1", "chisq_converged_h1_polished_h0",
                   "unrestricted_logl_lavaan", "unrestricted_logl_converged",
                   "logl_lavaan", "logl_polished"]
THREE_LEVEL_KEYS = [
    "case", "base_case", "recipe", "nclients", "ntherapists", "information",
    "client_scores", "client_ids", "client_therapist", "meat_client", "vcov_client",
    "vcov_client_times_J_over_Jm1", "vcov_lavaan_mlr", "meat_therapist",
    "vcov_therapist", "se_client", "se_therapist",
    "check_client_vcov_vs_lavaan_relmax",
]


def check_matrix(name: str, m: dict, problems: list[str], where: str) -> None:
    names = m.get("names")
    rows = m.get("matrix")
    if not isinstance(names, list) or not isinstance(rows, list):
        problems.append(f"{where}: {name} is not a names/matrix object")
        return
    if len(rows) != len(names) or any(len(r) != len(names) for r in rows):
        problems.append(f"{where}: {name} is not square with {len(names)} names")


def check_case(d: dict, where: str, problems: list[str]) -> None:
    for k in CASE_KEYS:
        if k not in d:
            problems.append(f"{where}: missing key {k!r}")
    if problems and any(p.startswith(where) for p in problems):
        return
    if d["converged"] is not True:
        problems.append(f"{where}: lavaan did not converge")
    lacking = {c for row in d["parameterEstimates"] for c in ESTIMATE_COLS if c not in row}
    for c in sorted(lacking):
        problems.append(f"{where}: parameterEstimates rows lack {c!r}")
    # lavaan's parTable has a level column only for multilevel fits
    pt_cols = PARTABLE_COLS if d["nlevels"] == 2 else [c for c in PARTABLE_COLS if c != "level"]
    lacking = {c for row in d["parTable"] for c in pt_cols if c not in row}
    for c in sorted(lacking):
        problems.append(f"{where}: parTable rows lack {c!r}")
    fm = d["fitMeasures"]
    keys = list(FIT_KEYS)
    if d["nlevels"] == 2:
        keys += TWOLEVEL_FIT_KEYS
    if d["options"]["se"] == "robust.huber.white":
        keys += ROBUST_FIT_KEYS
        if d.get("information_first_order") is None:
            problems.append(f"{where}: MLR case without information_first_order")
    for k in keys:
        if k not in fm:
            problems.append(f"{where}: fitMeasures lacks {k!r}")
    npar = d["npar"]
    for k in ("vcov", "information", "information_observed", "information_expected"):
        check_matrix(k, d[k], problems, where)
        if len(d[k]["names"]) != npar:
            problems.append(f"{where}: {k} has {len(d[k]['names'])} rows, npar = {npar}")
    levels = d["nlevels"]
    if len(d["h1"]) != levels or len(d["implied"]) != levels:
        problems.append(f"{where}: h1/implied do not have one entry per level")
    nw = d["newton"]
    if not nw["grad_maxabs"] or not all(math.isfinite(g) for g in nw["grad_maxabs"]):
        problems.append(f"{where}: newton.grad_maxabs missing or not finite")
    elif nw["grad_maxabs"][-1] > 1e-8:
        problems.append(f"{where}: polished gradient {nw['grad_maxabs'][-1]:.2e} > 1e-8")
    is_fiml = d["options"]["missing"] in ("ml", "ml.x")
    if levels == 2 or is_fiml:
        h1c = d.get("h1_converged") or {}
        cc = d.get("chisq_converged") or {}
        for k in H1_CONV_KEYS:
            if k not in h1c:
                problems.append(f"{where}: h1_converged lacks {k!r}")
        for k in CHISQ_CONV_KEYS:
            if k not in cc:
                problems.append(f"{where}: chisq_converged lacks {k!r}")
        tc = d.get("test_converged") or {}
        for k in ("chisq", "df", "se_polished", "test_recompute_check"):
            if k not in tc:
                problems.append(f"{where}: test_converged lacks {k!r}")
        if d["options"]["se"] == "robust.huber.white":
            for k in ("chisq_scaled", "scaling_factor"):
                if k not in tc:
                    problems.append(f"{where}: test_converged lacks {k!r}")
        recheck = tc.get("test_recompute_check")
        if recheck is None or recheck > 1e-8:
            problems.append(f"{where}: lavaan's test code did not reproduce fit@test")
        if h1c and h1c["loglik_converged"] < h1c["loglik_lavaan"] - 1e-9 and not is_fiml:
            problems.append(f"{where}: converged h1 loglik below lavaan's")
    if levels == 2 and "nclusters" not in d:
        problems.append(f"{where}: two-level case without nclusters")


def check_threelevel(d: dict, where: str, problems: list[str]) -> None:
    for k in THREE_LEVEL_KEYS:
        if k not in d:
            problems.append(f"{where}: missing key {k!r}")
    if "check_client_vcov_vs_lavaan_relmax" in d and \
            not d["check_client_vcov_vs_lavaan_relmax"] < 1e-8:
        problems.append(f"{where}: client recipe does not reproduce lavaan's vcov")


def main() -> int:
    files = sorted(FIXTURES.glob("*.json"))
    problems: list[str] = []
    if not files:
        problems.append(f"no fixtures in {FIXTURES}")
    total = 0
    for f in files:
        total += f.stat().st_size
        with f.open(encoding="utf-8") as fh:
            d = json.load(fh)
        if d.get("case") != f.stem:
            problems.append(f"{f.name}: case {d.get('case')!r} is not the file name")
        data = HERE / d.get("data", "")
        if not data.is_file():
            problems.append(f"{f.name}: data file {d.get('data')!r} not found")
        if f.stem.startswith("threelevel_"):
            check_threelevel(d, f.name, problems)
        else:
            check_case(d, f.name, problems)
    if total > 5 * 2**20:
        problems.append(f"fixtures take {total / 2**20:.1f} MiB (> 5 MiB)")
    for p in problems:
        print(p)
    print(f"{len(files)} fixtures, {total / 2**20:.2f} MiB, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
