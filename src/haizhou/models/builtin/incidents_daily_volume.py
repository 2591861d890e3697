"""Daily incident volume by jurisdiction (各辖区日警情量): yesterday against its usual level.

For each jurisdiction, the number of incidents on the last local day of the run's window is
compared with the mean of the same weekday in the ``weeks`` weeks before (同星期均值, which
takes the weekly rhythm of calls out). A day at least ``yellow_ratio`` times the usual level
gives a yellow finding (黄色预警), at least ``blue_ratio`` times a blue one (蓝色提示).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from haizhou.domain import Finding, Level, Schedule
from haizhou.models.context import RunContext, Window
from haizhou.models.spec import ModelCard, ModelSpec


class DailyVolumeParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weeks: int = Field(default=4, ge=1, le=12, description="Same-weekday days in the baseline.")
    blue_ratio: float = Field(default=1.3, gt=0, description="Ratio to the baseline for blue.")
    yellow_ratio: float = Field(default=1.8, gt=0, description="Ratio to the baseline for yellow.")
    min_count: int = Field(
        default=5, ge=0, description="Fewest incidents in the day for a finding."
    )
    category: list[str] | None = Field(
        default=None, description="Incident categories to count; none for all."
    )

    @model_validator(mode="after")
    def _ordered(self) -> DailyVolumeParams:
        if not self.yellow_ratio > self.blue_ratio:
            raise ValueError(
                f"yellow_ratio ({self.yellow_ratio}) must be above blue_ratio ({self.blue_ratio})"
            )
        return self


MODEL = ModelSpec(
    id="incidents.daily_volume",
    version="1.0.0",
    title_zh="各辖区日警情量异常",
    title_en="Daily incident volume by jurisdiction",
    params_model=DailyVolumeParams,
    schedule=Schedule.DAILY,
    card=ModelCard(
        purpose="Flags jurisdictions whose incident count yesterday was well above the mean of "
        "the same weekday over the previous weeks, for the daily inspection (日巡查).",
        data_read=("incidents", "jurisdictions"),
        evaluation="Checked on hand-made stores in tests/models/builtin; no outcome-based "
        "evaluation yet: precision is measured from instruction feedback.",
        limits="A ratio on small counts is noisy (min_count damps this); holidays and large "
        "events raise volume legitimately; incidents without a jurisdiction are not counted.",
        references=(
            "Hyndman, R. J. & Athanasopoulos, G. (2021). Forecasting: Principles and Practice, "
            "3rd ed., OTexts, section 5.2 (seasonal naive and mean methods). https://otexts.com/fpp3/",
        ),
    ),
    finding_kinds=("volume",),
)


def run(ctx: RunContext, params: DailyVolumeParams) -> Iterator[Finding]:
    """Yield one finding per jurisdiction whose last-day count reached a level."""
    end_local = ctx.window.end.astimezone(ctx.zone)
    day = Window(end_local - timedelta(days=1), end_local)
    baseline = [day.shifted(-timedelta(days=7 * i)) for i in range(1, params.weeks + 1)]

    def counts(window: Window) -> dict[str, int]:
        frame = ctx.incidents(start=window.start, end=window.end, category=params.category)
        frame = frame[frame["jurisdiction_code"].notna()]
        return {str(k): int(v) for k, v in frame.groupby("jurisdiction_code").size().items()}

    observed = counts(day)
    history = [counts(window) for window in baseline]
    weekday_zh = "一二三四五六日"[day.start.weekday()]
    for jurisdiction in ctx.jurisdictions():
        if not jurisdiction.geometry:
            continue
        n = observed.get(jurisdiction.code, 0)
        past = [h.get(jurisdiction.code, 0) for h in history]
        expected = sum(past) / len(past)
        ratio = n / max(expected, 1.0)
        if n < params.min_count:
            continue
        if ratio >= params.yellow_ratio:
            level, threshold = Level.YELLOW, params.yellow_ratio
        elif ratio >= params.blue_ratio:
            level, threshold = Level.BLUE, params.blue_ratio
        else:
            continue
        yield Finding(
            kind="volume",
            title=f"{jurisdiction.name}日警情量偏高（{n}起）",
            level=level,
            geometry=jurisdiction.geometry,
            window_start=day.start,
            window_end=day.end,
            explanation=(
                f"{jurisdiction.name}{day.start:%Y-%m-%d}（星期{weekday_zh}）接报警情{n}起，"
                f"前{params.weeks}周同星期平均{expected:.1f}起，为其{ratio:.2f}倍，"
                f"达到{level.title_zh}阈值（{threshold:g}倍）。"
            ),
            suggested_action="核查当日警情构成与高发部位，必要时调整巡防力量。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence={
                "jurisdiction_code": jurisdiction.code,
                "observed": n,
                "expected": round(expected, 4),
                "ratio": round(ratio, 4),
                "threshold": threshold,
                "baseline_counts": past,
                "day": day.start.date().isoformat(),
            },
            key=f"{MODEL.id}:{jurisdiction.code}:{day.start.date().isoformat()}",
        )
