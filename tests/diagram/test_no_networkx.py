"""Drawing a diagram does not import networkx (issue 19: its import alone is
about 0.4 s of CPU, more than laying out a figure of ten variables); only
`Diagram.graph`, the networkx view for API users, imports it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "reference" / "data"


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", "import sys\n" + code], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    return out.stdout


def test_fitted_diagrams_draw_without_networkx(tmp_path):
    """A fitted single-level and a fitted two-level model, drawn as the CLI's
    `fit --out` draws them (SVG and DOT), and a spec-only comparison."""
    code = f"""
import pandas as pd, attachpath as ap
from attachpath.diagram import compare_diagrams, diagram, diagram_files
one = ap.fit({str(ROOT / 'specs' / 'serial_esat_anx.lav')!r},
             pd.read_csv({str(DATA / 'example_clients.csv')!r}), cluster='therapist')
two = ap.fit({str(ROOT / 'specs' / 'twolevel_serial_esat_anx.lav')!r},
             pd.read_csv({str(DATA / 'example_sessions_esat.csv')!r}),
             cluster=['therapist', 'client'])
for res in (one, two):
    d = diagram(res)
    assert d.svg().startswith('<svg') and 'digraph' in d.dot
    d.render({str(tmp_path / 'd.svg')!r})
figs = compare_diagrams({{'a': {str(ROOT / 'specs' / 'serial_esat_anx.lav')!r},
                         'b': {str(ROOT / 'specs' / 'parallel_esat_anx.lav')!r}}})
assert all(f.svg().startswith('<svg') for f in figs.values())
print('NETWORKX', 'networkx' in sys.modules)
d = diagram(one)
g = d.graph                          # the API view: networkx on use
print('AFTER', 'networkx' in sys.modules, type(g).__name__)
"""
    lines = _run(code).splitlines()
    assert "NETWORKX False" in lines
    assert "AFTER True MultiDiGraph" in lines


def test_cli_fit_out_draws_without_networkx(tmp_path):
    """`attachpath fit --out` writes diagram.svg/.dot without networkx."""
    code = f"""
from attachpath.cli import main
main(['fit', {str(ROOT / 'specs' / 'serial_esat_anx.lav')!r}, '--data',
      {str(DATA / 'example_clients.csv')!r}, '--cluster', 'therapist',
      '--out', {str(tmp_path / 'out')!r}])
print('NETWORKX', 'networkx' in sys.modules)
"""
    assert "NETWORKX False" in _run(code).splitlines()
    assert (tmp_path / "out" / "diagram.svg").read_text().startswith("<svg")
    assert "digraph" in (tmp_path / "out" / "diagram.dot").read_text()


def test_graph_view_has_the_drawn_content_in_networkx_order(serial_res):
    """Diagram.graph holds the content's nodes, edges, keys and attributes in
    the order the diagram code walks them: networkx's own order (by source,
    then target, then key), on which the layout's tie-breaks depend."""
    from attachpath.diagram import diagram
    d = diagram(serial_res, show="covariances,exo,residuals")
    g, c = d.graph, d.content.graph
    assert list(g.nodes(data=True)) == list(c.nodes.items())
    assert list(g.edges(keys=True, data=True)) == c.edges()
    assert len(c.edges()) == g.number_of_edges() > 7
    assert d.graph is g                                   # built once


def test_edges_come_grouped_by_source_then_target():
    from attachpath.diagram.model import ContentGraph
    g = ContentGraph()
    for v in ("x", "m", "y"):
        g.add_node(v, kind="observed")
    g.add_edge("x", "m", 0, kind="regression")
    g.add_edge("m", "y", 1, kind="regression")
    g.add_edge("x", "y", 2, kind="regression")
    g.add_edge("x", "m", 3, kind="covariance")
    assert [(u, v, k) for u, v, k, _ in g.edges()] == [
        ("x", "m", 0), ("x", "m", 3), ("x", "y", 2), ("m", "y", 1)]
    g.remove_edge("x", "m", 0)
    g.remove_edge("x", "m", 3)
    g.add_edge("x", "m", 4, kind="regression")     # a new first edge x -> m comes after x -> y
    assert [k for *_, k, _ in g.edges()] == [2, 4, 1]
    assert "m" in g and "z" not in g


def test_paths_that_would_close_a_cycle_are_left_out():
    from attachpath.diagram.model import causes_without_cycles
    causes = causes_without_cycles(["a", "b", "c", "d"],
                                   [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"),
                                    ("d", "b"), ("a", "c"), ("a", "b")])
    assert causes == {"a": set(), "b": {"a"}, "c": {"a", "b"}, "d": {"c"}}
