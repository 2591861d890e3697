"""Trend early warning (趋势预警) per jurisdiction × category.

For every jurisdiction and incident category, daily counts of the ``history_days`` before
the last ``window_days`` days fit a baseline aware of weekday, public holidays and trend
(:class:`haizhou.analytics.warnings.TrendBaseline`); the count of the window is compared
with the baseline's expectation by its exceedance probability (Poisson, or negative binomial
when the counts are over-dispersed). Probability below 0.001 red, 0.01 orange, 0.05 yellow,
0.1 blue. Every finding states observed, expected, probability and period.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from haizhou.analytics.warnings import trend_warnings
from haizhou.domain import Finding, Schedule
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec


class TrendParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_days: int = Field(default=7, ge=1, le=31, description="Window checked, days.")
    history_days: int = Field(
        default=182, ge=28, le=730, description="History the baseline learns from, days."
    )
    min_observed: int = Field(
        default=5, ge=1, description="Fewest incidents in the window for a warning, count."
    )
    category: list[str] | None = Field(
        default=None, description="Incident categories checked; none for all."
    )
    include_blue: bool = Field(default=True, description="Report blue (p < 0.1) warnings too.")


MODEL = ModelSpec(
    id="warnings.trend",
    version="1.0.0",
    title_zh="警情趋势预警",
    title_en="Incident trend early warning",
    params_model=TrendParams,
    schedule=Schedule.DAILY,
    card=ModelCard(
        purpose="Warns when a category of incidents in a jurisdiction over the last days is "
        "more than its weekday, holiday and trend baseline explains (预警), with the numbers.",
        data_read=("incidents", "jurisdictions"),
        evaluation="Exceedance probabilities are close to nominal on simulated Poisson and "
        "negative binomial series with a year of history (tests/analytics/test_warnings.py); "
        "the model is checked on a planted surge in tests/models/builtin.",
        limits="One test per series: with many series some blue and yellow warnings are "
        "chance. The baseline's own uncertainty is ignored, so a short history gives "
        "optimistic probabilities. Recording changes (a new category code) look like trends.",
        references=(
            "Farrington, C. P. et al. (1996). A statistical algorithm for the early detection "
            "of outbreaks of infectious disease. JRSS A 159(3), 547-563. doi:10.2307/2983331",
            "Noufaily, A. et al. (2013). An improved algorithm for outbreak detection in "
            "multiple surveillance systems. Statistics in Medicine 32(7), 1206-1222.",
        ),
    ),
    finding_kinds=("trend_warning",),
)


def daily_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts per jurisdiction, category and local day (the input of ``trend_warnings``)."""
    known = frame[frame["jurisdiction"].notna()]
    days = known["t"].dt.floor("D")
    out = (
        known.assign(period_start=days)
        .groupby(["jurisdiction", "category", "period_start"])
        .size()
        .rename("count")
        .reset_index()
    )
    return out


def run(ctx: RunContext, params: TrendParams) -> Iterator[Finding]:
    """Yield one finding per jurisdiction × category whose window count is improbably high."""
    end_local = ctx.window.end.astimezone(ctx.zone)
    # whole local days only: a mid-day run checks the days up to the last midnight
    now_local = end_local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = ctx.local_midnight(
        (now_local - timedelta(days=params.window_days + params.history_days)).date()
    )
    raw = ctx.incidents(start=start, end=now_local, category=params.category)
    if raw.empty:
        return
    stamps = pd.to_datetime(raw["reported_at"], utc=True).dt.tz_convert(ctx.zone)
    frame = pd.DataFrame(
        {
            "t": stamps.dt.tz_localize(None).astype("datetime64[ns]"),
            "category": raw["category"].astype(str),
            "jurisdiction": raw["jurisdiction_code"],
        }
    )
    counts = daily_counts(frame)
    if counts.empty:
        return
    warnings = trend_warnings(
        counts,
        now=np.datetime64(now_local.replace(tzinfo=None), "s"),
        window_days=float(params.window_days),
        history_days=float(params.history_days),
        period_hours=24,
        min_observed=params.min_observed,
    )
    areas = {j.code: j for j in ctx.jurisdictions()}
    for w in warnings:
        if w.level is None or (w.level.rank == 3 and not params.include_blue):
            continue
        area = areas.get(w.jurisdiction)
        if area is None or not area.geometry:
            continue
        window_start = ctx.local_midnight(pd.Timestamp(w.period_start).date())
        window_end = ctx.local_midnight(pd.Timestamp(w.period_end).date())
        yield Finding(
            kind="trend_warning",
            title=f"{area.name}{w.category}警情上升（{w.observed}起，预期{w.expected:.1f}起）",
            level=w.level,
            geometry=area.geometry,
            window_start=window_start,
            window_end=window_end,
            explanation=w.explanation_zh + f"，定为{w.level.title_zh}预警。",
            suggested_action="分析该类警情上升原因，针对性调整防控与宣传。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence={
                "jurisdiction_code": w.jurisdiction,
                "category": w.category,
                "observed": int(w.observed),
                "expected": round(float(w.expected), 4),
                "probability": float(f"{w.probability:.4g}"),
                "distribution": w.distribution,
                "dispersion": round(float(w.dispersion), 4),
                "period_start": str(w.period_start),
                "period_end": str(w.period_end),
                "explanation_en": w.explanation_en,
            },
            key=f"{MODEL.id}:{w.jurisdiction}:{w.category}:{window_end.date().isoformat()}",
        )
