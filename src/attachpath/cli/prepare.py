"""`attachpath prepare`: check session data and aggregate it to one row per client.

    $ attachpath prepare sessions.csv --client client --therapist therapist \\
          --session session --esat --out clients.csv
"""

from __future__ import annotations

from pathlib import Path

from attachpath.errors import OutputError


def add_command(subparsers) -> None:
    """Register `attachpath prepare` on the CLI's argparse subparsers."""
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
    p.add_argument("--esat-secure", default="cats_secure", metavar="COL",
                   help="CATS Secure column for --esat (default: cats_secure)")
    p.add_argument("--esat-preoccupied", default="cats_preoc", metavar="COL",
                   help="CATS Preoccupied-Merger column, partialled out for esat_anx "
                        "(default: cats_preoc)")
    p.add_argument("--esat-avoidant", default="cats_avoid", metavar="COL",
                   help="CATS Avoidant-Fearful column, partialled out for esat_avoid "
                        "(default: cats_avoid); any --esat-* option implies --esat")
    p.add_argument("--out", required=True, metavar="CLIENTS.csv",
                   help="output file, one row per client: .csv, or .sav to keep the "
                        "SPSS variable labels of the session data")
    p.set_defaults(func=run_prepare)


def _split(text):
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def client_labels(session_labels: dict, columns, args) -> dict:
    """Variable labels of the client table: a session variable's label for
    its client mean, 'label: sessions' for its count, and the ESAT scores'."""
    out = {}
    columns = list(columns)
    for c in columns:
        if c in session_labels:
            # a session variable (it has a count column) becomes a client mean
            out[c] = (f"{session_labels[c]} (client mean)" if f"{c}_n" in columns
                      else session_labels[c])
        elif c.endswith("_n") and c[:-2] in session_labels:
            out[c] = f"{session_labels[c[:-2]]}: sessions"
    if "esat_anx" in columns:
        out["esat_anx"] = f"ESAT anxiety ({args.esat_secure} with {args.esat_preoccupied} partialled out)"
        out["esat_avoid"] = f"ESAT avoidance ({args.esat_secure} with {args.esat_avoidant} partialled out)"
    if "n_sessions" in columns:
        out.setdefault("n_sessions", "Number of sessions")
    return out if session_labels else {}


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
    esat = args.esat or (args.esat_secure, args.esat_preoccupied, args.esat_avoidant) != \
        ("cats_secure", "cats_preoc", "cats_avoid")
    clients = esat_scores(prep.clients, level="client", client=args.client,
                          secure=args.esat_secure, preoccupied=args.esat_preoccupied,
                          avoidant=args.esat_avoidant) if esat else prep.clients
    labels = client_labels(data.labels, clients.columns, args)
    # the format the extension names; SPSS keeps the variable labels
    items = [(encode_table(clients, out, labels), out)]
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
          f"variables" + (", esat_anx and esat_avoid added" if esat else "") + ".")
    if prep.session_vars:
        print(f"Session-level (client means): {', '.join(map(str, prep.session_vars))}.")
    if prep.client_vars:
        print(f"Client-level (carried over): {', '.join(map(str, prep.client_vars))}.")
    if data.labels:
        print(f"Variable labels of {len(labels)} columns "
              + ("kept in the SPSS file." if out.suffix.lower() == ".sav" else
                 f"not kept: a CSV holds none; use --out {out.with_suffix('.sav').name} "
                 f"to keep them for fit, diagram and report."))
    if r["left_out"]:
        print(f"Left out: {', '.join(map(str, r['left_out']))}.")
    if within is not None:
        print(f"Wrote {len(prep.within)} within-client session rows to {within}.")
    return 0
