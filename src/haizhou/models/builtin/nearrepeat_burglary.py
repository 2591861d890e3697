"""Near-repeat burglary zones (入室盗窃近重复风险区).

A burglary raises the risk of another one nearby for a few days or weeks. The model runs the
Knox test (with Monte Carlo significance) on the burglaries of the last ``history_days``
days, over distance bands of ``band_m`` metres and time bands of ``band_days`` days, and
takes the near-repeat distance and window the data show
(:meth:`haizhou.analytics.near_repeat.NearRepeatZones.from_knox`). Every burglary younger
than that window then flags a circle of that distance until the window ends: one finding
per zone, orange for burglaries of the last two days, yellow for older ones. When no band is
significant the model reports nothing (there is no near-repeat pattern to act on).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from haizhou.analytics.near_repeat import NearRepeatZones, knox_test
from haizhou.domain import Finding, Level, Schedule
from haizhou.models.builtin._analysis import circle_polygon, event_set
from haizhou.models.builtin._data import incident_events
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec


class NearRepeatParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: list[str] = Field(
        default=["入室盗窃"], min_length=1, description="Categories treated as burglary."
    )
    history_days: int = Field(
        default=365, ge=30, le=1095, description="Burglaries the Knox test reads, days."
    )
    band_m: float = Field(default=100.0, gt=0, le=1000, description="Distance band, metres.")
    n_space_bands: int = Field(default=4, ge=1, le=10, description="Distance bands, count.")
    band_days: float = Field(default=7.0, gt=0, le=60, description="Time band, days.")
    n_time_bands: int = Field(default=4, ge=1, le=10, description="Time bands, count.")
    permutations: int = Field(
        default=99, ge=19, le=9999, description="Monte Carlo shuffles of the Knox test."
    )
    alpha: float = Field(default=0.05, gt=0, lt=1, description="Significance of a band.")
    min_events: int = Field(
        default=30, ge=5, description="Fewest burglaries for the Knox test, count."
    )
    max_findings: int = Field(default=50, ge=1, le=1000, description="Most zones, count.")


MODEL = ModelSpec(
    id="nearrepeat.burglary",
    version="1.0.0",
    title_zh="入室盗窃近重复风险区",
    title_en="Near-repeat burglary zones",
    params_model=NearRepeatParams,
    schedule=Schedule.DAILY,
    card=ModelCard(
        purpose="Flags the streets around each new burglary for the days in which the local "
        "data show follow-on burglaries are more likely (近重复), for targeted patrols and "
        "warnings to neighbours.",
        data_read=("incidents (burglary)", "jurisdictions"),
        evaluation="The Knox test matches a hand-computed example and the Near Repeat "
        "Calculator's ratios on Chicago burglaries (tests/analytics, benchmarks); the model is "
        "checked on planted near-repeat chains in tests/models/builtin.",
        limits="The zone is one distance and window for the whole area; it flags all "
        "neighbours equally. Needs enough burglaries for the test (min_events). Knox "
        "significance with few shuffles is coarse (p >= 1/(permutations+1)).",
        references=(
            "Knox, E. G. (1964). The detection of space-time interactions. Applied Statistics "
            "13(1), 25-29. doi:10.2307/2985220",
            "Johnson, S. D. et al. (2007). Space-time patterns of risk. Journal of "
            "Quantitative Criminology 23, 201-219. doi:10.1007/s10940-007-9025-3",
            "Ratcliffe, J. H. (2009). Near Repeat Calculator, version 1.3. Temple University.",
        ),
    ),
    finding_kinds=("near_repeat_zone",),
)


def run(ctx: RunContext, params: NearRepeatParams) -> Iterator[Finding]:
    """Yield one finding per active near-repeat zone, newest burglary first."""
    end = ctx.window.end
    start = end - timedelta(days=params.history_days)
    frame = incident_events(ctx, start=start, end=end, category=params.category)
    if len(frame) < params.min_events:
        ctx.log.info("nearrepeat.burglary: %d burglaries, fewer than %d", len(frame),
                     params.min_events)  # fmt: skip
        return
    events = event_set(frame)
    knox = knox_test(
        events.x_m,
        events.y_m,
        events.t_days,
        spatial_bands_m=params.band_m * np.arange(params.n_space_bands + 1),
        temporal_bands_days=params.band_days * np.arange(params.n_time_bands + 1),
        same_location_m=None,
        permutations=params.permutations,
        random_state=20240101,
    )
    try:
        zones = NearRepeatZones.from_knox(knox, alpha=params.alpha)
    except ValueError as exc:
        ctx.log.info("nearrepeat.burglary: %s", exc)
        return
    now_local = end.astimezone(ctx.zone).replace(tzinfo=None)
    zones.fit(events, now=np.datetime64(now_local, "s"))
    projection = frame.attrs.get("projection")
    ratio = knox.knox_ratio
    for z in zones.zones_.head(params.max_findings).itertuples():
        row = frame.iloc[int(z.event_index)]
        age_days = float(zones.now_ - z.t_days)
        level = Level.ORANGE if age_days <= 2.0 else Level.YELLOW
        until = _aware(float(z.valid_until_days), ctx)
        happened = _aware(float(z.t_days), ctx)
        evidence = {
            "incident_id": str(row["source_id"]),
            "distance_m": float(zones.distance_m),
            "window_days": float(zones.window_days),
            "valid_until": until.isoformat(),
            "age_days": round(age_days, 3),
            "n_burglaries": len(frame),
            "knox_ratios": None if ratio is None else np.round(ratio, 3).tolist(),
            "knox_p": None if knox.p_sim is None else np.round(knox.p_sim, 4).tolist(),
            "spatial_bands_m": (params.band_m * np.arange(params.n_space_bands + 1)).tolist(),
            "temporal_bands_days": (params.band_days * np.arange(params.n_time_bands + 1)).tolist(),
        }
        if row["jurisdiction"] is not None and str(row["jurisdiction"]) != "nan":
            evidence["jurisdiction_code"] = str(row["jurisdiction"])
        when = row["t"]
        yield Finding(
            kind="near_repeat_zone",
            title=f"入室盗窃近重复风险区（{zones.distance_m:g}米，至{until:%m-%d}）",
            level=level,
            geometry=circle_polygon(
                float(z.x_m), float(z.y_m), float(zones.distance_m), projection
            ),
            window_start=happened,
            window_end=until,
            explanation=(
                f"{when:%m月%d日%H:%M}该处发生入室盗窃。Knox检验（近{params.history_days}天"
                f"{len(frame)}起入室盗窃，{params.permutations}次置换）显示{zones.distance_m:g}米"
                f"以内、{zones.window_days:g}天以内的后续案件显著多于随机（α={params.alpha:g}），"
                f"故周边{zones.distance_m:g}米在{zones.window_days:g}天内为近重复高风险区。"
            ),
            suggested_action="在风险区内加强巡逻，提醒周边住户加固门窗、留意可疑人员。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence=evidence,
            key=f"{MODEL.id}:{row['source_id']}",
        )


def _aware(days: float, ctx: RunContext) -> datetime:
    """A local wall-time day count (days since 1970-01-01) as an aware local datetime."""
    return (datetime(1970, 1, 1) + timedelta(days=days)).replace(tzinfo=ctx.zone)
