from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta

import pytest

from haizhou.domain import Case, Finding, Level


def _case(**kw):
    base = {
        "id": "A1",
        "source": "test",
        "category": "burglary",
        "occurred_from": datetime(2024, 3, 1, 2, tzinfo=UTC),
        "occurred_to": datetime(2024, 3, 1, 4, tzinfo=UTC),
        "lon": 119.18,
        "lat": 34.6,
    }
    base.update(kw)
    return Case(**base)


def test_case_window_must_not_run_backwards():
    start = datetime(2024, 3, 1, 4, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        _case(occurred_from=start, occurred_to=start - timedelta(hours=1))


def test_records_are_frozen():
    case = _case()
    with pytest.raises(FrozenInstanceError):
        case.lon = 0.0  # type: ignore[misc]


def test_levels_rank_red_first():
    assert sorted(Level, key=lambda lv: lv.rank) == [Level.RED, Level.ORANGE, Level.YELLOW, Level.BLUE]
    assert Level("orange").title_zh == "橙色"


def test_finding_carries_model_identity():
    now = datetime(2024, 5, 1, tzinfo=UTC)
    finding = Finding(
        kind="hotspot",
        title="新浦商圈盗窃高发",
        level=Level.RED,
        geometry={"type": "Point", "coordinates": [119.18, 34.6]},
        window_start=now - timedelta(days=7),
        window_end=now,
        explanation="observed 42 against 12 expected",
        suggested_action="increase patrol 20:00-02:00",
        model_id="hotspots.gi_star",
        model_version="1.0.0",
    )
    assert finding.evidence == {}
    assert finding.level is Level.RED
