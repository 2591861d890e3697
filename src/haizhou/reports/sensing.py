"""The monthly assessment's section on sensing, population verification and fraud (感知·核查·反诈).

* Sensing (感知覆盖与盲区): active sensors by kind, the share of the last 12 months' incidents
  (weighted by severity) that some sensor's footprint sees, and the heaviest blind spots.
* Floating-population verification (流动人口核查): the month's findings of
  ``population.verification`` by decision, and the model's verified precision from the
  community officers' feedback.
* Telecom fraud (电信网络诈骗): the last 12 months' fraud cases by jurisdiction per resident
  (empirical Bayes, Gi*/Poisson, levelled), victim rate ratios by age band with exact CIs, and
  the dissuasion hit rate by age band from instruction feedback, and the uplift of outreach
  from ``fraud.dissuasion``'s randomised hold-out and the recorded outcomes (low-urgency
  warnings talked to against those held out, difference with a Newcombe 95 % CI); without a
  hold-out recorded in the store the report says so instead of assuming an effect.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haizhou.analytics.coverage import (
    DEFAULT_SEVERITY,
    blind_spots,
    coverage_matrix_points,
    footprints,
)
from haizhou.analytics.fraud import high_risk_areas, rate_ratios, uplift
from haizhou.analytics.spatial_stats import Neighbours
from haizhou.domain import Jurisdiction
from haizhou.geo.projection import LocalProjection
from haizhou.store.repositories.sensors import list_sensors
from haizhou.store.tables import CaseRow, FindingRow, InstructionRow, PersonRow
from haizhou.store.tables.fraud import DissuasionOutcomeRow
from haizhou.tasks.service import ModelPrecision, model_precision

__all__ = ["SensingSection", "sensing_section", "stored_uplift"]

FRAUD_CATEGORIES = ("诈骗", "fraud")
POPULATION_MODEL = "population.verification"
DISSUASION_MODEL = "fraud.dissuasion"
_RANGE = {"camera": 50.0, "plate_reader": 30.0, "wifi_probe": 100.0}


@dataclass(frozen=True, slots=True, kw_only=True)
class SensingSection:
    """Figures of the section (see the module docstring).

    Attributes
    ----------
    sensors_by_kind : dict of str to int
        Active sensors in scope per kind.
    incidents, covered_share
        Incidents of the 12 months and the severity-weighted share some sensor sees
        (``None`` without incidents).
    blind_spots : pandas.DataFrame
        ``rank, name, incidents_weighted, uncovered_weighted, uncovered_share, level``.
    population : pandas.DataFrame
        ``decision, findings`` of the month.
    population_precision : ModelPrecision or None
        Verified precision of ``population.verification`` from feedback so far.
    fraud_cases : int
    fraud_areas : pandas.DataFrame
        ``name, cases, population, rate_per_10k, z, p, level`` (levelled areas first).
    fraud_age : pandas.DataFrame
        ``age_band, cases, population, rate_per_10k, rate_ratio, ci_low, ci_high, elevated``.
    dissuasion : pandas.DataFrame
        ``age_band, fed_back, at_risk, hit_rate`` from fraud instructions' feedback.
    uplift : dict or None
        Outreach uplift over the 12 months when a randomised hold-out and outcomes are
        recorded (:func:`stored_uplift`); ``None`` otherwise.
    """

    sensors_by_kind: dict[str, int]
    incidents: int
    covered_share: float | None
    blind_spots: pd.DataFrame
    population: pd.DataFrame
    population_precision: ModelPrecision | None
    fraud_cases: int
    fraud_areas: pd.DataFrame
    fraud_age: pd.DataFrame
    dissuasion: pd.DataFrame
    uplift: dict[str, Any] | None = field(default=None)


def _coverage(
    session: Session, scope: Collection[str] | None, incidents: pd.DataFrame, names: dict[str, str]
) -> tuple[dict[str, int], float | None, pd.DataFrame]:
    sensors = list_sensors(session=session, scope=scope, status="active")
    by_kind: dict[str, int] = {}
    for s in sensors:
        by_kind[s.kind.value] = by_kind.get(s.kind.value, 0) + 1
    empty = pd.DataFrame(
        columns=[
            "rank",
            "name",
            "incidents_weighted",
            "uncovered_weighted",
            "uncovered_share",
            "level",
        ]
    )
    if len(incidents) == 0:
        return by_kind, None, empty
    lon, lat = incidents["lon"].to_numpy(float), incidents["lat"].to_numpy(float)
    proj = LocalProjection.for_bounds(
        float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
    )
    x, y = proj.forward(lon, lat)
    weight = incidents["category"].astype(str).map(dict(DEFAULT_SEVERITY)).fillna(1.0)
    w = weight.to_numpy(float)
    if sensors:
        kinds = [s.kind.value for s in sensors]
        frame = pd.DataFrame(
            {
                "kind": kinds,
                "range_m": [
                    s.range_m if s.range_m and s.range_m > 0 else _RANGE.get(k, 100.0)
                    for s, k in zip(sensors, kinds, strict=True)
                ],
                "heading_deg": [s.heading_deg or 0.0 for s in sensors],
                "fov_deg": [s.fov_deg or 360.0 for s in sensors],
            }
        )
        frame["x_m"], frame["y_m"] = proj.forward(
            np.array([s.lon for s in sensors]), np.array([s.lat for s in sensors])
        )
        seen = coverage_matrix_points(frame, x, y, shapes=footprints(frame, arc_vertices=8))
        covered = np.asarray(seen.sum(axis=1)).ravel() > 0
    else:
        covered = np.zeros(len(incidents), dtype=bool)
    spots = blind_spots(x, y, covered, weights=w, cell_size_m=200.0, min_weight=5.0).head(10)
    cell = pd.DataFrame(
        {
            "cx": np.floor(x / 200.0).astype(np.int64),
            "cy": np.floor(y / 200.0).astype(np.int64),
            "code": incidents["jurisdiction_code"].fillna("").to_numpy(),
        }
    )
    major = (
        cell[cell["code"] != ""]
        .groupby(["cx", "cy"])["code"]
        .agg(lambda s: s.mode().iloc[0])
        .to_dict()
    )
    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(spots) + 1),
            "name": [
                names.get(major.get((int(a), int(b)), ""), "—")
                for a, b in zip(spots["cell_x"], spots["cell_y"], strict=True)
            ],
            "incidents_weighted": spots["incidents"].to_numpy(float),
            "uncovered_weighted": spots["uncovered"].to_numpy(float),
            "uncovered_share": spots["uncovered_share"].to_numpy(float),
            "level": [str(v) if isinstance(v, str) else None for v in spots["level"]],
        }
    )
    return by_kind, float(w[covered].sum() / w.sum()), out


def _population(
    session: Session, scope: Collection[str] | None, start: datetime, end: datetime
) -> tuple[pd.DataFrame, ModelPrecision | None]:
    q = (
        select(FindingRow.kind, func.count())
        .where(
            FindingRow.model_id == POPULATION_MODEL,
            FindingRow.created_at >= start,
            FindingRow.created_at < end,
        )
        .group_by(FindingRow.kind)
    )
    if scope is not None:
        q = q.where(FindingRow.jurisdiction_code.in_(list(scope)))
    counts = dict(session.execute(q).all())
    frame = pd.DataFrame(
        {
            "decision": ["unregistered_resident", "registration_stale"],
            "findings": [
                int(counts.get("unregistered_resident", 0)),
                int(counts.get("registration_stale", 0)),
            ],
        }
    )
    precision = next(
        (
            m
            for m in model_precision(session=session, scope=scope)
            if m.model_id == POPULATION_MODEL
        ),
        None,
    )
    return frame, precision


def _fraud(
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    jurisdictions: tuple[Jurisdiction, ...],
) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    q = select(CaseRow.jurisdiction_code, CaseRow.attributes).where(
        CaseRow.category.in_(FRAUD_CATEGORIES),
        CaseRow.occurred_from >= start,
        CaseRow.occurred_from < end,
    )
    p = select(PersonRow.jurisdiction_code, PersonRow.age_band, func.count()).group_by(
        PersonRow.jurisdiction_code, PersonRow.age_band
    )
    if scope is not None:
        q = q.where(CaseRow.jurisdiction_code.in_(list(scope)))
        p = p.where(PersonRow.jurisdiction_code.in_(list(scope)))
    cases = pd.DataFrame(session.execute(q).all(), columns=["code", "attributes"])
    people = pd.DataFrame(session.execute(p).all(), columns=["code", "age_band", "n"])
    areas = pd.DataFrame(columns=["name", "cases", "population", "rate_per_10k", "z", "p", "level"])
    ages = pd.DataFrame(columns=["age_band", "cases", "population", "rate_per_10k", "rate_ratio"])
    if cases.empty or people.empty:
        return len(cases), areas, ages
    pop = people.groupby("code")["n"].sum()
    zones = [j for j in jurisdictions if pop.get(j.code, 0) > 0 and j.geometry]
    if len(zones) >= 2:
        codes = np.array([j.code for j in zones], dtype=object)
        per = cases.groupby("code").size()
        y = np.array([int(per.get(c, 0)) for c in codes], float)
        n = np.array([int(pop[c]) for c in codes], float)
        polys = [shapely.make_valid(shape(j.geometry)) for j in zones]
        tree = shapely.STRtree(polys)
        lists = [
            sorted(
                int(k)
                for k in tree.query(shapely.buffer(g, 1e-5), predicate="intersects")
                if k != i
            )
            for i, g in enumerate(polys)
        ]
        nb = Neighbours.from_lists(lists) if all(lists) else None
        if y.sum() > 0:
            t = high_risk_areas(codes, y, n, nb, permutations=0)
            names = {j.code: j.name for j in zones}
            areas = pd.DataFrame(
                {
                    "name": [names[c] for c in t["area"]],
                    "cases": t["cases"].astype(int).to_numpy(),
                    "population": t["population"].astype(int).to_numpy(),
                    "rate_per_10k": t["rate_per_10k"].to_numpy(float),
                    "z": t["z"].to_numpy(float),
                    "p": t["p"].to_numpy(float),
                    "level": [str(v) if isinstance(v, str) else None for v in t["level"]],
                }
            )
    band = cases["attributes"].map(
        lambda a: (a or {}).get("victim_age_band") if isinstance(a, dict) else None
    )
    victims = band.dropna().astype(str).value_counts().rename("cases")
    residents = people.dropna(subset=["age_band"]).groupby("age_band")["n"].sum()
    if len(victims):
        table = pd.concat([victims, residents.rename("population")], axis=1).fillna(0)
        table = table[table["population"] > 0].rename_axis("age_band").reset_index()
        if len(table) >= 2 and table["cases"].sum() > 0:
            ages = rate_ratios(table, ["age_band"])
    return len(cases), areas, ages


def _dissuasion(session: Session, scope: Collection[str] | None) -> pd.DataFrame:
    rows = session.execute(
        select(
            InstructionRow.evidence,
            InstructionRow.feedback_verified,
            InstructionRow.jurisdiction_code,
        ).where(
            InstructionRow.model_id.like("fraud.%"),
            InstructionRow.fed_back_at.is_not(None),
        )
    ).all()
    recs = [
        ((e or {}).get("age_band"), v)
        for e, v, code in rows
        if (scope is None or code in scope) and v is not None and (e or {}).get("age_band")
    ]
    frame = pd.DataFrame(recs, columns=["age_band", "at_risk"])
    if frame.empty:
        return pd.DataFrame(columns=["age_band", "fed_back", "at_risk", "hit_rate"])
    g = frame.groupby("age_band")["at_risk"].agg(fed_back="size", at_risk="sum").reset_index()
    g["hit_rate"] = g["at_risk"] / g["fed_back"]
    return g


def stored_uplift(
    session: Session, scope: Collection[str] | None, start: datetime, end: datetime
) -> dict[str, Any] | None:
    """Uplift of outreach from ``fraud.dissuasion``'s randomised hold-out (劝阻成效).

    The low-urgency warnings of the findings created in ``[start, end)`` — talked to
    (``fraud_dissuasion_talk``) or held out (``fraud_dissuasion_holdout``) — joined to their
    recorded outcomes (``dissuasion_outcomes``). ``None`` when no hold-out was recorded or an
    arm has no outcome yet; otherwise the :class:`~haizhou.analytics.fraud.UpliftResult`
    fields plus ``warnings`` (in both arms) and ``with_outcome``.
    """
    q = select(FindingRow.kind, FindingRow.evidence, FindingRow.jurisdiction_code).where(
        FindingRow.model_id == DISSUASION_MODEL,
        FindingRow.kind.in_(("fraud_dissuasion_talk", "fraud_dissuasion_holdout")),
        FindingRow.created_at >= start,
        FindingRow.created_at < end,
    )
    if scope is not None:
        q = q.where(FindingRow.jurisdiction_code.in_(list(scope)))
    arm: dict[int, bool] = {}
    for kind, evidence, _code in session.execute(q).all():
        for wid in (evidence or {}).get("warning_ids", []):
            arm[int(wid)] = kind == "fraud_dissuasion_talk"
    if not arm or all(arm.values()):
        return None
    got: dict[int, bool] = {}
    ids = list(arm)
    for i in range(0, len(ids), 1000):
        got.update(
            session.execute(
                select(DissuasionOutcomeRow.warning_id, DissuasionOutcomeRow.victimised).where(
                    DissuasionOutcomeRow.warning_id.in_(ids[i : i + 1000])
                )
            ).all()
        )
    treated = np.array([arm[w] for w in got], bool)
    if treated.all() or not treated.any():
        return None
    res = uplift(np.array(list(got.values()), bool), treated)
    return {**asdict(res), "warnings": len(arm), "with_outcome": len(got)}


def sensing_section(
    *,
    session: Session,
    scope: Collection[str] | None,
    start: datetime,
    end: datetime,
    incidents: pd.DataFrame,
    jurisdictions: tuple[Jurisdiction, ...],
) -> SensingSection:
    """The section's figures for the month ``[start, end)``.

    ``incidents`` is the frame of the 12 months ending with the month (as the monthly
    assessment already loads it); fraud figures use the same 12 months.
    """
    names = {j.code: j.name for j in jurisdictions}
    by_kind, covered, spots = _coverage(session, scope, incidents, names)
    population, precision = _population(session, scope, start, end)
    year_start = end - timedelta(days=365)
    n_fraud, areas, ages = _fraud(session, scope, year_start, end, jurisdictions)
    return SensingSection(
        sensors_by_kind=dict(sorted(by_kind.items())),
        incidents=len(incidents),
        covered_share=covered,
        blind_spots=spots,
        population=population,
        population_precision=precision,
        fraud_cases=n_fraud,
        fraud_areas=areas,
        fraud_age=ages,
        dissuasion=_dissuasion(session, scope),
        uplift=stored_uplift(session, scope, year_start, end),
    )
