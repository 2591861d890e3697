"""KPIs from the store (考核指标): reads incidents, cases and instructions, calls the pure KPIs.

All arithmetic lives in :mod:`haizhou.analytics.kpis` (definitions in ``docs/kpis.md``); this
module only selects the rows. Cases carry no separate filing time in the store, so a case's
filing time (立案时间) is its occurrence start ``occurred_from``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from haizhou.analytics import kpis
from haizhou.analytics.kpis import RateResult
from haizhou.errors import HaizhouError
from haizhou.store.repositories._filters import scope_filter
from haizhou.store.repositories.incidents import incident_frame
from haizhou.store.repositories.jurisdictions import list_jurisdictions
from haizhou.store.tables import CaseRow
from haizhou.store.tables.tasks import InstructionRow
from haizhou.tasks.service import ModelPrecision, model_precision

__all__ = ["KpiReport", "kpi_report"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KpiReport:
    """KPIs of one period (考核指标).

    Attributes
    ----------
    period, start, end, tz
        The period reported on, ``[start, end)`` in the bureau's zone ``tz``.
    incidents, cases
        :func:`haizhou.analytics.kpis.compare_counts` frames: per category ``current``,
        ``previous``, ``last_year``, ``pop`` (环比), ``yoy`` (同比), and a total row ``all``.
    clearance_cohort, clearance_flow
        破案率 under the two conventions (see docs/kpis.md).
    cases_solved, suspects_caught
        破案数 and 抓获嫌疑人数 in the period.
    on_time_signing, on_time_feedback
        按时签收率, 按时反馈率 of instructions issued in the period, judged at ``now``.
    rankings
        ``{"incidents", "clearance_flow", "on_time_signing"}`` →
        :func:`haizhou.analytics.kpis.rank_with_ties` frames over the stations in scope (the
        leaves of the unit tree; incidents: most first; rates: best first).
    model_precision
        Verified precision per model, over all feedback so far.
    """

    period: str
    start: datetime
    end: datetime
    tz: str
    now: datetime
    incidents: pd.DataFrame
    cases: pd.DataFrame
    clearance_cohort: RateResult
    clearance_flow: RateResult
    cases_solved: int
    suspects_caught: int
    on_time_signing: RateResult
    on_time_feedback: RateResult
    rankings: dict[str, pd.DataFrame] = field(default_factory=dict)
    model_precision: list[ModelPrecision] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (NaN and missing ranks become ``None``)."""

        def frame(df: pd.DataFrame) -> list[dict[str, Any]]:
            records = df.astype(object).where(df.notna(), None).to_dict(orient="records")
            return [{k: _plain(v) for k, v in r.items()} for r in records]

        def rate(r: RateResult) -> dict[str, Any]:
            return {"numerator": r.numerator, "denominator": r.denominator, "rate": r.rate}

        return {
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "tz": self.tz,
            "now": self.now.isoformat(),
            "incidents": frame(self.incidents),
            "cases": frame(self.cases),
            "clearance_rate_cohort": rate(self.clearance_cohort),
            "clearance_rate_flow": rate(self.clearance_flow),
            "cases_solved": self.cases_solved,
            "suspects_caught": self.suspects_caught,
            "on_time_signing": rate(self.on_time_signing),
            "on_time_feedback": rate(self.on_time_feedback),
            "rankings": {k: frame(v) for k, v in self.rankings.items()},
            "model_precision": [
                {
                    "model_id": m.model_id,
                    "verified_true": m.verified_true,
                    "verified_false": m.verified_false,
                    "unverified": m.unverified,
                    "precision": m.precision,
                    "low": m.low,
                    "high": m.high,
                }
                for m in self.model_precision
            ],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def kpi_report(
    *,
    session: Session,
    scope: Collection[str] | None,
    at: datetime,
    now: datetime,
    period: str = "month",
    tz: str = "Asia/Shanghai",
) -> KpiReport:
    """The KPIs of the ``period`` holding ``at``, for the jurisdictions in ``scope``.

    Parameters
    ----------
    session
        An open session.
    scope
        Jurisdiction codes the caller may see; ``None`` for all.
    at
        Any time in the period to report on (timezone-aware).
    now
        The clock, to judge steps not yet done (on-time rates).
    period
        ``day``, ``week``, ``month``, ``quarter`` or ``year``.
    tz
        The bureau's zone, where periods are cut.
    """
    for name, value in (("at", at), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise HaizhouError(f"{name}={value!r} must be timezone-aware")
    if period not in kpis.PERIODS:
        raise HaizhouError(f"period must be one of {', '.join(kpis.PERIODS)}; got {period!r}")
    start, end = kpis.period_bounds(at, period, tz=tz)
    prev_start, _ = kpis.previous_period(start, period, tz=tz)
    last_start, _ = kpis.same_period_last_year(start, period, tz=tz)
    earliest = min(prev_start, last_start)

    incidents = incident_frame(session=session, scope=scope, start=earliest, end=end)
    incident_table = kpis.compare_counts(
        incidents["reported_at"], incidents["category"], at=at, period=period, tz=tz
    )

    cases = _case_frame(session, scope, earliest, end)
    case_table = kpis.compare_counts(
        cases["filed_at"], cases["category"], at=at, period=period, tz=tz
    )
    cohort = kpis.clearance_rate_cohort(cases["filed_at"], cases["solved_at"], start=start, end=end)
    flow = kpis.clearance_rate_flow(cases["filed_at"], cases["solved_at"], start=start, end=end)
    solved = kpis.cases_solved(cases["solved_at"], start=start, end=end)
    suspects = kpis.suspects_caught(
        cases["solved_at"], list(cases["suspects"]), start=start, end=end
    )

    instructions = _instruction_frame(session, scope, start, end)
    signing = kpis.on_time_rate(instructions["sign_due_at"], instructions["signed_at"], now=now)
    feedback = kpis.on_time_rate(
        instructions["feedback_due_at"], instructions["fed_back_at"], now=now
    )

    units = list_jurisdictions(session=session, scope=scope, with_geometry=False)
    # Rank the stations (leaves of the unit tree), not the bureau above them.
    parents = {j.parent_code for j in units}
    codes = [j.code for j in units if j.code not in parents]
    in_period = (incidents["reported_at"] >= pd.Timestamp(start)) & (
        incidents["reported_at"] < pd.Timestamp(end)
    )
    counts = incidents.loc[in_period, "jurisdiction_code"].value_counts()
    rankings = {
        "incidents": kpis.rank_with_ties({c: int(counts.get(c, 0)) for c in codes}),
        "clearance_flow": kpis.rank_with_ties(
            {
                c: kpis.clearance_rate_flow(
                    cases.loc[cases["jurisdiction_code"] == c, "filed_at"],
                    cases.loc[cases["jurisdiction_code"] == c, "solved_at"],
                    start=start,
                    end=end,
                ).rate
                for c in codes
            }
        ),
        "on_time_signing": kpis.rank_with_ties(
            {
                c: kpis.on_time_rate(
                    instructions.loc[instructions["jurisdiction_code"] == c, "sign_due_at"],
                    instructions.loc[instructions["jurisdiction_code"] == c, "signed_at"],
                    now=now,
                ).rate
                for c in codes
            }
        ),
    }
    return KpiReport(
        period=period,
        start=start,
        end=end,
        tz=tz,
        now=now,
        incidents=incident_table,
        cases=case_table,
        clearance_cohort=cohort,
        clearance_flow=flow,
        cases_solved=solved,
        suspects_caught=suspects,
        on_time_signing=signing,
        on_time_feedback=feedback,
        rankings=rankings,
        model_precision=model_precision(session=session, scope=scope),
    )


def _times(values: list[Any]) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype("datetime64[ns, UTC]")


def _case_frame(
    session: Session, scope: Collection[str] | None, earliest: datetime, end: datetime
) -> pd.DataFrame:
    """Cases filed since ``earliest`` or solved since then (for the flow convention)."""
    rows = session.execute(
        select(
            CaseRow.occurred_from,
            CaseRow.solved_at,
            CaseRow.category,
            CaseRow.jurisdiction_code,
            CaseRow.suspect_pseudonyms,
        ).where(
            scope_filter(CaseRow.jurisdiction_code, scope),
            CaseRow.occurred_from < end,
            or_(CaseRow.occurred_from >= earliest, CaseRow.solved_at >= earliest),
        )
    ).all()
    return pd.DataFrame(
        {
            "filed_at": _times([r.occurred_from for r in rows]),
            "solved_at": _times([r.solved_at for r in rows]),
            "category": pd.Series([r.category for r in rows], dtype=object),
            "jurisdiction_code": pd.Series([r.jurisdiction_code for r in rows], dtype=object),
            "suspects": pd.Series([list(r.suspect_pseudonyms or []) for r in rows], dtype=object),
        }
    )


def _instruction_frame(
    session: Session, scope: Collection[str] | None, start: datetime, end: datetime
) -> pd.DataFrame:
    """Instructions issued in ``[start, end)``: first deadlines and first completions."""
    rows = session.execute(
        select(
            InstructionRow.jurisdiction_code,
            InstructionRow.sign_due_at,
            InstructionRow.signed_at,
            InstructionRow.first_feedback_due_at,
            InstructionRow.first_fed_back_at,
        ).where(
            scope_filter(InstructionRow.jurisdiction_code, scope),
            InstructionRow.issued_at >= start,
            InstructionRow.issued_at < end,
        )
    ).all()
    return pd.DataFrame(
        {
            "jurisdiction_code": pd.Series([r.jurisdiction_code for r in rows], dtype=object),
            "sign_due_at": _times([r.sign_due_at for r in rows]),
            "signed_at": _times([r.signed_at for r in rows]),
            "feedback_due_at": _times([r.first_feedback_due_at for r in rows]),
            "fed_back_at": _times([r.first_fed_back_at for r in rows]),
        }
    )
