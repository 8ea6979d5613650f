"""power.csv, power.svg/.png (matplotlib power curves) and report.html."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

PLOTTED_OPS = ("~", "=~", ":=")


def curve_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows worth a power curve: paths, loadings, := effects and covariances
    between two variables (variances are always 'significant')."""
    keep = table["op"].isin(PLOTTED_OPS) | ((table["op"] == "~~") & (table["lhs"] != table["rhs"]))
    return table[keep]


def within_level(table: pd.DataFrame) -> str:
    """The label of the first (within) level of two-level rows, "" if none."""
    levels = [v for v in table.get("level", pd.Series(dtype=object)) if isinstance(v, str) and v]
    return levels[0] if levels else ""


def param_name(row, within: str = "") -> str:
    """Panel and table name of a row.  Only within-level rows are marked
    ("[level 1]"): between-level rows of a two-level analysis share the name
    (and the panel) of the same row of a client-means analysis."""
    if row["op"] == ":=":
        return row["lhs"]
    label = row["label"] if isinstance(row["label"], str) else ""
    level = row.get("level", "")
    level = f" [level {level}]" if within and level == within else ""
    return f"{row['lhs']} {row['op']} {row['rhs']}" + (f" ({label})" if label else "") + level


def _has(table, column) -> bool:
    return column in table and table[column].notna().any()


def figure(table: pd.DataFrame, alpha: float):
    """A matplotlib Figure: one panel per parameter, power against the
    number of clients, one line per analysis (and caseload), the 80% line."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    rows = curve_rows(table)
    within = within_level(table)
    names = list(dict.fromkeys(param_name(r, within) for _, r in rows.iterrows()))
    ncol = min(4, max(1, len(names)))
    nrow = max(1, int(np.ceil(len(names) / ncol)))
    rows = rows.assign(_name=[param_name(r, within) for _, r in rows.iterrows()])
    series_keys = ["analysis"] + [c for c in ("clients_per_therapist", "sessions")
                                  if _has(rows, c)]
    # one colour, marker and line style per series across all panels, so the
    # legend holds everywhere and identical curves of two analyses stay visible
    keys = list(dict.fromkeys(tuple(k) if isinstance(k, tuple) else (k,)
                              for k, _ in rows.groupby(series_keys, sort=False, dropna=False)))
    legend_rows = -(-len(keys) // 3)
    fig, axes = plt.subplots(nrow, ncol, squeeze=False, sharey=True, figsize=(
        3.2 * ncol, 2.6 * nrow + 0.6 + 0.2 * max(0, legend_rows - 1)))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = {k: dict(color=colours[i % len(colours)], marker="osD^v<>"[i % 7],
                      ls=["-", "--", ":", "-."][i % 4], mfc="none" if i % 2 else None)
              for i, k in enumerate(keys)}
    ticks = table.drop_duplicates("n").sort_values("n")
    tick_labels = [f"{int(r.n)}" + (f"\n{int(r.therapists)} th." if pd.notna(r.therapists)
                                     else "") for r in ticks.itertuples()]
    for ax, name in zip(axes.flat, names):
        sub = rows[rows["_name"] == name]
        for key, s in sub.groupby(series_keys, sort=False, dropna=False):
            key = tuple(key) if isinstance(key, tuple) else (key,)
            s = s.sort_values("n")
            label = str(key[0]) + (f", {key[1]:g} per therapist" if len(key) > 1
                                   and pd.notna(key[1]) else "") + (
                f", {key[2]} sessions" if len(key) > 2 and pd.notna(key[2]) else "")
            ax.errorbar(s["n"], s["power"], yerr=1.96 * s["power_mcse"], ms=4, lw=1.3,
                        capsize=2, label=label, **styles[key])
        ax.axhline(0.8, color="0.45", lw=0.9, ls="--")
        ax.axhline(alpha, color="0.7", lw=0.8, ls=":")
        ax.set_title(name, fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xticks(ticks["n"].tolist(), tick_labels)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7.5)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("power", fontsize=9)
    bottom = _place_panels(fig, nrow, ncol, legend_rows)
    fig.supxlabel("clients (n)" + (" and therapists" if table["therapists"].notna().any()
                                   else ""), fontsize=9, y=bottom - 0.42 / fig.get_figheight(),
                  va="top")
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)),
                   fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 0.05 / fig.get_figheight()))
    fig.suptitle(f"Power at α = {alpha:g} (dashed: 80%; dotted: α); bars: ±1.96 Monte Carlo SE",
                 fontsize=10, y=1 - 0.12 / fig.get_figheight(), va="top")
    return fig


def _place_panels(fig, nrow: int, ncol: int, legend_rows: int) -> float:
    """Margins and gaps of the panel grid in inches (room for the suptitle,
    the panel titles, two-line x tick labels, the x label and the legend):
    fig.tight_layout would measure every text by drawing the figure, which
    cost more than a whole savefig.  Returns the bottom of the grid as a
    fraction of the figure height."""
    width, height = fig.get_figwidth(), fig.get_figheight()
    left, right, top = 0.55, 0.15, 0.6
    bottom = 0.85 + 0.2 * legend_rows            # tick labels, x label, legend
    gap_w, gap_h = 0.15, 0.75                    # shared y axis; tick labels + title
    panel_w = (width - left - right - (ncol - 1) * gap_w) / ncol
    panel_h = (height - top - bottom - (nrow - 1) * gap_h) / nrow
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height, wspace=gap_w / panel_w,
                        hspace=gap_h / panel_h)
    return bottom / height


def figure_files(table: pd.DataFrame, alpha: float) -> dict:
    import matplotlib.pyplot as plt
    fig = figure(table, alpha)
    out = {}
    try:
        for fmt, kw in (("svg", {"metadata": {"Date": None}}),
                        ("png", {"dpi": 150, "metadata": {"Software": None}})):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, **kw)
            out[f"power.{fmt}"] = buf.getvalue()
    finally:
        plt.close(fig)
    out["power.svg"] = out["power.svg"].decode("utf-8")
    return out


def html_report(table: pd.DataFrame, provenance: dict, svg: str | None) -> str:
    from ..report.document import (Document, Figure, Heading, KeyValues, Para, Pre,
                                   Section, Table)
    doc = Document("Power and design planning", subtitle=(
        f"{provenance['reps']} replicates per design, seed {provenance['seed']}, "
        f"α = {provenance['alpha']:g}, {provenance['level']:.0%} intervals"))
    shown = curve_rows(table)
    sessions = _has(table, "sessions")
    header = ["Parameter", "Analysis", "n", "Therapists", "Per therapist"] + (
        ["Sessions"] if sessions else []) + [
        "Population", "Power", "MC SE", "Coverage", "Bias", "Rel. bias", "SE/SD", "Failed"]

    def f(x, d=3):
        return "" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{d}f}"

    rows = []
    within = within_level(table)
    for _, r in shown.iterrows():
        rows.append([param_name(r, within), r["analysis"], int(r["n"]),
                     "" if pd.isna(r["therapists"]) else int(r["therapists"]),
                     "" if pd.isna(r["clients_per_therapist"]) else f"{r['clients_per_therapist']:g}"]
                    + ([str(r["sessions"])] if sessions else []) + [
                     f(r["population"]), f(r["power"]), f(r["power_mcse"]),
                     f(r["coverage"]), f(r["bias"], 4), f(r["rel_bias"]), f(r["se_ratio"]),
                     int(r["nonconverged"])])
    doc.add(Section(Heading("Power curves")).add(
        Figure(svg, "power.svg", "Power of each parameter against the number of clients",
               note="Each point is the share of replicates whose Wald test rejects at α"
                    + (" (against t(G−1), G therapists, for the two-level analyses with "
                       "therapist-corrected SEs, as their fits; normal otherwise)"
                       if sessions else "") +
                    "; bars are ±1.96 Monte Carlo standard errors.")))
    doc.add(Section(Heading("Results")).add(
        Table("Power, coverage and bias per design and analysis", header, rows,
              align="ll" + "r" * (len(header) - 2), wide=True,
              note="Coverage: share of Wald intervals holding the population value. "
                   "SE/SD: mean standard error over the SD of the estimates. The full "
                   "table, with variances, RMSE and the Monte Carlo SE of every figure, is "
                   "power.csv.")))
    prov = Section(Heading("Provenance"))
    prov.add(KeyValues([(k, "; ".join(map(str, v)) if isinstance(v, list) else str(v))
                        for k, v in provenance.items()
                        if k not in ("population", "analyses", "versions", "notes")]))
    prov.add(KeyValues([(k, v) for k, v in provenance["versions"].items()]))
    for n in provenance.get("notes", []):
        prov.add(Para(n, kind="note"))
    prov.add(Pre(provenance["population"], caption="Population"))
    for name, text in provenance["analyses"].items():
        prov.add(Pre(text, caption=f"Analysis: {name}"))
    doc.add(prov)
    return doc.html()


def files(table: pd.DataFrame, provenance: dict) -> dict:
    """{name: content} of every output, to be written together atomically."""
    out = {"power.csv": table.to_csv(index=False, float_format="%.10g")}
    figs = figure_files(table, provenance["alpha"])
    out.update(figs)
    out["report.html"] = html_report(table, provenance, figs.get("power.svg"))
    out["provenance.json"] = json.dumps(provenance, indent=2, default=str) + "\n"
    return out
