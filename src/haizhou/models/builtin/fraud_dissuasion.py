"""Targeted dissuasion (精准劝阻): rank the day's fraud early warnings into dissuasion work.

The warnings of the run's window (``fraud_warnings``: a pseudonymised person contacted by a
known fraud number, or a risky transfer pattern) are ranked by expected loss averted =
predicted risk × potential loss. The top ``high_share`` become **red** findings (phone call,
the instruction's signing deadline 0.5 h), the next ``medium_share`` **orange** (home visit,
24 h), the rest are gathered per jurisdiction into one **blue** community-talk finding each
(7 days). Every finding names the people it concerns (``evidence["person_pseudonyms"]``), so
the instruction policy waits for an analyst's approval before anyone is contacted.

Risk: once ``min_labelled`` warnings have a recorded outcome (``dissuasion_outcomes``), a
calibrated logistic model is fitted on them (warning kind, banded contacts, call minutes and
transfer amount, the person's age band and occupation); before that, the fixed prior of
:func:`~haizhou.analytics.fraud.prior_risk` (kind and contacts only).

Hold-out (随机留出): with ``holdout_share`` > 0 a seeded random share of the low-urgency
warnings is not contacted; they are recorded as one ``fraud_dissuasion_holdout`` finding per
jurisdiction, which the instruction policy never issues. Comparing the recorded outcomes of
held-out and talked-to low-urgency warnings gives the uplift of outreach
(``haizhou fraud uplift --store``, and the monthly assessment).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import mapping, shape
from sqlalchemy import func, select

from haizhou.analytics.fraud import (
    WARNING_FEATURES,
    FraudRiskModel,
    assign_holdout,
    prior_risk,
    rank_warnings,
    warning_features,
)
from haizhou.domain import Finding, Level, Schedule
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec
from haizhou.store.tables import PersonRow
from haizhou.store.tables.fraud import DissuasionOutcomeRow, FraudWarningRow

ATTRIBUTES_USED = (*WARNING_FEATURES, "age_band", "occupation")
"""Every attribute the risk model may use (model card, fairness review)."""

_LEVEL = {"high": Level.RED, "medium": Level.ORANGE, "low": Level.BLUE}
_CHANNEL_ZH = {"call": "电话劝阻", "visit": "上门劝阻", "community_talk": "社区宣讲"}
_KIND_ZH = {"fraud_contact": "接触涉诈号码", "risky_transfer": "可疑转账"}


class FraudDissuasionParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    high_share: float = Field(
        default=0.1, ge=0, le=1, description="Share of warnings made high urgency (call)."
    )
    medium_share: float = Field(
        default=0.3, ge=0, le=1, description="Share made medium urgency (home visit)."
    )
    holdout_share: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Share of low-urgency warnings held out at random (0: none).",
    )
    seed: int = Field(default=0, ge=0, description="Seed of the hold-out draw (with the day).")
    min_labelled: int = Field(
        default=200, ge=20, description="Recorded outcomes needed to fit the risk model."
    )
    history_days: int = Field(
        default=365, ge=30, le=3660, description="Outcomes of the last N days train the model."
    )
    default_loss: float = Field(
        default=20_000.0, ge=0, description="Potential loss when the feed gives none (元)."
    )


MODEL = ModelSpec(
    id="fraud.dissuasion",
    version="1.0.0",
    title_zh="反诈精准劝阻",
    title_en="Targeted fraud dissuasion",
    params_model=FraudDissuasionParams,
    schedule=Schedule.DAILY,
    card=ModelCard(
        purpose="Ranks the day's fraud early warnings by predicted risk × potential loss into "
        "dissuasion instructions (call, home visit, or a community talk per jurisdiction) with "
        "deadlines by urgency; optionally holds out a random share of low-urgency warnings so "
        "the effect of outreach is measured (uplift), not assumed.",
        data_read=("fraud_warnings", "dissuasion_outcomes", "persons", "jurisdictions"),
        evaluation="On the synthetic city's warning feed with ground truth (`haizhou fraud "
        "evaluate`, docs/fraud.md): AUC, precision at the top 100, Brier score, hit rate by "
        "age band, and the hold-out uplift against the planted effect. In service, the "
        "recorded outcomes give the uplift with a 95 % CI in the monthly assessment.",
        limits="Attributes used: " + ", ".join(ATTRIBUTES_USED) + ". No residence, gender, "
        "ethnicity or biometric data. Outcomes of contacted people are lowered by the "
        "contact itself, so a model fitted on them under-rates the risk of the kinds of "
        "warnings that were acted on; the hold-out arm is the unbiased sample. The hit rate by "
        "age band is reported beside the ranking (fairness).",
        references=(
            "Gutierrez, P. & Gérardy, J.-Y. (2017). Causal inference and uplift modelling: a "
            "review of the literature. PMLR 67, 1-13.",
            "Newcombe, R. G. (1998). Interval estimation for the difference between "
            "independent proportions. Statistics in Medicine 17(8), 873-890.",
        ),
    ),
    finding_kinds=("fraud_dissuasion", "fraud_dissuasion_talk", "fraud_dissuasion_holdout"),
)

_COLUMNS = (
    "id",
    "source_id",
    "person_pseudonym",
    "kind",
    "warned_at",
    "contacts",
    "call_minutes",
    "transfer_amount",
    "potential_loss",
    "lon",
    "lat",
    "jurisdiction_code",
)


def _people() -> Any:
    """One row per registry pseudonym: its age band and occupation (a subquery)."""
    return (
        select(
            PersonRow.pseudonym.label("pseudonym"),
            func.min(PersonRow.age_band).label("age_band"),
            func.min(PersonRow.occupation).label("occupation"),
        )
        .group_by(PersonRow.pseudonym)
        .subquery()
    )


def _read(ctx: RunContext, start: Any, end: Any, *, labelled: bool) -> pd.DataFrame:
    """Warnings of ``[start, end)`` in scope with the person's age band and occupation (and,
    with ``labelled``, only those with a recorded outcome, and the outcome)."""
    people = _people()
    cols = [getattr(FraudWarningRow, c) for c in _COLUMNS]
    cols += [people.c.age_band, people.c.occupation]
    names = [*_COLUMNS, "age_band", "occupation"]
    if labelled:
        cols.append(DissuasionOutcomeRow.victimised)
        names.append("victimised")
    q = (
        select(*cols)
        .outerjoin(people, people.c.pseudonym == FraudWarningRow.person_pseudonym)
        .where(FraudWarningRow.warned_at >= start, FraudWarningRow.warned_at < end)
    )
    if labelled:
        q = q.join(DissuasionOutcomeRow, DissuasionOutcomeRow.warning_id == FraudWarningRow.id)
    if ctx.scope is not None:
        q = q.where(FraudWarningRow.jurisdiction_code.in_(list(ctx.scope)))
    frame = pd.DataFrame(ctx.session.execute(q.order_by(FraudWarningRow.id)).all(), columns=names)
    if frame.empty:
        return frame
    frame[["age_band", "occupation"]] = frame[["age_band", "occupation"]].fillna("unknown")
    return warning_features(frame)


def predicted_risk(
    today: pd.DataFrame, history: pd.DataFrame, *, min_labelled: int
) -> tuple[np.ndarray, str]:
    """Risk per warning of ``today`` and its source: ``"fitted"`` (on ``history``'s recorded
    outcomes) or ``"prior"`` (too few outcomes, or only one kind of outcome)."""
    if len(history) >= min_labelled and history["victimised"].astype(bool).nunique() == 2:
        model = FraudRiskModel(features=ATTRIBUTES_USED).fit(
            history, history["victimised"].astype(int)
        )
        return model.predict_proba(today), "fitted"
    return prior_risk(today), "prior"


def run(ctx: RunContext, params: FraudDissuasionParams) -> Iterator[Finding]:
    """Yield the day's dissuasion findings (individual, community talks, hold-out records)."""
    start, end = ctx.window.start, ctx.window.end
    today = _read(ctx, start, end, labelled=False)
    if today.empty:
        return
    history = _read(ctx, start - timedelta(days=params.history_days), start, labelled=True)
    risk, source = predicted_risk(today, history, min_labelled=params.min_labelled)
    today["risk"] = np.clip(risk, 0.0, 1.0)
    loss = pd.to_numeric(today["potential_loss"], errors="coerce")
    today["potential_loss"] = loss.fillna(params.default_loss).clip(lower=0)
    today["jurisdiction_code"] = today["jurisdiction_code"].fillna("")
    today["pseudo_id"] = today["person_pseudonym"]
    ranked = rank_warnings(
        today,
        now=end,
        high_share=params.high_share,
        medium_share=min(params.medium_share, 1 - params.high_share),
        group_column="jurisdiction_code",
    )
    day = ctx.local(end - timedelta(seconds=1)).date()
    rng = np.random.default_rng([params.seed, day.toordinal()])
    ranked["holdout"] = assign_holdout(
        ranked["urgency"], share=params.holdout_share, random_state=rng
    )
    areas = {j.code: j for j in ctx.jurisdictions()}
    common = {"risk_source": source, "seed": params.seed, "holdout_share": params.holdout_share}
    for row in ranked[ranked["urgency"] != "low"].itertuples(index=False):
        yield _individual(row, areas, common, start, end)
    low = ranked[ranked["urgency"] == "low"]
    for (code, held), group in low.groupby(["talk_group", "holdout"], sort=True):
        yield _group(str(code), bool(held), group, areas, common, start, end, day)


def _centre(code: str, areas: dict[str, Any], lon: float = np.nan, lat: float = np.nan) -> dict:
    if np.isfinite(lon) and np.isfinite(lat):
        return {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}
    j = areas.get(code)
    if j is not None and j.geometry:
        return mapping(shapely.make_valid(shape(j.geometry)).representative_point())
    return {"type": "Point", "coordinates": [0.0, 0.0]}


def _individual(
    row: Any, areas: dict[str, Any], common: dict[str, Any], start: Any, end: Any
) -> Finding:
    channel = str(row.channel)
    kind_zh = _KIND_ZH.get(str(row.kind), str(row.kind))
    evidence = {
        "person_pseudonyms": [str(row.person_pseudonym)],
        "warning_id": int(row.id),
        "warning_source_id": str(row.source_id),
        "warning_kind": str(row.kind),
        "age_band": str(row.age_band),
        "urgency": str(row.urgency),
        "channel": channel,
        "deadline": pd.Timestamp(row.deadline).isoformat(),
        "rank": int(row.rank),
        "risk": round(float(row.risk), 6),
        "potential_loss": round(float(row.potential_loss), 2),
        "expected_loss": round(float(row.expected_loss), 2),
        "arm": "treated",
        "holdout_eligible": False,
        **common,
    }
    if row.jurisdiction_code:
        evidence["jurisdiction_code"] = str(row.jurisdiction_code)
    return Finding(
        kind="fraud_dissuasion",
        title=f"{_CHANNEL_ZH[channel]}：{kind_zh}预警（第{int(row.rank)}位）",
        level=_LEVEL[str(row.urgency)],
        geometry=_centre(
            str(row.jurisdiction_code), areas, float(row.lon or np.nan), float(row.lat or np.nan)
        ),
        window_start=start,
        window_end=end,
        explanation=(
            f"{kind_zh}预警，预测受骗风险{float(row.risk):.1%}，潜在损失{float(row.potential_loss):,.0f}元，"
            f"期望可挽回损失{float(row.expected_loss):,.0f}元，今日排第{int(row.rank)}位。"
            f"Warning ({row.kind}): risk {float(row.risk):.1%}, potential loss "
            f"{float(row.potential_loss):,.0f} yuan, rank {int(row.rank)}."
        ),
        suggested_action=(
            f"{_CHANNEL_ZH[channel]}，{pd.Timestamp(row.deadline).isoformat()}前完成；"
            "反馈是否联系上本人、是否已转账受骗（属实 = 确有受骗风险）。"
        ),
        model_id=MODEL.id,
        model_version=MODEL.version,
        evidence=evidence,
        key=f"{MODEL.id}:{row.source_id}",
    )


def _group(
    code: str,
    held: bool,
    group: pd.DataFrame,
    areas: dict[str, Any],
    common: dict[str, Any],
    start: Any,
    end: Any,
    day: Any,
) -> Finding:
    name = areas[code].name if code in areas else (code or "未定辖区")
    n = len(group)
    evidence: dict[str, Any] = {
        "warning_ids": [int(v) for v in group["id"]],
        "n_warnings": n,
        "urgency": "low",
        "channel": "community_talk",
        "deadline": pd.Timestamp(group["deadline"].iloc[0]).isoformat(),
        "arm": "holdout" if held else "treated",
        "holdout_eligible": True,
        "age_bands": {str(k): int(v) for k, v in group["age_band"].value_counts().items()},
        "expected_loss": round(float(group["expected_loss"].sum()), 2),
        **common,
    }
    if code:
        evidence["jurisdiction_code"] = code
    base = {
        "level": Level.BLUE,
        "geometry": _centre(code, areas),
        "window_start": start,
        "window_end": end,
        "model_id": MODEL.id,
        "model_version": MODEL.version,
    }
    if held:
        return Finding(
            kind="fraud_dissuasion_holdout",
            title=f"随机留出对照：{name}{n}条低紧急度预警（不联系）",
            explanation=(
                f"按随机留出比例{common['holdout_share']:.0%}（种子{common['seed']}，{day}）"
                f"留出{n}条低紧急度预警不开展劝阻，用于测算劝阻成效。Randomised hold-out "
                f"of {n} low-urgency warnings, not contacted, to measure the uplift."
            ),
            suggested_action="不下发指令；记录其后是否受骗（haizhou fraud outcomes）。",
            evidence=evidence,
            key=f"{MODEL.id}:holdout:{code}:{day.isoformat()}",
            **base,
        )
    evidence["person_pseudonyms"] = [str(v) for v in group["person_pseudonym"]]
    return Finding(
        kind="fraud_dissuasion_talk",
        title=f"社区宣讲：{name}{n}名低紧急度预警对象",
        explanation=(
            f"{name}今日{n}条低紧急度反诈预警，合计期望损失"
            f"{float(group['expected_loss'].sum()):,.0f}元，宜组织一次社区反诈宣讲并邀请预警对象参加。"
            f"{n} low-urgency warnings in {name}: one community talk inviting them."
        ),
        suggested_action="7天内组织社区反诈宣讲，邀请名单中的预警对象；反馈到场人数与宣讲情况。",
        evidence=evidence,
        key=f"{MODEL.id}:talk:{code}:{day.isoformat()}",
        **base,
    )
