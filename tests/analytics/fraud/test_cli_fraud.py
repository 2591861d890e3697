"""``haizhou fraud`` dissuade and uplift on files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from haizhou.cli.fraud import app

runner = CliRunner()


def test_dissuade_ranks_and_holds_out_only_low_urgency(tmp_path):
    rng = np.random.default_rng(0)
    w = pd.DataFrame(
        {
            "pseudo_id": [f"p{i}" for i in range(200)],
            "risk": rng.uniform(0, 1, 200),
            "potential_loss": rng.uniform(0, 1e5, 200),
            "jurisdiction_code": "J1",
        }
    )
    w.to_csv(tmp_path / "w.csv", index=False)
    r = runner.invoke(
        app,
        [
            "dissuade",
            "--warnings",
            str(tmp_path / "w.csv"),
            "--now",
            "2024-05-01T09:00",
            "--holdout-share",
            "0.5",
            "--seed",
            "3",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    ins = pd.DataFrame(json.loads(r.stdout)["instructions"])
    assert ins["expected_loss"].is_monotonic_decreasing
    assert not ins.loc[ins["urgency"] != "low", "holdout"].any()
    assert 30 < ins.loc[ins["urgency"] == "low", "holdout"].sum() < 110
    assert ins.loc[0, "channel"] == "call" and ins.loc[0, "deadline"].startswith("2024-05-01 10:00")


def test_uplift_report(tmp_path):
    o = pd.DataFrame(
        {"treated": [1] * 100 + [0] * 100, "outcome": [1] * 2 + [0] * 98 + [1] * 12 + [0] * 88}
    )
    o.to_csv(tmp_path / "o.csv", index=False)
    r = runner.invoke(app, ["uplift", "--outcomes", str(tmp_path / "o.csv"), "--json"])
    assert r.exit_code == 0, r.output
    u = json.loads(r.stdout)
    assert abs(u["difference"] + 0.1) < 1e-12 and u["ci_high"] < 0
