"""The live pipeline and its recorder without a broker: decode → track → assess → alert → store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from haizhou.airspace.decode.adsb_encode import encode_airborne_position
from haizhou.feeds.area import add_permit, load_area, save_scenario_area
from haizhou.feeds.messages import FeedError, FeedMessage, parse_topic, topic_for
from haizhou.feeds.pipeline import LivePipeline
from haizhou.feeds.recorder import Recorder, store_message
from haizhou.feeds.runner import AirspaceRunner
from haizhou.feeds.synthetic import radar_plot, remote_id_pack
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables.airspace import (
    AirspaceAlertRow,
    AirspaceIncidentRow,
    AirspaceMessageRow,
    AirspaceTimelineRow,
    AirspaceTrackRow,
    AirspaceZoneRow,
)

# The stadium scenario's event zone is active 2026-05-01 18:00-23:00 +08:00.
MATCH = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
STADIUM = (119.2280, 34.5800)
INTRUDER, PERMITTED = "1581F5FJD23A00001", "1581F5FJD23A00002"
KEY = b"k" * 32


def _world(
    tmp_path: Path,
    *,
    permit_window: tuple[datetime, datetime] | None = None,
    url: str | None = None,
):
    url = url or f"sqlite:///{tmp_path / 'air.db'}"
    migrate.upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    start, end = permit_window or (MATCH - timedelta(days=1), MATCH + timedelta(days=1))
    with factory() as session:
        save_scenario_area(session, "stadium_match_day")
        add_permit(
            session,
            pseudonymiser=Pseudonymiser(KEY),
            permit_id="P-1",
            serial=PERMITTED,
            operator="电视台航拍组",
            polygon=[(119.225, 34.577), (119.232, 34.577), (119.232, 34.583), (119.225, 34.583)],
            valid_from=start,
            valid_to=end,
        )
        session.commit()
    return factory


def _device(serial: str) -> tuple[str, str]:
    p = Pseudonymiser(KEY).pseudonymise(serial, IdentifierKind.DEVICE)
    return p.token, p.masked


def _rid(serial: str, lon: float, lat: float, at: datetime, sensor: str = "rid-1") -> FeedMessage:
    return FeedMessage(
        sensor_id=sensor,
        kind="remoteid",
        payload=remote_id_pack(serial, lon, lat, 80.0, pilot=(119.21, 34.57)),
        received_at=at,
    )


def test_topics_round_trip_and_refuse_bad_names() -> None:
    assert parse_topic(topic_for("rid-north", "adsb")) == ("rid-north", "adsb")
    for bad in ("haizhou/airspace/x/video", "haizhou/airspace/x", "other/airspace/x/rf"):
        with pytest.raises(FeedError):
            parse_topic(bad)
    with pytest.raises(FeedError):
        topic_for("a/b", "rf")


def test_intruder_in_event_zone_alerts_once_and_permitted_drone_does_not(
    tmp_path: Path, database_url: str
) -> None:
    factory = _world(tmp_path, url=database_url)
    with factory() as session:
        area = load_area(session)
    device = _device
    pipeline = LivePipeline(area=area, epoch=MATCH, pseudonymise=device)
    recorder = Recorder(factory, "run-1")
    alerts = []
    for k in range(6):
        now = MATCH + timedelta(seconds=k)
        batch = [
            _rid(INTRUDER, 119.2310, 34.5810 - 0.0002 * k, now, "rid-1"),
            _rid(PERMITTED, 119.2290, 34.5790, now, "rid-2"),
        ]
        result = pipeline.process(batch, now)
        recorder.record(result)
        alerts.extend(result.alerts)
    assert [a.kind for a in alerts] == ["violation"]
    assert alerts[0].level == "red"
    with factory() as session:
        tracks = {t.serial_masked: t for t in session.scalars(select(AirspaceTrackRow))}
        assert len(tracks) == 2
        masked_intruder = device(INTRUDER)[1]
        assert INTRUDER not in masked_intruder
        intruder, permitted = tracks[masked_intruder], tracks[device(PERMITTED)[1]]
        assert intruder.authorisation == "violation"
        assert intruder.zones == ["体育中心临时管控区"]
        assert masked_intruder in " ".join(intruder.reasons)
        assert device(INTRUDER)[0] not in " ".join(intruder.reasons)
        assert intruder.pilot_lon == pytest.approx(119.21, abs=1e-6)
        assert permitted.authorisation == "authorised" and permitted.permit_id == "P-1"
        assert session.scalar(select(func.count()).select_from(AirspaceMessageRow)) == 12
        assert not session.scalars(select(AirspaceTrackRow.serial_pseudonym)).all().count(INTRUDER)
        alert = session.scalars(select(AirspaceAlertRow)).one()
        assert alert.track_row_id == intruder.id
        incident = session.scalars(select(AirspaceIncidentRow)).one()
        stages = set(session.scalars(select(AirspaceTimelineRow.stage)))
        assert incident.track_row_id == intruder.id
        assert {"detected", "tracked", "identified"} <= stages


def test_expired_permit_is_a_violation(tmp_path: Path) -> None:
    factory = _world(tmp_path, permit_window=(MATCH - timedelta(days=2), MATCH - timedelta(days=1)))
    with factory() as session:
        area = load_area(session)
    pipeline = LivePipeline(area=area, epoch=MATCH, pseudonymise=_device)
    result = pipeline.process([_rid(PERMITTED, 119.2290, 34.5790, MATCH)], MATCH)
    assert [t.authorisation for t in result.tracks] == ["violation"]
    assert any("not valid" in r for r in result.tracks[0].reasons)


def test_radar_only_target_is_confirmed_by_time_based_m_of_n(tmp_path: Path) -> None:
    factory = _world(tmp_path)
    with factory() as session:
        area = load_area(session)
    pipeline = LivePipeline(area=area, epoch=MATCH, pseudonymise=lambda s: (s, s))
    confirmed_at = None
    for k in range(8):
        now = MATCH + timedelta(seconds=k * 0.5)
        msgs = [
            FeedMessage(
                sensor_id="radar-1",
                kind="radar",
                payload=radar_plot((0.0, -500.0), 300.0, 900.0 - 8.0 * k * 0.5, 100.0),
                received_at=now,
            )
        ]
        # many other messages in between must not drop the tentative radar track
        msgs += [_rid(INTRUDER, 119.26, 34.60, now, "rid-far")] * 3
        result = pipeline.process(msgs, now)
        if confirmed_at is None and any(t.sensors.get("radar") for t in result.tracks):
            confirmed_at = k
    assert confirmed_at is not None and confirmed_at <= 3


def test_bad_messages_are_kept_with_their_error(tmp_path: Path) -> None:
    factory = _world(tmp_path)
    with factory() as session:
        area = load_area(session)
    pipeline = LivePipeline(area=area, epoch=MATCH, pseudonymise=lambda s: (s, s))
    msgs = [
        FeedMessage(sensor_id="rid-1", kind="remoteid", payload=b"\x77", received_at=MATCH),
        FeedMessage(sensor_id="radar-1", kind="radar", payload=b"{nope", received_at=MATCH),
        FeedMessage(
            sensor_id="rf-1",
            kind="rf",
            payload=json.dumps({"type": "radar_plot"}).encode(),
            received_at=MATCH,
        ),
        FeedMessage(
            sensor_id="a-1", kind="adsb", payload=b"8D406B902015A678D4D220AA4BDB", received_at=MATCH
        ),
    ]
    result = pipeline.process(msgs, MATCH)
    errors = [d.error for d in result.decoded]
    assert all(errors), errors
    Recorder(factory, "r").record(result)
    with factory() as session:
        rows = session.scalars(select(AirspaceMessageRow).order_by(AirspaceMessageRow.id)).all()
        assert [r.error is not None for r in rows] == [True] * 4
        assert rows[0].payload == b"\x77"


def test_adsb_airliner_is_manned_and_authorised(tmp_path: Path) -> None:
    factory = _world(tmp_path)
    with factory() as session:
        area = load_area(session)
    pipeline = LivePipeline(area=area, epoch=MATCH, pseudonymise=lambda s: (s, s))
    views = []
    for k in range(6):
        now = MATCH + timedelta(seconds=k)
        raw = encode_airborne_position(
            icao="780A3B", lat=34.60 + 0.002 * k, lon=119.20, altitude_ft=9000, odd=k % 2
        )
        msg = FeedMessage(
            sensor_id="adsb-1", kind="adsb", payload=raw.hex().encode(), received_at=now
        )
        result = pipeline.process([msg], now)
        assert result.decoded[0].error is None
        views.extend(result.tracks)
    assert views and views[-1].serial_masked == "ICAO:780A3B"
    assert views[-1].alt_m == pytest.approx(9000 * 0.3048, abs=30)
    assert views[-1].label == "manned" and views[-1].authorisation == "authorised"
    assert not any(v.authorisation in ("unauthorised", "violation") for v in views[-2:])


def test_runner_processes_http_messages_stored_by_the_api(tmp_path: Path) -> None:
    factory = _world(tmp_path)
    with factory() as session:
        session.add(
            AirspaceZoneRow(
                name="第一中学",
                kind="school",
                polygon=[[119.25, 34.59], [119.26, 34.59], [119.26, 34.60], [119.25, 34.60]],
                floor_m=0,
                ceiling_m=300,
                active=[],
            )
        )
        for k in range(3):
            store_message(
                session,
                FeedMessage(
                    sensor_id="rid-9",
                    kind="remoteid",
                    payload=remote_id_pack(INTRUDER, 119.255, 34.595, 60.0).hex().encode(),
                    received_at=MATCH + timedelta(days=200, seconds=k),
                    transport="http",
                ),
            )
        session.commit()
    clock = iter(MATCH + timedelta(days=200, seconds=5 + k) for k in range(100))
    runner = AirspaceRunner(factory, Pseudonymiser(KEY), clock=lambda: next(clock))
    seen = []
    runner.listeners.append(lambda alert, alert_id, at: seen.append((alert.kind, alert_id)))
    pending = runner.pending_http()
    assert len(pending) == 3
    runner.process(pending)
    assert runner.pending_http() == []
    assert [k for k, _ in seen] == ["violation"]  # the school zone is permanent
    with factory() as session:
        alert = session.get(AirspaceAlertRow, seen[0][1])
        assert "第一中学" in " ".join(alert.reasons)
        processed = session.scalars(select(AirspaceMessageRow.processed_at)).all()
        assert all(p is not None for p in processed) and len(processed) == 3


def _pipeline(tmp_path: Path) -> LivePipeline:
    """A pipeline over the stadium scenario's area, without a recorder."""
    with _world(tmp_path)() as session:
        area = load_area(session)
    return LivePipeline(area=area, epoch=MATCH, pseudonymise=_device)


def test_second_drone_with_another_serial_near_a_coasting_one_gets_its_own_track(
    tmp_path: Path,
) -> None:
    pipeline = _pipeline(tmp_path)
    pipeline.process([_rid(INTRUDER, 119.2310, 34.5810, MATCH)], MATCH)
    later = MATCH + timedelta(seconds=3)
    result = pipeline.process([_rid(PERMITTED, 119.2313, 34.5812, later)], later)
    assert {t.serial_masked for t in result.tracks} >= {_device(PERMITTED)[1]}


def test_repeated_broadcast_within_a_frame_is_applied_once_and_a_move_never_waits(
    tmp_path: Path,
) -> None:
    pipeline = _pipeline(tmp_path)
    at = MATCH + timedelta(seconds=10)
    step = timedelta(milliseconds=40)  # batches shorter than the 0.2 s frame

    def hits() -> int:
        (track,) = pipeline.tracker.tracks
        return track.hits

    pipeline.process([_rid(INTRUDER, 119.2310, 34.5810, at)], at)
    first = hits()
    for k in range(1, 4):  # the transmitter repeats its location message: no new information
        now = at + k * step
        pipeline.process([_rid(INTRUDER, 119.2310, 34.5810, now)], now)
    assert hits() == first
    now = at + 4 * step  # moved, still inside the frame: applied at once
    pipeline.process([_rid(INTRUDER, 119.2312, 34.5810, now)], now)
    assert hits() == first + 1
    now = at + 15 * step  # the same position again, frames later (hovering): applied
    pipeline.process([_rid(INTRUDER, 119.2312, 34.5810, now)], now)
    assert hits() == first + 2
    now += step  # the same position from another receiver: applied
    pipeline.process([_rid(INTRUDER, 119.2312, 34.5810, now, sensor="rid-2")], now)
    assert hits() == first + 3
