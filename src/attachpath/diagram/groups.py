"""Diagrams of a multiple-group fit: one panel per group on one shared layout.

    >>> import attachpath as ap
    >>> from attachpath.diagram.groups import group_diagrams, group_figure
    >>> fit = ap.fit("esat_anx ~ ecr_anx; tds_ge ~ esat_anx",
    ...              ap.datasets.load_example_clients(), group="female")
    >>> list(group_diagrams(fit))                   # {group label: Diagram}
    ['1', '0']
    >>> group_figure(fit).layout.texts[0].lines     # the panels in one figure
    ['female = 1 (n = 246)']

Each group is drawn from its own rows of the GroupFit (its estimates, its
std.all, its R²) through `compare_diagrams`, so a variable sits at the same
place in every panel and the panels have the same size; a path fixed to 0
in one group only (c(0, NA)*x) is drawn there as a faint ghost, as a path
another model lacks.  `group_figure` stacks the panels in one figure, each
under its title, as the two-level diagram stacks its levels.
"""

from __future__ import annotations

import copy
import re
from functools import cached_property

import numpy as np

from ..effects import r_squared_rows, standardized_rows
from .layout import MARGIN, Layout, TextG
from .metrics import LINE, wrap_words
from ..table import Table


class GroupPanel:
    """One group of a GroupFit as the diagram code reads a fitted Result:
    the group's table, estimates (and the := rows, which span groups), row
    values, std.all and R²."""

    def __init__(self, gf, index: int):
        lik = gf.likelihood
        t, glik = lik.tables[index], lik.groups[index]
        est = gf.estimates
        own = est[(est["group"] == index + 1) | (est["op"] == ":=")]
        self.partable = t
        self.estimates = own.drop(columns="group").reset_index(drop=True)
        self.table = Table.from_frame(self.estimates)       # what the diagram reads
        self.row_est = np.array([gf.theta[r.free - 1] if r.free else v
                                 for r, v in zip(t.rows, glik.values)])
        self.row_std = standardized_rows(t, gf.theta, glik.values)
        self.r2 = r_squared_rows(t, gf.theta, glik.values)
        n = gf.nobs[index]
        self.data_info = {"n": n}
        if gf.cluster:
            self.data_info["cluster"] = {"name": gf.cluster, "n": gf.nclusters[index]}
        self.provenance = {"options": {}}
        self.ci = {"level": gf.level, "defined": "delta method"}
        self.se_kind = ("robust.cluster" if gf.cluster else
                        "robust" if gf.se_kind == "robust" else "standard")
        self.draws = None
        self.fit = {}          # the fit is the whole model's: the report gives it
        self.warnings = ()

    def defined(self):
        # := parameters span the groups: the figure's note gives them once
        return self.estimates.iloc[:0]

    def defined_rows(self) -> list[dict]:
        return []


def group_title(gf, index: int) -> str:
    return f"{gf.group} = {gf.groups[index]} (n = {gf.nobs[index]})"


def group_diagrams(gf, **diagram_kwargs) -> dict:
    """{group label (text): Diagram}, one per group of a GroupFit, on one
    shared layout.  Keyword arguments as for `compare_diagrams` (e.g.
    standardized=True, theme="colour")."""
    from .compare import compare_diagrams, model_paths
    panels = {str(g): GroupPanel(gf, i) for i, g in enumerate(gf.groups)}
    titles = {str(g): group_title(gf, i) for i, g in enumerate(gf.groups)}
    diagram_kwargs.setdefault("legend", False)
    paths = [model_paths(t) for t in gf.likelihood.tables]
    text = (f"One panel per group of {gf.group}, variables placed alike in every "
            f"panel.")
    if any(p != paths[0] for p in paths):
        text += (" Bold paths: fixed to 0 in another group; dotted grey paths: free in "
                 "another group, fixed to 0 in this one.")
    return compare_diagrams(panels, titles=titles, note_text=text, **diagram_kwargs)


class GroupFigure:
    """The groups' panels stacked in one figure, each under its title with
    a dashed rule between them (as the two-level diagram stacks its levels),
    each panel's note under it and the figure's note (the whole model's fit,
    the := effects across groups) at the bottom."""

    def __init__(self, gf, panels: dict):
        self.gf = gf
        self.panels = panels
        first = next(iter(panels.values()))
        self.theme = first.theme
        self.title = f"Path diagram by {gf.group}"

    @property
    def note(self) -> str:
        """The figure's note (rich text: the whole model's fit and the
        defined effects across groups)."""
        from . import fmt
        from .model import fit_sentence
        gf = self.gf
        out = [fmt.italic("Note."), f"One panel per group of {gf.group}, variables placed "
               f"alike in every panel."]
        fs = fit_sentence(gf.fit)
        if fs:
            out.append(f"Whole model: {fs}")
        defined = gf.estimates[gf.estimates["op"] == ":="]
        if len(defined):
            level = int(round(100 * gf.level))
            items = [f"{r['lhs']} = {r['rhs'].replace('*', ' × ')} = {fmt.num(r['est'], 3)}, "
                     f"{level}% CI {fmt.interval(r['ci.lower'], r['ci.upper'], 3)}"
                     for r in defined.to_dict("records")]
            out.append("Defined effects across groups (delta-method CIs): "
                       + "; ".join(items) + ".")
        return " ".join(out)

    @cached_property
    def layout(self) -> Layout:
        from .twolevel import PANEL_NOTE_SIZE, TITLE_SIZE, _rename, _translate
        lays = [copy.deepcopy(d.layout) for d in self.panels.values()]
        width = max(max(lay.width for lay in lays), 420.0)
        nodes, edges, labels, texts, rules = {}, [], [], [], []
        y = 8.0
        for i, (d, lay) in enumerate(zip(self.panels.values(), lays)):
            if i:
                rules.append((MARGIN, y + 6, width - MARGIN))
                y += 16
            texts.append(TextG(MARGIN, y, [d.title], TITLE_SIZE, bold=True,
                               cls="panel-title"))
            y += TITLE_SIZE * LINE + 2
            _translate(lay, 0.0, y - MARGIN / 2)
            nodes.update(_rename(lay, i + 1))
            edges += lay.edges
            labels += lay.labels
            y += lay.height - MARGIN / 2
            lines = wrap_words(_panel_note(d.content.note), PANEL_NOTE_SIZE, width - 2 * MARGIN)
            texts.append(TextG(MARGIN, y, lines, PANEL_NOTE_SIZE, cls="panel-note"))
            y += len(lines) * PANEL_NOTE_SIZE * LINE + 6
        rules.append((MARGIN, y + 2, width - MARGIN))
        y += 8
        lines = wrap_words(self.note, PANEL_NOTE_SIZE, width - 2 * MARGIN)
        texts.append(TextG(MARGIN, y, lines, PANEL_NOTE_SIZE, cls="panel-note"))
        y += len(lines) * PANEL_NOTE_SIZE * LINE + 6
        return Layout(nodes, edges, labels, width, y + 6, note_size=PANEL_NOTE_SIZE,
                      texts=texts, rules=rules)

    def svg(self) -> str:
        return self._svg

    @cached_property
    def _svg(self) -> str:
        # drawn once: the files and the report show the same figure
        from .svg import to_svg
        from .fmt import plain
        return to_svg(self.layout, self.theme, title=self.title, desc=plain(self.note))

    @cached_property
    def dot(self) -> str:
        """DOT of the figure with every position fixed (`dot -Kneato -n2`)."""
        from .dot import pinned_dot
        content = next(iter(self.panels.values())).content
        return pinned_dot(self.layout, self.theme, content, title=self.title)

    def to_bytes(self, kind: str) -> bytes:
        """'svg', 'dot', 'pdf' or 'png' (PDF and PNG need Graphviz)."""
        from . import dot as _dot
        from . import encode_figure
        return encode_figure(kind, self.svg, self.dot,
                             lambda kind, dpi: _dot.render_pinned(self.dot, kind, dpi=dpi))


def _panel_note(note: str) -> str:
    """A panel's own note without the sentences the figure's note gives once
    (the leading 'Note.' and the sentence about the shared layout)."""
    note = re.sub(r"^\S*Note\.\S*\s*", "", note)
    return note.split(" One panel per group")[0]


def group_figure(gf, **diagram_kwargs) -> GroupFigure:
    """The panels of group_diagrams stacked in one figure."""
    return GroupFigure(gf, group_diagrams(gf, **diagram_kwargs))
