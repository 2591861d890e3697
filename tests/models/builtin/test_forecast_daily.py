"""Built-in model forecast.daily: the riskiest cells are the planted hot places, and every
finding carries the concentration report."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from haizhou.domain import Level

from ._helpers import DAY, STATION_A, STATION_B, contains, run, scatter
from .conftest import Point

HOT = ((119.195, 34.605), (119.205, 34.595), (119.252, 34.603))


def _city(rng: np.random.Generator) -> list[Point]:
    start = DAY - timedelta(days=200)
    points = scatter(rng, 400, start=start, days=199.9, code=STATION_A)
    points += scatter(rng, 400, start=start, days=199.9, code=STATION_B)
    points += scatter(rng, 300, start=start, days=199.9, code=STATION_B, category="纠纷")
    for k, (lon, lat) in enumerate(HOT):
        code = STATION_B if lon > 119.225 else STATION_A
        points += [
            Point(at=start + timedelta(days=float(rng.uniform(0, 199.9))), lon=lon, lat=lat,
                  code=code, category="入室盗窃" if k else "抢劫")
            for _ in range(60)
        ]  # fmt: skip
    return points


def test_hot_places_are_flagged_with_concentration(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        add_points(session, _city(np.random.default_rng(5)))
    record = run(store, make_context, "forecast.daily", {"validation_days": 5})
    assert record.findings
    top3 = record.findings[:3]
    for lon, lat in HOT:
        assert any(contains(f.geometry, lon, lat) for f in top3)
    assert [f.evidence["rank"] for f in record.findings] == list(range(1, len(record.findings) + 1))
    first = record.findings[0]
    assert first.level is Level.RED
    assert first.evidence["method"] in {"naive", "retrospective", "prospective", "kde", "blend"}
    assert set(first.evidence["validation_pai_5pct"]) == {
        "naive",
        "retrospective",
        "prospective",
        "kde",
        "blend",
    }
    conc = first.evidence["concentration"]
    assert set(conc["zones"]) <= {STATION_A, STATION_B, "unknown"}
    assert abs(sum(conc["flag_share"][0]) - 1) < 1e-9
    assert conc["summary"]["top_decile_share"] > 0.5  # the flags sit on past hot cells
    assert conc["spearman_past"][0] > 0
    assert first.window_start == DAY and first.window_end == DAY + timedelta(days=1)
    # 纠纷 is not a target category: the target is 入室盗窃, 盗窃, 抢劫 by default
    assert first.evidence["category"] == ["入室盗窃", "盗窃", "抢劫"]


def test_fixed_method_skips_the_backtest(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        add_points(session, _city(np.random.default_rng(6)))
    record = run(store, make_context, "forecast.daily",
                 {"method": "naive", "category": ["纠纷"], "max_findings": 5})  # fmt: skip
    assert len(record.findings) == 5
    assert {f.evidence["method"] for f in record.findings} == {"naive"}
    assert record.findings[0].evidence["validation_pai_5pct"] == {}
    counts = [f.evidence["past_count"] for f in record.findings]
    assert counts == sorted(counts, reverse=True)  # naive ranks by past counts
