"""Path diagrams of attachpath models, ready for a paper.

    >>> import attachpath as ap
    >>> from attachpath.diagram import diagram
    >>> d = diagram("cats_secure ~ a*ecr_anx\\ntds_ge ~ b*cats_secure")   # spec only
    >>> "cats_secure" in d.dot and d.svg().startswith("<svg")
    True

`diagram(spec_or_result, ...)` returns a `Diagram`: `.dot` (Graphviz DOT
source), `.svg()`, `.render(path)` (.svg, .pdf, .png or .dot by extension,
written atomically), `.note` (the figure note), `.graph` (the networkx
graph of what is drawn).

Layout.  By default attachpath lays the diagram out itself (columns by
causal stage, see `layout.py`), so the figure is the same on every machine;
Graphviz's `dot` program, when installed, draws that layout as PDF and PNG.
Without Graphviz, SVG and DOT are still written (a DiagramWarning says so
once).  `layout="dot"` hands the layout to Graphviz's dot instead.

Alternative models: `compare_diagrams(results)` draws each model of a
comparison on one shared layout (same node positions and canvas in every
figure), the paths not in every model bold and the paths of other models
faint and dotted; see `compare.py`.

Two-level models: `diagram()` returns a `TwoLevelDiagram` (twolevel.py), one
figure with the within panel above the between panel on one column grid:
random intercepts dotted at the within level and drawn as latent variables
at the between level, the indirect effects' paths bold where they live, one
note counting sessions, clients and therapists.

Layout and display settings can live in the spec as `# diagram:` comment
lines or in a sidecar file; see `directives.py` for the mini-language.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

from attachpath.errors import AttachpathWarning, OptionError, OutputError, SpecError, closest

from . import directives as _dirs
from . import dot as _dot
from . import fmt
from .directives import ELEMENTS, Settings, parse_directives
from .dot import GraphvizMissingError
from .themes import THEMES

__all__ = ["diagram", "Diagram", "render_for_result", "diagram_files", "DiagramWarning",
           "GraphvizMissingError", "parse_directives", "Settings", "ELEMENTS",
           "dot_binary", "fmt", "compare_diagrams"]

PNG_DPI = 300
FORMATS = (".svg", ".pdf", ".png", ".dot")


def dot_binary() -> str | None:
    """The path of Graphviz's `dot` program (shutil.which), or None."""
    return _dot.dot_binary()


def check_target(path) -> tuple[Path, str]:
    """(path, extension) of a diagram file to write; OutputError for an
    extension that picks no format or a path that is a directory."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in FORMATS:
        raise OutputError(f"'{p}': a diagram is written as .svg, .pdf, .png or .dot "
                          f"(the extension picks the format), not '{ext or 'no extension'}'.")
    if p.exists() and p.is_dir():
        raise OutputError(f"'{p}' is a directory; give a file name ending in {ext}.")
    return p, ext


def encode_figure(kind: str, svg, dot_source: str, draw) -> bytes:
    """A figure as 'svg', 'dot', 'pdf' or 'png' bytes, for every diagram
    class: `svg()` gives the SVG text (no Graphviz needed), `dot_source` the
    DOT text, `draw(kind, dpi)` the Graphviz rendering of PDF or PNG (PNG at
    PNG_DPI, with the DPI written into the file)."""
    kind = kind.lower().lstrip(".")
    if kind == "svg":
        return svg().encode("utf-8")
    if kind == "dot":
        return dot_source.encode("utf-8")
    if kind not in ("pdf", "png"):
        raise OutputError(f"Unknown diagram format '{kind}'; use svg, pdf, png or dot.")
    dpi = PNG_DPI if kind == "png" else None
    if dot_binary() is None:
        raise GraphvizMissingError(
            f"Writing {kind.upper()} needs Graphviz's 'dot' program, which is not "
            f"installed. Install Graphviz (https://graphviz.org/download/; e.g. "
            f"'apt install graphviz', 'brew install graphviz' or 'conda install "
            f"graphviz') or write the diagram as .svg or .dot instead.")
    data = draw(kind, dpi)
    return _png_with_dpi(data, dpi) if kind == "png" else data


class DiagramWarning(AttachpathWarning):
    """Something about a diagram the user should know (e.g. no Graphviz)."""


_warned_no_dot = False

NO_DOT = ("Graphviz's 'dot' program is not installed, so attachpath drew the diagram "
          "with its built-in renderer (SVG and DOT only). Install Graphviz "
          "(https://graphviz.org/download/) for PDF and PNG output and for "
          "layout='dot'.")


def _warn_no_dot() -> None:
    global _warned_no_dot
    if not _warned_no_dot:
        _warned_no_dot = True
        warnings.warn(NO_DOT, DiagramWarning, stacklevel=3)


# -- the value ---------------------------------------------------------------------

class Diagram:
    """A path diagram: content, settings and renderers (see the module doc)."""

    def __init__(self, content, *, layout: str = "attachpath", title: str = "Path diagram"):
        self.content = content
        self.settings: Settings = content.settings
        self.theme = THEMES[content.settings.theme]
        self.layout_engine = layout
        self.title = title

    # -- views -------------------------------------------------------------------
    @cached_property
    def graph(self):
        """The networkx MultiDiGraph of what is drawn (see model.py), built on
        first use: drawing itself does not import networkx."""
        return self.content.graph.to_networkx()

    @property
    def note(self) -> str:
        """The figure note (APA style, plain text)."""
        return self.content.plain_note

    @property
    def messages(self) -> list[str]:
        """Things worth knowing about this diagram (e.g. layout compromises)."""
        out = list(self.content.messages)
        if self.layout_engine == "attachpath":
            out += self.layout.messages
        return out

    @cached_property
    def dot(self) -> str:
        """Graphviz DOT source for the dot engine (rankdir=LR, a rank per stage)."""
        return _dot.to_dot(self.content, self.theme, title=self.title)

    @cached_property
    def layout(self):
        """The built-in layout (positions, paths, label boxes) as a value."""
        from .layout import compute
        lay = compute(self.content, self.theme)
        if self.settings.show.get("note"):
            _add_note(lay, self.content.note)
        return lay

    @cached_property
    def pinned_dot(self) -> str:
        """DOT of the built-in layout with every position fixed (for Graphviz)."""
        return _dot.pinned_dot(self.layout, self.theme, self.content, title=self.title)

    def _use_dot_layout(self) -> bool:
        if self.layout_engine != "dot":
            return False
        if dot_binary() is None:
            _warn_no_dot()
            return False
        return True

    def svg(self) -> str:
        """The diagram as SVG text."""
        return self._svg

    @cached_property
    def _svg(self) -> str:
        # drawn once: `fit --out` writes it and shows it in the report
        if self._use_dot_layout():
            return _dot.run_dot(self.dot, "svg").decode("utf-8")
        from .svg import to_svg
        return to_svg(self.layout, self.theme, title=self.title, desc=self.note)

    def _repr_svg_(self) -> str:          # Jupyter
        return self.svg()

    def to_bytes(self, kind: str) -> bytes:
        """'svg', 'dot', 'pdf' or 'png' output as bytes (PDF and PNG need Graphviz)."""
        def draw(kind, dpi):
            if self._use_dot_layout():
                return _dot.run_dot(self.dot, kind, dpi=dpi)
            return _dot.render_pinned(self.pinned_dot, kind, dpi=dpi)
        return encode_figure(kind, self.svg, self.dot, draw)

    def render(self, path) -> Path:
        """Write the diagram to `path`; the extension (.svg, .pdf, .png, .dot)
        picks the format.  The file is replaced atomically."""
        from attachpath.files import write_bytes_atomic, write_text_atomic
        p, ext = check_target(path)
        if ext in (".pdf", ".png"):
            write_bytes_atomic(p, self.to_bytes(ext[1:]))
        else:
            if dot_binary() is None:
                _warn_no_dot()
            write_text_atomic(p, self.svg() if ext == ".svg" else self.dot)
        return p

    def __repr__(self) -> str:
        g = self.content.graph
        return (f"<Diagram: {len(g.nodes)} variables, {len(g.edges())} paths, "
                f"{'fitted' if self.content.fitted else 'spec only'}>")


def _png_with_dpi(data: bytes, dpi: int) -> bytes:
    """The PNG with a pHYs chunk saying `dpi` (Graphviz's cairo PNGs have none,
    so word processors would show a 300-dpi figure three times too large)."""
    import struct
    import zlib
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or b"pHYs" in data[:4096]:
        return data
    ppm = int(round(dpi / 0.0254))
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    ihdr_end = 8 + 8 + 13 + 4                 # signature, IHDR length+type, data, CRC
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def _add_note(lay, note: str) -> None:
    from .metrics import wrap_words
    size = lay.note_size
    width = max(lay.width - 24, 300.0)
    lines = wrap_words(note, size, width)
    lay.note_lines = lines
    lay.note_top = lay.height - 4
    lay.note_block = len(lines) * size * 1.22 + 12
    lay.width = max(lay.width, width + 24)


# -- building ------------------------------------------------------------------------

def _spec_partable(spec):
    """A ParTable from spec text or a .lav path, without the identification
    check (a spec-only diagram helps while the model is still being written)."""
    from attachpath.spec import read_spec
    from attachpath.partable import ParTable, build
    from attachpath.syntax import parse
    if isinstance(spec, ParTable):
        return spec
    text, file = read_spec(spec)
    return build(parse(text, file=file), text=text, file=file)


def _show_arg(show, s: Settings) -> None:
    if show is None:
        return
    if isinstance(show, str):
        show = [x for x in show.replace(",", " ").split() if x]
    items = show.items() if isinstance(show, Mapping) else \
        [((x[1:], False) if x.startswith("-") else (x[3:], False) if x.startswith("no-")
          else (x, True)) for x in show]
    for name, on in items:
        key = str(name).lower()
        if key not in ELEMENTS:
            raise OptionError(f"show: '{name}' is not a diagram element; the elements are "
                            + ", ".join(ELEMENTS) + ".", suggestion=closest(key, ELEMENTS))
        s.show[key] = bool(on)


def _check_names(names, pt, what):
    for v in names:
        if v not in pt.variables:
            raise OptionError(f"{what}: '{v}' is not a variable of the model.",
                            suggestion=closest(v, list(pt.variables)))


def settings_for(pt, *, directives=None, standardized=None, theme=None, show=None,
                 highlight=None, ranks=None, order=None, hide=None, labels=None,
                 indicators=None, nonsig=None, decimals=None) -> tuple[Settings, dict]:
    """Fold the spec's directives, its sidecar, `directives` text and keyword
    arguments (in that order) into Settings; returns (settings, label map)."""
    found = _dirs.from_spec(pt.text, pt.file)
    if directives:
        if isinstance(directives, (os.PathLike, Path)) or (
                isinstance(directives, str) and "\n" not in directives
                and directives.endswith(".diagram") and Path(directives).is_file()):
            path = Path(directives)
            found += parse_directives(path.read_text(encoding="utf-8"), file=str(path))
        else:
            found += parse_directives(str(directives), file="<directives>")
    s = _dirs.apply(found, pt)
    if standardized is not None:
        s.standardized = bool(standardized)
    if theme is not None:
        key = str(theme).lower()
        if key not in _dirs.THEMES:
            raise OptionError(f"theme: '{theme}' is not a theme; use apa or colour.",
                            suggestion=closest(key, list(_dirs.THEMES)))
        s.theme = _dirs.THEMES[key]
    _show_arg(show, s)
    if highlight is not None:
        names = [r.lhs for r in pt.defined()]
        if highlight not in names:
            raise OptionError(f"highlight: '{highlight}' is not a defined (:=) parameter"
                            + (f"; the model defines {', '.join(names)}." if names
                               else "; the model has none."),
                            suggestion=closest(str(highlight), names))
        s.highlight = highlight
    if ranks:
        _check_names(ranks, pt, "ranks")
        for v, r in ranks.items():
            if not isinstance(r, int) or r < 0:
                raise OptionError(f"ranks: the rank of '{v}' must be a whole number >= 0.")
            s.ranks[v] = r
    if order:
        groups = [order] if all(isinstance(x, str) for x in order) else list(order)
        for grp in groups:
            _check_names(grp, pt, "order")
            s.order.append(tuple(grp))
    if hide:
        for item in ([hide] if isinstance(hide, str) else hide):
            text = str(item)
            if "~" not in text:
                names = text.split()
                _check_names(names, pt, "hide")
                s.hide.update(names)
                continue
            lhs, op, rhs = _split_path(text)
            _check_names([lhs, rhs], pt, "hide")
            key = _dirs._path_key(pt, lhs, op, rhs)
            if key is None:
                raise OptionError(f"hide: the model has no path '{lhs} {op} {rhs}'.")
            s.hide_paths.add(key)
    if indicators:
        for f, side in indicators.items():
            if f not in pt.latent:
                raise OptionError(f"indicators: '{f}' is not a latent variable.",
                                suggestion=closest(f, list(pt.latent)))
            if side not in _dirs.SIDES:
                raise OptionError(f"indicators: '{side}' is not a side; use left, right, "
                                f"above or below.")
            s.indicators[f] = side
    if nonsig is not None:
        key = str(nonsig).lower()
        if key not in _dirs.NONSIG:
            raise OptionError(f"nonsig: '{nonsig}' must be solid, dashed or grey.")
        s.nonsig = _dirs.NONSIG[key]
    if decimals is not None:
        if not isinstance(decimals, int) or not 0 <= decimals <= 4:
            raise OptionError("decimals must be a whole number from 0 to 4.")
        s.decimals = decimals
    label_map: dict = {}
    if isinstance(labels, str):
        if labels not in ("data", "names"):
            raise OptionError("labels must be a mapping of variable -> label, 'data' or 'names'.")
        s.data_labels = labels == "data"
    elif labels:
        _check_names(labels, pt, "labels")
        label_map = {k: str(v) for k, v in labels.items()}
    return s, label_map


def _split_path(text: str):
    for op in ("=~", "~~", "~"):
        if op in text:
            lhs, _, rhs = text.partition(op)
            return lhs.strip(), op, rhs.strip()
    raise SpecError(f"'{text}' is not a path (LHS ~ RHS, LHS =~ RHS or LHS ~~ RHS).")


def is_result(obj) -> bool:
    """Whether obj is a fitted Result, without importing attachpath.result
    (and with it pandas, ~1 G instructions) for a diagram of a spec: a
    Result exists only once its module is loaded."""
    module = sys.modules.get("attachpath.result")
    return module is not None and isinstance(obj, module.Result)


def diagram(spec_or_result, *, standardized: bool | None = None, theme: str | None = None,
            show=None, highlight: str | None = None, ranks: Mapping | None = None,
            order=None, hide=None, labels=None, indicators: Mapping | None = None,
            nonsig: str | None = None, decimals: int | None = None, directives=None,
            layout: str = "attachpath", title: str = "Path diagram") -> Diagram:
    """A path diagram of a fitted Result, or of a spec (text, .lav path or
    ParTable) when there are no estimates yet.

    standardized: std.all estimates instead of raw ones.  theme: "apa"
    (greyscale, default) or "colour".  show: elements to switch on, e.g.
    ["residuals", "ci"], "-stars" to switch one off, or a mapping
    {element: bool}; elements: r2, residuals, intercepts, covariances, exo,
    stars, se, ci, note.  highlight: a := name whose paths are drawn bold.
    ranks: {variable: column}.  order: a list of variables (top to bottom),
    or a list of such lists.  hide: variables and/or paths ("y ~ x").
    labels: {variable: display label}, or "data" for the data's (SPSS)
    variable labels.  indicators: {latent: "left"|"right"|"above"|"below"}.
    nonsig: "solid" (default), "dashed" or "grey" for p >= .05.  decimals:
    0-4 (default 2).  directives: more directive text (or a .diagram file).
    layout: "attachpath" (built-in, default) or "dot" (Graphviz's layout).
    Keyword arguments override the spec's `# diagram:` lines and sidecar.
    """
    from .model import build
    if layout not in ("attachpath", "dot"):
        raise OptionError(f"layout must be 'attachpath' or 'dot', not '{layout}'.")
    res = spec_or_result if is_result(spec_or_result) else None
    pt = res.partable if res is not None else _spec_partable(spec_or_result)
    if pt.multilevel:
        from .twolevel import TwoLevelDiagram
        options = dict(standardized=standardized, theme=theme, show=show, highlight=highlight,
                       ranks=ranks, order=order, hide=hide, labels=labels,
                       indicators=indicators, nonsig=nonsig, decimals=decimals,
                       directives=directives, layout=layout)
        return TwoLevelDiagram(pt, res, options, title)
    s, label_map = settings_for(pt, directives=directives, standardized=standardized,
                                theme=theme, show=show, highlight=highlight, ranks=ranks,
                                order=order, hide=hide, labels=labels,
                                indicators=indicators, nonsig=nonsig, decimals=decimals)
    content = build(pt, res, s, label_map)
    for m in content.messages:
        warnings.warn(m, DiagramWarning, stacklevel=2)
    return Diagram(content, layout=layout, title=title)


def compare_diagrams(results, **kwargs) -> dict:
    """Diagrams of alternative models on one shared layout, the paths that
    differ between them marked: {name: Diagram}.  See `attachpath.diagram.compare`."""
    from .compare import compare_diagrams as run
    return run(results, **kwargs)


# Graphviz's renders of a figure that --out writes on request (--pdf, --png)
RENDERS = ("pdf", "png")


def render_for_result(res, *, renders=()) -> dict:
    """The diagram files of a fitted model for `attachpath fit --out`:
    {"diagram.svg": ..., "diagram.dot": ...} and, for each of `renders`
    ("pdf", "png": 300 dpi) when Graphviz's dot is installed, its file as
    bytes (directives come from the spec)."""
    return diagram_files(diagram(res), renders=renders)


def diagram_files(d, *, renders=()) -> dict:
    """The files of a drawn Diagram, as render_for_result (a caller that also
    puts the figure in a report lays it out once).  The SVG and DOT always:
    drawn by attachpath, they are the same with or without Graphviz.  The
    PDF and PNG only on request: they run Graphviz's dot (about 0.06 and
    0.2 s CPU, a tenth and a quarter of a CLI fit); without it, a warning
    and no file."""
    unknown = [r for r in renders if r not in RENDERS]
    if unknown:
        raise OutputError(f"Unknown diagram render {unknown[0]!r}; choose from "
                          f"{', '.join(RENDERS)}.")
    files = {"diagram.svg": d.svg(), "diagram.dot": d.dot}
    if renders and dot_binary() is None:
        _warn_no_dot()
        return files
    files.update({f"diagram.{kind}": d.to_bytes(kind) for kind in RENDERS if kind in renders})
    return files
