"""What a fit or a comparison writes into its --out folder: the top floor,
above the report and the diagrams (it imports them; they never import it).

    fit --out DIR       estimates.csv, standardized.csv, fit.json, diagram.svg/.dot
                        (.pdf, .png with renders=, needing Graphviz), report.html/.md
                        (write_fit_outputs)
    compare --out DIR   comparison.csv, tests.csv, information.csv, effects.csv,
                        one folder per model, report.html/.md        (write_comparison)

All files of one call are written to temporary files first and then moved
into place together (attachpath.files).  A fit's estimates.csv,
standardized.csv and fit.json are made from its table.Table without pandas
(fit_data_files).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .errors import AttachpathWarning, OutputError
from .files import FLOAT_FORMAT, _mkdir, check_out_dir, write_files_atomic
from .report import comparison_report, fit_report
from .report.figures import comparison_figures
from .report.tables import effects_columns


def _clean(x):
    """JSON-safe values: NaN/inf become null, numpy scalars plain numbers."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def fit_json(res) -> dict:
    out = dict(res.fit)
    out["se"] = res.se_kind
    out["ci"] = res.ci
    out["r2"] = res.r2
    out["data"] = {k: v for k, v in res.data_info.items() if k != "labels"}
    if res.draws:
        out["bootstrap"] = {k: res.draws[k] for k in ("n", "ok", "failed", "seed", "interval", "unit")}
    est = res.provenance.get("options", {}).get("estimation", {})
    if "admissible" in est:
        out["admissible"] = bool(est["admissible"])
        out["inadmissible"] = list(est.get("inadmissible", []))
    if res.partable.multilevel:
        out["levels"] = level_guide(res)
    out["warnings"] = list(res.warnings)
    out["provenance"] = res.provenance
    return _clean(out)


def level_guide(res) -> dict:
    """Which level each number of a two-level fit belongs to."""
    cluster = res.data_info["cluster"]["name"]
    within, between = res.partable.levels
    return {
        "within": f"level 1 [{within}]: rows (e.g. sessions) within {cluster}s",
        "between": f"level 2 [{between}]: {cluster}s",
        "estimates": "estimates.csv: column 'block' 1 = level 1, 2 = level 2, 0 = defined",
        "r2": "names ending in '.l2' are level-2 R²",
        "ntotal": "level-1 rows", "nclusters": f"level-2 units ({cluster}s)",
        "srmr_within": "level 1", "srmr_between": "level 2",
        "srmr": "srmr_within + srmr_between, as lavaan",
        "rmsea": "computed with the level-1 N, as lavaan 0.6",
        "bic": "computed with the level-1 N, as lavaan 0.6",
    }


def write_fit_outputs(res, out_dir, *, report: bool = False,
                      modindices: bool = False, renders=()) -> list[str]:
    """estimates.csv, standardized.csv (lavaan's standardizedSolution) and
    fit.json, the diagram when available (diagram.svg/.dot; diagram.pdf and
    diagram.png only as asked in `renders`: see diagram_files), with modindices=True
    modindices.csv (lavaan's modificationIndices, largest first) and, with
    report=True, report.html and report.md: all written to temporary files
    first and then moved into place together (a failure leaves every earlier
    output as it was).  A diagram or report that cannot be made is a warning,
    never a reason to lose the estimates."""
    out = check_out_dir(out_dir)
    files = fit_output_files(res, report=report, modindices=modindices, renders=renders)
    _mkdir(out)
    return write_files_atomic(out, files)


def group_fit_json(gf) -> dict:
    """fit.json of a multiple-group fit: lavaan's fitMeasures, each group's
    chisq ("chisq.group") and size, and the options that made it."""
    out = dict(gf.fit)
    out["se"] = gf.se_kind
    out["group"] = gf.group
    out["groups"] = [{"group": i, "label": str(g), "n": n, "chisq": c} for i, (g, n, c)
                     in enumerate(zip(gf.groups, gf.nobs, gf.fit["chisq.group"]), start=1)]
    out["group_equal"] = list(gf.group_equal)
    out["group_partial"] = list(gf.group_partial)
    out["cluster"] = gf.cluster or None
    out["dropped_rows"] = gf.dropped_rows
    out["not_written"] = ("standardized.csv is not written for multiple-group models: "
                          "estimates.csv has each group's std.all")
    return _clean(out)


def write_group_outputs(gf, out_dir, *, report: bool = True,
                        renders=()) -> list[str]:
    """estimates.csv (with lavaan's `group` column: 1, 2, ... in the order of
    fit.json's "groups"; := rows in group 0), fit.json, the diagram (one
    panel per group: diagram.svg/.dot, and .pdf/.png as asked in `renders`)
    and
    report.html/report.md of a multiple-group fit, moved into place together."""
    out = check_out_dir(out_dir)
    files = {"estimates.csv": _csv(gf.estimates),
             "fit.json": json.dumps(group_fit_json(gf), indent=2) + "\n"}
    from .diagram import diagram_files
    from .diagram.groups import group_figure
    from .report.groups import group_fit_report
    figure = _optional("The path diagram could not be drawn", lambda: group_figure(gf))
    if figure is not None:
        _optional("The path diagram could not be drawn",
                  lambda: files.update(diagram_files(figure, renders=renders)))
    if report:
        _optional("The report could not be made",
                  lambda: _add_report(files, group_fit_report(gf, figure=figure)))
    _mkdir(out)
    return write_files_atomic(out, files)


def write_group_comparison(cmp, out_dir) -> list[str]:
    """comparison.csv, tests.csv and a folder per model (estimates.csv,
    fit.json) of a multiple-group comparison, replaced together."""
    out = check_out_dir(out_dir)
    files = {"comparison.csv": _csv(cmp.table), "tests.csv": _csv(cmp.tests)}
    for name, gf in cmp.results.items():
        folder = name.replace(" [", "_").replace("]", "").replace(",", "_")
        check_out_dir(out / folder)
        files[f"{folder}/estimates.csv"] = _csv(gf.estimates)
        files[f"{folder}/fit.json"] = json.dumps(group_fit_json(gf), indent=2) + "\n"
    _mkdir(out)
    return write_files_atomic(out, files)


def _csv(frame) -> str:
    return frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def fit_data_files(res) -> dict:
    """estimates.csv, standardized.csv and fit.json of a fit as text, made
    from its tables without pandas (the same bytes as pandas' to_csv)."""
    return {
        "estimates.csv": res.table.to_csv(FLOAT_FORMAT),
        "standardized.csv": res.standardized_table().to_csv(FLOAT_FORMAT),
        "fit.json": json.dumps(fit_json(res), indent=2) + "\n",
    }


def fit_output_files(res, *, report: bool = False, modindices: bool = False,
                     renders=()) -> dict:
    """{file name: content} of write_fit_outputs, for writers that put
    several results into one set (compare, demo)."""
    files = fit_data_files(res)
    mi = res.modindices() if modindices else None
    if mi is not None:
        files["modindices.csv"] = _csv(mi)
    from .diagram import diagram, diagram_files
    figure = _optional("The path diagram could not be drawn", lambda: diagram(res))
    if figure is not None:
        _optional("The path diagram could not be drawn",
                  lambda: files.update(diagram_files(figure, renders=renders)))
    if report:
        # the report shows the same figure: laid out once (without one it tries itself)
        from .report.figures import drawn_of
        drawn = drawn_of(figure) if figure is not None else None
        _optional("The report could not be made",
                  lambda: _add_report(files, fit_report(res, modindices=mi, drawn=drawn)))
    return files


def _optional(failure: str, make):
    """make() for an output that must not cost the others (a diagram or
    report problem never loses the estimates): its result, or None and a
    warning naming the problem."""
    try:
        return make()
    except Exception as exc:
        _warn(f"{failure} ({type(exc).__name__}: {exc}); the other outputs are written "
              f"without it.")
        return None


def _add_report(files: dict, doc) -> None:
    files["report.html"] = doc.html()
    files["report.md"] = doc.markdown()


def _warn(message: str) -> None:
    import warnings
    warnings.warn(message, AttachpathWarning, stacklevel=3)


def _write_all(out: Path, files: dict) -> list[str]:
    """All files at once (temporary files first, then renamed over the old ones)."""
    return write_files_atomic(out, files)


def write_fit_report(res, out_dir, *, name: str | None = None) -> list[str]:
    """Write report.html and report.md of one Result into out_dir (the
    diagram files themselves come from write_fit_outputs)."""
    out = check_out_dir(out_dir)
    doc = fit_report(res, name=name)
    return _write_all(out, {"report.html": doc.html(), "report.md": doc.markdown()})


def comparison_files(cmp) -> dict:
    """The comparison's CSV files as text: comparison.csv, tests.csv,
    information.csv, effects.csv."""
    eff = cmp.effects
    if not eff.empty:
        eff = eff[effects_columns(cmp)]
    return {
        "comparison.csv": _csv(cmp.table),
        "tests.csv": _csv(cmp.tests),
        "information.csv": _csv(cmp.information),
        "effects.csv": _csv(eff if not eff.empty else eff.reindex(columns=["effect"])),
    }


def write_comparison(cmp, out_dir, *, report: bool = True, spec_display: dict | None = None,
                     figures: dict | None = None, renders=()) -> list[str]:
    """Write a Comparison into out_dir: comparison.csv, tests.csv,
    information.csv, effects.csv, <model>/ (estimates.csv, standardized.csv, fit.json,
    diagram.svg/.dot, diagram.pdf/.png as asked in `renders`)
    and, with report=True, report.html and report.md, as one set (all
    replaced together, or none).  Returns the written paths relative to
    out_dir."""
    out = check_out_dir(out_dir)
    return _write_all(out, comparison_output_files(cmp, out, report=report,
                                                   spec_display=spec_display, figures=figures,
                                                   renders=renders))


def comparison_output_files(cmp, out: Path, *, report: bool = True,
                            spec_display: dict | None = None,
                            figures: dict | None = None, renders=()) -> dict:
    """{path relative to out: content} of write_comparison."""
    files = comparison_files(cmp)
    taken = set(files) | {"report.html", "report.md"}
    for n in cmp.results:
        if n in taken:
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
              for f, content in fit_output_files(res, renders=renders).items()}
    return {**models, **files}
