"""Generate the synthetic city (生成模拟城市): :func:`generate_city` → :class:`City`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import shapely

from haizhou.sim import catalog
from haizhou.sim.cases import generate_cases
from haizhou.sim.config import CityConfig
from haizhou.sim.drones import generate_drone_scenarios
from haizhou.sim.geography import RESIDENTIAL, Geography, build_geography
from haizhou.sim.identifiers import birth_dates_for_ages, make_id_numbers, make_mobiles
from haizhou.sim.incidents import CAT_KEYS, ORIGINS, generate_incidents
from haizhou.sim.population import fraud_risk_table, generate_floating, generate_population
from haizhou.sim.sensors import generate_sensors

#: The bureau's local time: China Standard Time, UTC+8 all year.
CST = timezone(timedelta(hours=8))
Progress = Callable[[str, float], None]


@dataclass(frozen=True, slots=True, eq=False)
class CityTruth:
    """Ground truth (真值) an evaluation scores against. Times are tz-aware (UTC+8).

    Attributes
    ----------
    hotspots : dict
        GeoJSON FeatureCollection of persistent hot-spot centres; properties ``hotspot_id, name,
        kind, category, category_key, share, radius_m, expected_per_year``.
    surges : DataFrame
        Planted surges: ``surge_id, jurisdiction, category, category_key, start, end, multiplier,
        baseline_expected, extra_incidents``.
    offenders : DataFrame
        ``offender_id, case_id, solved`` for every case of a simulated serial offender.
    offender_profiles : DataFrame
        Home base, active period and MO signature of each serial offender.
    repeat_addresses : DataFrame
        Repeat-call addresses with their phone and number of calls.
    floating_residents : DataFrame
        ``pseudo_id, device_id, plate, compound, jurisdiction_code, id_number, registered,
        truly_resident, group``.
    fraud_risk, fraud_types : DataFrame
        True fraud risk by victim attributes, and fraud type probabilities by age band.
    near_repeat : DataFrame
        Parameters of the self-exciting burglary process.
    burglary_branching : DataFrame
        ``incident_id, parent_incident_id, generation`` of every Hawkes burglary.
    incident_origins : DataFrame
        ``incident_id, origin, ref`` for every incident (which mechanism made it).
    """

    hotspots: dict[str, Any]
    surges: pd.DataFrame
    offenders: pd.DataFrame
    offender_profiles: pd.DataFrame
    repeat_addresses: pd.DataFrame
    floating_residents: pd.DataFrame
    fraud_risk: pd.DataFrame
    fraud_types: pd.DataFrame
    near_repeat: pd.DataFrame
    burglary_branching: pd.DataFrame
    incident_origins: pd.DataFrame


@dataclass(frozen=True, slots=True, eq=False)
class City:
    """A generated city: the files' content as frames and GeoJSON, plus the truth.

    Frames carry the canonical columns of their file (see :func:`haizhou.sim.write_city`)
    first, then helper columns an analysis may use directly (``category_key``,
    ``jurisdiction_code``, ...). Times are tz-aware pandas timestamps in UTC+8; coordinates
    are WGS-84 degrees.
    """

    config: CityConfig
    jurisdictions: dict[str, Any]
    roads: dict[str, Any]
    pois: dict[str, Any]
    incidents: pd.DataFrame
    cases: pd.DataFrame
    sensors: pd.DataFrame
    persons: pd.DataFrame
    sightings: pd.DataFrame
    drone_scenarios: dict[str, Any]
    truth: CityTruth
    geography: Geography = field(repr=False)

    def counts(self) -> dict[str, int]:
        """Number of records per output file."""
        return {
            "jurisdictions": len(self.jurisdictions["features"]),
            "roads": len(self.roads["features"]),
            "pois": len(self.pois["features"]),
            "incidents": len(self.incidents),
            "cases": len(self.cases),
            "sensors": len(self.sensors),
            "persons": len(self.persons),
            "sightings": len(self.sightings),
            "drone_objects": sum(len(s["objects"]) for s in self.drone_scenarios["scenarios"]),
            "serial_offenders": len(self.truth.offender_profiles),
            "surges": len(self.truth.surges),
            "repeat_addresses": len(self.truth.repeat_addresses),
            "floating_residents": len(self.truth.floating_residents),
        }


def _times(start: Any, seconds: np.ndarray) -> pd.Series:
    """Tz-aware (UTC+8) timestamps ``seconds`` after local midnight of ``start``; -1 → NaT."""
    secs = np.asarray(seconds, dtype=np.int64)
    values = np.datetime64(start, "s") + secs.astype("timedelta64[s]")
    values = np.where(secs == -1, np.datetime64("NaT"), values).astype("datetime64[s]")
    return pd.Series(values).dt.tz_localize(CST)


def generate_city(config: CityConfig, *, progress: Progress | None = None) -> City:
    """Generate the synthetic Haizhou district (模拟海州区) for ``config``.

    Parameters
    ----------
    config : CityConfig
        Scale, seed, start day and number of days.
    progress : callable, optional
        Called as ``progress(stage, fraction_done)`` between stages.

    Returns
    -------
    City
        Frames and GeoJSON of every file plus the ground truth. Deterministic: the same config
        gives the same city, and :func:`~haizhou.sim.write_city` the same bytes.

    Examples
    --------
    >>> city = generate_city(CityConfig(scale=0.01, days=30))
    >>> city.counts()["jurisdictions"]
    12
    >>> sorted(city.incidents["category_key"].unique())[:3]
    ['assistance', 'burglary', 'dispute']
    """
    report = progress or (lambda _stage, _fraction: None)
    streams = config.streams()
    start, days = config.start, config.days
    report("geography", 0.0)
    geo = build_geography()
    report("population", 0.1)
    pop = generate_population(streams["population"], geo, start, config.scale)
    persons_internal = pop.frame
    report("incidents", 0.2)
    parts = generate_incidents(
        streams, geo, persons_internal, pop.taken_ids, scale=config.scale, start=start, days=days
    )
    report("incident text", 0.45)
    incidents_internal = _finish_incidents(
        streams,
        geo,
        persons_internal,
        parts.frame,
        pop.taken_ids,
        start,
        parts.repeats["unit"].to_numpy(),
    )
    report("cases", 0.6)
    case_parts = generate_cases(
        streams["cases"],
        incidents_internal,
        persons_internal,
        parts.offenders,
        pop.taken_ids,
        start_date=start,
        days=days,
    )
    report("sensors", 0.7)
    sensors_internal = generate_sensors(streams["sensors"], geo, config.scale)
    report("floating residents", 0.75)
    floating = generate_floating(
        streams["floating"], geo, persons_internal, sensors_internal, start=start, days=days
    )
    report("drones", 0.85)
    drones = generate_drone_scenarios(streams["drones"], geo, start=start, days=days)
    report("assembling", 0.9)
    city = _assemble(
        config,
        geo,
        persons_internal,
        incidents_internal,
        case_parts,
        sensors_internal,
        floating,
        drones,
        parts,
    )
    report("done", 1.0)
    return city


def _finish_incidents(
    streams: dict[str, np.random.Generator],
    geo: Geography,
    persons: pd.DataFrame,
    frame: pd.DataFrame,
    taken_ids: set[str],
    start: date,
    repeat_units: np.ndarray,
) -> pd.DataFrame:
    """Sort, number, place, and give text and phones to the generated incidents."""
    rng_text, rng_phone = streams["text"], streams["phones"]
    order = np.lexsort((np.arange(len(frame)), frame["t_s"].to_numpy()))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    frame = frame.iloc[order].reset_index(drop=True)
    n = len(frame)
    frame["incident_id"] = np.char.add("JQ320706", np.char.zfill((np.arange(n) + 1).astype(str), 8))
    parent = frame["parent"].to_numpy()
    frame["parent_row"] = np.where(parent >= 0, rank[np.maximum(parent, 0)], -1)

    addr = frame["addr"].to_numpy()
    victim = frame["victim"].to_numpy()
    has_addr = addr >= 0
    a = np.maximum(addr, 0)
    v = np.maximum(victim, 0)
    jitter = rng_text.normal(0, 4.0, (n, 2))
    x = np.where(has_addr, geo.addr_x[a] + jitter[:, 0], persons["x_m"].to_numpy()[v])
    y = np.where(has_addr, geo.addr_y[a] + jitter[:, 1], persons["y_m"].to_numpy()[v])
    inside = shapely.contains_xy(geo.inner, x, y)
    x = np.where(inside, x, np.where(has_addr, geo.addr_x[a], x))
    y = np.where(inside, y, np.where(has_addr, geo.addr_y[a], y))
    frame["x_m"], frame["y_m"] = x, y

    unit = rng_text.integers(1, 7, n)
    room = rng_text.integers(1, 19, n) * 100 + rng_text.integers(1, 5, n)
    suffix = np.char.add(np.char.add(unit.astype(str), "单元"), np.char.add(room.astype(str), "室"))
    residential = has_addr & (geo.addr_kind[a] == RESIDENTIAL)
    address = np.where(has_addr, geo.addr_text[a], persons["residence_address"].to_numpy()[v])
    origin = frame["origin"].to_numpy()
    ref = frame["ref"].to_numpy()
    is_rep = origin == ORIGINS.index("repeat_address")
    if is_rep.any():  # a repeat-call address is one flat: always the same unit and room
        suffix = np.where(
            is_rep, np.asarray(repeat_units, dtype=str)[np.where(is_rep, ref, 0)], suffix
        )
    address = np.where(residential, np.char.add(address.astype(str), suffix), address)
    frame["origin_name"] = np.array(ORIGINS)[origin]
    frame["address"] = address
    frame["category"] = np.array([catalog.CATEGORY_KEYS[k] for k in CAT_KEYS])[
        frame["cat"].to_numpy()
    ]
    frame["_is_rep"] = is_rep
    frame["_rep"] = np.where(is_rep, ref, -1)

    # subcategories
    sub = np.empty(n, dtype=object)
    cat = frame["category_key"].to_numpy()
    for key, spec in catalog.CATEGORIES.items():
        m = cat == key
        names = np.array([s for s, _w in spec.subcategories])
        w = np.array([w for _s, w in spec.subcategories])
        sub[m] = names[rng_text.choice(len(names), size=int(m.sum()), p=w / w.sum())]
    is_burg = cat == "burglary"
    sub[is_burg] = np.where(residential[is_burg], "入户盗窃", "盗窃商铺")
    target = frame["mo_target"].to_numpy()
    serial_theft = (origin == ORIGINS.index("serial")) & (cat == "theft")
    theft_sub = {
        "电动车": "盗窃电动车",
        "摩托车": "盗窃电动车",
        "车内财物": "盗窃车内财物",
        "行人": "扒窃",
    }
    sub[serial_theft] = [theft_sub.get(t, "盗窃财物") for t in target[serial_theft]]
    frame["subcategory"] = sub
    frame["disposition"] = [
        catalog.DISPOSITIONS[k][i % len(catalog.DISPOSITIONS[k])]
        for k, i in zip(cat, rng_text.integers(0, 12, n), strict=True)
    ]

    # caller phones: ~40 % of rows; repeat addresses always call from the same phone,
    # a pool of frequent callers reuses theirs
    n_pool = max(20, round(len(persons) / 400))
    pool = make_mobiles(rng_phone, n_pool)
    has_phone = rng_phone.uniform(size=n) < 0.38
    from_pool = rng_phone.uniform(size=n) < 0.05
    phone = np.where(from_pool, pool[rng_phone.integers(0, n_pool, n)], make_mobiles(rng_phone, n))
    n_rep = int(frame["_rep"].max()) + 1 if is_rep.any() else 0
    rep_phones = make_mobiles(rng_phone, max(n_rep, 1))
    phone = np.where(is_rep, rep_phones[np.maximum(frame["_rep"].to_numpy(), 0)], phone)
    has_phone = has_phone | is_rep
    frame["caller_phone"] = np.where(has_phone, phone, "")

    # summaries: some mention a phone number or an ID number (exercise the importer's scrubbing)
    with_phone = rng_text.uniform(size=n) < 0.08
    with_id = rng_text.uniform(size=n) < 0.03
    n_id = int(with_id.sum())
    ages = rng_text.integers(18, 80, n_id)
    local = np.array(catalog.LOCAL_REGION_CODES)
    id_values = np.full(n, "", dtype=object)
    id_values[with_id] = make_id_numbers(
        rng_text,
        local[rng_text.integers(0, len(local), n_id)],
        birth_dates_for_ages(rng_text, ages, ages, start),
        taken=taken_ids,
    )
    mention_phone = np.where(
        frame["caller_phone"].to_numpy() != "",
        frame["caller_phone"].to_numpy(),
        make_mobiles(rng_text, n),
    )
    frame["summary"] = _summaries(
        cat, frame["subcategory"].to_numpy(), address, with_phone, mention_phone, id_values
    )
    return frame


PHRASES = {
    "theft": "发现财物被盗",
    "burglary": "家中被盗，门锁有撬动痕迹",
    "robbery": "被人抢走财物",
    "fraud": "被骗转账，怀疑遭遇诈骗",
    "dispute": "与他人发生纠纷",
    "traffic": "发生交通情况",
    "noise": "有噪音扰民",
    "assistance": "需要民警帮助",
    "fight": "有人打架",
    "other": "有情况反映",
}


def _summaries(
    cat: np.ndarray,
    sub: np.ndarray,
    address: np.ndarray,
    with_phone: np.ndarray,
    phone: np.ndarray,
    ids: np.ndarray,
) -> list[str]:
    out = []
    for k, s, a, wp, p, i in zip(cat, sub, address, with_phone, phone, ids, strict=True):
        text = f"报警人称在{a}{PHRASES[k]}（{s}），请求出警。"
        if wp:
            text += f"报警人电话{p}。"
        if i:
            text += f"当事人身份证号{i}。"
        out.append(text)
    return out


def _assemble(
    config: CityConfig,
    geo: Geography,
    persons: pd.DataFrame,
    inc: pd.DataFrame,
    case_parts: Any,
    sensors: pd.DataFrame,
    floating: Any,
    drones: dict[str, Any],
    parts: Any,
) -> City:
    start = config.start
    jurisdictions = _jurisdictions_geojson(geo)

    lon, lat = geo.to_lon_lat(inc["x_m"].to_numpy(), inc["y_m"].to_numpy())
    incidents = pd.DataFrame(
        {
            "incident_id": inc["incident_id"].to_numpy(),
            "reported_at": _times(start, inc["t_s"].to_numpy()),
            "category": inc["category"].to_numpy(),
            "subcategory": inc["subcategory"].to_numpy(),
            "lon": lon,
            "lat": lat,
            "address": inc["address"].to_numpy(),
            "caller_phone": inc["caller_phone"].to_numpy(),
            "summary": inc["summary"].to_numpy(),
            "disposition": inc["disposition"].to_numpy(),
            "category_key": inc["category_key"].to_numpy(),
            "jurisdiction_code": _codes_at(jurisdictions, lon, lat),
            "origin": inc["origin_name"].to_numpy(),
        }
    )

    cf = case_parts.frame
    clon, clat = geo.to_lon_lat(cf["x_m"].to_numpy(), cf["y_m"].to_numpy())
    off_ids = parts.offenders["offender_id"].to_numpy()
    cases = pd.DataFrame(
        {
            "case_id": cf["case_id"].to_numpy(),
            "incident_id": cf["incident_id"].to_numpy(),
            "category": cf["category"].to_numpy(),
            "subcategory": cf["subcategory"].to_numpy(),
            "occurred_from": _times(start, cf["occurred_from_s"].to_numpy()),
            "occurred_to": _times(start, cf["occurred_to_s"].to_numpy()),
            "lon": clon,
            "lat": clat,
            **{
                k: cf[k].to_numpy()
                for k in (
                    "address",
                    "entry_method",
                    "target",
                    "tools",
                    "time_of_day",
                    "property_taken",
                    "loss_amount",
                    "narrative",
                    "status",
                )
            },
            "solved_at": _times(start, cf["solved_at_s"].to_numpy()),
            **{
                k: cf[k].to_numpy()
                for k in (
                    "suspect_ids",
                    "fraud_type",
                    "victim_age_band",
                    "victim_occupation",
                    "victim_id",
                    "category_key",
                )
            },
            "jurisdiction_code": _codes_at(jurisdictions, clon, clat),
            "offender_id": np.where(
                cf["offender"].to_numpy() >= 0,
                off_ids[np.maximum(cf["offender"].to_numpy(), 0)] if len(off_ids) else "",
                "",
            ),
        }
    )

    slon, slat = geo.to_lon_lat(sensors["x_m"].to_numpy(), sensors["y_m"].to_numpy())
    sensors_out = pd.DataFrame(
        {
            "sensor_id": sensors["sensor_id"].to_numpy(),
            "kind": sensors["kind"].to_numpy(),
            "lon": slon,
            "lat": slat,
            "range_m": sensors["range_m"].to_numpy(float),
            "heading_deg": sensors["heading_deg"].to_numpy(float),
            "fov_deg": sensors["fov_deg"].to_numpy(float),
            "status": sensors["status"].to_numpy(),
            "jurisdiction_code": _codes_at(jurisdictions, slon, slat),
        }
    )

    plon, plat = geo.to_lon_lat(persons["x_m"].to_numpy(), persons["y_m"].to_numpy())
    compound_names = np.array([c.name for c in geo.compounds])
    persons_out = pd.DataFrame(
        {
            "id_number": persons["id_number"].to_numpy(),
            "registration": persons["registration"].to_numpy(),
            "residence_lon": plon,
            "residence_lat": plat,
            "residence_address": persons["residence_address"].to_numpy(),
            "age_band": persons["age_band"].to_numpy(),
            "occupation": persons["occupation"].to_numpy(),
            "registered_at": pd.Series(
                persons["registered_at"].to_numpy().astype("datetime64[s]")
            ).dt.tz_localize(CST),
            "jurisdiction_code": _codes_at(jurisdictions, plon, plat),
            "compound": compound_names[persons["compound"].to_numpy()],
        }
    ).sort_values("id_number", kind="stable", ignore_index=True)

    sightings = floating.sightings.copy()
    sightings["seen_at"] = pd.Series(
        sightings["seen_at"].to_numpy().astype("datetime64[s]")
    ).dt.tz_localize(CST)

    truth = _truth(config, geo, inc, cases, parts, floating, persons)
    return City(
        config=config,
        jurisdictions=jurisdictions,
        roads=_roads_geojson(geo),
        pois=_pois_geojson(geo),
        incidents=incidents,
        cases=cases,
        sensors=sensors_out,
        persons=persons_out,
        sightings=sightings,
        drone_scenarios=drones,
        truth=truth,
        geography=geo,
    )


def _truth(
    config: CityConfig,
    geo: Geography,
    inc: pd.DataFrame,
    cases: pd.DataFrame,
    parts: Any,
    floating: Any,
    persons: pd.DataFrame,
) -> CityTruth:
    start, days = config.start, config.days
    features = []
    for row in parts.hotspots.itertuples(index=False):
        props = row._asdict()
        lon, lat = props.pop("lon"), props.pop("lat")
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": props,
            }
        )
    hotspots = {"type": "FeatureCollection", "features": features}

    surges = parts.surges.copy()
    surges.insert(4, "start", _times(start, surges["start_day"].to_numpy(np.int64) * 86400))
    surges.insert(5, "end", _times(start, surges["end_day"].to_numpy(np.int64) * 86400))
    surges = surges.drop(columns=["start_day", "end_day"])

    profiles = parts.offenders.copy()
    profiles.insert(
        7, "active_from", _times(start, profiles["active_from_day"].to_numpy(np.int64) * 86400)
    )
    profiles.insert(
        8, "active_to", _times(start, profiles["active_to_day"].to_numpy(np.int64) * 86400)
    )
    profiles = profiles.drop(columns=["active_from_day", "active_to_day"])
    offenders = cases.loc[cases["offender_id"] != "", ["offender_id", "case_id", "status"]]
    offenders = pd.DataFrame(
        {
            "offender_id": offenders["offender_id"].to_numpy(),
            "case_id": offenders["case_id"].to_numpy(),
            "solved": (offenders["status"] == "solved").to_numpy(),
        }
    ).sort_values(["offender_id", "case_id"], kind="stable", ignore_index=True)

    rep = parts.repeats
    rep_rows = []
    is_rep = inc["_is_rep"].to_numpy()
    rep_ref = inc["_rep"].to_numpy()
    for r, row in enumerate(rep.itertuples(index=False)):
        a = int(row.addr)
        lon, lat = geo.to_lon_lat(np.array([geo.addr_x[a]]), np.array([geo.addr_y[a]]))
        rows = inc.loc[is_rep & (rep_ref == r)]
        rep_rows.append(
            {
                "repeat_id": row.repeat_id,
                "address": str(geo.addr_text[a]) + row.unit,
                "lon": float(lon[0]),
                "lat": float(lat[0]),
                "jurisdiction_code": geo.station_codes[int(geo.addr_jurisdiction[a])],
                "main_category": catalog.CATEGORY_KEYS[row.main_category_key],
                "main_category_key": row.main_category_key,
                "caller_phone": str(rows["caller_phone"].iloc[0]) if len(rows) else "",
                "n_calls": len(rows),
            }
        )
    repeats = pd.DataFrame(rep_rows)

    fr = fraud_risk_table(
        persons, float(len(inc.loc[inc["category_key"] == "fraud"])) * 365.0 / days
    )
    fraud_types = pd.DataFrame(
        [
            (band, ftype, p)
            for band, row in zip(catalog.AGE_BANDS, catalog.FRAUD_TYPE_BY_AGE, strict=True)
            for ftype, p in zip(catalog.FRAUD_TYPES, row, strict=True)
        ],
        columns=["age_band", "fraud_type", "probability"],
    )

    burg = inc.loc[inc["origin_name"].isin(["burglary_background", "burglary_offspring"])]
    parent_row = burg["parent_row"].to_numpy()
    ids = inc["incident_id"].to_numpy()
    branching = pd.DataFrame(
        {
            "incident_id": burg["incident_id"].to_numpy(),
            "parent_incident_id": np.where(parent_row >= 0, ids[np.maximum(parent_row, 0)], ""),
            "generation": burg["generation"].to_numpy(),
        }
    )
    origin = inc["origin_name"].to_numpy()
    ref = inc["ref"].to_numpy()
    hot_ids = np.array([f"HS{h + 1:02d}" for h in range(len(catalog.HOTSPOTS))])
    ref_text = np.full(len(inc), "", dtype=object)
    m = origin == "hotspot"
    ref_text[m] = hot_ids[ref[m]]
    for name, prefix, width in (
        ("surge", "SG", 2),
        ("repeat_address", "RA", 3),
        ("serial", "FZ", 3),
    ):
        m = origin == name
        ref_text[m] = [f"{prefix}{r + 1:0{width}d}" for r in ref[m]]
    origins = pd.DataFrame({"incident_id": ids, "origin": origin, "ref": ref_text})
    return CityTruth(
        hotspots=hotspots,
        surges=surges,
        offenders=offenders,
        offender_profiles=profiles,
        repeat_addresses=repeats,
        floating_residents=floating.truth,
        fraud_risk=fr,
        fraud_types=fraud_types,
        near_repeat=parts.near_repeat,
        burglary_branching=branching,
        incident_origins=origins,
    )


def _codes_at(doc: dict[str, Any], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Jurisdiction code of each point as written (rounded lon/lat in the written polygons).

    Computed on the rounded output, the same way an importer assigns the owning unit, so the
    helper column agrees with the store to the last point.
    """
    lon = np.round(np.asarray(lon, float), 6)
    lat = np.round(np.asarray(lat, float), 6)
    out = np.full(len(lon), "", dtype=object)
    for feature in doc["features"]:
        polygon = shapely.geometry.shape(feature["geometry"])
        todo = out == ""
        hit = shapely.contains_xy(polygon, lon[todo], lat[todo])
        out[np.flatnonzero(todo)[hit]] = feature["properties"]["code"]
    for feature in doc["features"]:  # exactly on an edge: the first polygon touching it
        todo = out == ""
        if not todo.any():
            break
        polygon = shapely.geometry.shape(feature["geometry"])
        hit = shapely.intersects_xy(polygon, lon[todo], lat[todo])
        out[np.flatnonzero(todo)[hit]] = feature["properties"]["code"]
    return out


def _ring(geo: Geography, polygon: Any) -> list[list[list[float]]]:
    rings = [polygon.exterior, *polygon.interiors]
    out = []
    for ring in rings:
        xy = np.asarray(ring.coords)
        lon, lat = geo.to_lon_lat(xy[:, 0], xy[:, 1])
        out.append(
            [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]
        )
    return out


def _jurisdictions_geojson(geo: Geography) -> dict[str, Any]:
    features = []
    for code, area, station, poly in zip(
        geo.station_codes, geo.station_areas, geo.station_names, geo.station_polygons, strict=True
    ):
        poly = shapely.geometry.polygon.orient(poly, 1.0)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": _ring(geo, poly)},
                "properties": {
                    "code": code,
                    "name": f"{area}辖区",
                    "station": station,
                    "parent_code": catalog.DISTRICT_CODE,
                    "parent_name": catalog.DISTRICT_NAME,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _roads_geojson(geo: Geography) -> dict[str, Any]:
    features = []
    for k, road in enumerate(geo.roads):
        xy = np.asarray(road.line.coords)
        lon, lat = geo.to_lon_lat(xy[:, 0], xy[:, 1])
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [round(float(a), 6), round(float(b), 6)]
                        for a, b in zip(lon, lat, strict=True)
                    ],
                },
                "properties": {
                    "road_id": f"RD{k + 1:04d}",
                    "name": road.name,
                    "kind": road.kind,
                    "length_m": round(road.line.length, 1),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _pois_geojson(geo: Geography) -> dict[str, Any]:
    features = []
    for k, place in enumerate(geo.places):
        lon, lat = geo.to_lon_lat(np.array([place.x_m]), np.array([place.y_m]))
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(lon[0]), 6), round(float(lat[0]), 6)],
                },
                "properties": {"poi_id": f"POI{k + 1:04d}", "name": place.name, "kind": place.kind},
            }
        )
    offset = len(features)
    for k, comp in enumerate(geo.compounds):
        lon, lat = geo.to_lon_lat(np.array([comp.x_m]), np.array([comp.y_m]))
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(lon[0]), 6), round(float(lat[0]), 6)],
                },
                "properties": {
                    "poi_id": f"POI{offset + k + 1:04d}",
                    "name": comp.name,
                    "kind": "residential_compound",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
