"""scripts/fiml_recovery_study.py (issue 14): its dropout is MAR on
cats_secure at the requested share, and a short run writes its report."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fiml_recovery_study.py"


def load():
    spec = importlib.util.spec_from_file_location("fiml_recovery_study", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_dropout_is_missing_at_random_on_cats_at_the_share():
    mod = load()
    rng = np.random.default_rng(0)
    n = 20000
    clients = pd.DataFrame({"cats_secure": rng.normal(size=n), "iip_post": rng.normal(size=n)})
    out = mod.dropout(clients, np.random.default_rng(1), share=0.35, slope=-1.5)
    miss = out["iip_post"].isna()
    # share: binomial SD √(.35·.65/20000) = 0.0034; 4 SDs
    assert abs(miss.mean() - 0.35) < 4 * np.sqrt(0.35 * 0.65 / n)
    # lower CATS, more dropout (by far: logistic slope −1.5 per SD)
    assert clients["cats_secure"][miss].mean() < clients["cats_secure"][~miss].mean() - 0.5
    assert clients["cats_secure"].equals(out["cats_secure"])      # only iip_post touched
    assert not clients["iip_post"].isna().any()                    # input not modified


def test_a_short_run_writes_csv_and_markdown(tmp_path):
    mod = load()
    assert mod.main(["--reps", "2", "--pop-clients", "660", "--out", str(tmp_path)]) == 0
    df = pd.read_csv(tmp_path / "fiml_recovery.csv")
    assert set(df["method"]) == {"listwise", "fiml"} and len(df) == 2 * 2 * 4
    assert (df.loc[df["method"] == "fiml", "n"] == 330).all()
    assert (df.loc[df["method"] == "listwise", "n"] < 330).all()
    assert "Verdict" in (tmp_path / "fiml_recovery.md").read_text()
