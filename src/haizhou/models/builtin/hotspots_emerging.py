"""Emerging hot spots (时空热点演变): new, intensifying, persistent and consecutive hot spots.

Incidents of the last ``steps`` periods of ``step_days`` days form a space-time cube on H3
hexagons. For each period Gi* (with false-discovery-rate control) calls hot spots; the
Mann-Kendall test on each hexagon's Gi* series gives its trend; the eight standard categories
follow (:mod:`haizhou.analytics.emerging`). Findings: intensifying red, new and consecutive
orange, persistent yellow. Sporadic, oscillating, diminishing and historical hot spots are
not reported (they are on the map through ``haizhou emerging``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from haizhou.domain import Finding, Level, Schedule
from haizhou.models.builtin._analysis import SpatialUnits, emerging_table
from haizhou.models.builtin._data import incident_events
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec


class EmergingParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(default=8, ge=3, le=52, description="Periods in the cube, count.")
    step_days: int = Field(default=7, ge=1, le=31, description="Length of a period, days.")
    resolution: int = Field(default=8, ge=6, le=10, description="H3 resolution.")
    category: list[str] | None = Field(
        default=None, description="Incident categories counted; none for all."
    )
    alpha: float = Field(default=0.05, gt=0, lt=1, description="Significance of a hot spot.")
    max_findings: int = Field(default=30, ge=1, le=500, description="Most findings, count.")


MODEL = ModelSpec(
    id="hotspots.emerging",
    version="1.0.0",
    title_zh="时空热点演变（新增/加强/持续/连续）",
    title_en="Emerging hot spots",
    params_model=EmergingParams,
    schedule=Schedule.WEEKLY,
    card=ModelCard(
        purpose="Finds hexagons that have just become hot spots, are getting hotter, or stay "
        "hot week after week, so the weekly analysis (周研判) sees where the map is changing.",
        data_read=("incidents", "jurisdictions"),
        evaluation="Categories checked on constructed cubes in tests/analytics/test_emerging.py "
        "(ESRI's definitions); the model on a planted new cluster in tests/models/builtin.",
        limits="Needs several periods with incidents; with few incidents per hexagon and week "
        "few cells reach significance. Trend uses Mann-Kendall on Gi* z-scores, which ignores "
        "autocorrelation between weeks.",
        references=(
            "ESRI (2023). How Emerging Hot Spot Analysis works. ArcGIS Pro documentation.",
            "Mann, H. B. (1945). Nonparametric tests against trend. Econometrica 13, 245-259.",
        ),
    ),
    finding_kinds=("emerging_hotspot",),
)


def run(ctx: RunContext, params: EmergingParams) -> Iterator[Finding]:
    """Yield one finding per new, consecutive, intensifying or persistent hot hexagon."""
    end = ctx.window.end
    start = end - timedelta(days=params.steps * params.step_days)
    frame = incident_events(ctx, start=start, end=end, category=params.category)
    if len(frame) < 2:
        return
    units = SpatialUnits.hexagons(frame["lon"], frame["lat"], params.resolution)
    table = emerging_table(
        frame,
        units,
        end=end.astimezone(ctx.zone).replace(tzinfo=None),
        steps=params.steps,
        step_days=params.step_days,
        alpha=params.alpha,
    )
    for row in table.head(params.max_findings).itertuples():
        level = Level(row.level)
        evidence = {
            "cell": row.cell,
            "h3_resolution": params.resolution,
            "pattern": row.pattern,
            "trend_z": round(float(row.trend_z), 4),
            "trend_p": float(f"{row.trend_p:.4g}"),
            "hot_steps": int(row.hot_steps),
            "steps": params.steps,
            "step_days": params.step_days,
            "counts": row.counts,
        }
        if row.jurisdiction:
            evidence["jurisdiction_code"] = row.jurisdiction
        yield Finding(
            kind="emerging_hotspot",
            title=f"{row.title_zh}（近{params.step_days}天{int(row.last_count)}起）",
            level=level,
            geometry=units.geometry(int(row.unit)),
            window_start=start,
            window_end=end,
            explanation=(
                f"近{params.steps}个{params.step_days}天周期中，该网格有{int(row.hot_steps)}个"
                f"周期为显著热点（Gi*，错误发现率校正 α={params.alpha:g}），各周期警情数"
                f"{row.counts}；趋势检验 z={row.trend_z:.2f}（p={row.trend_p:.2g}），"
                f"判定为{row.title_zh}，定为{level.title_zh}。"
            ),
            suggested_action="研判热点形成原因，调整巡防重点并跟踪下一周期变化。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence=evidence,
            key=f"{MODEL.id}:{row.cell}",
        )
