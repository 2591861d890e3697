"""Serial-case linkage (串并案): series and leads from the store's cases (破一案带一串).

The linkage model of :mod:`haizhou.analytics.linkage` is trained on the store's solved cases of
the last ``train_days`` days (two cases sharing a suspect pseudonym = linked), or loaded from a
file written by ``haizhou linkage train``. It then scores the candidate pairs of the cases of
the last ``link_days`` days, clusters them into series and yields:

- one ``linkage_series`` finding per series (系列案) that still has an unsolved case, ranked by
  strength (mean pair probability) and recency; the cases in time order, the evidence of its
  strongest pairs in plain words; routed to the unit holding most of its cases (MultiPoint
  geometry), the others assisting;
- one ``linkage_lead`` finding per unsolved case with likely linked cases (串并线索): the linked
  cases with the evidence for each pair and, where a linked case is solved, its suspects'
  pseudonyms offered as leads. Such a finding names people (``person_pseudonyms``), so the
  instruction policy always waits for an analyst's approval before it reaches a unit.

No biometric or clear personal data is read: suspects are pseudonyms only.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from haizhou.analytics.linkage import (
    CrimeTable,
    LinkageModel,
    Offenders,
    cluster_series,
    explain_pair,
    leads,
    rank_series,
)
from haizhou.analytics.linkage.cases import crimes_from_cases, offenders_from_cases
from haizhou.analytics.linkage.evidence import EvidenceEncoder
from haizhou.domain import Case, CaseStatus, Finding, Level, Schedule
from haizhou.errors import HaizhouError
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec
from haizhou.store.repositories.cases import iter_cases

__all__ = ["MODEL", "LinkageSeriesParams", "load_model_file", "run"]

MODEL_FORMAT = "haizhou-linkage-model"
MODEL_FORMAT_VERSION = 1
SERIES_KIND = "linkage_series"
LEAD_KIND = "linkage_lead"
_EPOCH = datetime(1970, 1, 1)


class LinkageSeriesParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: list[str] = Field(
        default=["入室盗窃", "盗窃", "抢劫"],
        description="Case categories linked (property crime is mostly serial).",
    )
    train_days: int = Field(
        default=730, ge=30, le=3660, description="Solved cases of the last N days train."
    )
    link_days: int = Field(
        default=180, ge=7, le=3660, description="Cases of the last N days are linked."
    )
    model_file: str | None = Field(
        default=None,
        description="Model from `haizhou linkage train` (absolute, or relative to the data "
        "directory); none: train on the store's solved cases.",
    )
    learner: str = Field(
        default="auto",
        description="auto, naive_bayes, logistic, gbm or blend (auto: best by CV).",
    )
    collective: Literal["auto", "on", "off"] = Field(
        default="off",
        description="Second stage: a pair is also linked through a third case likely linked "
        "to both (auto: kept only if it raises the inner cross-validation's ROC AUC). A model "
        "file brings its own.",
    )
    max_distance_m: float = Field(default=3000.0, gt=0, description="Blocking distance, metres.")
    max_gap_days: float = Field(default=120.0, ge=0, description="Blocking time gap, days.")
    series_threshold: float = Field(
        default=0.3,
        gt=0,
        lt=1,
        description="Least mean pair probability within a series (linked pairs are rare among "
        "candidate pairs, so calibrated probabilities are low; see docs/linkage.md).",
    )
    half_life_days: float = Field(
        default=90.0, gt=0, description="Age (days) at which a series' recency weight halves."
    )
    max_series: int = Field(default=50, ge=1, description="At most this many series findings.")
    max_pairs: int = Field(
        default=30, ge=1, description="Explained pairs per series (strongest first)."
    )
    lead_probability: float = Field(
        default=0.3, gt=0, lt=1, description="Least pair probability for a lead."
    )
    lead_top_k: int = Field(default=5, ge=1, description="Linked cases per lead.")
    max_leads: int = Field(default=200, ge=0, description="At most this many lead findings.")
    seed: int = Field(default=0, ge=0, description="Random seed of the training.")


MODEL = ModelSpec(
    id="linkage.series",
    version="1.0.0",
    title_zh="串并案系列与线索",
    title_en="Serial-case linkage: series and leads",
    params_model=LinkageSeriesParams,
    schedule=Schedule.DAILY,
    card=ModelCard(
        purpose="Links recorded property crimes that probably share an offender into series "
        "(串并案) and, for each unsolved case, names its likely linked cases with the evidence "
        "in plain words and the suspects of linked solved cases as leads, so that solving one "
        "case clears a series (破一案带一串).",
        data_read=("cases", "jurisdictions"),
        evaluation="Grouped cross-validation by offender group on solved cases (docs/linkage.md): "
        "on the crimelinkage example data pairwise AUC 0.922 against 0.899 of "
        "crimeserieslinkage in the same run, average precision 0.513 against 0.459; on the "
        "synthetic city's ground truth see benchmarks/bench_linkage.py. Precision in use is "
        "measured from instruction feedback.",
        limits="Learns only from solved cases with recorded suspects: offenders who are never "
        "caught, or who change their method, are linked less well. Cases without MO fields are "
        "linked on place and time alone. A lead is a hypothesis for a human to weigh, never "
        "grounds for action on a person by itself.",
        references=(
            "Porter, M. D. (2016). A statistical approach to crime linkage. The American "
            "Statistician 70(2), 152-165. doi:10.1080/00031305.2015.1123185",
            "Bennell, C. & Canter, D. V. (2002). Linking commercial burglaries by modus "
            "operandi. Science & Justice 42(3), 153-164. doi:10.1016/S1355-0306(02)71820-0",
        ),
    ),
    finding_kinds=(SERIES_KIND, LEAD_KIND),
)


# ------------------------------------------------------------------------------------------
# model file


def load_model_file(path: Path) -> LinkageModel:
    """A model written by ``haizhou linkage train``, checked against its JSON sidecar.

    A model file is a pickle, that is, code: it is loaded only when ``<path>.json`` is present,
    describes a linkage model of this format and holds the file's SHA-256.

    Raises
    ------
    HaizhouError
        If the file or its sidecar is missing, or they do not match.
    """
    side = path.with_name(path.name + ".json")
    if not path.is_file():
        raise HaizhouError(f"linkage model file {path} does not exist; train one first.")
    if not side.is_file():
        raise HaizhouError(
            f"{path} has no sidecar {side.name}; only files written by `haizhou linkage train` "
            "are loaded (a model file is code)."
        )
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HaizhouError(f"{side} is not valid JSON ({exc}); train the model again.") from None
    if meta.get("format") != MODEL_FORMAT or meta.get("format_version") != MODEL_FORMAT_VERSION:
        raise HaizhouError(f"{side} does not describe a linkage model of this version.")
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
        raise HaizhouError(
            f"{path} does not match the SHA-256 in {side.name}; refusing to load it."
        )
    model = pickle.loads(blob)  # checked against the sidecar written at training
    if not isinstance(model, LinkageModel):
        raise HaizhouError(f"{path} does not hold a LinkageModel.")
    return model


def _model_path(text: str) -> Path:
    path = Path(text).expanduser()
    if path.is_absolute():
        return path
    from haizhou.settings import Settings

    return Settings().data_dir / path


# ------------------------------------------------------------------------------------------
# helpers


def _days(moment: datetime, ctx: RunContext) -> float:
    local = ctx.local(moment).replace(tzinfo=None)
    return (local - _EPOCH).total_seconds() / 86_400.0


def _case_json(case: Case, order: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "case_id": case.id,
        "category": case.category,
        "occurred_from": case.occurred_from.astimezone(UTC).isoformat(),
        "occurred_to": case.occurred_to.astimezone(UTC).isoformat(),
        "lon": round(float(case.lon), 6),
        "lat": round(float(case.lat), 6),
        "jurisdiction_code": case.jurisdiction_code,
        "status": CaseStatus(case.status).value,
        "entry_method": case.mo.entry_method,
        "target": case.mo.target,
        "tools": case.mo.tools,
        "time_of_day": case.mo.time_of_day,
    }
    if order is not None:
        out["order"] = order
    return out


def _lead_unit(cases: Sequence[Case]) -> str | None:
    """The unit holding most of the cases; ties go to the latest case's unit."""
    codes = [c.jurisdiction_code for c in cases if c.jurisdiction_code]
    if not codes:
        return None
    counts = Counter(codes)
    best = max(counts.values())
    for c in reversed(cases):
        if c.jurisdiction_code and counts[c.jurisdiction_code] == best:
            return c.jurisdiction_code
    return codes[0]


def _fit(
    ctx: RunContext, params: LinkageSeriesParams, cases: list[Case], crimes: CrimeTable
) -> LinkageModel:
    if params.model_file:
        return load_model_file(_model_path(params.model_file))
    model = LinkageModel(
        learner=params.learner,
        max_distance_m=params.max_distance_m,
        max_gap_days=params.max_gap_days,
        series_threshold=params.series_threshold,
        collective={"auto": "auto", "on": True, "off": False}[params.collective],
        random_state=params.seed,
    )
    offenders = offenders_from_cases(crimes, cases)
    try:
        model.fit(crimes, offenders)
    except ValueError as exc:
        raise HaizhouError(
            f"cannot train the linkage model on the store's solved cases: {exc} Or give "
            "model_file (a model from `haizhou linkage train`)."
        ) from None
    ctx.log.info(
        "linkage model %s trained on %d pairs (%d linked)",
        model.learner_name_,
        model.n_train_pairs_,
        model.n_linked_pairs_,
    )
    return model


def _series_threshold(model: LinkageModel) -> float:
    """The model's series threshold: the tuned one of a model trained with
    ``--series-threshold auto``, else the one it was given."""
    return float(getattr(model, "series_threshold_", model.series_threshold))


# ------------------------------------------------------------------------------------------
# run


def run(ctx: RunContext, params: LinkageSeriesParams) -> Iterator[Finding]:
    """Yield a finding per active series and per unsolved case with leads."""
    end = ctx.window.end  # a run over a past window links the cases up to its end
    start = end - timedelta(days=max(params.train_days, params.link_days))
    cases = list(
        iter_cases(
            session=ctx.session,
            scope=ctx.scope,
            start=start,
            end=end,
            category=params.categories,
        )
    )
    if len(cases) < 2:
        ctx.log.info("fewer than two cases to link; nothing to do")
        return
    all_table = crimes_from_cases(cases, zone=ctx.zone)
    train_from = end - timedelta(days=params.train_days)
    train_rows = [k for k, c in enumerate(cases) if c.occurred_from >= train_from]
    train_cases = [cases[k] for k in train_rows]
    model = _fit(ctx, params, train_cases, all_table.subset(np.asarray(train_rows)))

    link_from = end - timedelta(days=params.link_days)
    link_rows = np.asarray([k for k, c in enumerate(cases) if c.occurred_from >= link_from])
    if link_rows.size < 2:
        return
    link_cases = [cases[k] for k in link_rows.tolist()]
    table = all_table.subset(link_rows)
    offenders = offenders_from_cases(table, link_cases)
    res = model.link(table)
    threshold = _series_threshold(model)
    labels = cluster_series(len(table), res.i, res.j, res.probability, threshold=threshold)
    ranked = rank_series(
        table,
        labels,
        res.i,
        res.j,
        res.probability,
        now_days=_days(end, ctx),
        half_life_days=params.half_life_days,
    )
    encoder = model.encoder(table)
    series_key_of: dict[str, str] = {}
    n_series = 0
    for row in ranked.frame.itertuples():
        members = [int(k) for k in table.index_of(row.members)]
        member_cases = [link_cases[k] for k in members]
        key = f"{MODEL.id}:series:{member_cases[0].id}"
        for c in member_cases:
            series_key_of[c.id] = key
        if (
            all(c.status == CaseStatus.SOLVED for c in member_cases)
            or n_series >= params.max_series
        ):
            continue
        n_series += 1
        yield _series_finding(row, members, member_cases, key, table, res, encoder, model, params)
    yield from _lead_findings(table, offenders, link_cases, res, series_key_of, params)


def _series_level(n: int, strength: float, recency: float) -> Level:
    if n >= 4 and strength >= 0.6 and recency >= 0.5:
        return Level.ORANGE
    if n >= 3 and recency >= 0.5:
        return Level.YELLOW
    return Level.BLUE


def _series_finding(
    row: Any,
    members: list[int],
    member_cases: list[Case],
    key: str,
    table: CrimeTable,
    res: Any,
    encoder: EvidenceEncoder,
    model: LinkageModel,
    params: LinkageSeriesParams,
) -> Finding:
    member_set = np.zeros(len(table), dtype=bool)
    member_set[members] = True
    inside = np.flatnonzero(member_set[res.i] & member_set[res.j])
    inside = inside[np.argsort(-res.probability[inside], kind="stable")][: params.max_pairs]
    pairs = []
    for k in inside.tolist():
        a, b = int(res.i[k]), int(res.j[k])
        ex = explain_pair(table, a, b, probability=float(res.probability[k]), encoder=encoder)
        pairs.append(
            {
                "case_a": ex.crime_a,
                "case_b": ex.crime_b,
                "probability": round(float(res.probability[k]), 4),
                "reasons_zh": list(ex.reasons_zh),
                "reasons_en": list(ex.reasons_en),
            }
        )
    n = len(member_cases)
    n_open = sum(c.status != CaseStatus.SOLVED for c in member_cases)
    strength, recency = float(row.strength), float(row.recency)
    level = _series_level(n, strength, recency)
    lead = _lead_unit(member_cases)
    first = min(c.occurred_from for c in member_cases)
    last = max(c.occurred_to for c in member_cases)
    categories = "、".join(sorted({c.category for c in member_cases}))
    top = pairs[0]["reasons_zh"][:3] if pairs else []
    explanation = (
        f"{n}起{categories}案件经串并模型（{model.learner_name_}）关联为同一系列，"
        f"平均关联概率{strength:.2f}，其中{n_open}起未破；首起{first:%Y-%m-%d}，"
        f"最近一起{last:%Y-%m-%d}。" + (f"最强关联：{'；'.join(top)}。" if top else "")
    )
    return Finding(
        kind=SERIES_KIND,
        title=f"系列{categories}案{n}起（{n_open}起未破）",
        level=level,
        geometry={
            "type": "MultiPoint",
            "coordinates": [[round(c.lon, 6), round(c.lat, 6)] for c in member_cases],
        },
        window_start=first,
        window_end=max(last, first + timedelta(seconds=1)),
        explanation=explanation,
        suggested_action="由主办单位牵头串并侦查：比对系列案现场痕迹、视频与物证，研判下一次"
        "可能作案的时段和区域，破一案带一串。",
        model_id=MODEL.id,
        model_version=MODEL.version,
        evidence={
            "jurisdiction_code": lead,
            "jurisdiction_codes": sorted(
                {c.jurisdiction_code for c in member_cases if c.jurisdiction_code}
            ),
            "series_key": key,
            "rank": int(row.rank),
            "n_cases": n,
            "n_open": n_open,
            "n_solved": n - n_open,
            "strength": round(strength, 4),
            "recency": round(recency, 4),
            "score": round(float(row.score), 4),
            "first_at": first.astimezone(UTC).isoformat(),
            "last_at": last.astimezone(UTC).isoformat(),
            "cases": [_case_json(c, order=k + 1) for k, c in enumerate(member_cases)],
            "pairs": pairs,
            "learner": model.learner_name_,
            "collective": bool(getattr(model, "collective_", False)),
            "threshold": _series_threshold(model),
        },
        key=key,
    )


def _lead_findings(
    table: CrimeTable,
    offenders: Offenders,
    link_cases: list[Case],
    res: Any,
    series_key_of: dict[str, str],
    params: LinkageSeriesParams,
) -> Iterator[Finding]:
    if params.max_leads == 0:
        return
    found = leads(
        table,
        offenders,
        res.i,
        res.j,
        res.probability,
        top_k=params.lead_top_k,
        min_probability=params.lead_probability,
    )
    by_case: dict[str, list[Any]] = {}
    for lead in found:
        by_case.setdefault(lead.crime_id, []).append(lead)
    index = {c.id: c for c in link_cases}
    # strongest first: a lead with suspects, then by best probability
    ordered = sorted(
        by_case.items(),
        key=lambda kv: (
            -int(any(x.suspects for x in kv[1])),
            -max(x.probability for x in kv[1]),
            kv[0],
        ),
    )
    for case_id, items in ordered[: params.max_leads]:
        case = index[case_id]
        suspects = sorted({s for x in items for s in x.suspects})
        linked = [
            {
                **_case_json(index[x.linked_crime_id]),
                "probability": round(x.probability, 4),
                "reasons_zh": list(x.reasons_zh),
                "reasons_en": list(x.reasons_en),
                "suspects": list(x.suspects),
            }
            for x in items
        ]
        best = items[0]
        level = Level.YELLOW if suspects else Level.BLUE
        title = f"串并线索：案件{case_id}与{len(items)}起案件可能系同一人所为" + (
            f"，{len(suspects)}名已破案件嫌疑人可作线索" if suspects else ""
        )
        explanation = (
            f"未破案件{case_id}与案件{best.linked_crime_id}关联概率{best.probability:.2f}"
            f"（{'；'.join(best.reasons_zh[:4])}）。"
            + (
                "关联案件已破，其嫌疑人（假名）可作为本案线索，须经人工研判核实，"
                "不得仅凭此对任何人采取措施。"
                if suspects
                else ""
            )
        )
        yield Finding(
            kind=LEAD_KIND,
            title=title,
            level=level,
            geometry={"type": "Point", "coordinates": [round(case.lon, 6), round(case.lat, 6)]},
            window_start=case.occurred_from,
            window_end=max(case.occurred_to, case.occurred_from + timedelta(seconds=1)),
            explanation=explanation,
            suggested_action="比对关联案件的现场痕迹与物证；对线索嫌疑人经审批后依法核查。",
            model_id=MODEL.id,
            model_version=MODEL.version,
            evidence={
                "jurisdiction_code": case.jurisdiction_code,
                "case": _case_json(case),
                "case_id": case_id,
                "series_key": series_key_of.get(case_id),
                "linked": linked,
                "person_pseudonyms": suspects,
                "best_probability": round(best.probability, 4),
            },
            key=f"{MODEL.id}:lead:{case_id}",
        )
