"""A small synthetic city, pseudonymised at the boundary as the CLI does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from haizhou.geo.projection import LocalProjection
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.sim import CityConfig, generate_city


@pytest.fixture(scope="package")
def sim_population():
    city = generate_city(CityConfig(scale=0.1, days=60))
    ps = Pseudonymiser(b"test-key-for-population-0123456789")
    proj = LocalProjection.around(119.18, 34.60)
    s = city.sensors
    sx, sy = proj.forward(s["lon"].to_numpy(), s["lat"].to_numpy())
    feats = [f for f in city.pois["features"] if f["properties"]["kind"] == "residential_compound"]
    names = np.array([f["properties"]["name"] for f in feats])
    ll = np.array([f["geometry"]["coordinates"] for f in feats])
    cx, cy = proj.forward(ll[:, 0], ll[:, 1])

    def tok(values, kind):
        return np.array(ps.pseudonymise_many(list(values), kind)[0], dtype=object)

    raw = city.sightings["device_or_plate"].astype(str)
    is_mac = raw.str.contains(":").to_numpy()
    pid = np.empty(len(raw), dtype=object)
    pid[is_mac] = tok(raw[is_mac], IdentifierKind.DEVICE)
    pid[~is_mac] = tok(raw[~is_mac], IdentifierKind.PLATE)
    sightings = pd.DataFrame(
        {
            "pseudo_id": pid,
            "sensor_id": city.sightings["sensor_id"],
            "seen_at": city.sightings["seen_at"],
        }
    )
    tr = city.truth.floating_residents
    dev = tok(tr["device_id"], IdentifierKind.DEVICE)
    plate = np.array([None] * len(tr), dtype=object)
    has = (tr["plate"] != "").to_numpy()
    plate[has] = tok(tr["plate"][has], IdentifierKind.PLATE)
    person = np.array([None] * len(tr), dtype=object)
    reg = (tr["id_number"] != "").to_numpy()
    person[reg] = tok(tr["id_number"][reg], IdentifierKind.ID_CARD)
    links = pd.concat(
        [
            pd.DataFrame({"pseudo_id": dev, "person_id": person}),
            pd.DataFrame({"pseudo_id": plate, "person_id": person}),
        ]
    )
    device_links = links.dropna().reset_index(drop=True)
    registry = pd.DataFrame(
        {
            "person_id": tok(city.persons["id_number"], IdentifierKind.ID_CARD),
            "registration": city.persons["registration"].to_numpy(),
            "compound": city.persons["compound"].to_numpy(),
        }
    )
    truth = pd.DataFrame(
        {
            "device": dev,
            "plate": plate,
            "person": person,
            "group": tr["group"].to_numpy(),
            "compound": tr["compound"].to_numpy(),
        }
    )
    now = sightings["seen_at"].max().tz_localize(None).normalize() + pd.Timedelta("12h")
    return {
        "sightings": sightings,
        "device_links": device_links,
        "registry": registry,
        "truth": truth,
        "now": now,
        "sensors": (s["sensor_id"].to_numpy(), sx, sy),
        "compounds": (names, cx, cy),
    }
