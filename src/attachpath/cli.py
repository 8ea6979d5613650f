"""The `attachpath` command: parses arguments, calls the API, maps errors to
exit codes (0 success, 1 estimation failed, 2 bad input or usage).

Heavy modules (semopy, pandas) are imported only by the commands that need
them, so `attachpath --help` and `attachpath check` answer quickly.
"""

from __future__ import annotations

import argparse
import sys
import traceback


def _add_fit_options(p: argparse.ArgumentParser, *, out_required=False) -> None:
    p.add_argument("--data", required=True, help="data file (CSV, TSV, Parquet or SPSS .sav)")
    p.add_argument("--cluster", help="column of cluster ids (e.g. therapist)")
    p.add_argument("--se", default=None, choices=["standard", "robust", "bootstrap", "none"],
                   help="standard errors (default: standard; robust when --cluster is given)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap draws with --se bootstrap (default 1000)")
    p.add_argument("--mc", type=int, default=0, metavar="N",
                   help="Monte Carlo CIs for := parameters from N draws (e.g. 20000)")
    p.add_argument("--seed", type=int, default=None, help="seed of every random procedure")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default .95)")
    p.add_argument("--out", required=out_required, help="output directory")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attachpath",
        description="Structural equation models of nested psychotherapy data "
                    "(lavaan syntax, semopy engine, lavaan-checked numbers).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("fit", help="fit a model and write estimates.csv and fit.json")
    p.add_argument("spec", help="model spec (.lav, lavaan syntax)")
    _add_fit_options(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("check", help="validate a spec (and its variables) without fitting")
    p.add_argument("spec")
    p.add_argument("--data", help="data file to check the variables against")
    p.set_defaults(func=cmd_check)

    try:
        from .commands_data import add_commands
        add_commands(sub)
    except ImportError:
        pass
    for name in ("diagram", "compare", "demo"):
        try:
            module = __import__(f"attachpath.commands_{name}", fromlist=["add_command"])
            module.add_command(sub)
        except ImportError:
            pass
    return parser


def _se(args) -> str:
    if args.se:
        return args.se
    return "robust" if args.cluster else "standard"


def cmd_fit(args) -> int:
    from .fitting import fit
    from .outputs import check_out_dir, write_fit_outputs
    if args.out:
        check_out_dir(args.out)
    res = fit(args.spec, args.data, cluster=args.cluster, se=_se(args), level=args.level,
              mc_draws=args.mc, bootstrap=args.bootstrap, seed=args.seed, progress=True)
    print(res.summary())
    if args.out:
        written = write_fit_outputs(res, args.out)
        print(f"\nWrote {', '.join(written)} to {args.out}")
    return 0


def cmd_check(args) -> int:
    if args.data:
        from .fitting import check
        pt = check(args.spec, args.data)
    else:
        from .spec import partable_of
        pt = partable_of(args.spec)
    print(f"{args.spec}: OK: {len(pt.observed)} observed and {len(pt.latent)} latent "
          f"variables, {pt.npar} free parameters, {len(pt.defined())} defined parameters"
          + (f"; all variables found in {args.data}" if args.data else ""))
    for note in pt.notes:
        print(f"note: {note}")
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:       # argparse: 0 for --help, 2 for usage errors
        return int(exc.code or 0)
    if args.version:
        from . import __version__
        print(f"attachpath {__version__}")
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .errors import AttachpathError
    try:
        return int(args.func(args) or 0)
    except AttachpathError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"attachpath: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("attachpath: interrupted; outputs of this run were not written.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        print(f"attachpath: internal error ({type(exc).__name__}: {exc}). "
              f"Rerun with --debug for the traceback and please report it.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
