"""Sensing blind spots (感知盲区): places with many incidents that no sensor sees.

Reads the active sensors in scope and the incidents of the last ``days`` days, builds each
sensor's coverage footprint (camera sector, plate-reader road stretch or sector, radio disc),
and yields one finding per blind spot: a grid cell whose unseen incidents, weighted by severity,
reach ``min_weight``, levelled by that weight. The suggested action is blind-spot filling
(``haizhou coverage fill``) or a patrol point until a sensor is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from haizhou.analytics.coverage import (
    DEFAULT_SEVERITY,
    blind_spots,
    coverage_matrix_points,
    footprints,
)
from haizhou.domain import Finding, Level, Schedule
from haizhou.geo.projection import LocalProjection
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec
from haizhou.store.repositories.sensors import list_sensors


class SensingCoverageParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(default=365, ge=7, le=3660, description="Incidents of the last N days.")
    cell_size_m: float = Field(default=200.0, gt=0, description="Blind-spot grid cell, metres.")
    min_weight: float = Field(
        default=5.0, ge=0, description="Unseen severity-weighted incidents a blind spot needs."
    )
    max_findings: int = Field(default=50, ge=1, description="Most blind spots reported.")


MODEL = ModelSpec(
    id="sensing.coverage",
    version="1.0.0",
    title_zh="感知盲区研判",
    title_en="Sensing blind spots",
    params_model=SensingCoverageParams,
    schedule=Schedule.MONTHLY,
    card=ModelCard(
        purpose="Finds grid cells with many incidents (weighted by severity) that no active "
        "sensor sees, for blind-spot filling (补盲) and the monthly assessment.",
        data_read=("sensors", "incidents"),
        evaluation="Footprints are tested against a brute-force geometric reference "
        "(tests/analytics/coverage); blind-spot filling is benchmarked against PySAL spopt "
        "(benchmarks/bench_mclp.py). Whether a blind spot mattered is measured from feedback.",
        limits="2-D footprints without mounting height or night-time quality; no occlusion "
        "unless building footprints are supplied; incidents recorded where police already look "
        "weigh more (a feedback loop: read the coverage by jurisdiction beside it).",
        references=(
            "Church, R. & ReVelle, C. (1974). The maximal covering location problem. Papers of "
            "the Regional Science Association 32, 101-118. doi:10.1007/BF01942293",
        ),
    ),
    finding_kinds=("blind_spot",),
)


def run(ctx: RunContext, params: SensingCoverageParams) -> Iterator[Finding]:
    """Yield one finding per blind spot, heaviest first."""
    end = ctx.window.end
    start = end - timedelta(days=params.days)
    sensors = list_sensors(session=ctx.session, scope=ctx.scope, status="active")
    inc = ctx.incidents(start=start, end=end)
    if len(inc) == 0:
        return
    lon = inc["lon"].to_numpy(float)
    lat = inc["lat"].to_numpy(float)
    proj = LocalProjection.for_bounds(
        float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
    )
    ix, iy = proj.forward(lon, lat)
    if sensors:
        s = pd.DataFrame(
            {
                "kind": [str(getattr(x.kind, "value", x.kind)) for x in sensors],
                "lon": [x.lon for x in sensors],
                "lat": [x.lat for x in sensors],
                "range_m": [x.range_m or 50.0 for x in sensors],
                "heading_deg": [x.heading_deg or 0.0 for x in sensors],
                "fov_deg": [x.fov_deg or 360.0 for x in sensors],
            }
        )
        s["x_m"], s["y_m"] = proj.forward(s["lon"].to_numpy(), s["lat"].to_numpy())
        seen = coverage_matrix_points(s, ix, iy, shapes=footprints(s))
        covered = np.asarray(seen.sum(axis=1)).ravel() > 0
    else:
        covered = np.zeros(len(inc), dtype=bool)
    weight = inc["category"].astype(str).map(dict(DEFAULT_SEVERITY)).fillna(1.0).to_numpy(float)
    spots = blind_spots(
        ix,
        iy,
        covered,
        weights=weight,
        cell_size_m=params.cell_size_m,
        min_weight=params.min_weight,
    )
    half = params.cell_size_m / 2.0
    for row in spots.head(params.max_findings).itertuples():
        if row.level is None or (isinstance(row.level, float) and np.isnan(row.level)):
            continue
        xs = np.array([row.x_m - half, row.x_m + half, row.x_m + half, row.x_m - half])
        ys = np.array([row.y_m - half, row.y_m - half, row.y_m + half, row.y_m + half])
        glon, glat = proj.inverse(xs, ys)
        ring = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(glon, glat, strict=True)]
        ring.append(ring[0])
        clon, clat = proj.inverse(np.array([row.x_m]), np.array([row.y_m]))
        key_cell = f"{float(clon[0]):.4f},{float(clat[0]):.4f}"
        yield Finding(
            kind="blind_spot",
            title=f"感知盲区：近{params.days}天{row.incidents:.0f}（加权）起警情无感知覆盖",
            level=Level(row.level),
            geometry={"type": "Polygon", "coordinates": [ring]},
            window_start=start,
            window_end=end,
            explanation=(
                f"该{params.cell_size_m:g}米网格近{params.days}天警情按严重程度加权共"
                f"{row.incidents:.1f}，其中{row.uncovered:.1f}（{row.uncovered_share:.0%}）"
                "不在任何在用感知设备覆盖范围内。"
            ),
            suggested_action="纳入补盲选址（haizhou coverage fill）；设备到位前列为巡逻必到点。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence={
                "incidents_weighted": round(float(row.incidents), 3),
                "uncovered_weighted": round(float(row.uncovered), 3),
                "uncovered_share": round(float(row.uncovered_share), 4),
                "cell_size_m": params.cell_size_m,
                "active_sensors": len(sensors),
                "centre": [round(float(clon[0]), 6), round(float(clat[0]), 6)],
            },
            key=f"{MODEL.id}:{key_cell}",
        )
