"""Shared fixtures of the reliability tests: a user's working folder with the
bundled example, the study's specs and a previous run's outputs, and a way
to run the `attachpath` command in-process and check that a failure left
every file as it was."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from attachpath.cli import main
from reliability_support import SPECS, snapshot


@pytest.fixture(scope="session")
def example_clients():
    from attachpath.datasets import load_example_clients
    return load_example_clients()


@pytest.fixture(scope="session")
def previous_run(tmp_path_factory, example_clients):
    """A folder with clients.csv and the outputs of a successful earlier
    `attachpath fit` (estimates.csv, fit.json, ...), made once."""
    base = tmp_path_factory.mktemp("previous")
    example_clients.to_csv(base / "clients.csv", index=False)
    code = main(["fit", str(SPECS / "serial_esat_anx.lav"), "--data",
                 str(base / "clients.csv"), "--out", str(base / "res")])
    assert code == 0
    assert (base / "res" / "estimates.csv").is_file()
    return base


@dataclass
class Run:
    code: int
    out: str
    err: str


class Workdir:
    """A user's folder: clients.csv, sessions.csv, the specs, res/ from an
    earlier run, and helpers to write bad files and run the CLI here."""

    def __init__(self, path: Path, capsys, monkeypatch):
        self.path = path
        self._capsys = capsys
        monkeypatch.chdir(path)

    def write(self, name: str, content) -> str:
        p = self.path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return name

    def csv(self, name: str, frame) -> str:
        frame.to_csv(self.path / name, index=False)
        return name

    def run(self, *argv) -> Run:
        self._capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = self._capsys.readouterr()
        return Run(code, out, err)

    def snapshot(self) -> dict:
        return snapshot(self.path)


@pytest.fixture
def work(tmp_path, capsys, monkeypatch, previous_run, example_clients):
    from attachpath.datasets import example_path
    shutil.copy(previous_run / "clients.csv", tmp_path / "clients.csv")
    shutil.copytree(previous_run / "res", tmp_path / "res")
    shutil.copy(example_path(), tmp_path / "sessions.csv")
    for spec in SPECS.glob("*.lav"):
        shutil.copy(spec, tmp_path / spec.name)
    return Workdir(tmp_path, capsys, monkeypatch)
