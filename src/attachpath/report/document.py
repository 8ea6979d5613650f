"""A small document model rendered to self-contained HTML and to Markdown.

A report is a `Document`: a title and a list of blocks (headings,
paragraphs, bullet lists, APA tables, figures, preformatted text).  Text is
plain by default and escaped by each renderer; `Rich` carries trusted
markup built by attachpath itself, in both HTML and Markdown, for the few
places that need italics (statistical symbols) or links.  Anything that
comes from a user (spec text, variable names, file names, warnings) goes in
as plain text, so it is always escaped.

Tables and figures are numbered in order ("Table 1", "Figure 1").  Figures
hold an SVG (inlined in HTML, after removing scripts and event handlers and
giving its ids a per-figure prefix) and the path of the SVG file that
Markdown links to.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote
from dataclasses import dataclass, field

from .style import CSS


# -- inline text ---------------------------------------------------------------

@dataclass(frozen=True)
class Rich:
    """Trusted inline markup in both output formats."""

    html: str
    md: str

    def __add__(self, other):
        return join([self, other])

    def __radd__(self, other):
        return join([other, self])


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def md_esc(text) -> str:
    """Escape what Markdown (CommonMark/GFM) would read as syntax or raw HTML in
    plain text, leaving ordinary punctuation alone for readability."""
    t = str(text).replace("\n", " ")
    t = t.replace("\\", "\\\\")
    for pattern, replacement in _MD_ESCAPES:
        t = pattern.sub(replacement, t)
    return t


# md_esc's rules in order (compiled once: a report escapes some 400 strings)
_MD_ESCAPES = tuple((re.compile(p), r) for p, r in (
    (r"&(?=#|[A-Za-z0-9]+;)", "&amp;"),
    (r"([`*~|])", r"\\\1"),
    (r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_"),
    (r"<(?=[A-Za-z/!?])", r"\\<"),
    (r"\]([(\[:])", r"]\\\1"),
    (r"^([#>+=-])", r"\\\1"),
))


def italic(text: str) -> Rich:
    return Rich(f"<em>{esc(text)}</em>", f"*{md_esc(text)}*")


def bold(text: str) -> Rich:
    return Rich(f"<strong>{esc(text)}</strong>", f"**{md_esc(text)}**")


def code(text: str) -> Rich:
    t = str(text)
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", t)), default=0) + 1)
    pad = " " if t.startswith("`") or t.endswith("`") else ""
    return Rich(f"<code>{esc(t)}</code>", f"{ticks}{pad}{t}{pad}{ticks}")


def link(text: str, href: str) -> Rich:
    return Rich(f'<a href="{esc(href)}">{esc(text)}</a>',
                f"[{md_esc(text)}](<{quote(href, safe='/._-~:#?=&')}>)")


def join(parts, sep: str = "") -> Rich:
    """Concatenate strings (escaped) and Rich parts."""
    h, m = [], []
    for p in parts:
        h.append(to_html(p))
        m.append(to_md(p))
    return Rich(esc(sep).join(h), md_esc(sep).join(m) if sep else "".join(m))


def listed(items: list, sep: str = ", ", last: str = " and ") -> list:
    """items with `sep` between them and `last` before the last one, as parts
    for join or Para ("a, b and c")."""
    out = []
    for i, x in enumerate(items):
        if i:
            out.append(last if i == len(items) - 1 else sep)
        out.append(x)
    return out


def to_html(x) -> str:
    if isinstance(x, Rich):
        return x.html
    if isinstance(x, (list, tuple)):
        return "".join(to_html(p) for p in x)
    return esc("" if x is None else x)


def to_md(x) -> str:
    if isinstance(x, Rich):
        return x.md
    if isinstance(x, (list, tuple)):
        return "".join(to_md(p) for p in x)
    return md_esc("" if x is None else x)


# -- blocks --------------------------------------------------------------------

@dataclass
class Heading:
    text: object
    level: int = 2
    id: str | None = None


@dataclass
class Para:
    text: object
    kind: str = ""            # "", "lead", "small", "note"


@dataclass
class Bullets:
    items: list
    cls: str = ""


@dataclass
class Div:
    """Blocks wrapped in a <div class=...> in HTML (e.g. a grid of figures)."""

    blocks: list
    cls: str = ""


@dataclass
class KeyValues:
    """A definition list (label: value), e.g. provenance."""

    items: list               # [(key, value), ...]


@dataclass
class Pre:
    text: str
    caption: object = None
    lang: str = ""


@dataclass
class Row:
    cells: list
    group: bool = False       # a group heading spanning the table (e.g. "Regressions")


@dataclass
class Table:
    title: object
    header: list              # cells
    rows: list                # Row or list of cells
    note: object = None
    align: str | None = None  # one char per column: l, r, c (default: l then r)
    id: str | None = None
    wide: bool = False
    number: int = 0           # filled in when rendered

    def _rows(self) -> list[Row]:
        return [r if isinstance(r, Row) else Row(list(r)) for r in self.rows]

    def _align(self) -> str:
        n = len(self.header)
        a = self.align or ("l" + "r" * (n - 1))
        return (a + a[-1] * n)[:n]


@dataclass
class Figure:
    svg: str | None           # SVG markup (None: the figure is missing)
    src: str | None           # path of the SVG file, relative to the report
    title: object
    note: object = None
    id: str | None = None
    number: int = 0


@dataclass
class Section:
    """A heading followed by blocks (a convenience for building)."""

    heading: Heading
    blocks: list = field(default_factory=list)

    def add(self, *blocks):
        self.blocks.extend(b for b in blocks if b is not None)
        return self


@dataclass
class Document:
    title: str
    subtitle: object = None
    blocks: list = field(default_factory=list)
    toc: bool = True

    def add(self, *blocks):
        self.blocks.extend(b for b in blocks if b is not None)
        return self

    def flat(self) -> list:
        out = []
        for b in self.blocks:
            if isinstance(b, Section):
                out.append(b.heading)
                out.extend(_flatten(b.blocks))
            else:
                out.extend(_flatten([b]))
        return out

    def _number(self) -> list:
        blocks = self.flat()
        t = f = 0
        used: set[str] = set()
        for b in _walk(blocks):
            if isinstance(b, Table):
                t += 1
                b.number = t
                b.id = _unique(slug(b.id) if b.id else f"table-{t}", used)
            elif isinstance(b, Figure):
                f += 1
                b.number = f
                b.id = _unique(slug(b.id) if b.id else f"figure-{f}", used)
            elif isinstance(b, Heading):
                b.id = _unique(slug(b.id) if b.id else slug(to_md(b.text)), used)
        return blocks

    # -- HTML ----------------------------------------------------------------
    def html(self) -> str:
        blocks = self._number()
        body = []
        for b in blocks:
            body.append(_html_block(b))
        toc = ""
        heads = [b for b in blocks if isinstance(b, Heading) and b.level == 2]
        if self.toc and len(heads) > 2:
            items = "".join(f'<li><a href="#{esc(h.id)}">{to_html(h.text)}</a></li>' for h in heads)
            toc = f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>\n'
        sub = f'<p class="subtitle">{to_html(self.subtitle)}</p>\n' if self.subtitle is not None else ""
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="generator" content="attachpath">\n'
            f"<title>{esc(self.title)}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n"
            f'<main>\n<header><h1>{esc(self.title)}</h1>\n{sub}</header>\n{toc}'
            + "\n".join(body) +
            "\n</main>\n</body>\n</html>\n")

    # -- Markdown ------------------------------------------------------------
    def markdown(self) -> str:
        blocks = self._number()
        out = [f"# {md_esc(self.title)}", ""]
        if self.subtitle is not None:
            out += [to_md(self.subtitle), ""]
        heads = [b for b in blocks if isinstance(b, Heading) and b.level == 2]
        if self.toc and len(heads) > 2:
            out += ["**Contents**", ""]
            out += [f"{i}. [{to_md(h.text)}](#{h.id})" for i, h in enumerate(heads, 1)]
            out.append("")
        for b in blocks:
            out.append(_md_block(b))
            out.append("")
        return "\n".join(out).rstrip() + "\n"


def _flatten(blocks) -> list:
    out = []
    for b in blocks:
        if isinstance(b, Section):
            out.append(b.heading)
            out.extend(_flatten(b.blocks))
        elif isinstance(b, (list, tuple)):
            out.extend(_flatten(b))
        elif b is not None:
            out.append(b)
    return out


def _walk(blocks):
    for b in blocks:
        if isinstance(b, Div):
            yield from _walk(_flatten(b.blocks))
        else:
            yield b


def slug(text: str) -> str:
    s = re.sub(r"\\(.)", r"\1", str(text)).lower()
    s = re.sub(r"[^a-z0-9_]+", "-", s).strip("-")
    return s or "section"


def _unique(base: str, used: set) -> str:
    name, k = base, 2
    while name in used:
        name = f"{base}-{k}"
        k += 1
    used.add(name)
    return name


# -- HTML rendering --------------------------------------------------------------

_ALIGN = {"l": "left", "r": "right", "c": "center"}


def _html_block(b) -> str:
    if isinstance(b, Heading):
        lv = min(max(b.level, 2), 5)
        return f'<h{lv} id="{esc(b.id)}">{to_html(b.text)}</h{lv}>'
    if isinstance(b, Para):
        cls = f' class="{b.kind}"' if b.kind else ""
        return f"<p{cls}>{to_html(b.text)}</p>"
    if isinstance(b, Bullets):
        cls = f' class="{esc(b.cls)}"' if b.cls else ""
        return f"<ul{cls}>" + "".join(f"<li>{to_html(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Div):
        inner = "\n".join(_html_block(x) for x in _flatten(b.blocks))
        return f'<div class="{esc(b.cls)}">{inner}</div>'

    if isinstance(b, KeyValues):
        rows = "".join(f"<dt>{to_html(k)}</dt><dd>{to_html(v)}</dd>" for k, v in b.items)
        return f'<dl class="kv">{rows}</dl>'
    if isinstance(b, Pre):
        cap = f'<p class="pre-caption">{to_html(b.caption)}</p>' if b.caption is not None else ""
        return f'<div class="pre">{cap}<pre>{esc(b.text)}</pre></div>'
    if isinstance(b, Table):
        return table_html(b)
    if isinstance(b, Figure):
        return _figure_html(b)
    raise TypeError(f"unknown block {type(b).__name__}")


def table_html(t: Table) -> str:
    align = t._align()
    head = "".join(f'<th class="{_ALIGN[a]}" scope="col">{to_html(c)}</th>'
                   for c, a in zip(t.header, align))
    body = []
    for r in t._rows():
        if r.group:
            body.append(f'<tr class="group"><th colspan="{len(t.header)}" scope="rowgroup">'
                        f"{to_html(r.cells[0])}</th></tr>")
        else:
            body.append("<tr>" + "".join(f'<td class="{_ALIGN[a]}">{to_html(c)}</td>'
                                         for c, a in zip(r.cells, align)) + "</tr>")
    num = f'<span class="tnum">Table {t.number}</span>' if t.number else ""
    note = (f'<p class="table-note"><em>Note.</em> {to_html(t.note)}</p>'
            if t.note is not None else "")
    cls = "table-block wide" if t.wide else "table-block"
    idattr = f' id="{esc(t.id)}"' if t.id else ""
    cap_id = f"{t.id}-title" if t.id else None
    labelled = f' aria-labelledby="{esc(cap_id)}"' if cap_id else ""
    cap_idattr = f' id="{esc(cap_id)}"' if cap_id else ""
    return (f'<div class="{cls}"{idattr}><div class="caption"{cap_idattr}>{num}'
            f'<span class="ttitle">{to_html(t.title)}</span></div>'
            f'<div class="scroll"><table class="apa"{labelled}>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
            f"{note}</div>")


def _figure_html(f: Figure) -> str:
    prefix = f.id or f"figure-{f.number}"
    if f.svg:
        art = inline_svg(f.svg, prefix)
    else:
        art = '<p class="missing">(diagram not available)</p>'
    note = (f'<p class="figure-note"><em>Note.</em> {to_html(f.note)}</p>'
            if f.note is not None else "")
    idattr = f' id="{esc(f.id)}"' if f.id else ""
    return (f'<figure class="diagram"{idattr}><figcaption><span class="fnum">Figure {f.number}'
            f'</span><span class="ftitle">{to_html(f.title)}</span></figcaption>'
            f'<div class="svg-wrap">{art}</div>{note}</figure>')


# -- SVG inlining ----------------------------------------------------------------

_XML_DECL = re.compile(r"<\?xml[^>]*\?>", re.I)
_DOCTYPE = re.compile(r"<!DOCTYPE[^>[]*(\[[^]]*\])?\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<\s*(script|foreignObject|iframe|object|embed)\b.*?<\s*/\s*\1\s*>", re.I | re.S)
_SCRIPT_OPEN = re.compile(r"<\s*/?\s*(script|foreignObject|iframe|object|embed)\b[^>]*>", re.I)
_EVENT_ATTR = re.compile(r"""\s+on[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_JS_HREF = re.compile(r"""((?:xlink:)?href\s*=\s*)("\s*javascript:[^"]*"|'\s*javascript:[^']*')""", re.I)
_ID = re.compile(r"""\bid\s*=\s*(["'])(.*?)\1""")
_ID_REF = re.compile(r"""url\(\s*#([^)\s]+)\s*\)|(href\s*=\s*["'])#([^"']+)(["'])""")


def sanitize_svg(svg: str) -> str:
    """The SVG without XML prolog, comments, scripts, foreign content and event handlers."""
    s = _XML_DECL.sub("", svg)
    s = _DOCTYPE.sub("", s)
    s = _COMMENT.sub("", s)
    s = _SCRIPT.sub("", s)
    s = _SCRIPT_OPEN.sub("", s)
    s = _EVENT_ATTR.sub("", s)
    s = _JS_HREF.sub(r'\1"#"', s)
    return s.strip()


def inline_svg(svg: str, prefix: str) -> str:
    """Sanitized SVG whose ids (and references to them) carry `prefix`, so that
    several diagrams can share one HTML page without id clashes."""
    s = sanitize_svg(svg)
    ids = {m.group(2) for m in _ID.finditer(s)}
    if ids:
        s = _ID.sub(lambda m: f'id={m.group(1)}{prefix}-{m.group(2)}{m.group(1)}', s)

        def ref(m):         # one pass over the text: matplotlib's SVGs have ~600 ids
            if m.group(1) is not None:
                return f"url(#{prefix}-{m.group(1)})" if m.group(1) in ids else m.group(0)
            if m.group(3) in ids:
                return f"{m.group(2)}#{prefix}-{m.group(3)}{m.group(4)}"
            return m.group(0)
        s = _ID_REF.sub(ref, s)
    return s


# -- Markdown rendering ----------------------------------------------------------

def _md_cell(x) -> str:
    return re.sub(r"(?<!\\)\|", r"\\|", to_md(x))


def _md_block(b) -> str:
    if isinstance(b, Heading):
        lv = min(max(b.level, 2), 5)
        return f'{"#" * lv} {to_md(b.text)}'
    if isinstance(b, Para):
        return to_md(b.text)
    if isinstance(b, Bullets):
        return "\n".join(f"- {to_md(i)}" for i in b.items)
    if isinstance(b, Div):
        return "\n\n".join(_md_block(x) for x in _flatten(b.blocks))
    if isinstance(b, KeyValues):
        return "\n".join(f"- **{to_md(k)}:** {to_md(v)}" for k, v in b.items)
    if isinstance(b, Pre):
        fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", b.text)), default=0) + 1)
        cap = f"{to_md(b.caption)}\n\n" if b.caption is not None else ""
        return f"{cap}{fence}{b.lang}\n{b.text.rstrip()}\n{fence}"
    if isinstance(b, Table):
        return table_md(b)
    if isinstance(b, Figure):
        title = f"**Figure {b.number}.** {to_md(b.title)}"
        art = (f"![Figure {b.number}: {to_md(b.title)}](<{quote(b.src, safe='/._-~')}>)" if b.src
               else "(diagram not available)")
        note = f"\n\n*Note.* {to_md(b.note)}" if b.note is not None else ""
        return f"{title}\n\n{art}{note}"
    raise TypeError(f"unknown block {type(b).__name__}")


def table_md(t: Table) -> str:
    align = t._align()
    sep = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = [f"**Table {t.number}.** {to_md(t.title)}", ""]
    lines.append("| " + " | ".join(_md_cell(c) for c in t.header) + " |")
    lines.append("|" + "|".join(sep[a] for a in align) + "|")
    n = len(t.header)
    for r in t._rows():
        if r.group:
            cells = [Rich(f"<strong>{to_html(r.cells[0])}</strong>", f"**{to_md(r.cells[0])}**")] + [""] * (n - 1)
        else:
            cells = r.cells
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    if t.note is not None:
        lines += ["", f"*Note.* {to_md(t.note)}"]
    return "\n".join(lines)
