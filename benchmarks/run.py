"""Performance benchmarks of attachpath against its targets, with lavaan side by side.

    python benchmarks/run.py [--quick] [--no-r]

Each in-process item runs in a fresh child process (`run.py --worker ITEM REPS`)
under single-threaded BLAS: one untimed warm-up call, then REPS timed calls; its
peak RSS is that child's own (imports included).  Whole-process items (the CLI,
Rscript) are timed from spawn to exit, with the peak RSS of each run from
os.wait4.  lavaan runs through benchmarks/lavaan_bench.R on the same data,
written to a temporary CSV.  The table is printed and written to
reports/benchmarks.md.  Only public entry points are used.
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
import traceback
from importlib import metadata
from pathlib import Path

from attachpath.files import write_text_atomic
from _process import NOTE as BYTECODE_NOTE, use_bytecode_cache

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "serial_esat_anx.lav"
R_BENCH = ROOT / "benchmarks" / "lavaan_bench.R"
REPORT = ROOT / "reports" / "benchmarks.md"
CLI = shutil.which("attachpath", path=str(Path(sys.executable).parent)) or "attachpath"
MB = 1024  # ru_maxrss is in KiB on Linux

# --- in-process items (run inside a worker child) ---------------------------------


def _same_variable_specs(ap) -> list[str]:
    """The specs of specs/ with the observed variables of serial_esat_anx.lav."""
    ref = set(ap.check(str(SPEC)).observed)
    return [str(p) for p in sorted(SPEC.parent.glob("*.lav"))
            if set(ap.check(str(p)).observed) == ref]


def _svg(res):
    """A callable rendering res as SVG, from whichever public API diagram offers."""
    from attachpath import diagram
    if hasattr(diagram, "render_for_result"):
        return lambda: next(v for k, v in diagram.render_for_result(res).items()
                            if k.endswith(".svg"))
    if hasattr(diagram, "svg"):
        return lambda: diagram.svg(res)
    if hasattr(diagram, "render"):
        return lambda: diagram.render(res, format="svg")
    raise RuntimeError("attachpath.diagram offers no renderer yet "
                       "(render_for_result, svg or render)")


def make_item(name: str):
    import attachpath as ap
    clients = ap.datasets.load_example_clients()

    def fit(**kw):
        return ap.fit(str(SPEC), clients, **kw)

    if name == "fit_robust":
        return lambda: fit(cluster="therapist", se="robust")
    if name == "fit_ml":
        return lambda: fit(se="standard")
    if name == "bootstrap":
        return lambda: fit(cluster="therapist", se="bootstrap", bootstrap=1000, seed=1)
    if name == "twolevel_bootstrap":
        # the study's two-level model on the example's session rows, whole
        # therapists resampled (issue 13); lavaan has no multilevel bootstrap
        # (its ordinary two-level fit: benchmarks/twolevel.py)
        import pandas as pd
        case = json.loads((ROOT / "tests" / "reference" / "twolevel"
                           / "nomixed_twolevel_ml.json").read_text())
        sessions = pd.read_csv(ROOT / "tests" / "reference" / case["data"])
        return lambda: ap.fit(case["model"], sessions, cluster="therapist/client",
                              se="bootstrap", bootstrap=1000, seed=1, progress=False)
    if name == "montecarlo":
        from attachpath.effects import Defined
        from attachpath.estimate.montecarlo import draws
        res = fit(cluster="therapist", se="robust")
        defined, theta, V = Defined.from_partable(res.partable), res.theta, res.vcov.to_numpy()
        return lambda: draws(defined, theta, V, n=20000, seed=1)
    if name == "compare":
        specs = _same_variable_specs(ap)
        return lambda: ap.compare(specs, clients, cluster="therapist")
    if name == "diagram":
        svg = _svg(fit(cluster="therapist", se="robust"))
        out = svg()
        text = out.decode() if isinstance(out, bytes) else str(out)
        if "<svg" not in text:
            raise RuntimeError(f"the diagram call returned no SVG ({type(out).__name__})")
        return svg
    raise ValueError(f"unknown item {name}")


def worker(name: str, reps: int) -> None:
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        call = make_item(name)
        call()  # warm-up
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB
    print(json.dumps({"times": times, "rss_mb": rss}))


# --- measuring from the parent -----------------------------------------------------


def run_once(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of one whole process; raises on failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, cmd))}` exited {proc.returncode}\n{stderr.strip()}")
    return wall, usage.ru_maxrss / MB, stdout


def whole_process(cmd: list[str], reps: int) -> dict:
    run_once(cmd)                                  # untimed: fills the bytecode cache
    runs = [run_once(cmd) for _ in range(reps)]
    return {"times": [r[0] for r in runs], "rss_mb": max(r[1] for r in runs),
            "stdout": runs[-1][2]}


def in_process(name: str, reps: int) -> dict:
    stdout = run_once([sys.executable, __file__, "--worker", name, str(reps)])[2]
    return json.loads(stdout.strip().splitlines()[-1])


# --- report ----------------------------------------------------------------------


def fmt_t(s: float | None) -> str:
    if s is None:
        return "n/a"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def machine(r_info: dict | None) -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    ram = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal")) / 2**20
    from threadpoolctl import threadpool_info
    import numpy  # noqa: F401  (so its BLAS shows in threadpool_info)
    import scipy.linalg  # noqa: F401
    blas = ", ".join(f"{p.get('internal_api')} {p.get('version')} ({p['num_threads']} threads)"
                     for p in threadpool_info()) or "none found"
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "?"
    lines = [f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {ram:.1f} GiB; {platform.platform()}",
             f"- Python {platform.python_version()}, attachpath {metadata.version('attachpath')} "
             f"(git {commit}), numpy {metadata.version('numpy')}, scipy {metadata.version('scipy')}, "
             f"semopy {metadata.version('semopy')}",
             f"- BLAS (numpy, scipy): {blas}; in-process items run under threadpoolctl limits=1, "
             f"CLI runs with the inherited environment; {BYTECODE_NOTE}"]
    if r_info:
        lines.append(f"- R {r_info['R']}, lavaan {r_info['lavaan']}, BLAS {r_info['blas']}")
    else:
        lines.append("- R/lavaan: not run")
    return lines


def table(rows: list[dict]) -> list[str]:
    head = ["item", "reps", "median", "min", "max", "peak RSS", "lavaan median", "ratio",
            "target", "result"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        t = r.get("times")
        cells = [r["label"], str(len(t)) if t else "-",
                 *(fmt_t(f(t)) if t else "n/a" for f in (statistics.median, min, max)),
                 f"{r['rss_mb']:.0f} MB" if r.get("rss_mb") else "-",
                 fmt_t(r["lavaan"]) if r.get("lavaan") else "-",
                 f"{r['ratio']:.1f}x" if r.get("ratio") else "-",
                 r.get("target", "-"), r.get("result", "-")]
        out.append("| " + " | ".join(cells) + " |")
    return out


# --- the run ---------------------------------------------------------------------

R_REPS, BOOT_REPS = (50, 10), (5, 1)  # lavaan fits; every bootstrap run (full, quick)
ITEMS = [  # key, label, kind (in/cli), reps (full, quick)
    ("fit_robust", "cluster-robust fit (MLR), in process", "in", (30, 5)),
    ("fit_ml", "standard (ML) fit, in process", "in", (30, 5)),
    ("bootstrap", "cluster bootstrap 1,000 draws, in process", "in", BOOT_REPS),
    ("cli_bootstrap", "cluster bootstrap 1,000 draws, CLI whole process", "cli", BOOT_REPS),
    ("cli_rss", "peak RSS of the CLI bootstrap", None, None),
    ("twolevel_bootstrap", "two-level therapist bootstrap 1,000 draws, in process", "in",
     BOOT_REPS),
    ("montecarlo", "Monte Carlo draws, 20,000, in process", "in", (30, 5)),
    ("cli_help", "`attachpath --help`, whole process", "cli", (5, 2)),
    ("cli_check", "`attachpath check SPEC`, whole process", "cli", (5, 2)),
    ("compare", "compare specs sharing the variables, in process", "in", (10, 2)),
    ("diagram", "diagram (SVG) of the robust fit, in process", "in", (10, 2)),
]


def targets(rows: dict) -> None:
    """Fill target and PASS/MISS (a ratio target without lavaan is 'n/a')."""
    def check(key, text, time_max=None, ratio_min=None, rss_max=None):
        r = rows[key]
        r["target"] = text
        if "error" in r:
            r["result"] = "ERROR"
            return
        ok, missing = [], False
        if time_max is not None:
            ok.append(statistics.median(r["times"]) <= time_max)
        if rss_max is not None:
            ok.append(r["rss_mb"] <= rss_max)
        if ratio_min is not None:
            if r.get("ratio"):
                ok.append(r["ratio"] >= ratio_min)
            else:
                missing = True
        r["result"] = ("PASS" if all(ok) else "MISS") + (" (ratio n/a)" if missing else "")

    check("fit_robust", "≤ 5 ms, ≥ 7x lavaan", 0.005, 7)
    check("bootstrap", "≤ 0.5 s", 0.5)
    check("cli_bootstrap", "≤ 3 s, ≥ 5x Rscript", 3.0, 5)
    check("cli_rss", "≤ 300 MB", rss_max=300)
    check("montecarlo", "≤ 50 ms", 0.05)
    check("twolevel_bootstrap", "≤ 20 s", 20.0)
    check("cli_help", "≤ 0.5 s", 0.5)
    check("cli_check", "≤ 0.5 s", 0.5)
    for key in ("fit_ml", "compare", "diagram"):  # no target: timings (and ratio) only
        error = "error" in rows[key]
        rows[key].update(target="-", result=("n/a" if key == "diagram" else "ERROR") if error else "-")


def lavaan_available() -> bool:
    return bool(shutil.which("Rscript")) and subprocess.run(
        ["Rscript", "-e", "library(lavaan)"], capture_output=True).returncode == 0


def measure_attachpath(data_csv: Path, pick: int) -> tuple[dict, list]:
    cli = {"cli_bootstrap": [CLI, "fit", str(SPEC), "--data", str(data_csv), "--cluster", "therapist",
                             "--se", "bootstrap", "--bootstrap", "1000", "--seed", "1"],
           "cli_help": [CLI, "--help"],
           "cli_check": [CLI, "check", str(SPEC)]}
    rows, errors = {}, []
    for key, label, kind, reps in ITEMS:
        rows[key] = {"label": label}
        if kind is None:
            continue
        print(f"  {label} ...", file=sys.stderr, flush=True)
        try:
            rows[key].update(in_process(key, reps[pick]) if kind == "in"
                             else whole_process(cli[key], reps[pick]))
        except Exception as exc:
            rows[key]["error"] = str(exc) if isinstance(exc, RuntimeError) else traceback.format_exc()
            errors.append((label, rows[key]["error"]))
    boot = rows["cli_bootstrap"]
    rows["cli_rss"].update({k: boot[k] for k in ("rss_mb", "error") if k in boot})
    return rows, errors


def measure_lavaan(rows: dict, data_csv: Path, pick: int) -> dict:
    """Runs lavaan_bench.R, adds lavaan medians and ratios to rows; R's facts."""
    print("  lavaan ...", file=sys.stderr, flush=True)
    r = json.loads(run_once(["Rscript", str(R_BENCH), "fits", str(SPEC), str(data_csv),
                             str(R_REPS[pick])])[2])
    boot = whole_process(["Rscript", str(R_BENCH), "bootstrap", str(SPEC), str(data_csv), "1000"],
                         BOOT_REPS[pick])
    lavaan = {"fit_robust": statistics.median(r["mlr_cluster"]), "fit_ml": statistics.median(r["ml"]),
              "bootstrap": json.loads(boot["stdout"])["bootstrap"][0],
              "cli_bootstrap": statistics.median(boot["times"])}
    for key, value in lavaan.items():
        rows[key]["lavaan"] = value
        if rows[key].get("times"):
            rows[key]["ratio"] = value / statistics.median(rows[key]["times"])
    return {**r, "boot_rss": boot["rss_mb"], "boot_reps": len(boot["times"])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--no-r", action="store_true", help="skip lavaan")
    ap.add_argument("--worker", nargs=2, metavar=("ITEM", "REPS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return 0

    use_bytecode_cache()
    command = "python benchmarks/run.py" + " --quick" * args.quick + " --no-r" * args.no_r
    pick = int(args.quick)
    r_info = None
    with tempfile.TemporaryDirectory() as tmp:
        import attachpath
        data_csv = Path(tmp) / "clients.csv"
        attachpath.datasets.load_example_clients().to_csv(data_csv, index=False)
        rows, errors = measure_attachpath(data_csv, pick)
        if not args.no_r and lavaan_available():
            try:
                r_info = measure_lavaan(rows, data_csv, pick)
            except Exception:
                errors.append(("lavaan", traceback.format_exc()))
    targets(rows)

    lines = ["# attachpath performance benchmarks", "",
             f"Run {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} with `{command}`.", "",
             *machine(r_info), "", *table(list(rows.values())), "", "Notes:", "",
             "- In-process items: median/min/max over the timed reps after one warm-up call; "
             "peak RSS is the worker process's own (imports included).",
             "- Whole-process items: wall time from spawn to exit; peak RSS is the largest "
             "of the runs (os.wait4).",
             "- ratio = lavaan median / attachpath median. Specs compared: those of specs/ "
             "with the observed variables of serial_esat_anx.lav."]
    if r_info:
        lines += [
            f"- lavaan: `sem(..., cluster=\"therapist\", estimator=\"MLR\")` and plain `sem()`, "
            f"median of {len(r_info['ml'])} reps inside one R session after a warm-up. "
            f"Bootstrap: `sem(model, data, se=\"bootstrap\", bootstrap=1000)`, timed inside R "
            f"(in-process row) and as {r_info['boot_reps']} whole `Rscript` runs (CLI row). "
            f"lavaan 0.6 cannot resample clusters, so its bootstrap is an ordinary case "
            f"bootstrap, while attachpath's resamples therapists.",
            f"- lavaan peak RSS: {r_info['peak_rss_mb']:.0f} MB (R session of the fits), "
            f"{r_info['boot_rss']:.0f} MB (whole Rscript bootstrap run)."]
    # two-level fits beside lavaan (issue 12), measured by benchmarks/twolevel.py
    two = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "twolevel.py")]
                         + (["--reps", "5", "--cli-reps", "2"] if args.quick else [])
                         + (["--no-r"] if args.no_r else []),
                         capture_output=True, text=True)
    if two.returncode == 0:
        lines += ["", "## Two-level fits", "", *two.stdout.strip().splitlines()[1:]]
    else:
        errors.append(("two-level", two.stderr[-2000:]))
    def section(script, extra, heading, table_head, label, lavaan=True):
        """Run another benchmark script and take the last table it prints."""
        run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script)] + extra
                             + (["--no-r"] if args.no_r and lavaan else []),
                             capture_output=True, text=True)
        if run.returncode == 0:
            table_at = run.stdout.rfind(table_head)
            lines.extend(["", heading, "", *run.stdout[table_at:].strip().splitlines()])
        else:
            errors.append((label, run.stderr[-2000:]))
    # the cluster-robust fit at 330 to 1,000,000 rows beside lavaan (issue 17,
    # item 14), measured by benchmarks/large.py (a few minutes: not with --quick)
    if not args.quick:
        section("large.py", [], "## Cluster-robust fit at growing sizes", "| rows |", "large")
    # latent models and path models of 5-40 variables beside lavaan, estimates
    # checked within 1e-4 in the same run (issue 19), by benchmarks/latent.py
    section("latent.py", ["--reps", "3"] if args.quick else [],
            "## Latent and larger models", "| model |", "latent")
    # FIML fits beside lavaan (issue 14), by benchmarks/fiml.py (lavaan's
    # two-level FIML takes minutes: one Rscript run)
    section("fiml.py", ["--reps", "3", "--cli-reps", "1"] if args.quick else [],
            "## FIML fits", "| item |", "fiml")
    # whole-process CPU and callgrind instruction counts of one CLI fit against
    # one Rscript run, and per-fit instructions against a minimal numpy fit
    # (issue 19), by benchmarks/instructions.py (callgrind: a few minutes)
    section("instructions.py", ["--reps", "2"] if args.quick else [],
            "## CPU time and instructions", "| item |", "instructions")
    # Monte Carlo power studies on Dask (issue 15), by benchmarks/power.py
    # (it has no lavaan side: lavaan has no power tool)
    section("power.py", ["--quick", "--repeats", "1"] if args.quick else ["--repeats", "1"],
            "## Power studies on Dask", "| study |", "power", lavaan=False)
    if errors:
        lines += ["", "## Errors", ""]
        for label, err in errors:
            lines += [f"### {label}", "", "```", err.strip(), "```", ""]
    text = "\n".join(lines).rstrip() + "\n"
    print(text)
    write_text_atomic(REPORT, text)
    return 1 if any(r.get("result") == "ERROR" for r in rows.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
