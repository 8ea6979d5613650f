"""Parameter recovery of the ECR -> CATS -> TDS -> IIP chain on the simulator.

    python scripts/recovery_study.py [--reps 200] [--seed 1] [--out reports/]

Each replication simulates the study's design (44 therapists, 330 clients,
2-10 sessions with dropout), prepares client means, and fits the chain

    cats_secure ~ a*ecr_anx
    tds_ge      ~ b*cats_secure
    iip_post    ~ c*tds_ge + iip_pre
    abc := a*b*c

with naive ML SEs and with therapist-cluster-robust SEs (Monte Carlo CIs for
abc from each vcov).  The target is the value the model estimates in the
population: regressions on observed client means are attenuated relative to
the latent-mean truth in truth.json, so the target is the estimate on one very
large simulated sample (the same design scaled up), reported next to the
latent truth.  Writes recovery.csv (one row per replication) and
recovery.md (bias, RMSE, 95% coverage) into --out.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import attachpath as ap
from attachpath.data import prepare
from attachpath.files import write_text_atomic
from attachpath.simulate import simulate

SPEC = """cats_secure ~ a*ecr_anx
tds_ge ~ b*cats_secure
iip_post ~ c*tds_ge + iip_pre
abc := a*b*c"""
PARAMS = ["a", "b", "c", "abc"]


def client_table(seed, **design):
    sim = simulate(seed=seed, **design)
    return prepare(sim.sessions).clients, sim.truth


def estimates(res):
    e = res.estimates
    out = {}
    for name in PARAMS:
        row = e[(e["label"] == name) | ((e["op"] == ":=") & (e["lhs"] == name))].iloc[0]
        out[name] = (row["est"], row["se"], row["ci.lower"], row["ci.upper"])
    return out


def main(argv=None) -> int:
    ap_ = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap_.add_argument("--reps", type=int, default=200)
    ap_.add_argument("--seed", type=int, default=1)
    ap_.add_argument("--out", default="reports")
    args = ap_.parse_args(argv)
    t0 = time.time()

    big, truth = client_table(args.seed + 10_000, n_therapists=4400, n_clients=33000)
    pop = estimates(ap.fit(SPEC, big))
    target = {k: v[0] for k, v in pop.items()}

    rows = []
    for r in range(args.reps):
        clients, _ = client_table(args.seed + r)
        for kind, kw in (("naive", {}), ("cluster-robust", {"cluster": "therapist", "se": "robust"})):
            res = ap.fit(SPEC, clients, mc_draws=20000, seed=r, **kw)
            for name, (est, se, lo, hi) in estimates(res).items():
                rows.append({"rep": r, "se_kind": kind, "param": name, "est": est, "se": se,
                             "ci.lower": lo, "ci.upper": hi, "target": target[name],
                             "latent_truth": truth[name if name != "abc" else "indirect_abc"]})
        if sys.stderr.isatty():
            sys.stderr.write(f"\r  replication {r + 1}/{args.reps}")
    df = pd.DataFrame(rows)
    df["covered"] = (df["ci.lower"] <= df["target"]) & (df["target"] <= df["ci.upper"])
    summary = (df.groupby(["param", "se_kind"], sort=False)
                 .apply(lambda g: pd.Series({
                     "target": g["target"].iloc[0],
                     "latent_truth": g["latent_truth"].iloc[0],
                     "mean_est": g["est"].mean(),
                     "bias": g["est"].mean() - g["target"].iloc[0],
                     "rmse": float(np.sqrt(np.mean((g["est"] - g["target"]) ** 2))),
                     "sd_est": g["est"].std(ddof=1),
                     "mean_se": g["se"].mean(),
                     "coverage_95": g["covered"].mean()}), include_groups=False)
                 .reset_index())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "recovery.csv", df.to_csv(index=False, float_format="%.8g"))
    md = [
        "# Parameter recovery: ECR -> CATS -> TDS -> IIP chain",
        "",
        f"{args.reps} replications of the study design (44 therapists, 330 clients, "
        f"2-10 sessions with dropout; attachpath.simulate, seeds {args.seed}..{args.seed + args.reps - 1}), "
        f"client means from `prepare`, ML fits of the chain with naive and therapist-cluster-robust "
        f"SEs; CIs: Wald for a, b, c and Monte Carlo (20,000 draws from the chosen vcov) for abc.",
        "",
        "Target: the population value of the model fitted to observed client means (one simulated "
        "sample of 33,000 clients and 4,400 therapists); `latent_truth` is the latent-mean value in "
        "truth.json, which observed means underestimate (attenuation by session-level noise).",
        "",
        summary.to_markdown(index=False, floatfmt=".4f") if _has_tabulate() else summary.to_string(index=False),
        "",
        f"Command: `python scripts/recovery_study.py --reps {args.reps} --seed {args.seed} --out {args.out}` "
        f"({time.time() - t0:.0f} s, attachpath {ap.__version__}).",
        "",
    ]
    write_text_atomic(out / "recovery.md", "\n".join(md))
    print("\n".join(md))
    return 0


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    sys.exit(main())
