"""Two-level path diagrams: one figure, the within panel above the between panel.

    >>> from attachpath.diagram import diagram
    >>> d = diagram("level: 1\\ny ~ w*x\\nlevel: 2\\ny ~ b*x + z")
    >>> sorted(n.var for n in d.layout.nodes.values() if n.dot)   # random intercepts
    ['x', 'y']
    >>> d.layout.nodes["x@2"].kind, d.layout.nodes["z@2"].kind     # between parts: latent
    ('latent', 'observed')

As in Mplus's two-level diagrams and published multilevel mediation figures:

* a variable with a random intercept (modelled at both levels) carries a
  filled dot at the within level, and its between part is drawn as a latent
  variable (ellipse) at the between level; a variable of one level only is a
  box;
* both panels share one column grid, so a variable sits at the same
  horizontal place in both (columns from the causal order of the between
  paths, then the within ones; the within panel takes the between panel's
  top-to-bottom order);
* each panel shows its own estimates and stars;
* the indirect effects (`:=` products of path labels) live at the level of
  their paths: those paths are drawn bold (in the accent colour with the
  colour theme) and the panel's note gives each effect with its CI.  When the
  model is fitted, only the effects whose CI excludes 0 are drawn bold (all
  of them for a spec, or the one named by `highlight`);
* one figure note counts the rows (sessions), clusters (clients) and
  therapists, names the SE type ("cluster-robust standard errors corrected
  for 44 therapists") and the fit; `:=` effects that mix the levels
  (contextual effects) are reported there.

The figure is one built-in layout (`layout`), so the SVG needs no Graphviz
and Graphviz, when installed, draws exactly it as PDF and PNG.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property
from pathlib import Path

from attachpath.errors import OptionError
from attachpath.partable import stages_from_causes
from attachpath.syntax.expression import Expression

from . import fmt
from .geometry import Box
from .layout import MARGIN, Layout, TextG, _Builder
from .metrics import LINE, wrap_words
from .model import _unit, build, causes_without_cycles, defined_labels, fit_sentence
from .themes import THEMES

TITLE_SIZE = 11.5
PANEL_NOTE_SIZE = 9.0
_S = fmt.NBSP


# -- the content of each panel ------------------------------------------------------

def level_table(pt, b: int):
    """Block b of a two-level table with the := rows whose labels all sit at
    that level, following the := names they use (so a total of indirect
    effects lives where its parts do; Result.level keeps only the := rows
    that name labels directly)."""
    sub = pt.block(b)
    labels = {r.label for r in sub.rows if r.label}
    keep = tuple(r for r in pt.defined() if defined_labels(pt, r.lhs) <= labels)
    return dataclasses.replace(sub, rows=sub.rows + keep)


def indirect_effects(pt) -> dict[str, set]:
    """{name: path labels} of the := rows of a table that are indirect effects:
    a product of path labels, or a sum of such (a total indirect effect)."""
    exprs = {r.lhs: r.rhs for r in pt.defined()}
    out: dict = {}

    def is_product(name, seen=()):
        rhs = exprs[name]
        names = Expression(rhs).names
        refs = [n for n in names if n in exprs]
        if refs:
            return all(is_product(n, seen + (name,)) for n in refs if n not in seen) \
                and len(refs) == len(names)
        return "*" in rhs and len(names) >= 2

    for name in exprs:
        if is_product(name):
            out[name] = defined_labels(pt, name)
    return out


def _excludes_zero(rec) -> bool:
    lo, hi = rec.get("ci.lower"), rec.get("ci.upper")
    return fmt.finite(lo) and fmt.finite(hi) and (lo > 0 or hi < 0)


@dataclasses.dataclass
class Panel:
    level: int
    name: str            # the panel title
    table: object        # the level's ParTable (with its := rows)
    res: object          # the level's Result, or None
    fit: object          # the whole two-level Result, or None
    content: object      # diagram.model.Content
    effects: dict        # indirect effect -> path labels
    bold: list           # the effects whose paths are drawn bold


def _panel_title(b: int, level: str, cluster: str | None) -> str:
    """'Level 1 (within clients)', 'Level 2 (between clients)': as the
    report's tables name the levels (report.tables.level_heading)."""
    side = "within" if b == 1 else "between"
    where = f"{side} {fmt.plural(_unit(cluster), 2)}" if cluster else side
    return f"Level {b} ({where})" if level in ("1", "2") else f"Level {b}: {level} ({where})"


def _panels(pt, res, options: dict) -> tuple[list[Panel], list[str]]:
    from . import settings_for
    from .compare import _kwargs_for
    highlight = options.pop("highlight", None)
    names = [r.lhs for r in pt.defined()]
    if highlight is not None and highlight not in names:
        from attachpath.errors import closest
        raise OptionError(f"highlight: '{highlight}' is not a defined (:=) parameter"
                          + (f"; the model defines {', '.join(names)}." if names
                             else "; the model has none."),
                          suggestion=closest(str(highlight), names))
    roles = pt.variable_levels
    cluster = (res.data_info.get("cluster") or {}).get("name") if res is not None else None
    panels, messages = [], []
    for b, level in enumerate(pt.levels, start=1):
        rb = res.level(b) if res is not None else None
        # the level's := rows, following := names they use (a total of
        # indirect effects lives where its parts do)
        tb = level_table(pt, b)
        drawn = rb.partable if rb is not None else tb
        s, label_map = settings_for(drawn, **_kwargs_for(drawn, options))
        content = build(drawn, rb, s, label_map)
        messages += content.messages
        g = content.graph
        for v, a in g.nodes.items():
            if roles.get(v) == "both":
                if b == 1:
                    a["random"] = True           # the filled dot
                elif a["kind"] == "observed":
                    a["kind"] = "latent"         # its between part: a latent variable
        effects = indirect_effects(tb)
        if highlight is not None:
            bold = [highlight] if highlight in effects or highlight in \
                {r.lhs for r in tb.defined()} else []
        elif res is not None:
            recs = {r["lhs"]: r for r in res.defined_rows()}
            bold = [n for n in effects if n in recs and _excludes_zero(recs[n])
                    and not _is_sum(tb, n)]
        else:
            bold = [n for n in effects if not _is_sum(tb, n)]
        on = set().union(*(defined_labels(tb, n) for n in bold)) if bold else set()
        uses: dict = {}
        for n in effects:
            for lab in effects[n]:
                uses.setdefault(lab, []).append(n)
        for u, v, k, a in g.edges():
            lab = a.get("plabel")
            a["state"] = "on" if lab and lab in on else None
            a["indirect"] = " ".join(uses.get(lab, [])) if lab else ""
        panels.append(Panel(b, _panel_title(b, level, cluster), tb, rb, res, content, effects,
                            bold))
    return panels, messages


def _is_sum(pt, name: str) -> bool:
    """A := that adds other := rows (a total), rather than a product of paths."""
    exprs = {r.lhs: r.rhs for r in pt.defined()}
    return any(n in exprs for n in Expression(exprs[name]).names)


# -- one column grid for both panels --------------------------------------------------

def _union_ranks(panels: list[Panel]) -> dict:
    """Columns from the causal order of the between paths, then the within
    ones (a path that would close a cycle is left out of the order)."""
    nodes: dict = {}                                 # structural variables, between first
    for p in reversed(panels):
        nodes.update((v, None) for v, a in p.content.graph.nodes.items() if a["factor"] is None)
    paths = [(u, v) for p in reversed(panels) for u, v, _, a in p.content.graph.edges()
             if a["kind"] != "covariance" and u != v and u in nodes and v in nodes]
    causes = causes_without_cycles(nodes, paths)
    fixed: dict = {}
    for p in reversed(panels):
        for v, r in p.content.settings.ranks.items():
            if v in nodes:
                fixed.setdefault(v, r)
    return stages_from_causes(causes, fixed)


class _PanelBuilder(_Builder):
    """The built-in layout of one panel, its columns at given x positions."""

    def __init__(self, content, theme, spacing, colx=None):
        super().__init__(content, theme, spacing)
        self.fixed_colx = colx

    def _x(self):
        super()._x()
        self.native_colx = list(self.colx)
        if self.fixed_colx is not None:
            self.colx = list(self.fixed_colx) + [self.colx[-1]] * max(
                0, len(self.colx) - len(self.fixed_colx))


def _shared_colx(builders) -> list[float]:
    """Column positions that leave every panel the room it needs: the widest
    gap between each two neighbouring columns."""
    n = max(len(b.native_colx) for b in builders)
    gaps = [0.0] * n
    for b in builders:
        cx = b.native_colx
        for c in range(1, len(cx)):
            gaps[c] = max(gaps[c], cx[c] - cx[c - 1])
    out, x = [], 0.0
    for c in range(n):
        x += gaps[c]
        out.append(x)
    return out


def _faults(lay: Layout) -> tuple[int, int]:
    return len(lay.messages) + len(lay.problems()), len(lay.covered())


def _lay_out(panels: list[Panel], theme, *, attempts: int = 6, growth: float = 1.2):
    """(layouts, builders) of the panels on one column grid, spread out until
    neither has a fault (the try with the fewest faults is kept)."""
    best = None
    spacing = 1.0
    for attempt in range(attempts):
        first = []
        for p in panels:
            b = _PanelBuilder(p.content, theme, spacing)
            b.run()
            first.append(b)
        colx = _shared_colx(first)
        builders, lays = [], []
        for p in panels:
            b = _PanelBuilder(p.content, theme, spacing, colx)
            lays.append(b.run())
            builders.append(b)
        hard = soft = 0
        for lay in lays:
            h, s = _faults(lay)
            hard, soft = hard + h, soft + s
        score = (hard, soft, attempt)
        if best is None or score < best[0]:
            best = (score, lays, builders)
        if hard == 0 and soft == 0:
            break
        spacing *= growth
    return best[1], best[2]


def _order_like(between, within) -> None:
    """The within panel takes the between panel's top-to-bottom order of the
    variables they share, column by column."""
    groups = []
    for c, items in sorted(between.columns.items()):
        real = [x for x in items if not isinstance(x, tuple) and x in within.graph]
        if len(real) > 1:
            groups.append(tuple(real))
    within.settings.order = groups + [g for g in within.settings.order
                                      if not set(g) & {v for grp in groups for v in grp}]


# -- putting the panels together ------------------------------------------------------------

def _translate(lay: Layout, dx: float, dy: float) -> None:
    def mv(p):
        return (p[0] + dx, p[1] + dy)

    for n in lay.nodes.values():
        n.shape.cx += dx
        n.shape.cy += dy
    for lab in lay.labels:
        b = lab.box
        lab.box = Box(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy)
    for e in lay.edges:
        e.path = [tuple(mv(p) for p in seg) for seg in e.path]
        e.full = [tuple(mv(p) for p in seg) for seg in e.full]
        e.heads = [[mv(p) for p in hd] for hd in e.heads]
        e.tips = tuple(None if t is None else mv(t) for t in e.tips)


def _rename(lay: Layout, b: int) -> dict:
    """Node names unique across the panels: 'x@1', 'x@2' (the variable is in
    NodeG.var, the level in NodeG.level)."""
    def nm(v):
        return f"{v}@{b}" if v else v

    nodes = {}
    for name, n in lay.nodes.items():
        n.var = name[len("~res:"):] if name.startswith("~res:") else name
        n.level = b
        n.name = nm(name)
        nodes[n.name] = n
    for e in lay.edges:
        e.u, e.v = nm(e.u), nm(e.v)
        e.key = (b, e.key)
    for lab in lay.labels:
        lab.owner = (b, lab.owner)
    return nodes


def expression_text(rhs: str) -> str:
    """'a*b*c' -> 'a × b × c', 'b-w' -> 'b − w' (operators spaced, a true minus)."""
    import re
    text = re.sub(r"\s*([*+/-])\s*", r" \1 ", rhs.strip())
    return text.replace(" * ", " × ").replace(" - ", " − ")


def _effect_text(rec, level: int, d: int) -> str:
    expr = expression_text(rec["rhs"])
    # a tiny effect gets the decimals it needs not to read as 0.000 [0.000, 0.000]
    vals = [rec.get(k) for k in ("est", "ci.lower", "ci.upper")]
    while d < 6 and any(fmt.finite(x) and 0 < abs(x) < 0.5 * 10 ** -d for x in vals):
        d += 1
    text = f"{rec['lhs']} = {expr} = {fmt.num(rec['est'], d)}"
    if fmt.finite(rec.get("ci.lower")):
        text += f", {level}%{_S}CI {fmt.interval(rec['ci.lower'], rec['ci.upper'], d)}"
    return text


def _ci_words(res) -> tuple[int, str]:
    from .model import _ci_kind
    return int(round(100 * res.ci.get("level", 0.95))), _ci_kind(res.ci.get("defined", ""))


def panel_note(p: Panel, theme) -> str:
    """The effects that live at this level, with their CIs, and which are bold."""
    if not p.effects:
        return ""
    bold_word = "Bold red paths" if theme.name == "colour" else "Bold paths"
    if p.res is None:
        items = [f"{r.lhs} = {expression_text(r.rhs)}" for r in p.table.defined()
                 if r.lhs in p.effects]
        return (f"Indirect effects at this level: {'; '.join(items)}."
                + (f" {bold_word}: the paths of these effects." if p.bold else ""))
    level, kind = _ci_words(p.res)
    d = max(p.content.settings.decimals, 3)
    recs = {r["lhs"]: r for r in p.fit.defined_rows()}
    items = [_effect_text(recs[n], level, d) for n in p.effects if n in recs]
    out = f"Indirect effects at this level ({kind} CIs): " + "; ".join(items) + "."
    if p.bold:
        out += (f" {bold_word}: {', '.join(p.bold)}" + (" (CI excludes 0)." if
                                                         len(p.bold) < len(p.effects) else "."))
    else:
        out += " No specific indirect effect's CI excludes 0, so no path is bold."
    return out


def figure_note(pt, res, panels: list[Panel], theme) -> str:
    """One note for the figure: estimates, the two levels and their symbols,
    the counts, the SEs, the fit, cross-level effects and the stars."""
    s = panels[-1].content.settings
    out = [fmt.italic("Note.")]
    if res is None:
        out.append("Model specification, not estimated: paths show their labels and "
                   "fixed values.")
    else:
        out.append("Standardized estimates (std.all)." if s.standardized
                   else "Unstandardized estimates.")
    dots = [v for v, r in pt.variable_levels.items() if r == "both"]
    if dots:
        out.append("A filled dot marks a variable with a random intercept: its "
                   "between-cluster part is the latent variable (ellipse) of the same name "
                   "in the between panel.")
    if res is not None:
        info = res.data_info
        cl = info.get("cluster") or {}
        th = info.get("therapist")
        unit = _unit(str(cl.get("name", "cluster")))
        rows = "sessions" if unit in ("client", "patient") else "observations"
        n = int(info.get("n", res.fit.get("ntotal", 0)))
        sample = f"{fmt.italic('N')}{_S}={_S}{n:,} {rows} in {int(cl.get('n', 0)):,} " \
                 f"{fmt.plural(unit, int(cl.get('n', 0)))}"
        if th:
            t_unit = _unit(str(th["name"]))
            sample += f" and {int(th['n']):,} {fmt.plural(t_unit, int(th['n']))}"
        dropped = int(info.get("dropped_rows") or 0)
        if dropped:
            sample += f" ({dropped:,} rows with missing values left out)"
        from ..se_kinds import se_kind
        kind = se_kind(res.se_kind)
        se_text = kind.figure
        if res.se_kind == "none":
            se_text = "no standard errors"
        elif th:
            se_text += f" corrected for {int(th['n']):,} {fmt.plural(_unit(str(th['name'])), int(th['n']))}"
        elif kind.clustered:
            se_text += f", {int(cl.get('n', 0)):,} {fmt.plural(unit, int(cl.get('n', 0)))}"
        if kind.bootstrap and res.draws:
            se_text += f" ({res.draws.get('ok', '')} bootstrap draws)"
        if res.ci.get("pvalues"):       # t(G−1), the default with therapists
            se_text += f", p-values and CIs from {res.ci['pvalues']}"
        out.append(f"{sample}; {se_text}.")
        fs = fit_sentence(res.fit)
        if fs:
            out.append(fs)
        # := rows that mix the levels (e.g. contextual effects b - w)
        at_level = {n for p in panels for n in (r.lhs for r in p.table.defined())}
        cross = [r for r in res.defined_rows() if r["lhs"] not in at_level]
        if cross:
            level, kind_ci = _ci_words(res)
            d = max(s.decimals, 3)
            out.append(f"Effects across the levels ({kind_ci} CIs): "
                       + "; ".join(_effect_text(r, level, d) for r in cross) + ".")
        if s.show["stars"]:
            p = fmt.italic("p")
            out.append(f"*{_S}{p}{_S}<{_S}.05. **{_S}{p}{_S}<{_S}.01. ***{_S}{p}{_S}<{_S}.001.")
        if s.nonsig == "dashed":
            out.append(f"Dashed paths: {fmt.italic('p')}{_S}≥{_S}.05.")
        elif s.nonsig == "grey":
            out.append(f"Grey paths: {fmt.italic('p')}{_S}≥{_S}.05.")
    from .model import _fixed_zero
    zero = [f"{r.rhs} → {r.lhs} ({'within' if p.level == 1 else 'between'})"
            for p in panels for r in p.table.rows if r.op == "~" and _fixed_zero(r)]
    if zero:
        out.append(f"{'Paths' if len(zero) > 1 else 'Path'} fixed to 0 in the model: "
                   f"{', '.join(zero)}.")
    return " ".join(out)


# -- the figure ---------------------------------------------------------------------------------

class TwoLevelDiagram:
    """A two-level model in one figure (see the module doc): `.svg()`,
    `.render(path)` (.svg, .pdf, .png or .dot), `.layout` (the combined
    built-in layout), `.note` (the figure note, plain text), `.panels`."""

    def __init__(self, pt, res, options: dict, title: str = "Path diagram"):
        import warnings
        from . import DiagramWarning
        if options.pop("layout", "attachpath") == "dot":
            raise OptionError("A two-level diagram is drawn with the built-in layout only "
                              "(Graphviz's own layout cannot stack the two panels); "
                              "leave out layout='dot'.")
        show = options.get("show")
        if show is None:
            options["show"] = ["note"]
        elif isinstance(show, str):
            options["show"] = ["note"] + [x for x in show.replace(",", " ").split() if x]
        elif not isinstance(show, dict):
            options["show"] = ["note"] + list(show)
        else:
            options["show"] = {"note": True, **show}
        self.pt, self.res, self.title = pt, res, title
        self.panels, messages = _panels(pt, res, dict(options))
        self.theme = THEMES[self.panels[-1].content.settings.theme]
        self.settings = self.panels[-1].content.settings
        for m in dict.fromkeys(messages):
            warnings.warn(m, DiagramWarning, stacklevel=3)

    # -- text ---------------------------------------------------------------------------
    @cached_property
    def rich_note(self) -> str:
        return figure_note(self.pt, self.res, self.panels, self.theme)

    @property
    def note(self) -> str:
        """The figure note (plain text)."""
        return fmt.plain(self.rich_note)

    @property
    def panel_notes(self) -> dict:
        """{level: the panel's note (plain text)}, empty where a level has no
        indirect effect."""
        return {p.level: fmt.plain(panel_note(p, self.theme)) for p in self.panels}

    @property
    def messages(self) -> list[str]:
        return list(self.layout.messages)

    # -- layout ---------------------------------------------------------------------------
    @cached_property
    def layout(self) -> Layout:
        from . import _add_note
        panels = self.panels
        ranks = _union_ranks(panels)
        for p in panels:
            for v, a in p.content.graph.nodes.items():
                if a["factor"] is None:
                    a["rank"] = ranks[v]
        # the between panel's vertical order first, then the within panel takes it
        between = _PanelBuilder(panels[-1].content, self.theme, 1.0)
        between.run()
        _order_like(between, panels[0].content)
        lays, builders = _lay_out(panels, self.theme)
        # the same x for the same column: undo each panel's own margin shift
        shifts = []
        for lay, b in zip(lays, builders):
            v = next(x for x in b.structural)
            shifts.append(lay.nodes[v].shape.cx - b.colx[b.col_of[v]])
        base = max(shifts)
        for lay, s in zip(lays, shifts):
            _translate(lay, base - s, 0.0)
            lay.width += base - s
        width = max(max(lay.width for lay in lays), 420.0)
        nodes, edges, labels, texts, rules = {}, [], [], [], []
        y = 8.0
        for i, (p, lay) in enumerate(zip(panels, lays)):
            if i:
                rules.append((MARGIN, y + 6, width - MARGIN))
                y += 16
            texts.append(TextG(MARGIN, y, [p.name], TITLE_SIZE, bold=True, cls="panel-title"))
            y += TITLE_SIZE * LINE + 2
            _translate(lay, 0.0, y - MARGIN / 2)
            for n in _rename(lay, p.level).items():
                nodes[n[0]] = n[1]
                if p.level == 1 and p.content.graph.nodes.get(n[1].var, {}).get("random") \
                        and n[1].kind != "residual":
                    n[1].dot = True
            for e in lay.edges:
                a = getattr(e, "attrs", None) or {}
                data = {}
                if a.get("indirect"):
                    data["indirect"] = a["indirect"]
                if a.get("state") == "on":
                    e.mark = "highlighted"
                e.data = data
            edges += lay.edges
            labels += lay.labels
            y += lay.height - MARGIN / 2
            note = panel_note(p, self.theme)
            if note:
                lines = wrap_words(note, PANEL_NOTE_SIZE, width - 2 * MARGIN)
                texts.append(TextG(MARGIN, y, lines, PANEL_NOTE_SIZE, cls="panel-note"))
                y += len(lines) * PANEL_NOTE_SIZE * LINE + 6
        out = Layout(nodes, edges, labels, width, y + 6,
                     note_size=PANEL_NOTE_SIZE, texts=texts, rules=rules)
        if self.settings.show.get("note"):
            _add_note(out, self.rich_note)
        out.messages = list(dict.fromkeys(
            [m for lay in lays for m in lay.messages] + out.problems()))
        return out

    # -- output -----------------------------------------------------------------------------
    def svg(self) -> str:
        return self._svg

    @cached_property
    def _svg(self) -> str:
        # drawn once: the files and the report show the same figure
        from .svg import to_svg
        return to_svg(self.layout, self.theme, title=self.title, desc=self.note)

    def _repr_svg_(self) -> str:
        return self.svg()

    @cached_property
    def dot(self) -> str:
        """DOT of the figure with every position fixed (`dot -Kneato -n2`)."""
        from .dot import pinned_dot
        content = self.panels[-1].content
        return pinned_dot(self.layout, self.theme, content, title=self.title)

    def to_bytes(self, kind: str) -> bytes:
        """'svg', 'dot', 'pdf' or 'png' output as bytes (PDF and PNG need Graphviz)."""
        from . import dot as _dot
        from . import encode_figure
        return encode_figure(kind, self.svg, self.dot,
                             lambda kind, dpi: _dot.render_pinned(self.dot, kind, dpi=dpi))

    def render(self, path) -> Path:
        from attachpath.files import write_bytes_atomic
        from . import check_target
        target, ext = check_target(path)
        write_bytes_atomic(target, self.to_bytes(ext[1:]))
        return target

    def __repr__(self) -> str:
        return f"<two-level diagram: {', '.join(p.name for p in self.panels)}>"


__all__ = ["TwoLevelDiagram", "indirect_effects", "level_table", "figure_note", "panel_note"]
