"""Two-level populations and session designs in power studies: the
population's level moments, the client-means spec, the drawn session data
(the study simulator's caseloads and dropout), and the lean per-replicate
fits against attachpath.fit on the same data."""

import numpy as np
import pandas as pd
import pytest

import attachpath as ap
from attachpath.errors import AttachpathError
from attachpath.estimate.clusters import Clusters
from attachpath.estimate.likelihood import TwoLevelML
from attachpath.estimate.twolevel import TwoLevelData
from attachpath.power import SessionDesign, power
from attachpath.power.population import (analysis_partable, freed_spec, means_spec,
                                         population_of, true_values)
from attachpath.power.replicate import (Study, _prepared, fit_twolevel, replicate_rng,
                                        twolevel_values)
from attachpath.power.population import Analysis
from attachpath.cli import main  # noqa: E402
from attachpath.simulate import caseloads

SERIAL = "reports/power/population_twolevel_serial_esat_anx.lav"
SMALL = """level: 1
  y ~ 0.3*w*x
  x ~~ 0.5*x
level: 2
  y ~ 0*bz*z + 0.4*bx*x
  x ~~ 0.8*x
  z ~~ 0.2*x
ctx := bx - w
"""


def test_levels_hold_each_blocks_implied_moments():
    pop = population_of(SMALL)
    lv = pop.levels
    assert pop.multilevel and pop.sigma is None
    assert set(lv.within) == {"x", "y"} and set(lv.between) == {"x", "y", "z"}
    assert lv.role("z") == "between" and lv.role("x") == "both"
    iw = {v: i for i, v in enumerate(lv.within)}
    # within: var(x) 0.5, var(y) = 0.3² · 0.5 + 1 (unwritten residual variance 1)
    assert lv.sigma_w[iw["x"], iw["x"]] == pytest.approx(0.5)
    assert lv.sigma_w[iw["y"], iw["y"]] == pytest.approx(0.09 * 0.5 + 1)
    assert lv.sigma_w[iw["x"], iw["y"]] == pytest.approx(0.15)
    ib = {v: i for i, v in enumerate(lv.between)}
    # between: cov(y, x) = 0.4 · 0.8 + 0 · 0.2; var(z) 1 (unwritten)
    assert lv.sigma_b[ib["x"], ib["y"]] == pytest.approx(0.32)
    assert lv.sigma_b[ib["z"], ib["z"]] == pytest.approx(1.0)
    assert pop.value_of("y", "~", "x", 1) == pytest.approx(0.3)
    assert pop.value_of("y", "~", "x", 2) == pytest.approx(0.4)


def test_not_positive_definite_level_is_refused():
    with pytest.raises(AttachpathError, match="between"):
        population_of("level: 1\n y ~ 0.5*x\nlevel: 2\n y ~~ 1*y + 2*x\n x ~~ 1*x\n")


def test_means_spec_is_the_between_block_without_level_one_labels():
    text = means_spec(SMALL)
    assert "level" not in text
    assert "y ~ bz*z" in text and "y ~ bx*x" in text
    assert "ctx" not in text and "w*x" not in text        # uses the level-1 label w
    assert "x ~~ x" not in text                            # exogenous: fixed.x
    freed = freed_spec(SMALL)
    assert freed.splitlines()[0] == "level: 1" and "level: 2" in freed
    assert "ctx := bx - w" in freed.replace("bx-w", "bx - w")
    pt = analysis_partable(Analysis("means", text))
    _, truth = true_values(population_of(SMALL), pt)
    assert list(truth[:2]) == [0.0, 0.4]                   # the between values


def test_session_design_reuses_the_simulators_caseloads_and_dropout():
    d = SessionDesign(12, 5, 2, 10, icc=0.1)
    assert d.n == 60 and d.sessions == "2-10"
    assert np.array_equal(d.caseloads(np.random.default_rng(4)),
                          caseloads(np.random.default_rng(4), 12, 60, 1.0))
    pop = population_of(SMALL)
    lv = pop.levels
    chol = np.linalg.cholesky(lv.sigma_w), np.linalg.cholesky(lv.sigma_b)
    dr = d.draw(np.random.default_rng(9), lv, *chol, pop.observed)
    per_client = np.bincount(dr.client)
    assert len(per_client) == 60 and per_client.min() >= 2 and per_client.max() <= 10
    assert per_client.std() > 0                            # dropout: unbalanced
    assert np.all(np.diff(dr.client) >= 0)
    assert np.bincount(dr.therapist).min() >= 2 and len(dr.therapist) == 60
    z = dr.X[:, pop.observed.index("z")]
    assert np.allclose(z, z[np.searchsorted(dr.client, dr.client)])   # client constant
    even = SessionDesign(12, 5, 4, 4, caseload_shape=0)
    dr = even.draw(np.random.default_rng(9), lv, *chol, pop.observed)
    assert set(np.bincount(dr.client)) == {4} and set(np.bincount(dr.therapist)) == {5}


def test_drawn_sessions_have_the_populations_level_moments():
    pop = population_of(SMALL)
    lv = pop.levels
    chol = np.linalg.cholesky(lv.sigma_w), np.linalg.cholesky(lv.sigma_b)
    d = SessionDesign(400, 5, 20, 20, icc=0.3, caseload_shape=0)
    dr = d.draw(np.random.default_rng(1), lv, *chol, pop.observed)
    cl = Clusters.from_ids("client", dr.client)
    cols = [pop.observed.index(v) for v in lv.within]
    Y = dr.X[:, cols]
    R = Y - cl.mean(Y)[cl.codes]
    S_pw = R.T @ R / (len(Y) - cl.n)                       # pooled within: Σ_W
    assert np.allclose(S_pw, lv.sigma_w, atol=0.03)        # ~5 SEs at 38,000 rows
    # client means: Σ_B + Σ_W / 20 (therapist part included: icc splits Σ_B)
    cols_b = [pop.observed.index(v) for v in lv.between]
    M = cl.mean(dr.X[:, cols_b])
    place = np.zeros_like(lv.sigma_b)
    ib = {v: i for i, v in enumerate(lv.between)}
    for a in lv.within:
        for b in lv.within:
            place[ib[a], ib[b]] = lv.sigma_w[lv.within.index(a), lv.within.index(b)] / 20
    assert np.allclose(np.cov(M.T), lv.sigma_b + place, atol=0.12)   # ~4 SEs at 2,000


@pytest.fixture(scope="module")
def serial_replicate():
    text = open(SERIAL).read()
    an = (Analysis("two-level", freed_spec(text), "twolevel"),
          Analysis("client means", means_spec(text)))
    d = SessionDesign(44, 7.5, 2, 10)
    study = Study(text, an, (d,), 7)
    pop, chol, prepared = _prepared(study)
    dr = d.draw(replicate_rng(7, 0, 3), pop.levels, *chol, pop.observed)
    frame = pd.DataFrame(dr.X, columns=pop.observed)
    frame.insert(0, "client", dr.client)
    frame.insert(0, "therapist", dr.therapist[dr.client])
    return study, pop, prepared, dr, frame


def test_lean_twolevel_fit_matches_attachpath_fit(serial_replicate):
    study, pop, prepared, dr, frame = serial_replicate
    pt, _, start, free_idx, defined, cols = prepared[0]
    clients = Clusters.from_ids("client", dr.client)
    therapists = Clusters.from_ids("therapist", dr.therapist)
    est, se = fit_twolevel(pt, dr.X[:, cols], clients, therapists, start, "robust",
                           free_idx, defined)
    res = ap.fit(study.analyses[0].text, frame, cluster="therapist/client", se="robust")
    assert res.likelihood.pt.rows == pt.rows
    V = res.vcov.to_numpy()
    theta = res.theta
    ref_est = theta[free_idx]
    ref_se = np.sqrt(np.diag(V))[free_idx]
    assert np.allclose(est[:len(free_idx)], ref_est, atol=1e-6)          # tol 1e-8 vs 1e-10
    assert np.allclose(se[:len(free_idx)], ref_se, rtol=1e-5)
    d_est, _, d_V = defined.delta(theta, V)
    assert np.allclose(est[len(free_idx):], d_est, atol=1e-6)
    assert np.allclose(se[len(free_idx):], np.sqrt(np.diag(d_V)), rtol=1e-5)


def test_between_covariates_fixed_values_are_the_saturated_models(serial_replicate):
    study, pop, prepared, dr, frame = serial_replicate
    pt = prepared[0][0]
    X = dr.X[:, prepared[0][5]]
    z = tuple(v for v in pt.blocks[1].observed if pt.variable_levels[v] == "between")
    data = TwoLevelData.from_array(X, pt.observed, pt.blocks[0].observed, z,
                                   Clusters.from_ids("client", dr.client))
    closed = twolevel_values(pt, data)
    via_h1 = TwoLevelML(pt, data).values                    # the saturated model's MLE
    exo = [k for k, r in enumerate(pt.rows) if r.exo]
    assert len(exo) >= 6
    assert np.allclose(closed[exo], via_h1[exo], atol=1e-8)
    within_x = analysis_partable(
        Analysis("w", "level: 1\n tds_ge ~ esat_anx\nlevel: 2\n tds_ge ~ ecr_anx\n"))
    assert any(r.exo and r.block == 1 for r in within_x.rows)
    assert twolevel_values(within_x, TwoLevelData.from_array(
        frame[["tds_ge", "esat_anx", "ecr_anx"]].to_numpy(), within_x.observed,
        within_x.blocks[0].observed, ("ecr_anx",),
        Clusters.from_ids("client", dr.client))) is None   # needs the saturated model


def test_client_means_analysis_matches_attachpath_fit_on_client_means(serial_replicate):
    study, pop, prepared, dr, frame = serial_replicate
    from attachpath.power.replicate import run_chunk
    chunk = run_chunk(study, 0, 3, 4)
    assert chunk["ok"][0][0] and chunk["ok"][1][0]
    means = frame.groupby("client").mean()
    res = ap.fit(study.analyses[1].text, means, cluster="therapist", se="robust")
    pt = prepared[1][0]
    free_idx = prepared[1][3]
    assert np.allclose(chunk["est"][1][0][:len(free_idx)], res.theta[free_idx], atol=1e-7)
    assert np.allclose(chunk["se"][1][0][:len(free_idx)],
                       np.sqrt(np.diag(res.vcov.to_numpy()))[free_idx], rtol=1e-6)


@pytest.mark.parametrize("extra, culprit", [
    (["--n", "50"], "session design"),
    (["--therapists", "10", "--clients-per-therapist", "5"], "--sessions"),
    (["--therapists", "10", "--clients-per-therapist", "5", "--sessions", "1"], "2 or more"),
    (["--therapists", "10", "--clients-per-therapist", "5", "--sessions", "5-2"], "MIN"),
    (["--therapists", "10", "--clients-per-therapist", "1.5", "--sessions", "3"], "0 (even"),
    (["--therapists", "10", "--clients-per-therapist", "5", "--sessions", "3",
      "--dropout", "1"], "dropout"),
])
def test_bad_session_designs_exit_2_naming_the_culprit(tmp_path, capsys, extra, culprit):
    pop = tmp_path / "pop.lav"
    pop.write_text(SMALL)
    code = main(["power", str(pop), *extra, "--reps", "5", "--seed", "1", "--workers", "0",
                 "--out", str(tmp_path / "o")])
    assert code == 2
    assert culprit in capsys.readouterr().err
    assert not (tmp_path / "o" / "power.csv").exists()


def test_sessions_need_a_two_level_population_and_two_level_analyses_sessions(tmp_path):
    with pytest.raises(AttachpathError, match="two-level population"):
        power("y ~ 0.2*x", therapists=10, clients_per_therapist=5, sessions=4, reps=2,
              seed=1, workers=0)
    with pytest.raises(AttachpathError, match="session data"):
        power("y ~ 0.2*x + 0*z", analyses=SMALL, n=50, reps=2, seed=1, workers=0)
    with pytest.raises(AttachpathError, match="another level"):
        power(SMALL, analyses="level: 1\n y ~ x + z\nlevel: 2\n y ~ x\n", therapists=10,
              clients_per_therapist=5, sessions=4, reps=2, seed=1, workers=0)


def test_session_study_is_identical_whatever_the_workers_and_chunks(tmp_path):
    # exact equality: every replicate has its own stream (caseloads, sessions
    # and values) and the sums are folded in replicate order
    kw = dict(therapists=[6, 8], clients_per_therapist=3, sessions="2-5", reps=6,
              seed=31)
    ref = power(SMALL, workers=0, chunk_size=6, **kw)
    two = power(SMALL, workers=2, chunk_size=4, out=tmp_path / "two", **kw)
    assert two.provenance["workers"] == 2
    pd.testing.assert_frame_equal(ref.table, two.table, check_exact=True)
    assert set(ref.table.analysis) == {"two-level", "client means"}
    assert set(ref.table.sessions) == {"2-5"} and (ref.table.nonconverged == 0).all()
    assert (tmp_path / "two" / "power.svg").exists()
    html = (tmp_path / "two" / "report.html").read_text()
    assert "y ~ x (w) [level 1]" in html and "[level 2]" not in html


@pytest.mark.parametrize("kind", ["client", "twolevel"])
def test_the_power_benchmark_runs_its_studies(kind):
    # benchmarks/power.py's child (one study, in process) on a few replicates,
    # so the benchmark of reports/power/benchmarks.md cannot rot
    import json
    import subprocess
    import sys
    from pathlib import Path
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "power.py"
    if not script.is_file():
        pytest.skip("not a clone")
    out = subprocess.run([sys.executable, str(script), "--child", "4", "0", kind],
                         capture_output=True, text=True, timeout=600, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["wall"] > 0 and r["rss_mb"] > 50 and 0 <= r["power_anx_ge"] <= 1


def test_therapist_corrected_two_level_power_uses_the_fits_t_quantiles(serial_replicate):
    """A two-level analysis of session rows with the therapist sandwich tests
    and covers with t(G−1), as fit(cluster="therapist/client") does by
    default; client means and model-based SEs keep the normal."""
    from attachpath.power.summary import Fold, wald_df
    study, pop, prepared, dr, frame = serial_replicate
    design = study.designs[0]
    assert wald_df(design, study.analyses[0], "robust") == design.therapists - 1 == 43
    assert wald_df(design, study.analyses[1], "robust") is None
    assert wald_df(design, study.analyses[0], "standard") is None
    res = ap.fit(study.analyses[0].text, frame, cluster="therapist/client", se="robust")
    e = res.estimates[(res.estimates.op != ":=") & (res.estimates.se > 0)]
    fit_quantile = ((e["ci.upper"] - e["est"]) / e["se"]).to_numpy()
    fold = Fold(np.zeros(3), 0.05, 0.95, wald_df(design, study.analyses[0], "robust"))
    assert np.allclose(fit_quantile, fold.z_level, rtol=1e-9)          # t(43): 2.0167
    assert np.isclose(fold.z_alpha, fold.z_level) and fold.z_level > 2.01
    assert np.isclose(Fold(np.zeros(3), 0.05, 0.95).z_level, 1.959964, atol=1e-6)
