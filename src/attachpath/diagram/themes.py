"""Themes: APA greyscale (default) and colour, and the style of each edge.

Sizes are in points (1/72 inch); the built-in SVG uses them as px at 72 dpi
too, so both renderers draw the same sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

FONT_FAMILY = "Helvetica, Arial, sans-serif"      # SVG font-family
DOT_FONT = "Helvetica,Arial,sans-serif"           # Graphviz fontname (fontconfig)


@dataclass(frozen=True)
class Theme:
    name: str
    node_fill: str
    latent_fill: str
    node_line: str
    text: str
    edge: str
    cov_edge: str
    dim: str              # grey: non-significant (nonsig grey) or not highlighted
    dim_text: str
    accent: str           # highlighted paths
    font_size: float = 11.0
    label_size: float = 10.0
    sub_size: float = 9.0
    edge_width: float = 1.0
    cov_width: float = 0.8
    accent_width: float = 2.4
    node_width: float = 1.0


THEMES = {
    "apa": Theme("apa", node_fill="#ffffff", latent_fill="#ffffff", node_line="#000000",
                 text="#000000", edge="#000000", cov_edge="#555555", dim="#a8a8a8",
                 dim_text="#8c8c8c", accent="#000000"),
    "colour": Theme("colour", node_fill="#eef4fb", latent_fill="#fdf0dc",
                    node_line="#1f3b63", text="#14263f", edge="#1f3b63", cov_edge="#5f7a99",
                    dim="#b5c0cc", dim_text="#8795a5", accent="#c0392b"),
}


def theme(name: str) -> Theme:
    return THEMES[name]


@dataclass(frozen=True)
class EdgeStyle:
    color: str
    width: float
    dashed: bool
    text: str             # label colour
    heads: str            # "forward" | "both"
    dash: str = ""        # an SVG dash array (e.g. dotted); overrides `dashed`


def edge_style(t: Theme, a: dict, nonsig_mode: str) -> EdgeStyle:
    """Colour, width and dashes of one edge from its attributes."""
    cov = a["kind"] == "covariance"
    color = t.cov_edge if cov else t.edge
    width = t.cov_width if cov else t.edge_width
    text = t.text
    dashed = False
    if a.get("nonsig"):
        if nonsig_mode == "dashed":
            dashed = True
        elif nonsig_mode == "grey":
            color, text = t.dim, t.dim_text
    state = a.get("state")
    if state == "on":
        color, width, text = t.accent, t.accent_width, t.text
    elif state == "off":
        color, text = t.dim, t.dim_text
        width = min(width, t.cov_width)
    return EdgeStyle(color, width, dashed, text, "both" if cov else "forward")
