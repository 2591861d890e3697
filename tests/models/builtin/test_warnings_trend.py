"""Built-in model warnings.trend: a surge against a steady baseline is a red warning."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from haizhou.domain import Level

from ._helpers import DAY, STATION_A, STATION_B, run
from .conftest import Point


def test_surge_warns_steady_series_does_not(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    points = []
    for d in range(1, 190):
        day = DAY - timedelta(days=d)
        n_a = 9 if d <= 7 else int(rng.poisson(2.0))  # the last week: a surge in A
        n_b = int(rng.poisson(2.0))
        points += [Point(at=day + timedelta(hours=9 + i), lon=119.2, lat=34.6, code=STATION_A)
                   for i in range(n_a)]  # fmt: skip
        points += [Point(at=day + timedelta(hours=9 + i), lon=119.25, lat=34.6, code=STATION_B)
                   for i in range(n_b)]  # fmt: skip
    with store.factory() as session:
        add_points(session, points)
    record = run(store, make_context, "warnings.trend", {"include_blue": False})
    found = {(f.evidence["jurisdiction_code"], f.evidence["category"]): f for f in record.findings}
    assert set(found) == {(STATION_A, "盗窃")}
    f = found[(STATION_A, "盗窃")]
    assert f.level is Level.RED
    assert f.evidence["observed"] == 63
    assert 8 < f.evidence["expected"] < 22 and f.evidence["probability"] < 0.001
    assert f.window_end == DAY and f.window_start == DAY - timedelta(days=7)
    assert "63" in f.explanation and "预期" in f.explanation
    assert f.geometry["type"] == "Polygon"
