"""St. Louis: the protocol reproduces open_cp's naive figures exactly (README reference).

Reads ../shared/data/stlouis/stlouis_2014_2015.csv (skipped when absent, failed in CI).
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import shared_file

from haizhou.analytics.base import EventSet, to_days
from haizhou.analytics.forecast.protocol import run_protocol

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stlouis() -> tuple[EventSet, np.ndarray]:
    import pandas as pd

    frame = pd.read_csv(
        shared_file("stlouis", "stlouis_2014_2015.csv"),
        usecols=["occurred_at", "x", "y", "category"],
    )
    t = to_days(pd.to_datetime(frame["occurred_at"]).to_numpy().astype("datetime64[s]"))
    return EventSet(t, frame["x"], frame["y"]), frame["category"].to_numpy()


def test_naive_burglary_matches_the_open_cp_reference(stlouis) -> None:
    events, category = stlouis
    report = run_protocol(
        events,
        category == "burglary",
        methods=["naive"],
        cell_size_m=150.0,
        train_days=365.0,
        test_start_days=float(to_days("2015-01-01")),
        test_days=90.0,
        horizon_days=1.0,
    )
    res = report.results["naive"]
    assert report.n_study == 5717
    assert report.n_events == 878
    assert res.k.tolist() == [57, 285, 571]
    assert np.round(res.hit_rate, 3).tolist() == [0.074, 0.207, 0.332]
    assert np.round(res.pai, 2).tolist() == [7.41, 4.15, 3.32]
    np.testing.assert_allclose(res.pei, res.hit_rate)  # one day's burglaries fit in k cells
