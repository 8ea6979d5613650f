"""Latent-variable and larger path models, attachpath beside lavaan in the same run.

    python benchmarks/latent.py [--reps 7] [--no-r]

Models (N = 1,000 simulated cases, seed fixed):

* CFA with 3, 6 and 10 correlated factors of three indicators each;
* SEM with 3, 6 and 10 factors of three indicators in a chain f1 → f2 → …;
* recursive path models of 5, 10, 20 and 40 observed variables (each
  variable regressed on the two before it).

Each is fitted with ML (standard SEs) and with MLR corrected for 200 clusters
of 5 cases (lavaan: `sem(..., estimator = "MLR", cluster = "cl")`).  Both
sides run single-threaded, one untimed warm-up, then REPS timed fits; medians
are compared.  Every speed figure is honest only if both sides found the same
solution, so each row also prints the largest |estimate difference| against
lavaan and fails the row above 1e-4.  Writes reports/benchmarks_latent.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from attachpath.files import write_text_atomic

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "reports" / "benchmarks_latent.md"
N, CLUSTER_SIZE = 1000, 5
TOL = 1e-4


def factor_model(k: int, chain: bool, seed: int) -> tuple[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    if chain:
        F = np.zeros((N, k))
        F[:, 0] = rng.standard_normal(N)
        for i in range(1, k):
            F[:, i] = 0.5 * F[:, i - 1] + 0.8 * rng.standard_normal(N)
    else:
        R = 0.3 + 0.7 * np.eye(k)
        F = rng.standard_normal((N, k)) @ np.linalg.cholesky(R).T
    cols, lines = {}, []
    for i in range(k):
        names = [f"x{i + 1}_{j + 1}" for j in range(3)]
        for name, lam in zip(names, (1.0, 0.8, 0.7)):
            cols[name] = lam * F[:, i] + 0.6 * rng.standard_normal(N)
        lines.append(f"f{i + 1} =~ " + " + ".join(names))
    if chain:
        lines += [f"f{i} ~ f{i - 1}" for i in range(2, k + 1)]
    return "\n".join(lines), pd.DataFrame(cols)


def path_model(p: int, seed: int) -> tuple[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    X = np.zeros((N, p))
    lines = []
    for j in range(p):
        X[:, j] = rng.standard_normal(N)
        preds = list(range(max(0, j - 2), j))
        for i in preds:
            X[:, j] += 0.3 * X[:, i]
        if preds:
            lines.append(f"v{j + 1} ~ " + " + ".join(f"v{i + 1}" for i in preds))
    return "\n".join(lines), pd.DataFrame(X, columns=[f"v{j + 1}" for j in range(p)])


def cases():
    for k in (3, 6, 10):
        yield f"CFA {k} factors", *factor_model(k, False, seed=k)
    for k in (3, 6, 10):
        yield f"SEM {k} factors", *factor_model(k, True, seed=100 + k)
    for p in (5, 10, 20, 40):
        yield f"path {p} variables", *path_model(p, seed=200 + p)


R_SCRIPT = r"""
suppressMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1]); model <- paste(readLines(args[2]), collapse = "\n")
reps <- as.integer(args[3])
one <- function(robust) {
  if (robust) sem(model, data = d, estimator = "MLR", cluster = "cl")
  else sem(model, data = d)
}
out <- list()
for (robust in c(FALSE, TRUE)) {
  fit <- one(robust)                       # warm-up, and the estimates
  pe <- parameterEstimates(fit)
  t <- replicate(reps, system.time(one(robust))[["elapsed"]])
  out[[if (robust) "mlr" else "ml"]] <- list(
    time = median(t), lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = pe$est,
    converged = lavInspect(fit, "converged"))
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def time_ours(model: str, data: pd.DataFrame, reps: int) -> dict:
    import warnings

    import attachpath as ap
    from threadpoolctl import threadpool_limits
    out = {}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, kw in (("ml", {}), ("mlr", {"cluster": "cl", "se": "robust"})):
            res = ap.fit(model, data, **kw)
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                ap.fit(model, data, **kw)
                times.append(time.perf_counter() - t)
            out[key] = {"time": statistics.median(times), "estimates": res.estimates,
                        "method": res.provenance["options"]["estimation"]["method"]}
    return out


def max_difference(ours: pd.DataFrame, theirs: dict) -> float:
    ref = pd.DataFrame({k: theirs[k] for k in ("lhs", "op", "rhs", "est")})
    ref = ref[ref.op.isin(["=~", "~", "~~", "~1"])]
    merged = ref.merge(ours[["lhs", "op", "rhs", "est"]], on=["lhs", "op", "rhs"],
                       suffixes=("_lavaan", "_ours"))
    if len(merged) != len(ref):
        return float("inf")
    return float(np.max(np.abs(merged.est_lavaan - merged.est_ours)))


def main() -> int:
    ap_ = argparse.ArgumentParser()
    ap_.add_argument("--reps", type=int, default=7)
    ap_.add_argument("--no-r", action="store_true")
    args = ap_.parse_args()
    use_r = not args.no_r and shutil.which("Rscript") is not None
    rows = []
    r_version = None
    with tempfile.TemporaryDirectory() as tmp:
        rfile = Path(tmp) / "bench.R"
        rfile.write_text(R_SCRIPT)
        for name, model, data in cases():
            data = data.assign(cl=np.repeat(np.arange(N // CLUSTER_SIZE), CLUSTER_SIZE))
            ours = time_ours(model, data, args.reps)
            lav = None
            if use_r:
                csv, spec = Path(tmp) / "d.csv", Path(tmp) / "m.lav"
                data.to_csv(csv, index=False)
                spec.write_text(model + "\n")
                run = subprocess.run(["Rscript", str(rfile), str(csv), str(spec),
                                      str(args.reps)], capture_output=True, text=True)
                if run.returncode != 0:
                    raise RuntimeError(f"lavaan failed on {name}: {run.stderr[-400:]}")
                lav = json.loads(run.stdout)
            for key, label in (("ml", "ML"), ("mlr", "MLR, 200 clusters")):
                m = ours[key]
                row = {"model": name, "estimator": label, "ours": m["time"],
                       "method": m["method"]}
                if lav:
                    row["lavaan"] = lav[key]["time"]
                    row["diff"] = max_difference(m["estimates"], lav[key])
                rows.append(row)
                print(_line(row), flush=True)
        if use_r:
            r_version = subprocess.run(
                ["Rscript", "-e", "cat(R.version.string, '/ lavaan', "
                 "as.character(packageVersion('lavaan')))"],
                capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0]
    head = ("model", "estimator", "attachpath", "lavaan", "ratio", "max |Δest|", "result")
    lines = [f"# Latent and larger models against lavaan ({datetime.date.today().isoformat()})",
             "", f"- machine: {platform.machine()}, {os.cpu_count()} cores, load average "
             f"{load:.1f} at the end; Python {platform.python_version()}"
             + (f"; {r_version}" if r_version else "; lavaan not run"),
             f"- N = {N}; {args.reps} timed fits after a warm-up, medians, single-threaded "
             f"BLAS on both sides; ratio = lavaan / attachpath (target ≥ 1); a row "
             f"passes when ratio ≥ 1 and the estimates agree within {TOL:g}.",
             "- `python benchmarks/latent.py`", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [_line(r) for r in rows]
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    write_text_atomic(REPORT, text)   # replaced whole, never half-written
    return 0


def _line(r: dict) -> str:
    lav = r.get("lavaan")
    ratio = lav / r["ours"] if lav else None
    ok = ratio is not None and ratio >= 1 and r["diff"] <= TOL
    return "| " + " | ".join([
        r["model"], r["estimator"], f"{r['ours'] * 1000:.0f} ms ({r['method']})",
        f"{lav * 1000:.0f} ms" if lav else "-", f"{ratio:.1f}x" if ratio else "-",
        f"{r['diff']:.1e}" if lav else "-",
        ("PASS" if ok else "MISS") if lav else "n/a"]) + " |"


if __name__ == "__main__":
    sys.exit(main())
