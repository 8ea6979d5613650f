"""HTML/Markdown reports of one fit, and `attachpath compare`."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main
from attachpath.export import write_fit_report
from attachpath.report import fit_report

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"

EVIL_SPEC = """\
# <script>alert("spec")</script> & "quotes" </pre><b>bold</b>
esat_anx ~ a*ecr_anx
tds_ge   ~ b*esat_anx
iip_post ~ c*tds_ge + iip_pre
ind := a*b*c
"""


@pytest.fixture(scope="module")
def clients():
    return ap.datasets.load_example_clients()


@pytest.fixture(scope="module")
def clients_csv(tmp_path_factory, clients):
    path = tmp_path_factory.mktemp("data") / "clients.csv"
    clients.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def evil_fit(tmp_path_factory, clients_csv):
    spec = tmp_path_factory.mktemp("spec") / "evil.lav"
    spec.write_text(EVIL_SPEC, encoding="utf-8")
    return ap.fit(str(spec), str(clients_csv), cluster="therapist", se="robust",
                  mc_draws=2000, seed=3)


def _svgs(html: str) -> int:
    return len(re.findall(r"<svg\b", html))


def test_fit_report_has_every_table_an_inline_svg_and_provenance(evil_fit):
    doc = fit_report(evil_fit)
    html = doc.html()
    for title in ("Fit of", "Parameter estimates of", "Defined (indirect) effects in",
                  "of the endogenous variables in", "Intraclass correlations by therapist"):
        assert title in html, title
    assert len(re.findall(r'<span class="tnum">Table \d+</span>', html)) == 5
    assert _svgs(html) == 1
    # data handling, corrections, provenance
    assert "330 cases used" in html and "none was dropped" in html
    assert "44 clusters" in html and "Design effect" in html
    assert "cluster-robust" in html and "Yuan-Bentler scaled" in html
    assert "Monte Carlo (2000 draws" in html
    assert evil_fit.provenance["spec_sha256"] in html
    assert evil_fit.provenance["data_sha256"] in html
    assert evil_fit.provenance["data_file_sha256"] in html
    assert "seed=3" in html.replace("&quot;", '"') or '"seed": 3' in html
    assert f"semopy {evil_fit.provenance['versions']['semopy']}" in html
    # self-contained: no external resources
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
    assert "<link" not in html and "@import" not in html and "url(http" not in html


def test_html_escapes_a_script_in_a_spec_comment(evil_fit):
    html = fit_report(evil_fit).html()
    assert "<script" not in html.lower()
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;spec&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    md = fit_report(evil_fit).markdown()
    # in Markdown the spec sits in a fenced code block; elsewhere nothing is raw HTML
    fences = re.findall(r"^(`{3,})[^\n]*\n(.*?)\n\1$", md, flags=re.S | re.M)
    assert any("<script>" in body for _, body in fences)
    outside = re.sub(r"^(`{3,})[^\n]*\n.*?\n\1$", "", md, flags=re.S | re.M)
    assert "<script" not in outside


def test_apa_formatting_in_tables(evil_fit):
    html = fit_report(evil_fit).html()
    assert "< .001" in html.replace("&lt;", "<")
    assert re.search(r">\u2212?\.\d{3}<", html)           # β without leading zero
    assert not re.search(r">-\d", html)                     # true minus signs in cells
    assert "<em>b</em>" in html and "<em>SE</em>" in html and "\u03b2" in html


def test_defined_effects_table_shows_the_standardized_interval(evil_fit):
    from attachpath.report import format as F
    html = fit_report(evil_fit).html()
    std = evil_fit.standardized_solution().set_index("lhs").loc["ind"]
    assert std["se"] > 0
    assert "β 95% CI" in html
    assert F.ci(std["ci.lower"], std["ci.upper"], 3, bounded=True) in html
    assert "lavaan&#x27;s standardizedSolution" in html


def test_write_fit_report_files_and_markdown_links(tmp_path, evil_fit):
    from attachpath.export import write_fit_outputs
    written = write_fit_outputs(evil_fit, tmp_path) + write_fit_report(evil_fit, tmp_path)
    assert {"estimates.csv", "fit.json", "report.html", "report.md"} <= set(written)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(<([^>]+)>\)", md)
    assert links == ["diagram.svg"] and (tmp_path / "diagram.svg").is_file()
    for heading in ("## Results of", "### Data handling and corrections", "### Warnings",
                    "## Provenance of"):
        assert heading in md
    # twice into the same folder: replaced, other files untouched
    (tmp_path / "mine.txt").write_text("keep")
    write_fit_report(evil_fit, tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep"
    assert not list(tmp_path.glob(".*.tmp"))


def test_repr_html(evil_fit):
    html = evil_fit._repr_html_()
    assert "<table" in html and "Parameter estimates" in html and "Model fit" in html


# -- attachpath compare ---------------------------------------------------------------

COMPARE = ["serial_esat_anx", "serial_esat_anx_partial", "parallel_esat_anx"]


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory, clients_csv):
    out = tmp_path_factory.mktemp("cmp") / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "report.html").write_text("stale")
    argv = ["compare", *(str(SPECS / f"{n}.lav") for n in COMPARE), "--data", str(clients_csv),
            "--cluster", "therapist", "--mc", "2000", "--seed", "1", "--out", str(out)]
    return out, main(argv)


def test_compare_cli_writes_every_file(compare_run, capsys):
    out, code = compare_run
    assert code == 0
    for f in ("comparison.csv", "tests.csv", "information.csv", "effects.csv",
              "report.html", "report.md"):
        assert (out / f).is_file(), f
    for n in COMPARE:
        for f in ("estimates.csv", "fit.json", "diagram.svg", "diagram.dot"):
            assert (out / n / f).is_file(), f"{n}/{f}"
        assert not (out / n / "diagram.png").exists()          # only with --png
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "report.html").read_text() != "stale"


def test_compare_cli_png_writes_each_models_png(clients_csv, tmp_path, capsys):
    """compare --pdf --png: every model's folder gets diagram.pdf and
    diagram.png (needs Graphviz)."""
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    out = tmp_path / "out"
    argv = ["compare", *(str(SPECS / f"{n}.lav") for n in COMPARE[:2]), "--data",
            str(clients_csv), "--mc", "0", "--out", str(out), "--pdf", "--png"]
    assert main(argv) == 0
    for n in COMPARE[:2]:
        assert (out / n / "diagram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", n
        assert (out / n / "diagram.pdf").read_bytes()[:5] == b"%PDF-", n


def test_compare_cli_columns(compare_run):
    from attachpath.comparison import TABLE_COLS
    out, _ = compare_run
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["model"]) == COMPARE
    assert list(table.columns) == ["model", *TABLE_COLS, "akaike.weight"]
    tests = pd.read_csv(out / "tests.csv")
    assert list(tests.columns) == ["model_a", "model_b", "df_diff", "chisq_diff", "pvalue", "method"]
    assert tests[["model_a", "model_b"]].values.tolist() == [["serial_esat_anx",
                                                             "serial_esat_anx_partial"]]
    assert tests["method"].str.contains("Satorra-Bentler").all()
    info = pd.read_csv(out / "information.csv")
    assert list(info.columns) == ["model_a", "model_b", "aic_diff", "bic_diff", "relation"]
    assert len(info) == 2 and (info["relation"] == "non-nested").all()
    eff = pd.read_csv(out / "effects.csv")
    assert eff.columns[0] == "effect"
    assert list(eff.columns[1:4]) == ["serial_esat_anx.est", "serial_esat_anx.ci.lower",
                                      "serial_esat_anx.ci.upper"]
    assert {"anx_ge", "anx_total"} <= set(eff["effect"])
    fit = json.loads((out / "serial_esat_anx" / "fit.json").read_text())
    assert fit["chisq.scaled"] == pytest.approx(table.loc[0, "chisq.scaled"], rel=1e-12)


def test_compare_report_contents(compare_run):
    out, _ = compare_run
    html = (out / "report.html").read_text(encoding="utf-8")
    for title in ("Fit of the alternative models", "Information criteria", "Nested-model tests",
                  "Pairs that are not nested", "Defined effects across models"):
        assert title in html
    # per model: diagram in the comparison grid and in the model's own section
    assert _svgs(html) >= len(COMPARE)
    for n in COMPARE:
        assert f'id="model-{n}"' in html
    assert "defined differently in parallel_esat_anx" in html.lower()
    md = (out / "report.md").read_text(encoding="utf-8")
    for link in re.findall(r"!\[[^\]]*\]\(<([^>]+)>\)", md):
        assert (out / link).is_file(), link


def test_compare_cli_refuses_a_file_as_out(tmp_path, clients_csv, capsys):
    target = tmp_path / "file.txt"
    target.write_text("x")
    code = main(["compare", str(SPECS / "serial_esat_anx.lav"),
                 str(SPECS / "serial_esat_anx_partial.lav"), "--data", str(clients_csv),
                 "--out", str(target)])
    assert code == 2 and "existing file" in capsys.readouterr().err
    assert target.read_text() == "x"


def test_compare_cli_needs_two_specs(tmp_path, clients_csv, capsys):
    code = main(["compare", str(SPECS / "serial_esat_anx.lav"), "--data", str(clients_csv),
                 "--out", str(tmp_path / "o")])
    assert code == 2 and "at least two" in capsys.readouterr().err


def test_comparison_report_escapes_model_names(clients):
    from attachpath.report import comparison_report
    specs = {"<i>a</i>": (SPECS / "serial_esat_anx.lav").read_text(),
             "b&c\"d": (SPECS / "serial_esat_anx_partial.lav").read_text()}
    cmp = ap.compare(specs, clients)
    doc = comparison_report(cmp)
    html = doc.html()
    assert "<i>a</i>" not in html and "&lt;i&gt;a&lt;/i&gt;" in html
    assert 'b&c"d' not in html and "b&amp;c&quot;d" in html
    heading_ids = re.findall(r'<h\d id="([^"]*)"', html)
    assert heading_ids and all(re.fullmatch(r"[a-z0-9_-]+", i) for i in heading_ids)
    md = doc.markdown()
    outside = re.sub(r"^(`{3,})[^\n]*\n.*?\n\1$", "", md, flags=re.S | re.M)
    assert not re.search(r"(?<![\\`])<i>", outside)


def test_a_failing_diagram_costs_the_figure_not_the_report(evil_fit, monkeypatch):
    import attachpath.diagram as dg
    from attachpath.errors import AttachpathWarning

    def broken(*a, **k):
        raise RuntimeError("layout exploded")
    monkeypatch.setattr(dg, "diagram", broken)
    with pytest.warns(AttachpathWarning, match="layout exploded"):
        html = fit_report(evil_fit).html()
    assert "(diagram not available)" in html and "Parameter estimates of" in html
