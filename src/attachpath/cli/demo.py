"""`attachpath demo`: the main job on the bundled example, into one folder.

    $ attachpath demo --out attachpath-demo
    $ open attachpath-demo/report.html

See attachpath.demo for the steps and the files written.
"""

from __future__ import annotations

import sys
import warnings


def add_command(subparsers) -> None:
    from attachpath.demo import MC_DRAWS, OUT_DEFAULT, SEED
    p = subparsers.add_parser(
        "demo", help="run the main job on the bundled example and write a report",
        description="Prepare the bundled example sessions (330 clients of 44 therapists, "
                    "simulated), fit the study's main models on client means with the "
                    "therapist-cluster correction and its two-level model on the session "
                    "rows (sessions in clients, corrected for therapists), compare the alternative structures and write "
                    "report.html/report.md with the diagrams into --out. Works without "
                    "Graphviz. Rerunning into the same folder replaces the demo's files "
                    "and leaves others alone.")
    p.add_argument("--out", default=OUT_DEFAULT, metavar="DIR",
                   help=f"output directory (default: {OUT_DEFAULT})")
    p.add_argument("--mc", type=int, default=MC_DRAWS, metavar="N",
                   help=f"Monte Carlo draws for the indirect effects' CIs (default {MC_DRAWS})")
    p.add_argument("--seed", type=int, default=SEED, metavar="S",
                   help=f"seed of the Monte Carlo draws (default {SEED})")
    p.add_argument("--quiet", action="store_true", help="no progress lines or bars")
    p.set_defaults(func=run_demo_command)


def run_demo_command(args) -> int:
    from attachpath.demo import MAIN, headline, run_demo
    from attachpath.diagram import DiagramWarning
    from attachpath.errors import AttachpathWarning, OptionError
    if args.mc < 1:
        raise OptionError(f"--mc must be a positive number of draws, not {args.mc}.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AttachpathWarning)   # kept in the results
        warnings.simplefilter("default", DiagramWarning)
        result = run_demo(args.out, progress=not args.quiet, mc_draws=args.mc, seed=args.seed)
    print(f"attachpath demo: {result.prepared['clients']} clients of "
          f"{result.prepared['therapists']} therapists (simulated example)")
    effects = {"serial_esat_anx": "anx_ge", "serial_esat_avoid": "avoid_ge"}
    for n in MAIN:
        print(f"  {n}: {headline(result.main[n], effects.get(n, ''))}")
    if result.multilevel is not None:
        from attachpath.demo import MULTILEVEL
        print(f"  {MULTILEVEL} (session rows, therapist/client): "
              f"{headline(result.multilevel, 'anx_ge')}")
    tests = result.comparison.tests
    if not tests.empty:
        print(f"  {len(tests)} nested-model tests, {len(result.comparison.information)} "
              f"non-nested pairs compared by AIC/BIC")
    report = result.out / "report.html"
    print(f"Wrote {len(result.files)} files to {result.out} in {result.seconds:.1f} s; "
          f"open {report}")
    seen = set()
    for name, res in list(result.main.items()) + list(result.comparison.results.items()):
        for w in res.warnings:
            if (name, w) not in seen:
                seen.add((name, w))
                print(f"attachpath: warning: {name}: {w}", file=sys.stderr)
    return 0
