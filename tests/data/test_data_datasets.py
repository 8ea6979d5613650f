import numpy as np

from attachpath.datasets import example_path, example_truth, load_example, load_example_clients
from attachpath.simulate import COLUMNS, EXAMPLE_SEED


def test_load_example():
    df = load_example()
    assert list(df.columns) == COLUMNS
    assert df["client"].nunique() == 330 and df["therapist"].nunique() == 44
    assert df.groupby("client").size().between(2, 10).all()
    assert df["iip_post"].notna().all()
    decimals = (df["cats_secure"].dropna() * 10_000).round(6)
    assert (decimals == decimals.round()).all()  # 4 decimals


def test_load_example_clients():
    clients = load_example_clients()
    assert len(clients) == 330
    assert clients["client"].is_unique
    for col in ("esat_anx", "esat_avoid", "cats_secure", "cats_secure_n", "n_sessions",
                "ecr_anx", "iip_pre", "iip_post"):
        assert col in clients
    assert clients[["esat_anx", "esat_avoid"]].notna().all().all()
    assert abs(np.corrcoef(clients.esat_anx, clients.cats_preoc)[0, 1]) < 1e-10


def test_example_truth_and_path():
    truth = example_truth()
    assert truth["params"]["seed"] == EXAMPLE_SEED
    assert truth["standardized"]["indirect_abc"] > 0
    assert example_path().is_file() and example_path().name == "example_sessions.csv"
