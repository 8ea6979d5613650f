"""Plane geometry for the built-in layout: boxes, node shapes, cubic Bézier
paths (sampling, splitting, clipping at node borders, arrowheads).

Coordinates are points with y growing downwards (as in SVG).
"""

from __future__ import annotations

import bisect
import math
from functools import lru_cache
from dataclasses import dataclass

Point = tuple[float, float]
Seg = tuple[Point, Point, Point, Point]      # one cubic Bézier segment


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def around(cls, cx, cy, w, h) -> "Box":
        return cls(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)

    def grow(self, d: float) -> "Box":
        return Box(self.x0 - d, self.y0 - d, self.x1 + d, self.y1 + d)

    def overlaps(self, o: "Box", pad: float = 0.0) -> bool:
        return (self.x0 - pad < o.x1 and o.x0 - pad < self.x1
                and self.y0 - pad < o.y1 and o.y0 - pad < self.y1)

    def contains(self, p: Point, pad: float = 0.0) -> bool:
        return (self.x0 - pad <= p[0] <= self.x1 + pad
                and self.y0 - pad <= p[1] <= self.y1 + pad)

    def union(self, o: "Box") -> "Box":
        return Box(min(self.x0, o.x0), min(self.y0, o.y0), max(self.x1, o.x1),
                   max(self.y1, o.y1))

    @property
    def w(self):
        return self.x1 - self.x0

    @property
    def h(self):
        return self.y1 - self.y0


@dataclass
class Shape:
    """A node outline: 'rect', 'ellipse' or 'circle' centred at (cx, cy)."""

    shape: str
    cx: float
    cy: float
    w: float
    h: float

    def inside(self, p: Point, pad: float = 0.0) -> bool:
        dx, dy = p[0] - self.cx, p[1] - self.cy
        if self.shape == "rect":
            return abs(dx) <= self.w / 2 + pad and abs(dy) <= self.h / 2 + pad
        rx, ry = self.w / 2 + pad, self.h / 2 + pad
        if rx <= 0 or ry <= 0:
            return False
        return (dx / rx) ** 2 + (dy / ry) ** 2 <= 1.0

    @property
    def box(self) -> Box:
        return Box.around(self.cx, self.cy, self.w, self.h)

    def overlaps_box(self, b: Box, pad: float = 0.0) -> bool:
        """Does the outline (grown by pad) overlap the box?"""
        if not self.box.overlaps(b, pad):
            return False
        if self.shape == "rect":
            return True
        # nearest point of the box to the centre
        nx = min(max(self.cx, b.x0), b.x1)
        ny = min(max(self.cy, b.y0), b.y1)
        return self.inside((nx, ny), pad)

    def boundary_toward(self, p: Point) -> Point:
        """The point of the outline on the ray from the centre toward p."""
        dx, dy = p[0] - self.cx, p[1] - self.cy
        if dx == 0 and dy == 0:
            return (self.cx, self.cy)
        if self.shape == "rect":
            sx = (self.w / 2) / abs(dx) if dx else math.inf
            sy = (self.h / 2) / abs(dy) if dy else math.inf
            s = min(sx, sy)
        else:
            rx, ry = self.w / 2, self.h / 2
            s = 1.0 / math.sqrt((dx / rx) ** 2 + (dy / ry) ** 2)
        return (self.cx + dx * s, self.cy + dy * s)


# -- Bézier ---------------------------------------------------------------------

def bez(seg: Seg, t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = seg
    u = 1 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


def split(seg: Seg, t: float) -> tuple[Seg, Seg]:
    p0, p1, p2, p3 = seg

    def lerp(a, b):
        return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)

    p01, p12, p23 = lerp(p0, p1), lerp(p1, p2), lerp(p2, p3)
    p012, p123 = lerp(p01, p12), lerp(p12, p23)
    m = lerp(p012, p123)
    return (p0, p01, p012, m), (m, p123, p23, p3)


def line_seg(a: Point, b: Point) -> Seg:
    return (a, (a[0] + (b[0] - a[0]) / 3, a[1] + (b[1] - a[1]) / 3),
            (a[0] + 2 * (b[0] - a[0]) / 3, a[1] + 2 * (b[1] - a[1]) / 3), b)


def sample(path: list[Seg], step: float = 2.0) -> list[Point]:
    """Points along a path about `step` apart (a new list each call)."""
    return list(_sample(tuple(path), step))


@lru_cache(maxsize=4096)
def _sample(path: tuple[Seg, ...], step: float) -> tuple[Point, ...]:
    # the layout samples the same paths many times while it places labels
    pts: list[Point] = []
    for seg in path:
        approx = (dist(seg[0], seg[1]) + dist(seg[1], seg[2]) + dist(seg[2], seg[3]))
        n = max(4, int(approx / step) + 1)
        start = 1 if pts else 0
        for i in range(start, n + 1):
            pts.append(bez(seg, i / n))
    return tuple(pts)


def dist(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def polyline_length(pts: list[Point]) -> list[float]:
    acc = [0.0]
    for a, b in zip(pts, pts[1:]):
        acc.append(acc[-1] + dist(a, b))
    return acc


def at_fraction(pts: list[Point], acc: list[float], f: float) -> tuple[Point, Point]:
    """(point, unit tangent) at a fraction of the arc length of a polyline."""
    total = acc[-1]
    if total <= 0:
        return pts[0], (1.0, 0.0)
    s = f * total
    i = bisect.bisect_left(acc, s, 1, max(1, len(acc) - 1))   # first acc[i] >= s
    a, b = pts[i - 1], pts[i]
    seglen = acc[i] - acc[i - 1]
    u = 0.0 if seglen <= 0 else (s - acc[i - 1]) / seglen
    p = (a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u)
    d = dist(a, b) or 1.0
    return p, ((b[0] - a[0]) / d, (b[1] - a[1]) / d)


def _exit_t(seg: Seg, shape: Shape, pad: float) -> float | None:
    """Smallest t at which seg leaves the shape (seg starts inside), or None."""
    n = 48
    prev = 0.0
    for i in range(1, n + 1):
        t = i / n
        if not shape.inside(bez(seg, t), pad):
            lo, hi = prev, t
            for _ in range(30):
                mid = (lo + hi) / 2
                if shape.inside(bez(seg, mid), pad):
                    lo = mid
                else:
                    hi = mid
            return hi
        prev = t
    return None


def reverse(path: list[Seg]) -> list[Seg]:
    return [(s[3], s[2], s[1], s[0]) for s in reversed(path)]


def clip_start(path: list[Seg], shape: Shape, pad: float = 0.0) -> list[Seg]:
    """Cut the part of the path inside `shape` at its start."""
    for i, seg in enumerate(path):
        if not shape.inside(seg[0], pad):
            return path[i:]
        t = _exit_t(seg, shape, pad)
        if t is not None:
            return [split(seg, t)[1]] + path[i + 1:]
    return path[-1:]


def clip_end(path: list[Seg], shape: Shape, pad: float = 0.0) -> list[Seg]:
    return reverse(clip_start(reverse(path), shape, pad))


def trim_end(path: list[Seg], length: float) -> tuple[list[Seg], Point, Point]:
    """Shorten the path by `length` at its end for an arrowhead.
    Returns (path, base point, tip point)."""
    tip = path[-1][3]
    for i in range(len(path) - 1, -1, -1):
        seg = path[i]
        if dist(seg[0], tip) < length:
            continue
        lo, hi = 0.0, 1.0
        for _ in range(40):
            mid = (lo + hi) / 2
            if dist(bez(seg, mid), tip) > length:
                lo = mid
            else:
                hi = mid
        left, _ = split(seg, lo)
        return path[:i] + [left], left[3], tip
    # too short: no room; keep a stub
    base = path[0][0]
    return path, base, tip


def trim_start(path: list[Seg], length: float) -> tuple[list[Seg], Point, Point]:
    p, base, tip = trim_end(reverse(path), length)
    return reverse(p), base, tip


def arrowhead(base: Point, tip: Point, half_width: float) -> list[Point]:
    dx, dy = tip[0] - base[0], tip[1] - base[1]
    d = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / d * half_width, dx / d * half_width
    return [tip, (base[0] + nx, base[1] + ny), (base[0] - nx, base[1] - ny)]


def segments_cross(p1: Point, p2: Point, p3: Point, p4: Point) -> bool:
    def orient(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    d1, d2 = orient(p3, p4, p1), orient(p3, p4, p2)
    d3, d4 = orient(p1, p2, p3), orient(p1, p2, p4)
    return (d1 * d2 < 0) and (d3 * d4 < 0)


def polyline_hits_box(pts: list[Point], box: Box) -> bool:
    """Does the polyline enter the box?"""
    for p in pts:
        if box.contains(p):
            return True
    corners = [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
    sides = list(zip(corners, corners[1:] + corners[:1]))
    for a, b in zip(pts, pts[1:]):
        if (max(a[0], b[0]) < box.x0 or min(a[0], b[0]) > box.x1
                or max(a[1], b[1]) < box.y0 or min(a[1], b[1]) > box.y1):
            continue
        for c, d in sides:
            if segments_cross(a, b, c, d):
                return True
    return False


def polylines_cross(a: list[Point], b: list[Point]) -> int:
    """Number of crossings between two polylines (coarse)."""
    ba = _bbox(a)
    bb = _bbox(b)
    if not ba.overlaps(bb):
        return 0

    def segs(pts, box):
        out = []
        for p, q in zip(pts, pts[1:]):
            if (max(p[0], q[0]) < box.x0 or min(p[0], q[0]) > box.x1
                    or max(p[1], q[1]) < box.y0 or min(p[1], q[1]) > box.y1):
                continue
            out.append((p, q, min(p[0], q[0]), max(p[0], q[0]), min(p[1], q[1]),
                        max(p[1], q[1])))
        return out

    sa, sb = segs(a, bb), segs(b, ba)
    n = 0
    for p, q, ax0, ax1, ay0, ay1 in sa:
        for r, s_, bx0, bx1, by0, by1 in sb:
            if ax1 < bx0 or bx1 < ax0 or ay1 < by0 or by1 < ay0:
                continue
            if segments_cross(p, q, r, s_):
                n += 1
    return n


def _bbox(pts: list[Point]) -> Box:
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return Box(min(xs), min(ys), max(xs), max(ys))


def bbox(pts: list[Point]) -> Box:
    return _bbox(pts)


def coarse(pts: list[Point], every: int = 4) -> list[Point]:
    out = pts[::every]
    if out[-1] != pts[-1]:
        out.append(pts[-1])
    return out
