"""A FIFO, a device or a symlink to one as data or spec (issue 17.13): a
clear message and exit 2 at once, never a hang or a memory blow-up.  Run in
a subprocess with a timeout so that a regression fails instead of hanging."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from reliability_support import SPECS

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"),
                                reason="needs FIFOs and /dev/zero")


def attachpath(*args, cwd):
    proc = subprocess.run([sys.executable, "-m", "attachpath.cli", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stderr


@pytest.fixture
def folder(tmp_path, previous_run):
    shutil.copy(previous_run / "clients.csv", tmp_path / "clients.csv")
    shutil.copy(SPECS / "serial_esat_anx.lav", tmp_path / "m.lav")
    os.mkfifo(tmp_path / "pipe.csv")
    os.mkfifo(tmp_path / "pipe.lav")
    os.symlink("/dev/zero", tmp_path / "zero.csv")
    return tmp_path


@pytest.mark.parametrize("argv, culprit, kind", [
    (["fit", "pipe.lav", "--data", "clients.csv"], "pipe.lav", "named pipe"),
    (["fit", "m.lav", "--data", "pipe.csv"], "pipe.csv", "named pipe"),
    (["prepare", "zero.csv", "--out", "c.csv"], "zero.csv", "device"),
])
def test_special_files_are_refused_at_once(folder, argv, culprit, kind):
    code, err = attachpath(*argv, cwd=folder)
    assert code == 2
    assert f"'{culprit}' is a {kind}" in err and "not a regular file" in err
    assert "Traceback" not in err
