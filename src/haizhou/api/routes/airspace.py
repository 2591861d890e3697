"""Live airspace security (低空安保): ``/api/airspace/...``.

The picture is written by ``haizhou airspace run`` (:mod:`haizhou.feeds`); these routes read
it, accept sensor messages over HTTP (stored at once, processed by the runner), and take the
operator's one-action countermeasure with its policy checks and the second person's
confirmation. ``WS /api/airspace/live`` pushes tracks and alerts as they change; it checks the
session cookie and the page's origin itself (a WebSocket has no CSRF header).

Masked drone serials and pilot positions are personal data: every read writes an audit entry.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, HTTPException, Path, Query, WebSocket, status
from fastapi.websockets import WebSocketDisconnect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from haizhou.airspace.timeline import AirspaceIncident, incident_report
from haizhou.api.auth import SESSION_COOKIE, AuthenticatedUser, resolve_session
from haizhou.api.deps import AuditDep, CurrentUser, NowDep, SessionDep, require
from haizhou.api.policy import Permission, allowed
from haizhou.api.schemas.airspace import (
    AlertPage,
    AlertPublic,
    CountermeasureIn,
    CountermeasurePage,
    CountermeasurePublic,
    FeatureCollection,
    MessageAccepted,
    MessageIn,
    PermitPublic,
    TrackPage,
    TrackPublic,
)
from haizhou.feeds.area import AreaNotConfigured
from haizhou.feeds.countermeasures import (
    CountermeasureConflict,
    confirm_countermeasure,
    request_countermeasure,
)
from haizhou.feeds.messages import BINARY_KINDS, FeedMessage
from haizhou.feeds.recorder import store_message
from haizhou.store.tables import UserRow
from haizhou.store.tables.airspace import (
    AirspaceAlertRow,
    AirspaceCountermeasureRow,
    AirspaceIncidentRow,
    AirspacePermitRow,
    AirspaceTimelineRow,
    AirspaceTrackRow,
    AirspaceZoneRow,
)

router = APIRouter(prefix="/airspace", tags=["airspace"])
live_router = APIRouter(prefix="/airspace", tags=["airspace"])

View = Depends(require(Permission.AIRSPACE_VIEW))
Feed = Depends(require(Permission.AIRSPACE_FEED))
Counter = Depends(require(Permission.AIRSPACE_COUNTER))
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=10, pattern=r"^[0-9]+$")]

LIVE_POLL_S = 0.5
"""How often the live socket looks for changed tracks and new alerts."""


# ----------------------------------------------------------------------------- conversions
def track_public(row: AirspaceTrackRow) -> dict[str, Any]:
    """A track row as :class:`TrackPublic` fields (JSON-ready)."""
    return TrackPublic(
        id=row.id,
        track_id=row.track_id,
        active=row.active,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        label=row.label,
        confidence=row.confidence,
        authorisation=row.authorisation,
        reasons=row.reasons,
        zones=row.zones,
        permit_id=row.permit_id,
        threat_score=row.threat_score,
        level=row.level,
        distance_m=row.distance_m,
        lon=row.lon,
        lat=row.lat,
        alt_m=row.alt_m,
        speed_mps=row.speed_mps,
        heading_deg=row.heading_deg,
        sensors=row.sensors,
        serial_masked=row.serial_masked,
        pilot_lon=row.pilot_lon,
        pilot_lat=row.pilot_lat,
    ).model_dump(mode="json")


def alert_public(row: AirspaceAlertRow) -> dict[str, Any]:
    """An alert row as :class:`AlertPublic` fields (JSON-ready)."""
    return AlertPublic(
        id=row.id,
        track_id=row.track_row_id,
        raised_at=row.raised_at,
        kind=row.kind,
        level=row.level,
        title=row.title,
        reasons=row.reasons,
        lon=row.lon,
        lat=row.lat,
    ).model_dump(mode="json")


def _countermeasure(row: AirspaceCountermeasureRow) -> CountermeasurePublic:
    return CountermeasurePublic(
        id=row.id,
        track_id=row.track_row_id,
        effector=row.effector,
        status=row.status,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        threat_level=row.threat_level,
        refusals=row.refusals,
        confirmed_by=row.confirmed_by,
        confirmed_at=row.confirmed_at,
        decision_id=row.decision_id,
        outcome=row.outcome,
    )


def _personal(items: list[dict[str, Any]]) -> list[int]:
    return [i["id"] for i in items if i.get("serial_masked") or i.get("pilot_lon") is not None]


# ----------------------------------------------------------------------------- messages
@router.post(
    "/messages",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Feed],
    response_model=MessageAccepted,
)
def post_message(body: MessageIn, session: SessionDep, now: NowDep) -> MessageAccepted:
    """Keep one sensor message (接收传感器报文); the runner decodes and tracks it."""
    if body.kind in BINARY_KINDS:
        if body.payload_hex is None:
            raise HTTPException(422, detail=f"a {body.kind} message needs payload_hex")
        try:
            payload = bytes.fromhex(body.payload_hex)
        except ValueError:
            raise HTTPException(422, detail="payload_hex must be hex digits") from None
    else:
        if body.payload is None:
            raise HTTPException(422, detail=f"a {body.kind} message needs a JSON payload")
        payload = json.dumps(body.payload, ensure_ascii=False).encode()
    row = store_message(
        session,
        FeedMessage(
            sensor_id=body.sensor_id,
            kind=body.kind,
            payload=payload,
            received_at=now,
            transport="http",
        ),
    )
    session.commit()
    return MessageAccepted(id=row.id, received_at=row.received_at)


# ----------------------------------------------------------------------------- reads
@router.get("/tracks", dependencies=[View], response_model=TrackPage)
def list_tracks(
    session: SessionDep,
    audit: AuditDep,
    active: bool = True,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Tracks of the picture (航迹), newest id first; ``active=false`` for ended ones too."""
    q = select(AirspaceTrackRow).order_by(AirspaceTrackRow.id.desc()).limit(limit + 1)
    if active:
        q = q.where(AirspaceTrackRow.active.is_(True))
    if cursor is not None:
        q = q.where(AirspaceTrackRow.id < int(cursor))
    rows = session.scalars(q).all()
    items = [track_public(r) for r in rows[:limit]]
    personal = _personal(items)
    if personal:
        audit("airspace.tracks.read", detail={"tracks": personal, "fields": ["serial", "pilot"]})
    return {"items": items, "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None}


@router.get("/alerts", dependencies=[View], response_model=AlertPage)
def list_alerts(session: SessionDep, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    """Alerts (告警), newest first."""
    q = select(AirspaceAlertRow).order_by(AirspaceAlertRow.id.desc()).limit(limit + 1)
    if cursor is not None:
        q = q.where(AirspaceAlertRow.id < int(cursor))
    rows = session.scalars(q).all()
    return {
        "items": [alert_public(r) for r in rows[:limit]],
        "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None,
    }


@router.get("/incidents/{incident_id}", dependencies=[View])
def read_incident(
    incident_id: Annotated[int, Path(ge=1, le=2**62)], session: SessionDep, audit: AuditDep
) -> dict[str, Any]:
    """One airspace incident (空域事件): its timeline detected → resolved, the pilot's position
    when Remote ID gave it, and the incident report in zh-CN and English. A read that shows a
    pilot's position is audited (a person's location)."""
    row = session.get(AirspaceIncidentRow, incident_id)
    if row is None:
        raise HTTPException(404, detail=f"airspace incident {incident_id} does not exist")
    stages = session.scalars(
        select(AirspaceTimelineRow)
        .where(AirspaceTimelineRow.incident_id == incident_id)
        .order_by(AirspaceTimelineRow.at)
    ).all()
    incident = AirspaceIncident(
        incident_id=str(row.id),
        track_id=row.track_row_id,
        serial=row.serial_masked,
        pilot_lon=row.pilot_lon,
        pilot_lat=row.pilot_lat,
    )
    for stage in stages:
        seconds = (stage.at - row.opened_at).total_seconds()
        incident = incident.record(stage.stage, seconds, stage.detail)  # type: ignore[arg-type]
    if row.pilot_lon is not None:
        audit("airspace.incident.read", target=str(incident_id), detail={"pilot_position": True})
    return {
        "id": row.id,
        "track_id": row.track_row_id,
        "opened_at": row.opened_at.isoformat(),
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        "serial_masked": row.serial_masked,
        "pilot_lon": row.pilot_lon,
        "pilot_lat": row.pilot_lat,
        "timeline": [
            {"stage": s.stage, "at": s.at.isoformat(), "detail": s.detail} for s in stages
        ],
        "report_zh": incident_report(incident, epoch=row.opened_at, language="zh"),
        "report_en": incident_report(incident, epoch=row.opened_at, language="en"),
    }


@router.get("/zones", dependencies=[View], response_model=FeatureCollection)
def list_zones(session: SessionDep) -> dict[str, Any]:
    """Controlled zones (管控区域) as GeoJSON polygons."""
    features = []
    for z in session.scalars(select(AirspaceZoneRow).order_by(AirspaceZoneRow.id)):
        ring = [list(p) for p in z.polygon]
        if ring and ring[0] != ring[-1]:
            ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "id": z.id,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "name": z.name,
                    "kind": z.kind,
                    "floor_m": z.floor_m,
                    "ceiling_m": z.ceiling_m,
                    "active": z.active,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@router.get("/permits", dependencies=[View], response_model=list[PermitPublic])
def list_permits(session: SessionDep, audit: AuditDep) -> list[PermitPublic]:
    """Flight permits (飞行许可) with masked serials and the operator."""
    rows = session.scalars(select(AirspacePermitRow).order_by(AirspacePermitRow.id)).all()
    if rows:
        audit(
            "airspace.permits.read",
            detail={"permits": [r.permit_id for r in rows], "fields": ["serial", "operator"]},
        )
    return [
        PermitPublic(
            permit_id=r.permit_id,
            serial_masked=r.serial_masked,
            operator=r.operator,
            polygon=r.polygon,
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            min_alt_m=r.min_alt_m,
            max_alt_m=r.max_alt_m,
        )
        for r in rows
    ]


# ----------------------------------------------------------------------------- countermeasures
@router.get("/countermeasures", dependencies=[View], response_model=CountermeasurePage)
def list_countermeasures(
    session: SessionDep,
    status_: Annotated[str | None, Query(alias="status", max_length=30)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Countermeasure requests (反制记录), newest first; ``status=pending_confirmation``."""
    q = (
        select(AirspaceCountermeasureRow)
        .order_by(AirspaceCountermeasureRow.id.desc())
        .limit(limit + 1)
    )
    if status_ is not None:
        q = q.where(AirspaceCountermeasureRow.status == status_)
    if cursor is not None:
        q = q.where(AirspaceCountermeasureRow.id < int(cursor))
    rows = session.scalars(q).all()
    return {
        "items": [_countermeasure(r) for r in rows[:limit]],
        "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None,
    }


def _roles(user: AuthenticatedUser) -> frozenset[str]:
    return frozenset({user.role.value})


@router.post(
    "/countermeasures",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Counter],
    response_model=CountermeasurePublic,
)
def post_countermeasure(
    body: CountermeasureIn, session: SessionDep, user: CurrentUser, now: NowDep, audit: AuditDep
) -> CountermeasurePublic:
    """One action (一键反制): policy checks, then the effector — or wait for a second person.

    The answer is the record: ``executed``/``failed`` with the outcome, ``refused`` with every
    reason, or ``pending_confirmation`` at red threat (``POST .../{id}/confirm``).
    """
    if session.get(AirspaceTrackRow, body.track_id) is None:
        raise HTTPException(404, detail=f"track {body.track_id} does not exist")
    try:
        row = request_countermeasure(
            session,
            track_row_id=body.track_id,
            effector=body.effector,
            username=user.username,
            roles=_roles(user),
            now=now,
        )
    except AreaNotConfigured as exc:
        raise HTTPException(409, detail=str(exc)) from None
    audit(
        "airspace.countermeasure.request",
        target=str(row.id),
        detail={"track": body.track_id, "effector": body.effector, "status": row.status},
    )
    session.commit()
    return _countermeasure(row)


@router.post(
    "/countermeasures/{countermeasure_id}/confirm",
    dependencies=[Counter],
    response_model=CountermeasurePublic,
)
def confirm(
    countermeasure_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    audit: AuditDep,
) -> CountermeasurePublic:
    """Second-person confirmation (双人确认) by a different user; the checks run again."""
    row = session.get(AirspaceCountermeasureRow, countermeasure_id)
    if row is None:
        raise HTTPException(404, detail=f"countermeasure {countermeasure_id} does not exist")
    requester = session.scalar(select(UserRow.role).where(UserRow.username == row.requested_by))
    try:
        row = confirm_countermeasure(
            session,
            countermeasure_id=countermeasure_id,
            username=user.username,
            roles=_roles(user),
            requester_roles=frozenset({requester}) if requester else frozenset(),
            now=now,
        )
    except CountermeasureConflict as exc:
        raise HTTPException(409, detail=str(exc)) from None
    audit(
        "airspace.countermeasure.confirm",
        target=str(row.id),
        detail={"track": row.track_row_id, "effector": row.effector, "status": row.status},
    )
    session.commit()
    return _countermeasure(row)


# ----------------------------------------------------------------------------- live socket
def _origin_ok(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:  # not a browser: cookies are not sent cross-site by other clients
        return True
    return urlparse(origin).netloc == websocket.headers.get("host")


def _authenticate(
    factory: sessionmaker[Session], token: str | None, now: datetime
) -> AuthenticatedUser | None:
    with factory() as session:
        return resolve_session(session=session, token=token, now=now)


def _changes(
    factory: sessionmaker[Session], since: datetime | None, after_alert: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], datetime | None, int]:
    """Tracks changed after ``since`` and alerts after id ``after_alert``; ``None``: snapshot."""
    with factory() as session:
        if since is None:
            tracks = session.scalars(
                select(AirspaceTrackRow).where(AirspaceTrackRow.active.is_(True)).limit(2000)
            ).all()
            since = session.scalar(select(func.max(AirspaceTrackRow.updated_at)))
        else:
            tracks = session.scalars(
                select(AirspaceTrackRow)
                .where(AirspaceTrackRow.updated_at > since)
                .order_by(AirspaceTrackRow.updated_at)
                .limit(2000)
            ).all()
            since = max((t.updated_at for t in tracks), default=since)
        if after_alert is None:
            newest = session.scalars(
                select(AirspaceAlertRow).order_by(AirspaceAlertRow.id.desc()).limit(50)
            ).all()
            alerts = list(reversed(newest))
            after_alert = 0
        else:
            alerts = list(
                session.scalars(
                    select(AirspaceAlertRow)
                    .where(AirspaceAlertRow.id > after_alert)
                    .order_by(AirspaceAlertRow.id)
                    .limit(500)
                )
            )
        last_alert = max((a.id for a in alerts), default=after_alert)
        return (
            [track_public(t) for t in tracks],
            [alert_public(a) for a in alerts],
            since,
            last_alert,
        )


def _audit_live(factory: sessionmaker[Session], username: str, now: datetime) -> None:
    from haizhou.security import audit

    with factory() as session:
        audit.record(
            session=session,
            actor=username,
            action="airspace.live.open",
            detail={"fields": ["serial", "pilot"]},
            at=now,
        )
        session.commit()


async def _until_closed(websocket: WebSocket) -> None:
    """Returns when the client disconnects (the live socket only sends; reads detect the end)."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


@live_router.websocket("/live")
async def live(websocket: WebSocket, now: NowDep) -> None:
    """Tracks and alerts as they change (实时态势推送).

    Messages: ``{"type": "snapshot", "tracks": [...], "alerts": [...]}`` first, then
    ``{"type": "tracks", "tracks": [...]}`` (changed tracks; ``active: false`` when one ended)
    and ``{"type": "alerts", "alerts": [...]}``. Closes with 4401 without a valid session,
    4403 for a role without ``airspace.view`` or a foreign origin.
    """
    factory: sessionmaker[Session] = websocket.app.state.sessionmaker
    token = websocket.cookies.get(SESSION_COOKIE)
    user = await asyncio.to_thread(_authenticate, factory, token, now)
    if user is None:
        await websocket.close(code=4401, reason="not logged in")
        return
    if not allowed(user.role, Permission.AIRSPACE_VIEW) or not _origin_ok(websocket):
        await websocket.close(code=4403, reason="forbidden")
        return
    await websocket.accept()
    await asyncio.to_thread(_audit_live, factory, user.username, now)
    tracks, alerts, since, last_alert = await asyncio.to_thread(_changes, factory, None, None)
    closed = asyncio.create_task(_until_closed(websocket))
    try:
        await websocket.send_json({"type": "snapshot", "tracks": tracks, "alerts": alerts})
        while True:
            await asyncio.wait({closed}, timeout=LIVE_POLL_S)
            if closed.done():  # the browser left, or the server is shutting down
                return
            tracks, alerts, since, last_alert = await asyncio.to_thread(
                _changes, factory, since or datetime(1970, 1, 1, tzinfo=UTC), last_alert
            )
            if tracks:
                await websocket.send_json({"type": "tracks", "tracks": tracks})
            if alerts:
                await websocket.send_json({"type": "alerts", "alerts": alerts})
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        closed.cancel()
