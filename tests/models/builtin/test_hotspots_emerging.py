"""Built-in model hotspots.emerging: a cluster of the last week only is a new hot spot; one
present every week is persistent (or intensifying)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from haizhou.domain import Level

from ._helpers import DAY, STATION_A, STATION_B, contains, run, scatter
from .conftest import Point

NEW = (119.203, 34.604)
STEADY = (119.247, 34.596)


def test_new_and_persistent_hot_spots(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    points: list[Point] = []
    for week in range(8):
        start = DAY - timedelta(days=7 * (8 - week))
        for code in (STATION_A, STATION_B):
            points += scatter(rng, 40, start=start, days=6.9, code=code)
        points += [
            Point(at=start + timedelta(hours=5 + 6 * i), lon=STEADY[0], lat=STEADY[1],
                  code=STATION_B)
            for i in range(25)
        ]  # fmt: skip
        if week == 7:
            points += [  # a new cluster a few hundred metres across
                Point(at=start + timedelta(hours=3 + 2 * i),
                      lon=NEW[0] + float(rng.normal(0, 0.0006)),
                      lat=NEW[1] + float(rng.normal(0, 0.0006)), code=STATION_A)
                for i in range(30)
            ]  # fmt: skip
    with store.factory() as session:
        add_points(session, points)
    # resolution 9 (~0.1 km²): enough hexagons for Gi* to single out a cluster
    record = run(store, make_context, "hotspots.emerging", {"resolution": 9})
    at_new = [f for f in record.findings if contains(f.geometry, *NEW)]
    at_steady = [f for f in record.findings if contains(f.geometry, *STEADY)]
    assert len(at_new) == 1 and len(at_steady) == 1
    new, steady = at_new[0], at_steady[0]
    assert new.evidence["h3_resolution"] == 9
    assert new.evidence["pattern"] == "new_hot_spot" and new.level is Level.ORANGE
    assert new.evidence["hot_steps"] == 1 and new.evidence["counts"][-1] > 2 * max(
        new.evidence["counts"][:-1]
    )
    assert new.evidence["jurisdiction_code"] == STATION_A
    assert steady.evidence["pattern"] in {"persistent_hot_spot", "intensifying_hot_spot"}
    assert steady.level in {Level.YELLOW, Level.RED}
    assert "新增热点" in new.title and "Gi*" in new.explanation
    kinds = {f.evidence["pattern"] for f in record.findings}
    assert kinds <= {"new_hot_spot", "consecutive_hot_spot", "intensifying_hot_spot",
                     "persistent_hot_spot"}  # fmt: skip


def test_too_few_weeks_with_data_gives_nothing(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(8)
    points = scatter(rng, 50, start=DAY - timedelta(days=6), days=5, code=STATION_A)
    with store.factory() as session:
        add_points(session, points)
    assert run(store, make_context, "hotspots.emerging").findings == ()
