"""scripts/coverage_study.py (issue 13, check c): its core on a handful of
replicates, in this process, so CI exercises what the full study runs."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cs():
    spec = importlib.util.spec_from_file_location("coverage_study",
                                                  ROOT / "scripts" / "coverage_study.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def study(cs, tmp_path_factory):
    out = tmp_path_factory.mktemp("coverage")
    df = cs.run_all(reps=3, boot=9, seed=5, workers=0, chunk=1, out=out, progress=False,
                    boot_reps=2)
    return out, df


def test_every_method_gives_an_interval_around_its_estimate(cs, study):
    _, df = study
    assert list(df["rep"]) == [0, 1, 2]
    assert (df["failed"] == "").all()
    for m in cs.METHODS:
        # the bootstrap only on the first boot_reps = 2 replicates
        rows = df.iloc[:2] if m.startswith("therapist_boot") else df
        assert f"{m}.abc.lo" in df
        for p in cs.method_params(m):
            est, se = rows[f"{m}.{p}.est"], rows[f"{m}.{p}.se"]
            lo, hi = rows[f"{m}.{p}.lo"], rows[f"{m}.{p}.hi"]
            assert np.all(np.isfinite(est)) and np.all(se > 0), (m, p)
            assert np.all(lo < est) and np.all(est < hi), (m, p)
    assert df.loc[2, "therapist_boot.abc.lo"] != df.loc[2, "therapist_boot.abc.lo"]  # NaN
    # the two-level methods share the estimates of one fit
    for m in ("twolevel_mlr", "therapist", "therapist_t", "therapist_cr2"):
        assert np.array_equal(df[f"{m}.b.est"], df["twolevel_ml.b.est"])
    # Monte Carlo methods give intervals for the := effects only
    assert cs.method_params("therapist_mc") == ("ab", "abc") and "therapist_mc.a.lo" not in df
    assert np.array_equal(df["therapist_boot.b.est"][:2], df["twolevel_ml.b.est"][:2])
    # t(G−1) intervals: the therapist SE with a wider quantile (G = 44)
    ratio = ((df["therapist_t.a.hi"] - df["therapist_t.a.lo"])
             / (df["therapist.a.hi"] - df["therapist.a.lo"]))
    assert np.allclose(ratio, stats.t.ppf(0.975, 43) / stats.norm.ppf(0.975), rtol=1e-12)
    ratio = ((df["therapist_cr2_t.c.hi"] - df["therapist_cr2_t.c.lo"])
             / (df["therapist_cr2.c.hi"] - df["therapist_cr2.c.lo"]))
    assert np.allclose(ratio, stats.t.ppf(0.975, 43) / stats.norm.ppf(0.975), rtol=1e-12)
    # CR2 is not CR1; multivariate-t Monte Carlo intervals are wider than normal ones
    assert not np.allclose(df["therapist_cr2.b.se"], df["therapist.b.se"], rtol=1e-3)
    for v in ("therapist", "therapist_cr2"):
        assert np.all(df[f"{v}_mc_t.abc.hi"] - df[f"{v}_mc_t.abc.lo"]
                      > df[f"{v}_mc.abc.hi"] - df[f"{v}_mc.abc.lo"])
    # the therapist correction changes the SEs (therapist ICC 0.15)
    assert not np.allclose(df["therapist.b.se"], df["twolevel_mlr.b.se"], rtol=1e-3)
    assert list(df["boot_failed"][:2]) == [0, 0]


def test_monte_carlo_arms_are_the_packages_intervals(cs, study):
    """The therapist MC arm is read from ap.fit(mc_draws=...); it equals
    montecarlo.intervals on the fit's therapist vcov, and the uncorrected
    MLR arm equals ap.fit(cluster="client", mc_draws=...) on the same data."""
    import attachpath as ap
    from attachpath.effects import Defined
    from attachpath.estimate import montecarlo
    from attachpath.simulate import simulate
    _, df = study
    row = df.iloc[0]
    sessions = simulate(seed=int(row["data_seed"]), **cs.DESIGN).sessions
    kw = dict(se="robust", mc_draws=cs.MC_DRAWS, seed=int(row["mc_seed"]))
    res = ap.fit(cs.MODEL, sessions, cluster="therapist/client", **kw)
    mc = montecarlo.intervals(Defined.from_partable(res.partable), res.theta,
                              res.vcov.to_numpy(), n=cs.MC_DRAWS, seed=int(row["mc_seed"]))
    mlr = ap.fit(cs.MODEL, sessions, cluster="client", **kw).estimates.set_index("lhs")
    for i, p in enumerate(cs.DEFINED):
        assert (row[f"therapist_mc.{p}.lo"], row[f"therapist_mc.{p}.hi"]) == pytest.approx(
            mc[i], rel=1e-12)
        assert row[f"twolevel_mlr_mc.{p}.lo"] == pytest.approx(mlr.loc[p, "ci.lower"], rel=1e-9)
        assert row[f"twolevel_mlr_mc.{p}.hi"] == pytest.approx(mlr.loc[p, "ci.upper"], rel=1e-9)


def test_replicates_do_not_depend_on_chunking_and_saved_chunks_are_reused(cs, study,
                                                                          monkeypatch):
    out, df = study
    one = cs.run_chunk(5, 3, 1, 2, 9)[0]
    row = df[df["rep"] == 1].iloc[0]
    for k in ("therapist_boot.abc.lo", "client_mlr.c.est", "twolevel_ml.a.se"):
        assert one[k] == row[k]
    assert one["data_seed"] != df[df["rep"] == 0].iloc[0]["data_seed"]

    real = cs.replicate

    def only_rep_2(seed, reps, r, boot, dsg):
        assert r == 2, "a saved chunk was recomputed"
        return real(seed, reps, r, boot, dsg)
    monkeypatch.setattr(cs, "replicate", only_rep_2)
    again = cs.run_all(reps=3, boot=9, seed=5, workers=0, chunk=1, out=out, progress=False,
                       boot_reps=2)
    assert again.equals(df)
    # more bootstrapped replicates later: only the chunk that lacks it is redone,
    # with the same data and fits
    more = cs.run_all(reps=3, boot=9, seed=5, workers=0, chunk=1, out=out, progress=False,
                      boot_reps=3)
    assert np.isfinite(more.loc[2, "therapist_boot.abc.lo"])
    assert more.loc[2, "twolevel_ml.c.se"] == df.loc[2, "twolevel_ml.c.se"]
    assert more.drop(columns=[c for c in more if c.startswith("therapist_boot")]
                     + ["boot_failed"]).equals(df.drop(columns=[c for c in df if
                                                                c.startswith("therapist_boot")]
                                                       + ["boot_failed"]))


def test_summary_has_coverage_with_monte_carlo_se(cs, study):
    _, df = study
    target = cs.truth()
    assert target["abc"] == pytest.approx(target["a"] * target["b"] * target["c"], rel=1e-12)
    assert target["ab"] == pytest.approx(target["a"] * target["b"], rel=1e-12)
    table = cs.summarize(df, target, dict(target))
    assert set(table["method"]) == set(cs.LABELS.values())
    assert len(table) == sum(len(cs.method_params(m)) for m in cs.METHODS) + len(cs.PARAMS)
    for _, r in table.iterrows():
        n = 2 if r["method"] in (cs.LABELS["therapist_boot"], cs.LABELS["therapist_boot_t"]) else 3
        assert 0 <= r["coverage"] <= 1 and r["n"] == n
        assert r["coverage_mcse"] == pytest.approx(math.sqrt(r["coverage"] * (1 - r["coverage"]) / n))
        assert r["below"] + r["above"] + r["coverage"] == pytest.approx(1.0)
    for _, r in table.iterrows():
        assert r["mean_width"] > 0 and r["sd_est"] > 0
    ml_b = table[(table["method"] == cs.LABELS["twolevel_ml"]) & (table["param"] == "b")].iloc[0]
    covered = ((df["twolevel_ml.b.lo"] <= target["b"]) & (target["b"] <= df["twolevel_ml.b.hi"]))
    assert ml_b["coverage"] == covered.mean()
    assert ml_b["bias"] == pytest.approx(df["twolevel_ml.b.est"].mean() - target["b"])


def test_the_ecr_arm_has_other_data_and_the_same_targets(cs, tmp_path, monkeypatch):
    """--therapist-icc-ecr 0.15: the second arm.  Its chunks are not those of
    the first arm (another manifest), its replicates simulate ECR with
    therapist variance, and the targets are the same marginal paths."""
    dsg = cs.design(0.15)
    assert cs.design(0.0) == cs.DESIGN and dsg["therapist_icc_ecr"] == 0.15
    assert cs.truth(dsg) == cs.truth()
    seen = []
    import attachpath.simulate as sim_mod    # replicate() imports simulate from it
    orig = sim_mod.simulate

    def spy(**kw):
        seen.append(kw.get("therapist_icc_ecr", 0.0))
        return orig(**kw)
    monkeypatch.setattr(sim_mod, "simulate", spy)
    arm = cs.run_all(reps=2, boot=9, seed=5, workers=0, chunk=1, out=tmp_path,
                     progress=False, boot_reps=0, dsg=dsg)
    assert seen == [0.15, 0.15]
    first = cs.run_all(reps=2, boot=9, seed=5, workers=0, chunk=1, out=tmp_path,
                       progress=False, boot_reps=0)
    assert seen == [0.15, 0.15, 0.0, 0.0], "the other arm's chunks were reused"
    # same seeds, other data: ECR differs, so path a's estimate differs
    assert (arm["twolevel_ml.a.est"] != first["twolevel_ml.a.est"]).all()
    assert (arm["failed"] == "").all()
