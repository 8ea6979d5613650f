"""The cluster-robust fit at growing sizes, attachpath beside lavaan in the same run.

    python benchmarks/large.py [--sizes 330,33000,330000,1000000] [--no-r]

Data: the bundled example's clients resampled to N rows (a little noise
added so no two rows are equal) with 1 therapist per 7.5 clients as in the
study, plus one run with N = 20,000 singleton clusters.  Both are timed
around the fit alone, the data already read: attachpath's `ap.fit(spec,
frame, cluster="therapist", se="robust")` in a child process (peak RSS of
that whole process from os.wait4, imports and data included) and lavaan's
`sem(model, data, cluster = "therapist", estimator = "MLR")` by system.time
inside Rscript.  Issue 17 (item 14): attachpath faster at every
size; 100,000 rows under 1 GB peak, 1,000,000 under 2 GB; 20,000 singleton
clusters under 400 MB.  Writes reports/benchmarks_large.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from attachpath.files import write_text_atomic

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "serial_esat_anx.lav"
REPORT = ROOT / "reports" / "benchmarks_large.md"

R_FIT = r"""
suppressMessages(library(lavaan))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
model <- paste(readLines(args[2]), collapse = "\n")
t <- system.time(fit <- sem(model, data = d, cluster = "therapist", estimator = "MLR"))
cat(t[["elapsed"]], "\n")
"""


def make_data(n: int, clusters: int, path: Path) -> None:
    import attachpath as ap
    clients = ap.datasets.load_example_clients()
    rng = np.random.default_rng(n)
    d = clients.iloc[rng.integers(0, len(clients), n)].reset_index(drop=True)
    num = [c for c in d.select_dtypes("number").columns if c != "therapist"]
    d[num] = d[num] + rng.normal(0, 0.05, (n, len(num)))
    d["therapist"] = rng.integers(0, clusters, n) if clusters < n else np.arange(n)
    d.to_csv(path, index=False, float_format="%.6g")


CHILD = r"""
import sys, time
import attachpath as ap
from attachpath.data.io import read_data
frame = read_data(sys.argv[1]).frame
# one untimed warm-up fit on the first rows (lazy imports, caches), as run.py does
ap.fit(sys.argv[2], frame.iloc[:330], cluster="therapist", se="robust")
t = time.perf_counter()
ap.fit(sys.argv[2], frame, cluster="therapist", se="robust")
print(time.perf_counter() - t)
"""


def run_attachpath(csv: Path) -> tuple[float, float]:
    """(seconds of ap.fit, peak RSS in MB of the whole child process, the
    data read and the imports included)."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(csv), str(SPEC)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(proc.stderr.read().decode()[-500:])
    return float(out.strip().split()[-1]), usage.ru_maxrss / 1024


def run_lavaan(csv: Path, script: Path) -> float | None:
    try:
        out = subprocess.run(["Rscript", str(script), str(csv), str(SPEC)], capture_output=True,
                             text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        return None
    return float(out.stdout.strip().split()[-1])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="330,33000,100000,330000,1000000")
    p.add_argument("--no-r", action="store_true")
    p.add_argument("--make", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.make:
        make_data(int(args.make[0]), int(args.make[1]), Path(args.make[2]))
        return 0
    sizes = [(int(s), max(2, int(int(s) / 7.5))) for s in args.sizes.split(",")]
    sizes.append((20000, 20000))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "fit.R"
        script.write_text(R_FIT)
        for n, g in sizes:
            csv = Path(tmp) / f"data_{n}_{g}.csv"
            # made in a child process: a forked child counts the parent's
            # resident pages in its peak RSS, so the parent stays small
            subprocess.run([sys.executable, __file__, "--make", str(n), str(g), str(csv)],
                           check=True)
            secs, rss = run_attachpath(csv)
            lav = None if args.no_r or not shutil.which("Rscript") else run_lavaan(csv, script)
            rows.append((n, g, secs, rss, lav))
            print(f"{n:>9} rows, {g:>6} clusters: attachpath {secs:6.2f} s, {rss:6.0f} MB; "
                  f"lavaan {'-' if lav is None else f'{lav:.2f} s'}", flush=True)
    lines = [f"# Cluster-robust fit at growing sizes ({datetime.date.today().isoformat()})", "",
             "`python benchmarks/large.py`: the cluster-robust fit of specs/serial_esat_anx.lav, "
             "the data already read: attachpath's `ap.fit(..., cluster=\"therapist\", "
             "se=\"robust\")` against lavaan's `sem(..., cluster=\"therapist\", "
             "estimator=\"MLR\")`; peak RSS of attachpath's whole process.", "",
             "| rows | clusters | attachpath | peak RSS | lavaan | ratio |",
             "|---|---|---|---|---|---|"]
    for n, g, secs, rss, lav in rows:
        lines.append(f"| {n:,} | {g:,} | {secs:.2f} s | {rss:.0f} MB | "
                     f"{'-' if lav is None else f'{lav:.2f} s'} | "
                     f"{'-' if lav is None else f'{lav / secs:.1f}x'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    write_text_atomic(REPORT, text)   # replaced whole, never half-written
    return 0


if __name__ == "__main__":
    sys.exit(main())
