"""`attachpath simulate`: a data set with known between-client paths.

    $ attachpath simulate --seed 7 --out sim7/
"""

from __future__ import annotations


def add_command(subparsers) -> None:
    """Register `attachpath simulate` on the CLI's argparse subparsers.

        >>> import argparse
        >>> parser = argparse.ArgumentParser(prog="attachpath")
        >>> add_command(parser.add_subparsers(dest="command"))
        >>> parser.parse_args(["simulate", "--seed", "1", "--out", "d"]).seed
        1
    """
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
    s.add_argument("--therapist-icc", type=float, default=None, metavar="R",
                   help="therapist share of the variance of the client-level outcomes "
                        "(CATS, TDS, IIP post), e.g. 0 to 0.3 (default: small per-measure "
                        "shares)")
    s.set_defaults(func=run_simulate)


def run_simulate(args) -> int:
    """Run `attachpath simulate`: write sessions.csv and truth.json into --out."""
    from attachpath.simulate import simulate, write_simulation

    sim = simulate(seed=args.seed, n_therapists=args.therapists, n_clients=args.clients,
                   min_sessions=args.min_sessions, max_sessions=args.max_sessions,
                   missing_post=args.missing_post, therapist_icc=args.therapist_icc)
    csv_path, truth_path = write_simulation(sim, args.out)
    t = sim.truth
    print(f"Simulated {len(sim.sessions)} sessions of {args.clients} clients and "
          f"{args.therapists} therapists (seed {args.seed}).")
    print(f"True between-client paths: a = {t['a']:.4f}, b = {t['b']:.4f}, "
          f"c = {t['c']:.4f}, indirect a*b*c = {t['indirect_abc']:.5f} "
          f"(standardized {t['standardized']['indirect_abc']:.3f}).")
    print(f"Wrote {csv_path} and {truth_path}.")
    return 0
