"""Retention of raw sightings (原始感知数据定期删除): the daily purge job.

Raw sightings older than the retention (``settings.sightings_retention_days``, default 30 days;
or this model's ``retention_days``) are deleted every day, and the deletion is written to the
audit log in the same transaction. Unlike the analysis models this job writes: it is the
scheduled form of ``haizhou population purge``, run by the scheduler so that retention does not
depend on anyone remembering it.

It yields one finding (``retention_overdue``) only when it finds sightings held more than
``grace_days`` beyond the retention, i.e. the purge had not run: the data was kept longer than
allowed, which the privacy officer must know even though it is deleted now.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from haizhou.domain import Finding, Level, Schedule
from haizhou.ingest.sightings import purge_sightings
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec
from haizhou.security import audit
from haizhou.store.tables import SightingRow


class PopulationRetentionParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retention_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Days raw sightings are kept; empty: settings.sightings_retention_days.",
    )
    grace_days: float = Field(
        default=2.0, ge=0, description="Days past the retention before it counts as overdue."
    )


MODEL = ModelSpec(
    id="population.retention",
    version="1.0.0",
    title_zh="原始感知数据定期删除",
    title_en="Raw sightings retention",
    params_model=PopulationRetentionParams,
    schedule=Schedule.DAILY,
    card=ModelCard(
        purpose="Deletes raw sightings older than the configured retention (default 30 days), "
        "so pseudonymised movement data is not kept longer than needed.",
        data_read=("sightings",),
        evaluation="tests/models/builtin/test_population_retention.py: rows older than the "
        "retention go, younger rows stay, and the deletion is audited.",
        limits="Deletes whole rows by time only; presence profiles already computed (findings "
        "and their evidence) are kept with the findings.",
    ),
    finding_kinds=("retention_overdue",),
)


def run(ctx: RunContext, params: PopulationRetentionParams) -> Iterator[Finding]:
    """Delete expired sightings and audit it; yields nothing."""
    days = params.retention_days
    if days is None:
        from haizhou.settings import load_settings

        days = load_settings().sightings_retention_days
    late = ctx.now - timedelta(days=days + params.grace_days)
    overdue, oldest = ctx.session.execute(
        select(func.count(), func.min(SightingRow.seen_at)).where(SightingRow.seen_at < late)
    ).one()
    deleted = purge_sightings(ctx.session, now=ctx.now, retention_days=days)
    audit.record(
        session=ctx.session,
        actor=f"system:{MODEL.id}",
        action="population.sightings.purge",
        target="sightings",
        detail={"deleted": deleted, "retention_days": days, "now": ctx.now.isoformat()},
        at=ctx.now,
    )
    ctx.log.info("deleted %d sightings older than %d days", deleted, days)
    areas = [j.geometry for j in ctx.jurisdictions() if j.geometry]
    if not overdue or not areas:
        return
    held = (ctx.now - _aware(oldest)).total_seconds() / 86400.0
    yield Finding(
        kind="retention_overdue",
        title=f"原始感知数据超期留存：{overdue}条超过{days}天（已删除）",
        level=Level.BLUE,
        geometry=_bounds(areas),
        window_start=_aware(oldest),
        window_end=ctx.now,
        explanation=(
            f"{overdue}条原始感知记录留存超过{days}天的期限（最久约{held:.0f}天），"
            "说明定期删除未按时运行；本次已删除。"
            f" {overdue} raw sightings were held beyond the {days}-day retention (oldest about "
            f"{held:.0f} days); the purge had not run. Deleted now."
        ),
        suggested_action="检查调度（haizhou models schedule / population.retention 运行记录），"
        "并向隐私保护负责人报告。",
        model_id=MODEL.id,
        model_version=MODEL.version,
        evidence={"overdue": int(overdue), "retention_days": days, "oldest_days": round(held, 1)},
        key=f"{MODEL.id}:{ctx.now.date().isoformat()}",
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _bounds(geometries: list[dict[str, Any]]) -> dict[str, Any]:
    """The bounding box of the jurisdictions in scope: the finding concerns all of them."""
    import shapely
    from shapely.geometry import mapping, shape

    return mapping(shapely.envelope(shapely.union_all([shape(g) for g in geometries])))
