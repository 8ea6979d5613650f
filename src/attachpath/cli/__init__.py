"""The `attachpath` command: parses arguments, calls the API, maps errors to
exit codes (0 success, 1 estimation failed, 2 bad input or usage).

One module per command (fit, check, diagram, compare, prepare, simulate,
demo), each with `add_command(subparsers)` and registered in COMMANDS below;
options.py declares the options they share.  Heavy modules (semopy, pandas)
are imported only when a command runs, so `attachpath --help` and
`attachpath check` answer quickly.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import traceback


# Every command, in the order of `attachpath --help`: the module
# attachpath.cli.<name> with add_command(subparsers).  A new command is one
# more name here; a module that fails to import is an error, never a command
# dropped silently.
# shared helpers of the commands (issue 17's --na-values)
from .options import add_na_values, data_of, na_values  # noqa: E402,F401

COMMANDS = ("fit", "check", "prepare", "simulate", "diagram", "compare", "demo", "power")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with `only`, a command's name, the parser
    of that command alone (what main uses: argparse's add_argument costs
    about 0.2 ms an option, and the other commands' 120 options would be a
    twentieth of a CLI fit's CPU time)."""
    parser = argparse.ArgumentParser(
        prog="attachpath",
        description="Structural equation models of nested psychotherapy data "
                    "(lavaan syntax, semopy engine, lavaan-checked numbers).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only in COMMANDS else COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_command(sub)
    return parser


def _command_named(argv) -> str | None:
    """The command an argument list names: its first word that is not an
    option (the global options take no values), or None."""
    return next((a for a in argv if not a.startswith("-")), None)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one plain line on stderr (no source file or code line)."""
    print(f"attachpath: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    from attachpath.threads import start_single_threaded
    start_single_threaded()         # before numpy: BLAS never starts its thread pool
    # A command allocates some 300,000 objects importing its modules, and they
    # live as long as the process: the collector's default pass every 700
    # allocations spent 5% of a CLI fit's CPU scanning them.  Cycles are still
    # collected, every 50,000 allocations.
    gc.set_threshold(50_000, 10, 10)
    parser = build_parser(only=_command_named(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:       # argparse: 0 for --help, 2 for usage errors
        return int(exc.code or 0)
    if args.version:
        from attachpath import __version__
        print(f"attachpath {__version__}")
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        print("attachpath: error: give a command, as in 'attachpath fit model.lav --data "
              "clients.csv' (the commands are listed above).", file=sys.stderr)
        return 2
    from .options import usage_problems
    problems = usage_problems(args)
    if problems:
        print(f"attachpath {args.command}: error: {problems[0]}", file=sys.stderr)
        return 2
    from attachpath.errors import AttachpathError
    from attachpath.guard import protected
    from .options import inputs_of
    import warnings
    try:
        with warnings.catch_warnings(), protected(inputs_of(args)):
            if args.debug:
                warnings.simplefilter("default")
            else:
                # users see attachpath's own warnings, once each, as plain lines;
                # numerical noise of the libraries only with --debug
                warnings.simplefilter("ignore")
                from attachpath.errors import AttachpathWarning
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
