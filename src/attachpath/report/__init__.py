"""HTML and Markdown reports of fitted models and comparisons.

    >>> import attachpath as ap
    >>> res = ap.fit("specs/serial_esat_anx.lav", ap.datasets.load_example_clients(),
    ...              cluster="therapist", se="robust", mc_draws=20000, seed=1)  # doctest: +SKIP
    >>> ap.report.write_fit_report(res, "results/")       # report.html, report.md  # doctest: +SKIP
    >>> cmp = ap.compare([...], clients, cluster="therapist")                       # doctest: +SKIP
    >>> ap.report.write_comparison(cmp, "comparison/")                               # doctest: +SKIP

report.html is self-contained (inline CSS and SVG diagrams; no external
files, scripts or fonts) and prints cleanly; report.md holds the same
content in Markdown and links the diagram SVG files.  The tables follow APA
style (b, SE, CI, β, p; no leading zero for p and β; p < .001).  Every
report states how the data were handled (N, listwise-dropped rows, clusters
and their sizes, ICCs and design effects), the corrections used (SE type,
scaled test, CI method), the warnings and the provenance (spec text and
hash, data hashes, options, seed, package versions).
"""

from __future__ import annotations

from pathlib import Path

from . import format, tables  # noqa: F401  (public submodules)
from .document import Document, Heading, Para, Section, code, join
from .figures import Drawn, comparison_figures, model_figure
from .sections import (comparison_blocks, model_blocks, provenance_blocks, versions_text)
from ..outputs import FLOAT_FORMAT as CSV_FLOAT


def model_name(res, default: str = "model") -> str:
    f = res.provenance.get("spec_file")
    return Path(f).stem if f else default


def fit_report(res, *, name: str | None = None, drawn: Drawn | None = None,
               diagram_src: str | None = "diagram.svg", spec_display: str | None = None) -> Document:
    """The report of one fitted model as a Document (.html() / .markdown())."""
    name = name or model_name(res)
    if drawn is None:
        drawn = model_figure(res)
    doc = Document(title=f"attachpath report: {name}",
                   subtitle=join([f"attachpath {res.provenance.get('versions', {}).get('attachpath', '')}"
                                  f" \u00b7 data: {res.provenance.get('data_source') or 'a data frame'}"
                                  f" \u00b7 N = {res.data_info['n']}"]))
    doc.add(*model_blocks(res, name, drawn, diagram_src, level=2,
                          heading=join(["Results of ", code(name)])))
    doc.add(*provenance_blocks(res, name, spec_display, level=2))
    return doc


def comparison_report(cmp, *, figures: dict | None = None, srcs: dict | None = None,
                      spec_display: dict | None = None, title: str = "attachpath model comparison") -> Document:
    """The report of a Comparison: comparison tables, the diagrams of the
    alternatives, then each model's tables and provenance."""
    names = list(cmp.results)
    figures = comparison_figures(cmp.results) if figures is None else figures
    srcs = srcs or {n: f"{n}/diagram.svg" for n in names}
    spec_display = spec_display or {}
    first = cmp.results[names[0]]
    doc = Document(title=title,
                   subtitle=join([f"{len(names)} models \u00b7 data: "
                                  f"{first.provenance.get('data_source') or 'a data frame'} \u00b7 "
                                  f"N = {first.data_info['n']}"]))
    doc.add(Section(Heading("Comparison"), comparison_blocks(cmp, figures, srcs)))
    for n in names:
        doc.add(*model_blocks(cmp.results[n], n, figures.get(n), srcs.get(n), level=2,
                              anchor=f"model-{n}"))
    prov = Section(Heading("Provenance"))
    prov.add(Para(join(["Package versions: ", versions_text(first.provenance), "."])))
    for n in names:
        prov.add(*provenance_blocks(cmp.results[n], n, spec_display.get(n), level=3, versions=False))
    doc.add(prov)
    return doc


def _write_all(out: Path, files: dict) -> list[str]:
    """All files at once (temporary files first, then renamed over the old ones)."""
    from ..outputs import write_files_atomic
    return write_files_atomic(out, files)


def write_fit_report(res, out_dir, *, name: str | None = None) -> list[str]:
    """Write report.html and report.md of one Result into out_dir (the
    diagram files themselves come from outputs.write_fit_outputs)."""
    from ..outputs import check_out_dir
    out = check_out_dir(out_dir)
    doc = fit_report(res, name=name)
    return _write_all(out, {"report.html": doc.html(), "report.md": doc.markdown()})


def comparison_files(cmp) -> dict:
    """The comparison's CSV files as text: comparison.csv, tests.csv,
    information.csv, effects.csv."""
    eff = cmp.effects
    if not eff.empty:
        eff = eff[tables.effects_columns(cmp)]
    return {
        "comparison.csv": cmp.table.to_csv(index=False, float_format=CSV_FLOAT, lineterminator="\n"),
        "tests.csv": cmp.tests.to_csv(index=False, float_format=CSV_FLOAT, lineterminator="\n"),
        "information.csv": cmp.information.to_csv(index=False, float_format=CSV_FLOAT,
                                                   lineterminator="\n"),
        "effects.csv": (eff if not eff.empty else eff.reindex(columns=["effect"])).to_csv(
            index=False, float_format=CSV_FLOAT, lineterminator="\n"),
    }


def write_comparison(cmp, out_dir, *, report: bool = True, spec_display: dict | None = None,
                     figures: dict | None = None) -> list[str]:
    """Write a Comparison into out_dir: comparison.csv, tests.csv,
    information.csv, effects.csv, <model>/ (estimates.csv, standardized.csv, fit.json,
    diagram.svg/.dot) and, with report=True, report.html and report.md.
    Returns the written paths relative to out_dir."""
    from ..outputs import check_out_dir
    out = check_out_dir(out_dir)
    return _write_all(out, comparison_output_files(cmp, out, report=report,
                                                   spec_display=spec_display, figures=figures))


def comparison_output_files(cmp, out: Path, *, report: bool = True,
                            spec_display: dict | None = None,
                            figures: dict | None = None) -> dict:
    """{path relative to out: content} of write_comparison, written as one set
    (the models' folders and the comparison files replace the old ones
    together, or none does)."""
    from ..outputs import check_out_dir, fit_output_files
    files = comparison_files(cmp)
    taken = set(files) | {"report.html", "report.md"}
    for n in cmp.results:
        if n in taken:
            from ..errors import OutputError
            raise OutputError(f"A model named '{n}' would write its folder over the file "
                              f"'{n}' of the comparison; rename its spec file.")
        check_out_dir(out / n)
    figures = comparison_figures(cmp.results) if figures is None else figures
    srcs = {}
    for n, d in figures.items():
        if d is None:
            continue
        if d.shared_layout:
            files[f"{n}/diagram-compare.svg"] = d.svg
            srcs[n] = f"{n}/diagram-compare.svg"
        else:
            srcs[n] = f"{n}/diagram.svg"
    if report:
        doc = comparison_report(cmp, figures=figures, srcs=srcs, spec_display=spec_display)
        files["report.html"] = doc.html()
        files["report.md"] = doc.markdown()
    models = {f"{n}/{f}": content for n, res in cmp.results.items()
              for f, content in fit_output_files(res).items()}
    return {**models, **files}


__all__ = ["Document", "fit_report", "comparison_report", "write_fit_report", "write_comparison",
           "comparison_files", "comparison_output_files", "model_name", "tables", "format"]
