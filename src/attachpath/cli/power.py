"""`attachpath power`: Monte Carlo power and design planning on Dask.

    $ attachpath power population.lav --n 100,200,400 --reps 2000 --seed 1 --out power/
    $ attachpath power population.lav --therapists 20,44,80 --clients-per-therapist 7.5 \\
          --icc 0.1 --reps 2000 --seed 1 --out power/            # therapist-robust SEs
    $ attachpath power twolevel_population.lav --therapists 20,44,80 \\
          --clients-per-therapist 7.5 --sessions 2-10 --reps 500 --seed 1 --out power/
          # sessions in clients: the two-level and the client-means analyses
    $ attachpath power population.lav --n 200 --reps 10000 --seed 1 \\
          --scheduler tcp://10.0.0.5:8786 --out power/         # an existing Dask cluster

writes into DIR: power.csv (one row per design × analysis × parameter),
power.svg and power.png (power curves with the 80% line), report.html and
provenance.json, replaced together; finished chunks are kept in DIR/.chunks
so `--resume` continues an interrupted study.  Ctrl-C stops the study (exit
130) and keeps the finished chunks.
"""

from __future__ import annotations

import argparse
import sys
import warnings


def _numbers(kind):
    def parse(text: str):
        try:
            return [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number or a comma-separated list of numbers, not '{text}'") from None
    return parse


def add_command(subparsers) -> None:
    p = subparsers.add_parser(
        "power", help="Monte Carlo power of a design (Dask: laptop or cluster)",
        description="Simulate data sets from a population spec with fixed values (lavaan "
                    "syntax, as lavaan's simulateData), fit each analysis to every data set "
                    "and report power, coverage and bias per design, analysis and "
                    "parameter. Runs on a local Dask cluster (one worker process per core) "
                    "or on an existing Dask scheduler.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("population", metavar="POPULATION",
                   help="population spec (.lav) with fixed values, e.g. 'y ~ 0.2*x'")
    p.add_argument("--analysis", action="append", metavar="SPEC",
                   help="analysis spec (.lav), repeatable; default: the population spec "
                        "with its values freed")
    p.add_argument("--n", type=_numbers(int), metavar="N[,N...]",
                   help="numbers of independent clients, one design each")
    p.add_argument("--therapists", type=_numbers(int), metavar="G[,G...]",
                   help="numbers of therapists (nested designs)")
    p.add_argument("--clients-per-therapist", type=_numbers(float), metavar="M[,M...]",
                   help="mean clients per therapist (7.5: caseloads of 7 and 8)")
    p.add_argument("--icc", type=float, default=0.1,
                   help="therapist intraclass correlation of every variable (of every "
                        "client-level variance in session designs; default 0.1)")
    p.add_argument("--sessions", metavar="K|MIN-MAX[,...]",
                   help="session rows per client, for a two-level population: K, or a "
                        "range MIN-MAX with dropout between (e.g. 2-10); one design each")
    p.add_argument("--dropout", type=float, default=0.15,
                   help="session designs: probability of ending after each session from "
                        "MIN on (default 0.15, as the study simulator)")
    p.add_argument("--skip", type=float, default=0.08,
                   help="session designs: probability that an intermediate session has "
                        "no row (default 0.08)")
    p.add_argument("--caseload-shape", type=float, default=1.0, metavar="S",
                   help="session designs: gamma shape of the skewed caseloads (at least 2 "
                        "clients each; default 1.0, as the study simulator); 0: even")
    p.add_argument("--reps", type=int, default=1000, help="replicates per design (default 1000)")
    p.add_argument("--seed", type=int, required=True, help="seed of the whole study")
    p.add_argument("--alpha", type=float, default=0.05, help="test level (default 0.05)")
    p.add_argument("--level", type=float, default=0.95,
                   help="confidence level of the intervals whose coverage is reported (.95)")
    p.add_argument("--se", choices=["standard", "robust"], default=None,
                   help="standard errors (default: robust, clustered by therapist, for "
                        "nested designs; standard otherwise)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of a running Dask scheduler (tcp://host:port)")
    p.add_argument("--workers", type=int, default=None, metavar="K",
                   help="worker processes of the local Dask cluster (default: one per core; "
                        "0: no Dask, run here)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="R",
                   help="replicates per task (default 50); results do not depend on it")
    p.add_argument("--resume", action="store_true",
                   help="continue from the finished chunks saved in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, help="output directory")
    p.set_defaults(func=cmd_power)


def cmd_power(args) -> int:
    from ..power import power
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # population notes are in the report
            res = power(args.population, analyses=args.analysis, n=args.n,
                        therapists=args.therapists,
                        clients_per_therapist=args.clients_per_therapist, icc=args.icc,
                        sessions=args.sessions, dropout=args.dropout, skip=args.skip,
                        caseload_shape=args.caseload_shape,
                        reps=args.reps, seed=args.seed, alpha=args.alpha, level=args.level,
                        se=args.se, scheduler=args.scheduler, workers=args.workers,
                        chunk_size=args.chunk_size, out=args.out, resume=args.resume,
                        progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"attachpath: interrupted; the finished chunks are kept in {args.out}/.chunks "
              f"(continue with --resume); power.csv and the report were not written.",
              file=sys.stderr)
        return 130
    t = res.table
    shown = t[t["op"].isin(["~", ":="])]
    cols = [c for c in ("lhs", "op", "rhs", "level", "analysis", "n", "therapists",
                        "sessions", "power",
                        "coverage", "bias") if c in shown]
    with __import__("pandas").option_context("display.width", 120, "display.max_rows", 60):
        print(shown[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"\nWrote {', '.join(res.written)} to {args.out}")
    for n in res.provenance.get("notes", []):
        print(f"attachpath: note: {n}", file=sys.stderr)
    return 0
