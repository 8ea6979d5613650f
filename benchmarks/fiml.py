"""FIML fits beside lavaan in the same run (issue 14's speed targets).

    python benchmarks/fiml.py [--reps 7] [--cli-reps 3] [--r-cli-reps 1] [--no-r]

* single-level FIML in process: `ap.fit(MODEL, data, missing="fiml")` against
  lavaan's `sem(model, data, missing = "ml")` timed inside R, on the FIML
  fixture's data (tests/reference/data/clients_missing.csv) — target ≤ 1/10
  of lavaan's time;
* two-level FIML as a whole process: `attachpath fit SPEC --data CSV
  --cluster client --missing fiml` against `Rscript` running lavaan's
  `sem(model, data, cluster = "client", missing = "ml")`, spawn to exit, on
  the study-shaped sessions (tests/reference/data/study_sessions_centred.csv:
  330 clients, 1,899 sessions) with missing values put in by a fixed seed:
  10% of the tds_ge cells, iip_post for 15% of the clients (dropout) and
  cats_secure_b for 5% — target ≤ 1/10 of lavaan's time.

Both sides single-threaded; medians.  The estimates of both sides are
compared in the same run (largest |difference| printed) so that every speed
figure is honest.  Writes reports/benchmarks_fiml.md.
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

from _process import NOTE as BYTECODE_NOTE, use_bytecode_cache

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
REPORT = ROOT / "reports" / "benchmarks_fiml.md"
CLI = shutil.which("attachpath", path=str(Path(sys.executable).parent)) or "attachpath"
SINGLE = json.loads((REF / "twolevel" / "fiml_serial_ml.json").read_text())
TWO = json.loads((REF / "twolevel" / "fiml2l_ml.json").read_text())


def study_with_missing(seed: int = 20261202) -> pd.DataFrame:
    d = pd.read_csv(REF / "data" / "study_sessions_centred.csv")
    rng = np.random.default_rng(seed)
    d.loc[rng.random(len(d)) < 0.10, "tds_ge"] = np.nan
    clients = d["client"].unique()
    drop = set(rng.choice(clients, size=int(0.15 * len(clients)), replace=False))
    d.loc[d["client"].isin(drop), "iip_post"] = np.nan
    miss_b = set(rng.choice(clients, size=int(0.05 * len(clients)), replace=False))
    d.loc[d["client"].isin(miss_b), "cats_secure_b"] = np.nan
    return d


R_IN_PROCESS = r"""
suppressMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1]); model <- paste(readLines(args[2]), collapse = "\n")
reps <- as.integer(args[3])
fit <- sem(model, data = d, missing = "ml")
t <- replicate(reps, system.time(sem(model, data = d, missing = "ml"))[["elapsed"]])
pe <- parameterEstimates(fit)
cat(toJSON(list(time = median(t), lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = pe$est),
           digits = NA, auto_unbox = TRUE))
"""

R_ONE_FIT = r"""
suppressMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1]); model <- paste(readLines(args[2]), collapse = "\n")
fit <- sem(model, data = d, cluster = "client", missing = "ml")
pe <- parameterEstimates(fit); invisible(fitMeasures(fit))
cat(toJSON(list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, level = pe$level, est = pe$est),
           digits = NA))
"""


def whole(cmd, reps):
    subprocess.run(cmd, capture_output=True)      # untimed: fills the bytecode cache
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if run.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {run.stderr[-600:]}")
        out = run.stdout
    return times, out


def single_level(reps: int) -> tuple[float, pd.DataFrame]:
    import attachpath as ap
    from threadpoolctl import threadpool_limits
    d = pd.read_csv(REF / SINGLE["data"])
    with threadpool_limits(1):
        res = ap.fit(SINGLE["model"], d, missing="fiml")
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            ap.fit(SINGLE["model"], d, missing="fiml")
            times.append(time.perf_counter() - t)
    return statistics.median(times), res.estimates


def max_diff(ours: pd.DataFrame, lav: dict, level_col: bool = False) -> float:
    """Largest |estimate difference| over the free parameters.  Fixed-x
    covariate moments are left out: lavaan takes them from its saturated
    model, which it stops at rel.tol 1e-7 (2.5e-4 off the converged values
    on the two-level data; tests/reference/twolevel/README.md)."""
    ref = pd.DataFrame({k: lav[k] for k in ("lhs", "op", "rhs", "est")})
    if level_col:
        # a two-level table repeats lhs/op/rhs across levels: rows are matched
        # within each level (lavaan's `level`, our `block`, both 1 and 2)
        ref["block"] = lav["level"]
    keys = ["lhs", "op", "rhs"] + (["block"] if level_col else [])
    ours = ours.fillna({"rhs": ""})            # a CSV's empty rhs of ~1 rows reads as NaN
    ours = ours[(ours["se"] > 0) & ours["op"].isin(["=~", "~", "~~", "~1"])]
    m = ours[keys + ["est"]].merge(ref, on=keys, suffixes=("_ours", "_lavaan"))
    if len(m) != len(ours):
        return float("inf")
    return float(np.max(np.abs(m.est_lavaan - m.est_ours)))


def main() -> int:
    use_bytecode_cache()
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--cli-reps", type=int, default=3)
    p.add_argument("--r-cli-reps", type=int, default=1)
    p.add_argument("--no-r", action="store_true")
    args = p.parse_args()
    use_r = not args.no_r and shutil.which("Rscript") is not None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ours_t, ours_est = single_level(args.reps)
        row = {"item": "single-level FIML, in process", "ours": ours_t}
        if use_r:
            (tmp / "single.lav").write_text(SINGLE["model"])
            (tmp / "in.R").write_text(R_IN_PROCESS)
            run = subprocess.run(["Rscript", str(tmp / "in.R"), str(REF / SINGLE["data"]),
                                  str(tmp / "single.lav"), str(args.reps)],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError(run.stderr[-600:])
            lav = json.loads(run.stdout)
            row.update(lavaan=lav["time"], diff=max_diff(ours_est, lav))
        rows.append(row)
        print(row, flush=True)

        data = tmp / "sessions_missing.csv"
        study_with_missing().to_csv(data, index=False)
        spec = tmp / "twolevel.lav"
        spec.write_text(TWO["model"])
        cli = []
        for k in range(args.cli_reps):     # a fresh --out folder per run
            t, _ = whole([CLI, "fit", str(spec), "--data", str(data), "--cluster", "client",
                          "--missing", "fiml", "--se", "standard", "--out",
                          str(tmp / f"out{k}")], 1)
            cli += t
        est = pd.read_csv(tmp / "out0" / "estimates.csv")
        row = {"item": "two-level FIML (330 clients, 1,899 sessions), whole process",
               "ours": statistics.median(cli)}
        if use_r:
            (tmp / "one.R").write_text(R_ONE_FIT)
            rt, stdout = whole(["Rscript", str(tmp / "one.R"), str(data), str(spec)],
                               args.r_cli_reps)
            lav = json.loads(stdout)
            row.update(lavaan=statistics.median(rt), diff=max_diff(est, lav, level_col=True))
        rows.append(row)
        print(row, flush=True)
    load = os.getloadavg()[0]
    head = ("item", "attachpath", "lavaan", "ratio", "max |Δest|", "target", "result")
    lines = [f"# FIML fits against lavaan ({datetime.date.today().isoformat()})", "",
             f"- machine: {platform.machine()}, {os.cpu_count()} cores, load average "
             f"{load:.1f} at the end; Python {platform.python_version()}",
             f"- `python benchmarks/fiml.py --reps {args.reps} --cli-reps {args.cli_reps} "
             f"--r-cli-reps {args.r_cli_reps}`; medians; ratio = lavaan / attachpath",
             f"- {BYTECODE_NOTE}",
             "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lav = r.get("lavaan")
        ratio = lav / r["ours"] if lav else None
        ok = ratio is not None and ratio >= 10 and r["diff"] <= 1e-4
        lines.append("| " + " | ".join([
            r["item"], f"{r['ours']:.2f} s", f"{lav:.2f} s" if lav else "-",
            f"{ratio:.1f}x" if ratio else "-", f"{r['diff']:.1e}" if lav else "-",
            "≥ 10x, Δ ≤ 1e-4", ("PASS" if ok else "MISS") if lav else "n/a"]) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    tmpf = REPORT.with_suffix(".tmp")
    tmpf.write_text(text)
    os.replace(tmpf, REPORT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
