"""Coverage of between-level 95% CIs with therapists as a third level (issue 13, 7c).

    nice -n 10 python scripts/coverage_study.py [--reps 1000] [--boot 99] [--seed 13]
                                               [--workers 2] [--chunk 5] [--out reports/coverage]
                                               [--therapist-icc-ecr 0.15 --out reports/coverage/ecr_icc015]

Each replicate simulates the study's design with therapist variance
(attachpath.simulate: 44 therapists, 330 clients, 2-10 sessions,
therapist_icc = 0.15 on every client-level outcome, and with
--therapist-icc-ecr a therapist share of the pretreatment ECR scores too, so
that path a has a design effect; MCAR dropout and no missing blocks, so
every method sees the same complete rows) and fits

    level: 1   tds_ge ~ cats_secure
    level: 2   cats_secure ~ a*ecr_anx;  tds_ge ~ b*cats_secure
               iip_post ~ c*tds_ge + iip_pre;  ab := a*b;  abc := a*b*c

The 95% intervals of a, b, c, ab and abc come from

* two-level ML: sessions in clients, model-based SEs (observed information),
  no correction for therapists;
* two-level MLR: the same with the client-level sandwich (lavaan's
  two-level MLR), still no therapist correction;
* client-level MLR: the chain fitted to client means (data.prepare) with
  robust (Huber-White) SEs not corrected for therapists;
* therapist CR1: cluster="therapist/client", se="robust" (client scores
  summed within therapists, G/(G−1)), normal and t(G−1) quantiles;
* therapist CR2: the same sandwich with the bias-reduced meat of Bell &
  McCaffrey (estimate/vcov.py cr2) instead of G/(G−1), normal and t(G−1);
* therapist bootstrap: whole therapists resampled (estimate/
  twolevel_bootstrap.py), --boot draws, on the first --boot-reps
  replicates; percentile intervals and, from the same draws, studentized
  (bootstrap-t) intervals, each draw divided by its own therapist CR1 SE.

Wald intervals for ab and abc use the delta method; the *_mc methods add
Monte Carlo intervals for ab and abc (MC_DRAWS draws of θ from N(θ̂, V̂), or
from a multivariate t(G−1), per vcov: estimate/montecarlo.py, the CR1 normal
one read from ap.fit(..., mc_draws=...)).  The targets are the
simulator's latent between-client paths (truth["paths"]); regressions on
observed client means estimate attenuated paths, so client-level MLR is also
scored against its own large-sample value (one sample 200 times the design,
whose own sampling error is 1/√200 of a replicate's SE).

Replicate r uses SeedSequence(seed).spawn(reps)[r] (data, bootstrap, Monte
Carlo), so a replicate's numbers do not depend on the chunking or the worker.
Chunks run
on a dask.distributed LocalCluster (one single-threaded process per worker),
each finished chunk is kept in OUT/.chunks/ (a rerun with the same settings
resumes), and OUT gets coverage.md, coverage.csv (the table) and
replicates.csv (one row per replicate).  Every figure has its Monte Carlo SE.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

MODEL = """
level: 1
  tds_ge ~ cats_secure
level: 2
  cats_secure ~ a*ecr_anx
  tds_ge ~ b*cats_secure
  iip_post ~ c*tds_ge + iip_pre
  ab := a*b
  abc := a*b*c
"""
CLIENT_MODEL = """
cats_secure ~ a*ecr_anx
tds_ge ~ b*cats_secure
iip_post ~ c*tds_ge + iip_pre
ab := a*b
abc := a*b*c
"""
PATHS = ("a", "b", "c")
DEFINED = ("ab", "abc")
PARAMS = PATHS + DEFINED
# *_mc: Monte Carlo intervals of the := effects only (for a path they are the
# Wald interval up to Monte Carlo error)
METHODS = ("twolevel_ml", "twolevel_ml_mc", "twolevel_mlr", "twolevel_mlr_mc", "client_mlr",
           "therapist", "therapist_t", "therapist_mc", "therapist_mc_t",
           "therapist_cr2", "therapist_cr2_t", "therapist_cr2_mc", "therapist_cr2_mc_t",
           "therapist_boot", "therapist_boot_t")
LABELS = {
    "twolevel_ml": "two-level ML (no therapist correction)",
    "twolevel_ml_mc": "two-level ML, Monte Carlo",
    "twolevel_mlr": "two-level MLR (clients only)",
    "twolevel_mlr_mc": "two-level MLR, Monte Carlo",
    "client_mlr": "client-level MLR on client means",
    "therapist": "therapist CR1 (G/(G−1)), normal",
    "therapist_t": "therapist CR1, t(G−1)",
    "therapist_mc": "therapist CR1, Monte Carlo normal",
    "therapist_mc_t": "therapist CR1, Monte Carlo t(G−1)",
    "therapist_cr2": "therapist CR2, normal",
    "therapist_cr2_t": "therapist CR2, t(G−1)",
    "therapist_cr2_mc": "therapist CR2, Monte Carlo normal",
    "therapist_cr2_mc_t": "therapist CR2, Monte Carlo t(G−1)",
    "therapist_boot": "therapist bootstrap, percentile",
    "therapist_boot_t": "therapist bootstrap, studentized (bootstrap-t, CR1)",
}
MC_DRAWS = 10000
STUDY_VERSION = 3       # saved chunks of another version are not reused
THERAPIST_ICC = 0.15
DESIGN = dict(n_therapists=44, n_clients=330, min_sessions=2, max_sessions=10,
              therapist_icc=THERAPIST_ICC, dropout_mar=0.0, missing=0.0)


def design(icc_ecr: float = 0.0) -> dict:
    """DESIGN, with a therapist share of ECR's variance when icc_ecr > 0 (the
    second arm: then path a has a design effect too).  Without it the dict
    is DESIGN itself, so the first arm's saved chunks stay valid."""
    return dict(DESIGN, therapist_icc_ecr=icc_ecr) if icc_ecr else dict(DESIGN)
LEVEL = 0.95
CLIENT_TARGET_SCALE = 200   # the client-means target: one sample 200 times the design


def truth(dsg: dict = DESIGN) -> dict:
    """The latent between-client paths of the simulator (analytic)."""
    from attachpath.simulate import simulate
    t = simulate(seed=0, n_therapists=4, n_clients=8, **{k: v for k, v in dsg.items()
                                                         if k not in ("n_therapists",
                                                                      "n_clients")}).truth
    p = t["paths"]
    a, b, c = p["cats_secure"]["ecr_anx"], p["tds_ge"]["cats_secure"], p["iip_post"]["tds_ge"]
    return {"a": a, "b": b, "c": c, "ab": a * b, "abc": a * b * c}


def client_means(sessions: pd.DataFrame) -> pd.DataFrame:
    from attachpath.data import prepare
    return prepare(sessions).clients


def client_target(seed: int, scale: int = CLIENT_TARGET_SCALE, dsg: dict = DESIGN) -> dict:
    """What client-level MLR estimates: the chain on the client means of one
    sample `scale` times the design (its SEs are 1/√scale of a replicate's)."""
    import attachpath as ap
    from attachpath.simulate import simulate
    big = dict(dsg, n_therapists=dsg["n_therapists"] * scale,
               n_clients=dsg["n_clients"] * scale)
    res = ap.fit(CLIENT_MODEL, client_means(simulate(seed=seed, **big).sessions))
    return {p: float(v) for p, v in _named(res.estimates, "est").items()}


def _named(est: pd.DataFrame, col: str) -> dict:
    out = {}
    for p in PARAMS:
        row = est[(est["label"] == p) | ((est["op"] == ":=") & (est["lhs"] == p))]
        out[p] = row[col].iloc[0]
    return out


def _seeds(seed: int, reps: int, r: int) -> tuple[int, int, int]:
    """Data, bootstrap and Monte Carlo seeds of replicate r (the first two as
    in the study's first version: spawn() children do not depend on how
    many are spawned)."""
    child = np.random.SeedSequence(seed).spawn(reps)[r]
    return tuple(int(ss.generate_state(1, np.uint64)[0]) for ss in child.spawn(3))


class _NoBootstrap(Exception):
    """This replicate has no bootstrap (boot < 2)."""


def replicate(seed: int, reps: int, r: int, boot: int, dsg: dict = DESIGN) -> dict:
    """One replicate: estimate, SE and interval of every parameter by every
    method (NaN where a method failed; no bootstrap columns when boot < 2),
    as a flat row."""
    import attachpath as ap
    from scipy import stats
    from attachpath.effects import Defined
    from attachpath.errors import AttachpathError
    from attachpath.estimate import bootstrap as boot_mod
    from attachpath.estimate import montecarlo
    from attachpath.estimate import twolevel_bootstrap as tb
    from attachpath.estimate import vcov as vc
    from attachpath.estimate.clusters import Clusters
    from attachpath.simulate import simulate

    data_seed, boot_seed, mc_seed = _seeds(seed, reps, r)
    sessions = simulate(seed=data_seed, **dsg).sessions
    row = {"rep": r, "data_seed": data_seed, "boot_seed": boot_seed, "mc_seed": mc_seed}
    z = stats.norm.ppf(0.5 + LEVEL / 2)

    def put(method, est, se, lo, hi):
        for p in lo:
            row[f"{method}.{p}.est"] = est[p]
            row[f"{method}.{p}.se"] = se[p]
            row[f"{method}.{p}.lo"] = lo[p]
            row[f"{method}.{p}.hi"] = hi[p]

    def wald(method, est, V, defined, theta, pos, q=z):
        sd = np.sqrt(np.diag(V))
        _, Jd, Vd = defined.delta(theta, V)
        se = {p: float(sd[pos[p]]) for p in PATHS}
        se.update({p: float(np.sqrt(Vd[i, i])) for i, p in enumerate(DEFINED)})
        put(method, est, se, {p: est[p] - q * se[p] for p in PARAMS},
            {p: est[p] + q * se[p] for p in PARAMS})
        return se

    def mc(method, est, se, V, defined, theta, df=None, bounds=None):
        """Monte Carlo intervals of the := effects (the package's
        montecarlo.intervals, as ap.fit(mc_draws=...) uses it)."""
        if bounds is None:
            bounds = montecarlo.intervals(defined, theta, V, n=MC_DRAWS, seed=mc_seed,
                                          level=LEVEL, df=df)
        put(method, est, se, {p: bounds[i][0] for i, p in enumerate(DEFINED)},
            {p: bounds[i][1] for i, p in enumerate(DEFINED)})

    failed = []
    try:
        # the package's own Monte Carlo intervals from the therapist-robust vcov
        # ci_dist="normal": this row is Mplus' CR1 normal interval, not
        # the package's default t(G−1) for therapist/client fits
        res = ap.fit(MODEL, sessions, cluster="therapist/client", se="robust",
                     mc_draws=MC_DRAWS, seed=mc_seed, ci_dist="normal")
        lik, theta = res.likelihood, res.theta
        defined = Defined.from_partable(res.partable)
        assert tuple(defined.names) == DEFINED
        pos = {r_.label: r_.free - 1 for r_ in res.partable.rows if r_.label in PATHS}
        est = {p: float(theta[pos[p]]) for p in PATHS}
        est.update(zip(DEFINED, map(float, defined.evaluate(theta))))
        ther_of = sessions.groupby("client")["therapist"].first()
        therapists = Clusters.from_ids("therapist",
                                       ther_of.loc[lik.data.clusters.ids].to_numpy())
        G = therapists.n
        q_t = stats.t.ppf(0.5 + LEVEL / 2, G - 1)
        for name, V in (("twolevel_ml", vc.standard(lik, theta)),
                        ("twolevel_mlr", vc.robust(lik, theta)[0])):
            se = wald(name, est, V, defined, theta, pos)
            mc(name + "_mc", est, se, V, defined, theta)
        V3 = res.vcov.to_numpy()
        se = wald("therapist", est, V3, defined, theta, pos)
        wald("therapist_t", est, V3, defined, theta, pos, q=q_t)
        e = res.estimates.set_index("lhs")
        mc("therapist_mc", est, se, V3, defined, theta,
           bounds=[(float(e.loc[p, "ci.lower"]), float(e.loc[p, "ci.upper"])) for p in DEFINED])
        mc("therapist_mc_t", est, se, V3, defined, theta, df=G - 1)
        V2 = vc.cr2(lik, theta, therapists)[0]
        se = wald("therapist_cr2", est, V2, defined, theta, pos)
        wald("therapist_cr2_t", est, V2, defined, theta, pos, q=q_t)
        mc("therapist_cr2_mc", est, se, V2, defined, theta)
        mc("therapist_cr2_mc_t", est, se, V2, defined, theta, df=G - 1)
        if boot < 2:
            raise _NoBootstrap
        # one set of draws for both intervals: each carries its own CR1 SEs
        draws, n_failed = tb.replicates(lik, theta, therapists=therapists, n=boot,
                                        seed=boot_seed, workers=1, studentize=defined)
        k = len(theta)
        idx = {**pos, **{p: k + i for i, p in enumerate(DEFINED)}}
        se_hat = boot_mod.sandwich_se(lik, theta, defined, therapists)
        for name, interval in (("therapist_boot", "percentile"),
                               ("therapist_boot_t", "studentized")):
            _, bse, ci = boot_mod.summarize(draws, theta, defined, LEVEL, interval, None,
                                            se_hat if interval == "studentized" else None)
            put(name, est, {p: float(bse[idx[p]]) for p in PARAMS},
                {p: float(ci[idx[p], 0]) for p in PARAMS},
                {p: float(ci[idx[p], 1]) for p in PARAMS})
        row["boot_failed"] = n_failed
    except _NoBootstrap:
        pass
    except (AttachpathError, np.linalg.LinAlgError, ValueError) as exc:
        failed.append(f"two-level: {type(exc).__name__}: {exc}")
    try:
        cres = ap.fit(CLIENT_MODEL, client_means(sessions), se="robust")
        e, s = _named(cres.estimates, "est"), _named(cres.estimates, "se")
        put("client_mlr", e, s, {p: e[p] - z * s[p] for p in PARAMS},
            {p: e[p] + z * s[p] for p in PARAMS})
    except (AttachpathError, np.linalg.LinAlgError, ValueError) as exc:
        failed.append(f"client: {type(exc).__name__}: {exc}")
    row["failed"] = "; ".join(failed)
    return row


def run_chunk(seed: int, reps: int, start: int, stop: int, boot: int,
              dsg: dict = DESIGN) -> list[dict]:
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        return [replicate(seed, reps, r, boot, dsg) for r in range(start, stop)]


def run_all(reps: int, boot: int, seed: int, workers: int, chunk: int, out: Path,
            progress: bool = True, run: bool = True, boot_reps: int | None = None,
            dsg: dict = DESIGN) -> pd.DataFrame:
    """All replicates (resuming saved chunks), on a LocalCluster or, with
    workers=0, in this process; run=False returns the saved ones only.

    Replicates below `boot_reps` (default: all) also get the therapist
    bootstrap.  Chunks without it run first (they are cheap), so the Wald
    methods reach `reps` replicates early; a chunk saved without the
    bootstrap is redone with it when a later run raises `boot_reps` (the same
    seeds give the same data and fits)."""
    boot_reps = reps if boot_reps is None else min(boot_reps, reps)
    chunks_dir = out / ".chunks"
    chunks_dir.mkdir(parents=True, exist_ok=True)
    key = json.dumps({"reps": reps, "boot": boot, "seed": seed, "chunk": chunk,
                      "design": dsg, "version": STUDY_VERSION, "mc_draws": MC_DRAWS})
    manifest = chunks_dir / "manifest.json"
    if not manifest.exists() or manifest.read_text() != key:
        for f in chunks_dir.glob("*.json"):
            if f != manifest:
                f.unlink()
        manifest.write_text(key)
    rows, cheap, costly = [], [], []
    for start in range(0, reps, chunk):
        stop = min(start + chunk, reps)
        with_boot = start < boot_reps
        f1 = chunks_dir / f"c{start:06d}_{stop:06d}_boot.json"
        f0 = chunks_dir / f"c{start:06d}_{stop:06d}.json"
        if f1.exists():
            rows += json.loads(f1.read_text())
        elif f0.exists():
            rows += json.loads(f0.read_text())     # replaced if redone with the bootstrap
            if with_boot:
                costly.append((start, stop, f1, boot))
        else:
            (costly if with_boot else cheap).append((start, stop, f1 if with_boot else f0,
                                                     boot if with_boot else 0))
    todo = cheap + costly if run else []
    t0, done = time.time(), len(rows)

    def finished(f, part):
        nonlocal done
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(part))
        tmp.replace(f)
        if "_boot" in f.name:           # the same replicates without the bootstrap
            f.with_name(f.name.replace("_boot", "")).unlink(missing_ok=True)
        rows[:] = [r for r in rows if r["rep"] not in {q["rep"] for q in part}] + part
        done += len(part)
        if progress:
            el = time.time() - t0
            print(f"  {f.name}: {done} replicates done, {el:.0f} s",
                  file=sys.stderr, flush=True)

    if workers == 0:
        for start, stop, f, b in todo:
            finished(f, run_chunk(seed, reps, start, stop, b, dsg))
    elif todo:
        import logging
        from distributed import Client, LocalCluster, as_completed
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        try:
            futures = {client.submit(run_chunk, seed, reps, s, e, b, dsg, pure=False): f
                       for s, e, f, b in todo}
            for fut in as_completed(futures):
                finished(futures[fut], fut.result())
        finally:
            client.close()
            cluster.close()
    if not rows:
        return pd.DataFrame()
    # one column order whatever order the chunks finished in
    cols = ["rep", "data_seed", "boot_seed", "mc_seed"] + [
        f"{m}.{p}.{k}" for m in METHODS for p in method_params(m)
        for k in ("est", "se", "lo", "hi")]
    cols += ["boot_failed", "failed"]
    return pd.DataFrame(rows, columns=cols).sort_values("rep").reset_index(drop=True)


def method_params(method: str) -> tuple[str, ...]:
    """The parameters a method gives intervals for."""
    return DEFINED if "_mc" in method else PARAMS


def summarize(df: pd.DataFrame, target: dict, client_tgt: dict | None) -> pd.DataFrame:
    """Coverage, bias and SE/SD per method and parameter, each with its Monte
    Carlo SE.  The SE of mean SE / SD is the delta method's, treating the
    two as independent (a first-order figure)."""
    out = []
    for m in METHODS:
        targets = [("latent", target)] + ([("client-means limit", client_tgt)]
                                           if m == "client_mlr" and client_tgt else [])
        if f"{m}.abc.lo" not in df:
            continue                      # e.g. no replicate had the bootstrap yet
        for p in method_params(m):
            est, se = df[f"{m}.{p}.est"], df[f"{m}.{p}.se"]
            ok = est.notna() & df[f"{m}.{p}.lo"].notna()
            if ok.sum() < 2:
                continue
            e, s = est[ok].to_numpy(), se[ok].to_numpy()
            lo, hi = df.loc[ok, f"{m}.{p}.lo"].to_numpy(), df.loc[ok, f"{m}.{p}.hi"].to_numpy()
            n = int(ok.sum())
            sd = float(np.std(e, ddof=1))
            ratio = float(np.mean(s) / sd)
            ratio_mcse = ratio * math.sqrt(np.var(s, ddof=1) / (n * np.mean(s) ** 2)
                                           + 1 / (2 * (n - 1)))
            for tname, tg in targets:
                cov = float(np.mean((lo <= tg[p]) & (tg[p] <= hi)))
                out.append({
                    "method": LABELS[m], "param": p, "target": tname, "true": tg[p],
                    "n": n, "coverage": cov, "coverage_mcse": math.sqrt(cov * (1 - cov) / n),
                    "below": float(np.mean(hi < tg[p])), "above": float(np.mean(lo > tg[p])),
                    "bias": float(np.mean(e) - tg[p]), "bias_mcse": sd / math.sqrt(n),
                    "sd_est": sd, "mean_se": float(np.mean(s)),
                    "se_over_sd": ratio, "se_over_sd_mcse": ratio_mcse,
                    "mean_width": float(np.mean(hi - lo))})
    return pd.DataFrame(out)


def markdown(table: pd.DataFrame, df: pd.DataFrame, args, seconds: float,
             client_tgt: dict) -> str:
    def pct(x, s):
        return f"{100 * x:.1f} ± {100 * s:.1f}"
    nb = df["boot_failed"].notna() if "boot_failed" in df else pd.Series(False, df.index)
    lines = [
        "# Coverage of between-level 95% intervals with therapists as a third level",
        "",
        f"Issue 13, check (c). {len(df)} replicates of the study design (attachpath.simulate: "
        f"44 therapists, 330 clients, 2-10 sessions, therapist ICC {THERAPIST_ICC} on every "
        f"client-level outcome"
        + (f" and {args.therapist_icc_ecr} on the pretreatment ECR scores (the predictor of a)"
           if args.therapist_icc_ecr else " (none on ECR, the predictor of a)")
        + f", MCAR dropout, no missing blocks), model "
        f"`scripts/coverage_study.py` MODEL (within: tds_ge ~ cats_secure; between: "
        f"cats_secure ~ a·ecr_anx, tds_ge ~ b·cats_secure, iip_post ~ c·tds_ge + iip_pre, "
        f"ab := a·b, abc := a·b·c).",
        "",
        "Methods: Wald intervals (delta method for ab and abc) from the two-level ML, "
        "two-level MLR (client sandwich) and client-means MLR vcovs, none corrected for "
        "therapists; from the therapist sandwich with G/(G−1) (CR1, `cluster="
        "\"therapist/client\"`, as Mplus' COMPLEX TWOLEVEL) and with the bias-reduced "
        "CR2 meat (estimate/vcov.py `cr2`), each with normal and t(G−1) = t(43) quantiles. "
        f"Monte Carlo (\"MC\") intervals for ab and abc: {MC_DRAWS} quasi-random draws "
        "from N(θ̂, V̂) (or multivariate t(G−1)) per replicate and vcov (estimate/"
        "montecarlo.py; the CR1 normal one is read from `ap.fit(..., mc_draws=...)`). "
        + (f"Therapist bootstrap: B = {args.boot} draws per replicate (percentile "
           f"intervals, and studentized ones from the same draws, each draw divided by its "
           f"own therapist CR1 SE) on the first {int(nb.sum())} replicates (column R)."
           if nb.any() else "No therapist bootstrap in this run (see README.md)."),
        "",
        "Each cell: estimate ± its Monte Carlo SE, in percent for coverage "
        "(MC SE = √(p(1−p)/R)); — where a method gives no interval of its own (Monte "
        "Carlo intervals are for := effects). Target: the simulator's latent "
        "between-client path; for client-level MLR also its own large-sample value "
        f"(client means of one sample {CLIENT_TARGET_SCALE}× the design, itself uncertain "
        f"by 1/√{CLIENT_TARGET_SCALE} of a replicate's SE: "
        + ", ".join(f"{p} {client_tgt[p]:.5g}" for p in PARAMS)
        + "), because regressions on observed client means are attenuated. SE/SD: mean "
        "SE over the empirical SD of the estimates (for the MC rows, the delta-method SE "
        "of the same vcov).",
        "",
        "| method | target | R | " + " | ".join(f"{p} coverage %" for p in PARAMS)
        + " | " + " | ".join(f"{p} SE/SD" for p in PARAMS) + " |",
        "|---|---|---:|" + "---:|" * (2 * len(PARAMS)),
    ]
    for (m, tname), g in table.groupby(["method", "target"], sort=False):
        g = g.set_index("param")
        cells = [str(int(g["n"].min()))]
        cells += [pct(g.loc[p, "coverage"], g.loc[p, "coverage_mcse"]) if p in g.index
                  else "—" for p in PARAMS]
        cells += [f"{g.loc[p, 'se_over_sd']:.3f} ± {g.loc[p, 'se_over_sd_mcse']:.3f}"
                  if p in g.index else "—" for p in PARAMS]
        lines.append(f"| {m} | {tname} | " + " | ".join(cells) + " |")
    lines += ["", "Bias (mean estimate − target, ± MC SE), one row per estimator:", "",
              "| method | target | " + " | ".join(PARAMS) + " |",
              "|---|---|" + "---:|" * len(PARAMS)]
    shown = set()
    for (m, tname), g in table.groupby(["method", "target"], sort=False):
        g = g.set_index("param")
        if len(g) < len(PARAMS) or (tname == "latent" and m not in (
                LABELS["twolevel_ml"], LABELS["client_mlr"], LABELS["therapist_boot"])):
            continue          # the same two-level estimates as the first row
        shown.add(m)
        lines.append(f"| {m} | {tname} | " + " | ".join(
            f"{g.loc[p, 'bias']:.4f} ± {g.loc[p, 'bias_mcse']:.4f}" for p in PARAMS) + " |")
    fails = int((df["failed"].fillna("") != "").sum())
    bfail = int(df.loc[nb, "boot_failed"].sum()) if nb.any() else 0
    lines += ["", "(Every two-level method but the bootstrap shares the estimates of the "
              "two-level ML row" + ("; the bootstrap row is its subset of replicates.)"
                                    if nb.any() else ".)"), "",
              f"Failed replicates: {fails}"
              + (f"; failed bootstrap draws in all: {bfail} of {int(nb.sum()) * args.boot} "
                 f"({int(nb.sum())} bootstrapped replicates)" if nb.any() else "") + "."
              + (f" **Only {len(df)} of {args.reps} replicates finished.**"
                 if len(df) < args.reps else ""),
              f"Run: `python scripts/coverage_study.py --reps {args.reps} --boot "
              f"{args.boot} --boot-reps {args.boot_reps} --seed {args.seed} --workers "
              f"{args.workers} --chunk {args.chunk}"
              + (f" --therapist-icc-ecr {args.therapist_icc_ecr} --out {args.out}"
                 if args.therapist_icc_ecr else "") + "` on a dask LocalCluster"
              + (" (this table: `--summarize-only`, from the saved chunks)"
                 if args.summarize_only else f", {seconds / 60:.0f} min wall")
              + " on a shared 2-core machine. Columns of "
              f"coverage.csv: below/above = share of intervals entirely below/above the "
              f"target; mean_width; sd_est (empirical SD of the estimates); mean_se.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=1000)
    p.add_argument("--boot", type=int, default=99)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunk", type=int, default=5)
    p.add_argument("--out", default="reports/coverage")
    p.add_argument("--boot-reps", type=int, default=None,
                   help="bootstrap only the first N replicates (default: all); the "
                        "others run first")
    p.add_argument("--therapist-icc-ecr", type=float, default=0.0,
                   help="therapist share of the pretreatment ECR variance (default 0: "
                        "the first arm; 0.15: the arm where path a has a design effect)")
    p.add_argument("--summarize-only", action="store_true",
                   help="write the table from the chunks saved so far; run nothing")
    args = p.parse_args(argv)
    if args.reps < 2 or args.boot < 2 or args.chunk < 1 or args.workers < 0:
        p.error("--reps and --boot must be ≥ 2, --chunk ≥ 1, --workers ≥ 0")
    out = Path(args.out)
    t0 = time.time()
    if not 0 <= args.therapist_icc_ecr < 1:
        p.error("--therapist-icc-ecr must be a share in [0, 1)")
    dsg = design(args.therapist_icc_ecr)
    df = run_all(args.reps, args.boot, args.seed, args.workers, args.chunk, out,
                 run=not args.summarize_only, boot_reps=args.boot_reps, dsg=dsg)
    if df.empty:
        print(f"no finished replicates in {out / '.chunks'}", file=sys.stderr)
        return 1
    target, client_tgt = truth(dsg), client_target(args.seed + 1_000_000, dsg=dsg)
    table = summarize(df, target, client_tgt)
    from attachpath.files import write_text_atomic
    write_text_atomic(out / "replicates.csv", df.to_csv(index=False, float_format="%.8g"))
    write_text_atomic(out / "coverage.csv", table.to_csv(index=False, float_format="%.6g"))
    text = markdown(table, df, args, time.time() - t0, client_tgt)
    write_text_atomic(out / "coverage.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
