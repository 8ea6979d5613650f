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
    p.add_argument("--boot-ci", default="percentile", choices=["percentile", "bca"],
                   help="bootstrap intervals: percentile (default) or bca")
    p.add_argument("--mc", type=int, default=0, metavar="N",
                   help="Monte Carlo CIs for := parameters from N draws (e.g. 20000)")
    p.add_argument("--seed", type=int, default=None, help="seed of every random procedure")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default .95)")
    p.add_argument("--out", required=out_required, help="output directory")
    add_na_values(p)


def add_na_values(p: argparse.ArgumentParser) -> None:
    """--na-values for every command that reads a data file."""
    p.add_argument("--na-values", default=None, metavar="CODES",
                   help="comma-separated missing-value codes in the data, e.g. -99,-999")


def data_of(args):
    """args.data as fit() takes it: the path, or the file read with the
    declared missing-value codes."""
    codes = getattr(args, "na_values", None)
    if not codes or not getattr(args, "data", None):
        return getattr(args, "data", None)
    from .data.io import read_data
    return read_data(args.data, na_values=na_values(codes))


def na_values(codes: str) -> list[str]:
    return [c.strip() for c in codes.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attachpath",
        description="Structural equation models of nested psychotherapy data "
                    "(lavaan syntax, semopy engine, lavaan-checked numbers).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("fit", help="fit a model and write estimates.csv, standardized.csv and fit.json")
    p.add_argument("spec", help="model spec (.lav, lavaan syntax)")
    _add_fit_options(p)
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("check", help="validate a spec (and its variables) without fitting")
    p.add_argument("spec", help="model spec (.lav, lavaan syntax)")
    p.add_argument("--data", help="data file to check the variables against")
    p.add_argument("--cluster", help="column of cluster ids to check (with --data)")
    add_na_values(p)
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
        check_out_dir(args.out)     # refuse a bad --out before a long fit
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # every one is kept in res.warnings
        res = fit(args.spec, data_of(args), cluster=args.cluster, se=_se(args),
                  level=args.level, mc_draws=args.mc, bootstrap=args.bootstrap,
                  boot_ci=args.boot_ci,
                  seed=args.seed, progress=True)
    # estimates, fit.json, diagram and report replace the old ones together
    written = write_fit_outputs(res, args.out, report=True) if args.out else None
    # outputs first: a closed pipe (| head) or a full terminal cannot lose them
    print(res.summary())
    if written:
        print(f"\nWrote {', '.join(written)} to {args.out}")
    for w in res.warnings:
        print(f"attachpath: warning: {w}", file=sys.stderr)
    return 0


def cmd_check(args) -> int:
    if args.cluster and not args.data:
        from .errors import AttachpathError
        raise AttachpathError("--cluster needs --data (the file holding the cluster column).")
    if args.data:
        from .fitting import check
        pt = check(args.spec, data_of(args), cluster=args.cluster)
    else:
        from .spec import partable_of
        pt = partable_of(args.spec)
    print(f"{args.spec}: OK: {len(pt.observed)} observed and {len(pt.latent)} latent "
          f"variables, {pt.npar} free parameters, {len(pt.defined())} defined parameters"
          + (f"; all variables found in {args.data} and the data pass the checks"
             if args.data else ""))
    for note in pt.notes:
        print(f"note: {note}")
    return 0


def _usage_problems(args) -> list[str]:
    """Option values every command refuses before doing any work."""
    out = []
    seed = getattr(args, "seed", None)
    if seed is not None and seed < 0:
        out.append(f"--seed must be a whole number of 0 or more, not {seed}.")
    level = getattr(args, "level", None)
    if level is not None and not 0 < level < 1:       # also catches nan
        hint = f" For a {level:g}% interval write {level / 100:g}." if 1 < level < 100 else ""
        out.append(f"--level must be a confidence level between 0 and 1 (e.g. 0.95), "
                   f"not {level:g}.{hint}")
    mc = getattr(args, "mc", None)
    if mc is not None and mc < 0:
        out.append(f"--mc must be 0 or a positive number of draws, not {mc}.")
    boot = getattr(args, "bootstrap", None)
    if boot is not None and (boot < 0 or (getattr(args, "se", None) == "bootstrap" and boot < 2)):
        out.append(f"--bootstrap must be a number of draws of at least 2, not {boot}.")
    return out


def _inputs_of(args) -> list[str]:
    """The files a command reads (spec, data, sessions): no output may replace one."""
    out = []
    for name in ("spec", "specs", "data", "sessions"):
        value = getattr(args, name, None)
        out += value if isinstance(value, list) else [value] if isinstance(value, str) else []
    return out


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one plain line on stderr (no source file or code line)."""
    print(f"attachpath: warning: {message}", file=sys.stderr)


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
        print("attachpath: error: give a command, as in 'attachpath fit model.lav --data "
              "clients.csv' (the commands are listed above).", file=sys.stderr)
        return 2
    problems = _usage_problems(args)
    if problems:
        print(f"attachpath {args.command}: error: {problems[0]}", file=sys.stderr)
        return 2
    from .errors import AttachpathError
    from .guard import protected
    import warnings
    try:
        with warnings.catch_warnings(), protected(_inputs_of(args)):
            if args.debug:
                warnings.simplefilter("default")
            else:
                # users see attachpath's own warnings, once each, as plain lines;
                # numerical noise of the libraries only with --debug
                warnings.simplefilter("ignore")
                from .errors import AttachpathWarning
                warnings.simplefilter("default", AttachpathWarning)
                warnings.showwarning = _show_warning
            code = int(args.func(args) or 0)
            sys.stdout.flush()
            return code
    except BrokenPipeError:
        # the reader of stdout went away (e.g. `| head`); files are already written
        import os
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
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
