"""The main job on the bundled example, end to end: `attachpath demo`.

    >>> from attachpath.demo import run_demo
    >>> run_demo("attachpath-demo")          # doctest: +SKIP

(skipped as a doctest: it takes a minute, and tests/report/test_demo.py runs it)

1. prepare: the example sessions (330 clients of 44 therapists, simulated)
   are aggregated to client means with ESAT scores (data/clients.csv), and
   ESAT is computed per session for the multilevel analysis
   (data/sessions_esat.csv); a copy of the sessions is kept as
   data/sessions.csv, and of the specs used as specs/*.lav, so the report's
   commands can be rerun from the folder;
2. fit: the study's main models on client means (serial_esat_anx,
   serial_esat_avoid, and simultaneous_secure_anx, ESAT estimated with the
   other subscale as covariate) with therapist-cluster-robust SEs, the scaled
   test and Monte Carlo CIs (20000 draws, seed 1) for the indirect effects
   (models/<name>/);
3. multilevel: the study's multilevel analysis, the two-level serial model
   (twolevel_serial_esat_anx: sessions in clients, SEs and test corrected for
   the therapists, Monte Carlo CIs from that vcov) on the session rows
   (models/twolevel_serial_esat_anx/);
4. compare: the alternative structures of the ESAT-anx model
   (comparison/: tables and one folder per model);
5. draw: each model's path diagram (Graphviz when installed, else the
   built-in layout; the two-level model as one within/between figure);
6. report: report.html (self-contained) and report.md, holding all of it,
   what changes between the client-means and the multilevel analysis, and
   the simulation's population values for reference.

The specs are the package's copies of the repository's specs/ folder, so
the demo works the same from a clone and from an installed package.  Every
file is replaced atomically and other files in the output folder are left
alone, so running it twice into the same folder is fine.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

OUT_DEFAULT = "attachpath-demo"
CLUSTER = "therapist"
SE = "robust"
MC_DRAWS = 20000
SEED = 1
MAIN = ("serial_esat_anx", "serial_esat_avoid", "simultaneous_secure_anx")
ALTERNATIVES = ("serial_esat_anx", "serial_esat_anx_partial", "parallel_esat_anx",
                "reversed_esat_anx", "engagement_only_esat_anx", "autonomy_only_esat_anx")
MULTILEVEL = "twolevel_serial_esat_anx"
MULTILEVEL_CLUSTER = "therapist/client"
STEPS = 6


def spec_text(name: str) -> str:
    """The text of one of the study's specs (specs/<name>.lav), from the
    package data, or from the repository's specs/ folder in a clone that
    was not synced."""
    from importlib import resources     # on use: `attachpath --help` reads this module
    res = resources.files("attachpath").joinpath("specs", f"{name}.lav")
    if res.is_file():
        return res.read_text(encoding="utf-8")
    repo = Path(__file__).resolve().parents[2] / "specs" / f"{name}.lav"
    if repo.is_file():
        return repo.read_text(encoding="utf-8")
    from .errors import AttachpathError
    raise AttachpathError(f"The bundled spec '{name}.lav' is missing from this installation "
                          f"of attachpath; reinstall it.")


def spec_label(name: str) -> str:
    return f"specs/{name}.lav (a copy of the spec bundled with attachpath)"


@dataclass
class DemoResult:
    out: Path
    files: list
    seconds: float
    clients: object = None
    prepared: dict = field(default_factory=dict)
    main: dict = field(default_factory=dict)       # name -> Result
    comparison: object = None
    multilevel: object = None                       # the two-level Result


def _progress_printer(stream=None):
    stream = stream or sys.stderr

    def show(step: int, text: str) -> None:
        print(f"[{step}/{STEPS}] {text} ...", file=stream, flush=True)
    return show


def run_demo(out=OUT_DEFAULT, *, progress=True, mc_draws: int = MC_DRAWS,
             seed: int = SEED) -> DemoResult:
    """Run the demo into `out`; returns what was fitted and written.

    progress: True prints "[k/5] ..." lines to stderr, a callable(step, text)
    receives them, False is silent."""
    from .files import check_out_dir

    say = _progress_printer() if progress is True else (progress or (lambda *a: None))
    t0 = time.perf_counter()
    out = check_out_dir(out)
    for sub in ("data", "specs", "models", "comparison"):
        check_out_dir(out / sub)
    before = set(out.rglob("*")) if out.is_dir() else None
    try:
        return _run(out, say, t0, mc_draws, seed)
    except BaseException:
        _discard_new(out, before)      # a failed demo leaves the folder as it was
        raise


def _discard_new(out: Path, before) -> None:
    """Remove the files and folders this run created under `out` (and `out`
    itself if it did not exist); files that were there before are kept."""
    import shutil
    if before is None:
        shutil.rmtree(out, ignore_errors=True)
        return
    new = sorted(set(out.rglob("*")) - before, key=lambda p: len(p.parts), reverse=True)
    for p in new:
        try:
            p.rmdir() if p.is_dir() else p.unlink()
        except OSError:
            pass


def _run(out, say, t0, mc_draws, seed) -> DemoResult:
    from .comparison import compare
    from .data.prepare import esat_scores, prepare
    from .datasets import SESSIONS_FILE, load_example
    from .fitting import fit
    from .data.io import parse_data
    from .export import comparison_output_files, fit_output_files
    from .files import FLOAT_FORMAT, write_files_atomic
    from .report.figures import comparison_figures, model_figure
    from importlib import resources

    # 1. sessions -> clients
    say(1, "preparing client scores from the example sessions")
    raw = resources.files("attachpath.datasets").joinpath(SESSIONS_FILE).read_bytes()
    sessions = load_example()
    prep = prepare(sessions, client="client", therapist=CLUSTER, session="session")
    clients = esat_scores(prep.clients, level="client", client="client")
    clients_csv = clients.to_csv(index=False, lineterminator="\n", float_format=FLOAT_FORMAT)  # as `attachpath prepare`
    # the multilevel analysis keeps the session rows, ESAT computed per session
    sessions_esat = esat_scores(sessions, level="session")
    sessions_csv = sessions_esat.to_csv(index=False, lineterminator="\n",
                                        float_format=FLOAT_FORMAT)
    # the specs too, so that the report's commands run from the output folder
    inputs = {"data/sessions.csv": raw, "data/clients.csv": clients_csv,
              "data/sessions_esat.csv": sessions_csv}
    inputs.update({f"specs/{n}.lav": spec_text(n)
                   for n in dict.fromkeys(MAIN + (MULTILEVEL,) + ALTERNATIVES)})
    # the fits read the client file as it will be written (its path and hash
    # in their provenance); every file is written at the end, as one set
    data = parse_data(clients_csv.encode("utf-8"), out / "data" / "clients.csv")
    session_data = parse_data(sessions_csv.encode("utf-8"), out / "data" / "sessions_esat.csv")

    # 2. the main models
    say(2, f"fitting {', '.join(MAIN[:-1])} and {MAIN[-1]} (therapist-cluster-robust SEs, Monte Carlo CIs "
           f"from {mc_draws} draws, seed {seed})")
    main = {n: fit(spec_text(n), data, cluster=CLUSTER, se=SE, mc_draws=mc_draws,
                   seed=seed) for n in MAIN}

    # 3. the multilevel analysis
    say(3, f"fitting the multilevel model {MULTILEVEL} on session rows (sessions in "
           f"clients; SEs and test corrected for therapists)")
    multi = fit(spec_text(MULTILEVEL), session_data, cluster=MULTILEVEL_CLUSTER, se=SE,
                mc_draws=mc_draws, seed=seed)

    # 4. the alternatives
    say(4, f"comparing {len(ALTERNATIVES)} alternative structures")
    cmp = compare({n: spec_text(n) for n in ALTERNATIVES}, data, cluster=CLUSTER,
                  se=SE, mc_draws=mc_draws, seed=seed)

    # 5. diagrams
    say(5, "drawing the path diagrams")
    main_figs = {n: model_figure(r) for n, r in main.items()}
    # the two-level figure carries its note (counts, SEs, fit) inside
    multi_fig = model_figure(multi)
    if multi_fig is not None:
        multi_fig = dataclasses.replace(multi_fig, note=None)
    cmp_figs = comparison_figures(cmp.results)

    # 6. report
    say(6, "writing the report")
    from .report.demo_report import demo_report
    outputs = dict(inputs)
    # the showcase writes every figure as PDF and 300-dpi PNG too (fit and
    # compare write them on --pdf, --png)
    from .diagram import RENDERS
    for n, r in {**main, MULTILEVEL: multi}.items():
        outputs.update({f"models/{n}/{f}": c
                        for f, c in fit_output_files(r, renders=RENDERS).items()})
    outputs.update({f"comparison/{f}": c for f, c in comparison_output_files(
        cmp, out / "comparison", report=False, figures=cmp_figs, renders=RENDERS,
        spec_display={n: spec_label(n) for n in cmp.results}).items()})
    files = list(outputs)
    cmp_srcs = {n: (f"comparison/{n}/diagram-compare.svg" if d.shared_layout
                    else f"comparison/{n}/diagram.svg")
                for n, d in cmp_figs.items() if d is not None}
    main_srcs = {n: f"models/{n}/diagram.svg" for n, d in main_figs.items() if d is not None}
    doc = demo_report(prep.report, main, cmp, main_figs=main_figs, main_srcs=main_srcs,
                      cmp_figs=cmp_figs, cmp_srcs=cmp_srcs, mc_draws=mc_draws, seed=seed,
                      files=files + ["report.html", "report.md"],
                      multilevel=(MULTILEVEL, multi, multi_fig,
                                  f"models/{MULTILEVEL}/diagram.svg" if multi_fig else None))
    outputs.update({"report.html": doc.html(), "report.md": doc.markdown()})
    files = write_files_atomic(out, outputs)
    return DemoResult(out=out, files=files, seconds=time.perf_counter() - t0, clients=clients,
                      prepared=prep.report, main=main, comparison=cmp, multilevel=multi)


def headline(res, effect: str) -> str:
    """One line per model for the terminal."""
    from .report import format as F
    f = res.fit
    d = res.defined().set_index("lhs")
    line = (f"scaled chi2({F.integer(f.get('df'))}) = {F.num(f.get('chisq.scaled'), 2)}, "
            f"{F.p_text(f.get('pvalue.scaled'))}, robust CFI = {F.num(f.get('cfi.robust'), 3, bounded=True)}, "
            f"RMSEA = {F.num(f.get('rmsea.robust'), 3, bounded=True)}")
    if effect in d.index:
        r = d.loc[effect]
        line += (f"; {effect} = {F.num(r['est'], 4)} "
                 f"{F.ci(r['ci.lower'], r['ci.upper'], 4)}")
    return line.replace(F.MINUS, "-")
