"""Concentration report (haizhou.analytics.concentration): known answers and a feedback loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from haizhou.analytics.base import EventSet
from haizhou.analytics.concentration import flag_concentration, gini, spearman
from haizhou.analytics.forecast.protocol import run_protocol


def test_gini_and_spearman_known_values() -> None:
    assert gini([1, 1, 1, 1]) == 0.0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([1, 2, 3]) == pytest.approx(2 / 9)  # mean abs difference / (2 · mean)
    assert math.isnan(gini([0, 0]))
    with pytest.raises(ValueError):
        gini([1, -1])
    a, b = [3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_flags_that_copy_past_recording_show_the_loop() -> None:
    rng = np.random.default_rng(0)
    n, f, k = 100, 20, 5
    past = np.tile(np.arange(n, 0, -1, dtype=float), (f, 1))  # cell 0 recorded most
    copy = np.tile(np.arange(k), (f, 1))  # flags = the past top cells, every day
    loop = flag_concentration(copy, past, origins_days=np.arange(f), period_days=10)
    assert loop.summary["past_top_overlap"] == 1.0
    assert loop.summary["top_decile_share"] == 1.0
    assert loop.summary["gini_flags"] == pytest.approx(1 - k / n)  # its maximum
    assert loop.gini_max == pytest.approx(1 - k / n)
    assert loop.summary["spearman_past"] > 0.3
    random_flags = np.array([rng.choice(n, k, replace=False) for _ in range(f)])
    spread = flag_concentration(random_flags, past, origins_days=np.arange(f), period_days=10)
    assert spread.summary["top_decile_share"] < 0.3
    assert spread.summary["gini_flags"] < loop.summary["gini_flags"]
    d = loop.to_dict()
    assert len(d["top_decile_share"]) == 2 and d["zones"] == ["all"]
    assert d["trend"]["top_decile_share"] == 0.0


def test_zone_shares_and_bad_input() -> None:
    past = np.array([[5.0, 1.0, 0.0, 0.0]] * 2)
    r = flag_concentration([[0, 1], [2, 3]], past, ["A", "A", "B", "B"],
                           origins_days=[0, 1], period_days=1)  # fmt: skip
    assert r.base.flag_share.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert r.top_decile_share.tolist() == [0.5, 0.0]
    with pytest.raises(ValueError, match="outside"):
        flag_concentration([[7]], past[:1], origins_days=[0])


def test_backtest_json_keeps_its_keys_and_adds_concentration() -> None:
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 120, 600)
    x = np.where(rng.random(600) < 0.4, 250.0, rng.uniform(0, 3000, 600))
    y = np.where(x == 250.0, 250.0, rng.uniform(0, 3000, 600))
    report = run_protocol(
        EventSet(t, x, y), np.ones(600, bool), methods=["naive"], cell_size_m=200.0,
        train_days=60.0, test_start_days=100.0, test_days=10.0, horizon_days=1.0,
        coverages=(0.05,), period_days=5.0,
    )  # fmt: skip
    out = report.to_dict()
    assert list(out)[:6] == ["results", "best_method", "n_events", "n_study_cells",
                             "reference_coverage", "seconds"]  # fmt: skip
    conc = out["concentration"]
    assert conc["zones"] == ["all"] and len(conc["spearman_past"]) == 2
    assert conc["summary"]["top_decile_share"] > 0.5  # naive flags the past hot cell
