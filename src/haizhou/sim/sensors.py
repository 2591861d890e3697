"""Sensing points (感知点位) along the roads, at compound gates and around the stadium.

Count: ``round(8000 * min(1, 4 * scale))`` road and gate sensors (8,000 from scale 0.25 up, 400
at scale 0.05, never fewer than 300) plus a fixed airspace set around the stadium (2 radars,
3 RF detectors, 3 Remote ID receivers). Sensors do not grow beyond 8,000 with scale: a bigger
city means more events on the same streets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from haizhou.sim.geography import COMMERCIAL, RESIDENTIAL, STREET, Geography

ROAD_SENSOR_SHARES = {"camera": 0.70, "plate_reader": 0.12, "wifi_probe": 0.18}


def sensor_count(scale: float) -> int:
    """Number of road and gate sensors for a scale (see the module notes)."""
    return max(300, round(8000 * min(1.0, 4.0 * scale)))


def generate_sensors(rng: np.random.Generator, geo: Geography, scale: float) -> pd.DataFrame:
    """Sensing points with coverage (range, heading, field of view) and status.

    Returns a frame with ``sensor_id, kind, x_m, y_m, range_m, heading_deg, fov_deg, status,
    jurisdiction`` sorted by ``sensor_id``.
    """
    n = sensor_count(scale)
    counts = {k: round(n * s) for k, s in ROAD_SENSOR_SHARES.items()}
    counts["camera"] = n - counts["plate_reader"] - counts["wifi_probe"]
    parts: list[pd.DataFrame] = []

    # cameras: weighted by density and by commerce (hot places get more eyes)
    kind_w = np.select([geo.addr_kind == COMMERCIAL, geo.addr_kind == RESIDENTIAL], [6.0, 0.6], 1.0)
    w = kind_w * np.sqrt(geo.addr_density)
    a = rng.choice(len(w), size=counts["camera"], p=w / w.sum())
    parts.append(
        pd.DataFrame(
            {
                "kind": "camera",
                "x_m": geo.addr_x[a] + rng.normal(0, 3, len(a)),
                "y_m": geo.addr_y[a] + rng.normal(0, 3, len(a)),
                "range_m": rng.uniform(30, 80, len(a)).round(0),
                "heading_deg": rng.uniform(0, 360, len(a)).round(0) % 360,
                "fov_deg": rng.choice([60.0, 90.0, 110.0], len(a)),
            }
        )
    )
    # plate readers: 70 % on arterials facing along the road, 30 % at compound gates
    arterials = [r.line for r in geo.roads if r.kind == "arterial"]
    lengths = np.array([line.length for line in arterials])
    n_art = round(0.7 * counts["plate_reader"])
    which = rng.choice(len(arterials), size=n_art, p=lengths / lengths.sum())
    pos = rng.uniform(0, 1, n_art) * lengths[which]
    pts = np.array([arterials[i].interpolate(d) for i, d in zip(which, pos, strict=True)])
    ahead = np.array(
        [arterials[i].interpolate(min(d + 5, lengths[i])) for i, d in zip(which, pos, strict=True)]
    )
    px, py = shapely.get_x(pts), shapely.get_y(pts)
    heading = np.degrees(np.arctan2(shapely.get_x(ahead) - px, shapely.get_y(ahead) - py)) % 360
    heading = np.where(rng.uniform(size=n_art) < 0.5, heading, (heading + 180) % 360)
    gx, gy = _compound_gates(rng, geo, counts["plate_reader"] - n_art)
    parts.append(
        pd.DataFrame(
            {
                "kind": "plate_reader",
                "x_m": np.concatenate([px, gx]),
                "y_m": np.concatenate([py, gy]),
                "range_m": 25.0,
                "heading_deg": np.concatenate(
                    [heading.round(0), rng.uniform(0, 360, len(gx)).round(0)]
                )
                % 360,
                "fov_deg": 40.0,
            }
        )
    )
    # Wi-Fi probes: half at compound gates (智慧小区), half on streets
    n_gate = counts["wifi_probe"] // 2
    gx, gy = _compound_gates(rng, geo, n_gate)
    street = np.flatnonzero(geo.addr_kind != RESIDENTIAL)
    s = rng.choice(street, size=counts["wifi_probe"] - n_gate)
    parts.append(
        pd.DataFrame(
            {
                "kind": "wifi_probe",
                "x_m": np.concatenate([gx, geo.addr_x[s]]),
                "y_m": np.concatenate([gy, geo.addr_y[s]]),
                "range_m": rng.uniform(50, 120, counts["wifi_probe"]).round(0),
                "heading_deg": 0.0,
                "fov_deg": 360.0,
            }
        )
    )
    # airspace sensors around the stadium
    stadium = geo.place("连云港市体育中心")
    air = [("radar", 2, 3000.0, 600.0), ("rf", 3, 2000.0, 500.0), ("remote_id", 3, 1500.0, 400.0)]
    for kind, count, range_m, ring in air:
        angle = np.linspace(0, 2 * np.pi, count, endpoint=False) + rng.uniform(0, np.pi)
        parts.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "x_m": stadium.x_m + ring * np.cos(angle),
                    "y_m": stadium.y_m + ring * np.sin(angle),
                    "range_m": range_m,
                    "heading_deg": 0.0,
                    "fov_deg": 360.0,
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    x, y = frame["x_m"].to_numpy(copy=True), frame["y_m"].to_numpy(copy=True)
    inside = shapely.contains_xy(geo.inner, x, y)
    if not inside.all():  # pull stray points to the nearest address (inside by construction)
        j = geo.snap(x[~inside], y[~inside])
        x[~inside], y[~inside] = geo.addr_x[j], geo.addr_y[j]
        frame["x_m"], frame["y_m"] = x, y
    air_kind = frame["kind"].isin(["radar", "rf", "remote_id"]).to_numpy()
    status = rng.choice(
        np.array(["active", "fault", "retired"]), size=len(frame), p=[0.93, 0.05, 0.02]
    )
    frame["status"] = np.where(air_kind, "active", status)
    frame["jurisdiction"] = geo.jurisdiction_of(frame["x_m"].to_numpy(), frame["y_m"].to_numpy())
    kind_order = {
        "camera": 0,
        "plate_reader": 1,
        "wifi_probe": 2,
        "radar": 3,
        "rf": 4,
        "remote_id": 5,
    }
    frame["_k"] = frame["kind"].map(kind_order)
    frame = frame.sort_values(["jurisdiction", "_k", "y_m", "x_m"], kind="stable").drop(
        columns="_k"
    )
    frame = frame.reset_index(drop=True)
    codes = np.array([c.split("-")[1] for c in geo.station_codes])[frame["jurisdiction"].to_numpy()]
    seq = np.char.zfill((np.arange(len(frame)) + 1).astype(str), 5)
    frame.insert(0, "sensor_id", np.char.add(np.char.add("GD", codes), seq))
    return frame


def _compound_gates(
    rng: np.random.Generator, geo: Geography, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points at compound gates: the street address nearest a compound, weighted by size."""
    weights = np.array([c.weight for c in geo.compounds])
    comp = rng.choice(len(weights), size=n, p=weights / weights.sum())
    cx = np.array([c.x_m for c in geo.compounds])[comp]
    cy = np.array([c.y_m for c in geo.compounds])[comp]
    street = np.flatnonzero(geo.addr_kind == STREET)
    from scipy.spatial import cKDTree

    _, j = cKDTree(np.column_stack([geo.addr_x[street], geo.addr_y[street]])).query(
        np.column_stack([cx, cy])
    )
    gate = street[j]
    # the gate sits between the compound and its nearest street
    gx = 0.6 * geo.addr_x[gate] + 0.4 * cx + rng.normal(0, 5, n)
    gy = 0.6 * geo.addr_y[gate] + 0.4 * cy + rng.normal(0, 5, n)
    return gx, gy
