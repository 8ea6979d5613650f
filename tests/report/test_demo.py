"""`attachpath demo` end to end, and the committed reports/demo against the code.

The demo runs once per module (about two seconds) into a folder that already
holds a foreign file and a stale report; the committed reports/demo must hold
the same numbers as a fresh run (regenerate with
`attachpath demo --out reports/demo`).
"""

import contextlib
import io
import json
import math
import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from attachpath.cli import main
from attachpath.demo import ALTERNATIVES, MAIN, MULTILEVEL

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "reports" / "demo"
TOL = 1e-9

pytestmark = pytest.mark.slow


def _run(out: Path):
    err, outbuf = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(outbuf):
        code = main(["demo", "--out", str(out)])
    return code, outbuf.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "attachpath-demo"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    (out / "report.html").write_text("stale")
    code, stdout, stderr = _run(out)
    return out, code, stdout, stderr


def test_demo_runs_and_reports_progress(demo):
    out, code, stdout, stderr = demo
    assert code == 0, stderr
    steps = re.findall(r"^\[(\d)/6\] .+ \.\.\.$", stderr, flags=re.M)
    assert steps == ["1", "2", "3", "4", "5", "6"]
    assert "[1/6] preparing client scores" in stderr
    assert "[3/6] fitting the multilevel model twolevel_serial_esat_anx" in stderr
    assert "report.html" in stdout and "serial_esat_anx:" in stdout
    assert "twolevel_serial_esat_anx (session rows, therapist/client):" in stdout


def test_demo_files(demo):
    out, *_ = demo
    expected = ["report.html", "report.md", "data/sessions.csv", "data/clients.csv",
                "data/sessions_esat.csv", "specs/twolevel_serial_esat_anx.lav",
                "comparison/comparison.csv", "comparison/tests.csv",
                "comparison/information.csv", "comparison/effects.csv"]
    expected += [f"models/{n}/{f}" for n in MAIN + (MULTILEVEL,)
                 for f in ("estimates.csv", "fit.json", "diagram.svg", "diagram.dot")]
    expected += [f"comparison/{n}/{f}" for n in ALTERNATIVES
                 for f in ("estimates.csv", "fit.json", "diagram.svg")]
    from attachpath.diagram import dot_binary
    if dot_binary():        # the showcase keeps its PNGs (fit and compare: with --png)
        expected += [f"models/{n}/diagram.png" for n in MAIN + (MULTILEVEL,)]
        expected += [f"comparison/{n}/diagram.png" for n in ALTERNATIVES]
    missing = [f for f in expected if not (out / f).is_file()]
    assert not missing
    assert (out / "mine.txt").read_text() == "keep me"
    assert not list(out.rglob(".*.tmp"))
    bundled = resources.files("attachpath.datasets").joinpath("example_sessions.csv").read_bytes()
    assert (out / "data" / "sessions.csv").read_bytes() == bundled


def test_demo_clients_equal_attachpath_prepare(demo, tmp_path):
    out, *_ = demo
    target = tmp_path / "clients.csv"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["prepare", str(out / "data" / "sessions.csv"), "--client", "client",
                     "--therapist", "therapist", "--session", "session", "--esat",
                     "--out", str(target)])
    assert code == 0
    assert target.read_bytes() == (out / "data" / "clients.csv").read_bytes()


def test_demo_report_holds_everything(demo):
    out, *_ = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    for title in ("Intraclass correlations of the model variables by therapist",
                  "Fit of the alternative models", "Information criteria", "Nested-model tests",
                  "Pairs that are not nested", "Defined effects across models",
                  "Population values and the demo", "Parameter estimates of",
                  "Defined (indirect) effects in",
                  "Multilevel analysis: sessions in clients in therapists",
                  "Intraclass correlations at both levels",
                  "What changes between the client-means and the multilevel analysis",
                  "Client means and the multilevel analysis, side by side"):
        assert title in html, title
    # one inline diagram per main model, per alternative in the grid and per
    # alternative's own section (serial_esat_anx is the main model)
    n_svg = len(re.findall(r"<svg\b", html))
    assert n_svg == len(MAIN) + 1 + len(ALTERNATIVES) + len([a for a in ALTERNATIVES
                                                             if a not in MAIN])
    assert "<script" not in html.lower() and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "").replace('"http://www.w3.org/1999/xlink"', "")
    assert "Monte Carlo (20000 draws" in html
    md = (out / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(<([^>]+)>\)", md)
    assert len(links) == n_svg
    assert all((out / link).is_file() for link in links)


def test_demo_twice_into_the_same_folder(demo):
    out, *_ = demo
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.csv")}
    code, _, stderr = _run(out)
    assert code == 0, stderr
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.csv")}
    assert before == after
    assert (out / "mine.txt").read_text() == "keep me"


def test_demo_refuses_a_file_as_out(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["demo", "--out", str(target), "--quiet"]) == 2
    assert "existing file" in err.getvalue() and target.read_text() == "x"


# -- the committed reports cannot drift from the code ----------------------------------

def _numbers_equal(a, b, where=""):
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            if k in ("source", "data_source", "versions", "spec_file"):
                continue          # paths and package versions, not numbers
            if k in ("data_sha256", "data_file_sha256"):
                continue          # hashes of float data: their last bits vary by machine
            _numbers_equal(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _numbers_equal(x, y, f"{where}[{i}]")
    elif isinstance(a, (int, float)) and not isinstance(a, bool):
        assert isinstance(b, (int, float)), where
        assert math.isclose(a, b, rel_tol=TOL, abs_tol=TOL), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _committed_files(root: Path = COMMITTED):
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root) for p in root.rglob("*")
                  if p.suffix in (".csv", ".json") and p.parent.name != "data")


def _csv_numbers_equal(old: Path, new: Path, rel) -> None:
    a, b = pd.read_csv(old), pd.read_csv(new)
    assert list(a.columns) == list(b.columns), rel
    assert a.shape == b.shape, rel
    for col in a.columns:
        if pd.api.types.is_numeric_dtype(a[col]):
            pd.testing.assert_series_equal(a[col].astype(float), b[col].astype(float),
                                           rtol=TOL, atol=TOL, obj=f"{rel}:{col}")
        else:
            assert a[col].fillna("").tolist() == b[col].fillna("").tolist(), f"{rel}:{col}"


def assert_same_numbers(committed: Path, out: Path) -> None:
    """The two demo folders hold the same numbers within TOL: floats are
    compared with a tolerance, never by their last digits or a hash of them
    (they differ between machines, e.g. 0.005765366770024 vs 0.00576536677002401)."""
    files = _committed_files(committed)
    fresh = sorted(p.relative_to(out) for p in out.rglob("*")
                   if p.suffix in (".csv", ".json") and p.parent.name != "data")
    assert files == fresh, "regenerate with: attachpath demo --out reports/demo"
    for rel in files:
        old, new = committed / rel, out / rel
        if rel.suffix == ".json":
            _numbers_equal(json.loads(old.read_text()), json.loads(new.read_text()), str(rel))
        else:
            _csv_numbers_equal(old, new, rel)
    # the data the reports were made from are the bundled example
    _csv_numbers_equal(committed / "data" / "clients.csv", out / "data" / "clients.csv",
                       "data/clients.csv")


@pytest.mark.skipif(not COMMITTED.is_dir(), reason="no reports/demo in this checkout")
def test_committed_reports_match_the_code(demo):
    out, *_ = demo
    assert {str(f) for f in _committed_files(COMMITTED)} >= {
        "comparison/comparison.csv", "models/serial_esat_anx/estimates.csv",
        "models/serial_esat_anx/fit.json"}
    assert_same_numbers(COMMITTED, out)


def test_report_comparison_ignores_last_digits_but_not_real_changes(demo, tmp_path):
    """Another machine's demo: the client scores differ in the 16th digit, so
    do the hashes of the data in fit.json; the numbers are still the same."""
    import shutil
    out, *_ = demo
    other = tmp_path / "other"
    shutil.copytree(out, other)
    clients = pd.read_csv(other / "data" / "clients.csv")
    numeric = clients.select_dtypes("float").columns
    clients[numeric] = clients[numeric] * (1 + 3e-16)
    clients.to_csv(other / "data" / "clients.csv", index=False, float_format="%.17g")
    for fit_json in other.rglob("fit.json"):
        fit = json.loads(fit_json.read_text())
        fit["provenance"]["data_sha256"] = fit["provenance"]["data_file_sha256"] = "0" * 64
        fit_json.write_text(json.dumps(fit, indent=2))
    assert_same_numbers(out, other)
    clients[numeric[0]] += 1e-4                     # a real change is still caught
    clients.to_csv(other / "data" / "clients.csv", index=False)
    with pytest.raises(AssertionError):
        assert_same_numbers(out, other)


def _files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_interrupted_demo_leaves_the_previous_folder_as_it_was(demo, tmp_path, monkeypatch):
    """Issue 17.10: Ctrl-C in the report step had already replaced the model
    folders; the demo now writes its folder as one set."""
    import shutil
    from attachpath.report import demo_report
    out, *_ = demo
    previous = tmp_path / "previous"
    shutil.copytree(out, previous)
    before = _files(previous)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(demo_report, "demo_report", interrupted)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--out", str(previous), "--quiet"]) == 130
    assert "not written" in err.getvalue()
    assert _files(previous) == before


def test_demo_multilevel_section(demo):
    """The multilevel section: the two-level figure (dots, latent between
    parts, bold indirect paths) and the comparison made from the two fits."""
    import xml.etree.ElementTree as ET
    out, *_ = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    sec = html[html.index('<h2 id="multilevel"'):]
    sec = sec[:sec.index("<h2 ", 10)]
    svgs = re.findall(r"<svg\b.*?</svg>", sec, flags=re.S)
    assert len(svgs) == 1
    fig = ET.fromstring(svgs[0])
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert len(fig.findall(".//s:circle[@class='random-intercept']", ns)) == 3
    assert len(fig.findall(".//s:g[@data-level='2']/s:ellipse", ns)) == 3
    assert any("highlighted" in (g.get("class") or "") for g in fig.iterfind(".//s:g", ns))
    # the comparison table's rows: one per shared path and effect, each with a conclusion
    client = json.loads((out / "models" / "serial_esat_anx" / "fit.json").read_text())
    multi = json.loads((out / "models" / MULTILEVEL / "fit.json").read_text())
    assert multi["data"]["therapist"]["n"] == 44
    conclusions = re.findall(r"<td class=\"left\">(holds|changes)[^<]*</td>", sec)
    assert len(conclusions) == 13
    est = pd.read_csv(out / "models" / MULTILEVEL / "estimates.csv")
    b_ge = est[(est["label"] == "b_ge")].iloc[0]
    assert f"{b_ge['est']:.3f}".replace("-", "\u2212") in sec
    assert client["ntotal"] == 330
    md = (out / "report.md").read_text(encoding="utf-8")
    assert f"](<models/{MULTILEVEL}/diagram.svg>)" in md
