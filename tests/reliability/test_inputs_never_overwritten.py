"""No command writes over one of its inputs (issue 17.9): a data file named
like an output inside --out, a spec given as the diagram's --out, or
prepare's --out naming its sessions file are refused with exit 2 and every
file is left as it was."""

from __future__ import annotations

import os
import shutil

from reliability_support import assert_no_temp_files, assert_nothing_changed


def test_fit_refuses_to_replace_its_data_file(work):
    (work.path / "study").mkdir()
    shutil.copy(work.path / "clients.csv", work.path / "study" / "estimates.csv")
    before = work.snapshot()
    r = work.run("fit", "serial_esat_anx.lav", "--data", "study/estimates.csv", "--out", "study")
    assert r.code == 2
    assert "would overwrite the input" in r.err and "estimates.csv" in r.err
    assert_nothing_changed(before, work.snapshot())
    assert_no_temp_files(work.path)


def test_a_hard_link_to_the_input_is_the_input(work):
    (work.path / "study").mkdir()
    os.link(work.path / "clients.csv", work.path / "study" / "fit.json")
    before = work.snapshot()
    r = work.run("fit", "serial_esat_anx.lav", "--data", "clients.csv", "--out", "study")
    assert r.code == 2 and "would overwrite the input" in r.err
    assert_nothing_changed(before, work.snapshot())


def test_prepare_and_diagram_refuse_to_replace_their_inputs(work):
    before = work.snapshot()
    r = work.run("prepare", "sessions.csv", "--out", "sessions.csv")
    assert r.code == 2 and "input" in r.err and "sessions.csv" in r.err
    r = work.run("diagram", "serial_esat_anx.lav", "--out", "serial_esat_anx.svg")
    assert r.code == 0, r.err
    os.link(work.path / "serial_esat_anx.lav", work.path / "spec.svg")
    before = work.snapshot()
    r = work.run("diagram", "serial_esat_anx.lav", "--out", "spec.svg")
    assert r.code == 2 and "would overwrite the input 'serial_esat_anx.lav'" in r.err
    assert_nothing_changed(before, work.snapshot())
