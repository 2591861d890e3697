"""High-incidence places (高发部位): addresses with repeated incidents.

Incidents of the last ``days`` days are grouped into places: the same normalised Chinese
address (full-width digits, Chinese numerals, traditional characters and administrative
prefixes folded), then places whose points lie within ``snap_m`` metres joined
(:func:`haizhou.analytics.repeats.repeat_places`). Places with at least ``min_count``
incidents become findings, ranked by a recency-weighted count that favours one recurring
problem over a mix; the level follows the count (``yellow_count``, ``orange_count``,
``red_count``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pandas as pd
from pydantic import Field

from haizhou.analytics.repeats import repeat_places
from haizhou.domain import Finding, Schedule
from haizhou.models.builtin._data import incident_events
from haizhou.models.builtin._repeats import RepeatParams, count_level
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec


class RepeatAddressParams(RepeatParams):
    """Parameters of :data:`MODEL`."""

    snap_m: float = Field(
        default=30.0, ge=0, le=200, description="Join places closer than this, metres."
    )


MODEL = ModelSpec(
    id="repeats.address",
    version="1.0.0",
    title_zh="高发部位（重复警情地址）",
    title_en="High-incidence places (repeat addresses)",
    params_model=RepeatAddressParams,
    schedule=Schedule.WEEKLY,
    card=ModelCard(
        purpose="Lists the addresses and spots that call the police again and again, so a "
        "station can solve the underlying problem (源头治理) instead of answering each call.",
        data_read=("incidents (address, place)", "jurisdictions"),
        evaluation="Address normalisation and snapping are tested on hand-made variants in "
        "tests/analytics/test_repeats.py; the model on a planted repeat address.",
        limits="Free-text addresses that normalise differently stay apart unless their points "
        "lie within snap_m; busy public places (stations, markets) rank high by footfall.",
        references=(
            "Farrington, D. P. et al. (1993). An experiment on the prevention of shoplifting. "
            "Crime Prevention Studies 1, 93-119.",
            "Sherman, L. W., Gartin, P. R. & Buerger, M. E. (1989). Hot spots of predatory "
            "crime. Criminology 27(1), 27-56.",
        ),
    ),
    finding_kinds=("repeat_address",),
)


def run(ctx: RunContext, params: RepeatAddressParams) -> Iterator[Finding]:
    """Yield one finding per high-incidence place, best score first."""
    end = ctx.window.end
    start = end - timedelta(days=params.days)
    frame = incident_events(
        ctx,
        start=start,
        end=end,
        category=params.category,
        personal=True,
        reader=f"system:{MODEL.id}",
    )
    if frame.empty:
        return
    now = frame["t"].max()
    places = repeat_places(
        frame["address"].to_numpy(object),
        frame["lon"].to_numpy(float),
        frame["lat"].to_numpy(float),
        frame["t"].to_numpy(),
        frame["category"].to_numpy(object),
        now=now,
        snap_m=params.snap_m,
        min_count=params.min_count,
        half_life_days=params.half_life_days,
    )
    for row in places.head(params.max_findings).itertuples():
        count = int(row.count)
        level = count_level(count, params)
        rows = frame.iloc[list(row.event_index)]
        codes = rows["jurisdiction"].dropna()
        evidence = {
            "address": row.address,
            "count": count,
            "n_addresses": int(row.n_addresses),
            "first": pd.Timestamp(row.first_time).isoformat(),
            "last": pd.Timestamp(row.last_time).isoformat(),
            "top_category": row.top_category,
            "top_share": round(float(row.top_share), 4),
            "categories": row.categories,
            "score": round(float(row.score), 4),
            "incident_ids": rows["source_id"].astype(str).tolist()[:50],
            "days": params.days,
        }
        if len(codes):
            evidence["jurisdiction_code"] = str(codes.mode().iloc[0])
        place = row.address or f"({row.lon:.5f}, {row.lat:.5f})"
        yield Finding(
            kind="repeat_address",
            title=f"高发部位：{place}（{count}起）",
            level=level,
            geometry={"type": "Point", "coordinates": [float(row.lon), float(row.lat)]},
            window_start=start,
            window_end=end,
            explanation=(
                f"近{params.days}天{place}及周边{params.snap_m:g}米内接报警情{count}起"
                f"（{row.categories}），以{row.top_category}为主（占{row.top_share:.0%}），"
                f"最近一次距今{row.days_since_last:.0f}天；按起数定为{level.title_zh}。"
            ),
            suggested_action="走访该部位，查明反复报警原因，落实源头治理措施。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence=evidence,
            key=f"{MODEL.id}:{row.address or f'{row.lon:.4f},{row.lat:.4f}'}",
        )
