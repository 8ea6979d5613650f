"""`attachpath compare`: fit alternative specs to the same cases and compare them.

    $ attachpath compare specs/serial_esat_anx.lav specs/serial_esat_anx_partial.lav \\
          specs/parallel_esat_anx.lav --data clients.csv --cluster therapist \\
          --mc 20000 --seed 1 --out comparison/

writes into DIR: comparison.csv (one row per model, named by the spec file's
stem), tests.csv (nested pairs: model_a, model_b, df_diff, chisq_diff,
pvalue, method), information.csv (non-nested pairs: AIC/BIC differences),
effects.csv (defined effects that share a name, side by side), one folder
per model (estimates.csv, standardized.csv, fit.json, diagram.svg/.dot) and report.html +
report.md.  Other files in DIR are left alone; every file is replaced
atomically.
"""

from __future__ import annotations

import argparse
import sys
import warnings


def add_command(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="fit alternative specs to the same data and compare them",
        description="Fit two or more specs to the same cases; test nested pairs "
                    "(likelihood ratio, or Satorra-Bentler scaled differences with robust "
                    "SEs), compare the others by AIC/BIC and Akaike weights, and put the "
                    "defined (indirect) effects side by side. Writes CSV tables, one folder "
                    "per model and report.html/report.md into --out.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("specs", nargs="+", metavar="SPEC",
                   help="model specs (.lav files); each model is named by its file stem")
    p.add_argument("--data", required=True, help="data file (CSV, TSV, Parquet or SPSS .sav)")
    p.add_argument("--cluster", metavar="COL", help="column of cluster ids (e.g. therapist)")
    p.add_argument("--se", default=None, choices=["standard", "robust"],
                   help="standard errors (default: standard; robust when --cluster is given)")
    p.add_argument("--mc", type=int, default=0, metavar="N",
                   help="Monte Carlo CIs for := parameters from N draws (e.g. 20000)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed of every random procedure")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default .95)")
    from attachpath.cli import add_na_values
    add_na_values(p)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output directory (created if missing)")
    p.set_defaults(func=run_compare)


def run_compare(args) -> int:
    from attachpath.comparison import compare
    from attachpath.errors import AttachpathError
    from attachpath.outputs import check_out_dir
    from attachpath.report import write_comparison

    if len(args.specs) < 2:
        raise AttachpathError("compare needs at least two specs.")
    if args.mc < 0:
        raise AttachpathError(f"--mc must be 0 or a positive number of draws, not {args.mc}.")
    check_out_dir(args.out)
    se = args.se or ("robust" if args.cluster else "standard")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # every one is kept in the results' warnings
        from attachpath.cli import data_of
        cmp = compare(list(args.specs), data_of(args), cluster=args.cluster, se=se,
                      mc_draws=args.mc, seed=args.seed, level=args.level)
    written = write_comparison(cmp, args.out)
    # outputs first: a closed pipe (| head) cannot lose them
    print(cmp.summary())
    tops = [w for w in written if "/" not in w]
    print(f"\nWrote {', '.join(tops)} and a folder per model "
          f"({', '.join(cmp.results)}) to {args.out}")
    for name, res in cmp.results.items():
        for w in res.warnings:
            print(f"attachpath: warning: {name}: {w}", file=sys.stderr)
    return 0
