"""Output files with and without Graphviz's dot, render_for_result, the CLI."""

from __future__ import annotations

import json
import struct
import warnings
import zlib

import pytest

import attachpath.diagram as dg
from attachpath.cli import main
from attachpath.diagram import (DiagramWarning, GraphvizMissingError, diagram,
                                render_for_result)
from attachpath.errors import OutputError

from diagram_models import SERIAL


def png_dpi(data: bytes) -> float | None:
    """Pixels per inch from a PNG's pHYs chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i = 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        body = data[i + 8:i + 8 + length]
        if kind == b"pHYs":
            ppu_x, _, unit = struct.unpack(">IIB", body)
            return ppu_x * 0.0254 if unit == 1 else None
        i += 12 + length
    return None


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


# -- without Graphviz ----------------------------------------------------------------

def test_without_dot_svg_and_dot_are_written_and_warned_once(serial_res, tmp_path, no_dot):
    assert dg.dot_binary() is None
    d = diagram(serial_res)
    with pytest.warns(DiagramWarning, match="Graphviz") as rec:
        d.render(tmp_path / "fig.svg")
        d.render(tmp_path / "fig.dot")
        diagram(serial_res).render(tmp_path / "again.svg")
    assert len([w for w in rec if issubclass(w.category, DiagramWarning)]) == 1
    svg = (tmp_path / "fig.svg").read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert (tmp_path / "fig.dot").read_text() == d.dot
    assert "digraph" in d.dot


@pytest.mark.parametrize("ext", ["pdf", "png"])
def test_without_dot_pdf_and_png_are_a_clear_error(serial_res, tmp_path, no_dot, ext):
    d = diagram(serial_res)
    with pytest.raises(GraphvizMissingError) as err:
        d.render(tmp_path / f"fig.{ext}")
    assert err.value.exit_code == 2
    msg = str(err.value)
    assert "Graphviz" in msg and ".svg" in msg and ".dot" in msg
    assert not (tmp_path / f"fig.{ext}").exists()


def test_without_dot_the_dot_layout_falls_back(serial_res, no_dot):
    d = diagram(serial_res, layout="dot")
    with pytest.warns(DiagramWarning):
        svg = d.svg()
    assert 'class="node observed"' in svg          # the built-in renderer's SVG


def test_render_for_result_without_dot(serial_res, no_dot):
    with pytest.warns(DiagramWarning):
        files = render_for_result(serial_res, renders=("pdf", "png"))
    assert set(files) == {"diagram.svg", "diagram.dot"}
    assert files["diagram.svg"].startswith("<svg") and "digraph" in files["diagram.dot"]


def test_the_default_files_need_no_graphviz(serial_res, no_dot):
    # without renders asked for, no dot is run and nothing is missing: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        files = render_for_result(serial_res)
    assert set(files) == {"diagram.svg", "diagram.dot"}


def test_an_unknown_render_lists_the_valid_ones(serial_res):
    with pytest.raises(OutputError, match="'eps'.*pdf, png"):
        render_for_result(serial_res, renders=("eps",))


def test_write_fit_outputs_includes_the_diagram(serial_res, tmp_path, no_dot):
    from attachpath.export import write_fit_outputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        written = write_fit_outputs(serial_res, tmp_path / "out")
    assert {"diagram.svg", "diagram.dot"} <= set(written)
    assert (tmp_path / "out" / "diagram.svg").read_text().startswith("<svg")


def test_the_same_svg_with_and_without_dot(serial_res, monkeypatch):
    with_dot = diagram(serial_res).svg()
    monkeypatch.setattr(dg._dot, "dot_binary", lambda: None)
    monkeypatch.setattr(dg, "_warned_no_dot", True)
    assert diagram(serial_res).svg() == with_dot


def test_render_refuses_unknown_formats_and_directories(serial_res, tmp_path):
    d = diagram(serial_res)
    with pytest.raises(OutputError, match=r"\.svg, \.pdf, \.png or \.dot"):
        d.render(tmp_path / "fig.gif")
    (tmp_path / "dir.svg").mkdir()
    with pytest.raises(OutputError, match="directory"):
        d.render(tmp_path / "dir.svg")


def test_render_is_atomic(serial_res, tmp_path, monkeypatch):
    target = tmp_path / "fig.svg"
    target.write_text("old")
    d = diagram(serial_res)
    monkeypatch.setattr(type(d), "svg", lambda self: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        d.render(target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.svg"]


# -- with Graphviz --------------------------------------------------------------------

def test_with_dot_png_at_300_dpi_and_pdf(serial_res, tmp_path, has_dot):
    d = diagram(serial_res)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DiagramWarning)      # no warning with dot
        d.render(tmp_path / "fig.png")
        d.render(tmp_path / "fig.pdf")
        d.render(tmp_path / "fig.svg")
    png = (tmp_path / "fig.png").read_bytes()
    assert round(png_dpi(png)) == 300
    w, h = png_size(png)
    # the built-in layout at 300 dpi (points -> pixels), plus Graphviz's pad
    assert abs(w - d.layout.width * 300 / 72) < 0.15 * w
    assert (tmp_path / "fig.pdf").read_bytes().startswith(b"%PDF")


def test_with_dot_the_pinned_dot_keeps_the_layout(serial_res, has_dot):
    d = diagram(serial_res)
    out = json.loads(dg._dot.render_pinned(d.pinned_dot, "json").decode())
    pos = {o["name"]: tuple(map(float, o["pos"].split(","))) for o in out["objects"]
           if "pos" in o and not o["name"].startswith("~")}
    names = [name for name, n in d.layout.nodes.items() if n.kind != "residual"]
    # Graphviz may translate the drawing as a whole; nothing else moves
    dx = [pos[v][0] - d.layout.nodes[v].shape.cx for v in names]
    dy = [-pos[v][1] - d.layout.nodes[v].shape.cy for v in names]
    assert max(dx) - min(dx) < 0.1 and max(dy) - min(dy) < 0.1


def test_with_dot_the_dot_layout_engine(serial_res, pd_res, has_dot):
    for res in (serial_res, pd_res):
        d = diagram(res, layout="dot")
        svg = d.svg()
        assert "<svg" in svg and "Generated by graphviz" in svg
        for v in d.graph:
            assert f">{v}<" in svg
        assert d.to_bytes("png").startswith(b"\x89PNG")


def test_dot_source_is_valid_for_dot(pd_res, has_dot):
    d = diagram(pd_res, show=["residuals", "note"], highlight=None)
    assert dg._dot.run_dot(d.dot, "svg").startswith(b"<?xml")
    spec = diagram(SERIAL, show=["exo", "residuals"], highlight="abc")
    assert dg._dot.run_dot(spec.dot, "svg").startswith(b"<?xml")


# -- the CLI --------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path, clients):
    spec = tmp_path / "serial.lav"
    spec.write_text(SERIAL + '# diagram: label cats_secure = "Attachment"\n')
    data = tmp_path / "clients.csv"
    clients.to_csv(data, index=False)
    return spec, data


def test_cli_spec_only(files, tmp_path, capsys):
    spec, _ = files
    out = tmp_path / "spec.svg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["diagram", str(spec), "--out", str(out)]) == 0
    text = out.read_text()
    assert "Attachment" in text and "cats_secure" not in text.split("<desc>")[0]
    assert "Model specification" in capsys.readouterr().out


def test_cli_fitted_with_options(files, tmp_path, capsys):
    spec, data = files
    out = tmp_path / "fig.dot"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(["diagram", str(spec), "--data", str(data), "--cluster", "therapist",
                   "--out", str(out), "--std", "--highlight", "abc", "--theme", "colour",
                   "--show", "residuals,-stars"])
    assert rc == 0
    dot = out.read_text()
    assert '"tds_ge":n -> "tds_ge":n' in dot and "***" not in dot
    printed = capsys.readouterr().out
    assert "cluster-robust standard errors, 44 therapists" in printed
    assert "Standardized estimates" in printed


def test_cli_without_dot_pdf_is_exit_2(files, tmp_path, capsys, no_dot):
    spec, data = files
    rc = main(["diagram", str(spec), "--data", str(data), "--out", str(tmp_path / "f.pdf")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "Graphviz" in err and ".svg or .dot" in err
    assert not (tmp_path / "f.pdf").exists()


def test_cli_errors(files, tmp_path, capsys):
    spec, data = files
    assert main(["diagram", str(spec), "--out", str(tmp_path / "f.jpg")]) == 2
    assert "svg, .pdf, .png or .dot" in capsys.readouterr().err
    assert main(["diagram", str(spec), "--cluster", "therapist",
                 "--out", str(tmp_path / "f.svg")]) == 2
    assert "needs --data" in capsys.readouterr().err
    bad = tmp_path / "bad.lav"
    bad.write_text("tds_ge ~ ecr_anx\n# diagram: hide tds\n")
    assert main(["diagram", str(bad), "--out", str(tmp_path / "f.svg")]) == 2
    err = capsys.readouterr().err
    assert "bad.lav:2:17" in err and "'tds' is not a variable" in err
    assert main(["diagram", str(spec), "--out", str(tmp_path / "f.svg"),
                 "--highlight", "nope"]) == 2
    assert "not a defined" in capsys.readouterr().err


def test_cli_help_lists_diagram(capsys):
    assert main(["diagram", "--help"]) == 0
    assert "--highlight" in capsys.readouterr().out


def test_zlib_is_available_for_png_checks():
    assert zlib.crc32(b"x")
