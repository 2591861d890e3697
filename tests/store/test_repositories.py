"""Repositories on both back ends: scope filtering, windows, records and frames."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import h3
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from haizhou.domain import CaseStatus, Finding, Incident, Level, SensorKind, SensorStatus
from haizhou.store.repositories import cases, findings, incidents, jurisdictions, sensors

# --- jurisdictions ----------------------------------------------------------------------------


def test_list_jurisdictions_respects_scope(session: Session, city) -> None:
    a, b, c = city.stations
    everything = jurisdictions.list_jurisdictions(session=session, scope=None)
    assert [j.code for j in everything] == [a, b, c]
    assert everything[0].geometry["type"] == "Polygon"
    assert everything[0].station == "派出所 1"

    assert [j.code for j in jurisdictions.list_jurisdictions(session=session, scope={c, a})] == [
        a,
        c,
    ]
    assert jurisdictions.list_jurisdictions(session=session, scope=[]) == []
    assert jurisdictions.list_jurisdictions(session=session, scope=["nowhere"]) == []
    assert jurisdictions.count_jurisdictions(session=session, scope=[b]) == 1
    bare = jurisdictions.list_jurisdictions(session=session, scope=None, with_geometry=False)
    assert [j.geometry for j in bare] == [None, None, None]


def test_get_jurisdiction_out_of_scope_looks_missing(session: Session, city) -> None:
    a, b, _ = city.stations
    found = jurisdictions.get_jurisdiction(session=session, scope=[a], code=a)
    assert found is not None and found.code == a and found.parent_code == "320706"
    assert jurisdictions.get_jurisdiction(session=session, scope=[a], code=b) is None
    assert jurisdictions.get_jurisdiction(session=session, scope=None, code="nope") is None


def test_a_string_scope_is_refused(session: Session, city) -> None:
    with pytest.raises(TypeError, match=r"not the string '320706001'; pass \['320706001'\]"):
        jurisdictions.list_jurisdictions(session=session, scope="320706001")


# --- incidents --------------------------------------------------------------------------------


def _day(city):
    return {"start": city.t0, "end": city.t0 + timedelta(days=1)}


@pytest.mark.parametrize(
    ("scope_index", "expected"),
    [
        (None, {"i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8"}),
        ((0,), {"i1", "i2", "i8"}),
        ((1, 2), {"i3", "i4", "i5", "i6"}),
        ((), set()),
    ],
)
def test_incident_scope_filtering(session: Session, city, scope_index, expected) -> None:
    scope = None if scope_index is None else [city.stations[i] for i in scope_index]

    records = list(incidents.iter_incidents(session=session, scope=scope, **_day(city)))

    assert {r.id for r in records} == expected
    assert incidents.count_incidents(session=session, scope=scope, **_day(city)) == len(expected)
    frame = incidents.incident_frame(session=session, scope=scope, **_day(city))
    assert set(frame["source_id"]) == expected
    if scope is not None:  # nothing outside the scope leaks, not even unassigned rows
        assert {r.jurisdiction_code for r in records} <= set(scope)


def test_incident_window_is_half_open(session: Session, city) -> None:
    t0 = city.t0
    one_hour = {"start": t0 + timedelta(hours=1), "end": t0 + timedelta(hours=2)}
    ids = [r.id for r in incidents.iter_incidents(session=session, scope=None, **one_hour)]
    assert ids == ["i2", "i3"]  # i4 at exactly `end` is excluded, i2/i3 at `start` included


def test_window_given_in_any_zone_selects_the_same_instants(session: Session, city) -> None:
    in_utc = {
        "start": city.t0.astimezone(UTC),
        "end": (city.t0 + timedelta(hours=3)).astimezone(UTC),
    }
    in_shanghai = {"start": city.t0, "end": city.t0 + timedelta(hours=3)}
    assert incidents.count_incidents(session=session, scope=None, **in_utc) == 4
    assert incidents.count_incidents(session=session, scope=None, **in_shanghai) == 4


def test_iter_incidents_returns_full_records_in_time_order(session: Session, city) -> None:
    records = list(incidents.iter_incidents(session=session, scope=None, **_day(city)))

    assert [r.id for r in records] == ["i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8"]
    first = records[0]
    assert isinstance(first, Incident)
    assert first.reported_at == city.incident_times["i1"]
    assert first.reported_at.tzinfo == UTC
    assert (first.lon, first.lat) == city.centre[city.stations[0]]
    assert first.caller_masked == "138****0000"
    assert first.source == "test"


@pytest.mark.parametrize("chunk_size", [1, 2, 3])
def test_iter_incidents_chunks_lose_nothing_at_equal_timestamps(
    session: Session, city, chunk_size: int
) -> None:
    """i2 and i3 share a timestamp: keyset paging on (time, id) must return both once."""
    whole = [r.id for r in incidents.iter_incidents(session=session, scope=None, **_day(city))]
    chunked = [
        r.id
        for r in incidents.iter_incidents(
            session=session, scope=None, chunk_size=chunk_size, **_day(city)
        )
    ]
    assert chunked == whole


def test_incident_category_and_bbox_filters(session: Session, city) -> None:
    day = _day(city)
    count = incidents.count_incidents
    assert count(session=session, scope=None, category="theft", **day) == 6
    assert count(session=session, scope=None, category=["fight", "fraud"], **day) == 2
    a_lon, a_lat = city.centre[city.stations[0]]
    around_a = (a_lon - 0.001, a_lat - 0.001, a_lon + 0.001, a_lat + 0.001)
    assert count(session=session, scope=None, bbox=around_a, **day) == 3
    ids = {
        r.id for r in incidents.iter_incidents(session=session, scope=None, bbox=around_a, **day)
    }
    assert ids == {"i1", "i2", "i8"}


def test_incident_frame_columns_types_and_cells(session: Session, city) -> None:
    frame = incidents.incident_frame(session=session, scope=None, **_day(city))

    assert list(frame.columns) == list(incidents.FRAME_COLUMNS)
    assert len(frame) == 8
    assert str(frame["reported_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["lon"].dtype == "float64" and frame["h3_r9"].dtype == "int64"
    first = frame.iloc[0]
    assert first["source_id"] == "i1"
    assert first["reported_at"] == pd.Timestamp("2026-03-01 00:00", tz="UTC")
    assert h3.int_to_str(int(first["h3_r9"])) == h3.latlng_to_cell(first["lat"], first["lon"], 9)
    assert frame["jurisdiction_code"].isna().sum() == 1
    assert "caller_pseudonym" not in frame.columns


def test_empty_incident_frame_keeps_its_types(session: Session, city) -> None:
    frame = incidents.incident_frame(session=session, scope=[], **_day(city))
    assert frame.empty
    assert list(frame.columns) == list(incidents.FRAME_COLUMNS)
    assert str(frame["reported_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["h3_r8"].dtype == "int64"


def test_bad_windows_and_boxes_are_clear_errors(session: Session, city) -> None:
    t0 = city.t0
    naive = t0.replace(tzinfo=None)
    with pytest.raises(ValueError, match="start=2026-03-01T08:00:00 has no time zone"):
        incidents.count_incidents(session=session, scope=None, start=naive, end=t0)
    with pytest.raises(ValueError, match="time window is empty"):
        incidents.count_incidents(session=session, scope=None, start=t0, end=t0)
    with pytest.raises(ValueError, match="longitude comes first"):
        incidents.count_incidents(
            session=session,
            scope=None,
            start=t0,
            end=t0 + timedelta(1),
            bbox=(34.5, 119.1, 34.7, 119.3),
        )
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        next(
            incidents.iter_incidents(
                session=session, scope=None, start=t0, end=t0 + timedelta(1), chunk_size=0
            )
        )


# --- cases ------------------------------------------------------------------------------------


def test_cases_scope_status_and_record_mapping(session: Session, city) -> None:
    a, b, _ = city.stations
    window = {"start": city.t0 - timedelta(days=1), "end": city.t0 + timedelta(days=1)}

    assert cases.count_cases(session=session, scope=None, **window) == 2
    assert cases.count_cases(session=session, scope=[b], **window) == 1
    assert cases.count_cases(session=session, scope=None, status="solved", **window) == 1
    (solved,) = cases.iter_cases(session=session, scope=[a], **window)
    assert solved.id == "c1" and solved.incident_id == "i1"
    assert solved.status is CaseStatus.SOLVED
    assert solved.mo.entry_method == "撬锁" and solved.mo.extra == {"floor": "3"}
    assert solved.suspect_pseudonyms == ("s" * 64,)
    assert solved.loss_amount == 1200.5
    assert solved.occurred_to - solved.occurred_from == timedelta(hours=8)
    assert solved.solved_at == city.t0 + timedelta(days=3)

    frame = cases.case_frame(session=session, scope=None, **window)
    assert list(frame["source_id"]) == ["c1", "c2"]
    assert list(frame.columns) == list(cases.FRAME_COLUMNS)
    assert str(frame["occurred_to"].dtype) == "datetime64[ns, UTC]"


def test_case_window_selects_on_occurrence_start(session: Session, city) -> None:
    only_c2 = {"start": city.t0, "end": city.t0 + timedelta(hours=1)}
    assert [c.id for c in cases.iter_cases(session=session, scope=None, **only_c2)] == ["c2"]


# --- sensors ----------------------------------------------------------------------------------


def test_sensors_scope_kind_and_status(session: Session, city) -> None:
    a, b, c = city.stations
    everything = sensors.list_sensors(session=session, scope=None)
    assert [s.id for s in everything] == ["cam-1", "radar-1"]
    camera = everything[0]
    assert camera.kind is SensorKind.CAMERA and camera.fov_deg == 60.0
    assert [s.id for s in sensors.list_sensors(session=session, scope=[c])] == ["radar-1"]
    assert sensors.list_sensors(session=session, scope=[b]) == []
    assert [s.id for s in sensors.list_sensors(session=session, scope=None, kind="radar")] == [
        "radar-1"
    ]
    assert sensors.count_sensors(session=session, scope=None, status=SensorStatus.ACTIVE) == 1
    assert sensors.count_sensors(session=session, scope=[a, c], kind=["camera", "radar"]) == 2
    with pytest.raises(ValueError, match="'sonar' is not a valid SensorKind"):
        sensors.list_sensors(session=session, scope=None, kind="sonar")


# --- findings ---------------------------------------------------------------------------------


def _finding(city, *, level: Level, hours: int, kind: str = "hotspot") -> Finding:
    lon, lat = city.centre[city.stations[0]]
    return Finding(
        kind=kind,
        title=f"{kind} {hours}",
        level=level,
        geometry={"type": "Point", "coordinates": [lon, lat]},
        window_start=city.t0 + timedelta(hours=hours),
        window_end=city.t0 + timedelta(hours=hours + 24),
        explanation="3 thefts in 24 h",
        suggested_action="patrol",
        model_id="hotspot.kde",
        model_version="1.0.0",
        evidence={"count": 3, "incident_ids": ["i1", "i2"]},
        key=f"cell-{hours}",
    )


def test_findings_round_trip_with_scope(session: Session, city) -> None:
    a, b, _ = city.stations
    red = _finding(city, level=Level.RED, hours=0)
    blue = _finding(city, level=Level.BLUE, hours=48, kind="repeat")
    stray = _finding(city, level=Level.YELLOW, hours=24)
    created = city.t0 + timedelta(days=5)

    ids = findings.add_findings(
        session=session,
        findings=[red, blue, stray],
        jurisdiction_codes=[a, b, None],
        created_at=created,
    )
    session.commit()

    assert len(set(ids)) == 3
    everything = findings.list_findings(session=session, scope=None)
    assert [f.finding for f in everything] == [blue, stray, red]  # newest window first
    assert [f.id for f in everything] == [ids[1], ids[2], ids[0]]
    assert everything[0].created_at == created and everything[0].created_at.tzinfo == UTC
    (mine,) = findings.list_findings(session=session, scope=[a])
    assert mine.finding == red and mine.jurisdiction_code == a
    assert findings.count_findings(session=session, scope=[a, b]) == 2
    assert findings.count_findings(session=session, scope=None, level=["red", "yellow"]) == 2
    assert findings.count_findings(session=session, scope=None, kind="repeat") == 1
    overlapping = findings.list_findings(
        session=session,
        scope=None,
        start=city.t0 + timedelta(hours=30),
        end=city.t0 + timedelta(hours=40),
    )
    assert [f.finding for f in overlapping] == [stray]


def test_add_findings_needs_one_code_per_finding(session: Session, city) -> None:
    with pytest.raises(ValueError, match="got 1 findings but 2 jurisdiction codes"):
        findings.add_findings(
            session=session,
            findings=[_finding(city, level=Level.RED, hours=0)],
            jurisdiction_codes=["a", "b"],
        )


def test_frame_agrees_with_records_to_the_microsecond(
    session: Session, city, make_incident
) -> None:
    """The frame's bulk time conversion against the per-row UTCDateTime path."""
    odd = city.t0.astimezone(ZoneInfo("America/Chicago")) + timedelta(microseconds=123457)
    session.add(make_incident("odd", at=odd, code=city.stations[1], lon=119.25, lat=34.6))
    session.commit()
    window = _day(city)

    records = list(incidents.iter_incidents(session=session, scope=None, **window))
    frame = incidents.incident_frame(session=session, scope=None, **window)

    assert list(frame["source_id"]) == [r.id for r in records]
    assert [t.to_pydatetime() for t in frame["reported_at"]] == [r.reported_at for r in records]
    assert frame.loc[frame["source_id"] == "odd", "reported_at"].item().microsecond == 123457
    assert list(frame["lon"]) == [r.lon for r in records]
    assert list(frame["jurisdiction_code"]) == [r.jurisdiction_code for r in records]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    picks=st.one_of(st.none(), st.sets(st.integers(0, 3))),
    hours=st.tuples(st.integers(-2, 26), st.integers(1, 30)),
)
def test_scope_and_window_select_exactly_the_matching_incidents(
    session: Session, city, picks, hours
) -> None:
    """Property: for any scope (index 3 = a code with no rows) and window, every reader returns
    exactly the incidents a plain Python filter over the city returns."""
    codes = [*city.stations, "no-such-station"]
    scope = None if picks is None else {codes[i] for i in picks}
    start = city.t0 + timedelta(hours=hours[0])
    end = start + timedelta(hours=hours[1])
    expected = {
        source_id
        for source_id, code in city.incident_codes.items()
        if (scope is None or code in scope) and start <= city.incident_times[source_id] < end
    }
    window = {"start": start, "end": end}

    records = [
        r.id for r in incidents.iter_incidents(session=session, scope=scope, chunk_size=2, **window)
    ]

    assert set(records) == expected and len(records) == len(expected)
    assert incidents.count_incidents(session=session, scope=scope, **window) == len(expected)
    assert (
        set(incidents.incident_frame(session=session, scope=scope, **window)["source_id"])
        == expected
    )
