"""The numbers behind each report (报告数据), gathered from the store into plain dataclasses.

One function per report kind, keyword-only, taking ``session``, ``scope`` (the jurisdiction
codes the reader may see; ``None`` for all), ``date`` (a local calendar day) and ``zone`` (the
bureau's time zone):

- :func:`daily_inspection_data` (日巡查): the day ``date`` against its baseline, new warnings,
  open and overdue instructions;
- :func:`weekly_bulletin_data` (周通报): the Monday–Sunday week holding ``date``: station ranking,
  hot spots and repeat calls, instruction performance;
- :func:`monthly_assessment_data` (月研判): the calendar month holding ``date``: trends,
  year-over-year, emerging hot spots, next month's forecast, case series.

Nothing here reads the wall clock: lateness is judged at the end of the period (or at ``now``
when given). The computing is done by :mod:`haizhou.analytics` and :mod:`haizhou.tasks`; this
module only selects rows and assembles results. Every figure names the model (id and version)
behind it in ``models``. No personal identifier is copied: repeat callers carry only their
masked form (e.g. ``138****1234``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from haizhou import __version__
from haizhou.analytics import kpis
from haizhou.analytics.emerging import EmergingPattern, emerging_hot_spots
from haizhou.analytics.repeats import repeat_callers, repeat_places
from haizhou.analytics.spatial_stats import Neighbours
from haizhou.analytics.warnings import trend_warnings
from haizhou.domain import InstructionStatus, Jurisdiction
from haizhou.geo.projection import LocalProjection
from haizhou.reports.sensing import SensingSection, sensing_section
from haizhou.store.repositories.findings import list_findings
from haizhou.store.repositories.incidents import count_incidents, incident_frame, iter_incidents
from haizhou.store.repositories.jurisdictions import list_jurisdictions
from haizhou.tasks.kpi_service import KpiReport, kpi_report
from haizhou.tasks.service import InstructionRecord, list_instructions

__all__ = [
    "DailyInspection",
    "ForecastResult",
    "HexagonLayer",
    "ModelUse",
    "MonthlyAssessment",
    "ReportHeader",
    "WeeklyBulletin",
    "daily_inspection_data",
    "monthly_assessment_data",
    "weekly_bulletin_data",
]

HEX_RESOLUTION = 8
"""H3 resolution of the map hexagons (~0.74 km², ~460 m edge)."""

OPEN_STATUSES = (
    InstructionStatus.ISSUED,
    InstructionStatus.SIGNED,
    InstructionStatus.IN_PROGRESS,
    InstructionStatus.RETURNED,
)
"""Instruction states that still wait on the owning unit (在办)."""

_HAIZHOU_MODEL = f"haizhou {__version__}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelUse:
    """A model or method behind a figure (模型来源): id, version and what it was used for.

    ``used_for`` is a key of :data:`haizhou.reports.i18n.STRINGS` (``used.*``).
    """

    model_id: str
    version: str
    used_for: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportHeader:
    """What, when and for whom (报告头).

    Attributes
    ----------
    kind : str
        ``daily``, ``weekly`` or ``monthly``.
    start, end : datetime
        The period ``[start, end)``, timezone-aware in ``zone``.
    zone : str
        The bureau's IANA zone.
    scope : tuple of str or None
        Jurisdiction codes covered; ``None`` for all.
    now : datetime
        When lateness and recency were judged (the period's end unless given).
    """

    kind: str
    start: datetime
    end: datetime
    zone: str
    scope: tuple[str, ...] | None
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HexagonLayer:
    """Counts per H3 hexagon for a map (六边形图层): aligned ``cells`` (int64) and ``values``."""

    cells: np.ndarray
    values: np.ndarray
    resolution: int = HEX_RESOLUTION


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastResult:
    """Next month's forecast (下月预测).

    Attributes
    ----------
    method : str
        Estimator and parameters, e.g. ``ProspectiveHotspot(bandwidth_m=300, ...)``.
    image : numpy.ndarray
        Risk per grid cell as ``(ny, nx)``, row 0 southernmost.
    extent : tuple of float
        ``(x0, x1, y0, y1)`` of the image in metres of ``projection``.
    projection : LocalProjection
        The plane the grid lives in.
    concentration : pandas.DataFrame
        ``jurisdiction_code``, ``name``, ``cells`` (of the top 5 % risk cells), ``share`` (of
        the top cells' total risk), most first.
    expected_incidents : float or None
        Expected incidents next month: the same month last year scaled by this year's
        3-month ratio to last year's (seasonal naive × trend); ``None`` without last year.
    """

    method: str
    image: np.ndarray
    extent: tuple[float, float, float, float]
    projection: LocalProjection
    concentration: pd.DataFrame
    expected_incidents: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyInspection:
    """The daily inspection (日巡查) of one day.

    Attributes
    ----------
    header : ReportHeader
    jurisdictions : tuple of Jurisdiction
        Stations in scope (with geometry, for the map).
    total, baseline_total : int, float
        Incidents of the day; mean of the same weekday over the 4 weeks before.
    by_jurisdiction : pandas.DataFrame
        ``jurisdiction_code``, ``name``, ``observed``, ``baseline``, ``ratio`` (None when the
        baseline is 0), most incidents first.
    by_category : pandas.DataFrame
        ``category``, ``observed``, ``baseline``, ``ratio``.
    daily_counts : pandas.DataFrame
        ``day`` (date), ``count`` over the 28 days ending with the day.
    warnings : pandas.DataFrame
        Trend warnings (趋势预警) of the day: ``jurisdiction_code``, ``name``, ``category``,
        ``observed``, ``expected``, ``probability``, ``level``, ``explanation_zh``,
        ``explanation_en``; most severe first.
    stored_findings : int
        Findings stored with a window in the day (from scheduled models).
    open_instructions, overdue_instructions : tuple of InstructionRecord
        Still with the owning unit at ``now``; those of them with a late step.
    hexagons : HexagonLayer
        The day's incidents per hexagon.
    models : tuple of ModelUse
    """

    header: ReportHeader
    jurisdictions: tuple[Jurisdiction, ...]
    total: int
    baseline_total: float
    by_jurisdiction: pd.DataFrame
    by_category: pd.DataFrame
    daily_counts: pd.DataFrame
    warnings: pd.DataFrame
    stored_findings: int
    open_instructions: tuple[InstructionRecord, ...]
    overdue_instructions: tuple[InstructionRecord, ...]
    hexagons: HexagonLayer
    models: tuple[ModelUse, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class WeeklyBulletin:
    """The weekly bulletin (周通报) of one Monday–Sunday week.

    Attributes
    ----------
    header : ReportHeader
    jurisdictions : tuple of Jurisdiction
    kpis : KpiReport
        Week KPIs: counts by category with 环比/同比, on-time rates, station rankings.
    ranking : pandas.DataFrame
        ``rank``, ``jurisdiction_code``, ``name``, ``count`` (incidents this week), ``previous``
        (last week), ``pop`` (环比 ratio or None); most incidents first.
    hot_places : pandas.DataFrame
        Top 10 of :func:`haizhou.analytics.repeats.repeat_places` over the 28 days to the
        week's end: ``place_id``, ``address``, ``count``, ``top_category``, ``score``.
    repeat_callers : pandas.DataFrame
        Top 10 repeat callers over the same 28 days: ``caller_rank``, ``caller_masked``,
        ``count``, ``top_category``, ``last_time``. Masked only; the pseudonym is dropped.
    issued : int
        Instructions issued in the week.
    hexagons : HexagonLayer
    models : tuple of ModelUse
    """

    header: ReportHeader
    jurisdictions: tuple[Jurisdiction, ...]
    kpis: KpiReport
    ranking: pd.DataFrame
    hot_places: pd.DataFrame
    repeat_callers: pd.DataFrame
    issued: int
    hexagons: HexagonLayer
    models: tuple[ModelUse, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthlyAssessment:
    """The monthly assessment (月研判) of one calendar month.

    Attributes
    ----------
    header : ReportHeader
    jurisdictions : tuple of Jurisdiction
    kpis : KpiReport
        Month KPIs: categories with 环比/同比, cases, clearance, rankings, model precision.
    monthly_counts : pandas.DataFrame
        ``month`` (1–12), ``this_year``, ``last_year``: incidents per month of the 12 months
        ending with this one against the 12 before (``label`` like ``2025-03``).
    emerging : pandas.DataFrame
        Hexagons in a hot-spot pattern: ``cell`` (int64), ``pattern`` (EmergingPattern
        value), ``jurisdiction_code``, ``name``, ``count`` (this month), ``trend_z``.
    emerging_summary : dict of str to int
        Number of hexagons per pattern (all patterns but ``no_pattern``).
    forecast : ForecastResult or None
        ``None`` when there is too little history to fit.
    series : pandas.DataFrame
        Stored case-series findings of the month (串并): ``title``, ``level``, ``members``,
        ``model_id``, ``model_version``; empty when none is stored.
    models : tuple of ModelUse
    sensing : SensingSection or None
        Sensing coverage and blind spots, population verification and fraud figures
        (:mod:`haizhou.reports.sensing`).
    """

    header: ReportHeader
    jurisdictions: tuple[Jurisdiction, ...]
    kpis: KpiReport
    monthly_counts: pd.DataFrame
    emerging: pd.DataFrame
    emerging_summary: dict[str, int]
    forecast: ForecastResult | None
    series: pd.DataFrame
    models: tuple[ModelUse, ...] = field(default_factory=tuple)
    sensing: SensingSection | None = None


# --- helpers ---------------------------------------------------------------------------------


def _midnight(day: Date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _check_date(value: Any) -> Date:
    if isinstance(value, datetime) or not isinstance(value, Date):
        raise TypeError(
            f"date must be a datetime.date (a local calendar day, e.g. date(2025, 3, 14)); "
            f"got {value!r}"
        )
    return value


def _stations(session: Session, scope: Collection[str] | None) -> tuple[Jurisdiction, ...]:
    """The leaves of the unit tree (派出所) in scope, by code."""
    units = list_jurisdictions(session=session, scope=scope, with_geometry=True)
    parents = {j.parent_code for j in units if j.parent_code}
    return tuple(sorted((j for j in units if j.code not in parents), key=lambda j: j.code))


def _header(
    kind: str,
    start: datetime,
    end: datetime,
    zone: str,
    scope: Collection[str] | None,
    now: datetime | None,
) -> ReportHeader:
    return ReportHeader(
        kind=kind,
        start=start,
        end=end,
        zone=zone,
        scope=None if scope is None else tuple(sorted(scope)),
        now=end if now is None else now,
    )


def _hexagons(frame: pd.DataFrame) -> HexagonLayer:
    column = f"h3_r{HEX_RESOLUTION}"
    if frame.empty:
        return HexagonLayer(cells=np.zeros(0, np.int64), values=np.zeros(0))
    counts = frame[column].value_counts().sort_index()
    return HexagonLayer(cells=counts.index.to_numpy(np.int64), values=counts.to_numpy(np.float64))


def _local_days(times: pd.Series, zone: str) -> pd.Series:
    return times.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()


def _utc_naive(times: list[datetime]) -> np.ndarray:
    """Aware datetimes as naive UTC ``datetime64[ns]`` (what the analytics take)."""
    return pd.to_datetime(pd.Series(times), utc=True).dt.tz_localize(None).to_numpy()


def _ratio(observed: float, base: float) -> float | None:
    return None if base <= 0 else observed / base


# --- daily -----------------------------------------------------------------------------------


def daily_inspection_data(
    *,
    session: Session,
    scope: Collection[str] | None,
    date: Date,
    zone: str = "Asia/Shanghai",
    now: datetime | None = None,
    history_days: int = 182,
) -> DailyInspection:
    """Gather the daily inspection (日巡查) of the local day ``date``.

    Parameters
    ----------
    session
        An open session.
    scope
        Jurisdiction codes the reader may see; ``None`` for all.
    date
        The day inspected (on schedule: yesterday), in ``zone``.
    zone
        The bureau's IANA zone, where days are cut.
    now
        When to judge instructions late; default the end of the day.
    history_days
        Days of history for the trend-warning baseline.
    """
    day = _check_date(date)
    tz = ZoneInfo(zone)
    start, end = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    header = _header("daily", start, end, zone, scope, now)
    stations = _stations(session, scope)
    names = {j.code: j.name for j in stations}

    earliest = _midnight(day - timedelta(days=history_days + 1), tz)
    frame = incident_frame(session=session, scope=scope, start=earliest, end=end)
    local_day = _local_days(frame["reported_at"], zone)
    today = frame[local_day == pd.Timestamp(day)]
    base_days = [pd.Timestamp(day - timedelta(days=7 * k)) for k in range(1, 5)]
    base = frame[local_day.isin(base_days)]

    def table(key: str, index: list[str]) -> pd.DataFrame:
        observed = today[key].value_counts()
        baseline = base[key].value_counts() / len(base_days)
        keys = sorted(set(index) | set(observed.index) | set(baseline.index))
        rows = [
            {
                key: k,
                "observed": int(observed.get(k, 0)),
                "baseline": float(baseline.get(k, 0.0)),
                "ratio": _ratio(float(observed.get(k, 0)), float(baseline.get(k, 0.0))),
            }
            for k in keys
        ]
        out = pd.DataFrame(rows, columns=[key, "observed", "baseline", "ratio"])
        return out.sort_values(["observed", key], ascending=[False, True], ignore_index=True)

    by_jurisdiction = table("jurisdiction_code", list(names))
    by_jurisdiction.insert(1, "name", by_jurisdiction["jurisdiction_code"].map(names))
    by_category = table("category", [])

    last28 = [day - timedelta(days=k) for k in range(27, -1, -1)]
    per_day = local_day.value_counts()
    daily_counts = pd.DataFrame(
        {"day": last28, "count": [int(per_day.get(pd.Timestamp(d), 0)) for d in last28]}
    )

    warnings = _day_warnings(frame, local_day, day, names, history_days)
    stored = list_findings(session=session, scope=scope, start=start, end=end, limit=10_000)
    judged = header.now
    open_records = tuple(
        list_instructions(session=session, scope=scope, status=OPEN_STATUSES, limit=10_000)
    )
    overdue = tuple(r for r in open_records if r.overdue_step(judged) is not None)
    return DailyInspection(
        header=header,
        jurisdictions=stations,
        total=len(today),
        baseline_total=len(base) / len(base_days),
        by_jurisdiction=by_jurisdiction,
        by_category=by_category,
        daily_counts=daily_counts,
        warnings=warnings,
        stored_findings=len(stored),
        open_instructions=open_records,
        overdue_instructions=overdue,
        hexagons=_hexagons(today),
        models=(
            ModelUse(
                model_id="incidents.daily_volume", version="1.0.0", used_for="used.daily_volume"
            ),
            ModelUse(
                model_id="analytics.warnings.trend_warnings",
                version=_HAIZHOU_MODEL,
                used_for="used.trend_warnings",
            ),
            ModelUse(
                model_id="analytics.kde.hexagon_counts",
                version=_HAIZHOU_MODEL,
                used_for="used.hexagons",
            ),
        ),
    )


_WARNING_COLUMNS = [
    "jurisdiction_code",
    "name",
    "category",
    "observed",
    "expected",
    "probability",
    "level",
    "explanation_zh",
    "explanation_en",
]


def _day_warnings(
    frame: pd.DataFrame, local_day: pd.Series, day: Date, names: dict[str, str], history: int
) -> pd.DataFrame:
    """Trend warnings over the one-day window ending at the day's end (daily counts)."""
    placed = frame["jurisdiction_code"].notna()
    if not placed.any():
        return pd.DataFrame(columns=_WARNING_COLUMNS)
    counts = (
        pd.DataFrame(
            {
                "jurisdiction": frame.loc[placed, "jurisdiction_code"],
                "category": frame.loc[placed, "category"],
                "period_start": local_day[placed],
            }
        )
        .groupby(["jurisdiction", "category", "period_start"])
        .size()
        .rename("count")
        .reset_index()
    )
    # A series needs history before the window to have a baseline at all.
    first = pd.Timestamp(day - timedelta(days=history))
    counts = counts[counts["period_start"] >= first]
    if counts.empty or counts["period_start"].min() >= pd.Timestamp(day):
        return pd.DataFrame(columns=_WARNING_COLUMNS)
    found = trend_warnings(
        counts,
        now=pd.Timestamp(day + timedelta(days=1)),
        window_days=1.0,
        history_days=float(history),
        period_hours=24,
    )
    rows = [
        {
            "jurisdiction_code": w.jurisdiction,
            "name": names.get(w.jurisdiction, w.jurisdiction),
            "category": w.category,
            "observed": int(w.observed),
            "expected": float(w.expected),
            "probability": float(w.probability),
            "level": None if w.level is None else w.level.value,
            "explanation_zh": w.explanation_zh,
            "explanation_en": w.explanation_en,
        }
        for w in found
        if w.level is not None
    ]
    return pd.DataFrame(rows, columns=_WARNING_COLUMNS)


# --- weekly ----------------------------------------------------------------------------------


def weekly_bulletin_data(
    *,
    session: Session,
    scope: Collection[str] | None,
    date: Date,
    zone: str = "Asia/Shanghai",
    now: datetime | None = None,
    top: int = 10,
) -> WeeklyBulletin:
    """Gather the weekly bulletin (周通报) of the Monday–Sunday week holding ``date``.

    Parameters as in :func:`daily_inspection_data`; ``top`` is the length of the hot-place and
    repeat-caller lists.
    """
    day = _check_date(date)
    tz = ZoneInfo(zone)
    start, end = kpis.period_bounds(_midnight(day, tz), "week", tz=zone)
    header = _header("weekly", start, end, zone, scope, now)
    stations = _stations(session, scope)
    names = {j.code: j.name for j in stations}
    report = kpi_report(
        session=session, scope=scope, at=start, now=header.now, period="week", tz=zone
    )

    prev_start, prev_end = kpis.previous_period(start, "week", tz=zone)
    recent_start = end - timedelta(days=28)
    frame = incident_frame(
        session=session, scope=scope, start=min(prev_start, recent_start), end=end
    )
    in_week = (frame["reported_at"] >= pd.Timestamp(start)) & (
        frame["reported_at"] < pd.Timestamp(end)
    )
    in_prev = (frame["reported_at"] >= pd.Timestamp(prev_start)) & (
        frame["reported_at"] < pd.Timestamp(prev_end)
    )
    this_week = frame.loc[in_week, "jurisdiction_code"].value_counts()
    last_week = frame.loc[in_prev, "jurisdiction_code"].value_counts()
    ranked = kpis.rank_with_ties({c: int(this_week.get(c, 0)) for c in names})
    ranking = pd.DataFrame(
        [
            {
                "rank": int(r["rank"]),
                "jurisdiction_code": r["unit"],
                "name": names[r["unit"]],
                "count": int(this_week.get(r["unit"], 0)),
                "previous": int(last_week.get(r["unit"], 0)),
                "pop": kpis.period_over_period(
                    int(this_week.get(r["unit"], 0)), int(last_week.get(r["unit"], 0))
                ),
            }
            for r in ranked.to_dict(orient="records")
        ],
        columns=["rank", "jurisdiction_code", "name", "count", "previous", "pop"],
    )

    recent = frame[frame["reported_at"] >= pd.Timestamp(recent_start)]
    hot_places = _hot_places(session, scope, recent_start, end, header.now, top)
    callers = _repeat_callers(session, scope, recent_start, end, header.now, top)
    issued = sum(
        1
        for r in list_instructions(session=session, scope=scope, limit=10_000)
        if r.issued_at is not None and start <= r.issued_at < end
    )
    del recent
    return WeeklyBulletin(
        header=header,
        jurisdictions=stations,
        kpis=report,
        ranking=ranking,
        hot_places=hot_places,
        repeat_callers=callers,
        issued=issued,
        hexagons=_hexagons(frame[in_week]),
        models=(
            ModelUse(
                model_id="tasks.kpi_service.kpi_report",
                version=_HAIZHOU_MODEL,
                used_for="used.kpis",
            ),
            ModelUse(model_id="analytics.repeats", version=_HAIZHOU_MODEL, used_for="used.repeats"),
            ModelUse(
                model_id="analytics.kde.hexagon_counts",
                version=_HAIZHOU_MODEL,
                used_for="used.hexagons",
            ),
        ),
    )


def _hot_places(
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    now: datetime,
    top: int,
) -> pd.DataFrame:
    columns = ["place_id", "address", "count", "top_category", "score"]
    records = list(iter_incidents(session=session, scope=scope, start=start, end=end))
    if not records:
        return pd.DataFrame(columns=columns)
    places = repeat_places(
        [r.address for r in records],
        [r.lon for r in records],
        [r.lat for r in records],
        _utc_naive([r.reported_at for r in records]),
        [r.category for r in records],
        now=_utc_naive([now])[0],
    )
    return places.head(top)[columns].reset_index(drop=True)


def _repeat_callers(
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    now: datetime,
    top: int,
) -> pd.DataFrame:
    columns = ["caller_rank", "caller_masked", "count", "top_category", "last_time"]
    records = [
        r
        for r in iter_incidents(session=session, scope=scope, start=start, end=end)
        if r.caller_pseudonym
    ]
    if not records:
        return pd.DataFrame(columns=columns)
    out = repeat_callers(
        [r.caller_pseudonym for r in records],
        _utc_naive([r.reported_at for r in records]),
        [r.category for r in records],
        now=_utc_naive([now])[0],
    ).head(top)
    masked = {r.caller_pseudonym: (r.caller_masked or "***") for r in records}
    out = out.assign(caller_masked=out["caller"].map(masked))
    # The pseudonym never leaves this function: reports show the masked form only.
    return out[columns].reset_index(drop=True)


# --- monthly ---------------------------------------------------------------------------------


def monthly_assessment_data(
    *,
    session: Session,
    scope: Collection[str] | None,
    date: Date,
    zone: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> MonthlyAssessment:
    """Gather the monthly assessment (月研判) of the calendar month holding ``date``.

    Parameters as in :func:`daily_inspection_data`.
    """
    day = _check_date(date)
    tz = ZoneInfo(zone)
    start, end = kpis.period_bounds(_midnight(day, tz), "month", tz=zone)
    header = _header("monthly", start, end, zone, scope, now)
    stations = _stations(session, scope)
    names = {j.code: j.name for j in stations}
    report = kpi_report(
        session=session, scope=scope, at=start, now=header.now, period="month", tz=zone
    )

    # Monthly totals by COUNT queries (cheap on the reported_at index); rows are loaded only
    # for the 12 months the hot-spot cube and the forecast need.
    per_month = pd.Series(
        {
            -k: count_incidents(
                session=session,
                scope=scope,
                start=_add_months(start, -k),
                end=_add_months(start, 1 - k),
            )
            for k in range(24)
        }
    )
    labels = [_add_months(start, -k) for k in range(11, -1, -1)]
    monthly_counts = pd.DataFrame(
        {
            "label": [f"{m:%Y-%m}" for m in labels],
            "month": [m.month for m in labels],
            "this_year": [int(per_month.get(-k, 0)) for k in range(11, -1, -1)],
            "last_year": [int(per_month.get(-k - 12, 0)) for k in range(11, -1, -1)],
        }
    )

    frame = incident_frame(session=session, scope=scope, start=_add_months(start, -11), end=end)
    local = frame["reported_at"].dt.tz_convert(zone)
    month_index = (local.dt.year - start.year) * 12 + (local.dt.month - start.month)  # 0 = this
    emerging, summary = _emerging(frame, month_index, names)
    forecast = _forecast(frame, stations, end, per_month)
    series = _series(session, scope, start, end)
    sensing = sensing_section(
        session=session,
        scope=scope,
        start=start,
        end=end,
        incidents=frame,
        jurisdictions=stations,
    )
    models = [
        ModelUse(
            model_id="tasks.kpi_service.kpi_report", version=_HAIZHOU_MODEL, used_for="used.kpis"
        ),
        ModelUse(
            model_id="analytics.emerging.emerging_hot_spots",
            version=_HAIZHOU_MODEL,
            used_for="used.emerging",
        ),
        ModelUse(
            model_id="analytics.forecast.ProspectiveHotspot",
            version=_HAIZHOU_MODEL,
            used_for="used.forecast",
        ),
    ]
    models += [
        ModelUse(model_id=m, version=v, used_for="used.linkage")
        for m, v in sorted(set(zip(series["model_id"], series["model_version"], strict=True)))
    ]
    return MonthlyAssessment(
        header=header,
        jurisdictions=stations,
        kpis=report,
        monthly_counts=monthly_counts,
        emerging=emerging,
        emerging_summary=summary,
        forecast=forecast,
        series=series,
        models=tuple(models),
        sensing=sensing,
    )


def _add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + (start.month - 1) + months
    return start.replace(year=index // 12, month=index % 12 + 1)


_EMERGING_COLUMNS = ["cell", "pattern", "jurisdiction_code", "name", "count", "trend_z"]


def _emerging(
    year: pd.DataFrame, month_index: pd.Series, names: dict[str, str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Emerging hot spots on the hexagons over the 12 monthly steps ending this month."""
    column = f"h3_r{HEX_RESOLUTION}"
    if year.empty or month_index.nunique() < 2:
        return pd.DataFrame(columns=_EMERGING_COLUMNS), {}
    cells, site = np.unique(year[column].to_numpy(np.int64), return_inverse=True)
    step = (month_index.to_numpy() + 11).astype(np.int64)  # 0 = oldest, 11 = this month
    cube = np.zeros((12, cells.size))
    np.add.at(cube, (step, site), 1.0)
    result = emerging_hot_spots(cube, Neighbours.from_h3(cells, k=1))
    owner = _majority(site, year["jurisdiction_code"].to_numpy())
    patterns = np.asarray([EmergingPattern(c).value for c in result.category], dtype=object)
    keep = np.flatnonzero(np.char.find(patterns.astype(str), "hot_spot") >= 0)
    rows = [
        {
            "cell": int(cells[i]),
            "pattern": patterns[i],
            "jurisdiction_code": owner.get(i),
            "name": names.get(owner.get(i) or "", owner.get(i) or ""),
            "count": int(cube[-1, i]),
            "trend_z": float(result.trend_z[i]),
        }
        for i in keep
    ]
    table = pd.DataFrame(rows, columns=_EMERGING_COLUMNS)
    if not table.empty:
        table = table.sort_values(["count", "trend_z"], ascending=False, ignore_index=True)
    values, counts = np.unique(patterns, return_counts=True)
    summary = {
        str(v): int(n)
        for v, n in zip(values, counts, strict=True)
        if v != EmergingPattern.NO_PATTERN.value
    }
    return table, summary


def _majority(keys: np.ndarray, labels: np.ndarray) -> dict[int, str]:
    """The most frequent non-missing label per key (ties: the smallest label)."""
    counts = (
        pd.DataFrame({"key": keys, "label": labels})
        .dropna()
        .value_counts()
        .rename("n")
        .reset_index()
        .sort_values(["key", "n", "label"], ascending=[True, False, True])
        .drop_duplicates("key")
    )
    return {int(k): str(v) for k, v in zip(counts["key"], counts["label"], strict=True)}


def _forecast(
    frame: pd.DataFrame,
    stations: tuple[Jurisdiction, ...],
    end: datetime,
    per_month: pd.Series,
) -> ForecastResult | None:
    """Prospective hot-spot surface at the month's end, and a seasonal volume estimate."""
    from haizhou.analytics.base import EventSet
    from haizhou.analytics.forecast import ProspectiveHotspot
    from haizhou.analytics.grid import Grid

    recent = frame[frame["reported_at"] >= pd.Timestamp(end - timedelta(days=56))]
    if len(recent) < 20:
        return None
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    projection = LocalProjection.for_bounds(lon.min(), lat.min(), lon.max(), lat.max())
    x, y = projection.forward(recent["lon"].to_numpy(), recent["lat"].to_numpy())
    x, y = np.asarray(x), np.asarray(y)
    t = recent["reported_at"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    now = np.datetime64(end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None), "ns")
    estimator = ProspectiveHotspot(bandwidth_m=300.0, window_days=56.0, time_unit_days=7.0)
    fx, fy = projection.forward(lon, lat)
    grid = Grid.covering(np.asarray(fx), np.asarray(fy), cell_size_m=250.0, study="all")
    risk = estimator.fit(EventSet.from_arrays(t, x, y), now=now).predict(grid)
    risk = np.asarray(risk, dtype=np.float64)
    image = grid.as_image(risk)
    extent = (
        grid.x0_m,
        grid.x0_m + grid.nx * grid.cell_size_m,
        grid.y0_m,
        grid.y0_m + grid.ny * grid.cell_size_m,
    )

    # Concentration by area (feedback-loop watch): owner of each top-5 % cell by the majority
    # of the incidents that fell in it over the frame's history.
    cell_of = grid.cell_of(np.asarray(fx), np.asarray(fy))
    owners = _majority(cell_of, frame["jurisdiction_code"].to_numpy())
    positive = np.flatnonzero(risk > 0)
    k = max(1, int(np.ceil(0.05 * positive.size)))
    top_cells = positive[np.argsort(risk[positive])[::-1][:k]]
    names = {j.code: j.name for j in stations}
    shares = (
        pd.DataFrame(
            {"jurisdiction_code": [owners.get(int(c)) for c in top_cells], "risk": risk[top_cells]}
        )
        .fillna({"jurisdiction_code": "—"})
        .groupby("jurisdiction_code")
        .agg(cells=("risk", "size"), risk=("risk", "sum"))
        .reset_index()
    )
    shares["share"] = shares["risk"] / shares["risk"].sum()
    shares["name"] = shares["jurisdiction_code"].map(lambda c: names.get(c, c))
    concentration = shares.sort_values("share", ascending=False, ignore_index=True)[
        ["jurisdiction_code", "name", "cells", "share"]
    ]

    # per_month is indexed by months relative to the report month (0 = this month).
    same_last_year = float(per_month.get(-11, 0))
    this3 = sum(float(per_month.get(-k, 0)) for k in range(3))
    last3 = sum(float(per_month.get(-k - 12, 0)) for k in range(3))
    expected = same_last_year * this3 / last3 if same_last_year > 0 and last3 > 0 else None
    return ForecastResult(
        method="ProspectiveHotspot(bandwidth_m=300, window_days=56, time_unit_days=7), 250 m grid",
        image=image,
        extent=extent,
        projection=projection,
        concentration=concentration,
        expected_incidents=expected,
    )


def _series(
    session: Session, scope: Collection[str] | None, start: datetime, end: datetime
) -> pd.DataFrame:
    columns = ["title", "level", "members", "model_id", "model_version"]
    found = list_findings(
        session=session, scope=scope, start=start, end=end, kind="series", limit=10_000
    )
    rows = []
    for stored in found:
        f = stored.finding
        members = f.evidence.get("case_ids") or f.evidence.get("members") or []
        rows.append(
            {
                "title": f.title,
                "level": f.level.value,
                "members": len(members) if isinstance(members, (list, tuple)) else int(members),
                "model_id": f.model_id,
                "model_version": f.model_version,
            }
        )
    return pd.DataFrame(rows, columns=columns)
