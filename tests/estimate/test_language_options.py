"""lavaan's model-language idioms and options against lavaan 0.6-14 (issue 16).

Fixtures: tests/reference/language/*.json, written by
tests/reference/make_reference_language.R (no R needed here).

* a factor with free loadings and its variance fixed at 1
  (`F =~ NA*x1 + x2 + x3; F ~~ 1*F`) inside a structural model: paths from
  and to F, and observed variables regressed on F, which made semopy's
  start-value routine loop forever;
* std_lv=True (lavaan's std.lv=TRUE) and orthogonal=True.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.cli import main

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = ["pd_na_from", "pd_na_to", "hs_na_observed", "hs_na_covariate", "hs_na_two_factors",
         "hs_na_observed_between", "hs_na_second_order", "pd_std_lv", "hs_std_lv",
         "hs_orthogonal", "hs_std_lv_orthogonal"]


def load(case):
    c = json.loads((REF / "language" / f"{case}.json").read_text())
    return c, pd.read_csv(REF / c["data"])


def options(c):
    return dict(std_lv=bool(c["call"].get("std.lv")),
                orthogonal=bool(c["call"].get("orthogonal")))


class _Timeout(Exception):
    pass


def _fit_bounded(spec, data, seconds=120, **kw):
    """A fit that fails the test instead of hanging it (SIGALRM interrupts
    semopy's Python loop)."""
    def handler(signum, frame):
        raise _Timeout(f"the fit did not finish in {seconds} s")
    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        return ap.fit(spec, data, **kw)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


_cache: dict = {}


def fitted(case):
    if case not in _cache:
        c, data = load(case)
        _cache[case] = (c, _fit_bounded(c["model"], data, **options(c)))
    return _cache[case]


@pytest.mark.parametrize("case", CASES)
def test_fits_and_matches_lavaan(case):
    c, res = fitted(case)
    ref = pd.DataFrame(c["estimates"])
    free = ref[ref["free"] > 0]
    key = lambda d: d["lhs"] + d["op"] + d["rhs"].fillna("").astype(str)  # noqa: E731
    ours = res.estimates[res.estimates["op"] != ":="]
    ours = ours[ours["se"] > 0]                     # the free rows (fixed ones: se 0)
    m = ours.assign(key=key(ours)).merge(free.assign(key=key(free)), on="key",
                                         suffixes=("", "_lav"))
    assert len(m) == len(free) == res.fit["npar"] == c["npar"]
    assert res.fit["df"] == c["fit"]["df"]
    assert abs(res.fit["chisq"] - c["fit"]["chisq"]) < 1e-6 * max(1.0, c["fit"]["chisq"])  # 1e-6 rel
    assert np.max(np.abs(m["est"] - m["est_lav"])) < 1e-4                        # 1e-4 absolute
    assert np.max(np.abs(m["se"] / m["se_lav"] - 1)) < 5e-4                      # 0.05% relative


@pytest.mark.parametrize("case", ["pd_std_lv", "hs_std_lv_orthogonal"])
def test_option_fixes_rows_as_lavaan(case):
    """Which rows std_lv / orthogonal fix, and at what value, is lavaan's table."""
    c, res = fitted(case)
    ref = pd.DataFrame(c["estimates"])
    fixed_lav = {(r.lhs, r.op, r.rhs): r.est for r in ref.itertuples()
                 if r.free == 0 and r.op in ("=~", "~~", "~") and not r.exo}
    fixed_ours = {(r.lhs, r.op, r.rhs): r.value for r in res.partable.rows
                  if not r.free and r.op in ("=~", "~~", "~") and not r.exo}
    assert fixed_ours == fixed_lav


def test_std_lv_and_orthogonal_on_the_command_line(tmp_path, capsys):
    c, data = load("hs_std_lv_orthogonal")
    spec = tmp_path / "cfa.lav"
    spec.write_text(c["model"])
    csv = tmp_path / "hs.csv"
    data.to_csv(csv, index=False)
    assert main(["fit", str(spec), "--data", str(csv), "--std-lv", "--orthogonal",
                 "--out", str(tmp_path / "out")]) == 0
    out = pd.read_csv(tmp_path / "out" / "estimates.csv")
    ref = pd.DataFrame(c["estimates"])
    lam = ref[(ref["lhs"] == "visual") & (ref["rhs"] == "x1")]["est"].item()
    got = out[(out["lhs"] == "visual") & (out["op"] == "=~") & (out["rhs"] == "x1")]["est"]
    assert abs(got.item() - lam) < 1e-4                                          # 1e-4 absolute
    fit = json.loads((tmp_path / "out" / "fit.json").read_text())
    assert fit["df"] == c["fit"]["df"]
    assert fit["provenance"]["options"]["std_lv"] is True
    assert fit["provenance"]["options"]["orthogonal"] is True
    capsys.readouterr()


@pytest.mark.parametrize("case", ["pd_sem", "hs_cfa", "hs_mimic", "pd_std_lv",
                                  "hs_orthogonal", "serial_misspec"])
def test_every_column_of_parameter_estimates_matches_lavaan(case):
    """parameterEstimates(standardized=TRUE): all rows (fixed ones with se 0
    and no z/p) and the std.lv, std.all and std.nox columns; hs_mimic and
    serial_misspec have covariates, where std.nox differs from std.all."""
    c, data = load(case)
    res = _fit_bounded(c["model"], data, **options(c))
    ref = pd.DataFrame(c["estimates"])
    key = lambda d: d["lhs"] + d["op"] + d["rhs"].fillna("").astype(str)  # noqa: E731
    assert list(key(res.estimates)) == list(key(ref))
    m = res.estimates.assign(key=key(res.estimates)).merge(ref.assign(key=key(ref)),
                                                           on="key", suffixes=("", "_lav"))
    for col, tol in (("est", 1e-4), ("se", 1e-5), ("ci.lower", 1e-4), ("ci.upper", 1e-4),
                     ("std.lv", 1e-4), ("std.all", 1e-4), ("std.nox", 1e-4),
                     ("z", 1e-3), ("pvalue", 1e-4)):
        a, b = m[col].astype(float), m[col + "_lav"].astype(float)
        assert (a.isna() == b.isna()).all(), col
        assert np.nanmax(np.abs(a - b)) < tol, col                               # absolute
    if case in ("hs_mimic", "serial_misspec"):
        assert np.nanmax(np.abs(m["std.nox"] - m["std.all"])) > 0.01


def test_compare_and_check_take_the_options():
    """compare(std_lv=, orthogonal=) fits every spec with them: the CFA with
    and without its factor covariances under std.lv, as lavaan's hs_std_lv
    and hs_std_lv_orthogonal; check() builds the same table as fit."""
    c1, data = load("hs_std_lv")
    c0, _ = load("hs_std_lv_orthogonal")
    cmp = ap.compare({"oblique": c1["model"], "orthogonal": c1["model"] + "\n"
                      "visual ~~ 0*textual + 0*speed\ntextual ~~ 0*speed"}, data, std_lv=True)
    for name, c in (("oblique", c1), ("orthogonal", c0)):
        res = cmp.results[name]
        assert abs(res.fit["chisq"] - c["fit"]["chisq"]) < 1e-6 * c["fit"]["chisq"]  # 1e-6 rel
        assert all(r.value == 1.0 and not r.free for r in res.partable.rows
                   if r.op == "~~" and r.lhs == r.rhs and r.lhs in res.partable.latent)
    pt = ap.fitting.check(c0["model"], data, std_lv=True, orthogonal=True)
    assert pt.npar == c0["npar"]
    assert pt.rows == fitted("hs_std_lv_orthogonal")[1].partable.rows
