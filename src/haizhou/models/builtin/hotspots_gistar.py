"""Incident hot spots with significance (警情热点 · Gi*): H3 hexagons, FDR, four colours.

Incidents of the last ``days`` days are counted per H3 hexagon (the hexagons holding an
incident and the ring around them, so empty neighbours count as zeros). Getis-Ord Gi* on the
touching hexagons gives a z-score per hexagon; the one-sided p-values ("is this a hot spot?")
are corrected for the false discovery rate (Benjamini-Hochberg) and turned into levels: red
p_FDR < 0.001, orange < 0.01, yellow < 0.05, blue for z >= 1.96 without FDR significance.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from haizhou.domain import Finding, Level, Schedule
from haizhou.models.builtin._analysis import SpatialUnits, hotspot_table
from haizhou.models.builtin._data import incident_events
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec


class GiStarParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(default=28, ge=1, le=366, description="Days of incidents counted, days.")
    resolution: int = Field(
        default=8, ge=6, le=10, description="H3 resolution (8: ~0.74 km² hexagons)."
    )
    category: list[str] | None = Field(
        default=None, description="Incident categories counted; none for all."
    )
    min_count: int = Field(default=3, ge=1, description="Fewest incidents in a hexagon, count.")
    max_findings: int = Field(
        default=30, ge=1, le=500, description="Most hot hexagons reported, count (hottest)."
    )
    include_blue: bool = Field(
        default=False, description="Also report blue (elevated, not FDR-significant) hexagons."
    )


MODEL = ModelSpec(
    id="hotspots.gistar",
    version="1.0.0",
    title_zh="警情热点（Gi*显著性）",
    title_en="Incident hot spots (Getis-Ord Gi*)",
    params_model=GiStarParams,
    schedule=Schedule.DAILY,
    card=ModelCard(
        purpose="Marks the H3 hexagons where incidents of the last weeks cluster more than "
        "chance allows (Gi* with false-discovery-rate control), coloured red/orange/yellow/"
        "blue, for the daily patrol plan (巡防部署).",
        data_read=("incidents", "jurisdictions"),
        evaluation="Gi* equals PySAL esda G_Local(star=True, transform='B') to 1e-8 "
        "(tests/analytics); the model is checked on a planted cluster in tests/models/builtin.",
        limits="Counts, not rates: a busy station square is a hot spot by footfall. Hexagons "
        "at the edge of the data have fewer neighbours. Recorded incidents only: places that "
        "call the police less are under-counted.",
        references=(
            "Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics. "
            "Geographical Analysis 27(4), 286-306. doi:10.1111/j.1538-4632.1995.tb00912.x",
            "Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. "
            "JRSS B 57(1), 289-300.",
        ),
    ),
    finding_kinds=("hotspot",),
)


def run(ctx: RunContext, params: GiStarParams) -> Iterator[Finding]:
    """Yield one finding per significant hot hexagon, hottest first."""
    end = ctx.window.end
    start = end - timedelta(days=params.days)
    frame = incident_events(ctx, start=start, end=end, category=params.category)
    if len(frame) < 2:
        return
    units = SpatialUnits.hexagons(frame["lon"], frame["lat"], params.resolution)
    table = hotspot_table(frame, units)
    table = table[table["count"] >= params.min_count]
    if not params.include_blue:
        table = table[table["level"] != Level.BLUE]
    what = "、".join(params.category) if params.category else "各类"
    for row in table.head(params.max_findings).itertuples():
        level = Level(row.level)
        evidence = {
            "cell": row.cell,
            "h3_resolution": params.resolution,
            "count": int(row.count),
            "z": round(float(row.z), 4),
            "p": float(f"{row.p:.4g}"),
            "p_fdr": float(f"{row.p_fdr:.4g}"),
            "days": params.days,
            "category": params.category,
            "n_incidents": len(frame),
            "n_hexagons": units.n,
        }
        if row.jurisdiction:
            evidence["jurisdiction_code"] = row.jurisdiction
        yield Finding(
            kind="hotspot",
            title=f"{what}警情热点（{int(row.count)}起，{level.title_zh}）",
            level=level,
            geometry=units.geometry(int(row.unit)),
            window_start=start,
            window_end=end,
            explanation=(
                f"近{params.days}天该六边形网格内{what}警情{int(row.count)}起；Gi*检验 "
                f"z={row.z:.2f}，经错误发现率校正 p={row.p_fdr:.2g}，为显著高值聚集，"
                f"定为{level.title_zh}。"
            ),
            suggested_action="在该区域加强巡防，核查高发时段与部位。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence=evidence,
            key=f"{MODEL.id}:{row.cell}",
        )
