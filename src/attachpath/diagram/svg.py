"""SVG of a built-in layout (no Graphviz needed)."""

from __future__ import annotations

from html import escape

from . import fmt
from .layout import Layout
from .metrics import LINE
from .themes import FONT_FAMILY, Theme


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _text_line(x, y, line, size, color, anchor="middle", weight=None) -> str:
    spans = []
    for text, it in fmt.runs(line):
        t = escape(text, quote=False)
        spans.append(f'<tspan font-style="italic">{t}</tspan>' if it else t)
    extra = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}" fill="{color}" '
            f'text-anchor="{anchor}"{extra}>{"".join(spans)}</text>')


def _path_d(path) -> str:
    if not path:
        return ""
    p0 = path[0][0]
    parts = [f"M{_f(p0[0])},{_f(p0[1])}"]
    for _, c1, c2, p in path:
        parts.append(f"C{_f(c1[0])},{_f(c1[1])} {_f(c2[0])},{_f(c2[1])} {_f(p[0])},{_f(p[1])}")
    return " ".join(parts)


DOT_R = 3.2          # radius of the random-intercept dot


def random_intercept_dot(shape) -> tuple[float, float]:
    """Where a variable's random-intercept dot sits: on the top border of
    its box, a quarter of the width from the right corner (clear of the
    residual arrow at the middle and of the path ends at the sides)."""
    return shape.cx + shape.w / 4, shape.cy - shape.h / 2


def _text_block(cx, cy, lines, size, sub, sub_size, color) -> list[str]:
    """Lines centred on (cx, cy); baselines at 0.35 em below each line's middle."""
    heights = [size * LINE] * len(lines) + [sub_size * LINE] * len(sub)
    total = sum(heights)
    y = cy - total / 2
    out = []
    for i, line in enumerate(lines + sub):
        s = size if i < len(lines) else sub_size
        h = heights[i]
        out.append(_text_line(cx, y + h / 2 + 0.35 * s, line, s, color))
        y += h
    return out


def to_svg(lay: Layout, theme: Theme, *, title: str = "Path diagram", desc: str = "") -> str:
    w, h = lay.width, lay.height
    total_h = h
    note_svg = []
    if lay.note_lines:
        y = lay.note_top
        for line in lay.note_lines:
            y += lay.note_size * LINE
            note_svg.append(_text_line(12, y - 0.25 * lay.note_size, line, lay.note_size,
                                       theme.text, anchor="start"))
        total_h = y + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(w)}pt" height="{_f(total_h)}pt" '
           f'viewBox="0 0 {_f(w)} {_f(total_h)}" font-family="{FONT_FAMILY}">',
           f"<title>{escape(title)}</title>"]
    if desc:
        out.append(f"<desc>{escape(fmt.plain(desc))}</desc>")
    out.append(f'<rect x="0" y="0" width="{_f(w)}" height="{_f(total_h)}" fill="white"/>')
    # edges first, then label backgrounds, nodes, labels
    out.append('<g class="edges">')
    for e in lay.edges:
        st = e.style
        dash = (f' stroke-dasharray="{st.dash}"' if st.dash
                else ' stroke-dasharray="5,3"' if st.dashed else "")
        ident = escape(str(e.key))
        mark = getattr(e, "mark", None)          # compare_diagrams: all | some | absent
        extra = "".join(f' data-{k}="{escape(str(v))}"'
                        for k, v in (getattr(e, "data", None) or {}).items())
        out.append(f'<g class="edge {e.kind}{" " + mark if mark else ""}" '
                   f'data-from="{escape(e.u)}" data-to="{escape(e.v)}" '
                   f'data-key="{ident}"{extra}>')
        out.append(f'<path d="{_path_d(e.path)}" fill="none" stroke="{st.color}" '
                   f'stroke-width="{_f(st.width)}"{dash} stroke-linecap="butt"/>')
        for hd in e.heads:
            pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in hd)
            out.append(f'<polygon points="{pts}" fill="{st.color}" stroke="{st.color}" '
                       f'stroke-width="0.5"/>')
        out.append("</g>")
    out.append("</g>")
    out.append('<g class="nodes">')
    for n in lay.nodes.values():
        s = n.shape
        pw = theme.node_width * (1.6 if n.emph else 1.0)
        if n.kind == "residual":
            out.append(f'<circle class="residual" cx="{_f(s.cx)}" cy="{_f(s.cy)}" r="{_f(s.w / 2)}" '
                       f'fill="{theme.node_fill}" stroke="{theme.node_line}" '
                       f'stroke-width="{_f(theme.cov_width)}"/>')
            continue
        faint = getattr(n, "faint", False)       # compare_diagrams: not in this model
        line = theme.dim if faint else theme.node_line
        fdash = ' stroke-dasharray="3,2"' if faint else ""
        level = f' data-level="{n.level}"' if getattr(n, "level", None) else ""
        out.append(f'<g class="node {n.kind}{" faint" if faint else ""}" '
                   f'data-name="{escape(getattr(n, "var", None) or n.name)}"{level}>')
        if n.kind == "latent":
            out.append(f'<ellipse cx="{_f(s.cx)}" cy="{_f(s.cy)}" rx="{_f(s.w / 2)}" '
                       f'ry="{_f(s.h / 2)}" fill="{"white" if faint else theme.latent_fill}" '
                       f'stroke="{line}" stroke-width="{_f(pw)}"{fdash}/>')
        else:
            out.append(f'<rect x="{_f(s.cx - s.w / 2)}" y="{_f(s.cy - s.h / 2)}" '
                       f'width="{_f(s.w)}" height="{_f(s.h)}" '
                       f'fill="{"white" if faint else theme.node_fill}" '
                       f'stroke="{line}" stroke-width="{_f(pw)}"{fdash}/>')
        out += _text_block(s.cx, s.cy, n.lines, theme.font_size, n.sub, theme.sub_size,
                           theme.dim_text if faint else theme.text)
        if getattr(n, "dot", False):             # a random intercept (two-level)
            x, y = random_intercept_dot(s)
            out.append(f'<circle class="random-intercept" cx="{_f(x)}" cy="{_f(y)}" '
                       f'r="{_f(DOT_R)}" fill="{theme.node_line}" stroke="none"/>')
        out.append("</g>")
    out.append("</g>")
    out.append('<g class="labels">')
    for lab in lay.labels:
        b = lab.box
        out.append(f'<g class="label" data-owner="{escape(str(lab.owner))}">')
        out.append(f'<rect x="{_f(b.x0)}" y="{_f(b.y0)}" width="{_f(b.w)}" height="{_f(b.h)}" '
                   f'fill="white" stroke="none"/>')
        out += _text_block((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, lab.lines, lab.size, [],
                           0, lab.color)
        out.append("</g>")
    out.append("</g>")
    for x0, y, x1 in getattr(lay, "rules", ()):
        out.append(f'<line class="panel-rule" x1="{_f(x0)}" y1="{_f(y)}" x2="{_f(x1)}" '
                   f'y2="{_f(y)}" stroke="{theme.dim}" stroke-width="0.8" '
                   f'stroke-dasharray="6,4"/>')
    for t in getattr(lay, "texts", ()):
        out.append(f'<g class="{escape(t.cls)}">')
        for i, line in enumerate(t.lines):
            out.append(_text_line(t.x, t.y + t.size + i * t.size * LINE - 0.2 * t.size, line,
                                  t.size, theme.text, anchor="start",
                                  weight="bold" if t.bold else None))
        out.append("</g>")
    if note_svg:
        out.append('<g class="note">')
        out += note_svg
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
