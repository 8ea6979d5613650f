"""The built-in layered layout (pure Python): positions, edge paths, labels.

1. Columns: every variable not drawn beside a factor sits in the column of
   its rank (the causal stage, or the user's rank).  Indicators of a factor
   form a block with it: a stack left or right of it, or a row above or
   below it.
2. Order within a column: long paths get a dummy point in every column they
   cross; barycentre sweeps (left to right, right to left) reorder the
   columns and the order with the fewest crossings is kept; `order`
   directives then fix the relative order of the variables they name.
3. Heights: each column is placed by weighted least squares towards the
   mean height of its neighbours, subject to the order and minimum gaps
   (solved exactly by pool-adjacent-violators), sweeping until it settles,
   so chains of paths run straight.
4. Paths: one-column paths are straight; longer ones are smooth cubic
   curves through their dummy points; covariances are arcs beside their
   column (nested by span) or curves bowed away from the nodes.  Every path
   is checked against every node; a path that would touch one is bowed
   further until it is clear.
5. Labels: each label box sits on its path (the path is knocked out behind
   it) at the first point along the path that overlaps no node, arrowhead
   or other label, preferring the middle of the path and points that cover
   no other path.
6. If any label finds no place or any path no clear route, the layout is
   redone with 25% more space (up to six times).

All sizes are in points; y grows downwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import geometry as geo
from .geometry import Box, Shape
from .metrics import block_size, text_width
from .themes import EdgeStyle, Theme, edge_style

ARROW = 7.5          # arrowhead length
ARROW_HALF = 3.0     # arrowhead half width
RES_R = 7.0          # residual circle radius
RES_GAP = 16.0       # from node border to residual circle
MARGIN = 12.0
NODE_GAP = 22.0      # between blocks in a column
DUMMY_GAP = 14.0     # between a dummy point and anything
IND_GAP = 10.0       # between indicators in a stack
IND_GAP_ROW = 14.0   # between indicators in a row
LANE = 17.0          # between nested covariance arcs


@dataclass
class NodeG:
    name: str
    kind: str                  # observed | latent | residual
    shape: Shape
    lines: list = field(default_factory=list)
    sub: list = field(default_factory=list)
    emph: bool = False
    var: str | None = None     # the variable, when `name` is not it (two-level panels)
    level: int | None = None   # the level of a two-level panel
    dot: bool = False          # a filled dot on the box: a random intercept


@dataclass
class TextG:
    """Free text: a panel title or a panel note (lines from (x, y), the
    first baseline at y + size)."""
    x: float
    y: float
    lines: list
    size: float
    bold: bool = False
    cls: str = "text"


@dataclass
class LabelG:
    lines: list
    box: Box
    size: float
    color: str
    owner: object


@dataclass
class EdgeG:
    key: object
    u: str
    v: str
    kind: str                  # regression | loading | covariance | residual | variance
    path: list                 # cubic segments, clipped and trimmed for arrowheads
    heads: list                # arrowhead polygons
    tips: tuple                # (start tip or None, end tip)
    style: EdgeStyle
    label: LabelG | None = None
    full: list = field(default_factory=list)   # unclipped-at-arrow path (for checks)


@dataclass
class Layout:
    nodes: dict
    edges: list
    labels: list
    width: float
    height: float
    note_lines: list = field(default_factory=list)
    note_top: float = 0.0
    note_size: float = 9.0
    messages: list = field(default_factory=list)
    texts: list = field(default_factory=list)    # TextG: panel titles and notes
    rules: list = field(default_factory=list)    # (x0, y, x1): dashed lines between panels

    def covered(self) -> list[str]:
        """Labels lying on a path other than their own (a soft fault: the
        label's white box interrupts that path)."""
        out = []
        for lab in self.labels:
            for e in self.edges:
                if e.key == lab.owner or (isinstance(lab.owner, tuple) and e.key == lab.owner):
                    continue
                if geo.polyline_hits_box(geo.sample(e.path, 3.0), lab.box.grow(2.5)):
                    out.append(f"label of {lab.owner} lies on path {e.key}")
        return out

    def problems(self) -> list[str]:
        """Geometric faults: overlapping labels, labels on nodes, paths
        through nodes (empty for a clean layout)."""
        out = []
        labs = self.labels
        for i, a in enumerate(labs):
            for b in labs[i + 1:]:
                if a.box.overlaps(b.box, -0.5):
                    out.append(f"labels {a.owner} and {b.owner} overlap")
            for n in self.nodes.values():
                if n.shape.overlaps_box(a.box, -0.5):
                    out.append(f"label of {a.owner} overlaps node {n.name}")
        for e in self.edges:
            pts = geo.sample(e.path, 1.5)
            pb = geo.bbox(pts)
            for n in self.nodes.values():
                if n.name in (e.u, e.v) or not n.shape.box.overlaps(pb):
                    continue
                if any(n.shape.inside(p, -0.5) for p in pts):
                    out.append(f"path {e.key} ({e.u}->{e.v}) passes through node {n.name}")
        return out


# -- sizes ------------------------------------------------------------------------

def node_size(a: dict, theme: Theme) -> tuple[float, float]:
    lines = a["label"].split("\n")
    tw, th = block_size(lines, theme.font_size, a["sub"], theme.sub_size)
    if a["kind"] == "latent":
        return max(64.0, tw * 1.32 + 18), max(38.0, th * 1.42 + 12)
    return max(52.0, tw + 18), max(26.0, th + 11)


def label_size(lines: list, size: float) -> tuple[float, float]:
    w, h = block_size(lines, size)
    return w + 5, h + 2


# -- ordering --------------------------------------------------------------------

def _crossings(cols, order_pos, links) -> int:
    n = 0
    by_gap: dict[int, list] = {}
    for a, b in links:
        by_gap.setdefault(min(cols[a], cols[b]), []).append(
            (order_pos[a], order_pos[b]) if cols[a] < cols[b] else (order_pos[b], order_pos[a]))
    for pairs in by_gap.values():
        for i in range(len(pairs)):
            for j in range(i + 1, len(pairs)):
                (a1, b1), (a2, b2) = pairs[i], pairs[j]
                if (a1 - a2) * (b1 - b2) < 0:
                    n += 1
    return n


def _score(col_of, pos, links) -> tuple:
    """(crossings, spread): fewer crossings first, then shorter links."""
    spread = sum((pos[a] - pos[b]) ** 2 for a, b in links)
    return _crossings(col_of, pos, links), spread


def _sweeps(cur, nbr, keys, col_of, links, positions, sweeps=8):
    best = {c: list(v) for c, v in cur.items()}
    best_s = _score(col_of, positions(cur), links)
    for it in range(sweeps):
        seq = keys if it % 2 == 0 else list(reversed(keys))
        side = "left" if it % 2 == 0 else "right"
        for c in seq:
            pos = positions(cur)
            items = cur[c]
            idx = {x: i for i, x in enumerate(items)}

            def bary(x, _pos=pos, _side=side, _idx=idx):
                ns = nbr[x][_side]
                if not ns:
                    return _idx[x]
                return sum(_pos[n] for n in ns) / len(ns)
            cur[c] = sorted(items, key=lambda x: (bary(x), idx[x]))
        sc = _score(col_of, positions(cur), links)
        if sc < best_s:
            best_s, best = sc, {c: list(v) for c, v in cur.items()}
    # transpose: swap neighbours while that lowers the score
    cur = {c: list(v) for c, v in best.items()}
    for _ in range(20):
        improved = False
        for c in keys:
            items = cur[c]
            for i in range(len(items) - 1):
                items[i], items[i + 1] = items[i + 1], items[i]
                sc = _score(col_of, positions(cur), links)
                if sc < best_s:
                    best_s, improved = sc, True
                else:
                    items[i], items[i + 1] = items[i + 1], items[i]
        if not improved:
            break
    return cur, best_s


def order_columns(columns: dict[int, list], links: list, groups: list,
                  restarts: int = 24) -> dict[int, list]:
    """Barycentre ordering with transpositions, from the given order and from
    shuffled ones (a fixed seed, so the result is deterministic); `links`
    join items of adjacent columns."""
    import random
    col_of = {x: c for c, items in columns.items() for x in items}
    nbr: dict = {x: {"left": [], "right": []} for x in col_of}
    for a, b in links:
        if col_of[a] + 1 == col_of[b]:
            nbr[a]["right"].append(b)
            nbr[b]["left"].append(a)
        elif col_of[b] + 1 == col_of[a]:
            nbr[b]["right"].append(a)
            nbr[a]["left"].append(b)

    def positions(o):
        return {x: i for items in o.values() for i, x in enumerate(items)}

    keys = sorted(columns)
    best, best_s = _sweeps({c: list(v) for c, v in columns.items()}, nbr, keys, col_of,
                           links, positions)
    rng = random.Random(20261122)
    for _ in range(restarts if best_s[0] > 0 else 0):
        start = {c: rng.sample(v, len(v)) for c, v in columns.items()}
        cand, sc = _sweeps(start, nbr, keys, col_of, links, positions)
        if sc[0] < best_s[0]:
            best, best_s = cand, sc
        if best_s[0] == 0:
            break
    # user order: listed items keep their given relative order in their slots
    for group in groups:
        for c, items in best.items():
            members = [x for x in group if x in items]
            if len(members) < 2:
                continue
            slots = sorted(items.index(x) for x in members)
            for slot, x in zip(slots, members):
                items[slot] = x
    return best


def _pav(values: list[float], weights: list[float]) -> list[float]:
    """Weighted isotonic (non-decreasing) regression by pool adjacent violators."""
    blocks: list[list[float]] = []      # [mean, weight, count]
    for v, w in zip(values, weights):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            wt = w1 + w2
            blocks.append([(m1 * w1 + m2 * w2) / wt, wt, c1 + c2])
    out = []
    for m, _, c in blocks:
        out += [m] * c
    return out


# -- the layout ------------------------------------------------------------------

def _bracket(p, q, reach, *, vertical: bool):
    """A lane-shaped arc: out from p to the line at `reach`, along it, back
    into q, with rounded corners (vertical=True: the lane is horizontal)."""
    if vertical:
        s = 1 if reach > p[1] else -1
        dx = 1 if q[0] > p[0] else -1
        r = max(1.0, min(24.0, abs(reach - p[1]) * 0.8, abs(reach - q[1]) * 0.8,
                         abs(q[0] - p[0]) / 4))
        a1 = (p[0], reach - s * r)
        a2 = (p[0] + dx * r, reach)
        b1 = (q[0] - dx * r, reach)
        b2 = (q[0], reach - s * r)
        return [geo.line_seg(p, a1),
                (a1, (a1[0], a1[1] + s * r * 0.55), (a2[0] - dx * r * 0.55, a2[1]), a2),
                geo.line_seg(a2, b1),
                (b1, (b1[0] + dx * r * 0.55, b1[1]), (b2[0], b2[1] + s * r * 0.55), b2),
                geo.line_seg(b2, q)]
    s = 1 if reach > p[0] else -1
    dy = 1 if q[1] > p[1] else -1
    r = max(1.0, min(24.0, abs(reach - p[0]) * 0.8, abs(reach - q[0]) * 0.8,
                     abs(q[1] - p[1]) / 4))
    a1 = (reach - s * r, p[1])
    a2 = (reach, p[1] + dy * r)
    b1 = (reach, q[1] - dy * r)
    b2 = (reach - s * r, q[1])
    return [geo.line_seg(p, a1),
            (a1, (a1[0] + s * r * 0.55, a1[1]), (a2[0], a2[1] - dy * r * 0.55), a2),
            geo.line_seg(a2, b1),
            (b1, (b1[0], b1[1] + dy * r * 0.55), (b2[0] + s * r * 0.55, b2[1]), b2),
            geo.line_seg(b2, q)]


class _Builder:
    def __init__(self, content, theme: Theme, spacing: float):
        self.c = content
        self.g = content.graph
        self.t = theme
        self.sp = spacing
        self.s = content.settings
        self.size = {v: node_size(a, theme) for v, a in self.g.nodes.items()}
        self.shapes: dict[str, Shape] = {}
        self.nodes: dict[str, NodeG] = {}
        self.edges: list[EdgeG] = []
        self.failed: list[str] = []

    # ---------------------------------------------------------------------------
    def run(self) -> Layout:
        g = self.g
        self.structural = [v for v, a in g.nodes.items() if a["factor"] is None]
        self.rank = {v: g.nodes[v]["rank"] for v in self.structural}
        self.indicators: dict[str, list] = {}
        for v, a in g.nodes.items():
            if a["factor"] is not None:
                self.indicators.setdefault(a["factor"], []).append(v)
        for f, inds in self.indicators.items():
            for group in self.s.order:
                members = [x for x in group if x in inds]
                slots = sorted(inds.index(x) for x in members)
                for slot, x in zip(slots, members):
                    inds[slot] = x
        self._order()
        self._sides()
        self._blocks()
        self._x()
        self._y()
        self._place()
        self._ports()
        self._route()
        self._labels()
        return self._finish()

    # -- ordering ------------------------------------------------------------------
    def _order(self):
        columns: dict[int, list] = {}
        for v in self.structural:
            columns.setdefault(self.rank[v], []).append(v)
        self.chains: dict = {}
        links = []
        for u, v, k, a in self.g.edges():
            if a["kind"] == "covariance" or u not in self.rank or v not in self.rank:
                continue
            ru, rv = self.rank[u], self.rank[v]
            if abs(ru - rv) == 1:
                links.append((u, v))
            elif abs(ru - rv) > 1:
                step = 1 if rv > ru else -1
                prev, chain = u, []
                for r in range(ru + step, rv, step):
                    d = ("~dummy", k, r)
                    columns.setdefault(r, []).append(d)
                    chain.append(d)
                    links.append((prev, d))
                    prev = d
                links.append((prev, v))
                self.chains[k] = chain
        self.links = links
        for c in range(max(columns, default=-1) + 1):
            columns.setdefault(c, [])
        self.columns = order_columns(columns, links, self.s.order)
        self.col_of = {x: c for c, items in self.columns.items() for x in items}

    def _real(self, c):
        return [x for x in self.columns[c] if not isinstance(x, tuple)]

    # -- which side indicators and residuals go --------------------------------------
    def _sides(self):
        g = self.g
        ranks = [self.rank[v] for v in self.structural]
        lo, hi = min(ranks, default=0), max(ranks, default=0)
        self.side: dict[str, str] = {}
        for f in self.indicators:
            side = g.nodes[f].get("side")
            if side is None:
                r = self.rank[f]
                if r == lo:
                    side = "left"
                elif r == hi:
                    side = "right"
                else:
                    real = self._real(r)
                    side = "above" if real.index(f) < max(1, len(real)) / 2 else "below"
            self.side[f] = side
        # factors whose indicators covary: a stack joins the other's row, so the
        # covariance arcs run beside the rows instead of across the figure
        user = {f for f in self.indicators if g.nodes[f].get("side")}
        for u, v, _, a in g.edges():
            if a["kind"] != "covariance":
                continue
            fu, fv = g.nodes[u]["factor"], g.nodes[v]["factor"]
            if not fu or not fv or fu == fv or self.side[fu] == self.side[fv]:
                continue
            for f, other in ((fv, self.side[fu]), (fu, self.side[fv])):
                if (f not in user and other in ("above", "below")
                        and self.side[f] in ("left", "right") and self.rank[f] != lo):
                    self.side[f] = other
                    break
        # residual / variance decorations
        self.res_side: dict[str, str] = {}
        endo = {v for u, v, _, a in g.edges() if a["kind"] in ("regression", "loading")}
        for v, a in g.nodes.items():
            if a["residual"] is None:
                continue
            f = a["factor"]
            if f is not None:
                self.res_side[v] = {"left": "left", "right": "right", "above": "up",
                                    "below": "down"}[self.side[f]]
                continue
            real = self._real(self.rank[v])
            if v not in endo and self.rank[v] == lo:
                side = "left"
            elif v not in endo and self.rank[v] == hi and hi != lo:
                side = "right"
            else:
                side = "up" if real.index(v) < max(1, len(real)) / 2 else "down"
            if v in self.indicators and self.side.get(v) in ("above", "below"):
                side = "down" if self.side[v] == "above" else "up"
            if v in self.indicators and self.side.get(v) == "left" and side == "left":
                side = "up"
            if v in self.indicators and self.side.get(v) == "right" and side == "right":
                side = "up"
            self.res_side[v] = side

    # -- blocks: node + indicators + decorations, relative to the anchor ----------------
    def _res_extent(self, v):
        """Room the residual decoration of v takes beyond its border."""
        a = self.g.nodes[v]
        if a["residual"] is None:
            return 0.0, 0.0
        tw = text_width(a["residual"]["text"], self.t.label_size) + 6
        return RES_GAP + 2 * RES_R + 2, tw

    def _blocks(self):
        g, sp = self.g, self.sp
        self.offset: dict[str, tuple] = {}     # indicator -> (dx, dy) from its factor
        self.block: dict[str, Box] = {}
        load_w = {}
        for u, v, _, a in g.edges():
            if a["kind"] == "loading":
                lw = label_size(a["label"], self.t.label_size)[0] if a["label"] else 0
                load_w[u] = max(load_w.get(u, 0), lw)
        for v in self.structural:
            w, h = self.size[v]
            box = Box.around(0, 0, w, h)
            box = self._with_res(v, box, 0, 0)
            if v in self.indicators:
                inds = self.indicators[v]
                side = self.side[v]
                sizes = [self.size[x] for x in inds]
                if side in ("left", "right"):
                    gap = max(58.0, load_w.get(v, 0) + 34) * sp
                    mw = max(s[0] for s in sizes)
                    hs = []
                    for x, (iw, ih) in zip(inds, sizes):
                        ext, _ = self._res_extent(x)
                        hs.append(ih)
                    total = sum(hs) + IND_GAP * sp * (len(inds) - 1)
                    # stacks of several indicators need room for their labels
                    total = max(total, 0)
                    y = -total / 2
                    sign = -1 if side == "left" else 1
                    cx = sign * (w / 2 + gap + mw / 2)
                    for x, ih in zip(inds, hs):
                        self.offset[x] = (cx, y + ih / 2)
                        y += ih + IND_GAP * sp
                else:
                    gap = 62.0 * sp
                    mh = max(s[1] for s in sizes)
                    ws = [s[0] for s in sizes]
                    hgap = max(IND_GAP_ROW, load_w.get(v, 0) * 0.6) * sp
                    total = sum(ws) + hgap * (len(inds) - 1)
                    x = -total / 2
                    sign = -1 if side == "above" else 1
                    cy = sign * (h / 2 + gap + mh / 2)
                    for ind, iw in zip(inds, ws):
                        self.offset[ind] = (x + iw / 2, cy)
                        x += iw + hgap
                for x in inds:
                    dx, dy = self.offset[x]
                    iw, ih = self.size[x]
                    b = Box.around(dx, dy, iw, ih)
                    box = box.union(self._with_res(x, b, dx, dy))
            self.block[v] = box

    def _with_res(self, v, box: Box, cx, cy) -> Box:
        ext, tw = self._res_extent(v)
        if not ext:
            return box
        side = self.res_side[v]
        w, h = self.size[v]
        if side == "up":
            return box.union(Box(cx - tw - RES_R, cy - h / 2 - ext, cx + tw + RES_R, cy))
        if side == "down":
            return box.union(Box(cx - tw - RES_R, cy, cx + tw + RES_R, cy + h / 2 + ext))
        if side == "left":
            return box.union(Box(cx - w / 2 - ext - 4, cy - 16 - 14, cx, cy + 16))
        return box.union(Box(cx, cy - 16 - 14, cx + w / 2 + ext + 4, cy + 16))

    # -- x ----------------------------------------------------------------------------
    def _x(self):
        sp = self.sp
        ncol = len(self.columns)
        left = [0.0] * ncol
        right = [0.0] * ncol
        for c, items in self.columns.items():
            for x in items:
                if isinstance(x, tuple):
                    continue
                b = self.block[x]
                left[c] = max(left[c], -b.x0)
                right[c] = max(right[c], b.x1)
        need = [0.0] * ncol
        for u, v, _, a in self.g.edges():
            if not a["label"] or a["kind"] == "covariance":
                continue
            cu = self.col_of.get(u if u in self.col_of else self.g.nodes[u]["factor"])
            cv = self.col_of.get(v if v in self.col_of else self.g.nodes[v]["factor"])
            if cu is None or cv is None or cu == cv:
                continue
            w = label_size(a["label"], self.t.label_size)[0]
            for c in range(min(cu, cv) + 1, max(cu, cv) + 1):
                need[c] = max(need[c], w)
        self.colx = [0.0] * ncol
        x = 0.0
        for c in range(ncol):
            if c > 0:
                gap = max(80.0, need[c] + 48.0) * sp
                x += right[c - 1] + gap + left[c]
            self.colx[c] = x

    # -- y ----------------------------------------------------------------------------
    def _ext(self, x):
        if isinstance(x, tuple):
            return 2.0, 2.0
        b = self.block[x]
        return -b.y0, b.y1

    def _y(self):
        y: dict = {}
        for c, items in self.columns.items():
            pos = 0.0
            for i, x in enumerate(items):
                top, bot = self._ext(x)
                if i:
                    pos += top
                y[x] = pos
                pos += bot + self._gap(x, items[i + 1] if i + 1 < len(items) else None)
        nbrs: dict = {x: [] for x in self.col_of}
        for a, b in self.links:
            nbrs[a].append(b)
            nbrs[b].append(a)
        # keep columns centred on each other to start with
        heights = {c: (y[items[-1]] if items else 0.0) for c, items in self.columns.items()}
        hmax = max(heights.values(), default=0.0)
        for c, items in self.columns.items():
            for x in items:
                y[x] += (hmax - heights[c]) / 2
        keys = sorted(self.columns)
        for it in range(40):
            seq = keys if it % 2 == 0 else list(reversed(keys))
            for c in seq:
                items = self.columns[c]
                if not items:
                    continue
                want, wts = [], []
                for x in items:
                    ns = nbrs[x]
                    if ns:
                        want.append(sum(y[n] for n in ns) / len(ns))
                        wts.append(float(len(ns)) * (0.5 if isinstance(x, tuple) else 1.0))
                    else:
                        want.append(y[x])
                        wts.append(0.05)
                offs = [0.0]
                for i in range(1, len(items)):
                    offs.append(offs[-1] + self._sep(items[i - 1], items[i]))
                z = _pav([w - o for w, o in zip(want, offs)], wts)
                for x, zz, o in zip(items, z, offs):
                    y[x] = zz + o
        self.y = y

    def _gap(self, a, b):
        if b is None:
            return 0.0
        if isinstance(a, tuple) or isinstance(b, tuple):
            return DUMMY_GAP * self.sp
        return NODE_GAP * self.sp

    def _sep(self, a, b):
        return self._ext(a)[1] + self._gap(a, b) + self._ext(b)[0]

    # -- shapes -------------------------------------------------------------------------
    def _place(self):
        g = self.g
        pos = {}
        for x, c in self.col_of.items():
            pos[x] = (self.colx[c], self.y[x])
        # rows of indicators above (below) factors that are the first (last) in
        # their column line up at one height
        for side, pick in (("above", min), ("below", max)):
            rows = {}
            for f, sd in self.side.items():
                real = self._real(self.rank[f])
                if sd == side and real and f == (real[0] if side == "above" else real[-1]):
                    ind = self.indicators[f][0]
                    rows[f] = pos[f][1] + self.offset[ind][1]
            if len(rows) > 1:
                target = pick(rows.values())
                for f, y in rows.items():
                    for ind in self.indicators[f]:
                        dx, dy = self.offset[ind]
                        self.offset[ind] = (dx, dy + target - y)
        for ind, (dx, dy) in self.offset.items():
            f = g.nodes[ind]["factor"]
            pos[ind] = (pos[f][0] + dx, pos[f][1] + dy)
        self.pos = pos
        for v, a in g.nodes.items():
            w, h = self.size[v]
            cx, cy = pos[v]
            shape = Shape("ellipse" if a["kind"] == "latent" else "rect", cx, cy, w, h)
            self.shapes[v] = shape
            self.nodes[v] = NodeG(v, a["kind"], shape, a["label"].split("\n"), list(a["sub"]),
                                  a["emph"])
        for v, a in g.nodes.items():
            if a["residual"] is None:
                continue
            side = self.res_side[v]
            sh = self.shapes[v]
            d = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[side]
            if a["residual"]["kind"] == "residual":
                if d[1]:
                    c = (sh.cx, sh.cy + d[1] * (sh.h / 2 + RES_GAP + RES_R))
                else:
                    c = (sh.cx + d[0] * (sh.w / 2 + RES_GAP + RES_R), sh.cy)
                name = f"~res:{v}"
                self.shapes[name] = Shape("circle", c[0], c[1], 2 * RES_R, 2 * RES_R)
                self.nodes[name] = NodeG(name, "residual", self.shapes[name])

    # -- ports: spread the ends of paths along a node's side ------------------------------
    def _sibling_bow(self, u, v, k) -> float:
        """The sideways bow of one of several paths between the same two nodes
        (0 for a lone path): alternate sides, signed relative to u -> v, so a
        sibling running v -> u (y ~ x and x ~ y) flips its sign."""
        sib = self.pairs[frozenset((u, v))]
        if len(sib) < 2:
            return 0.0
        idx = sib.index(k)
        return 22.0 * (1 + idx // 2) * (1 if idx % 2 == 0 else -1) * (-1 if u > v else 1)

    def _ports(self):
        self.port: dict = {}
        self.pairs: dict = {}
        for u, v, k, _ in self.g.edges():
            self.pairs.setdefault(frozenset((u, v)), []).append(k)
        ends: dict = {}
        shift: dict = {}      # sideways bow of sibling paths, to order their ports
        for u, v, k, a in self.g.edges():
            if a["kind"] == "covariance" or u == v:
                continue
            b = self._sibling_bow(u, v, k)
            if b:
                (px, py), (qx, qy) = self.pos[u], self.pos[v]
                L = math.hypot(qx - px, qy - py) or 1.0
                shift[k] = (-(qy - py) / L * b, (qx - px) / L * b)
            chain = self.chains.get(k, [])
            first = (self.colx[chain[0][2]], self.y[chain[0]]) if chain else self.pos[v]
            last = (self.colx[chain[-1][2]], self.y[chain[-1]]) if chain else self.pos[u]
            ends.setdefault(u, []).append((k, first))
            ends.setdefault(v, []).append((k, last))
        for n, items in ends.items():
            sh = self.shapes[n]
            sides: dict = {}
            for k, other in items:
                if other[0] < sh.cx - sh.w / 2:
                    side = "w"
                elif other[0] > sh.cx + sh.w / 2:
                    side = "e"
                else:
                    side = "n" if other[1] < sh.cy else "s"
                sides.setdefault(side, []).append((k, other))
            for side, lst in sides.items():
                if len(lst) < 2:
                    continue
                vertical = side in ("w", "e")
                def key(t, _v=vertical):
                    dx, dy = shift.get(t[0], (0.0, 0.0))
                    return ((t[1][1], dy, t[1][0]) if _v else (t[1][0], dx, t[1][1]))
                lst.sort(key=key)
                # many ends on one side (e.g. reciprocal pairs): use more of it
                tall = 0.55 if len(lst) < 4 else 0.8
                span = (min(sh.h * tall, 9.0 * (len(lst) - 1)) if vertical
                        else min(sh.w * 0.6, 14.0 * (len(lst) - 1)))
                for i, (k, _) in enumerate(lst):
                    off = -span / 2 + span * i / (len(lst) - 1)
                    self.port[(k, n)] = (sh.cx, sh.cy + off) if vertical else (sh.cx + off, sh.cy)

    def _end(self, k, n):
        return self.port.get((k, n), self.pos[n])

    # -- routing ------------------------------------------------------------------------
    def _obstacles(self, skip=()):
        return [s for n, s in self.shapes.items() if n not in skip]

    def _clear(self, path, skip, pad=3.0) -> bool:
        pts = geo.sample(path, 2.0)
        pb = geo.bbox(pts)
        obs = self._obstacles(skip)
        for s in obs:
            bb = s.box.grow(pad)
            if not bb.overlaps(pb):
                continue
            for p in pts:
                if bb.contains(p) and s.inside(p, pad):
                    return False
        return True

    def _clipped_clear(self, path, u, v, pad=3.0) -> bool:
        """Clear of every node but its ends, and of its ends after clipping."""
        return self._clear(path, (u, v), pad)

    def _route(self):
        g = self.g
        pair_count: dict = {}
        for u, v, k, a in g.edges():
            pair_count.setdefault(frozenset((u, v)), []).append(k)
        self.routed: list = []    # polylines of routed edges (for crossing costs)
        self._plan_arcs()
        edges = list(g.edges())
        order = sorted(edges, key=lambda e: (e[3]["kind"] == "covariance",
                                             geo.dist(self.pos[e[0]], self.pos[e[1]])))
        for u, v, k, a in order:
            siblings = pair_count[frozenset((u, v))]
            path = self._path_for(u, v, k, a, siblings)
            self._finish_edge(u, v, k, a, path)
        # residual arrows and variance loops
        for v, a in g.nodes.items():
            res = a["residual"]
            if res is None:
                continue
            sh = self.shapes[v]
            side = self.res_side[v]
            if res["kind"] == "residual":
                name = f"~res:{v}"
                c = self.shapes[name]
                path = [geo.line_seg((c.cx, c.cy), (sh.cx, sh.cy))]
                path = geo.clip_end(geo.clip_start(path, c), sh)
                path, base, tip = geo.trim_end(path, ARROW)
                st = EdgeStyle(self.t.edge, self.t.cov_width, False, self.t.text, "forward")
                e = EdgeG(("residual", v), name, v, "residual", path,
                          [geo.arrowhead(base, tip, ARROW_HALF)], (None, tip), st)
            else:
                path = self._loop(sh, side)
                path = geo.clip_end(geo.clip_start(path, sh), sh)
                full = list(path)
                path, base, tip = geo.trim_end(path, ARROW * 0.9)
                path, base0, tip0 = geo.trim_start(path, ARROW * 0.9)
                st = EdgeStyle(self.t.cov_edge, self.t.cov_width, False, self.t.text, "both")
                e = EdgeG(("variance", v), v, v, "variance", path,
                          [geo.arrowhead(base0, tip0, ARROW_HALF * 0.9),
                           geo.arrowhead(base, tip, ARROW_HALF * 0.9)], (tip0, tip), st,
                          full=full)
            e.res_text = res["text"]
            self.edges.append(e)

    def _loop(self, sh: Shape, side: str):
        d = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[side]
        reach = RES_GAP + 2 * RES_R
        if d[1]:
            a = (sh.cx - min(12, sh.w / 4), sh.cy)
            b = (sh.cx + min(12, sh.w / 4), sh.cy)
            edge_y = sh.cy + d[1] * sh.h / 2
            c1 = (a[0] - 10, edge_y + d[1] * reach * 1.3)
            c2 = (b[0] + 10, edge_y + d[1] * reach * 1.3)
            a = (a[0], sh.cy + d[1] * (sh.h / 2 - 1))
            b = (b[0], sh.cy + d[1] * (sh.h / 2 - 1))
        else:
            a = (sh.cx, sh.cy - min(9, sh.h / 4))
            b = (sh.cx, sh.cy + min(9, sh.h / 4))
            edge_x = sh.cx + d[0] * sh.w / 2
            c1 = (edge_x + d[0] * reach * 1.3, a[1] - 10)
            c2 = (edge_x + d[0] * reach * 1.3, b[1] + 10)
            a = (sh.cx + d[0] * (sh.w / 2 - 1), a[1])
            b = (sh.cx + d[0] * (sh.w / 2 - 1), b[1])
        return [(a, c1, c2, b)]

    def _bow(self, p, q, b):
        """A cubic from p to q bowed sideways by about b (signed)."""
        dx, dy = q[0] - p[0], q[1] - p[1]
        L = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / L, dx / L
        h = b * 4 / 3
        c1 = (p[0] + dx / 3 + nx * h, p[1] + dy / 3 + ny * h)
        c2 = (p[0] + 2 * dx / 3 + nx * h, p[1] + 2 * dy / 3 + ny * h)
        return [(p, c1, c2, q)]

    def _chain_path(self, pts):
        """Smooth curve through points with horizontal tangents at interior points."""
        segs = []
        n = len(pts)
        for i in range(n - 1):
            a, b = pts[i], pts[i + 1]
            L = geo.dist(a, b)
            sx = 1.0 if b[0] >= a[0] else -1.0

            def tangent(j):
                if 0 < j < n - 1:
                    return (sx, 0.0)
                other = pts[1] if j == 0 else pts[-2]
                here = pts[j]
                d = geo.dist(here, other) or 1.0
                if j == 0:
                    return ((other[0] - here[0]) / d, (other[1] - here[1]) / d)
                return ((here[0] - other[0]) / d, (here[1] - other[1]) / d)
            ta, tb = tangent(i), tangent(i + 1)
            k = L / 3
            segs.append((a, (a[0] + ta[0] * k, a[1] + ta[1] * k),
                         (b[0] - tb[0] * k, b[1] - tb[1] * k), b))
        return segs

    def _cross_cost(self, path) -> int:
        pts = geo.sample(path, 8.0)
        return sum(geo.polylines_cross(pts, other) for other in self.routed)

    def _best_bow(self, u, v, sizes, base=0.0, prefer=None):
        p, q = self.pos[u], self.pos[v]
        cands = []
        for b in sizes:
            for sign in ((1, -1) if prefer is None else (prefer, -prefer)):
                bb = base + sign * b
                path = self._bow(p, q, bb)
                if self._clipped_clear(path, u, v):
                    cands.append((self._cross_cost(path) * 30 + abs(bb), path))
            if cands:
                break
        if cands:
            return min(cands, key=lambda c: c[0])[1]
        return None

    def _around(self, u, v):
        """Last resort: a curve around the top or bottom of everything."""
        p, q = self.pos[u], self.pos[v]
        allb = None
        for s in self.shapes.values():
            allb = s.box if allb is None else allb.union(s.box)
        best = None
        for yline in (allb.y0 - 24, allb.y1 + 24):
            path = [(p, (p[0], yline), (q[0], yline), q)]
            if self._clipped_clear(path, u, v):
                cost = abs(yline - p[1]) + abs(yline - q[1])
                if best is None or cost < best[0]:
                    best = (cost, path)
        return best[1] if best else [(p, (p[0], allb.y0 - 60), (q[0], allb.y0 - 60), q)]

    # -- side arcs ------------------------------------------------------------------------
    def _col_side(self, c, u, v) -> int:
        """Which side of column c an arc between u and v goes: the outside of
        the first and last columns, else the side with fewer paths."""
        lo, hi = sorted((self.shapes[u].cy, self.shapes[v].cy))
        members = [x for x in self._real(c) if lo - 1 <= self.shapes[x].cy <= hi + 1]
        stacks = {self.side.get(x) for x in members}
        ncol = len(self.columns)
        if ncol == 1:
            return 1 if "left" in stacks or not stacks - {None} else -1
        if c == 0 and "left" not in stacks:
            return -1
        if c == ncol - 1 and "right" not in stacks:
            return 1
        left = right = 0
        for a, b, _, at in self.g.edges():
            for x, y in ((a, b), (b, a)):
                if x in members and y in self.pos and at["kind"] != "covariance":
                    if self.pos[y][0] < self.pos[x][0] - 1:
                        left += 1
                    elif self.pos[y][0] > self.pos[x][0] + 1:
                        right += 1
        if "left" in stacks:
            left += 100
        if "right" in stacks:
            right += 100
        return 1 if right <= left else -1

    def _plan_arcs(self):
        """Covariances (and paths) within one column, stack or row become arcs
        beside it: each gets a side, a lane (arcs whose spans overlap get
        separate lanes, shorter ones inside, so none runs on top of another)
        and an end point on each node, spread along the node's side so that
        arcs and residual arrows do not start at the same point."""
        self.arc: dict = {}
        groups: dict = {}
        for u, v, k, a in self.g.edges():
            if u == v:
                continue
            gu, gv = self._group(u), self._group(v)
            if gu != gv or gu[0] not in ("col", "stack", "row"):
                continue
            if gu[0] == "row":
                axis, side = "y", (-1 if gu[1] == "above" else 1)
            elif gu[0] == "stack":
                axis, side = "x", (-1 if gu[1] == "left" else 1)
            else:
                axis, side = "x", self._col_side(gu[1], u, v)
            groups.setdefault((gu, axis, side), []).append((k, u, v))
        for (grp, axis, side), arcs in groups.items():
            along = (lambda n: self.shapes[n].cx) if axis == "y" else (lambda n: self.shapes[n].cy)

            def outer(sh, _axis=axis, _side=side):
                return (sh.cy + _side * sh.h / 2 if _axis == "y" else sh.cx + _side * sh.w / 2) * _side

            members = [n for n in self.g.nodes if self._group(n) == grp]
            shapes = [self.shapes[n] for n in members]
            shapes += [self.shapes[f"~res:{n}"] for n in members if f"~res:{n}" in self.shapes]
            base = max(outer(sh) for sh in shapes) * side
            levels: list = []
            for k, u, v in sorted(arcs, key=lambda t: abs(along(t[1]) - along(t[2]))):
                lo, hi = sorted((along(u), along(v)))
                level = 0
                while any(lv == level and a < hi + 6 and lo - 6 < b for a, b, lv in levels):
                    level += 1
                levels.append((lo, hi, level))
                between = any(lo + 1 < along(n) < hi - 1 for n in members)
                self.arc[k] = dict(u=u, v=v, axis=axis, side=side, level=level, base=base,
                                   between=between, ends={})
            # end points
            ends: dict = {}
            for k, u, v in arcs:
                info = self.arc[k]
                for n, other in ((u, v), (v, u)):
                    d = 1 if along(other) > along(n) else -1
                    ends.setdefault((n, d), []).append((info["level"], k))
            by_node: dict = {}
            for (n, d), lst in ends.items():
                by_node.setdefault(n, {})[d] = lst
            for n, dirs in by_node.items():
                sh = self.shapes[n]
                half = (sh.w if axis == "y" else sh.h) / 2
                if sh.shape != "rect":
                    half *= 0.72
                res_here = (f"~res:{n}" in self.shapes and self.res_side.get(n) ==
                            {("y", -1): "up", ("y", 1): "down", ("x", -1): "left",
                             ("x", 1): "right"}[(axis, side)])
                # ends towards lower coordinates first, then the others; within
                # each, the arcs of higher lanes nearer the other group, so that
                # no two arcs cross at the node
                neg = sorted(dirs.get(-1, []))                 # lane 0 outermost
                pos_ = sorted(dirs.get(1, []), reverse=True)   # lane 0 outermost
                if res_here:
                    # keep clear of the residual arrow in the middle
                    near, far = RES_R + 4, max(RES_R + 6, half - 3)
                    slots = ([-(near + (far - near) * (i + 0.5) / len(neg))
                              for i in range(len(neg))][::-1]
                             + [near + (far - near) * (i + 0.5) / len(pos_)
                                for i in range(len(pos_))])
                else:
                    k = len(neg) + len(pos_)
                    span = min(2 * half - 6, 9.0 * (k - 1)) if k > 1 else 0.0
                    if k == 1:
                        slots = [-0.45 * half] if neg else [0.45 * half]
                    else:
                        slots = [-span / 2 + span * i / (k - 1) for i in range(k)]
                for off, (lvl, k_) in zip(slots, neg + pos_):
                    c = along(n) + off
                    self.arc[k_]["ends"][n] = (c, sh.cy) if axis == "y" else (sh.cx, c)

    def _arc_path(self, k, bump=0):
        info = self.arc[k]
        u, v = info["u"], info["v"]
        p, q = info["ends"][u], info["ends"][v]
        side, axis = info["side"], info["axis"]
        reach = info["base"] + side * (14 + (info["level"] + bump) * LANE)
        if info["between"] or bump:
            return _bracket(p, q, reach, vertical=axis == "y")
        if axis == "y":
            Y = (reach - (p[1] + q[1]) / 8) / 0.75
            return [(p, (p[0], Y), (q[0], Y), q)]
        X = (reach - (p[0] + q[0]) / 8) / 0.75
        return [(p, (X, p[1]), (X, q[1]), q)]

    def _group(self, n):
        """('col', c) for structural nodes; ('stack', side, column) or ('row',
        side) for indicators: covariances within a group are drawn as arcs."""
        if n.startswith("~res:"):
            return ("res", n)
        a = self.g.nodes[n]
        if a["factor"] is None:
            return ("col", self.col_of[n])
        f = a["factor"]
        side = self.side[f]
        if side in ("left", "right"):
            return ("stack", side, self.col_of[f])
        return ("row", side)

    def _path_for(self, u, v, k, a, siblings):
        kind = a["kind"]
        gu, gv = self._group(u), self._group(v)
        multi = len(siblings) > 1
        idx = siblings.index(k)
        if kind != "covariance":
            if k in self.chains and not multi:
                pts = [self._end(k, u)] + [(self.colx[d[2]], self.y[d]) for d in self.chains[k]] \
                    + [self._end(k, v)]
                path = self._chain_path(pts)
                if self._clipped_clear(path, u, v):
                    return path
            if gu != gv or gu[0] == "row" or gu[0] == "stack":
                if not multi:
                    path = self._bow(self._end(k, u), self._end(k, v), 0.0)
                    if self._clipped_clear(path, u, v):
                        return path
                base = self._sibling_bow(u, v, k) if multi else 0.0
                if multi:
                    # siblings: gentle bows between their own ports (ordered by
                    # bow side, so the two do not cross), else wider bows
                    p, q = self._end(k, u), self._end(k, v)
                    bow = math.copysign(max(abs(base) * 0.4, 0.045 * geo.dist(p, q)), base)
                    path = self._bow(p, q, bow)
                    if self._clipped_clear(path, u, v):
                        return path
                path = self._best_bow(u, v, [0, 12, 24, 40, 60, 90, 130, 180, 250], base=base)
                if path:
                    return path
                return self._around(u, v)
            # a path within one column: an arc beside it
        # covariances and flat paths: arcs beside their column, stack or row
        if k in self.arc:
            for bump in range(0, 5):
                path = self._arc_path(k, bump)
                if self._clipped_clear(path, u, v):
                    return path
        base = 0.0 if not multi else 22.0 * (1 + idx // 2) * (1 if idx % 2 == 0 else -1) * (-1 if u > v else 1)
        # prefer bowing away from the middle of the drawing
        mid_y = sum(self.y.values()) / max(len(self.y), 1)
        my = (self.pos[u][1] + self.pos[v][1]) / 2
        dx = self.pos[v][0] - self.pos[u][0]
        # the normal of (dx, dy) is (-dy, dx): positive bow goes down when dx > 0
        prefer = 1 if (my > mid_y) == (dx >= 0) else -1
        path = self._best_bow(u, v, [18, 28, 40, 56, 76, 100, 130, 170, 220, 290],
                              base=base, prefer=prefer)
        return path or self._around(u, v)

    def _finish_edge(self, u, v, k, a, path):
        su, sv = self.shapes[u], self.shapes[v]
        path = geo.clip_end(geo.clip_start(path, su), sv)
        full = list(path)
        st = edge_style(self.t, a, self.s.nonsig)
        heads = []
        tip0 = None
        path, base, tip = geo.trim_end(path, ARROW)
        heads.append(geo.arrowhead(base, tip, ARROW_HALF))
        if a["kind"] == "covariance":
            path, base0, tip0 = geo.trim_start(path, ARROW * 0.9)
            heads.insert(0, geo.arrowhead(base0, tip0, ARROW_HALF * 0.9))
        e = EdgeG(k, u, v, a["kind"], path, heads, (tip0, tip), st, full=full)
        e.attrs = a
        self.edges.append(e)
        self.routed.append(geo.sample(full, 8.0))

    # -- labels -------------------------------------------------------------------------
    def _labels(self):
        self.labels: list[LabelG] = []
        obstacles = [s for s in self.shapes.values()]
        heads = [geo.bbox(h).grow(3.0) for e in self.edges for h in e.heads]
        polylines = []
        for e in self.edges:
            pl = geo.coarse(geo.sample(e.full or e.path, 2.0), 2)
            polylines.append((e, pl, geo.bbox(pl)))
        todo = []
        for e in self.edges:
            if e.kind in ("residual", "variance"):
                if getattr(e, "res_text", ""):
                    todo.append((e, [e.res_text], 0))
                continue
            lines = e.attrs["label"]
            if lines:
                todo.append((e, lines, 1))
        # short paths first: they have the fewest places
        todo.sort(key=lambda t: (t[2], geo.polyline_length(geo.sample(t[0].path, 4.0))[-1]))
        for e, lines, _ in todo:
            lab = self._place_label(e, lines, obstacles, heads, polylines)
            if lab is None:
                self.failed.append(f"no place for the label of {e.key}")
                continue
            self.labels.append(lab)
        for lab in self.labels:
            pass

    def _place_label(self, e, lines, obstacles, heads, polylines):
        size = self.t.label_size
        w, h = label_size(lines, size)
        color = e.style.text
        if e.kind in ("residual", "variance"):
            return self._place_res_label(e, lines, w, h, obstacles, heads, size)
        pts = geo.sample(e.path, 1.5)
        acc = geo.polyline_length(pts)
        total = acc[-1]
        prefer = 0.5
        if e.kind == "loading":
            prefer = 0.62
        fracs = sorted({round(i / 40, 3) for i in range(4, 37)}, key=lambda f: abs(f - prefer))
        # a label longer than about half its path would hide it: put it beside
        short = total < (2.4 if e.kind == "covariance" else 1.3) * max(w, h)
        best = None
        for off in (0.0, 1.0, -1.0):
            for f in fracs:
                p, tan = geo.at_fraction(pts, acc, f)
                if off:
                    nx, ny = -tan[1], tan[0]
                    d = (abs(nx) * w + abs(ny) * h) / 2 + 3
                    p = (p[0] + off * nx * d, p[1] + off * ny * d)
                box = Box.around(p[0], p[1], w, h)
                # keep clear of the ends (arrowheads and node borders)
                s = f * total
                if not off and (s < 6 or total - s < 6):
                    continue
                cost = abs(f - prefer) * 20
                if off:
                    cost += 0 if short else 30
                elif short:
                    cost += 40
                if best is not None and cost >= best[0]:
                    continue
                if not self._label_ok(box, obstacles, heads):
                    continue
                near = box.grow(6.0)
                for other, pl, bb in polylines:
                    if other is e or not bb.overlaps(near):
                        continue
                    if geo.polyline_hits_box(pl, box.grow(1.0)):
                        cost += 40
                    elif geo.polyline_hits_box(pl, near):
                        cost += 10
                if best is None or cost < best[0]:
                    best = (cost, box)
        if best is None:
            return None
        return LabelG(lines, best[1], size, color, e.key)

    def _place_res_label(self, e, lines, w, h, obstacles, heads, size):
        v = e.v if e.kind == "residual" else e.u
        side = self.res_side[v]
        if e.kind == "residual":
            c = self.shapes[e.u]
            anchor, r = (c.cx, c.cy), RES_R
        else:
            pts = geo.sample(e.full or e.path, 2.0)
            far = max(pts, key=lambda p: geo.dist(p, (self.shapes[v].cx, self.shapes[v].cy)))
            anchor, r = far, 2.0
        cands = []
        if side in ("up", "down"):
            sgn = -1 if side == "up" else 1
            cands += [(anchor[0] + r + 3 + w / 2, anchor[1]), (anchor[0] - r - 3 - w / 2, anchor[1]),
                      (anchor[0], anchor[1] + sgn * (r + 2 + h / 2))]
        else:
            sgn = -1 if side == "left" else 1
            cands += [(anchor[0], anchor[1] - r - 2 - h / 2), (anchor[0], anchor[1] + r + 2 + h / 2),
                      (anchor[0] + sgn * (r + 3 + w / 2), anchor[1])]
        best = None
        for i, p in enumerate(cands):
            box = Box.around(p[0], p[1], w, h)
            if self._label_ok(box, obstacles, heads):
                hits = sum(1 for other in self.edges if other is not e and
                           geo.polyline_hits_box(geo.sample(other.full or other.path, 3.0),
                                                 box.grow(2.0)))
                cost = hits * 10 + i
                if best is None or cost < best[0]:
                    best = (cost, box)
        if best is not None:
            return LabelG(lines, best[1], size, self.t.text, e.key)
        return None

    def _label_ok(self, box, obstacles, heads) -> bool:
        for s in obstacles:
            if s.overlaps_box(box, 2.0):
                return False
        for hb in heads:
            if hb.overlaps(box):
                return False
        for lab in self.labels:
            if lab.box.overlaps(box, 2.0):
                return False
        return True

    # -- bounds ---------------------------------------------------------------------------
    def _finish(self) -> Layout:
        boxes = [s.box for s in self.shapes.values()] + [lab.box for lab in self.labels]
        for e in self.edges:
            boxes.append(geo.bbox(geo.sample(e.path, 4.0)))
            for hd in e.heads:
                boxes.append(geo.bbox(hd))
        allb = boxes[0]
        for b in boxes[1:]:
            allb = allb.union(b)
        dx, dy = MARGIN - allb.x0, MARGIN - allb.y0

        def mv(p):
            return (p[0] + dx, p[1] + dy)

        for s in self.shapes.values():
            s.cx += dx
            s.cy += dy
        for lab in self.labels:
            b = lab.box
            lab.box = Box(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy)
        for e in self.edges:
            e.path = [tuple(mv(p) for p in seg) for seg in e.path]
            e.full = [tuple(mv(p) for p in seg) for seg in e.full]
            e.heads = [[mv(p) for p in hd] for hd in e.heads]
            e.tips = tuple(None if t is None else mv(t) for t in e.tips)
            lab = next((x for x in self.labels if x.owner == e.key), None)
            e.label = lab
        width = allb.w + 2 * MARGIN
        height = allb.h + 2 * MARGIN
        return Layout(self.nodes, self.edges, self.labels, width, height,
                      messages=list(self.failed))


def compute(content, theme: Theme) -> Layout:
    """The built-in layout of the diagram content (see the module docstring).

    Tries growing spacings until no label is left without a place, no path
    touches a node and no label covers another path; keeps the best try."""
    return best_spacing(content, theme,
                        lambda lay: (len(lay.messages) + len(lay.problems()), len(lay.covered())))


def best_spacing(content, theme: Theme, faults, *, attempts: int = 6,
                 growth: float = 1.2) -> Layout:
    """Lay out at growing spacings until `faults(layout)` gives (0, 0) (hard,
    soft); the try with the fewest faults is kept and its problems recorded."""
    spacing = 1.0
    best = None
    for attempt in range(attempts):
        lay = _Builder(content, theme, spacing).run()
        hard, soft = faults(lay)
        score = (hard, soft, attempt)
        if best is None or score < best[0]:
            best = (score, lay)
        if hard == 0 and soft == 0:
            break
        spacing *= growth
    lay = best[1]
    if lay.messages or lay.problems():
        lay.messages = list(dict.fromkeys(list(lay.messages) + lay.problems()))
    return lay
