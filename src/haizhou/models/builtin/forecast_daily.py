"""Daily short-term forecast (每日短期预测): the riskiest cells for the next day.

Each morning the model forecasts the target incidents of the coming day on square cells of
``cell_size_m`` metres. With ``method="auto"`` every candidate method (naive counts,
retrospective and prospective hot spots, kernel density, a kernel blend; the self-exciting
and boosted models can be added) is backtested on the ``validation_days`` days before the run
(PAI at 5 % of the area, :mod:`haizhou.analytics.forecast`) and the best one forecasts. The
riskiest cells become findings, red for the top 1 % of the study area, orange to 5 %, yellow
to 10 % and blue beyond. Every finding carries the concentration report of the forecast
(:mod:`haizhou.analytics.concentration`): the share of flagged cells by jurisdiction and how
closely the flags follow past recording, so a feedback loop can be seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from haizhou.domain import Finding, Level, Schedule
from haizhou.models.builtin._analysis import forecast_cells
from haizhou.models.builtin._data import incident_events
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec

_METHODS = ("naive", "retrospective", "prospective", "kde", "sepp", "boosted", "blend")


class DailyForecastParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = Field(default="auto", description="auto, or one forecasting method name.")
    candidates: list[str] = Field(
        default=["naive", "retrospective", "prospective", "kde", "blend"],
        min_length=1,
        description="Methods auto chooses between.",
    )
    category: list[str] | None = Field(
        default=["入室盗窃", "盗窃", "抢劫"], description="Target categories; none for all."
    )
    cell_size_m: float = Field(default=150.0, ge=50, le=1000, description="Cell side, metres.")
    train_days: int = Field(default=180, ge=14, le=730, description="Training window, days.")
    validation_days: int = Field(
        default=14, ge=3, le=90, description="Daily backtest origins auto uses, days."
    )
    coverage: float = Field(
        default=0.05, gt=0, le=0.2, description="Share of the study area flagged (0-1)."
    )
    max_findings: int = Field(default=30, ge=1, le=500, description="Most cells reported.")

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value != "auto" and value not in _METHODS:
            raise ValueError(f"method must be auto or one of {', '.join(_METHODS)}; got {value!r}")
        return value

    @field_validator("candidates")
    @classmethod
    def _candidates(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in _METHODS]
        if unknown:
            raise ValueError(f"unknown method(s) {', '.join(unknown)}; use {', '.join(_METHODS)}")
        return value


MODEL = ModelSpec(
    id="forecast.daily",
    version="1.0.0",
    title_zh="每日警情短期预测",
    title_en="Daily short-term forecast",
    params_model=DailyForecastParams,
    schedule=Schedule.DAILY,
    card=ModelCard(
        purpose="Flags the cells most likely to see the target incidents tomorrow, for the "
        "daily patrol plan, with the method chosen by a backtest on the last weeks and a "
        "concentration report to watch for feedback loops.",
        data_read=("incidents", "jurisdictions"),
        evaluation="Methods are scored by the rolling-origin protocol of docs/forecasting.md "
        "(hit rate, PAI, PEI at 1/5/10 % of the area) on the synthetic city and on St. Louis "
        "burglary; auto chooses on validation days before the forecast only.",
        limits="Learns from recorded incidents, so it sends patrols where police recorded most "
        "(see the concentration report in every finding). Daily counts per cell are small: "
        "the flags tell where, not whether, an incident will happen.",
        references=(
            "Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting. "
            "British Journal of Criminology 44(5), 641-658. doi:10.1093/bjc/azh036",
            "Mohler, G. O. et al. (2011). Self-exciting point process modeling of crime. "
            "JASA 106(493), 100-108. doi:10.1198/jasa.2011.ap09546",
            "Lum, K. & Isaac, W. (2016). To predict and serve? Significance 13(5), 14-19.",
        ),
    ),
    finding_kinds=("forecast_cell",),
)


def run(ctx: RunContext, params: DailyForecastParams) -> Iterator[Finding]:
    """Yield one finding per flagged cell, riskiest first."""
    end_local = ctx.window.end.astimezone(ctx.zone)
    now = end_local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = now - timedelta(days=params.train_days + params.validation_days + 1)
    frame = incident_events(ctx, start=start, end=now)
    if frame.empty:
        return
    wanted = params.category
    target = np.ones(len(frame), dtype=bool) if wanted is None else frame["category"].isin(wanted)
    if not np.any(target):
        ctx.log.info("forecast.daily: no incident of %s before %s", wanted, now.date())
        return
    result = forecast_cells(
        frame,
        target,
        now=now.replace(tzinfo=None),
        method=params.method,
        candidates=params.candidates,
        cell_size_m=params.cell_size_m,
        train_days=float(params.train_days),
        validation_days=params.validation_days,
        coverage=params.coverage,
    )
    conc = result.concentration.to_dict()
    what = "、".join(wanted) if wanted else "警情"
    day_end = now + timedelta(days=1)
    for row in result.table.head(params.max_findings).itertuples():
        level = Level(row.level)
        evidence = {
            "cell": row.cell,
            "cell_size_m": params.cell_size_m,
            "rank": int(row.rank),
            "risk": float(f"{row.risk:.6g}"),
            "past_count": int(row.past_count),
            "method": result.method,
            "validation_pai_5pct": {k: round(v, 4) for k, v in result.validation_pai.items()},
            "flagged_cells": result.k,
            "study_cells": result.n_study,
            "category": wanted,
            "concentration": conc,
        }
        if row.jurisdiction:
            evidence["jurisdiction_code"] = row.jurisdiction
        picked = f"回测择优选用{result.method}方法" if params.method == "auto" else result.method
        yield Finding(
            kind="forecast_cell",
            title=f"明日{what}高风险网格第{int(row.rank)}位（{level.title_zh}）",
            level=level,
            geometry=result.units.geometry(int(row.unit)),
            window_start=now,
            window_end=day_end,
            explanation=(
                f"{picked}，预测{now:%m月%d日}{what}风险，该{params.cell_size_m:g}米网格排第"
                f"{int(row.rank)}位（共{result.n_study}个研究网格，标记前{result.k}个）；"
                f"过去{params.train_days}天该网格记录{int(row.past_count)}起。标记网格与历史"
                f"高发网格的重合度{conc['summary']['past_top_overlap'] or 0:.0%}，见集中度报告。"
            ),
            suggested_action="将该网格纳入明日巡防路线，反馈巡查结果以评估预测精度。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence=evidence,
            key=f"{MODEL.id}:{row.cell}:{now.date().isoformat()}",
        )
