"""Built-in model nearrepeat.burglary: planted near repeats give zones around new burglaries."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from haizhou.domain import Level

from ._helpers import DAY, STATION_A, contains, run
from .conftest import Point

LAST = (119.215, 34.602)


def _burglaries(rng: np.random.Generator, *, near_repeats: bool) -> list[Point]:
    points = []
    for _ in range(220):
        at = DAY - timedelta(days=float(rng.uniform(3, 360)))
        lon, lat = float(rng.uniform(119.18, 119.27)), float(rng.uniform(34.58, 34.62))
        points.append(Point(at=at, lon=lon, lat=lat, category="入室盗窃", code=STATION_A))
        if near_repeats and rng.random() < 0.5:  # a follow-on burglary next door
            points.append(
                Point(at=at + timedelta(days=float(rng.uniform(0.5, 5))),
                      lon=lon + float(rng.normal(0, 0.0003)),
                      lat=lat + float(rng.normal(0, 0.0003)),
                      category="入室盗窃", code=STATION_A)
            )  # fmt: skip
    points.append(Point(at=DAY - timedelta(hours=20), lon=LAST[0], lat=LAST[1],
                        category="入室盗窃", code=STATION_A))  # fmt: skip
    points += [  # other categories are ignored
        Point(at=DAY - timedelta(days=1), lon=119.2, lat=34.6, category="盗窃", code=STATION_A)
    ] * 20
    return [p for p in points if p.at < DAY]


def test_zone_around_the_newest_burglary(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        add_points(session, _burglaries(np.random.default_rng(11), near_repeats=True))
    record = run(store, make_context, "nearrepeat.burglary")
    assert record.findings
    newest = record.findings[0]
    assert contains(newest.geometry, *LAST)
    assert newest.level is Level.ORANGE  # less than two days old
    ev = newest.evidence
    assert ev["distance_m"] in (100.0, 200.0) and 0 < ev["window_days"] <= 14
    assert ev["knox_ratios"][0][0] > 1.5  # near in space and time: over-represented
    for f in record.findings:  # every zone's burglary is younger than the window
        assert f.evidence["age_days"] < f.evidence["window_days"]
        assert f.window_end > DAY
    assert "Knox" in newest.explanation


def test_no_near_repeat_pattern_no_zones(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        add_points(session, _burglaries(np.random.default_rng(12), near_repeats=False))
    record = run(store, make_context, "nearrepeat.burglary", {"alpha": 0.01})
    assert record.findings == ()
