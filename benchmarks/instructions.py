"""Instruction counts and CPU time of one fit, whole process and in process (issue 19).

    python benchmarks/instructions.py [--reps 5] [--no-r] [--no-callgrind] [--in-process]

Whole process (spawn to exit; CPU = user + sys of the process and its
children from os.wait4, median of --reps runs taken in interleaved rounds,
one run of each command per round; instructions from one run
under `valgrind --tool=callgrind --trace-children=yes`, summed over every
process, since Rscript execs R through a shell script and our CLI with --pdf runs `dot`;
`dot` is counted through a wrapper, see callgrind()):

* `attachpath fit serial_esat_anx.lav --data clients.csv --cluster therapist --out DIR`
  (the cluster-robust fit with all its outputs; and with `--pdf`, which adds
  Graphviz's rendering of the diagram), against
* `Rscript` loading lavaan, reading the CSV, `sem(model, data, cluster="therapist",
  estimator="MLR")`, `parameterEstimates()` and `fitMeasures()`;
* `attachpath --help` and `attachpath check SPEC` (target: at most 0.3 s CPU).

In process: instructions per cluster-robust fit of the same model
(`ap.fit(spec, frame, cluster="therapist")`) against a minimal numpy fit of
the same quantities (estimates, cluster-robust SEs, the := effects with
delta-method SEs, chisq), written out below; the two are checked equal to
1e-8 in the same run.  Per-fit instructions are (count of a run with 1 + K
fits − count of a run with 1 fit) / K, under callgrind.

Targets: CLI fit at most half of Rscript's CPU time and instructions; in
process at most 3× the minimal fit's instructions.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _process import NOTE as BYTECODE_NOTE, use_bytecode_cache

from attachpath.files import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "serial_esat_anx.lav"
CLI = shutil.which("attachpath", path=str(Path(sys.executable).parent)) or "attachpath"
K_FITS = 20
REPORT = ROOT / "reports" / "benchmarks_instructions.md"

R_ONE_FIT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); model <- paste(sub("#.*$", "", readLines(args[2])), collapse = "\n")
fit <- sem(model, data = d, cluster = "therapist", estimator = "MLR")
invisible(parameterEstimates(fit)); invisible(fitMeasures(fit))
"""

# -- the minimal numpy fit of serial_esat_anx.lav ------------------------------------
# A recursive path model with uncorrelated residuals and fixed covariates: the
# ML estimates are ordinary least squares equation by equation (residual
# variances with divisor N), the information is block diagonal, and the
# cluster-robust vcov is A⁻¹ B A⁻¹ with B the therapist sums of casewise
# scores times G/(G−1).
MINIMAL = r'''
import numpy as np

EQUATIONS = [("esat_anx", ["ecr_anx", "ecr_avoid"]), ("tds_ge", ["esat_anx"]),
             ("tds_ga", ["esat_anx"]), ("iip_post", ["tds_ge", "tds_ga", "iip_pre"])]
OBSERVED = ["esat_anx", "tds_ge", "tds_ga", "iip_post", "ecr_anx", "ecr_avoid", "iip_pre"]


def minimal_fit(X, cluster):
    """X: N x 7 in OBSERVED order; cluster: N integer codes 0..G-1."""
    n = X.shape[0]
    col = {v: j for j, v in enumerate(OBSERVED)}
    blocks, scores, est = [], [], []
    for y, xs in EQUATIONS:
        Z = np.column_stack([X[:, [col[v] for v in xs]], np.ones(n)])
        beta, *_ = np.linalg.lstsq(Z, X[:, col[y]], rcond=None)
        e = X[:, col[y]] - Z @ beta
        s2 = e @ e / n
        k = Z.shape[1]
        A = np.zeros((k + 1, k + 1))
        A[:k, :k] = Z.T @ Z / s2
        A[k, k] = n / (2 * s2 ** 2)
        blocks.append(A)
        scores.append(np.column_stack([Z * (e / s2)[:, None], (e * e - s2) / (2 * s2 ** 2)]))
        est.append(np.append(beta, s2))
    theta = np.concatenate(est)
    m = len(theta)
    A = np.zeros((m, m))
    at = 0
    for blk in blocks:
        A[at:at + len(blk), at:at + len(blk)] = blk
        at += len(blk)
    S = np.hstack(scores)
    G = int(cluster.max()) + 1
    sums = np.zeros((G, m))
    np.add.at(sums, cluster, S)
    B = sums.T @ sums * G / (G - 1)
    Ainv = np.linalg.inv(A)
    V = Ainv @ B @ Ainv
    se = np.sqrt(np.diag(V))
    # the := effects of the spec: a·b·c products and their sums
    a_anx, a_av, b_ge, b_ga, c_ge, c_ga = theta[[0, 1, 4, 7, 10, 11]]
    idx = [0, 1, 4, 7, 10, 11]
    prods = {"anx_ge": (a_anx, b_ge, c_ge, (0, 2, 4)), "anx_ga": (a_anx, b_ga, c_ga, (0, 3, 5)),
             "avoid_ge": (a_av, b_ge, c_ge, (1, 2, 4)), "avoid_ga": (a_av, b_ga, c_ga, (1, 3, 5))}
    grads, values = {}, {}
    for name, (p, q, r, where) in prods.items():
        g = np.zeros(m)
        for pos, val in zip(where, (q * r, p * r, p * q)):
            g[idx[pos]] = val
        grads[name], values[name] = g, p * q * r
    grads["anx_total"] = grads["anx_ge"] + grads["anx_ga"]
    grads["avoid_total"] = grads["avoid_ge"] + grads["avoid_ga"]
    values["anx_total"] = values["anx_ge"] + values["anx_ga"]
    values["avoid_total"] = values["avoid_ge"] + values["avoid_ga"]
    defined_se = {k: float(np.sqrt(g @ V @ g)) for k, g in grads.items()}
    # chisq: N (log|Σ| − log|S| + tr(S Σ⁻¹) − p), means saturated
    Bm = np.zeros((7, 7))
    Psi = np.zeros((7, 7))
    at = 0
    for (y, xs), th in zip(EQUATIONS, est):
        for v, b in zip(xs, th):
            Bm[col[y], col[v]] = b
        Psi[col[y], col[y]] = th[-1]
    Sx = np.cov(X[:, 4:].T, bias=True)
    Psi[4:, 4:] = Sx
    IB = np.linalg.inv(np.eye(7) - Bm)
    Sigma = IB @ Psi @ IB.T
    Ssample = np.cov(X.T, bias=True)
    chisq = n * (np.linalg.slogdet(Sigma)[1] - np.linalg.slogdet(Ssample)[1]
                 + np.trace(Ssample @ np.linalg.inv(Sigma)) - 7)
    return theta, se, values, defined_se, chisq
'''

IN_PROCESS = r'''
import sys
import numpy as np, pandas as pd
kind, k, data_csv, spec = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
frame = pd.read_csv(data_csv)
if kind == "ours":
    import attachpath as ap
    def one():
        return ap.fit(spec, frame, cluster="therapist")
else:
    exec(open(sys.argv[5]).read())
    X = frame[OBSERVED].to_numpy(dtype=float)
    codes = pd.factorize(frame["therapist"])[0]
    def one():
        return minimal_fit(X, codes)
for _ in range(1 + k):
    one()
'''


def collected(stderr: str) -> int:
    """Sum of callgrind's 'Collected : N' lines, one per traced process."""
    return sum(int(n) for n in re.findall(r"Collected\s*:\s*(\d+)", stderr))


def callgrind(cmd: list[str], cwd: str | None = None) -> int:
    """Instructions of `cmd` and of every process it starts.  Python starts
    Graphviz's `dot` by vfork/posix_spawn, which valgrind's --trace-children
    does not follow, so `dot` is found through PATH as a wrapper that runs
    the real one under callgrind with a log of its own, added here."""
    with tempfile.TemporaryDirectory() as logs:
        env = dict(os.environ)
        real_dot = shutil.which("dot")
        if real_dot:
            wrapper = Path(logs) / "bin" / "dot"
            wrapper.parent.mkdir()
            wrapper.write_text("#!/bin/sh\nexec valgrind --tool=callgrind "
                               "--callgrind-out-file=/dev/null "
                               f"--log-file={logs}/dot.%p {real_dot} \"$@\"\n")
            wrapper.chmod(0o755)
            env["PATH"] = f"{wrapper.parent}{os.pathsep}{env.get('PATH', '')}"
        run = subprocess.run(["valgrind", "--tool=callgrind", "--trace-children=yes",
                              "--trace-children-skip=*/dot",
                              "--callgrind-out-file=/dev/null", *cmd],
                             capture_output=True, text=True, cwd=cwd, env=env)
        if run.returncode != 0:
            raise RuntimeError(f"{cmd[0]} under callgrind failed: {run.stderr[-800:]}")
        return collected(run.stderr) + sum(collected(f.read_text())
                                           for f in Path(logs).glob("dot.*"))


def cpu_time(cmd: list[str], reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed")
        out.append(usage.ru_utime + usage.ru_stime)
    return out


def check_minimal_equals_ours(data_csv: Path, minimal_py: Path) -> float:
    """Largest difference of estimates, SEs, := effects and chisq between the
    minimal fit and attachpath's (they must be the same quantities)."""
    import pandas as pd
    import attachpath as ap
    ns: dict = {}
    exec(minimal_py.read_text(), ns)
    frame = pd.read_csv(data_csv)
    X = frame[ns["OBSERVED"]].to_numpy(dtype=float)
    theta, se, values, dse, chisq = ns["minimal_fit"](X, pd.factorize(frame["therapist"])[0])
    res = ap.fit(str(SPEC), frame, cluster="therapist")
    e = res.estimates
    worst = abs(chisq - res.fit["chisq"])
    rows = []
    for y, xs in ns["EQUATIONS"]:
        rows += [(y, "~", v) for v in xs] + [(y, "~1", ""), (y, "~~", y)]
    for (lhs, op, rhs), t, s in zip(rows, theta, se):
        hit = e[(e.lhs == lhs) & (e.op == op) & (e.rhs == rhs)].iloc[0]
        worst = max(worst, abs(hit.est - t), abs(hit.se - s))
    for name in values:
        hit = e[(e.lhs == name) & (e.op == ":=")].iloc[0]
        worst = max(worst, abs(hit.est - values[name]), abs(hit.se - dse[name]))
    return float(worst)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--no-r", action="store_true")
    p.add_argument("--no-callgrind", action="store_true")
    p.add_argument("--in-process", action="store_true",
                   help="only the in-process count per fit (no whole-process runs)")
    args = p.parse_args()
    use_bytecode_cache()
    use_r = not args.no_r and shutil.which("Rscript")
    use_cg = not args.no_callgrind and shutil.which("valgrind")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        import attachpath as ap
        data_csv = tmp / "clients.csv"
        ap.datasets.load_example_clients().to_csv(data_csv, index=False)
        (tmp / "one_fit.R").write_text(R_ONE_FIT)
        (tmp / "minimal.py").write_text(MINIMAL)
        (tmp / "in_process.py").write_text(IN_PROCESS)

        def fit_cmd(i):
            return [CLI, "fit", str(SPEC), "--data", str(data_csv), "--cluster", "therapist",
                    "--out", str(tmp / f"out{i}")]
        counter = iter(range(10 ** 6))
        whole = {
            "CLI fit --out (cluster-robust)": (lambda: fit_cmd(next(counter))),
            "CLI fit --out --pdf": (lambda: fit_cmd(next(counter)) + ["--pdf"]),
            "`attachpath --help`": (lambda: [CLI, "--help"]),
            "`attachpath check SPEC`": (lambda: [CLI, "check", str(SPEC)]),
        }
        if use_r:
            whole["Rscript: lavaan MLR fit"] = (
                lambda: ["Rscript", str(tmp / "one_fit.R"), str(data_csv), str(SPEC)])
        measured = {}
        times = {} if args.in_process else interleaved_cpu_times(whole, args.reps)
        for label, make in ({} if args.in_process else whole).items():
            print(f"  {label} ...", file=sys.stderr, flush=True)
            cpu = statistics.median(times[label])
            ins = callgrind(make()) if use_cg else None
            measured[label] = (cpu, ins)
            print(f"    CPU {cpu:.2f} s, instructions {ins or 0:,}", file=sys.stderr, flush=True)
        r_cpu, r_ins = measured.get("Rscript: lavaan MLR fit", (None, None))
        for label, (cpu, ins) in measured.items():
            target = ""
            if label.startswith("CLI") and r_cpu:
                ok = cpu <= r_cpu / 2 and (ins is None or r_ins is None or ins <= r_ins / 2)
                target = f"≤ ½ Rscript: {'PASS' if ok else 'MISS'} ({r_cpu / cpu:.2f}x CPU" + (
                    f", {r_ins / ins:.2f}x instructions)" if ins and r_ins else ")")
            elif label.startswith("`"):
                target = f"≤ 0.3 s CPU: {'PASS' if cpu <= 0.3 else 'MISS'}"
            rows.append((label, f"{cpu:.2f} s", f"{ins / 1e9:.2f} G" if ins else "-", target))

        worst = check_minimal_equals_ours(data_csv, tmp / "minimal.py")
        if use_cg:
            per_fit = {}
            for kind in ("ours", "minimal"):
                print(f"  in process, {kind} ...", file=sys.stderr, flush=True)
                base = [sys.executable, str(tmp / "in_process.py"), kind]
                tail = [str(data_csv), str(SPEC), str(tmp / "minimal.py")]
                # untimed first: fills the bytecode cache (else the first
                # counted run pays the compilation and the difference is off)
                subprocess.run(base + ["0"] + tail, check=True)
                one = callgrind(base + ["0"] + tail)
                many = callgrind(base + [str(K_FITS)] + tail)
                per_fit[kind] = (many - one) / K_FITS
                print(f"    {per_fit[kind]:,.0f} instructions per fit", file=sys.stderr, flush=True)
            ratio = per_fit["ours"] / per_fit["minimal"]
            rows.append(("in process: one cluster-robust fit", "-",
                         f"{per_fit['ours'] / 1e6:.1f} M",
                         f"{ratio:.1f}x the minimal fit ({per_fit['minimal'] / 1e6:.2f} M): "
                         f"{'PASS' if ratio <= 3 else 'MISS'} (≤ 3x)"))
    lines = [f"# CPU time and instructions of one fit ({datetime.date.today().isoformat()})", "",
             f"`python benchmarks/instructions.py --reps {args.reps}`; load average "
             f"{os.getloadavg()[0]:.1f} at the end", "",
             "| item | CPU (median) | instructions | target |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", f"- CPU: medians of {args.reps} interleaved rounds (one run of each command "
              f"per round), so the machine's drift falls on every command alike",
              f"- {BYTECODE_NOTE}; pyarrow "
              f"{'installed (pandas imports it)' if importlib.util.find_spec('pyarrow') else 'not installed'}",
              f"- minimal fit vs attachpath: largest difference of estimates, SEs, := effects "
              f"and chisq {worst:.1e}"]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.in_process:         # a partial run leaves the committed report alone
        write_text_atomic(REPORT, text)
    return 0


def interleaved_cpu_times(commands: dict, reps: int) -> dict[str, list[float]]:
    """CPU seconds of `reps` runs of each command ({label: make the argv}),
    taken in rounds of one run of each, so that the machine's drift (a
    shared VM's CPU time varies by ±20% from minute to minute) falls on
    every command alike instead of on whichever ran in a slow minute.  One
    untimed run of each first fills the bytecode cache."""
    for make in commands.values():
        cpu_time(make(), 1)
    times = {label: [] for label in commands}
    for i in range(reps):
        print(f"  CPU times, round {i + 1} of {reps}", file=sys.stderr, flush=True)
        for label, make in commands.items():
            times[label] += cpu_time(make(), 1)
    return times


if __name__ == "__main__":
    sys.exit(main())
