"""Resident population (实有人口): registry records, fraud risk, floating residents and sightings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from haizhou.sim import catalog
from haizhou.sim.geography import Geography
from haizhou.sim.identifiers import birth_dates_for_ages, make_id_numbers, make_macs, make_plates

REGISTRATIONS = ("permanent", "temporary", "none")
REGISTRATION_SHARES = (0.75, 0.18, 0.07)
#: Occupation probabilities (rows: AGE_BANDS, columns: OCCUPATIONS).
OCCUPATION_BY_AGE = np.array(
    [
        [0.30, 0.08, 0.22, 0.00, 0.15, 0.05, 0.06, 0.10, 0.02, 0.02],
        [0.36, 0.15, 0.00, 0.00, 0.18, 0.08, 0.05, 0.10, 0.04, 0.04],
        [0.32, 0.20, 0.00, 0.00, 0.20, 0.08, 0.06, 0.07, 0.04, 0.03],
        [0.22, 0.18, 0.00, 0.15, 0.20, 0.07, 0.08, 0.05, 0.03, 0.02],
        [0.03, 0.06, 0.00, 0.75, 0.06, 0.01, 0.07, 0.02, 0.00, 0.00],
        [0.00, 0.00, 0.00, 0.95, 0.00, 0.00, 0.05, 0.00, 0.00, 0.00],
    ]
)


@dataclass(frozen=True, slots=True)
class Population:
    """Registry records plus what the generator keeps about them.

    ``frame`` holds the canonical ``persons.csv`` columns plus ``x_m``, ``y_m``, ``compound``,
    ``jurisdiction`` (index), ``age_index``, ``occupation_index`` and ``fraud_risk``.
    """

    frame: pd.DataFrame
    taken_ids: set[str]


def person_count(scale: float) -> int:
    """Registry sample size: 120,000 at scale 1, at least 2,000."""
    return max(2000, round(120_000 * scale))


def _choice_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one column per row from row-wise probability tables (vectorised inverse CDF)."""
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)[rows]
    u = rng.uniform(size=len(rows))[:, None]
    return np.minimum((u > cdf).sum(axis=1), probs.shape[1] - 1)


def generate_population(
    rng: np.random.Generator, geo: Geography, start: date, scale: float
) -> Population:
    """Registry sample (人口登记) living in the compounds, with ID numbers consistent with age."""
    n = person_count(scale)
    weights = np.array([c.weight for c in geo.compounds])
    compound = rng.choice(len(weights), size=n, p=weights / weights.sum())
    # one building address of the chosen compound per person
    res = geo.residential_index
    order = np.argsort(geo.addr_compound[res], kind="stable")
    res_sorted = res[order]
    comp_of = geo.addr_compound[res_sorted]
    first = np.searchsorted(comp_of, np.arange(len(weights)))
    count = np.searchsorted(comp_of, np.arange(len(weights)), side="right") - first
    if (count[compound] == 0).any():  # the fixed map guarantees buildings for every compound
        raise RuntimeError("a compound has no building inside the district; check the map")
    addr = res_sorted[first[compound] + rng.integers(0, 1 << 30, n) % count[compound]]
    unit = rng.integers(1, 7, n)
    room = rng.integers(1, 19, n) * 100 + rng.integers(1, 5, n)
    address = np.char.add(
        np.char.add(np.char.add(geo.addr_text[addr], unit.astype(str)), "单元"),
        np.char.add(room.astype(str), "室"),
    )
    age = rng.choice(len(catalog.AGE_BANDS), size=n, p=np.array(catalog.AGE_BAND_SHARES))
    occupation = _choice_rows(rng, OCCUPATION_BY_AGE, age)
    registration = rng.choice(3, size=n, p=np.array(REGISTRATION_SHARES))
    lo = np.array([r[0] for r in catalog.AGE_BAND_RANGES])[age]
    hi = np.array([r[1] for r in catalog.AGE_BAND_RANGES])[age]
    birth = birth_dates_for_ages(rng, lo, hi, start)
    local = np.array(catalog.LOCAL_REGION_CODES)
    other = np.array(catalog.OTHER_REGION_CODES)
    region = np.where(
        registration == 0,
        local[rng.choice(len(local), n, p=[0.7, 0.1, 0.08, 0.06, 0.06])],
        np.where(
            rng.uniform(size=n) < 0.8,
            other[rng.integers(0, len(other), n)],
            local[rng.integers(0, len(local), n)],
        ),
    )
    taken: set[str] = set()
    ids = make_id_numbers(rng, region, birth, taken=taken)
    # registered_at: permanent residents years ago, temporary ones within three years before start
    start64 = np.datetime64(start, "s")
    years_ago = rng.uniform(0.2, 25.0, n) * 365.25 * 86400
    recent = rng.uniform(-3 * 365.25, -1.0, n) * 86400
    offset = np.where(registration == 0, -years_ago, recent).astype(np.int64)
    offset = offset - offset % 86400 + rng.integers(8 * 3600, 17 * 3600, n)
    registered_at = start64 + offset.astype("timedelta64[s]")
    x = geo.addr_x[addr] + rng.normal(0, 3.0, n)
    y = geo.addr_y[addr] + rng.normal(0, 3.0, n)
    x, y = _keep_inside(geo, x, y, geo.addr_x[addr], geo.addr_y[addr])
    risk = (
        np.array(catalog.FRAUD_RISK_AGE)[age] * np.array(catalog.FRAUD_RISK_OCCUPATION)[occupation]
    )
    frame = pd.DataFrame(
        {
            "id_number": ids,
            "registration": np.array(REGISTRATIONS)[registration],
            "residence_address": address,
            "age_band": np.array(catalog.AGE_BANDS)[age],
            "occupation": np.array(catalog.OCCUPATIONS)[occupation],
            "registered_at": registered_at,
            "x_m": x,
            "y_m": y,
            "compound": compound,
            "jurisdiction": geo.addr_jurisdiction[addr],
            "age_index": age,
            "occupation_index": occupation,
            "fraud_risk": risk,
        }
    )
    return Population(frame=frame, taken_ids=taken)


def _keep_inside(
    geo: Geography, x: np.ndarray, y: np.ndarray, fallback_x: np.ndarray, fallback_y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    ok = shapely.contains_xy(geo.inner, x, y)
    return np.where(ok, x, fallback_x), np.where(ok, y, fallback_y)


def fraud_risk_table(persons: pd.DataFrame, frauds_per_year: float) -> pd.DataFrame:
    """True fraud risk (诈骗风险) by victim age band and occupation.

    ``relative_risk`` is the product of the age and occupation factors the generator uses to
    pick victims; ``annual_rate`` is the expected number of frauds per person per year.
    """
    per_rel = frauds_per_year / float(persons["fraud_risk"].sum())
    rows = []
    for a, band in enumerate(catalog.AGE_BANDS):
        for o, occupation in enumerate(catalog.OCCUPATIONS):
            rel = catalog.FRAUD_RISK_AGE[a] * catalog.FRAUD_RISK_OCCUPATION[o]
            top = catalog.FRAUD_TYPES[int(np.argmax(catalog.FRAUD_TYPE_BY_AGE[a]))]
            rows.append((band, occupation, round(rel, 4), round(rel * per_rel, 6), top))
    return pd.DataFrame(
        rows, columns=["age_band", "occupation", "relative_risk", "annual_rate", "top_fraud_type"]
    )


@dataclass(frozen=True, slots=True)
class Floating:
    """Floating residents (流动人口) truth and their sensor sightings."""

    truth: pd.DataFrame
    sightings: pd.DataFrame


def generate_floating(
    rng: np.random.Generator,
    geo: Geography,
    persons: pd.DataFrame,
    sensors: pd.DataFrame,
    *,
    start: date,
    days: int,
    window_days: int = 28,
) -> Floating:
    """Floating residents and their sightings over the last ``window_days`` of the period.

    Four groups: registered and living there, registered but gone, living there unregistered
    (the ones an analysis should find), and visitors seen a few times. Truly resident people
    are seen on most evenings or mornings by the Wi-Fi probes (and, with a car, the plate
    readers) nearest their compound.
    """
    n_total = int(np.clip(round(len(persons) / 40), 100, 20_000))  # 3,000 at scale 1
    n_reg_res = round(0.45 * n_total)
    n_reg_gone = round(0.12 * n_total)
    n_unreg = round(0.25 * n_total)
    n_vis = n_total - n_reg_res - n_reg_gone - n_unreg
    temporary = np.flatnonzero(persons["registration"].to_numpy() == "temporary")
    n_reg = min(len(temporary), n_reg_res + n_reg_gone)
    reg = rng.choice(temporary, size=n_reg, replace=False)
    n_reg_res = min(n_reg_res, n_reg)
    weights = np.array([c.weight for c in geo.compounds])
    comp_p = weights / weights.sum()
    compound = np.concatenate(
        [
            persons["compound"].to_numpy()[reg],
            rng.choice(len(weights), size=n_unreg + n_vis, p=comp_p),
        ]
    )
    m = len(compound)
    registered = np.arange(m) < n_reg
    resident = (np.arange(m) < n_reg_res) | (
        (np.arange(m) >= n_reg) & (np.arange(m) < n_reg + n_unreg)
    )
    group = np.where(
        registered & resident,
        "registered_resident",
        np.where(
            registered, "registered_gone", np.where(resident, "unregistered_resident", "visitor")
        ),
    )
    id_number = np.where(
        registered,
        np.concatenate([persons["id_number"].to_numpy()[reg], np.full(m - n_reg, "")]),
        "",
    )
    macs = make_macs(rng, m)
    has_car = rng.uniform(size=m) < 0.35
    plates = np.where(has_car, make_plates(rng, m), "")

    kinds = sensors["kind"].to_numpy()
    sx, sy = sensors["x_m"].to_numpy(), sensors["y_m"].to_numpy()
    active = sensors["status"].to_numpy() == "active"
    wifi = np.flatnonzero((kinds == "wifi_probe") & active)
    plate_readers = np.flatnonzero((kinds == "plate_reader") & active)
    cx = np.array([c.x_m for c in geo.compounds])
    cy = np.array([c.y_m for c in geo.compounds])
    k_w = min(3, len(wifi))
    k_p = min(2, len(plate_readers))
    _, near_w = cKDTree(np.column_stack([sx[wifi], sy[wifi]])).query(
        np.column_stack([cx, cy]), k=k_w
    )
    _, near_p = cKDTree(np.column_stack([sx[plate_readers], sy[plate_readers]])).query(
        np.column_stack([cx, cy]), k=k_p
    )
    near_w = wifi[np.asarray(near_w).reshape(len(cx), -1)]
    near_p = plate_readers[np.asarray(near_p).reshape(len(cx), -1)]

    window = min(window_days, days)
    first_day = days - window
    rows_dev: list[np.ndarray] = []
    rows_sensor: list[np.ndarray] = []
    rows_t: list[np.ndarray] = []

    def _emit(
        person: np.ndarray,
        day: np.ndarray,
        sensor: np.ndarray,
        ids: np.ndarray,
        evening_share: float,
    ) -> None:
        evening = rng.uniform(size=len(person)) < evening_share
        hour = np.where(evening, rng.integers(18, 24, len(person)), rng.integers(6, 9, len(person)))
        t = (first_day + day) * 86400 + hour * 3600 + rng.integers(0, 3600, len(person))
        rows_dev.append(ids[person])
        rows_sensor.append(sensor)
        rows_t.append(t)

    # truly resident: present on ~80 % of days, 1–3 probe sightings; cars seen on half the days
    res_idx = np.flatnonzero(resident)
    present = rng.uniform(size=(len(res_idx), window)) < 0.8
    p_i, d_i = np.nonzero(present)
    reps = rng.integers(1, 4, len(p_i))
    p_i, d_i = np.repeat(p_i, reps), np.repeat(d_i, reps)
    person = res_idx[p_i]
    sensor = near_w[compound[person], rng.integers(0, k_w, len(person))]
    _emit(person, d_i, sensor, macs, 0.7)
    car_idx = res_idx[has_car[res_idx]]
    seen = rng.uniform(size=(len(car_idx), window)) < 0.5
    p_i, d_i = np.nonzero(seen)
    person = car_idx[p_i]
    sensor = near_p[compound[person], rng.integers(0, k_p, len(person))]
    _emit(person, d_i, sensor, plates, 0.6)
    # registered but gone, and visitors: a few sightings anywhere near some compound
    rare_idx = np.flatnonzero(~resident)
    count = np.where(
        registered[rare_idx], rng.poisson(1.0, len(rare_idx)), rng.integers(1, 5, len(rare_idx))
    )
    person = np.repeat(rare_idx, count)
    day = rng.integers(0, window, len(person))
    where = np.where(
        rng.uniform(size=len(person)) < 0.5, compound[person], rng.integers(0, len(cx), len(person))
    )
    sensor = near_w[where, rng.integers(0, k_w, len(person))]
    _emit(person, day, sensor, macs, 0.5)

    start64 = np.datetime64(start, "s")
    seen_at = start64 + np.concatenate(rows_t).astype("timedelta64[s]")
    sightings = pd.DataFrame(
        {
            "device_or_plate": np.concatenate(rows_dev),
            "sensor_id": sensors["sensor_id"].to_numpy()[np.concatenate(rows_sensor)],
            "seen_at": seen_at,
        }
    )
    sightings = sightings.sort_values(
        ["seen_at", "sensor_id", "device_or_plate"], kind="stable"
    ).reset_index(drop=True)
    comp_names = np.array([c.name for c in geo.compounds])
    comp_jur = np.array([geo.station_codes[c.jurisdiction] for c in geo.compounds])
    truth = pd.DataFrame(
        {
            "pseudo_id": np.char.add("FR", np.char.zfill(np.arange(1, m + 1).astype(str), 6)),
            "device_id": macs,
            "plate": plates,
            "compound": comp_names[compound],
            "jurisdiction_code": comp_jur[compound],
            "id_number": id_number,
            "registered": registered,
            "truly_resident": resident,
            "group": group,
        }
    )
    return Floating(truth=truth, sightings=sightings)
