"""The `prepare` and `simulate` subcommands of the attachpath CLI.

`add_commands(subparsers)` registers both on the CLI's argparse subparsers;
each sets `func(args) -> int`, which prints a short summary and returns 0.
Bad input raises attachpath errors (the CLI maps them to exit codes).

Example::

    $ attachpath prepare sessions.csv --client client --therapist therapist \\
          --session session --esat --out clients.csv
    $ attachpath simulate --seed 7 --out sim7/
"""

from __future__ import annotations

from pathlib import Path

from attachpath.errors import OutputError


def add_commands(subparsers) -> None:
    """Register `prepare` and `simulate` on an argparse subparsers object.

    Example::

        >>> parser = argparse.ArgumentParser(prog="attachpath")
        >>> add_commands(parser.add_subparsers(dest="command"))
        >>> parser.parse_args(["simulate", "--seed", "1", "--out", "d"]).seed
        1
    """
    p = subparsers.add_parser(
        "prepare", help="check session data and aggregate it to one row per client",
        description="Check the nesting of long session data (sessions in clients in "
                    "therapists) and write one row per client: client means of the "
                    "session-level variables, their counts (<var>_n), n_sessions and the "
                    "client-level variables. Nothing is written if a check fails.")
    p.add_argument("sessions", metavar="SESSIONS",
                   help="session data (.csv, .tsv, .parquet or .sav)")
    p.add_argument("--client", default="client", metavar="COL",
                   help="client id column (default: client)")
    p.add_argument("--therapist", default="therapist", metavar="COL",
                   help="therapist id column (default: therapist)")
    p.add_argument("--session", default=None, metavar="COL",
                   help="session number column (default: 'session' if present)")
    p.add_argument("--session-vars", default=None, metavar="COLS",
                   help="comma-separated session-level variables (default: inferred)")
    p.add_argument("--client-vars", default=None, metavar="COLS",
                   help="comma-separated client-level variables (default: inferred)")
    p.add_argument("--within", default=None, metavar="FILE",
                   help="also write person-mean-centred session scores (CSV) here")
    from attachpath.cli import add_na_values
    add_na_values(p)
    p.add_argument("--esat", action="store_true",
                   help="add esat_anx and esat_avoid (computed across client means)")
    p.add_argument("--out", required=True, metavar="CLIENTS.csv",
                   help="output CSV, one row per client")
    p.set_defaults(func=run_prepare)

    s = subparsers.add_parser(
        "simulate", help="simulate a data set with known between-client paths",
        description="Simulate CATS/TDS session data of clients nested in therapists and "
                    "write sessions.csv and truth.json into DIR (other files there are "
                    "left alone).")
    s.add_argument("--seed", type=int, required=True, metavar="S", help="random seed")
    s.add_argument("--out", required=True, metavar="DIR", help="output directory")
    s.add_argument("--therapists", type=int, default=44, metavar="N",
                   help="number of therapists (default: 44)")
    s.add_argument("--clients", type=int, default=330, metavar="N",
                   help="number of clients (default: 330)")
    s.add_argument("--min-sessions", type=int, default=2, metavar="N",
                   help="fewest session rows per client (default: 2)")
    s.add_argument("--max-sessions", type=int, default=10, metavar="N",
                   help="most session rows per client (default: 10)")
    s.add_argument("--missing-post", type=float, default=0.0, metavar="P",
                   help="share of clients without iip_post (default: 0)")
    s.set_defaults(func=run_simulate)


def _split(text):
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _client_labels(labels: dict, prep) -> dict:
    out = dict(labels)
    for v in prep.session_vars:
        base = labels.get(v, v)
        out[v] = f"{base} (client mean)"
        out[f"{v}_n"] = f"sessions the mean of {v} rests on"
    out["n_sessions"] = "sessions of the client"
    return out


def _within_labels(labels: dict, prep) -> dict:
    out = dict(labels)
    for v in prep.session_vars:
        out[f"{v}_within"] = f"{labels.get(v, v)} minus the client mean"
    return out


def run_prepare(args) -> int:
    """Run `attachpath prepare`: read, check, aggregate, then write (all or nothing)."""
    from attachpath.data.io import check_table_format, encode_table, read_data, \
        write_texts_atomic
    from attachpath.data.prepare import esat_scores, prepare

    src, out = Path(args.sessions), Path(args.out)
    within = Path(args.within) if args.within else None
    for target, flag in ((out, "--out"), (within, "--within")):
        if target is not None and _same_file(src, target):
            raise OutputError(f"{flag} '{target}' is the input file; choose another "
                              f"output path so the session data are not overwritten.")
    if within is not None and _same_file(out, within):
        raise OutputError(f"--out and --within both point to '{out}'; give two files.")
    for target, flag in ((out, "--out"), (within, "--within")):
        if target is not None:
            check_table_format(target, flag)

    from attachpath.cli import na_values
    data = read_data(src, na_values=na_values(args.na_values) if args.na_values else None)
    prep = prepare(data.frame, client=args.client, therapist=args.therapist,
                   session=args.session, session_vars=_split(args.session_vars),
                   client_vars=_split(args.client_vars), within=within is not None)
    clients = esat_scores(prep.clients, level="client", client=args.client) \
        if args.esat else prep.clients
    # the format the extension names; SPSS keeps the variable labels of the
    # session file, and the client means carry them too
    items = [(encode_table(clients, out, _client_labels(data.labels, prep)), out)]
    if within is not None:
        items.append((encode_table(prep.within, within, _within_labels(data.labels, prep)),
                      within))
    write_texts_atomic(items)

    r = prep.report
    who = f"{r['clients']} clients" + (f" of {r['therapists']} therapists"
                                       if r["therapists"] is not None else "")
    print(f"Read {r['rows']} session rows of {who} from {src}.")
    print(f"Wrote {len(clients)} client rows to {out}: {len(prep.session_vars)} "
          f"session-level variables averaged, {len(prep.client_vars)} client-level "
          f"variables" + (", esat_anx and esat_avoid added" if args.esat else "") + ".")
    if prep.session_vars:
        print(f"Session-level (client means): {', '.join(map(str, prep.session_vars))}.")
    if prep.client_vars:
        print(f"Client-level (carried over): {', '.join(map(str, prep.client_vars))}.")
    if r["left_out"]:
        print(f"Left out: {', '.join(map(str, r['left_out']))}.")
    if within is not None:
        print(f"Wrote {len(prep.within)} within-client session rows to {within}.")
    return 0


def run_simulate(args) -> int:
    """Run `attachpath simulate`: write sessions.csv and truth.json into --out."""
    from attachpath.simulate import simulate, write_simulation

    sim = simulate(seed=args.seed, n_therapists=args.therapists, n_clients=args.clients,
                   min_sessions=args.min_sessions, max_sessions=args.max_sessions,
                   missing_post=args.missing_post)
    csv_path, truth_path = write_simulation(sim, args.out)
    t = sim.truth
    print(f"Simulated {len(sim.sessions)} sessions of {args.clients} clients and "
          f"{args.therapists} therapists (seed {args.seed}).")
    print(f"True between-client paths: a = {t['a']:.4f}, b = {t['b']:.4f}, "
          f"c = {t['c']:.4f}, indirect a*b*c = {t['indirect_abc']:.5f} "
          f"(standardized {t['standardized']['indirect_abc']:.3f}).")
    print(f"Wrote {csv_path} and {truth_path}.")
    return 0


__all__ = ["add_commands", "run_prepare", "run_simulate"]
