"""`attachpath fit`: fit a model; with --out write its estimates, fit measures,
diagram and report.

    $ attachpath fit specs/serial_esat_anx.lav --data clients.csv --cluster therapist \\
          --mc 20000 --seed 1 --out results/
"""

from __future__ import annotations

import sys

from .options import add_fit_options, add_render_options, data_of, fit_options, renders_of


def add_command(subparsers) -> None:
    """Register `attachpath fit` on the CLI's argparse subparsers."""
    p = subparsers.add_parser(
        "fit", help="fit a model and write estimates.csv, standardized.csv and fit.json",
        description="Fit a lavaan-syntax model by ML. With --out DIR: estimates.csv, "
                    "standardized.csv, fit.json, the diagram (SVG and DOT; PDF with --pdf and "
                    "PNG with --png, both by Graphviz's dot) and "
                    "report.html/report.md.")
    p.add_argument("spec", help="model spec (.lav, lavaan syntax)")
    add_fit_options(p)
    p.add_argument("--style", choices=["attachpath", "lavaan"], default="attachpath",
                   help="summary layout: attachpath's (default) or lavaan's summary()")
    p.add_argument("--std-lv", action="store_true",
                   help="lavaan's std.lv=TRUE: latent variances fixed at 1, first "
                        "loadings free")
    p.add_argument("--orthogonal", action="store_true",
                   help="lavaan's orthogonal=TRUE: no covariances among latent variables "
                        "by default")
    p.add_argument("--model-type", choices=["sem", "growth"], default="sem",
                   help="growth: lavaan's growth() defaults (observed intercepts fixed "
                        "at 0, latent means free) for latent growth curves on wide data")
    p.add_argument("--modindices", action="store_true",
                   help="write modindices.csv (lavaan's modificationIndices: mi, epc, "
                        "sepc.lv, sepc.all, sepc.nox) and list the 10 largest")
    p.add_argument("--group", metavar="COL",
                   help="a multiple-group model: one group per value of COL (lavaan's "
                        "group=); writes estimates.csv with lavaan's group column and "
                        "fit.json")
    p.add_argument("--group-equal", metavar="CLASSES", default=None,
                   help="with --group: comma-separated classes equal across groups "
                        "(lavaan's group.equal): loadings, intercepts, regressions, "
                        "residuals, residual.covariances, lv.variances, lv.covariances, "
                        "means")
    p.add_argument("--group-partial", metavar="ROWS", default=None,
                   help="with --group-equal: comma-separated rows left free across "
                        "groups (lavaan's group.partial), e.g. 'visual=~x2,x7~1'")
    p.add_argument("--cluster-se", choices=["cr1", "cr2"], default="cr1",
                   help="cluster-robust meat with few clusters: cr1 (default, lavaan's and "
                        "Mplus' G/(G-1)) or cr2 (Bell & McCaffrey's bias-reduced sandwich); "
                        "needs --se robust and a cluster (the therapists of therapist/client)")
    p.add_argument("--ci-dist", choices=["auto", "normal", "t"], default="auto",
                   help="reference distribution of Wald intervals, p-values and Monte "
                        "Carlo draws: t with G-1 df (G clusters) or normal (lavaan's and "
                        "Mplus' z); auto (default): t(G-1) for --cluster therapist/client "
                        "with --se robust, normal otherwise")
    p.add_argument("--out", help="output directory")
    add_render_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import warnings

    from attachpath.fitting import fit
    from attachpath.files import check_out_dir
    if args.group or args.group_equal or args.group_partial:
        return run_groups(args)
    if args.out:
        check_out_dir(args.out)     # refuse a bad --out before a long fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # every one is kept in res.warnings
        res = fit(args.spec, data_of(args), std_lv=args.std_lv, orthogonal=args.orthogonal,
                  model_type=args.model_type, cluster_se=args.cluster_se,
                  ci_dist=args.ci_dist, **fit_options(args).kwargs())
    # estimates, fit.json, diagram and report replace the old ones together
    written = None
    if args.out:
        from attachpath.export import write_fit_outputs      # the report's modules: on use only
        written = write_fit_outputs(res, args.out, report=True, modindices=args.modindices,
                                    renders=renders_of(args))
    # outputs first: a closed pipe (| head) or a full terminal cannot lose them
    print(res.summary(style=args.style))
    if args.modindices:
        from attachpath.modindices import CAUTION
        mi = res.modindices()
        print(f"\nModification indices (the 10 largest of {len(mi)})")
        print(mi.head(10).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"  {CAUTION}")
    if written:
        print(f"\nWrote {', '.join(written)} to {args.out}")
    for w in res.warnings:
        print(f"attachpath: warning: {w}", file=sys.stderr)
    return 0


def run_groups(args) -> int:
    """`attachpath fit --group COL`: a multiple-group model; prints its
    summary and with --out writes estimates.csv and fit.json."""
    from attachpath.errors import OptionError
    from attachpath.export import write_group_outputs
    from attachpath.files import check_out_dir
    from attachpath.fitting import fit
    for flag, given in (("--modindices", args.modindices),
                        ("--style lavaan", args.style != "attachpath"),
                        ("--cluster-se cr2", args.cluster_se != "cr1"),
                        ("--ci-dist t", args.ci_dist == "t")):
        if given:
            raise OptionError(f"{flag} is not available with --group yet.")
    if args.out:
        check_out_dir(args.out)
    res = fit(args.spec, data_of(args), std_lv=args.std_lv, orthogonal=args.orthogonal,
              model_type=args.model_type, group=args.group,
              group_equal=args.group_equal or (), group_partial=args.group_partial or (),
              **fit_options(args).kwargs())
    written = write_group_outputs(res, args.out, renders=renders_of(args)) if args.out else None
    print(res.summary())
    if written:
        print(f"\nWrote {', '.join(written)} to {args.out}")
    return 0
