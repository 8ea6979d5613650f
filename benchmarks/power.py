"""Benchmarks of `attachpath power` (Monte Carlo power studies on Dask).

    python benchmarks/power.py [--quick] [--repeats N]

Study: the seed study's client-level serial model
(reports/power/population_serial_esat_anx.lav, analysed with
specs/serial_esat_anx.lav), 44 therapists × 7.5 clients (330), ICC 0.1,
therapist-robust SEs; and its two-level version
(reports/power/population_twolevel_serial_esat_anx.lav: 44 therapists × 7.5
clients × 2-10 sessions, the two-level and the client-means analyses).  Each measurement runs in a fresh child process
(`power.py --child ...`) that calls attachpath.power and reports its wall
time (from the call, LocalCluster start-up included) and its own peak RSS
(the client process only: the workers are separate processes).  Medians of
--repeats runs are printed and written to reports/power/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POP = ROOT / "reports" / "power" / "population_serial_esat_anx.lav"
POP2 = ROOT / "reports" / "power" / "population_twolevel_serial_esat_anx.lav"
ANALYSIS = ROOT / "specs" / "serial_esat_anx.lav"
REPORT = ROOT / "reports" / "power" / "benchmarks.md"


def _cpu() -> float:
    """CPU seconds of this process, all threads (with a LocalCluster started
    here: the client, its event loop and the scheduler; not the workers)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(reps: int, workers: int, kind: str = "client") -> None:
    """One study in this process: LocalCluster start-up and the study timed
    apart (workers=0: in process, without Dask, also timing the CPU)."""
    import logging

    import attachpath as ap
    if kind == "twolevel":
        pop = POP2
        kw = dict(therapists=44, clients_per_therapist=7.5, sessions="2-10", icc=0.1,
                  reps=reps, seed=1, chunk_size=25)
    else:
        pop = POP
        kw = dict(analyses=[str(ANALYSIS)], therapists=44, clients_per_therapist=7.5,
                  icc=0.1, reps=reps, seed=1, chunk_size=100)
    startup = 0.0
    cluster = client = None
    if workers:
        import dask
        from distributed import Client, LocalCluster

        from attachpath.power.runner import LEAN_DASK
        t = time.perf_counter()
        with dask.config.set(LEAN_DASK):        # as runner's own LocalCluster
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        # import attachpath on the workers before the clock starts
        client.run(lambda: __import__("attachpath.power.replicate"))
        startup = time.perf_counter() - t
        kw["scheduler"] = cluster.scheduler_address
    else:
        kw["workers"] = 0
    with tempfile.TemporaryDirectory() as out:
        t, c = time.perf_counter(), _cpu()
        res = ap.power(str(pop), out=out, **kw)
        wall, cpu = time.perf_counter() - t, _cpu() - c
    if client is not None:
        client.close()
        cluster.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ind = res.table[res.table.lhs == "anx_ge"].iloc[0]
    print(json.dumps({"wall": wall, "cpu": cpu, "startup": startup, "rss_mb": rss,
                      "power_anx_ge": float(ind.power), "load": os.getloadavg()[0]}))


def measure(reps: int, workers: int, repeats: int, kind: str = "client") -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, __file__, "--child", str(reps), str(workers),
                              kind], capture_output=True, text=True, timeout=3600,
                             check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs)
           for k in ("wall", "cpu", "startup", "rss_mb", "load")}
    return {"reps": reps, "workers": workers, "kind": kind, **med,
            "power_anx_ge": runs[0]["power_anx_ge"], "runs": len(runs)}


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1,000 replicates at most")
    ap.add_argument("--repeats", type=int, default=3, help="runs per item (median)")
    args = ap.parse_args()
    big = 1000 if args.quick else 10000
    mid = big // 5
    rows = []
    for reps, workers, kind in ((mid // 2, 0, "client"), (big, 2, "client"),
                                (mid, 1, "client"), (mid, 2, "client"),
                                (big // 10, 2, "client"), (big // 10, 2, "twolevel"),
                                (big, 1, "client")):
        rows.append(measure(reps, workers, args.repeats, kind))
        r = rows[-1]
        print(f"{kind} {reps} reps, {workers} workers: {r['wall']:.1f} s, client CPU "
              f"{r['cpu']:.1f} s (load {r['load']:.1f})", file=sys.stderr, flush=True)
    load = os.getloadavg()
    lines = [
        "# Power study benchmarks", "",
        f"`python benchmarks/power.py{' --quick' if args.quick else ''} --repeats "
        f"{args.repeats}` on {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average at the end {load[0]:.1f} / "
        f"{load[1]:.1f} / {load[2]:.1f} (other jobs shared the cores).", "",
        "Study: the serial model (reports/power/population_serial_esat_anx.lav analysed "
        "with specs/serial_esat_anx.lav), 44 therapists × 7.5 clients (330), ICC 0.1, "
        "therapist-robust SEs, chunks of 100 replicates ('client'); 'two-level': the "
        "two-level population (population_twolevel_serial_esat_anx.lav), 44 therapists "
        "× 7.5 clients × 2-10 sessions, each replicate fitted by the two-level model "
        "and by the client-means model, chunks of 25. 'study' is the wall time of "
        "ap.power() (outputs included) on a LocalCluster already started ('start-up'); "
        "workers 0 is one process without Dask. Client CPU: CPU seconds of the client "
        "process during ap.power() (all its threads: the main thread folding chunks and "
        "writing outputs, the Dask client loop and the scheduler; getrusage), the figure "
        "that does not depend on other jobs' load. Peak RSS of the client process; "
        f"median of {args.repeats} run(s); load: the 1-minute load average at the end "
        "of each run (2 cores: above 2 means other jobs took CPU from the study).", "",
        "| study | replicates | workers | start-up (s) | study (s) | ms per replicate | "
        "client CPU (s) | client peak RSS (MB) | power of anx_ge | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['kind'].replace('twolevel', 'two-level')} | {r['reps']:,} | "
                     f"{r['workers']} | {r['startup']:.1f} | "
                     f"{r['wall']:.1f} | {1000 * r['wall'] / r['reps']:.2f} | "
                     f"{r['cpu']:.1f} | "
                     f"{r['rss_mb']:.0f} | {r['power_anx_ge']:.3f} | {r['load']:.1f} |")
    speed = rows[2]["wall"] / rows[3]["wall"]
    speed_big = rows[6]["wall"] / rows[1]["wall"]
    mem = rows[1]["rss_mb"] / rows[4]["rss_mb"]
    lines += ["",
              f"- in process: {1000 * rows[0]['cpu'] / rows[0]['reps']:.2f} ms CPU per "
              f"replicate (simulate, fit, robust vcov, delta method)",
              f"- {big:,} replicates on 2 workers: {rows[1]['wall']:.1f} s + "
              f"{rows[1]['startup']:.1f} s start-up (target ≤ 30 s)",
              f"- marginal cost on 2 workers ({big:,} vs {big // 10:,} replicates): "
              f"{1000 * (rows[1]['wall'] - rows[4]['wall']) / (big - big // 10):.2f} ms per "
              f"replicate (the rest is imports, figure and report)",
              f"- 2 workers vs 1 on {big:,} replicates: {speed_big:.2f}× (target ≥ 1.6×; "
              f"load {rows[6]['load']:.1f} and {rows[1]['load']:.1f})",
              f"- 2 workers vs 1 on {mid:,} replicates: {speed:.2f}× (load "
              f"{rows[2]['load']:.1f} and {rows[3]['load']:.1f}; the client's fixed costs, "
              f"imports, figure and report, weigh more here)",
              f"- client CPU on 2 workers: {rows[1]['cpu']:.1f} s for {big:,} replicates, "
              f"{rows[4]['cpu']:.1f} s for {big // 10:,}",
              f"- client peak RSS, {big:,} vs {big // 10:,} replicates: {mem:.2f} "
              f"(target within 20%)",
              f"- two-level study, {big // 10:,} replicates on 2 workers (both analyses "
              f"per replicate): {rows[5]['wall']:.1f} s + {rows[5]['startup']:.1f} s "
              f"start-up", ""]
    text = "\n".join(lines)
    print(text)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    tmp = REPORT.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, REPORT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
