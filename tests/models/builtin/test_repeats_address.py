"""Built-in model repeats.address: address variants join into one high-incidence place."""

from __future__ import annotations

from datetime import timedelta

from haizhou.domain import Level

from ._helpers import DAY, STATION_A, run
from .conftest import Point

VARIANTS = ("新浦路32号", "新浦路 三十二號", "江苏省连云港市海州区新浦路32号", "新浦路３２号")


def test_variants_of_one_address_are_one_place(store, add_points, make_context) -> None:  # type: ignore[no-untyped-def]
    points = [
        Point(at=DAY - timedelta(days=2 + 5 * i), lon=119.2001, lat=34.6001, code=STATION_A,
              category="盗窃" if i % 3 else "纠纷", address=VARIANTS[i % 4])
        for i in range(9)
    ]  # fmt: skip
    points += [  # a place with two calls only: below min_count
        Point(at=DAY - timedelta(days=3 + i), lon=119.21, lat=34.59, code=STATION_A,
              address="朝阳路1号")
        for i in range(2)
    ]  # fmt: skip
    points += [  # too old for the 90-day window
        Point(at=DAY - timedelta(days=120 + i), lon=119.19, lat=34.605, code=STATION_A,
              address="海连路8号")
        for i in range(6)
    ]  # fmt: skip
    with store.factory() as session:
        add_points(session, points)
    record = run(store, make_context, "repeats.address")
    assert len(record.findings) == 1
    f = record.findings[0]
    assert f.evidence["address"] == "新浦路32号" and f.evidence["count"] == 9
    assert f.level is Level.ORANGE  # 8 <= 9 < 12
    assert f.evidence["top_category"] == "盗窃" and f.evidence["jurisdiction_code"] == STATION_A
    assert len(f.evidence["incident_ids"]) == 9
    assert f.geometry["type"] == "Point"
    assert "新浦路32号" in f.title and "9起" in f.explanation


def test_thresholds_are_checked(store, make_context) -> None:  # type: ignore[no-untyped-def]
    from haizhou.models.registry import discover
    from haizhou.models.runner import ParamsError, run_model

    model = discover(entry_points=False, packaged_rules=False).get("repeats.address")
    with store.factory() as session:
        try:
            run_model(model, params={"yellow_count": 9, "orange_count": 4},
                      context=make_context(session, DAY - timedelta(days=1), DAY))  # fmt: skip
        except ParamsError as exc:
            assert "yellow_count" in str(exc)
        else:  # pragma: no cover - the test fails here
            raise AssertionError("out-of-order thresholds must be refused")
