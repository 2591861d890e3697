"""Fraud high-risk areas (电信网络诈骗高风险区域): victimisation rates per resident population.

Fraud cases of the last ``days`` days per jurisdiction against its registered residents,
smoothed by Marshall's global empirical Bayes so small areas do not dominate, tested with
Getis-Ord Gi* on the jurisdictions' adjacency (a one-sided Poisson test against the global rate
when some jurisdiction has no neighbour), FDR-adjusted and levelled. Each levelled jurisdiction
becomes a finding whose suggested action is targeted dissuasion (精准劝阻) there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import shape
from sqlalchemy import func, select

from haizhou.analytics.fraud import high_risk_areas
from haizhou.analytics.spatial_stats import Neighbours
from haizhou.domain import Finding, Level, Schedule
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec
from haizhou.store.tables import PersonRow


class FraudTargetingParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(default=365, ge=7, le=3660, description="Cases of the last N days.")
    categories: list[str] = Field(
        default=["诈骗", "fraud"], description="Case categories counted as fraud."
    )
    permutations: int = Field(default=999, ge=0, description="Gi* permutations (0: analytic).")
    seed: int = Field(default=0, ge=0, description="Seed of the permutations.")


MODEL = ModelSpec(
    id="fraud.targeting",
    version="1.0.0",
    title_zh="电信网络诈骗高风险区域",
    title_en="Telecom-fraud high-risk areas",
    params_model=FraudTargetingParams,
    schedule=Schedule.MONTHLY,
    card=ModelCard(
        purpose="Finds jurisdictions whose fraud victimisation rate per resident is "
        "significantly high, for targeted dissuasion and the monthly assessment.",
        data_read=("cases", "persons", "jurisdictions"),
        evaluation="Empirical Bayes, rate ratios and the risk model are checked on the "
        "synthetic city's truth (docs/fraud.md): no area effect is planted there and none is "
        "found. Attributes used: case location and registered residents only.",
        limits="The denominator is the registry, without floating residents; the case's "
        "location is where it was recorded, usually the victim's residence.",
        references=(
            "Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes "
            "estimators. Applied Statistics 40(2), 283-294. doi:10.2307/2347593",
            "Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of "
            "distance statistics. Geographical Analysis 24(3), 189-206.",
        ),
    ),
    finding_kinds=("fraud_area",),
)


def run(ctx: RunContext, params: FraudTargetingParams) -> Iterator[Finding]:
    """Yield one finding per jurisdiction with a significantly high fraud rate."""
    end = ctx.window.end
    start = end - timedelta(days=params.days)
    cases = ctx.cases(start=start, end=end, category=params.categories)
    q = select(PersonRow.jurisdiction_code, func.count()).group_by(PersonRow.jurisdiction_code)
    if ctx.scope is not None:
        q = q.where(PersonRow.jurisdiction_code.in_(list(ctx.scope)))
    population = {str(k): int(v) for k, v in ctx.session.execute(q).all() if k is not None}
    areas = [j for j in ctx.jurisdictions() if population.get(j.code, 0) > 0]
    if len(areas) < 2:
        return
    codes = np.array([j.code for j in areas], dtype=object)
    counts = cases[cases["jurisdiction_code"].notna()].groupby("jurisdiction_code").size()
    y = np.array([int(counts.get(c, 0)) for c in codes], dtype=float)
    n = np.array([population[c] for c in codes], dtype=float)
    if y.sum() == 0:
        return
    polys = [
        shapely.make_valid(shape(j.geometry)) if j.geometry else shapely.Point() for j in areas
    ]
    tree = shapely.STRtree(polys)
    lists = [
        sorted(
            int(k) for k in tree.query(shapely.buffer(g, 1e-5), predicate="intersects") if k != i
        )
        for i, g in enumerate(polys)
    ]
    nb = Neighbours.from_lists(lists) if all(lists) else None
    table = high_risk_areas(
        codes, y, n, nb, permutations=params.permutations, random_state=params.seed
    )
    by_code = {j.code: j for j in areas}
    for row in table.itertuples():
        if row.level is None or (isinstance(row.level, float) and np.isnan(row.level)):
            continue
        level = Level(row.level)
        j = by_code[row.area]
        yield Finding(
            kind="fraud_area",
            title=f"{j.name}电信网络诈骗受害率偏高（每万人{row.rate_per_10k:.1f}）",
            level=level,
            geometry=j.geometry,
            window_start=start,
            window_end=end,
            explanation=(
                f"{j.name}近{params.days}天电信网络诈骗{row.cases:.0f}起，登记人口"
                f"{row.population:.0f}人，经验贝叶斯平滑后每万人{row.rate_per_10k:.1f}起，"
                f"z = {row.z:.2f}，p = {row.p:.3g}（FDR校正后达到{level.title_zh}）。"
            ),
            suggested_action="对该辖区高危人群开展精准劝阻（电话、上门、社区宣讲）。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence={
                "jurisdiction_code": j.code,
                "cases": int(row.cases),
                "population": int(row.population),
                "raw_rate": round(float(row.raw_rate), 8),
                "eb_rate": round(float(row.eb_rate), 8),
                "shrinkage": round(float(row.shrinkage), 4),
                "z": round(float(row.z), 4),
                "p": float(row.p),
                "test": "gi_star" if nb is not None else "poisson",
            },
            key=f"{MODEL.id}:{j.code}:{end.date().isoformat()}",
        )
