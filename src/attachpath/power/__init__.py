"""Monte Carlo power and design planning on dask.distributed.

    >>> import attachpath as ap
    >>> res = ap.power("y ~ 0.2*x", n=[100, 200], reps=500, seed=1,
    ...                workers=0)                                   # doctest: +SKIP
    >>> res.table[["lhs", "op", "rhs", "n", "power"]]               # doctest: +SKIP

A study draws `reps` data sets per design from a population spec (lavaan
syntax with fixed values, as lavaan's simulateData: see population.py),
fits every analysis spec to each, and summarises per design × analysis ×
parameter: power (rejection rate of the Wald test at alpha), coverage of
the Wald interval, bias, RMSE, mean SE against the SD of the estimates, with
Monte Carlo SEs.  Designs: `n` (independent clients) or `therapists` ×
`clients_per_therapist` with a therapist random intercept (ICC `icc`),
analysed with therapist-robust SEs; with `sessions` (a two-level
population), session rows within clients within therapists, with the study
simulator's skewed caseloads and dropout, analysed by the two-level model
and by the client-means model on the same data.  Replicate r of design d uses
SeedSequence(seed, spawn_key=(d, r)), so results are identical whatever the
workers, chunking or scheduler.

Layout: population.py (values, implied moments, analyses), design.py (how
cases nest and are drawn), replicate.py (a chunk of replicates on a worker),
summary.py (running sums folded in replicate order), runner.py (Dask,
checkpoints, resume), report.py (power.csv, figure, report.html).

    >>> res = ap.power("reports/power/population_twolevel_serial_esat_anx.lav",
    ...                therapists=[20, 44], clients_per_therapist=7.5,
    ...                sessions="2-10", reps=200, seed=1)           # doctest: +SKIP
"""

from __future__ import annotations

import platform
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import AttachpathError
from .design import ClusteredDesign, SessionDesign, SimpleDesign
from .population import Analysis, freed_spec, kind_of, means_spec, population_of

__all__ = ["power", "PowerResult", "SimpleDesign", "ClusteredDesign", "SessionDesign",
           "Analysis"]

DEFAULT_CHUNK = 50


@dataclass(frozen=True)
class PowerResult:
    table: pd.DataFrame             # one row per design × analysis × parameter
    provenance: dict
    written: tuple[str, ...] = field(default=())


def _as_list(x, name, kind=int):
    if x is None:
        return []
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    out = []
    for v in items:
        try:
            out.append(kind(v))
        except (TypeError, ValueError):
            raise AttachpathError(f"{name} must be numbers, not {v!r}.") from None
    return out


def sessions_of(sessions) -> list[tuple[int, int]]:
    """Session counts per client: K (every client K sessions) or a range
    "MIN-MAX" (dropout between them), one design each: 5, "2-10",
    [5, "2-10"] or "5,2-10"."""
    if sessions is None:
        return []
    items = sessions.split(",") if isinstance(sessions, str) else (
        list(sessions) if isinstance(sessions, (list, tuple)) else [sessions])
    out = []
    for item in items:
        text = str(item).strip()
        lo, _, hi = text.partition("-")
        try:
            pair = (int(lo), int(hi or lo))
        except ValueError:
            raise AttachpathError(f"sessions must be a number K or a range MIN-MAX (e.g. "
                                  f"2-10), not {text!r}.") from None
        if pair[0] < 1 or pair[1] < pair[0] or pair[1] > 1000:
            raise AttachpathError(f"sessions {text!r}: need 1 ≤ MIN ≤ MAX ≤ 1000.")
        out.append(pair)
    if any(hi < 2 for _, hi in out):
        raise AttachpathError("A session design needs clients with 2 or more sessions "
                              "(a two-level model has no within part otherwise).")
    return out


def designs_of(n=None, therapists=None, clients_per_therapist=None, icc=0.1,
               sessions=None, dropout=0.15, skip=0.08, caseload_shape=1.0) -> list:
    ns = _as_list(n, "n")
    gs = _as_list(therapists, "therapists")
    ms = _as_list(clients_per_therapist, "clients_per_therapist", float)
    ks = sessions_of(sessions)
    if ks and (ns or not gs):
        raise AttachpathError("A session design (--sessions) nests clients in therapists: "
                              "give --therapists and --clients-per-therapist, not --n.")
    if not ns and not gs:
        raise AttachpathError("Give the design: n (independent clients, e.g. n=[100, 200]) "
                              "or therapists with clients_per_therapist.")
    if bool(gs) != bool(ms):
        raise AttachpathError("A nested design needs both therapists and "
                              "clients_per_therapist (e.g. --therapists 44 "
                              "--clients-per-therapist 7.5).")
    if any(v < 3 for v in ns):
        raise AttachpathError(f"n must be at least 3 clients, not {min(ns)}.")
    if any(v < 2 for v in gs):
        raise AttachpathError(f"therapists must be at least 2, not {min(gs)}.")
    if any(not np.isfinite(m) or m < 1 for m in ms):
        raise AttachpathError(f"clients_per_therapist must be 1 or more, not "
                              f"{min(ms, key=lambda m: m if np.isfinite(m) else -1):g}.")
    if not (np.isfinite(icc) and 0 <= icc < 1):
        raise AttachpathError(f"icc must be at least 0 and below 1, not {icc:g}.")
    if ks:
        for name, v in (("dropout", dropout), ("skip", skip)):
            if not (np.isfinite(v) and 0 <= v < 1):
                raise AttachpathError(f"{name} must be at least 0 and below 1, not {v:g}.")
        if not (np.isfinite(caseload_shape) and caseload_shape >= 0):
            raise AttachpathError(f"caseload_shape must be 0 (even caseloads) or more, not "
                                  f"{caseload_shape:g}.")
        if caseload_shape > 0 and min(ms) < 2:
            raise AttachpathError(f"Skewed caseloads give every therapist at least 2 "
                                  f"clients, so clients_per_therapist must be 2 or more "
                                  f"(not {min(ms):g}); or give caseload_shape 0 (even "
                                  f"caseloads).")
        return [SessionDesign(g, m, lo, hi, float(icc), float(dropout), float(skip),
                              float(caseload_shape))
                for g in gs for m in ms for lo, hi in ks]
    designs = [SimpleDesign(v) for v in ns]
    designs += [ClusteredDesign(g, m, float(icc)) for g in gs for m in ms]
    return designs


def _analyses_of(population_text, analyses, two_level=False) -> tuple[Analysis, ...]:
    from ..spec import read_spec
    if analyses is None and two_level:
        return (Analysis("two-level", freed_spec(population_text), "twolevel"),
                Analysis("client means", means_spec(population_text)))
    if analyses is None:
        return (Analysis("population model", freed_spec(population_text)),)
    if isinstance(analyses, (str, Path)):
        analyses = [analyses]
    out = []
    items = analyses.items() if isinstance(analyses, dict) else [(None, a) for a in analyses]
    for i, (name, spec) in enumerate(items):
        text, file = read_spec(spec)
        if name is None:
            name = Path(file).stem if file else f"analysis {i + 1}"
        out.append(Analysis(str(name), text, kind_of(text)))
    names = [a.name for a in out]
    if len(set(names)) != len(names):
        raise AttachpathError(f"Two analyses have the same name ({names}); give a dict "
                              f"{{name: spec}} or files with different names.")
    return tuple(out)


def power(population, *, analyses=None, n=None, therapists=None,
          clients_per_therapist=None, icc: float = 0.1, sessions=None,
          dropout: float = 0.15, skip: float = 0.08, caseload_shape: float = 1.0,
          reps: int = 1000,
          seed: int = 1, alpha: float = 0.05, level: float = 0.95, se: str | None = None,
          scheduler: str | None = None, workers: int | None = None,
          chunk_size: int | None = None, out=None, resume: bool = False,
          progress: bool = False) -> PowerResult:
    """Run a Monte Carlo power study; see the module docstring.

    population: spec text or .lav path with fixed values.  analyses: None
    (the population spec with its values freed; for a two-level population
    the two-level model and the client-means model), a spec, a list of specs
    or {name: spec}; a spec with `level:` blocks is fitted to the session
    rows, one without to the client rows (client means in session designs).
    sessions: with therapists and clients_per_therapist, session rows per
    client: K or "MIN-MAX" (list or "K,MIN-MAX" for several designs), with
    the dropout hazard per session, the share of skipped sessions and the
    gamma shape of the caseloads (0: even) of the study simulator; icc is then
    the therapist share of every client-level (between) variance.  se: "standard" or "robust" (default: robust, cluster-
    robust by therapist, for nested designs; standard otherwise).
    scheduler: address of a running Dask scheduler; else a LocalCluster of
    `workers` processes (default one per core) is started and closed;
    workers=0 runs in this process without Dask.  out: directory for
    power.csv, power.svg/.png, report.html and provenance.json (written
    together atomically) and the checkpoints of finished chunks (.chunks/);
    resume=True continues from them."""
    from ..identification import check_options
    from ..spec import read_spec
    from . import report, runner
    from .population import analysis_partable, reported_rows, true_values
    from .replicate import Study
    from .summary import Fold, OrderedFolds, wald_df

    if not isinstance(reps, (int, np.integer)) or reps < 2:
        raise AttachpathError(f"reps must be a whole number of at least 2, not {reps!r}.")
    if seed is None or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise AttachpathError(f"seed must be a whole number of 0 or more, not {seed!r}; a "
                              f"power study is always seeded so it can be repeated.")
    if not 0 < alpha < 1:
        raise AttachpathError(f"alpha must be between 0 and 1 (e.g. 0.05), not {alpha:g}.")
    level = check_options(se="standard", level=level, mc_draws=0, bootstrap=2, seed=seed)
    if se not in (None, "standard", "robust"):
        raise AttachpathError(f"se must be 'standard' or 'robust' in a power study, not "
                              f"{se!r} (bootstrap SEs per replicate are not supported yet).")
    if workers is not None and workers < 0:
        raise AttachpathError(f"workers must be 0 (no Dask) or more, not {workers}.")
    if chunk_size is not None and chunk_size < 1:
        raise AttachpathError(f"chunk_size must be 1 or more, not {chunk_size}.")
    if resume and out is None:
        raise AttachpathError("resume needs out: the directory holding the saved chunks.")
    if out is not None:
        from ..files import check_out_dir
        out = check_out_dir(out)
    designs = designs_of(n, therapists, clients_per_therapist, icc, sessions, dropout,
                         skip, caseload_shape)
    pop_text, pop_file = read_spec(population)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pop = population_of(pop_text)
    notes = [str(w.message) for w in caught]
    session_design = designs[0].kind == "sessions"
    if pop.multilevel and not session_design:
        raise AttachpathError("The population has 'level:' blocks (sessions within "
                              "clients): give a session design, e.g. --therapists 44 "
                              "--clients-per-therapist 7.5 --sessions 2-10.")
    if session_design and not pop.multilevel:
        raise AttachpathError("--sessions needs a two-level population: a spec with "
                              "'level: 1' (within clients) and 'level: 2' (between "
                              "clients) blocks.")
    an = _analyses_of(pop_text, analyses, pop.multilevel)
    for a in an:
        pt = analysis_partable(a)
        missing = [v for v in pt.observed if v not in pop.observed]
        if missing:
            raise AttachpathError(f"The analysis '{a.name}' uses variables the population "
                                  f"does not have: {', '.join(missing)}.")
        if a.kind == "twolevel" and not session_design:
            raise AttachpathError(f"The analysis '{a.name}' is a two-level spec: it needs "
                                  f"session data (a two-level population and --sessions).")
        if a.kind == "twolevel":
            wrong = [v for v, role in pt.variable_levels.items()
                     if (role == "between") != (pop.levels.role(v) == "between")]
            if wrong:
                raise AttachpathError(
                    f"The analysis '{a.name}' puts {', '.join(wrong)} at another level "
                    f"than the population: a variable is between-only (level 2 only) in "
                    f"both or in neither.")
        if any(d.n <= len(pt.observed) for d in designs):
            raise AttachpathError(f"The smallest design has {min(d.n for d in designs)} "
                                  f"clients; the analysis '{a.name}' needs more than its "
                                  f"{len(pt.observed)} variables.")
    study = Study(pop_text, an, tuple(designs), int(seed), se)

    truths, row_info = [], []
    for a in an:
        pt = analysis_partable(a)
        _, truth = true_values(pop, pt)
        truths.append(truth)
        row_info.append([pt.rows[k] for k in reported_rows(pt)])
    # therapist-corrected two-level analyses test against t(G−1), as their fits do
    folds = OrderedFolds([[Fold(t, alpha, level, wald_df(d, a, study.se_for(d)))
                           for t, a in zip(truths, an)] for d in designs])
    size = chunk_size or DEFAULT_CHUNK
    ckpt = None
    if out is not None:
        ckpt = runner.Checkpoints(out, study, resume)
    info = runner.run(study, int(reps), chunk_size=size, folds=folds, checkpoints=ckpt,
                      scheduler=scheduler, workers=workers, progress=progress)

    frames = []
    for d, design in enumerate(designs):
        for a, analysis in enumerate(an):
            stats = folds.folds[d][a].table()
            rows = row_info[a]
            frame = pd.DataFrame({
                "lhs": [r.lhs for r in rows], "op": [r.op for r in rows],
                "rhs": [r.rhs for r in rows], "label": [r.label for r in rows],
                "level": [r.level if r.op != ":=" else "" for r in rows]})
            for k, v in design.columns().items():
                frame[k] = v
            frame["se"] = study.se_for(design) + (
                ".cluster" if design.kind in ("clustered", "sessions")
                and study.se_for(design) == "robust" else "")
            frame["analysis"] = analysis.name
            for k, v in stats.items():
                frame[k] = v
            frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    for c in ("therapists",):
        table[c] = table[c].astype("Int64")
    for n_ in pop.notes:
        if n_ not in notes:
            notes.append(n_)
    from importlib.metadata import version

    from ..fitting import versions
    provenance = {
        "population_file": pop_file, "reps": int(reps), "seed": int(seed),
        "alpha": alpha, "level": level, "se": se or "robust (nested) / standard (simple)",
        "designs": [d.label() for d in designs], "chunk_size": size,
        "scheduler": info.get("scheduler"), "workers": info.get("workers"),
        "resumed_replicates": info.get("resumed_reps", 0),
        "seeding": "numpy SeedSequence(seed, spawn_key=(design, replicate))",
        "population": pop_text, "analyses": {a.name: a.text for a in an},
        "versions": versions() | {"dask": version("dask"),
                                  "distributed": version("distributed"),
                                  "platform": platform.platform()},
        "notes": notes,
    }
    written: tuple[str, ...] = ()
    if out is not None:
        from ..files import write_files_atomic
        written = tuple(write_files_atomic(out, report.files(table, provenance)))
    return PowerResult(table, provenance, written)


class _CallableModule(__import__("types").ModuleType):
    """attachpath.power(...) calls power(): the package is also the API name."""

    def __call__(self, population, **options) -> PowerResult:
        return power(population, **options)


__import__("sys").modules[__name__].__class__ = _CallableModule
