"""Case series (系列案): ``/api/series``, ``/api/series/{id}`` and the map layer ``/api/map/series``.

Series are the ``linkage_series`` findings of the built-in model ``linkage.series`` (no table of
their own): the API shows those of the model's latest run. A series is visible to a user when
one of its cases lies in the user's scope (the lead unit and the assisting units both see it);
another answers 404 like a missing one. The detail carries the leads for the series' unsolved
cases; the suspects' pseudonyms in them are shown only to roles allowed ``series.leads``, and
every answer that shows them is audited.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haizhou.api.deps import AuditDep, CurrentUser, ScopeDep, SessionDep, require
from haizhou.api.policy import Permission, allowed
from haizhou.api.routes.map import EndQuery, StartQuery, resolve_window
from haizhou.api.schemas.map import FeatureCollection
from haizhou.api.schemas.series import SeriesDetail, SeriesPage
from haizhou.store.repositories.findings import StoredFinding, to_stored_finding
from haizhou.store.tables import FindingRow, InstructionRow

router = APIRouter(
    prefix="/series", tags=["series"], dependencies=[Depends(require(Permission.SERIES_READ))]
)
map_router = APIRouter(prefix="/map", tags=["map"])

MODEL_ID = "linkage.series"
SERIES_KIND = "linkage_series"
LEAD_KIND = "linkage_lead"
IdPath = Annotated[int, Path(ge=1, le=2**62, description="Series id (its finding's id)")]
_CURSOR = re.compile(r"^([0-9]{1,9})-([0-9]{1,18})$")


def _latest_run_at(session: Session) -> datetime | None:
    return session.scalar(
        select(func.max(FindingRow.created_at)).where(
            FindingRow.model_id == MODEL_ID, FindingRow.kind == SERIES_KIND
        )
    )


def _codes_of(stored: StoredFinding) -> set[str]:
    codes = set(stored.finding.evidence.get("jurisdiction_codes") or [])
    if stored.jurisdiction_code:
        codes.add(stored.jurisdiction_code)
    return codes


def _visible(stored: StoredFinding, codes: frozenset[str] | None) -> bool:
    return codes is None or bool(_codes_of(stored) & codes)


def latest_series(session: Session, codes: frozenset[str] | None) -> list[StoredFinding]:
    """The series of the latest ``linkage.series`` run visible in ``codes``, by rank."""
    at = _latest_run_at(session)
    if at is None:
        return []
    rows = session.scalars(
        select(FindingRow).where(
            FindingRow.model_id == MODEL_ID,
            FindingRow.kind == SERIES_KIND,
            FindingRow.created_at == at,
        )
    ).all()
    found = [s for s in map(to_stored_finding, rows) if _visible(s, codes)]
    return sorted(found, key=lambda s: (int(s.finding.evidence.get("rank", 0)), s.id))


def item_of(stored: StoredFinding) -> dict[str, Any]:
    """The list item of one series finding."""
    f, ev = stored.finding, stored.finding.evidence
    cases = ev.get("cases") or []
    last = cases[-1] if cases else {}
    return {
        "id": stored.id,
        "key": f.key,
        "title": f.title,
        "level": str(f.level),
        "rank": int(ev.get("rank", 0)),
        "n_cases": int(ev.get("n_cases", len(cases))),
        "n_open": int(ev.get("n_open", 0)),
        "n_solved": int(ev.get("n_solved", 0)),
        "strength": float(ev.get("strength", 0.0)),
        "recency": float(ev.get("recency", 0.0)),
        "score": float(ev.get("score", 0.0)),
        "first_at": ev.get("first_at") or f.window_start.isoformat(),
        "last_at": ev.get("last_at") or f.window_end.isoformat(),
        "categories": sorted({str(c.get("category")) for c in cases if c.get("category")}),
        "jurisdiction_code": stored.jurisdiction_code,
        "jurisdiction_codes": sorted(_codes_of(stored)),
        "created_at": stored.created_at.isoformat(),
        "model_version": f.model_version,
        "lon": last.get("lon"),
        "lat": last.get("lat"),
    }


def _parse_cursor(cursor: str | None) -> tuple[int, int] | None:
    if cursor is None:
        return None
    match = _CURSOR.match(cursor)
    if not match:
        raise HTTPException(
            422,
            detail=f"cursor {cursor!r} is not one this API gave; pass next_cursor unchanged",
        )
    return int(match.group(1)), int(match.group(2))


@router.get("", summary="Series of the latest linkage run (系列案列表)", response_model=SeriesPage)
def list_series(
    session: SessionDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    """Series ranked by strength and recency, in the user's scope; keyset pages."""
    after = _parse_cursor(cursor)
    found = latest_series(session, scope.codes)
    if after is not None:
        found = [s for s in found if (int(s.finding.evidence.get("rank", 0)), s.id) > after]
    page = found[:limit]
    more = len(found) > limit
    next_cursor = None
    if more and page:
        last = page[-1]
        next_cursor = f"{int(last.finding.evidence.get('rank', 0))}-{last.id}"
    return {"items": [item_of(s) for s in page], "next_cursor": next_cursor}


def _leads(
    session: Session, stored: StoredFinding, case_ids: set[str], show_suspects: bool
) -> tuple[list[dict[str, Any]], int]:
    rows = session.scalars(
        select(FindingRow)
        .where(
            FindingRow.model_id == MODEL_ID,
            FindingRow.kind == LEAD_KIND,
            FindingRow.created_at == stored.created_at,
        )
        .order_by(FindingRow.id)
    ).all()
    out, n_suspects = [], 0
    for lead in map(to_stored_finding, rows):
        ev = lead.finding.evidence
        if ev.get("case_id") not in case_ids:
            continue
        linked = []
        for x in ev.get("linked") or []:
            suspects = list(x.get("suspects") or [])
            n_suspects += len(suspects) if show_suspects else 0
            linked.append(
                {
                    "case_id": x["case_id"],
                    "status": x.get("status", "filed"),
                    "probability": float(x.get("probability", 0.0)),
                    "reasons_zh": list(x.get("reasons_zh") or []),
                    "reasons_en": list(x.get("reasons_en") or []),
                    "suspects": suspects if show_suspects else None,
                }
            )
        out.append(
            {
                "finding_id": lead.id,
                "case_id": ev["case_id"],
                "level": str(lead.finding.level),
                "title": lead.finding.title,
                "linked": linked,
            }
        )
    return out, n_suspects


@router.get(
    "/{series_id}",
    summary="One series: cases in time order, evidence per pair, leads (系列案详情)",
    response_model=SeriesDetail,
)
def read_series(
    series_id: IdPath,
    session: SessionDep,
    scope: ScopeDep,
    user: CurrentUser,
    audit: AuditDep,
) -> dict[str, Any]:
    """The series with its cases, pair evidence and leads; 404 when missing or out of scope.

    Suspects' pseudonyms in the leads are shown to roles allowed ``series.leads`` only, and
    reading them is audited (``series.read``).
    """
    row = session.get(FindingRow, series_id)
    stored = None if row is None else to_stored_finding(row)
    if (
        stored is None
        or stored.finding.kind != SERIES_KIND
        or stored.finding.model_id != MODEL_ID
        or not _visible(stored, scope.codes)
    ):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"series {series_id} does not exist or is outside your jurisdiction",
        )
    ev = stored.finding.evidence
    cases = list(ev.get("cases") or [])
    show = allowed(user.role, Permission.SERIES_LEADS)
    leads, n_suspects = _leads(session, stored, {c["case_id"] for c in cases}, show)
    instruction_id = session.scalar(
        select(InstructionRow.id)
        .where(InstructionRow.finding_id == stored.id)
        .order_by(InstructionRow.id)
        .limit(1)
    )
    if n_suspects:
        audit(
            "series.read",
            target=str(series_id),
            detail={"personal_fields": ["leads.linked.suspects"], "n_suspects": n_suspects},
        )
    return {
        **item_of(stored),
        "explanation": stored.finding.explanation,
        "suggested_action": stored.finding.suggested_action,
        "cases": [{**c, "order": c.get("order", k + 1)} for k, c in enumerate(cases)],
        "pairs": list(ev.get("pairs") or []),
        "leads": leads,
        "suspects_hidden": not show,
        "instruction_id": instruction_id,
    }


@map_router.get(
    "/series",
    summary="Series as linked points in time order (系列案图层)",
    response_model=FeatureCollection,
    dependencies=[Depends(require(Permission.SERIES_READ))],
)
def map_series(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """Each series active in ``[start, end)``: a LineString through its cases in time order
    (``kind: "series"``) and a point per case (``kind: "case"``, ``order`` 1 = first)."""
    start, end = resolve_window(start, end, request)
    features: list[dict[str, Any]] = []
    for stored in latest_series(session, scope.codes):
        f = stored.finding
        if not (f.window_start < end and f.window_end >= start):
            continue
        cases = f.evidence.get("cases") or []
        coords = [[c["lon"], c["lat"]] for c in cases]
        common = {"series_id": stored.id, "level": str(f.level), "rank": f.evidence.get("rank")}
        if len({tuple(p) for p in coords}) >= 2:
            features.append(
                {
                    "type": "Feature",
                    "id": f"series-{stored.id}",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {
                        **common,
                        "kind": "series",
                        "title": f.title,
                        "n_cases": len(cases),
                        "n_open": f.evidence.get("n_open"),
                        "strength": f.evidence.get("strength"),
                    },
                }
            )
        for k, c in enumerate(cases):
            features.append(
                {
                    "type": "Feature",
                    "id": f"series-{stored.id}-{k + 1}",
                    "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
                    "properties": {
                        **common,
                        "kind": "case",
                        "case_id": c["case_id"],
                        "order": c.get("order", k + 1),
                        "status": c.get("status"),
                        "category": c.get("category"),
                        "occurred_from": c.get("occurred_from"),
                    },
                }
            )
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    return Response(content=body, media_type="application/json")
