"""Power studies on Dask: identical results whatever the workers, chunk size
or scheduler; resume after an interruption; Ctrl-C; a real `dask scheduler`
and `dask worker` started as separate processes.

Exact equality of the tables is the property under test here: every
replicate has its own seed and the sums are folded in replicate order, so
two runs on the same machine must agree to the last bit."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from attachpath.cli import main
from attachpath.power import power, runner

POP = "m ~ 0.3*a*x\ny ~ 0.25*b*m + 0*x\ny ~~ 0.8*y\nab := a*b"
KW = dict(n=[60, 120], reps=40, seed=11)


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("inproc")
    res = power(POP, workers=0, chunk_size=40, out=out, **KW)
    return res, out


def _same(a: pd.DataFrame, b: pd.DataFrame):
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                  check_exact=True)


def test_local_cluster_and_other_chunks_agree_with_the_in_process_run(in_process, tmp_path):
    # (two workers and a third chunk size: the separately started cluster below)
    ref, ref_out = in_process
    one = power(POP, workers=1, chunk_size=7, out=tmp_path / "one", **KW)
    assert one.provenance["workers"] == 1
    assert one.provenance["scheduler"].startswith("LocalCluster")
    _same(ref.table, one.table)
    assert (ref_out / "power.csv").read_bytes() == (tmp_path / "one" / "power.csv").read_bytes()
    assert ref.table["reps_used"].min() == 40


def test_resume_after_an_interruption(in_process, tmp_path, monkeypatch):
    ref, _ = in_process
    out = tmp_path / "study"
    real = runner.run_chunk

    def interrupted(study, d, start, stop):
        if d == 1 and start >= 10:
            raise KeyboardInterrupt
        return real(study, d, start, stop)

    monkeypatch.setattr(runner, "run_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        power(POP, workers=0, chunk_size=5, out=out, **KW)
    saved = sorted(p.name for p in (out / ".chunks").glob("*.npz"))
    assert len(saved) == 8 + 2            # design 0 whole, design 1 up to replicate 10
    assert not (out / "power.csv").exists()
    monkeypatch.setattr(runner, "run_chunk", real)
    calls = []
    monkeypatch.setattr(runner, "run_chunk",
                        lambda *a: calls.append(a[1:]) or real(*a))
    res = power(POP, workers=0, chunk_size=8, out=out, resume=True, **KW)
    assert res.provenance["resumed_replicates"] == 40 + 10
    assert calls == [(1, 10, 18), (1, 18, 26), (1, 26, 34), (1, 34, 40)]
    _same(ref.table, res.table)


def test_resume_refuses_chunks_of_another_study(in_process):
    _, out = in_process
    with pytest.raises(Exception, match="another study"):
        power(POP, workers=0, out=out, resume=True, n=[60, 120], reps=40, seed=12)


def test_ctrl_c_exits_130_and_keeps_finished_chunks(tmp_path, monkeypatch, capsys):
    real = runner.run_chunk

    def interrupted(study, d, start, stop):
        if start >= 20:
            raise KeyboardInterrupt
        return real(study, d, start, stop)

    monkeypatch.setattr(runner, "run_chunk", interrupted)
    pop = tmp_path / "pop.lav"
    pop.write_text(POP)
    code = main(["power", str(pop), "--n", "60", "--reps", "40", "--seed", "1",
                 "--workers", "0", "--chunk-size", "10", "--quiet", "--out",
                 str(tmp_path / "o")])
    assert code == 130
    assert "--resume" in capsys.readouterr().err
    assert len(list((tmp_path / "o" / ".chunks").glob("*.npz"))) == 2


@pytest.mark.parametrize("argv, culprit", [
    (["--reps", "10", "--seed", "1"], "Give the design"),
    (["--n", "2", "--reps", "10", "--seed", "1"], "at least 3"),
    (["--therapists", "10", "--reps", "10", "--seed", "1"], "clients_per_therapist"),
    (["--n", "50", "--reps", "10", "--seed", "1", "--icc", "1.5"], "icc"),
    (["--n", "50", "--reps", "1", "--seed", "1"], "reps"),
    (["--n", "50,x", "--reps", "10", "--seed", "1"], "50,x"),
])
def test_bad_input_exits_2_naming_the_culprit(tmp_path, capsys, argv, culprit):
    pop = tmp_path / "pop.lav"
    pop.write_text(POP)
    code = main(["power", str(pop), *argv, "--workers", "0", "--out", str(tmp_path / "o")])
    assert code == 2
    assert culprit in capsys.readouterr().err
    assert not (tmp_path / "o" / "power.csv").exists()


def test_analysis_with_a_variable_the_population_lacks_is_refused(tmp_path, capsys):
    pop = tmp_path / "pop.lav"
    pop.write_text(POP)
    code = main(["power", str(pop), "--analysis", "y ~ m + w", "--n", "50", "--reps", "5",
                 "--seed", "1", "--workers", "0", "--out", str(tmp_path / "o")])
    assert code == 2 and "w" in capsys.readouterr().err


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the scheduler exited with code {proc.returncode}")
        with contextlib.closing(socket.socket()) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"the scheduler did not listen on {port} within {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_a_separately_started_scheduler_and_workers_give_the_same_result(in_process, tmp_path):
    ref, ref_out = in_process
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    log = open(tmp_path / "dask.log", "w")
    procs = []
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", str(port), "--no-dashboard"], stdout=log, stderr=log, env=env))
        _wait_for_port(port, procs[0], timeout=60)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2",
             "--nthreads", "1", "--no-dashboard", "--memory-limit", "0"],
            stdout=log, stderr=log, env=env))
        pop = tmp_path / "pop.lav"
        pop.write_text(POP)
        code = main(["power", str(pop), "--n", "60,120", "--reps", "40", "--seed", "11",
                     "--chunk-size", "6", "--scheduler", address, "--quiet",
                     "--out", str(tmp_path / "remote")])
        assert code == 0, (tmp_path / "dask.log").read_text()[-3000:]
        remote = pd.read_csv(tmp_path / "remote" / "power.csv")
        assert remote.columns.tolist() == pd.read_csv(ref_out / "power.csv").columns.tolist()
        assert (tmp_path / "remote" / "power.csv").read_bytes() == \
            (ref_out / "power.csv").read_bytes()
        assert "127.0.0.1" in (tmp_path / "remote" / "report.html").read_text()
    finally:
        for p in reversed(procs):
            _stop(p)
        log.close()


def test_outputs_table_figure_and_report(in_process):
    res, out = in_process
    assert sorted(res.written) == ["power.csv", "power.png", "power.svg", "provenance.json",
                                   "report.html"]
    table = pd.read_csv(out / "power.csv")
    for col in ("lhs", "op", "rhs", "label", "n", "analysis", "power", "power_mcse",
                "coverage", "coverage_mcse", "bias", "rel_bias", "rmse", "mean_se", "sd_est",
                "se_ratio", "reps_used", "nonconverged"):
        assert col in table.columns, col
    # one row per design × analysis × reported parameter (5 free rows + 1 :=)
    assert len(table) == 2 * 6 and set(table.n) == {60, 120}
    assert (out / "power.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import xml.etree.ElementTree as ET
    ET.fromstring((out / "power.svg").read_text())
    html = (out / "report.html").read_text()
    assert "seed" in html and "11" in html and "distributed" in html and "<svg" in html
    assert not list(out.glob(".*.tmp"))


def test_the_lean_dask_settings_are_undone_and_keep_the_rest_of_the_config(tmp_path):
    # in a fresh process: the first LocalCluster run there imports distributed
    # inside runner; its dask.config settings must be undone afterwards without
    # dropping distributed's own defaults (a later Client needs them)
    code = (
        "import dask\n"
        "from attachpath.power import power\n"
        f"power({POP!r}, n=60, reps=4, seed=1, workers=1, chunk_size=2)\n"
        "assert dask.config.get('distributed.worker.profile.enabled') is True\n"
        "assert dask.config.get('distributed.client.direct-to-workers') is None\n"
        "from distributed import Client, LocalCluster\n"
        "with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as c, "
        "Client(c) as cl:\n"
        "    assert cl.submit(lambda: 7).result() == 7\n"
        "print('ok')\n")
    script = tmp_path / "fresh.py"
    script.write_text(f"if __name__ == '__main__':\n" +
                      "".join(f"    {line}\n" for line in code.splitlines()))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]
