"""HTML and Markdown reports of fitted models and comparisons.

    >>> import attachpath as ap
    >>> res = ap.fit(ap.specs.path("serial_esat_anx"), ap.datasets.load_example_clients(),
    ...              cluster="therapist", mc_draws=2000, seed=1)
    >>> print(fit_report(res).markdown().splitlines()[0])
    # attachpath report: serial_esat_anx

The files of a fit or a comparison (report, tables, diagrams) are written
by attachpath.export (write_fit_outputs, write_fit_report, write_comparison).

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

def model_name(res, default: str = "model") -> str:
    f = res.provenance.get("spec_file")
    return Path(f).stem if f else default


def fit_report(res, *, name: str | None = None, drawn: Drawn | None = None,
               diagram_src: str | None = "diagram.svg", spec_display: str | None = None,
               modindices=None) -> Document:
    """The report of one fitted model as a Document (.html() / .markdown());
    `modindices` (Result.modindices()) adds their table with the caution
    that paths added post hoc change the meaning of the tests."""
    name = name or model_name(res)
    if drawn is None:
        drawn = model_figure(res)
    doc = Document(title=f"attachpath report: {name}",
                   subtitle=join([f"attachpath {res.provenance.get('versions', {}).get('attachpath', '')}"
                                  f" \u00b7 data: {res.provenance.get('data_source') or 'a data frame'}"
                                  f" \u00b7 N = {res.data_info['n']}"]))
    doc.add(*model_blocks(res, name, drawn, diagram_src, level=2,
                          heading=join(["Results of ", code(name)])))
    if modindices is not None:
        from .tables import modindices_table
        doc.add(Heading("Modification indices", 2), modindices_table(modindices))
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


__all__ = ["Document", "fit_report", "comparison_report", "model_name", "tables", "format"]
