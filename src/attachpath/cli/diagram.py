"""The `diagram` subcommand: draw a model, fitted or from the spec alone.

    $ attachpath diagram serial.lav --out serial.svg                 # spec only
    $ attachpath diagram serial.lav --data clients.csv --cluster therapist \\
          --out fig1.png --std --highlight abc

Layout and display directives are read from the spec's `# diagram:` lines
and its sidecar file (see attachpath.diagram.directives).  Without Graphviz
only .svg and .dot can be written; .pdf and .png then fail with exit code 2.
"""

from __future__ import annotations


from .options import add_fit_options, data_of, fit_options


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
    add_fit_options(p, data_required=False, mc=False, level=False)
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
                from attachpath.errors import OptionError
                raise OptionError(f"{flag} needs --data (without data the spec alone is drawn).")
        target = args.spec
    else:
        from attachpath.fitting import fit
        target = fit(args.spec, data_of(args), **fit_options(args).kwargs())
    d = diagram(target, standardized=True if args.std else None, theme=args.theme,
                highlight=args.highlight, show=args.show, nonsig=args.nonsig,
                layout=args.layout)
    d.render(out)
    print(f"Wrote {out}")
    print(d.note)
    for m in d.messages:
        print(f"note: {m}")
    return 0
