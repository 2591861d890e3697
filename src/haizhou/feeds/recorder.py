"""Recorder (记录器): writes one processed batch to the store in one transaction.

Messages are bulk-inserted (``COPY`` on PostgreSQL, one multi-row insert on SQLite; HTTP
messages stored on arrival are marked processed instead), tracks upserted, alerts inserted, an incident with its first timeline stages opened at a track's
first alert, and ended tracks marked inactive (their incident resolved). One commit per batch
keeps the store current within one batch of the picture without a commit per message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from haizhou.feeds.messages import FeedMessage
from haizhou.feeds.pipeline import Decoded, StepResult, TrackView
from haizhou.store.tables.airspace import (
    AirspaceAlertRow,
    AirspaceIncidentRow,
    AirspaceMessageRow,
    AirspaceTimelineRow,
    AirspaceTrackRow,
)

__all__ = ["Recorder", "store_message"]


def store_message(session: Session, msg: FeedMessage) -> AirspaceMessageRow:
    """Keep one received message before processing (HTTP); not committed."""
    row = AirspaceMessageRow(
        received_at=msg.received_at,
        transport=msg.transport,
        sensor_id=msg.sensor_id,
        kind=msg.kind,
        topic=msg.topic,
        payload=msg.payload,
    )
    session.add(row)
    return row


def _message_values(d: Decoded, now: datetime) -> dict[str, Any]:
    m = d.message
    return {
        "received_at": m.received_at,
        "transport": m.transport,
        "sensor_id": m.sensor_id,
        "kind": m.kind,
        "topic": m.topic,
        "payload": m.payload,
        "decoded": d.decoded,
        "error": d.error,
        "processed_at": now,
    }


_COPY_COLUMNS = (
    "received_at",
    "transport",
    "sensor_id",
    "kind",
    "topic",
    "payload",
    "decoded",
    "error",
    "processed_at",
)


def _json_text(value: dict[str, Any] | None) -> str | None:
    """JSON text of a decoded message (``None`` stays SQL NULL)."""
    if value is None:
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # a type orjson does not know: the standard library's answer
        return json.dumps(value)


def _copy_messages(session: Session, decoded: Sequence[Decoded], now: datetime) -> None:
    """PostgreSQL: the batch's message rows in one ``COPY`` (no per-row parameters)."""
    dbapi = session.connection().connection.dbapi_connection
    if dbapi is None:  # pragma: no cover - a checked-out connection always has one
        raise RuntimeError("no database connection")
    sql = f"COPY airspace_messages ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
    with dbapi.cursor() as cur, cur.copy(sql) as copy:
        for d in decoded:
            m = d.message
            copy.write_row(
                (
                    m.received_at,
                    m.transport,
                    m.sensor_id,
                    m.kind,
                    m.topic,
                    m.payload,
                    _json_text(d.decoded),
                    d.error,
                    now,
                )
            )


def _track_values(v: TrackView) -> dict[str, Any]:
    return {
        "last_seen": v.time,
        "active": True,
        "label": v.label,
        "confidence": v.confidence,
        "authorisation": v.authorisation,
        "threat_score": v.threat_score,
        "level": v.level,
        "distance_m": v.distance_m,
        "lon": v.lon,
        "lat": v.lat,
        "alt_m": v.alt_m,
        "speed_mps": v.speed_mps,
        "heading_deg": v.heading_deg,
        "state": list(v.state),
        "sensors": v.sensors,
        "reasons": list(v.reasons),
        "zones": list(v.zones),
        "permit_id": v.permit_id,
        "serial_pseudonym": v.serial_pseudonym,
        "serial_masked": v.serial_masked,
        "pilot_lon": v.pilot_lon,
        "pilot_lat": v.pilot_lat,
        "updated_at": v.time,
    }


_TRACKS = AirspaceTrackRow.__table__
# SET the columns of the parameter dicts (:func:`_track_values`), WHERE id = row_id
_TRACK_UPDATE = _TRACKS.update().where(_TRACKS.c.id == bindparam("row_id"))


class Recorder:
    """Writes batches of one pipeline run (``run_id``) to the store.

    Parameters
    ----------
    factory : sessionmaker
    run_id : str
        Tracker ids restart with each run; rows are keyed by ``(run_id, track_id)``.
    """

    def __init__(self, factory: sessionmaker[Session], run_id: str) -> None:
        self.factory = factory
        self.run_id = run_id
        self.rows: dict[int, int] = {}  # tracker id -> airspace_tracks.id
        self.incidents: dict[int, int] = {}  # tracker id -> airspace_incidents.id

    def record(self, result: StepResult) -> list[int]:
        """Write one batch; returns the ids of the alert rows written."""
        with self.factory() as session:
            self._messages(session, result.decoded, result.now)
            self._tracks(session, result.tracks)
            alert_ids = self._alerts(session, result)
            self._ended(session, result.ended, result.now)
            session.commit()
        return alert_ids

    def _messages(self, session: Session, decoded: Sequence[Decoded], now: datetime) -> None:
        fresh = [d for d in decoded if d.message.row_id is None]
        if fresh and session.get_bind().dialect.name == "postgresql":
            _copy_messages(session, fresh, now)
        elif fresh:  # Core executemany: the ORM's bulk path costs more than the insert itself
            session.execute(
                AirspaceMessageRow.__table__.insert(), [_message_values(d, now) for d in fresh]
            )
        stored = [
            {"id": d.message.row_id, "decoded": d.decoded, "error": d.error, "processed_at": now}
            for d in decoded
            if d.message.row_id is not None
        ]
        if stored:
            session.execute(update(AirspaceMessageRow), stored)

    def _tracks(self, session: Session, views: Sequence[TrackView]) -> None:
        known = [
            {"row_id": self.rows[v.track_id], **_track_values(v)}
            for v in views
            if v.track_id in self.rows
        ]
        if known:  # Core executemany by primary key: the ORM's bulk update costs far more
            session.execute(_TRACK_UPDATE, known)
        for v in views:
            if v.track_id in self.rows:
                continue
            row = AirspaceTrackRow(
                run_id=self.run_id, track_id=v.track_id, first_seen=v.first_seen, **_track_values(v)
            )
            session.add(row)
            session.flush()
            self.rows[v.track_id] = row.id

    def _alerts(self, session: Session, result: StepResult) -> list[int]:
        ids = []
        views = {v.track_id: v for v in result.tracks}
        for a in result.alerts:
            row_id = self.rows[a.track_id]
            alert = AirspaceAlertRow(
                track_row_id=row_id,
                raised_at=result.now,
                message_received_at=a.message_received_at,
                kind=a.kind,
                level=a.level,
                title=a.title,
                reasons=list(a.reasons),
                lon=a.lon,
                lat=a.lat,
            )
            session.add(alert)
            session.flush()
            ids.append(alert.id)
            if a.track_id not in self.incidents:
                self._open_incident(session, views[a.track_id], row_id, result.now)
        return ids

    def _open_incident(self, session: Session, v: TrackView, row_id: int, now: datetime) -> None:
        existing = session.scalar(
            select(AirspaceIncidentRow.id).where(AirspaceIncidentRow.track_row_id == row_id)
        )
        if existing is not None:
            self.incidents[v.track_id] = existing
            return
        inc = AirspaceIncidentRow(
            track_row_id=row_id,
            opened_at=now,
            serial_masked=v.serial_masked,
            pilot_lon=v.pilot_lon,
            pilot_lat=v.pilot_lat,
        )
        session.add(inc)
        session.flush()
        self.incidents[v.track_id] = inc.id
        sensors = ", ".join(f"{k} {n}" for k, n in sorted(v.sensors.items()))
        stages = [
            ("detected", v.first_seen, sensors),
            ("tracked", now, f"track {v.track_id}, {v.authorisation}: {'; '.join(v.reasons)}"),
        ]
        if v.label != "unknown":
            stages.append(("identified", now, f"{v.label} ({v.confidence:.2f})"))
        for stage, at, detail in stages:
            session.add(AirspaceTimelineRow(incident_id=inc.id, stage=stage, at=at, detail=detail))

    def _ended(self, session: Session, ended: Sequence[int], now: datetime) -> None:
        for tid in ended:
            row_id = self.rows.pop(tid, None)
            if row_id is None:
                continue
            session.execute(
                update(AirspaceTrackRow)
                .where(AirspaceTrackRow.id == row_id)
                .values(active=False, updated_at=now)
            )
            inc_id = self.incidents.pop(tid, None)
            if inc_id is not None:
                session.execute(
                    update(AirspaceIncidentRow)
                    .where(AirspaceIncidentRow.id == inc_id)
                    .values(closed_at=now)
                )
                done = session.scalar(
                    select(AirspaceTimelineRow.id).where(
                        AirspaceTimelineRow.incident_id == inc_id,
                        AirspaceTimelineRow.stage == "resolved",
                    )
                )
                if done is None:
                    session.add(
                        AirspaceTimelineRow(
                            incident_id=inc_id,
                            stage="resolved",
                            at=now,
                            detail="track ended (航迹消失)",
                        )
                    )
