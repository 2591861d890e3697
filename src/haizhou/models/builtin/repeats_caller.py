"""Repeat callers (重复报警人): callers who call again and again.

Calls of the last ``days`` days are grouped by the caller's pseudonym (the keyed hash the
importer stores; the clear number is never stored) with
:func:`haizhou.analytics.repeats.repeat_callers`. Callers with at least ``min_count`` calls
become findings; they show only the masked number (``138****5678``) and a masked pseudonym,
never the whole pseudonym. The level follows the count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pandas as pd

from haizhou.analytics.repeats import repeat_callers
from haizhou.domain import Finding, Schedule
from haizhou.models.builtin._analysis import mask_pseudonym
from haizhou.models.builtin._data import incident_events
from haizhou.models.builtin._repeats import RepeatParams, count_level
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec


class RepeatCallerParams(RepeatParams):
    """Parameters of :data:`MODEL`."""


MODEL = ModelSpec(
    id="repeats.caller",
    version="1.0.0",
    title_zh="重复报警人",
    title_en="Repeat callers",
    params_model=RepeatCallerParams,
    schedule=Schedule.WEEKLY,
    card=ModelCard(
        purpose="Finds callers who report again and again (a dispute that is not settled, a "
        "vulnerable person, a nuisance), so the station can follow up once and for all.",
        data_read=("incidents (caller pseudonym, masked number)", "jurisdictions"),
        evaluation="Grouping and scoring tested in tests/analytics/test_repeats.py; the model "
        "on a planted repeat caller in tests/models/builtin.",
        limits="Works on pseudonyms only: one person calling from two numbers counts twice, "
        "a shared phone (a shop) counts as one caller. Anonymous calls are not grouped.",
        references=(
            "Pease, K. (1998). Repeat Victimisation: Taking Stock. Home Office Crime Detection "
            "and Prevention Series Paper 90.",
        ),
    ),
    finding_kinds=("repeat_caller",),
)


def run(ctx: RunContext, params: RepeatCallerParams) -> Iterator[Finding]:
    """Yield one finding per repeat caller, best score first (masked numbers only)."""
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
    callers = repeat_callers(
        frame["caller"].to_numpy(object),
        frame["t"].to_numpy(),
        frame["category"].to_numpy(object),
        now=frame["t"].max(),
        min_count=params.min_count,
        half_life_days=params.half_life_days,
    )
    for row in callers.head(params.max_findings).itertuples():
        count = int(row.count)
        level = count_level(count, params)
        rows = frame.iloc[list(row.event_index)]
        masked = rows["caller_masked"].dropna()
        shown = str(masked.mode().iloc[0]) if len(masked) else mask_pseudonym(row.caller)
        codes = rows["jurisdiction"].dropna()
        evidence = {
            "caller_masked": shown,
            "caller_ref": mask_pseudonym(row.caller),
            "count": count,
            "first": pd.Timestamp(row.first_time).isoformat(),
            "last": pd.Timestamp(row.last_time).isoformat(),
            "top_category": row.top_category,
            "categories": row.categories,
            "score": round(float(row.score), 4),
            "incident_ids": rows["source_id"].astype(str).tolist()[:50],
            "days": params.days,
        }
        if len(codes):
            evidence["jurisdiction_code"] = str(codes.mode().iloc[0])
        lon, lat = float(rows["lon"].median()), float(rows["lat"].median())
        yield Finding(
            kind="repeat_caller",
            title=f"重复报警：{shown}（{count}次）",
            level=level,
            geometry={"type": "Point", "coordinates": [lon, lat]},
            window_start=start,
            window_end=end,
            explanation=(
                f"近{params.days}天号码{shown}报警{count}次（{row.categories}），"
                f"以{row.top_category}为主，最近一次距今{row.days_since_last:.0f}天；"
                f"按次数定为{level.title_zh}。"
            ),
            suggested_action="回访报警人，核实诉求是否解决，必要时联合相关部门化解。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence=evidence,
            key=f"{MODEL.id}:{hashlib.sha256(str(row.caller).encode()).hexdigest()[:16]}",
        )
