"""Diagrams of alternative models on one shared layout, differences marked.

    >>> from attachpath.diagram import compare_diagrams
    >>> ds = compare_diagrams({"serial": "m ~ x\\ny ~ m",
    ...                       "direct": "m ~ x\\ny ~ m + x"})
    >>> ds["serial"].layout.nodes["m"].shape.cx == ds["direct"].layout.nodes["m"].shape.cx
    True

`compare_diagrams(results, **diagram_kwargs)` returns {name: Diagram}, one
per model (fitted Results, or specs while nothing is estimated yet), all
drawn from ONE layout of the union of the models: every variable and every
path any model draws.  So a variable sits at the same coordinates in every
figure and every figure has the same canvas size; a variable a model lacks
is drawn faint (dashed grey outline) in its slot.

Each model's paths are compared with the other models' (a path fixed to 0
counts as absent):

* in every model: drawn as usual;
* in some models only: bold (APA) or bold in the accent colour (colour
  theme); the SVG group of the path has class ``some`` and
  ``data-compare="some"``;
* in other models but not this one: a faint dotted grey "ghost" arrow with
  no label (``data-compare="absent"``), so the reader sees what this model
  leaves out; ``ghosts=False`` leaves them out.

Each figure's note says so, and (``legend=True``, the default) a small key
under the figure shows the three line styles, so the figures explain
themselves side by side in a report.

Columns: the paths of all models are taken model by model (the first
model's first) into one acyclic graph, leaving out a path that would close
a cycle, and each variable sits one column right of its latest cause.  So
the first model's causal order wins where the models disagree (TDS before
ESAT in one model, after it in another): the reversed model's paths then
run right to left in its figure, and its note says so.  Every figure is
checked (no path through a node, no overlapping labels, no label on one of
its own paths); the shared layout is spread out until all of them pass, and
a label lying on another path in one figure only is moved along its path
in that figure.

Directives: each spec's ``# diagram:`` lines and the keyword arguments
apply as in `diagram()` where they do not clash with a shared layout:
labels (the first model that labels a variable names it in every figure),
hide (per model: a hidden variable leaves its slot empty), show, theme,
estimates, decimals, nonsig.  rank, order and indicators directives come
from the first model that gives them.  ``highlight`` is not used: bold marks
the differences here.  Layout is always the built-in one (Graphviz draws
it, pinned, for PDF and PNG), since only that can be shared.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Mapping
from pathlib import Path

from attachpath.errors import OptionError, SpecError
from attachpath.partable import stages_from_causes

from . import Diagram, fmt
from . import geometry as geo
from .geometry import Box, Shape
from .layout import (ARROW, ARROW_HALF, EdgeG, LabelG, Layout, NodeG, _Builder, best_spacing,
                     label_size)
from .metrics import text_width
from .model import Content, ContentGraph, build, causes_without_cycles, wrap_label
from .themes import THEMES, EdgeStyle, Theme, edge_style

PATH_OPS = ("~", "=~", "~~")
GHOST_DASH = "1.2,2.6"
LEGEND = ("in every model", "not in every model", "in other models only")


# -- identities of paths --------------------------------------------------------------

def path_id(lhs: str, op: str, rhs: str) -> tuple:
    """One path, the same in every model: covariances are unordered."""
    if op == "~~":
        a, b = sorted((lhs, rhs))
        return (a, "~~", b)
    return (lhs, op, rhs)


def path_name(pid: tuple) -> str:
    return f"{pid[0]} {pid[1]} {pid[2]}"


def _fixed_zero(r) -> bool:
    return not r.free and not r.exo and fmt.finite(r.value) and r.value == 0


def model_paths(pt) -> set:
    """The paths a model has: regressions, loadings and covariances that are
    not fixed to 0 (hidden ones included: hiding is display, not model)."""
    return {path_id(r.lhs, r.op, r.rhs) for r in pt.rows
            if r.op in PATH_OPS and not (r.op == "~~" and r.lhs == r.rhs)
            and not _fixed_zero(r)}


# -- the models ----------------------------------------------------------------------

@dataclasses.dataclass
class _Model:
    name: str
    pt: object
    res: object
    settings: object
    content: Content
    paths: set            # model_paths
    drawn: dict           # pid -> (u, v, key, attrs) of the drawn paths


def _items(results) -> list[tuple[str, object]]:
    if isinstance(results, Mapping):
        items = [(str(k), v) for k, v in results.items()]
    else:
        items = []
        seen = set()
        for i, r in enumerate(results):
            pt = getattr(r, "partable", None)
            file = getattr(pt, "file", None) if pt is not None else None
            if file is None and isinstance(r, (str, Path)) and str(r).endswith(".lav"):
                file = str(r)
            name = Path(file).stem if file else f"model{i + 1}"
            base, j = name, 2
            while name in seen:
                name, j = f"{base}_{j}", j + 1
            seen.add(name)
            items.append((name, r))
    if len(items) < 2:
        raise OptionError("compare_diagrams needs at least two models (a dict name -> "
                        "Result or spec, or a list of them).")
    return items


def _models(items, kwargs) -> tuple[list[_Model], list[str]]:
    from . import _spec_partable, is_result, settings_for
    out, messages = [], []
    pts = []
    for name, item in items:
        # a Result, or one group of a multiple-group fit (groups.GroupPanel)
        res = item if is_result(item) or hasattr(item, "row_est") else None
        pts.append((name, res, res.partable if res is not None else _spec_partable(item)))
    _check_kwargs(kwargs, [pt for *_, pt in pts])
    for name, res, pt in pts:
        s, label_map = settings_for(pt, **_kwargs_for(pt, kwargs))
        notes = []
        if s.highlight:
            notes.append(f"'highlight {s.highlight}' is not used in the comparison (bold "
                         f"marks the paths that differ between the models).")
            s.highlight = None
        content = build(pt, res, s, label_map)
        messages += [f"{name}: {m}" for m in content.messages]
        content.messages = list(content.messages) + notes     # told, not warned
        g = content.graph
        for u, v, k, a in list(g.edges()):
            if _fixed_zero(pt.rows[a["row"]]):
                g.remove_edge(u, v, key=k)           # fixed to 0: absent, not drawn
        drawn = {}
        for u, v, k, a in g.edges():
            drawn[path_id(a["lhs"], a["op"], a["rhs"])] = (u, v, k, a)
        out.append(_Model(name, pt, res, s, content, model_paths(pt), drawn))
    return out, messages


def _split(text: str):
    from . import _split_path
    return _split_path(text) if "~" in text else None


def _kwargs_for(pt, kwargs: dict) -> dict:
    """The keyword arguments as one model sees them: variables and paths it
    does not have are dropped from labels, ranks, order, hide and indicators
    (they name another model's variables)."""
    from .directives import _path_key
    have = set(pt.variables)
    kw = dict(kwargs)
    for key in ("labels", "ranks", "indicators"):
        if isinstance(kw.get(key), Mapping):
            kw[key] = {v: x for v, x in kw[key].items() if v in have}
    if kw.get("order"):
        order = kw["order"]
        groups = [order] if all(isinstance(x, str) for x in order) else list(order)
        kw["order"] = [[v for v in grp if v in have] for grp in groups]
        kw["order"] = [g for g in kw["order"] if g]
    if kw.get("hide"):
        hide = [kw["hide"]] if isinstance(kw["hide"], str) else list(kw["hide"])
        keep = []
        for item in hide:
            path = _split(str(item))
            if path is None:
                names = [v for v in str(item).split() if v in have]
                if names:
                    keep.append(" ".join(names))
            elif path[0] in have and path[2] in have and _path_key(pt, *path) is not None:
                keep.append(item)
        kw["hide"] = keep
    return kw


def _check_kwargs(kwargs: dict, pts: list) -> None:
    """Names in the keyword arguments must be variables of at least one model."""
    from attachpath.errors import closest
    every = [v for pt in pts for v in pt.variables]
    names = []
    for key in ("labels", "ranks", "indicators"):
        if isinstance(kwargs.get(key), Mapping):
            names += [(key, v) for v in kwargs[key]]
    order = kwargs.get("order") or []
    groups = [order] if order and all(isinstance(x, str) for x in order) else list(order)
    names += [("order", v) for grp in groups for v in grp]
    hide = kwargs.get("hide") or []
    for item in ([hide] if isinstance(hide, str) else hide):
        path = _split(str(item))
        names += ([("hide", v) for v in str(item).split()] if path is None
                  else [("hide", path[0]), ("hide", path[2])])
    for key, v in names:
        if v not in every:
            raise OptionError(f"{key}: '{v}' is not a variable of any of the models.",
                            suggestion=closest(str(v), list(dict.fromkeys(every))))


# -- the union ------------------------------------------------------------------------

def _widest(lists: list[list[str]], size: float) -> list[str]:
    """Per line index the widest line of several label line lists."""
    n = max((len(x) for x in lists), default=0)
    out = []
    for i in range(n):
        cands = [x[i] for x in lists if len(x) > i]
        out.append(max(cands, key=lambda t: (text_width(t, size), t)))
    return out


def _ranks(models: list[_Model], structural: list[str]) -> dict:
    """Union columns: paths are taken model by model (the first model's
    first) into one acyclic graph, leaving out any path that would close a
    cycle, i.e. one running against the causal order of an earlier model;
    each variable then sits one column right of its latest cause, with rank
    directives (first model that gives one) fixed; empty columns go."""
    keep = set(structural)
    paths = [(u, v) for m in models for u, v, _, a in m.content.graph.edges()
             if a["kind"] != "covariance" and u in keep and v in keep and u != v]
    causes = causes_without_cycles(structural, paths)
    fixed: dict = {}
    for m in models:
        for v, r in m.settings.ranks.items():
            if v in keep:
                fixed.setdefault(v, r)
    return stages_from_causes({v: causes[v] for v in structural}, fixed)


def _union(models: list[_Model], theme: Theme) -> tuple[Content, dict]:
    """The content of the union diagram and {union edge key: path id}."""
    g = ContentGraph()
    names: list[str] = []
    for m in models:
        for v in m.content.graph.nodes:
            if v not in names:
                names.append(v)
    # one display label per variable: the first model that labels it
    label: dict = {}
    for v in names:
        for m in models:
            a = m.content.graph.nodes.get(v)
            if a is not None and a["label"] != wrap_label(v):
                label[v] = a["label"]
                break
        else:
            label[v] = wrap_label(v)
    for m in models:
        for v, a in m.content.graph.nodes.items():
            a["label"] = label[v]
    # indicators drawn beside a factor in every model that draws them stay so
    factor: dict = {}
    for v in names:
        fs = {m.content.graph.nodes[v]["factor"] for m in models if v in m.content.graph}
        factor[v] = fs.pop() if len(fs) == 1 else None
    # edges: every drawn path, first orientation, widest labels
    pids: list = []
    owner: dict = {}
    for m in models:
        for pid, (u, v, k, a) in m.drawn.items():
            if pid not in owner:
                owner[pid] = (u, v, a)
                pids.append(pid)
    for pid in pids:
        u, v, a = owner[pid]
        for x in (u, v):
            if factor.get(x) and a["kind"] == "regression":
                factor[x] = None              # in a regression somewhere: structural
    structural = [v for v in names if not factor[v]]
    ranks = _ranks(models, structural)
    for v in names:
        nodes = [m.content.graph.nodes[v] for m in models if v in m.content.graph]
        a0 = nodes[0]
        sub = _widest([a["sub"] for a in nodes], theme.sub_size)
        residuals = [a["residual"] for a in nodes if a["residual"] is not None]
        residual = None
        if residuals:
            kind = "residual" if any(r["kind"] == "residual" for r in residuals) else "variance"
            text = max((r["text"] for r in residuals),
                       key=lambda t: (text_width(t, theme.label_size), t))
            residual = {"text": text, "kind": kind, "row": None, "lines": [text]}
        side = next((m.settings.indicators[v] for m in models if v in m.settings.indicators),
                    None)
        g.add_node(v, kind=a0["kind"], label=label[v], sub=sub, rank=ranks.get(v),
                   factor=factor[v], side=side, residual=residual, emph=False)
    key_pid: dict = {}
    for i, pid in enumerate(pids):
        u, v, a = owner[pid]
        lines = _widest([m.drawn[pid][3]["label"] for m in models if pid in m.drawn],
                        theme.label_size)
        attrs = dict(a)
        attrs.update(label=lines, state=None, nonsig=False, row=i)
        g.add_edge(u, v, key=i, **attrs)
        key_pid[i] = pid
    s = copy.deepcopy(models[0].settings)
    s.highlight = None
    groups, ordered = [], set()
    for m in models:
        for grp in m.settings.order:
            if not ordered & set(grp):
                groups.append(tuple(grp))
                ordered |= set(grp)
    s.order = groups
    s.indicators = {v: g.nodes[v]["side"] for v in names if g.nodes[v]["side"]}
    return Content(graph=g, settings=s, fitted=False, note=""), key_pid


# -- one model's figure from the union layout ------------------------------------------------

def _shrunk(box: Box, lines: list, size: float) -> Box:
    w, h = label_size(lines, size)
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    return Box.around(cx, cy, min(w, box.w), min(h, box.h))


def _marked(st: EdgeStyle, t: Theme) -> EdgeStyle:
    color = st.color if st.color == t.dim else t.accent
    return dataclasses.replace(st, color=color, width=t.accent_width)


def _ghost_style(t: Theme, kind: str) -> EdgeStyle:
    return EdgeStyle(t.dim, t.edge_width, True, t.dim_text,
                     "both" if kind == "covariance" else "forward", dash=GHOST_DASH)


def _variance_loop(node: Shape, circle: Shape):
    """A double-headed variance loop on the side where the union layout put a
    residual circle (the room reserved is the same)."""
    dx, dy = circle.cx - node.cx, circle.cy - node.cy
    side = ("right" if dx > 0 else "left") if abs(dx) > abs(dy) else ("down" if dy > 0 else "up")
    path = _Builder._loop(None, node, side)
    path = geo.clip_end(geo.clip_start(path, node), node)
    full = list(path)
    path, base, tip = geo.trim_end(path, ARROW * 0.9)
    path, base0, tip0 = geo.trim_start(path, ARROW * 0.9)
    heads = [geo.arrowhead(base0, tip0, ARROW_HALF * 0.9),
             geo.arrowhead(base, tip, ARROW_HALF * 0.9)]
    return path, heads, (tip0, tip), full


def _derive(union: Layout, key_pid: dict, m: _Model, counts: dict, nmodels: int,
            t: Theme, ghosts: bool) -> tuple[Layout, dict]:
    g = m.content.graph
    s = m.settings
    labels_at = {lab.owner: lab for lab in union.labels}
    nodes: dict = {}
    for name, n in union.nodes.items():
        if n.kind == "residual":
            v = name[len("~res:"):]
            res = g.nodes[v]["residual"] if v in g else None
            if res is not None and res["kind"] == "residual":
                nodes[name] = NodeG(name, "residual", copy.copy(n.shape))
            continue
        if name in g:
            a = g.nodes[name]
            nodes[name] = NodeG(name, n.kind, copy.copy(n.shape), a["label"].split("\n"),
                                list(a["sub"]), False)
        elif ghosts and name not in s.hide:
            faint = NodeG(name, n.kind, copy.copy(n.shape), list(n.lines), [], False)
            faint.faint = True
            nodes[name] = faint
    edges, labels, status = [], [], {}
    ghost_edges = []
    for e in union.edges:
        if e.kind in ("residual", "variance"):
            v = e.v if e.kind == "residual" else e.u
            res = g.nodes[v]["residual"] if v in g else None
            if res is None:
                continue
            ne = copy.copy(e)
            if e.kind == "residual" and res["kind"] == "variance":
                circle = union.nodes[e.u].shape
                path, heads, tips, full = _variance_loop(union.nodes[v].shape, circle)
                st = EdgeStyle(t.cov_edge, t.cov_width, False, t.text, "both")
                ne = EdgeG(("variance", v), v, v, "variance", path, heads, tips, st, full=full)
            elif e.kind == "variance" and res["kind"] == "residual":
                continue            # the union has no circle here (cannot happen)
            ne.res_text = res["text"]
            lab = labels_at.get(e.key)
            ne.label = None
            if lab is not None and res["text"]:
                ne.label = LabelG([res["text"]], _shrunk(lab.box, [res["text"]], lab.size),
                                  lab.size, t.text, ne.key)
                labels.append(ne.label)
            edges.append(ne)
            continue
        pid = key_pid[e.key]
        name = path_name(pid)
        if pid in m.drawn:
            u, v, k, a = m.drawn[pid]
            st = edge_style(t, a, s.nonsig)
            mark = "all" if counts[pid] == nmodels else "some"
            if mark == "some":
                st = _marked(st, t)
            ne = EdgeG(e.key, e.u, e.v, e.kind, e.path, e.heads, e.tips, st, full=e.full)
            ne.attrs = dict(a, compare=mark)
            ne.mark = mark
            ne.data = {"compare": mark, "path": name}
            ne.label = None
            lab = labels_at.get(e.key)
            if lab is not None and a["label"]:
                ne.label = LabelG(list(a["label"]), _shrunk(lab.box, a["label"], lab.size),
                                  lab.size, st.text, e.key)
                labels.append(ne.label)
            edges.append(ne)
            status[name] = mark
        elif pid not in m.paths and ghosts and e.u in nodes and e.v in nodes:
            ne = EdgeG(e.key, e.u, e.v, e.kind, e.path, e.heads, e.tips,
                       _ghost_style(t, e.kind), full=e.full)
            ne.attrs = {"kind": e.kind, "label": [], "compare": "absent"}
            ne.mark = "absent"
            ne.data = {"compare": "absent", "path": name}
            ne.label = None
            ghost_edges.append(ne)
            status[name] = "absent"
        elif pid not in m.paths:
            status[name] = "absent"
    lay = Layout(nodes, ghost_edges + edges, labels, union.width, union.height,
                 note_size=union.note_size, messages=list(union.messages))
    return lay, status


def _on_paths(lab, lay: Layout) -> int:
    """How many of the figure's own paths (not ghosts) the label lies on."""
    box = lab.box.grow(2.5)
    return sum(1 for e in lay.edges
               if e.key != lab.owner and getattr(e, "mark", None) != "absent"
               and geo.polyline_hits_box(geo.sample(e.path, 3.0), box))


def _relabel(lay: Layout, t: Theme) -> None:
    """Move the labels that lie on another path of this figure (their place
    was chosen among the paths of every model) to a better place on their
    own path, found as the built-in layout finds one, counting this figure's
    paths (its own twice as much as ghosts)."""
    todo = [lab for lab in lay.labels if isinstance(lab.owner, int) and _on_paths(lab, lay)]
    if not todo:
        return
    b = _Builder.__new__(_Builder)
    b.t = t
    obstacles = [n.shape for n in lay.nodes.values()]
    heads = [geo.bbox(h).grow(3.0) for e in lay.edges for h in e.heads]
    polylines = []
    for e in lay.edges:
        pl = geo.coarse(geo.sample(e.full or e.path, 2.0), 2)
        times = 1 if getattr(e, "mark", None) == "absent" else 2
        polylines += [(e, pl, geo.bbox(pl))] * times
    by_key = {e.key: e for e in lay.edges}
    for lab in todo:
        e = by_key[lab.owner]
        b.labels = [x for x in lay.labels if x is not lab]
        new = b._place_label(e, lab.lines, obstacles, heads, polylines)
        if new is None:
            continue
        new.color = lab.color
        before = _on_paths(lab, lay)
        i = lay.labels.index(lab)
        lay.labels[i] = new
        if _on_paths(new, lay) < before:
            e.label = new
        else:
            lay.labels[i] = lab


def _faults(lay: Layout) -> tuple[int, int]:
    """(hard, soft) faults of one figure: hard as Layout.problems; soft: a
    label lying on a path of the figure other than a ghost (a label box may
    interrupt a faint ghost line)."""
    return len(lay.problems()), sum(_on_paths(lab, lay) for lab in lay.labels)


def _shared_layout(content, theme, models, key_pid, counts, ghosts) -> Layout:
    """The union layout, as `layout.compute` makes it, except that faults are
    counted in the figures drawn from it: growing spacing until no figure has
    a hard fault or a label on one of its own paths; the best try is kept."""

    def faults(lay):
        hard, soft = len(lay.messages) + len(lay.problems()), 0
        for m in models:
            fig = _derive(lay, key_pid, m, counts, len(models), theme, ghosts)[0]
            _relabel(fig, theme)
            h, s_ = _faults(fig)
            hard, soft = hard + h, soft + s_
        return hard, soft

    # finer steps than compute(): up to 2.85x
    return best_spacing(content, theme, faults, attempts=12, growth=1.1)


# -- legend -----------------------------------------------------------------------------

def _add_legend(union: Layout, t: Theme, ghosts: bool) -> list:
    """Sample arrows with their meaning under the union layout (the ghost one
    only with ghosts); returns the legend items (edge, label) to copy into
    every figure."""
    size = t.sub_size
    y = union.height + 2
    x = 12.0
    items = []
    styles = [EdgeStyle(t.edge, t.edge_width, False, t.text, "forward"),
              _marked(EdgeStyle(t.edge, t.edge_width, False, t.text, "forward"), t),
              _ghost_style(t, "regression")]
    for i, (text, st) in enumerate(zip(LEGEND, styles[:3 if ghosts else 2])):
        p, q = (x, y + 6), (x + 30, y + 6)
        path, base, tip = geo.trim_end([geo.line_seg(p, q)], ARROW)
        e = EdgeG(("legend", i), "", "", "legend", path, [geo.arrowhead(base, tip, ARROW_HALF)],
                  (None, tip), st, full=[geo.line_seg(p, q)])
        e.attrs = {"kind": "legend", "label": [text]}
        e.mark = ("all", "some", "absent")[i]
        e.data = {"compare": e.mark, "legend": "1"}
        w, h = label_size([text], size)
        box = Box(x + 34, y + 6 - h / 2, x + 34 + w, y + 6 + h / 2)
        lab = LabelG([text], box, size, t.text, ("legend", i))
        e.label = lab
        items.append((e, lab))
        x = box.x1 + 16
    union.width = max(union.width, x - 16 + 12)
    union.height = y + 12 + 8
    return items


# -- the entry point -------------------------------------------------------------------------

def compare_diagrams(results, *, ghosts: bool = True, legend: bool = True,
                     titles: Mapping | None = None, note_text: str | None = None,
                     **diagram_kwargs) -> dict:
    """Diagrams of alternative models on one shared layout (see the module doc).

    results: a mapping name -> Result (e.g. `Comparison.results`) or spec, or
    a sequence of them (named by spec file stem, else model1, model2, ...).
    ghosts: draw the paths of other models this one lacks as faint dotted
    arrows (default True).  legend: a key of the line styles under each
    figure (default True).  Other keyword arguments as for `diagram()`
    (standardized, theme, show, labels, hide, ranks, order, indicators,
    nonsig, decimals, directives), applied to every model.  note_text:
    the sentences each figure's note ends with instead of the comparison's
    (e.g. for the groups of one model, diagram/groups.py).
    Returns {name: Diagram} in the order given.
    """
    from . import DiagramWarning, _add_note
    for bad in ("highlight", "layout"):
        if bad in diagram_kwargs:
            why = ("bold marks the paths that differ between the models"
                   if bad == "highlight" else
                   "only the built-in layout can be shared by several figures")
            raise OptionError(f"compare_diagrams does not take '{bad}': {why}.")
    title = diagram_kwargs.pop("title", None)
    items = _items(results)
    models, messages = _models(items, diagram_kwargs)
    for msg in dict.fromkeys(messages):
        warnings.warn(msg, DiagramWarning, stacklevel=2)
    theme = THEMES[models[0].settings.theme]
    for m in models[1:]:
        m.settings.theme = models[0].settings.theme
    union_content, key_pid = _union(models, theme)
    counts: dict = {}
    for m in models:
        for pid in m.paths:
            counts[pid] = counts.get(pid, 0) + 1
    union = _shared_layout(union_content, theme, models, key_pid, counts, ghosts)
    legend_items = _add_legend(union, theme, ghosts) if legend else []
    first_rank = {v: a["rank"] for v, a in union_content.graph.nodes.items()}
    out: dict = {}
    lays = {}
    for m in models:
        lay, status = _derive(union, key_pid, m, counts, len(models), theme, ghosts)
        _relabel(lay, theme)
        for e, lab in legend_items:
            ne = copy.copy(e)
            lay.edges.append(ne)
            lay.labels.append(ne.label)
        backwards = 0
        for u, v, _, a in m.content.graph.edges():
            if (a["kind"] == "regression" and first_rank.get(u) is not None
                    and first_rank.get(v) is not None and first_rank[u] > first_rank[v]):
                backwards += 1
        faint = [n for n in lay.nodes.values() if getattr(n, "faint", False)]
        note = note_text if note_text is not None else _note_text(
            [x.name for x in models if x is not m], theme, ghosts, bool(faint), backwards,
            models[0].name)
        m.content.note = m.content.note + " " + note
        lay.compare = status
        lays[m.name] = lay
    # notes drawn under the figures: pad to the longest so the canvases match
    if any(m.settings.show.get("note") for m in models):
        for m in models:
            _add_note(lays[m.name], m.content.note)
        rows = max(len(lay.note_lines) for lay in lays.values())
        width = max(lay.width for lay in lays.values())
        for lay in lays.values():
            lay.note_lines = lay.note_lines + [""] * (rows - len(lay.note_lines))
            lay.note_block = rows * lay.note_size * 1.22 + 12
            lay.width = width
    for m in models:
        t = (titles or {}).get(m.name) or title or f"Path diagram: {m.name}"
        out[m.name] = CompareDiagram(m.content, lays[m.name], title=t)
    return out


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _note_text(others, t, ghosts, faint, backwards, first) -> str:
    """The sentences a compared figure adds to its note."""
    bold = "Bold red paths" if t.name == "colour" else "Bold paths"
    parts = [f"Variables are placed as in the diagrams of {_and(others)}. {bold}: not in "
             f"every model."]
    if ghosts:
        parts.append("Dotted grey paths: in other models, absent here (or fixed to 0)"
                     + ("; faint dashed boxes: variables this model does not have."
                        if faint else "."))
    if backwards:
        parts.append(f"Paths drawn right to left run against the column order, which "
                     f"follows {first} where the models disagree.")
    return " ".join(parts)


class CompareDiagram(Diagram):
    """A Diagram whose layout is one model's view of a layout shared by the
    models compared (built by `compare_diagrams`)."""

    def __init__(self, content, lay, *, title):
        super().__init__(content, layout="attachpath", title=title)
        self.__dict__["layout"] = lay            # the cached_property's slot

    @property
    def compare(self) -> dict:
        """{"lhs op rhs": "all" | "some" | "absent"}: every path of the
        comparison as this figure shows it (all: in every model; some: in
        this model, not in every one; absent: in another model only)."""
        return dict(self.layout.compare)

    @property
    def dot(self) -> str:
        """DOT with every position fixed (the shared layout); render it with
        `dot -Kneato -n2` (Graphviz's own layout would move the nodes)."""
        return self.pinned_dot

    def __repr__(self) -> str:
        c = self.compare
        some = sum(1 for x in c.values() if x == "some")
        gone = sum(1 for x in c.values() if x == "absent")
        g = self.content.graph
        return (f"<Diagram (compared): {len(g.nodes)} variables, "
                f"{len(g.edges())} paths, {some} not in every model, "
                f"{gone} of other models absent>")
