"""Two-level fits of the study-shaped model, attachpath beside lavaan in the same run.

    python benchmarks/twolevel.py [--reps 20] [--cli-reps 5] [--boot-reps 3] [--no-r]

(--cli-reps 0 --boot-reps 0: the in-process items only.)

The data are the bundled example's session rows (tests/reference/data/
study_sessions_centred.csv: 330 clients, 1,899 sessions) and the model is
the study's chain at level 2 with the session-level CATS -> TDS slope at
level 1 (tests/reference/twolevel/nomixed_twolevel_ml.json).  Items:

* in process: `ap.fit(..., cluster="client")` (ML, observed information) and
  with se="robust" (two-level MLR), one warm-up then REPS timed calls each,
  single-threaded BLAS; lavaan's `sem(model, data, cluster = "client")` and
  its MLR, timed inside one R session the same way;
* whole process: `attachpath fit SPEC --data CSV --cluster client` against
  `Rscript -e 'library(lavaan); sem(...)'`, spawn to exit;
* the therapist bootstrap (issue 13): `ap.fit(..., cluster="therapist/client",
  se="bootstrap", bootstrap=1000, seed=1)`, whole therapists resampled, the
  draws spread over the cores as fit() does by default; one 50-draw warm-up,
  then --boot-reps timed runs.  lavaan cannot bootstrap a multilevel model, so
  its ordinary two-level ML fit time is printed beside it.  Target: ≤ 20 s.

Prints medians and ratios (lavaan / attachpath) and writes
reports/benchmarks_twolevel.md.  Targets (issue 12): in process ≤ 1/20 of
lavaan's sem() time; the CLI ≤ 1/3 of a whole Rscript run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from attachpath.files import write_text_atomic
from _process import NOTE as BYTECODE_NOTE, use_bytecode_cache

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
CASE = json.loads((REF / "twolevel" / "nomixed_twolevel_ml.json").read_text())
DATA = REF / CASE["data"]
MODEL = CASE["model"]
REPORT = ROOT / "reports" / "benchmarks_twolevel.md"
CLI = shutil.which("attachpath", path=str(Path(sys.executable).parent)) or "attachpath"


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the draw workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bootstrap_times(reps: int) -> tuple[list[float], list[float]]:
    """Wall and CPU times of 1,000-draw therapist bootstraps of the two-level
    model (CPU: all processes; on a busy shared machine the wall time mostly
    measures the other users, CPU / cores is what an idle machine would take)."""
    import pandas as pd
    import attachpath as ap
    from threadpoolctl import threadpool_limits
    data = pd.read_csv(DATA)
    wall, cpu = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        ap.fit(MODEL, data, cluster="therapist/client", se="bootstrap", bootstrap=50,
               seed=1, progress=False)                                      # warm-up
        for _ in range(reps):
            t, c = time.perf_counter(), _cpu()
            ap.fit(MODEL, data, cluster="therapist/client", se="bootstrap", bootstrap=1000,
                   seed=1, progress=False)
            wall.append(time.perf_counter() - t)
            cpu.append(_cpu() - c)
    return wall, cpu


def in_process(reps: int) -> dict:
    import pandas as pd
    import attachpath as ap
    from threadpoolctl import threadpool_limits
    data = pd.read_csv(DATA)
    kinds = (("ml", "standard"), ("mlr", "robust"))
    out = {key: [] for key, _ in kinds}
    with threadpool_limits(limits=1, user_api="blas"):
        for key, se in kinds:
            ap.fit(MODEL, data, cluster="client", se=se)          # warm-up
        # interleaved, so a slow phase of the machine hits both kinds alike
        for _ in range(reps):
            for key, se in kinds:
                t = time.perf_counter()
                ap.fit(MODEL, data, cluster="client", se=se)
                out[key].append(time.perf_counter() - t)
    return out


R_IN_PROCESS = r"""
suppressMessages(library(lavaan))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); model <- readLines(args[2]); reps <- as.integer(args[3])
model <- paste(model, collapse = "\n")
time_it <- function(est) {
  invisible(sem(model, data = d, cluster = "client", estimator = est))
  sapply(seq_len(reps), function(i)
    system.time(sem(model, data = d, cluster = "client", estimator = est))[["elapsed"]])
}
cat(jsonlite::toJSON(list(ml = time_it("ML"), mlr = time_it("MLR"),
                          lavaan = as.character(packageVersion("lavaan")),
                          R = paste(R.version$major, R.version$minor, sep = ".")),
                     auto_unbox = TRUE))
"""

R_ONE_FIT = r"""
suppressMessages(library(lavaan))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); model <- paste(readLines(args[2]), collapse = "\n")
fit <- sem(model, data = d, cluster = "client")
invisible(parameterEstimates(fit)); invisible(fitMeasures(fit))
"""


def whole(cmd, reps):
    subprocess.run(cmd, capture_output=True)      # untimed: fills the bytecode cache
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if run.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {run.stderr[-500:]}")
    return times


def main() -> int:
    use_bytecode_cache()
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--cli-reps", type=int, default=5)
    p.add_argument("--boot-reps", type=int, default=3)
    p.add_argument("--no-r", action="store_true")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "model.lav"
        spec.write_text(MODEL)
        ours = in_process(args.reps)
        boot, boot_cpu = bootstrap_times(args.boot_reps) if args.boot_reps > 0 else ([], [])
        cli = (whole([CLI, "fit", str(spec), "--data", str(DATA), "--cluster", "client",
                      "--se", "standard"], args.cli_reps) if args.cli_reps > 0 else [])
        lav = rscript = None
        if not args.no_r and shutil.which("Rscript"):
            r1 = Path(tmp) / "bench.R"
            r1.write_text(R_IN_PROCESS)
            run = subprocess.run(["Rscript", str(r1), str(DATA), str(spec), str(args.reps)],
                                 capture_output=True, text=True)
            lav = json.loads(run.stdout) if run.returncode == 0 else None
            r2 = Path(tmp) / "one.R"
            r2.write_text(R_ONE_FIT)
            rscript = (whole(["Rscript", str(r2), str(DATA), str(spec)], args.cli_reps)
                       if args.cli_reps > 0 else [])
    med = statistics.median

    def row(label, mine, theirs, target):
        m = med(mine)
        t = med(theirs) if theirs else None
        ratio = t / m if t else None
        rows.append((label, f"{m * 1000:.1f} ms", f"{t * 1000:.0f} ms" if t else "-",
                     f"{ratio:.1f}x" if ratio else "-", target,
                     ("PASS" if ratio and ratio >= float(target.split("x")[0].lstrip("≥ "))
                      else "MISS") if ratio else "n/a"))
    row("two-level ML, in process", ours["ml"], lav and lav["ml"], "≥ 20x")
    row("two-level MLR, in process", ours["mlr"], lav and lav["mlr"], "≥ 20x")
    if cli:                     # --cli-reps 0: the in-process items only
        row("CLI fit, whole process", cli, rscript, "≥ 3x")
    if boot:
        # lavaan has no multilevel bootstrap: its ordinary ML fit for scale
        m, fit_ml = med(boot), (med(lav["ml"]) if lav else None)
        rows.append(("therapist bootstrap, 1,000 draws (lavaan: its ordinary two-level "
                     "ML fit; it cannot bootstrap)", f"{m:.1f} s",
                     f"{fit_ml * 1000:.0f} ms" if fit_ml else "-", "-", "≤ 20 s",
                     "PASS" if m <= 20.0 else "MISS"))
        cores = os.cpu_count() or 1
        rows.append((f"the same, CPU seconds of all processes ÷ {cores} cores (what an idle "
                     f"machine takes)", f"{med(boot_cpu) / cores:.1f} s", "-", "-", "≤ 20 s",
                     "PASS" if med(boot_cpu) / cores <= 20.0 else "MISS"))
    head = ("item", "attachpath median", "lavaan median", "ratio", "target", "result")
    lines = [f"# Two-level benchmarks ({datetime.date.today().isoformat()})", "",
             f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}" + (f", R {lav['R']}, lavaan {lav['lavaan']}"
                                               if lav else ", lavaan not run"),
             f"- data: {DATA.relative_to(ROOT)} (330 clients, 1,899 sessions); model: "
             f"tests/reference/twolevel/nomixed_twolevel_ml.json",
             f"- {args.reps} in-process reps (after one warm-up), {args.cli_reps} whole-process "
             f"runs, {args.boot_reps} bootstrap runs (cluster=\"therapist/client\", "
             f"{os.cpu_count()} worker processes); ratio = lavaan median / attachpath median",
             f"- {BYTECODE_NOTE}; load average {os.getloadavg()[0]:.1f} at the end",
             "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    write_text_atomic(REPORT, text)   # replaced whole, never half-written
    return 0


if __name__ == "__main__":
    sys.exit(main())
