"""Built-in model hotspots.gistar: a planted cluster is the red hot spot, nothing far away."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from haizhou.domain import Level
from haizhou.geo import haversine_m
from haizhou.geo.h3cells import cells_from_lonlat, cells_to_str

from ._helpers import DAY, STATION_A, STATION_B, contains, run, scatter
from .conftest import Point

HOT = (119.203, 34.604)


def test_planted_cluster_is_the_hottest_spot(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    start = DAY - timedelta(days=28)
    points = scatter(rng, 150, start=start, days=27.9, code=STATION_A)
    points += scatter(rng, 150, start=start, days=27.9, code=STATION_B)
    points += [
        Point(at=start + timedelta(days=i * 0.6), lon=HOT[0], lat=HOT[1], code=STATION_A)
        for i in range(40)
    ]
    points += scatter(rng, 50, start=start - timedelta(days=60), days=30, code=STATION_B)
    with store.factory() as session:
        add_points(session, points)
    record = run(store, make_context, "hotspots.gistar")
    assert record.findings, "the planted cluster must be found"
    hot_cell = str(cells_to_str(cells_from_lonlat(HOT[0], HOT[1], 8)))
    top = next(f for f in record.findings if f.evidence["cell"] == hot_cell)
    assert record.findings[0].level is Level.RED
    assert top.level in (Level.RED, Level.ORANGE)  # Gi* scores the neighbourhood
    assert contains(top.geometry, *HOT)
    assert top.evidence["jurisdiction_code"] == STATION_A
    assert top.evidence["count"] >= 40 and top.evidence["p_fdr"] < 0.01
    assert "Gi*" in top.explanation
    ring = np.asarray(record.findings[0].geometry["coordinates"][0])
    assert haversine_m(ring[:, 0].mean(), ring[:, 1].mean(), *HOT) < 1000  # hottest: at it
    assert all(f.level is not Level.BLUE for f in record.findings)  # blue is off by default
    assert [f.evidence["z"] for f in record.findings] == sorted(
        (f.evidence["z"] for f in record.findings), reverse=True
    )


def test_no_incidents_no_findings(store, make_context) -> None:  # type: ignore[no-untyped-def]
    assert run(store, make_context, "hotspots.gistar").findings == ()


def test_category_filter(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    start = DAY - timedelta(days=20)
    points = scatter(rng, 200, start=start, days=19, code=STATION_A, category="纠纷")
    points += [
        Point(at=start + timedelta(days=i * 0.4), lon=HOT[0], lat=HOT[1], category="盗窃")
        for i in range(30)
    ]
    points += scatter(rng, 80, start=start, days=19, code=STATION_A)  # thefts around
    with store.factory() as session:
        add_points(session, points)
    disputes = run(store, make_context, "hotspots.gistar", {"category": ["纠纷"]})
    assert disputes.findings
    assert all(f.evidence["n_incidents"] == 200 for f in disputes.findings)
    thefts = run(store, make_context, "hotspots.gistar", {"category": ["盗窃"], "min_count": 5})
    at_hot = [f for f in thefts.findings if contains(f.geometry, *HOT)]
    assert len(at_hot) == 1 and at_hot[0].evidence["count"] >= 30
    assert "盗窃" in at_hot[0].title
    assert all(f.evidence["n_incidents"] == 110 for f in thefts.findings)
