"""`attachpath compare`: fit alternative specs to the same cases and compare them.

    $ attachpath compare specs/serial_esat_anx.lav specs/serial_esat_anx_partial.lav \\
          specs/parallel_esat_anx.lav --data clients.csv --cluster therapist \\
          --mc 20000 --seed 1 --out comparison/

writes into DIR: comparison.csv (one row per model, named by the spec file's
stem), tests.csv (nested pairs: model_a, model_b, df_diff, chisq_diff,
pvalue, method), information.csv (non-nested pairs: AIC/BIC differences),
effects.csv (defined effects that share a name, side by side), one folder
per model (estimates.csv, standardized.csv, fit.json, diagram.svg/.dot, with
--pdf diagram.pdf, with --png diagram.png) and report.html + report.md.
Other files in DIR are left alone; every file is replaced atomically.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from .options import add_fit_options, add_render_options, data_of, fit_options, renders_of


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
    add_fit_options(p, se_choices=("standard", "robust"), bootstrap=False)
    p.add_argument("--group", metavar="COL",
                   help="compare multiple-group models (one group per value of COL): each "
                        "spec with free groups and with each --group-equal; nested pairs "
                        "are tested (lavaan's lavTestLRT)")
    p.add_argument("--group-equal", metavar="CLASSES", action="append", default=[],
                   help="with --group, repeatable: one more model per value with these "
                        "classes equal across groups, e.g. --group-equal loadings "
                        "--group-equal loadings,intercepts")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output directory (created if missing)")
    add_render_options(p)
    p.set_defaults(func=run_compare)


def run_compare(args) -> int:
    from attachpath.comparison import compare
    from attachpath.errors import OptionError
    from attachpath.files import check_out_dir
    from attachpath.export import write_comparison

    if args.group_equal and not args.group:
        raise OptionError("--group-equal needs a group column: give --group COL.")
    if args.group:
        return run_compare_groups(args)
    if len(args.specs) < 2:
        raise OptionError("compare needs at least two specs.")
    check_out_dir(args.out)
    opts = fit_options(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # every one is kept in the results' warnings
        cmp = compare(list(args.specs), data_of(args), cluster=opts.cluster, se=opts.se,
                      mc_draws=opts.mc_draws, seed=opts.seed, level=opts.level,
                      labels=opts.labels, progress=opts.progress, missing=opts.missing,
                      information=opts.information, auxiliary=opts.auxiliary)
    written = write_comparison(cmp, args.out, renders=renders_of(args))
    # outputs first: a closed pipe (| head) cannot lose them
    print(cmp.summary())
    tops = [w for w in written if "/" not in w]
    print(f"\nWrote {', '.join(tops)} and a folder per model "
          f"({', '.join(cmp.results)}) to {args.out}")
    for name, res in cmp.results.items():
        for w in res.warnings:
            print(f"attachpath: warning: {name}: {w}", file=sys.stderr)
    return 0


def run_compare_groups(args) -> int:
    """`attachpath compare --group COL`: multiple-group models of the same
    cases; writes comparison.csv, tests.csv and a folder per model
    (estimates.csv, fit.json)."""
    from pathlib import Path

    from attachpath.errors import OptionError
    from attachpath.estimate.multigroup import compare_groups
    from attachpath.export import write_group_comparison
    from attachpath.files import check_out_dir
    check_out_dir(args.out)
    stems = [Path(s).stem for s in args.specs]
    if len(set(stems)) < len(stems):
        raise OptionError("Two specs have the same file name; each model is named by its "
                          "file stem, so rename one.")
    cmp = compare_groups(dict(zip(stems, args.specs)), data_of(args), group=args.group,
                         group_equal=[(), *args.group_equal], **fit_options(args).kwargs())
    written = write_group_comparison(cmp, args.out)
    print(cmp.summary())
    print(f"\nWrote {', '.join(w for w in written if '/' not in w)} and a folder per "
          f"model to {args.out}")
    return 0
