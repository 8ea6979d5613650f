"""Studentized (bootstrap-t) intervals of single-level bootstraps: every
draw is refitted and carries the sandwich SEs that se="robust" reports
(cluster-robust with clusters, per case without); the interval formula and
the two-level draws are tested in test_twolevel_bootstrap.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.effects import Defined
from attachpath.estimate import bootstrap as boot

ROOT = Path(__file__).resolve().parents[2]
SPEC = (ROOT / "specs" / "serial_esat_anx.lav").read_text()
DATA = ROOT / "tests" / "reference" / "data" / "example_clients.csv"


def clients():
    return pd.read_csv(DATA)


@pytest.mark.parametrize("cluster", ["therapist", None])
def test_a_studentized_draw_carries_the_robust_ses_of_its_own_fit(cluster):
    """The draw's SEs are those of fit(se="robust") on the drawn rows, each
    drawn therapist (a repeat too) a cluster of its own (1e-6: both are
    closed-form fits of the same rows)."""
    frame = clients()
    res = ap.fit(SPEC, frame, cluster=cluster, se="robust")
    X = frame[list(res.partable.observed)].to_numpy(float)
    codes = pd.factorize(frame["therapist"])[0] if cluster else None
    defined = Defined.from_partable(res.partable)
    draw, _ = boot.replicates(res.partable, res.likelihood.ram, X, res.theta,
                              clusters=codes, n=1, seed=5, studentize=defined)
    k = len(res.theta)
    assert draw.shape == (1, 2 * k + len(defined))
    again = ap.fit(SPEC, _drawn_rows(frame, codes, seed=5), cluster=cluster, se="robust")
    _assert_draw_is_fit(draw[0], again, rtol=1e-6, atol=1e-9)


def _drawn_rows(frame, codes, seed):
    """The rows of bootstrap draw 0 of `seed` rebuilt from the frame, each
    drawn unit (therapist or case; a repeat too) a therapist of its own."""
    units = boot._units(len(frame), codes)
    pick = np.random.default_rng(seed).integers(0, len(units), len(units))
    parts = [frame.iloc[units[u]].assign(therapist=j) for j, u in enumerate(pick)]
    return pd.concat(parts, ignore_index=True)


def _assert_draw_is_fit(row, fit, rtol, atol):
    """A studentized draw's row [θ*, SEs of θ*, SEs of the := parameters]
    equals the estimates and robust SEs of `fit`."""
    k = len(fit.theta)
    np.testing.assert_allclose(row[:k], fit.theta, rtol=rtol, atol=atol)
    np.testing.assert_allclose(row[k:2 * k], np.sqrt(np.diag(fit.vcov.to_numpy())), rtol=rtol)
    d = fit.estimates[fit.estimates["op"] == ":="]["se"].to_numpy()
    np.testing.assert_allclose(row[2 * k:], d, rtol=rtol)


def test_studentized_cluster_bootstrap_fit():
    """Same seed, same bytes; the SEs are the draws' SD as with percentile
    intervals of the same draws (the closed form and the refits agree), the
    intervals differ and contain the estimates."""
    kw = dict(cluster="therapist", se="bootstrap", bootstrap=30, seed=2, progress=False)
    s1 = ap.fit(SPEC, clients(), boot_ci="studentized", **kw)
    s2 = ap.fit(SPEC, clients(), boot_ci="studentized", **kw)
    p = ap.fit(SPEC, clients(), **kw)
    assert s1.estimates.to_csv() == s2.estimates.to_csv()
    np.testing.assert_allclose(s1.estimates["se"], p.estimates["se"], rtol=1e-6)
    free = s1.estimates["se"] > 0
    assert not np.allclose(s1.estimates["ci.lower"][free], p.estimates["ci.lower"][free])
    e = s1.estimates
    assert ((e["ci.lower"] <= e["est"]) & (e["est"] <= e["ci.upper"])).all()
    assert "studentized bootstrap" in s1.ci["defined"]


def test_cli_studentized_single_level(tmp_path):
    import contextlib
    import io

    from attachpath.cli import main
    out = tmp_path / "out"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["fit", str(ROOT / "specs" / "serial_esat_anx.lav"), "--data", str(DATA),
                     "--cluster", "therapist", "--se", "bootstrap", "--bootstrap", "20",
                     "--boot-ci", "studentized", "--seed", "1", "--out", str(out), "--quiet"])
    assert code == 0, err.getvalue()
    fit = json.loads((out / "fit.json").read_text())
    assert fit["bootstrap"]["interval"] == "studentized"
    assert fit["bootstrap"]["unit"] == "cluster"


def test_an_unknown_interval_lists_the_valid_ones():
    from attachpath.errors import OptionError
    with pytest.raises(OptionError, match="'percentile', 'bca' or 'studentized', not 'basic'"):
        ap.fit(SPEC, clients(), se="bootstrap", bootstrap=10, boot_ci="basic")


def test_parallel_studentized_draws_equal_serial_ones():
    """100 draws go to two worker processes; each row equals the serial refit."""
    frame = clients()
    res = ap.fit(SPEC, frame, cluster="therapist", se="robust")
    X = frame[list(res.partable.observed)].to_numpy(float)
    codes = pd.factorize(frame["therapist"])[0]
    defined = Defined.from_partable(res.partable)
    pt, ram = res.partable, res.likelihood.ram
    both, _ = boot.replicates(pt, ram, X, res.theta, clusters=codes, n=100, seed=9,
                              studentize=defined)
    units = boot._units(len(X), codes)
    picks = np.random.default_rng(9).integers(0, len(units), size=(100, len(units)))
    serial, _ = boot._refit_many(pt, ram, X, res.theta, units, picks[[0, 57, 99]],
                                 studentize=defined, clustered=True)
    np.testing.assert_array_equal(both[[0, 57, 99]], serial)


def test_a_studentized_fiml_draw_carries_the_robust_ses_of_its_own_fit():
    """Incomplete rows: the draw is refitted by FIML and its SEs are those of
    fit(missing="fiml", se="robust") on the drawn rows, each drawn therapist
    a cluster of its own (1e-5: both are Newton/scoring fits to 1e-6)."""
    spec = "cats_secure ~ a*ecr_anx\ntds_ge ~ b*cats_secure\niip_post ~ c*tds_ge\nabc := a*b*c\n"
    frame = pd.read_csv(ROOT / "tests" / "reference" / "data" / "clients_missing.csv")
    frame = frame.dropna(subset=["ecr_anx"]).reset_index(drop=True)    # as the fit drops them
    res = ap.fit(spec, frame, cluster="therapist", se="robust", missing="fiml")
    X = res.likelihood.data.X
    codes = pd.factorize(frame["therapist"])[0]
    assert len(X) == len(frame) and np.isnan(X).any()
    defined = Defined.from_partable(res.partable)
    draw, _ = boot.replicates(res.partable, res.likelihood.ram, X, res.theta,
                              clusters=codes, n=1, seed=3, fiml=True, studentize=defined)
    again = ap.fit(spec, _drawn_rows(frame, codes, seed=3), cluster="therapist",
                   se="robust", missing="fiml")
    _assert_draw_is_fit(draw[0], again, rtol=1e-5, atol=1e-8)


def test_the_cli_offers_the_intervals_the_bootstrap_has():
    import argparse

    from attachpath.cli.options import add_fit_options
    p = argparse.ArgumentParser()
    add_fit_options(p)
    choices = next(a.choices for a in p._actions if a.dest == "boot_ci")
    assert tuple(choices) == boot.INTERVALS
