"""The options the commands share, declared once: the fit options
(`add_fit_options`) and the FitOptions they make (`fit_options`), with the
one SE default rule of attachpath.options."""

from __future__ import annotations

import argparse

SE_HELP = "standard errors (default: robust, i.e. cluster-robust, with --cluster; else standard)"


def add_fit_options(p: argparse.ArgumentParser, *, se_choices=("standard", "robust", "bootstrap", "none"),
                    data_required: bool = True, bootstrap: bool = True, mc: bool = True,
                    level: bool = True) -> None:
    """--data, --cluster, --se and (as asked) --bootstrap/--boot-ci, --mc,
    --level, then --seed, --labels and --quiet."""
    p.add_argument("--data", required=data_required,
                   help="data file (CSV, TSV, Parquet or SPSS .sav)")
    p.add_argument("--cluster", metavar="COL", help="column of cluster ids (e.g. therapist)")
    p.add_argument("--se", default=None, choices=list(se_choices), help=SE_HELP)
    if bootstrap:
        p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                       help="bootstrap draws with --se bootstrap (default 1000)")
        p.add_argument("--boot-ci", default="percentile",
                       # estimate/bootstrap.INTERVALS, written out: --help loads no numpy
                       choices=["percentile", "bca", "studentized"],
                       help="bootstrap intervals: percentile (default), bca, or studentized "
                            "(bootstrap-t from each draw's sandwich SEs)")
    if mc:
        p.add_argument("--mc", type=int, default=0, metavar="N",
                       help="Monte Carlo CIs for := parameters from N draws (e.g. 20000)")
    if level:
        p.add_argument("--level", type=float, default=0.95,
                       help="confidence level (default .95)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed of every random procedure")
    p.add_argument("--labels", choices=["data", "names"], default="data",
                   help="name variables in diagrams and reports by the data's variable "
                        "labels (SPSS files; default, when present) or by the spec's names")
    p.add_argument("--missing", default="listwise",
                   choices=["listwise", "fiml", "fiml.x", "ml", "ml.x"],
                   help="missing values: listwise deletion (default), fiml (full-information "
                        "ML; lavaan's ml: rows with a missing covariate dropped) or fiml.x "
                        "(lavaan's ml.x: those rows kept)")
    p.add_argument("--auxiliary", default=None, metavar="COLS",
                   help="comma-separated auxiliary variables for --missing fiml: saturated "
                        "correlates (Graham 2003) that inform the missing values without "
                        "entering the model")
    p.add_argument("--information", choices=["expected", "observed"], default=None,
                   help="information matrix of standard SEs (default as lavaan: expected "
                        "for complete single-level data, observed for two-level or FIML)")
    add_na_values(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def add_na_values(p: argparse.ArgumentParser) -> None:
    """--na-values for every command that reads a data file."""
    p.add_argument("--na-values", default=None, metavar="CODES",
                   help="comma-separated missing-value codes in the data, e.g. "
                        "--na-values=-99,-999 (with '=' so a leading minus is not an option)")


def add_render_options(p: argparse.ArgumentParser) -> None:
    """--pdf and --png for the commands that write a diagram into --out (fit,
    compare): Graphviz's renders of the figure, on request (see
    attachpath.diagram.diagram_files)."""
    p.add_argument("--pdf", action="store_true",
                   help="also write diagram.pdf (vector; needs Graphviz). The SVG is "
                        "always written, the same with or without Graphviz")
    p.add_argument("--png", action="store_true",
                   help="also write diagram.png (300 dpi; needs Graphviz)")


def renders_of(args) -> tuple[str, ...]:
    """The renders --pdf and --png ask for, as diagram_files takes them
    (attachpath.diagram.RENDERS, written out: --help loads no diagram code)."""
    return tuple(kind for kind in ("pdf", "png") if getattr(args, kind, False))


def na_values(codes: str) -> list[str]:
    return [c.strip() for c in codes.split(",") if c.strip()]


def data_of(args):
    """args.data as fit() takes it: the path, or the file read with the
    declared missing-value codes."""
    codes = getattr(args, "na_values", None)
    if not codes or not getattr(args, "data", None):
        return getattr(args, "data", None)
    from attachpath.data.io import read_data
    return read_data(args.data, na_values=na_values(codes))


def inputs_of(args) -> list[str]:
    """The files a command reads (spec, data, sessions): no output may replace one."""
    out = []
    for name in ("spec", "specs", "data", "sessions"):
        value = getattr(args, name, None)
        out += value if isinstance(value, list) else [value] if isinstance(value, str) else []
    return out


def fit_options(args):
    """The FitOptions of parsed arguments (options a command lacks keep their defaults)."""
    from attachpath.options import FitOptions
    d = FitOptions()
    return FitOptions(cluster=args.cluster, se=args.se,
                      level=getattr(args, "level", d.level),
                      mc_draws=getattr(args, "mc", d.mc_draws),
                      bootstrap=getattr(args, "bootstrap", d.bootstrap),
                      boot_ci=getattr(args, "boot_ci", d.boot_ci),
                      seed=args.seed, labels=args.labels,
                      progress=False if args.quiet else None,
                      missing=getattr(args, "missing", d.missing),
                      information=getattr(args, "information", d.information),
                      auxiliary=tuple(c.strip() for c in
                                      (getattr(args, "auxiliary", None) or "").split(",")
                                      if c.strip()))


def usage_problems(args) -> list[str]:
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
    for kind in renders_of(args):
        if not getattr(args, "out", None):
            out.append(f"--{kind} writes diagram.{kind} into the --out folder: give --out DIR.")
        elif args.command == "compare" and getattr(args, "group", None):
            out.append(f"--{kind}: compare --group writes no diagrams (only the tables and "
                       f"each model's estimates.csv and fit.json).")
    return out
