"""What the light commands import: `--help` and `check` of a spec must not
pay for numpy, pandas, scipy or semopy (issue 19: at most 0.3 s CPU), and a
fit of a model the own-start path handles must not import semopy."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "pandas", "scipy", "semopy", "networkx", "matplotlib")


def imported_after(code: str) -> set[str]:
    probe = (f"import sys\n{code}\n"
             f"print('LOADED:', *(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("LOADED:"), out.stdout
    return set(last.split()[1:])


def test_help_imports_nothing_heavy():
    code = ("from attachpath.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert imported_after(code) == set()


def test_check_of_a_spec_imports_nothing_heavy():
    code = ("from attachpath.cli import main\n"
            f"main(['check', {str(ROOT / 'specs' / 'serial_esat_anx.lav')!r}])")
    assert imported_after(code) == set()


def test_diagram_of_a_spec_needs_no_numbers(tmp_path):
    """Drawing a spec (the edit-and-redraw loop) loads no numpy, pandas or
    networkx: only a fitted Result brings numbers (diagram.is_result)."""
    code = ("from attachpath.cli import main\n"
            f"main(['diagram', {str(ROOT / 'specs' / 'serial_esat_anx.lav')!r}, "
            f"'--out', {str(tmp_path / 'd.svg')!r}])")
    assert imported_after(code) == set()
    assert (tmp_path / "d.svg").read_text().startswith("<svg")


def test_latent_fit_without_semopy():
    code = ("import numpy as np, pandas as pd, attachpath as ap\n"
            "rng = np.random.default_rng(1)\n"
            "f = rng.standard_normal(300)\n"
            "d = pd.DataFrame({f'x{j}': l * f + rng.standard_normal(300) * 0.6\n"
            "                  for j, l in enumerate((1.0, 0.8, 0.7, 0.9))})\n"
            "res = ap.fit('F =~ x0 + x1 + x2 + x3', d)\n"
            "assert res.provenance['options']['estimation']['method'] == 'scoring'")
    assert "semopy" not in imported_after(code)


def test_fit_and_its_outputs_without_scipy_special():
    """A cluster-robust CLI fit with its tables needs no scipy.special (about
    1.1 G instructions to import): estimate/distributions.py has the few
    functions it uses."""
    code = ("import sys\nfrom attachpath.cli import main\n"
            f"main(['fit', {str(ROOT / 'specs' / 'serial_esat_anx.lav')!r}, '--data', "
            f"{str(ROOT / 'tests' / 'reference' / 'data' / 'example_clients.csv')!r}, "
            "'--cluster', 'therapist'])\n"
            "print('SPECIAL:', 'scipy.special' in sys.modules, 'scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert "SPECIAL: False False" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]


def _cli_fit_probe(env_threads: str | None) -> str:
    """Run a CLI fit in a fresh process; report the BLAS thread variable the
    process ended with, whether threadpoolctl was imported and the threads
    numpy's BLAS uses (from threadpoolctl, imported after the fit)."""
    import os
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")}
    if env_threads is not None:
        env["OPENBLAS_NUM_THREADS"] = env_threads
    code = ("import os, sys\nfrom attachpath.cli import main\n"
            f"main(['fit', {str(ROOT / 'specs' / 'serial_esat_anx.lav')!r}, '--data', "
            f"{str(ROOT / 'tests' / 'reference' / 'data' / 'example_clients.csv')!r}, "
            "'--cluster', 'therapist'])\n"
            "used = 'threadpoolctl' in sys.modules\n"
            "from threadpoolctl import threadpool_info\n"
            "n = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']\n"
            "print('THREADS:', os.environ.get('OPENBLAS_NUM_THREADS'), used, n)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env=env, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_cli_starts_blas_with_one_thread():
    """The command asks for one BLAS thread before numpy loads, so no thread
    pool starts and no threadpoolctl scan is needed inside the fit."""
    assert _cli_fit_probe(None) == "THREADS: 1 False [1]"


def test_cli_keeps_the_users_thread_choice():
    """A user's own OPENBLAS_NUM_THREADS stays; the fit then limits BLAS to
    one thread with threadpoolctl (and gives the user's setting back)."""
    line = _cli_fit_probe("2")
    assert line.startswith("THREADS: 2 True"), line


def _fit_loads(args: list[str]) -> set[str]:
    code = ("from attachpath.cli import main\n"
            f"assert main({args!r}) == 0")
    return imported_after(code) & {"pandas", "pyarrow", "networkx", "scipy", "semopy",
                                   "matplotlib"}


def test_fit_with_all_outputs_loads_no_pandas_networkx_or_scipy(tmp_path):
    """Issues 12 and 19: a CLI fit reads the CSV, fits, prints and writes
    estimates, fit.json, the diagram and the report without pandas (and
    pyarrow), networkx or scipy, whose imports cost more CPU than the fit."""
    spec = str(ROOT / "specs" / "serial_esat_anx.lav")
    data = str(ROOT / "tests" / "reference" / "data" / "example_clients.csv")
    loaded = _fit_loads(["fit", spec, "--data", data, "--cluster", "therapist",
                         "--out", str(tmp_path / "one")])
    assert loaded == set()
    assert (tmp_path / "one" / "report.html").stat().st_size > 0


def _two_level_case(tmp_path):
    """(spec file, data file) of the two-level lavaan fixture nomixed_twolevel_ml."""
    import json
    case = json.loads((ROOT / "tests" / "reference" / "twolevel" /
                       "nomixed_twolevel_ml.json").read_text())
    spec = tmp_path / "twolevel.lav"
    spec.write_text(case["model"])
    return spec, ROOT / "tests" / "reference" / case["data"]


def test_two_level_fit_with_all_outputs_loads_no_pandas_networkx_or_scipy(tmp_path):
    spec, data = _two_level_case(tmp_path)
    loaded = _fit_loads(["fit", str(spec), "--data", str(data), "--cluster",
                         "therapist/client", "--out", str(tmp_path / "two")])
    assert loaded == set()
    assert (tmp_path / "two" / "estimates.csv").read_text().startswith("lhs,op,rhs,block")


# what a single-level fit with --out must not load (issue 19: each is paid by
# every CLI fit otherwise); the two-level fit below shows that the check can fail
NOT_FOR_A_SINGLE_LEVEL_FIT = ("attachpath.estimate.twolevel", "attachpath.estimate.twolevel_missing",
                              "attachpath.estimate.fiml",
                              "statistics",     # distributions.norm_ppf: _statistics only
                              "numpy.random",   # identification: random.Random
                              # main builds the parser of the command it runs only
                              "attachpath.cli.demo", "attachpath.cli.power", "attachpath.demo")


def _attachpath_modules_after_fit(args: list[str]) -> set[str]:
    code = ("import sys\nfrom attachpath.cli import main\n"
            f"assert main({args!r}) == 0\n"
            "print('MODULES:', *sorted(m for m in sys.modules\n"
            "                          if m.startswith('attachpath')\n"
            "                          or m in ('statistics', 'numpy.random')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("MODULES:"), out.stdout
    return set(last.split()[1:])


def test_single_level_fit_out_loads_no_two_level_or_fiml_numerics(tmp_path):
    """estimate/likelihood.py imports twolevel, twolevel_missing and fiml on
    first use, so a complete-data single-level fit (the study's) never pays
    for them; nor for the statistics module (fractions, decimal) or
    numpy.random (the identification check draws with random.Random)."""
    spec = str(ROOT / "specs" / "serial_esat_anx.lav")
    data = str(ROOT / "tests" / "reference" / "data" / "example_clients.csv")
    loaded = _attachpath_modules_after_fit(["fit", spec, "--data", data, "--cluster",
                                            "therapist", "--out", str(tmp_path / "one")])
    assert "attachpath.estimate.likelihood" in loaded          # the probe sees the fit's modules
    for module in NOT_FOR_A_SINGLE_LEVEL_FIT:
        assert module not in loaded, module


def test_the_lazy_modules_load_where_they_are_needed(tmp_path):
    """A two-level fit loads twolevel; a fit of incomplete data loads fiml."""
    spec, data = _two_level_case(tmp_path)
    two = _attachpath_modules_after_fit(["fit", str(spec), "--data", str(data), "--cluster",
                                         "therapist/client"])
    assert "attachpath.estimate.twolevel" in two
    holes = tmp_path / "holes.csv"
    lines = (ROOT / "tests" / "reference" / "data" / "example_clients.csv").read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("esat_anx")
    rows = [r.split(",") for r in lines[1:]]
    for r in rows[::7]:
        r[col] = ""
    holes.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    fiml = _attachpath_modules_after_fit(["fit", str(ROOT / "specs" / "serial_esat_anx.lav"),
                                          "--data", str(holes), "--missing", "fiml"])
    assert "attachpath.estimate.fiml" in fiml


def test_the_command_collects_cycles_less_often():
    """The CLI raises the collector's first threshold: importing a command's
    modules allocates some 300,000 objects that live as long as the process,
    and the default scanned them every 700 allocations (5% of a fit's CPU)."""
    code = ("import gc\nfrom attachpath.cli import main\n"
            f"main(['check', {str(ROOT / 'specs' / 'serial_esat_anx.lav')!r}])\n"
            "print('THRESHOLD:', *gc.get_threshold())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "THRESHOLD: 50000 10 10"
