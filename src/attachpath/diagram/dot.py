"""Graphviz DOT source from the diagram content, and rendering through `dot`.

The DOT is written for the `dot` engine: rankdir=LR, one `rank=same`
subgraph per column, covariances as curved double-headed edges with
constraint=false (they do not move the columns), indicators of a factor in a
column of their own beside it, edge labels as real labels (dot reserves room
for them, so they cannot overlap).

The `graphviz` Python package is deliberately not used: its pipe() has no
timeout (a `dot` that hangs would hang the command; run_dot waits at most
120 s), and its quoting passes backslashes through as DOT escapes, whereas
a variable label is plain text (q() escapes them).  Running `dot` takes a
dozen lines here.
"""

from __future__ import annotations

import shutil
import subprocess
from html import escape

from attachpath.errors import AttachpathError

from . import fmt
from .themes import DOT_FONT, Theme, edge_style

PT = 72.0


def dot_binary() -> str | None:
    """The path of Graphviz's `dot`, or None when it is not installed."""
    return shutil.which("dot")


class GraphvizMissingError(AttachpathError):
    """PDF or PNG asked for but Graphviz's `dot` program is not installed."""

    exit_code = 2


def q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def html_runs(line: str) -> str:
    out = []
    for text, it in fmt.runs(line):
        t = escape(text, quote=False)
        out.append(f"<I>{t}</I>" if it else t)
    return "".join(out)


def html_label(lines: list[str], sub: list[str] | None = None, sub_size: float = 9.0,
               color: str | None = None) -> str:
    parts = [html_runs(x) for x in lines]
    body = "<BR/>".join(parts)
    if sub:
        small = "<BR/>".join(html_runs(x) for x in sub)
        body += f'<BR/><FONT POINT-SIZE="{sub_size:g}">{small}</FONT>'
    if color:
        body = f'<FONT COLOR="{color}">{body}</FONT>'
    return "<" + body + ">"


def _side(g, f) -> str:
    return g.nodes[f].get("side_used") or "left"


def columns(content) -> dict[str, int]:
    """DOT rank of every node: structural columns are 2*rank+1, so indicator
    columns fit on either side at 2*rank and 2*rank+2."""
    g = content.graph
    col = {}
    for v, a in g.nodes.items():
        if a["rank"] is not None:
            col[v] = 2 * a["rank"] + 1
    for v, a in g.nodes.items():
        if a["factor"] is not None:
            f = a["factor"]
            side = _side(g, f)
            col[v] = col[f] - 1 if side == "left" else col[f] + 1
    return col


def choose_sides(content) -> None:
    """Where the indicators of each factor go (for DOT: left or right)."""
    g = content.graph
    ranks = [a["rank"] for _, a in g.nodes.items() if a["rank"] is not None]
    lo = min(ranks, default=0)
    for v, a in g.nodes.items():
        if a["kind"] != "latent":
            continue
        side = a.get("side")
        if side in ("above", "below"):
            side = None      # dot cannot stack a row beside a column; fall back
        if side is None:
            side = "left" if a["rank"] == lo else "right"
        a["side_used"] = side


def to_dot(content, theme: Theme, *, title: str = "attachpath") -> str:
    g = content.graph
    s = content.settings
    choose_sides(content)
    col = columns(content)
    lines = [f"// attachpath path diagram. {fmt.plain(content.note)}".replace("\n", " "),
             "// Graphviz lays this source out itself (dot -Tpdf THIS.dot -o fig.pdf); "
             "attachpath's own layout (diagram.svg) is drawn by Diagram.render().",
             f"digraph {q(title)} {{"]
    ga = dict(rankdir="LR", splines="true", nodesep="0.28", ranksep="0.75",
              newrank="true", bgcolor="white", pad="0.2", fontname=DOT_FONT,
              fontsize=f"{theme.font_size:g}", outputorder="edgesfirst")
    lines.append("  graph [" + ", ".join(f"{k}={q(v)}" for k, v in ga.items()) + "];")
    lines.append(f"  node [fontname={q(DOT_FONT)}, fontsize={theme.font_size:g}, "
                 f"fontcolor={q(theme.text)}, color={q(theme.node_line)}, "
                 f"penwidth={theme.node_width:g}, style=filled, margin=\"0.10,0.05\", "
                 f"height=0.36];")
    lines.append(f"  edge [fontname={q(DOT_FONT)}, fontsize={theme.label_size:g}, "
                 f"arrowsize=0.7, color={q(theme.edge)}, fontcolor={q(theme.text)}];")

    for v, a in g.nodes.items():
        shape = "ellipse" if a["kind"] == "latent" else "box"
        fill = theme.latent_fill if a["kind"] == "latent" else theme.node_fill
        label = html_label(a["label"].split("\n"), a["sub"], theme.sub_size)
        extra = ", penwidth=1.6" if a["emph"] else ""
        lines.append(f"  {q(v)} [shape={shape}, fillcolor={q(fill)}, label={label}{extra}];")

    # columns
    by_col: dict[int, list[str]] = {}
    for v, c in col.items():
        by_col.setdefault(c, []).append(v)
    for c in sorted(by_col):
        members = by_col[c]
        lines.append("  { rank=same; " + " ".join(q(v) + ";" for v in members) + " }")
    # user order within a column: invisible flat edges top -> bottom
    for group in s.order:
        seq = [v for v in group if v in col]
        for x, y in zip(seq, seq[1:]):
            if col[x] == col[y]:
                lines.append(f"  {q(x)} -> {q(y)} [style=invis];")

    for u, v, k, a in g.edges():
        st = edge_style(theme, a, s.nonsig)
        attrs = {"color": st.color, "penwidth": f"{st.width:g}", "fontcolor": st.text}
        if st.dashed:
            attrs["style"] = "dashed"
        label = a["label"]
        tail, head = u, v
        if a["kind"] == "covariance":
            attrs.update(dir="both", constraint="false", arrowsize="0.6")
        elif col.get(u, 0) > col.get(v, 0) or (a["kind"] == "loading"
                                                 and col.get(v, 0) < col.get(u, 0)):
            tail, head = v, u
            attrs["dir"] = "back"
        elif col.get(u, 0) == col.get(v, 0):
            attrs["constraint"] = "false"
        text = "<" + "<BR/>".join(html_runs(x) for x in label) + ">" if label else None
        body = ", ".join(f"{key}={q(val)}" for key, val in attrs.items())
        if text:
            body += f", label={text}"
        lines.append(f"  {q(tail)} -> {q(head)} [{body}];")

    # (residual) variances as double-headed loops on top of their variable
    # (RAM style): dot places loops itself, without moving the columns
    for v, a in g.nodes.items():
        res = a["residual"]
        if res is None:
            continue
        text = "<" + html_runs(res["text"]) + ">" if res["text"] else '""'
        lines.append(f"  {q(v)}:n -> {q(v)}:n [dir=both, arrowsize=0.6, "
                     f"color={q(theme.cov_edge)}, penwidth={theme.cov_width:g}, "
                     f"label={text}];")

    if s.show.get("note"):
        note = "<" + html_runs(content.note) + ">"
        lines.append(f"  label={note}; labelloc=b; labeljust=l;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_dot(source: str, fmt_name: str, *, dpi: int | None = None) -> bytes:
    """Render DOT source with Graphviz's dot to svg, pdf or png bytes."""
    exe = dot_binary()
    if exe is None:
        raise GraphvizMissingError(
            f"Writing {fmt_name.upper()} needs Graphviz's 'dot' program, which is not "
            f"installed. Install Graphviz (https://graphviz.org/download/: e.g. "
            f"'apt install graphviz', 'brew install graphviz', 'conda install graphviz') "
            f"or write .svg or .dot instead.")
    cmd = [exe, f"-T{fmt_name}"]
    if dpi:
        cmd.append(f"-Gdpi={dpi}")
    proc = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True,
                          timeout=120)
    if proc.returncode != 0:
        raise AttachpathError(f"Graphviz's dot failed ({proc.returncode}): "
                              f"{proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


# -- the built-in layout, drawn by Graphviz -------------------------------------------

def _pt(p, height) -> str:
    return f"{p[0]:.2f},{height - p[1]:.2f}"


def pinned_dot(lay, theme: Theme, content, *, title: str = "attachpath") -> str:
    """DOT with every position fixed (nodes, edge splines, label boxes), for
    `dot -Kneato -n2`: Graphviz then draws exactly the built-in layout (this
    is how PDF and PNG are made)."""
    H = lay.height + (lay.note_block if getattr(lay, "note_block", 0) else 0)
    out = ["// attachpath path diagram with fixed positions.",
           "// Render this exact layout with: dot -Kneato -n2 -Tpdf THIS.dot -o diagram.pdf",
           f"digraph {q(title)} {{",
           f"  graph [splines=true, outputorder=edgesfirst, pad=0.17, bgcolor=white, "
           f"bb=\"0,0,{lay.width:.2f},{H:.2f}\", fontname={q(DOT_FONT)}];",
           f"  node [fontname={q(DOT_FONT)}, fixedsize=true, style=filled, "
           f"fontcolor={q(theme.text)}, color={q(theme.node_line)}];",
           f"  edge [arrowsize=0.75, arrowhead=normal, arrowtail=normal];"]
    # two invisible corner points: Graphviz sizes the drawing from what it
    # draws, so they keep the canvas of the layout (figures that share one
    # layout, compare_diagrams, then have the same size)
    for i, p in enumerate(((0.0, 0.0), (lay.width, H))):
        out.append(f"  {q(f'~corner{i}')} [shape=point, style=invis, width=0.01, "
                   f"pos={q(_pt(p, H))}];")
    for n in lay.nodes.values():
        s = n.shape
        w, h = s.w / PT, s.h / PT
        if n.kind == "residual":
            out.append(f"  {q(n.name)} [shape=circle, label=\"\", width={w:.4f}, height={h:.4f}, "
                       f"pos={q(_pt((s.cx, s.cy), H))}, fillcolor={q(theme.node_fill)}, "
                       f"penwidth={theme.cov_width:g}];")
            continue
        shape = "ellipse" if n.kind == "latent" else "box"
        fill = theme.latent_fill if n.kind == "latent" else theme.node_fill
        pw = theme.node_width * (1.6 if n.emph else 1.0)
        faint = ""
        if getattr(n, "faint", False):          # compare_diagrams: not in this model
            fill = "white"
            faint = f", color={q(theme.dim)}, style=\"filled,dashed\""
        label = html_label(n.lines, n.sub, theme.sub_size,
                           color=theme.dim_text if faint else None)
        out.append(f"  {q(n.name)} [shape={shape}, label={label}, fontsize={theme.font_size:g}, "
                   f"width={w:.4f}, height={h:.4f}, pos={q(_pt((s.cx, s.cy), H))}, "
                   f"fillcolor={q(fill)}, penwidth={pw:g}{faint}];")
        if getattr(n, "dot", False):            # a random intercept (two-level)
            from .svg import DOT_R, random_intercept_dot
            out.append(f"  {q(n.name + '~dot')} [shape=circle, label=\"\", width={2 * DOT_R / PT:.4f}, "
                       f"height={2 * DOT_R / PT:.4f}, penwidth=0, fillcolor={q(theme.node_line)}, "
                       f"pos={q(_pt(random_intercept_dot(s), H))}];")
    for i, lab in enumerate(lay.labels):
        b = lab.box
        cx, cy = (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2
        label = html_label(lab.lines, None, color=lab.color)
        out.append(f"  {q(f'~label{i}')} [shape=box, label={label}, fontsize={lab.size:g}, "
                   f"width={b.w / PT:.4f}, height={b.h / PT:.4f}, margin=0, penwidth=0, "
                   f"color=white, fillcolor=white, pos={q(_pt((cx, cy), H))}];")
    for e in lay.edges:
        st = e.style
        pts = [e.path[0][0]] + [p for seg in e.path for p in seg[1:]]
        spline = " ".join(_pt(p, H) for p in pts)
        start, end = e.tips
        pos = (f"s,{_pt(start, H)} " if start is not None else "") + f"e,{_pt(end, H)} " + spline
        attrs = [f"pos={q(pos)}", f"color={q(st.color)}", f"penwidth={st.width:g}"]
        if start is not None:
            attrs.append("dir=both")
        if st.dash:
            attrs.append("style=dotted")
        elif st.dashed:
            attrs.append("style=dashed")
        mark = getattr(e, "mark", None)          # compare_diagrams: all | some | absent
        if mark:
            attrs.append(f"class={q(mark)}")
        tail, head = (e.u, e.v) if e.u else (f"~legend{e.key[1]}a", f"~legend{e.key[1]}b")
        if not e.u:                              # a legend sample: two invisible points
            for name, p in ((tail, e.path[0][0]), (head, end)):
                out.append(f"  {q(name)} [shape=point, width=0.01, style=invis, "
                           f"pos={q(_pt(p, H))}];")
        out.append(f"  {q(tail)} -> {q(head)} [{', '.join(attrs)}];")
    for i, (x0, y, x1) in enumerate(getattr(lay, "rules", ())):
        for end, x in (("a", x0), ("b", x1)):
            out.append(f"  {q(f'~rule{i}{end}')} [shape=point, width=0.01, style=invis, "
                       f"pos={q(_pt((x, y), H))}];")
        out.append(f"  {q(f'~rule{i}a')} -> {q(f'~rule{i}b')} [dir=none, style=dashed, "
                   f"color={q(theme.dim)}, penwidth=0.8, pos={q(_pt((x0, y), H) + ' ' + _pt((x0 + (x1 - x0) / 3, y), H) + ' ' + _pt((x0 + 2 * (x1 - x0) / 3, y), H) + ' ' + _pt((x1, y), H))}];")
    for i, t in enumerate(getattr(lay, "texts", ())):
        from .metrics import LINE, text_width
        # (Helvetica Bold runs about 8% wider than the regular metrics)
        w = max(text_width(x, t.size) for x in t.lines) * (1.08 if t.bold else 1.0) + 2
        hh = len(t.lines) * t.size * LINE
        body = '<BR ALIGN="LEFT"/>'.join(html_runs(x) for x in t.lines) + '<BR ALIGN="LEFT"/>'
        if t.bold:
            body = f"<B>{body}</B>"
        out.append(f"  {q(f'~text{i}')} [shape=plaintext, style=\"\", margin=0, fixedsize=true, "
                   f"fontsize={t.size:g}, width={w / PT:.4f}, height={hh / PT:.4f}, "
                   f"pos={q(_pt((t.x + w / 2, t.y + hh / 2 + 1), H))}, label=<{body}>];")
    if lay.note_lines:
        lines = '<BR ALIGN="LEFT"/>'.join(html_runs(x) for x in lay.note_lines)
        y = lay.note_top
        hh = len(lay.note_lines) * lay.note_size * 1.22
        out.append(f"  \"~note\" [shape=plaintext, style=\"\", margin=0, fixedsize=true, "
                   f"fontsize={lay.note_size:g}, width={(lay.width - 24) / PT:.4f}, "
                   f"height={hh / PT:.4f}, pos={q(_pt((lay.width / 2, y + hh / 2 + 2), H))}, "
                   f"label=<{lines}<BR ALIGN=\"LEFT\"/>>];")
    out.append("}")
    return "\n".join(out) + "\n"


def render_pinned(source: str, fmt_name: str, *, dpi: int | None = None) -> bytes:
    """Graphviz output of a pinned DOT (neato -n2 keeps every position)."""
    exe = dot_binary()
    if exe is None:
        return run_dot(source, fmt_name)      # raises the clear error
    cmd = [exe, "-Kneato", "-n2", f"-T{fmt_name}"]
    if dpi:
        cmd.append(f"-Gdpi={dpi}")
    proc = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise AttachpathError(f"Graphviz failed ({proc.returncode}): "
                              f"{proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout
