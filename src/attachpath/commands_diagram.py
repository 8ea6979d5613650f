"""The `diagram` subcommand: draw a model, fitted or from the spec alone.

    $ attachpath diagram serial.lav --out serial.svg                 # spec only
    $ attachpath diagram serial.lav --data clients.csv --cluster therapist \\
          --out fig1.png --std --highlight abc

Layout and display directives are read from the spec's `# diagram:` lines
and its sidecar file (see attachpath.diagram.directives).  Without Graphviz
only .svg and .dot can be written; .pdf and .png then fail with exit code 2.
"""

from __future__ import annotations


from attachpath.errors import OutputError



def add_command(subparsers) -> None:
    """Register `attachpath diagram` on the CLI's argparse subparsers."""
    p = subparsers.add_parser(
        "diagram", help="draw a path diagram (SVG, PDF, PNG or DOT)",
        description="Draw the path diagram of a model: with --data the fitted model with "
                    "its estimates, without --data the spec alone (parameter labels and "
                    "fixed values). Layout directives come from '# diagram:' lines in the "
                    "spec and from a sidecar SPEC.diagram file. PDF and PNG need "
                    "Graphviz's 'dot' program; SVG and DOT are always available.")
    p.add_argument("spec", metavar="SPEC", help="model spec (.lav, lavaan syntax)")
    p.add_argument("--data", help="data file (CSV, TSV, Parquet or SPSS .sav) to fit the model")
    p.add_argument("--cluster", metavar="COL", help="column of cluster ids (e.g. therapist)")
    from attachpath.cli import add_na_values
    add_na_values(p)
    p.add_argument("--se", default=None, choices=["standard", "robust", "bootstrap", "none"],
                   help="standard errors (default: standard; robust with --cluster)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap draws with --se bootstrap (default 1000)")
    p.add_argument("--seed", type=int, default=None, help="seed of random procedures")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output file: .svg, .pdf, .png (300 dpi) or .dot")
    p.add_argument("--std", action="store_true", help="standardized (std.all) estimates")
    p.add_argument("--highlight", metavar="NAME",
                   help="draw the paths of this defined (:=) parameter bold")
    p.add_argument("--theme", choices=["apa", "colour", "color"], default=None,
                   help="apa (greyscale, default) or colour")
    p.add_argument("--show", metavar="ELEMENTS", default=None,
                   help="comma-separated elements to switch on (r2, residuals, intercepts, "
                        "covariances, exo, stars, se, ci, note); prefix '-' switches off")
    p.add_argument("--nonsig", choices=["solid", "dashed", "grey"], default=None,
                   help="style of non-significant paths")
    p.add_argument("--layout", choices=["attachpath", "dot"], default="attachpath",
                   help="attachpath's own layout (default) or Graphviz's dot layout")
    p.set_defaults(func=run_diagram)


def run_diagram(args) -> int:
    from attachpath.diagram import check_target, diagram

    out, ext = check_target(args.out)      # before any fitting
    if ext in (".pdf", ".png"):
        from attachpath.diagram import GraphvizMissingError, dot_binary
        if dot_binary() is None:       # fail before any fitting
            raise GraphvizMissingError(
                f"Writing {ext[1:].upper()} needs Graphviz's 'dot' program, which is not "
                f"installed. Install Graphviz (https://graphviz.org/download/; e.g. "
                f"'apt install graphviz', 'brew install graphviz' or 'conda install "
                f"graphviz') or use --out with .svg or .dot.")
    if args.data is None:
        for flag, value in (("--cluster", args.cluster), ("--se", args.se)):
            if value:
                raise OutputError(f"{flag} needs --data (without data the spec alone is drawn).")
        target = args.spec
    else:
        from attachpath.fitting import fit
        se = args.se or ("robust" if args.cluster else "standard")
        from attachpath.cli import data_of
        target = fit(args.spec, data_of(args), cluster=args.cluster, se=se,
                     bootstrap=args.bootstrap, seed=args.seed)
    d = diagram(target, standardized=True if args.std else None, theme=args.theme,
                highlight=args.highlight, show=args.show, nonsig=args.nonsig,
                layout=args.layout)
    d.render(out)
    print(f"Wrote {out}")
    print(d.note)
    for m in d.messages:
        print(f"note: {m}")
    return 0
