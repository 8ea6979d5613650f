"""Diagrams for reports, from attachpath.diagram.

`model_figure(res)` draws one model; `comparison_figures(results)` draws
the alternatives of a comparison, with the same node positions and the
paths that differ highlighted when the diagram module offers
`compare_diagrams`, else each model on its own.  Both return `Drawn`
values: the SVG text, the Graphviz DOT source (may be None) and the figure
note.  Without the diagram module every figure is None and the report says
so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Drawn:
    svg: str
    dot: str | None = None
    note: str | None = None
    shared_layout: bool = False


def _diagram_module():
    try:
        import attachpath.diagram as dg
    except ImportError:
        return None
    return dg if hasattr(dg, "diagram") else None


def _plain(text):
    if text is None:
        return None
    try:
        from attachpath.diagram.fmt import plain
        return plain(str(text))
    except ImportError:
        return str(text).replace("\x01", "").replace("\x02", "")


def drawn_of(d, shared=False) -> Drawn:
    """A Diagram as the report shows it (its SVG, DOT and note)."""
    svg = d.svg() if callable(getattr(d, "svg", None)) else getattr(d, "svg", None)
    dot = getattr(d, "dot", None)
    dot = dot() if callable(dot) else dot
    note = getattr(d, "note", None)
    note = note() if callable(note) else note
    note = _plain(note)
    if note and note.startswith("Note."):
        note = note[len("Note."):].strip()       # the report prints "Note." itself
    return Drawn(svg=svg, dot=dot, note=note or None, shared_layout=shared)


def available() -> bool:
    return _diagram_module() is not None


def _failed(exc) -> None:
    import warnings
    from attachpath.errors import AttachpathWarning
    warnings.warn(f"A path diagram could not be drawn ({type(exc).__name__}: {exc}); the "
                  f"report shows the tables without it.", AttachpathWarning, stacklevel=3)


def model_figure(res) -> Drawn | None:
    """One model's diagram, or None (a diagram problem must not cost the report:
    it is a warning, as in export.write_fit_outputs)."""
    dg = _diagram_module()
    if dg is None:
        return None
    try:
        return drawn_of(dg.diagram(res))
    except Exception as exc:
        _failed(exc)
        return None


def comparison_figures(results: dict) -> dict:
    """name -> Drawn for every model of a comparison (None where a diagram
    cannot be drawn or without the diagram module)."""
    dg = _diagram_module()
    if dg is None:
        return {n: None for n in results}
    cmp_fn = getattr(dg, "compare_diagrams", None)
    if cmp_fn is not None:
        try:
            out = cmp_fn(results)
            if isinstance(out, dict):
                return {n: drawn_of(out[n], shared=True) for n in results}
            return {n: drawn_of(d, shared=True) for n, d in zip(results, out)}
        except Exception as exc:
            _failed(exc)
    return {n: model_figure(r) for n, r in results.items()}
