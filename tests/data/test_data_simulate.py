import json

import numpy as np
import pandas as pd
import pytest

from attachpath.simulate import (COLUMNS, SCALES, _regenerate_example, main, simulate,
                                 write_simulation)
from attachpath.datasets import SESSIONS_FILE, TRUTH_FILE, example_path
from attachpath.errors import DataError, OutputError


@pytest.fixture(scope="module")
def sim():
    return simulate(seed=11)


def test_same_seed_same_output(sim):
    again = simulate(seed=11)
    pd.testing.assert_frame_equal(sim.sessions, again.sessions)
    assert sim.truth == again.truth and sim.params == again.params
    other = simulate(seed=12)
    assert not sim.sessions["cats_secure"].equals(other.sessions["cats_secure"])


def test_design(sim):
    s = sim.sessions
    assert list(s.columns) == COLUMNS
    assert s["therapist"].nunique() == 44 and s["client"].nunique() == 330
    assert s.groupby("client")["therapist"].nunique().max() == 1
    assert s.groupby("therapist")["client"].nunique().min() >= 2
    caseloads = s.groupby("therapist")["client"].nunique()
    assert caseloads.sum() == 330 and caseloads.max() > 2 * caseloads.median()  # skewed
    rows = s.groupby("client").size()
    assert rows.min() >= 2 and rows.max() <= 10
    assert rows.nunique() > 5
    sess = s.groupby("client")["session"]
    assert (sess.min() == 1).all() and s["session"].max() <= 10
    assert sess.apply(lambda x: x.is_monotonic_increasing and x.is_unique).all()
    gaps = (sess.max() - sess.min() + 1) > rows
    assert gaps.any()  # intermediate sessions missing within clients
    assert s[COLUMNS[3:8]].isna().any().any()  # some item blocks missing
    first = s[s["session"] == 1]
    assert first[COLUMNS[3:8]].notna().all().all()


def test_ranges_and_client_level_constancy(sim):
    s = sim.sessions
    for v, (lo, hi) in SCALES.items():
        vals = s[v].dropna()
        assert vals.between(lo, hi).all(), v
    assert s["female"].isin([0, 1]).all() and s["age"].between(18, 80).all()
    per_client = s.groupby("client")[["ecr_anx", "ecr_avoid", "iip_pre", "iip_post", "age",
                                       "female"]].nunique()
    assert (per_client <= 1).all().all()
    assert s["iip_post"].notna().all()  # complete by default


def test_client_level_icc_is_in_range(sim):
    s = sim.sessions.dropna(subset=["cats_secure"])
    g = s.groupby("client")["cats_secure"]
    between = g.mean().var()
    within = (s["cats_secure"] - g.transform("mean")).var()
    icc = between / (between + within)
    assert 0.55 < icc < 0.9


def test_missing_post_is_exact_count():
    sim = simulate(seed=5, missing_post=0.25)
    per_client = sim.sessions.groupby("client")["iip_post"].first()
    assert per_client.isna().sum() == round(0.25 * 330)


def test_truth_is_consistent(sim):
    t = sim.truth
    assert t["indirect_abc"] == pytest.approx(t["a"] * t["b"] * t["c"], abs=1e-9)
    assert t["a"] < 0 < t["b"] and t["c"] < 0 < t["indirect_abc"]
    std = t["standardized"]
    assert all(0.3 <= abs(std[k]) <= 0.4 for k in "abc")
    assert t["paths"]["cats_secure"]["ecr_anx"] == t["a"]
    assert t["paths"]["iip_post"]["tds_ge"] == t["c"]
    assert t["implied"]["iip_post ~ ecr_anx + iip_pre"]["ecr_anx"] == \
        pytest.approx(t["indirect_abc"], abs=1e-9)
    assert abs(t["manifest_approx"]["c"]) < abs(t["c"])
    json.dumps(t)  # serializable
    assert "latent client mean" in t["definition"]


def test_latent_regressions_recover_truth():
    big = simulate(seed=99, n_therapists=200, n_clients=6000)
    lat, t = big.latent, big.truth

    def ols(y, xs):
        X = np.column_stack([np.ones(len(lat))] + [lat[x] for x in xs])
        return np.linalg.lstsq(X, lat[y], rcond=None)[0][1:]

    assert ols("cats_secure", ["ecr_anx"])[0] == pytest.approx(t["a"], abs=0.03)
    assert ols("tds_ge", ["cats_secure"])[0] == pytest.approx(t["b"], abs=0.04)
    assert ols("iip_post", ["tds_ge", "iip_pre"])[0] == pytest.approx(t["c"], abs=0.04)


def test_effects_override_and_validation():
    sim = simulate(seed=1, n_therapists=5, n_clients=20, effects={"c": 0.0})
    assert sim.truth["c"] == 0.0 and sim.truth["indirect_abc"] == 0.0
    assert sim.sessions["therapist"].nunique() == 5
    with pytest.raises(DataError, match="Unknown effect 'bb'.*did you mean 'b'"):
        simulate(effects={"bb": 0.1})
    with pytest.raises(DataError, match="between -1 and 1"):
        simulate(effects={"a": 1.5})
    with pytest.raises(DataError, match="at least twice"):
        simulate(n_therapists=44, n_clients=80)
    with pytest.raises(DataError, match="min_sessions"):
        simulate(min_sessions=5, max_sessions=3)
    with pytest.raises(DataError, match="explain all the variance"):
        simulate(effects={"c": -0.9, "d": 0.9})


def test_write_simulation_keeps_other_files(tmp_path, sim):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "sessions.csv").write_text("old")
    csv, truth = write_simulation(sim, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    back = pd.read_csv(csv)
    np.testing.assert_allclose(back["cats_secure"], sim.sessions["cats_secure"], rtol=1e-15)
    data = json.loads(truth.read_text())
    assert data["a"] == sim.truth["a"] and data["params"]["seed"] == 11
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "sessions.csv",
                                                          "truth.json"]
    new_dir = tmp_path / "a" / "b"
    write_simulation(sim, new_dir)
    assert (new_dir / "truth.json").exists()
    with pytest.raises(OutputError, match="is a file"):
        write_simulation(sim, tmp_path / "notes.txt")


def test_regenerating_the_example_is_byte_identical(tmp_path):
    csv, truth = _regenerate_example(tmp_path)
    bundled = example_path().parent
    assert csv.read_bytes() == (bundled / SESSIONS_FILE).read_bytes()
    assert truth.read_bytes() == (bundled / TRUTH_FILE).read_bytes()


def test_module_entry_point(tmp_path, capsys):
    assert main(["--regenerate-example", "--out", str(tmp_path)]) == 0
    assert (tmp_path / SESSIONS_FILE).exists()
    assert "wrote" in capsys.readouterr().out


# -- therapist ICC of the client-level outcomes (issue 13 item 4) ---------------------

def _anova_icc(values, groups):
    g = pd.Series(values).groupby(np.asarray(groups))
    n, k = len(values), g.ngroups
    sizes = g.size()
    ssb = float((sizes * (g.mean() - np.mean(values)) ** 2).sum())
    ssw = float(((pd.Series(values) - g.transform("mean")) ** 2).sum())
    msb, msw = ssb / (k - 1), ssw / (n - k)
    n0 = (n - float((sizes ** 2).sum()) / n) / (k - 1)
    return (msb - msw) / (msb + (n0 - 1) * msw)


@pytest.mark.parametrize("icc", [0.0, 0.15, 0.3])
def test_therapist_icc_of_client_level_outcomes(icc):
    """400 therapists x 10 clients: the ICC(1) of the latent client means by
    therapist has a sampling SE of about 0.015 at 0.15; 0.05 is > 3 SE."""
    sim = simulate(seed=11, n_therapists=400, n_clients=4000, therapist_icc=icc)
    levels = sim.truth["levels"]
    lat = sim.latent
    for v in ("cats_secure", "tds_ge", "iip_post"):
        truth = levels["therapist"][v]["therapist_icc"]
        assert _anova_icc(lat[v].to_numpy(), lat["therapist"]) == pytest.approx(truth, abs=0.05)
        # at least the therapist share of a disturbance reaches the outcome
        # (ECR upstream has none, so the share of the total can be lower)
        assert (truth > 0) == (icc > 0)
        parts = levels["therapist"][v]["variance"] + levels["client"][v]["variance"]
        assert parts == pytest.approx(sim.truth["between"][v]["variance"], rel=1e-12)
    # measured before therapy: no therapist variance
    for v in ("ecr_anx", "ecr_avoid", "iip_pre"):
        assert levels["therapist"][v]["variance"] == 0.0
    assert sim.params["therapist_icc"] == icc
    if icc == 0.0:
        assert all(levels["therapist"][v]["therapist_icc"] == 0.0 for v in levels["therapist"])


def test_therapist_icc_keeps_the_paths_and_the_default():
    base = simulate(seed=5, n_therapists=10, n_clients=60)
    more = simulate(seed=5, n_therapists=10, n_clients=60, therapist_icc=0.3)
    for k in ("a", "b", "c", "indirect_abc"):
        assert more.truth[k] == pytest.approx(base.truth[k], rel=1e-12)
    assert base.params["therapist_icc"] is None
    assert not base.sessions.equals(more.sessions)


@pytest.mark.parametrize("bad", [-0.1, 1.0, "0.2"])
def test_therapist_icc_out_of_range(bad):
    with pytest.raises(DataError, match="therapist_icc"):
        simulate(seed=1, n_therapists=10, n_clients=60, therapist_icc=bad)


def test_therapist_icc_ecr_gives_ecr_a_therapist_share_and_keeps_the_paths():
    """400 therapists x 10 clients: ECR's ICC(1) by therapist (sampling SE
    about 0.015 at 0.15; 0.05 is > 3 SE) is the share asked for, and the
    latent client-level regressions still estimate the marginal paths that
    truth writes out (4,000 clients: SE of a about 0.01 even with the
    therapist design effect; 0.04 is > 3 SE)."""
    sim = simulate(seed=12, n_therapists=400, n_clients=4000, therapist_icc=0.15,
                   therapist_icc_ecr=0.15)
    levels, lat = sim.truth["levels"], sim.latent
    for v in ("ecr_anx", "ecr_avoid"):
        assert levels["therapist"][v]["therapist_icc"] == pytest.approx(0.15, rel=1e-12)
        assert _anova_icc(lat[v].to_numpy(), lat["therapist"]) == pytest.approx(0.15, abs=0.05)
    # iip_pre is not shared out itself, but inherits ECR's therapist part via anx_pre
    assert 0 < levels["therapist"]["iip_pre"]["therapist_icc"] < 0.15
    base = simulate(seed=12, n_therapists=10, n_clients=60, therapist_icc=0.15)
    for k in ("a", "b", "c", "indirect_abc"):
        assert sim.truth[k] == pytest.approx(base.truth[k], rel=1e-12)
    X = np.column_stack([np.ones(len(lat)), lat["ecr_anx"]])
    a_hat = np.linalg.lstsq(X, lat["cats_secure"], rcond=None)[0][1]
    assert a_hat == pytest.approx(sim.truth["a"], abs=0.04)
    assert sim.params["therapist_icc_ecr"] == 0.15
    # the default (0) leaves ECR without therapist variance (and, as
    # test_regenerating_the_example_is_byte_identical checks, the draws as before)
    assert base.truth["levels"]["therapist"]["ecr_anx"]["variance"] == 0.0
    assert "therapist_icc_ecr" not in base.params


@pytest.mark.parametrize("bad", [-0.1, 1.0, "0.2"])
def test_therapist_icc_ecr_out_of_range(bad):
    with pytest.raises(DataError, match="therapist_icc_ecr"):
        simulate(seed=1, n_therapists=10, n_clients=60, therapist_icc_ecr=bad)
