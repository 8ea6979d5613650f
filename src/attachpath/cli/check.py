"""`attachpath check`: validate a spec (and its variables against data) without fitting.

    $ attachpath check specs/serial_esat_anx.lav --data clients.csv --cluster therapist
"""

from __future__ import annotations


def add_command(subparsers) -> None:
    """Register `attachpath check` on the CLI's argparse subparsers."""
    p = subparsers.add_parser("check", help="validate a spec (and its variables) without fitting")
    p.add_argument("spec", help="model spec (.lav, lavaan syntax)")
    p.add_argument("--data", help="data file to check the variables against")
    p.add_argument("--cluster", help="column of cluster ids to check (with --data)")
    from .options import add_na_values
    add_na_values(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.cluster and not args.data:
        from attachpath.errors import OptionError
        raise OptionError("--cluster needs --data (the file holding the cluster column).")
    if args.data:
        from attachpath.fitting import check
        from .options import data_of
        pt = check(args.spec, data_of(args), cluster=args.cluster)
    else:
        from attachpath.spec import partable_of
        pt = partable_of(args.spec)
    print(f"{args.spec}: OK: {len(pt.observed)} observed and {len(pt.latent)} latent "
          f"variables, {pt.npar} free parameters, {len(pt.defined())} defined parameters"
          + (f"; all variables found in {args.data} and the data pass the checks"
             if args.data else ""))
    for note in pt.notes:
        print(f"note: {note}")
    return 0
