"""Shared helpers of the analytics model tests (not a test module)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from haizhou.models.registry import discover
from haizhou.models.runner import RunRecord, run_model

from .conftest import Point

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"
CENTRES = {STATION_A: (119.20, 34.60), STATION_B: (119.25, 34.60)}
DAY = datetime(2026, 3, 4, tzinfo=SHANGHAI)  # the run's window ends at DAY


def scatter(
    rng: np.random.Generator,
    n: int,
    *,
    start: datetime,
    days: float,
    code: str,
    category: str = "盗窃",
    half: float = 0.009,
) -> list[Point]:
    """``n`` incidents uniform over a station's square and over ``days`` from ``start``."""
    lon0, lat0 = CENTRES[code]
    return [
        Point(
            at=start + timedelta(days=float(rng.uniform(0, days))),
            lon=lon0 + float(rng.uniform(-half, half)),
            lat=lat0 + float(rng.uniform(-half, half)),
            category=category,
            code=code,
        )
        for _ in range(n)
    ]


def run(store, make_context, model_id: str, params: dict | None = None) -> RunRecord:  # type: ignore[no-untyped-def]
    """Run a built-in model for the day before :data:`DAY` and commit its findings."""
    model = discover(entry_points=False, packaged_rules=False).get(model_id)
    with store.factory() as session:
        record = run_model(
            model, params=params or {}, context=make_context(session, DAY - timedelta(days=1), DAY)
        )
        session.commit()
    assert record.ok, record.error
    return record


def contains(geometry: dict, lon: float, lat: float) -> bool:
    """Whether a GeoJSON polygon holds the point."""
    from shapely.geometry import Point as P
    from shapely.geometry import shape

    return bool(shape(geometry).buffer(1e-9).contains(P(lon, lat)))
