
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attachpath.data.prepare import esat_scores, prepare
from attachpath.errors import DataError, DataWarning


def _sessions(seed, n_clients, max_rows, p_nan):
    rng = np.random.default_rng(seed)
    rows = rng.integers(1, max_rows + 1, size=n_clients)
    client = np.repeat(rng.permutation(np.arange(100, 100 + n_clients)), rows)
    ther_of = {c: int(rng.integers(1, 6)) for c in np.unique(client)}
    n = len(client)
    df = pd.DataFrame({
        "client": client,
        "therapist": [ther_of[c] for c in client],
        "x": rng.normal(size=n) * 10 ** rng.uniform(-3, 3),
        "y": rng.normal(size=n),
    })
    df.loc[rng.random(n) < p_nan, "x"] = np.nan
    df.loc[rng.random(n) < p_nan, "y"] = np.nan
    df["z"] = df["client"].map({c: float(rng.normal()) for c in np.unique(client)})
    return df.iloc[rng.permutation(n)].reset_index(drop=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_clients=st.integers(1, 40),
       max_rows=st.integers(1, 8), p_nan=st.sampled_from([0.0, 0.2, 0.6]))
def test_client_means_are_pandas_groupby_means(seed, n_clients, max_rows, p_nan):
    df = _sessions(seed, n_clients, max_rows, p_nan)
    prep = prepare(df, session_vars=["x", "y"], client_vars=["z"])
    out = prep.clients.set_index("client")
    g = df.groupby("client")
    for v in ("x", "y"):
        expected = g[v].mean().reindex(out.index)
        np.testing.assert_allclose(out[v], expected, rtol=1e-12, atol=0, equal_nan=True)
        assert (out[f"{v}_n"] == g[v].count().reindex(out.index)).all()
    assert (out["n_sessions"] == g.size().reindex(out.index)).all()
    np.testing.assert_array_equal(out["z"], g["z"].first().reindex(out.index))
    keys = list(zip(prep.clients["therapist"], prep.clients["client"]))
    assert keys == sorted(keys)
    assert list(prep.clients.columns) == ["client", "therapist", "x", "y", "x_n", "y_n",
                                          "n_sessions", "z"]


def test_inference_of_levels_and_column_order():
    df = pd.DataFrame({
        "therapist": ["B", "B", "A", "A", "A"],
        "client": ["c2", "c2", "c1", "c1", "c3"],
        "age": [30, 30, 50, 50, 41],
        "cats_secure": [4.0, 5.0, 3.0, np.nan, 2.0],
        "group": ["x", "x", "y", "y", "y"],
    })
    prep = prepare(df)
    assert prep.session_vars == ("cats_secure",)
    assert prep.client_vars == ("age", "group")
    assert prep.clients["client"].tolist() == ["c1", "c3", "c2"]
    assert prep.clients["cats_secure"].tolist() == [3.0, 2.0, 4.5]
    assert prep.clients["cats_secure_n"].tolist() == [1, 1, 2]
    assert prep.clients["n_sessions"].tolist() == [2, 1, 2]
    assert prep.report["clients"] == 3 and prep.report["therapists"] == 2


def test_varying_text_column_is_left_out_with_a_warning():
    df = pd.DataFrame({"therapist": [1, 1], "client": [1, 1], "x": [1.0, 2.0],
                       "note": ["fine", "tired"]})
    with pytest.warns(DataWarning, match="note"):
        prep = prepare(df)
    assert "note" not in prep.clients and prep.report["left_out"] == ["note"]


def test_client_seen_by_two_therapists_is_named():
    df = pd.DataFrame({"therapist": [1, 1, 2, 3], "client": [5, 7, 7, 8], "x": [1., 2, 3, 4]})
    with pytest.raises(DataError) as err:
        prepare(df)
    msg = str(err.value)
    assert "Client 7" in msg and "(1, 2)" in msg and "exactly one therapist" in msg
    assert err.value.column == "therapist"


def test_client_level_variable_varying_within_a_client_is_named():
    df = pd.DataFrame({"therapist": [1, 1, 1, 1], "client": ["a", "a", "b", "b"],
                       "ecr_anx": [3.0, 3.0, 4.5, 5.0], "x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(DataError) as err:
        prepare(df, client_vars=["ecr_anx"])
    msg = str(err.value)
    assert "'ecr_anx'" in msg and "client 'b'" in msg and "4.5" in msg and "5.0" in msg
    assert "row 4" in msg


def test_client_level_constancy_ignores_missing_values():
    df = pd.DataFrame({"therapist": [1, 1], "client": [1, 1], "iip_post": [np.nan, 1.25],
                       "x": [1.0, 2.0]})
    prep = prepare(df, client_vars=["iip_post"])
    assert prep.clients["iip_post"].tolist() == [1.25]


def test_missing_id_names_the_row():
    df = pd.DataFrame({"therapist": [1, 1, 1], "client": [1.0, np.nan, 2.0], "x": [1., 2, 3]},
                      index=[10, 11, 12])
    with pytest.raises(DataError, match=r"'client' is missing at row 2 \(index label 11\)"):
        prepare(df)


def test_duplicate_session_is_rejected():
    df = pd.DataFrame({"therapist": [1, 1], "client": [1, 1], "session": [3, 3],
                       "x": [1.0, 2.0]})
    with pytest.raises(DataError, match="Session 3 of client 1 appears more than once"):
        prepare(df)


def test_unknown_column_suggests_the_closest():
    df = pd.DataFrame({"therapist": [1], "client": [1], "cats_secure": [1.0]})
    with pytest.raises(DataError, match="Did you mean 'cats_secure'"):
        prepare(df, session_vars=["cats_secur"])
    with pytest.raises(DataError, match="'klient'.*Did you mean 'client'"):
        prepare(df, client="klient")


def test_within_scores_are_person_mean_centred():
    df = pd.DataFrame({"therapist": [2, 1, 1, 1, 2], "client": [9, 3, 3, 3, 9],
                       "session": [2, 2, 1, 3, 1], "x": [5.0, 2.0, 1.0, np.nan, 1.0]})
    prep = prepare(df, within=True)
    w = prep.within
    assert w.columns.tolist() == ["therapist", "client", "session", "x_within"]
    assert w["session"].tolist() == [1, 2, 3, 1, 2]
    np.testing.assert_allclose(w["x_within"], [-0.5, 0.5, np.nan, -2.0, 2.0])
    assert prepare(df).within is None


def test_input_frame_is_not_modified():
    df = pd.DataFrame({"therapist": [1, 1], "client": [1, 1], "x": [1.0, 2.0]})
    copy = df.copy()
    prepare(df, within=True)
    pd.testing.assert_frame_equal(df, copy)


def test_no_therapist_level():
    df = pd.DataFrame({"client": [2, 1, 2], "x": [1.0, 2.0, 3.0]})
    prep = prepare(df, therapist=None)
    assert prep.clients.columns.tolist() == ["client", "x", "x_n", "n_sessions"]
    assert prep.clients["x"].tolist() == [2.0, 2.0]


def test_esat_scores_are_ols_residuals():
    rng = np.random.default_rng(3)
    n = 50
    df = pd.DataFrame({"client": range(n), "cats_preoc": rng.normal(2.4, .7, n),
                       "cats_avoid": rng.normal(2.3, .7, n)})
    df["cats_secure"] = 4 + .3 * df.cats_preoc - .5 * df.cats_avoid + rng.normal(0, .5, n)
    df.loc[4, "cats_preoc"] = np.nan
    out = esat_scores(df)
    assert np.isnan(out.loc[4, "esat_anx"]) and not np.isnan(out.loc[4, "esat_avoid"])
    ok = df.cats_preoc.notna()
    slope, icpt = np.polyfit(df.cats_preoc[ok], df.cats_secure[ok], 1)
    np.testing.assert_allclose(out.esat_anx[ok],
                               df.cats_secure[ok] - icpt - slope * df.cats_preoc[ok],
                               atol=1e-12)
    assert abs(out.esat_avoid.mean()) < 1e-12
    assert abs(np.corrcoef(out.esat_avoid, df.cats_avoid)[0, 1]) < 1e-10
    assert "esat_anx" not in df  # a new frame


def test_esat_levels():
    df = pd.DataFrame({"client": [1, 1, 2, 2, 3], "cats_secure": [4., 5, 3, 4, 2],
                       "cats_preoc": [2., 3, 2, 1, 2], "cats_avoid": [1., 2, 3, 2, 4]})
    with pytest.raises(DataError, match="one row per client.*client 1"):
        esat_scores(df, level="client")
    pooled = esat_scores(df, level="session")
    assert len(pooled) == 5 and pooled["esat_anx"].notna().all()
    with pytest.raises(DataError, match="level must be"):
        esat_scores(df, level="therapist")
    with pytest.raises(DataError, match="'cats_preoc'.*not in the data"):
        esat_scores(df.drop(columns="cats_preoc"), level="session")


def test_generated_column_names_must_not_clash():
    df = pd.DataFrame({"therapist": [1, 1], "client": [1, 1], "x": [1.0, 2.0],
                       "x_n": [3.0, 4.0]})
    with pytest.raises(DataError, match="'x_n' would clash"):
        prepare(df)
    with pytest.raises(DataError, match="no rows"):
        prepare(df.iloc[:0])
