"""Floating-population verification (流动人口核查): the three rings on the store's data.

Sensing ring: the stored sightings (pseudonymised devices and plates) of the last
``window_nights`` nights, near the active sensors in scope, become presence profiles.
Comparison ring: devices resolve to persons through the stored device links, and the profiles
join the registry (``persons``: pseudonym, registration, residence address → compound).
Determination ring: an unsupervised residence model decides per subject and compound —
likely unregistered resident, registration stale, or consistent — with the evidence in words
("seen at compound X on 11 of the last 14 nights, no registration").

Each non-consistent decision becomes one finding naming the pseudonym
(``evidence["person_pseudonyms"]``), so the instruction policy always waits for an analyst's
approval before a community officer is sent to verify (a human decides before any action on a
person). The officer's feedback (verified / not) scores the model through the instructions'
precision (``GET /api/kpis`` → ``precision_by_model``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from haizhou.analytics.population import (
    compounds_from_registry,
    sensor_compounds,
    verify_population,
)
from haizhou.domain import Finding, Level, Schedule
from haizhou.geo.projection import LocalProjection
from haizhou.ingest.sightings import device_link_frame, sighting_frame
from haizhou.models.context import RunContext
from haizhou.models.spec import ModelCard, ModelSpec
from haizhou.store.repositories.sensors import list_sensors
from haizhou.store.tables import PersonRow

_ZH = {"unregistered_resident": "疑似未登记实有人口", "registration_stale": "登记信息疑似失效"}
_ACTION = {
    "unregistered_resident": "社区民警上门核查居住情况，属实的依法采集登记（居住证/暂住登记），"
    "并在指令中反馈核查结果（属实/不属实）。",
    "registration_stale": "社区民警核实登记人员是否仍在此居住，已搬离的注销或变更登记，"
    "并反馈核查结果（属实/不属实）。",
}


class PopulationVerificationParams(BaseModel):
    """Parameters of :data:`MODEL`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_nights: int = Field(default=28, ge=7, le=60, description="Nights counted (nights).")
    threshold: float = Field(
        default=0.9, gt=0.5, lt=1.0, description="Posterior needed for a decision (0.5-1)."
    )
    radius_m: float = Field(
        default=250.0, gt=0, description="A sensor stands for compounds within this (metres)."
    )
    yellow_score: float = Field(
        default=0.999, gt=0.5, le=1.0, description="Score from which a finding is yellow, not blue."
    )
    max_findings: int = Field(default=2000, ge=1, description="Most findings per run.")
    nearest_sensors: int = Field(
        default=3,
        ge=0,
        le=20,
        description="Nearest sensors of each kind every compound gets (count).",
    )
    sensor_kinds: list[str] = Field(
        default=["wifi_probe", "plate_reader"],
        description="Sensor kinds whose sightings count (device probes and plate readers).",
    )


MODEL = ModelSpec(
    id="population.verification",
    version="1.0.0",
    title_zh="流动人口核查",
    title_en="Floating-population verification",
    params_model=PopulationVerificationParams,
    schedule=Schedule.DAILY,
    card=ModelCard(
        purpose="Finds pseudonymised devices or plates that very likely live at a compound "
        "without a registration, and registrations whose person very likely moved away, as "
        "verification instructions for the community officer (三圈核查: sensing, comparison, "
        "determination).",
        data_read=("sightings", "device_links", "persons", "sensors"),
        evaluation="On the synthetic city's ground truth (benchmarks/bench_population.py): "
        "precision and recall of 'unregistered resident' at threshold 0.9 (target precision "
        ">= 0.95, recall >= 0.8; anchor: Zhejiang's published 97.7 % verification accuracy). "
        "In service, officers' feedback gives the verified precision per model.",
        limits="Only Wi-Fi/plate sightings near compounds within radius_m count; a person with "
        "an unlinked second phone appears twice; night-shift workers are seen by day and can "
        "look absent. Attributes used: pseudonyms, sensor, time, registration and registered "
        "address only. No biometric data of any kind.",
        references=(
            "Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from "
            "incomplete data via the EM algorithm. J. R. Stat. Soc. B 39(1), 1-38.",
        ),
    ),
    finding_kinds=("unregistered_resident", "registration_stale"),
)


def _registry(ctx: RunContext) -> pd.DataFrame:
    q = select(
        PersonRow.pseudonym,
        PersonRow.registration,
        PersonRow.residence_address,
        PersonRow.residence_lon,
        PersonRow.residence_lat,
        PersonRow.jurisdiction_code,
    )
    if ctx.scope is not None:
        q = q.where(PersonRow.jurisdiction_code.in_(list(ctx.scope)))
    return pd.DataFrame(
        ctx.session.execute(q).all(),
        columns=["person_id", "registration", "address", "lon", "lat", "jurisdiction_code"],
    )


def run(ctx: RunContext, params: PopulationVerificationParams) -> Iterator[Finding]:
    """Yield one finding per likely unregistered resident or stale registration."""
    now_local = ctx.local(ctx.now).replace(tzinfo=None)
    start = ctx.now - timedelta(days=params.window_nights + 2)
    sensors = [
        s
        for s in list_sensors(session=ctx.session, scope=ctx.scope, status="active")
        if s.kind.value in params.sensor_kinds
    ]
    persons = _registry(ctx)
    if not sensors or persons.empty:
        return
    persons["compound"], centres = compounds_from_registry(
        persons["address"], persons["lon"], persons["lat"]
    )
    if centres.empty:
        return
    slon = np.array([s.lon for s in sensors])
    slat = np.array([s.lat for s in sensors])
    proj = LocalProjection.for_bounds(
        float(slon.min()), float(slat.min()), float(slon.max()), float(slat.max())
    )
    sx, sy = proj.forward(slon, slat)
    cx, cy = proj.forward(centres["lon"].to_numpy(float), centres["lat"].to_numpy(float))
    ids = np.array([s.id for s in sensors], dtype=object)
    kinds = np.array([s.kind.value for s in sensors])
    links = pd.concat(  # each kind on its own: a compound's nearest probes and nearest readers
        [
            sensor_compounds(
                ids[kinds == k],
                sx[kinds == k],
                sy[kinds == k],
                centres["compound"].to_numpy(),
                cx,
                cy,
                radius_m=params.radius_m,
                min_per_compound=params.nearest_sensors,
            )
            for k in np.unique(kinds)
        ],
        ignore_index=True,
    )
    if links.empty:
        return
    # only the sightings of the sensors in scope that stand for some compound are read
    sightings = sighting_frame(
        ctx.session,
        start=start,
        end=ctx.now,
        zone=ctx.zone.key,
        sensor_ids=links["sensor_id"].unique().tolist(),
    )
    if sightings["pseudo_id"].nunique() < 2:
        return
    try:
        v = verify_population(
            sightings,
            links,
            persons[["person_id", "registration", "compound"]],
            now=now_local,
            device_links=device_link_frame(ctx.session),
            window_nights=params.window_nights,
            threshold=params.threshold,
        )
    except ValueError as exc:  # too few or too uniform subjects to fit the residence model
        ctx.log.info("no decision this run: %s", exc)
        return
    juris = (
        persons[persons["compound"] != ""]
        .groupby("compound")["jurisdiction_code"]
        .agg(lambda s: s.mode().iloc[0] if s.notna().any() else None)
    )
    centre = centres.set_index("compound")
    window_start = ctx.now - timedelta(days=params.window_nights)
    flagged = v.decisions[v.decisions["decision"] != "consistent"].head(params.max_findings)
    for row in flagged.itertuples(index=False):
        yield _finding(row, centre, juris, params, window_start, ctx)


def _finding(
    row: object,
    centre: pd.DataFrame,
    juris: pd.Series,
    params: PopulationVerificationParams,
    window_start: object,
    ctx: RunContext,
) -> Finding:
    r = row  # a decisions row: pseudo_id, compound, decision, score, nights, evidence_*
    compound = str(r.compound)  # type: ignore[attr-defined]
    decision = str(r.decision)  # type: ignore[attr-defined]
    score = float(r.score)  # type: ignore[attr-defined]
    pseudo_id = str(r.pseudo_id)  # type: ignore[attr-defined]
    lon, lat = (
        (float(centre.at[compound, "lon"]), float(centre.at[compound, "lat"]))
        if compound in centre.index
        else (float(centre["lon"].median()), float(centre["lat"].median()))
    )
    level = Level.YELLOW if score >= params.yellow_score else Level.BLUE
    evidence = {
        "person_pseudonyms": [pseudo_id],
        "decision": decision,
        "compound": compound,
        "nights": int(r.nights),  # type: ignore[attr-defined]
        "window_nights": int(r.window_nights),  # type: ignore[attr-defined]
        "registered": bool(r.registered),  # type: ignore[attr-defined]
        "score": round(score, 6),
        "evidence_en": str(r.evidence_en),  # type: ignore[attr-defined]
        "evidence_zh": str(r.evidence_zh),  # type: ignore[attr-defined]
    }
    code = juris.get(compound)
    if isinstance(code, str):
        evidence["jurisdiction_code"] = code
    return Finding(
        kind=decision,
        title=f"{_ZH[decision]}：{compound or '未知小区'}",
        level=level,
        geometry={"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        window_start=window_start,  # type: ignore[arg-type]
        window_end=ctx.now,
        explanation=f"{r.evidence_zh}（判定概率{score:.3f}）。{r.evidence_en}.",  # type: ignore[attr-defined]
        suggested_action=_ACTION[decision],
        model_id=MODEL.id,
        model_version=MODEL.version,
        evidence=evidence,
        key=f"{MODEL.id}:{decision}:{pseudo_id}:{compound}",
    )
