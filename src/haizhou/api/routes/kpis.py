"""KPIs (考核指标): ``GET /api/kpis`` for the user's jurisdictions.

The period is cut in the bureau's zone. Give ``period`` and any time in it (``start``), or a
``start``/``end`` span from which the period is inferred (up to 1 day: day, 7: week, 31:
month, 92: quarter, else year); nothing: the month holding now. Definitions in docs/kpis.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from haizhou.api.deps import NowDep, ScopeDep, SessionDep, SettingsDep, check_year, require
from haizhou.api.policy import Permission
from haizhou.api.schemas.kpis import KpisOut
from haizhou.store.repositories.jurisdictions import list_jurisdictions
from haizhou.tasks.kpi_service import kpi_report

router = APIRouter(prefix="/kpis", tags=["kpis"])

PeriodName = Literal["day", "week", "month", "quarter", "year"]
_SPANS: tuple[tuple[timedelta, PeriodName], ...] = (
    (timedelta(days=1), "day"),
    (timedelta(days=7), "week"),
    (timedelta(days=31), "month"),
    (timedelta(days=92), "quarter"),
)


def infer_period(start: datetime | None, end: datetime | None) -> PeriodName:
    """The period a ``[start, end)`` span stands for (month without a span).

    >>> from datetime import datetime
    >>> infer_period(datetime(2026, 3, 1), datetime(2026, 3, 8)), infer_period(None, None)
    ('week', 'month')
    """
    if start is None or end is None:
        return "month"
    span = end - start
    for limit, name in _SPANS:
        if span <= limit:
            return name
    return "year"


def _rate(rate: dict[str, Any]) -> dict[str, Any]:
    return {k: rate[k] for k in ("numerator", "denominator", "rate")}


def _rankings(
    rankings: dict[str, list[dict[str, Any]]], names: dict[str, str]
) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for key, value_name, rank_name in (
        ("incidents", "incidents", "incidents_rank"),
        ("clearance_flow", "clearance_rate", "clearance_rank"),
        ("on_time_signing", "on_time_sign_rate", "on_time_sign_rank"),
    ):
        for entry in rankings.get(key, []):
            code = str(entry["unit"])
            row = rows.setdefault(
                code, {"jurisdiction_code": code, "name": names.get(code, code), "incidents": 0}
            )
            value = entry["value"]
            row[value_name] = int(value or 0) if key == "incidents" else value
            row[rank_name] = None if entry["rank"] is None else int(entry["rank"])
    return sorted(
        rows.values(),
        key=lambda r: (
            r.get("incidents_rank") is None,
            r.get("incidents_rank") or 0,
            r["jurisdiction_code"],
        ),
    )


def _total_change(rows: list[dict[str, Any]], column: str) -> float | None:
    total = next((r for r in rows if r["category"] == "all"), None)
    return None if total is None else total[column]


@router.get(
    "",
    response_model=KpisOut,
    summary="KPIs of a period (考核指标): 同比, 环比, 破案率, rankings, instruction metrics",
    dependencies=[Depends(require(Permission.KPIS_READ))],
)
def read_kpis(
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
    now: NowDep,
    start: Annotated[
        datetime | None, Query(description="A time in the period (its start); default now")
    ] = None,
    end: Annotated[
        datetime | None, Query(description="End of the span, to infer the period from")
    ] = None,
    period: Annotated[
        PeriodName | None, Query(description="day, week, month, quarter, year")
    ] = None,
    compare: Annotated[
        Literal["yoy", "pop"], Query(description="The comparison to highlight: 同比 yoy, 环比 pop")
    ] = "yoy",
) -> dict[str, Any]:
    """The KPIs of the period holding ``start``; both comparisons are always in the answer."""
    zone = settings.zone
    at = start if start is not None else now
    at = at if at.tzinfo is not None else at.replace(tzinfo=zone)
    if end is not None:
        end = end if end.tzinfo is not None else end.replace(tzinfo=zone)
        if start is not None and end <= at:
            raise HTTPException(422, detail="end must be after start")
    check_year("start", at)
    check_year("end", end)
    chosen = period or infer_period(at if start is not None else None, end)
    try:
        report = kpi_report(
            session=session, scope=scope.codes, at=at, now=now, period=chosen, tz=settings.timezone
        ).to_dict()
    except (OverflowError, ValueError) as exc:
        raise HTTPException(422, detail=f"cannot compute KPIs for this period: {exc}") from None
    names = {
        j.code: j.name
        for j in list_jurisdictions(session=session, scope=scope.codes, with_geometry=False)
    }
    incidents, cases = report["incidents"], report["cases"]
    return {
        "period": report["period"],
        "start": report["start"],
        "end": report["end"],
        "tz": report["tz"],
        "now": report["now"],
        "compare": compare,
        "incidents_by_category": incidents,
        "cases": cases,
        "clearance_rate": {
            "cohort": _rate(report["clearance_rate_cohort"]),
            "flow": _rate(report["clearance_rate_flow"]),
        },
        "solved": report["cases_solved"],
        "suspects": report["suspects_caught"],
        "yoy": {"incidents": _total_change(incidents, "yoy"), "cases": _total_change(cases, "yoy")},
        "pop": {"incidents": _total_change(incidents, "pop"), "cases": _total_change(cases, "pop")},
        "rankings": _rankings(report["rankings"], names),
        "instructions": {
            "on_time_sign_rate": _rate(report["on_time_signing"]),
            "on_time_feedback_rate": _rate(report["on_time_feedback"]),
            "precision_by_model": report["model_precision"],
        },
    }
