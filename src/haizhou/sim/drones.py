"""Drone scenarios around the stadium (体育中心低空安保场景): permitted flights, incursions, birds.

Each scenario is a match or concert evening at 连云港市体育中心 with a 1 km no-fly zone. Objects:

- ``permitted``: a registered drone (with Remote ID serial and a permit) flying an orbit or a
  survey inside its permitted zone and below its altitude limit;
- ``unauthorised`` (黑飞): a drone entering the no-fly zone from outside, hovering, leaving; about
  half broadcast Remote ID;
- ``bird``: a bird or small flock, erratic heading changes, low altitude, no Remote ID.

Trajectories are sampled every second: ``{"t", "lon", "lat", "alt_m"}``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from haizhou.sim.geography import Geography

NO_FLY_RADIUS_M = 1000.0
TZ = "+08:00"
MODELS = ("DJI Mavic 3", "DJI Mini 4 Pro", "DJI Air 3", "Autel EVO II", "DJI Matrice 30")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + TZ


def scenario_count(days: int) -> int:
    """One event about every two months, between 4 and 12 (never more than ``days``)."""
    return int(min(days, np.clip(days // 60, 4, 12)))


def generate_drone_scenarios(
    rng: np.random.Generator, geo: Geography, *, start: date, days: int
) -> dict:
    """The ``drone_scenarios.json`` document (see the module notes)."""
    stadium = geo.place("连云港市体育中心")
    cx, cy = stadium.x_m, stadium.y_m
    lon0, lat0 = geo.to_lon_lat(np.array([cx]), np.array([cy]))
    ring = np.linspace(0, 2 * np.pi, 73)
    zlon, zlat = geo.to_lon_lat(
        cx + NO_FLY_RADIUS_M * np.cos(ring), cy + NO_FLY_RADIUS_M * np.sin(ring)
    )
    n = scenario_count(days)
    day_choices = np.sort(rng.choice(days, size=n, replace=False))
    permits = []
    scenarios = []
    serial_counter = 0
    for s, day in enumerate(day_choices):
        begin = datetime.combine(start + timedelta(days=int(day)), datetime.min.time()) + timedelta(
            hours=int(rng.integers(18, 20)), minutes=int(rng.integers(0, 60))
        )
        objects = []
        n_perm = int(rng.integers(1, 3))
        n_unauth = int(rng.integers(0, 3)) if s % 3 else int(rng.integers(1, 3))
        n_bird = int(rng.integers(0, 4))
        for k in range(n_perm + n_unauth + n_bird):
            serial_counter += 1
            if k < n_perm:
                label, kind = "permitted", "drone"
                permit_id = f"PMT{start.year}{s + 1:02d}{k + 1:02d}"
                remote_id = f"1581F{serial_counter:010d}"
                max_alt = float(rng.choice([60.0, 80.0, 120.0]))
                zone_r = 300.0
                zx, zy = cx + rng.uniform(-300, 300), cy + rng.uniform(-300, 300)
                xy, alt = _orbit(rng, zx, zy, zone_r * 0.7, max_alt * 0.8)
                zlon_p, zlat_p = geo.to_lon_lat(
                    zx + zone_r * np.cos(ring), zy + zone_r * np.sin(ring)
                )
                permits.append(
                    {
                        "permit_id": permit_id,
                        "operator": f"连云港{['航拍', '传媒', '体育', '测绘'][k % 4]}有限公司",
                        "remote_id": remote_id,
                        "valid_from": _iso(begin - timedelta(hours=1)),
                        "valid_to": _iso(begin + timedelta(hours=4)),
                        "max_alt_m": max_alt,
                        "zone": _polygon(zlon_p, zlat_p),
                    }
                )
            elif k < n_perm + n_unauth:
                label, kind, permit_id = "unauthorised", "drone", None
                remote_id = f"1581F{serial_counter:010d}" if rng.uniform() < 0.5 else None
                xy, alt = _incursion(rng, cx, cy)
            else:
                label, kind, permit_id, remote_id = "bird", "bird", None, None
                xy, alt = _bird(rng, cx, cy)
            t0 = begin + timedelta(seconds=int(rng.integers(0, 1800)))
            lon, lat = geo.to_lon_lat(xy[:, 0], xy[:, 1])
            trajectory = [
                {
                    "t": _iso(t0 + timedelta(seconds=i)),
                    "lon": round(float(lo), 6),
                    "lat": round(float(la), 6),
                    "alt_m": round(float(a), 1),
                }
                for i, (lo, la, a) in enumerate(zip(lon, lat, alt, strict=True))
            ]
            objects.append(
                {
                    "object_id": f"S{s + 1:02d}-O{k + 1:02d}",
                    "kind": kind,
                    "label": label,
                    "permit_id": permit_id,
                    "remote_id": remote_id,
                    "model": str(MODELS[int(rng.integers(0, len(MODELS)))])
                    if kind == "drone"
                    else None,
                    "trajectory": trajectory,
                }
            )
        scenarios.append(
            {
                "scenario_id": f"S{s + 1:02d}",
                "name": f"体育中心{['足球赛', '演唱会', '运动会'][s % 3]}安保",
                "start": _iso(begin),
                "end": _iso(begin + timedelta(hours=3)),
                "objects": objects,
            }
        )
    return {
        "stadium": {
            "name": stadium.name,
            "lon": round(float(lon0[0]), 6),
            "lat": round(float(lat0[0]), 6),
            "no_fly_radius_m": NO_FLY_RADIUS_M,
        },
        "no_fly_zone": _polygon(zlon, zlat),
        "permits": permits,
        "scenarios": scenarios,
    }


def _polygon(lon: np.ndarray, lat: np.ndarray) -> dict:
    coords = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]
    coords[-1] = coords[0]
    return {"type": "Polygon", "coordinates": [coords]}


def _orbit(
    rng: np.random.Generator, x0: float, y0: float, r: float, alt: float
) -> tuple[np.ndarray, np.ndarray]:
    duration = int(rng.integers(180, 481))
    speed = rng.uniform(4, 8)
    omega = speed / max(r, 1.0)
    phase = rng.uniform(0, 2 * np.pi)
    t = np.arange(duration, dtype=float)
    climb = np.minimum(1.0, t / 30.0)
    xy = np.column_stack([x0 + r * np.cos(phase + omega * t), y0 + r * np.sin(phase + omega * t)])
    return xy, alt * climb + rng.normal(0, 0.5, duration)


def _incursion(rng: np.random.Generator, cx: float, cy: float) -> tuple[np.ndarray, np.ndarray]:
    bearing = rng.uniform(0, 2 * np.pi)
    start = np.array([cx + 1600 * np.cos(bearing), cy + 1600 * np.sin(bearing)])
    hover = np.array([cx + rng.uniform(-250, 250), cy + rng.uniform(-250, 250)])
    speed = rng.uniform(8, 15)
    n_in = int(np.linalg.norm(hover - start) / speed)
    n_hover = int(rng.integers(30, 181))
    exit_bearing = bearing + rng.uniform(-1.0, 1.0)
    end = np.array([cx + 1600 * np.cos(exit_bearing), cy + 1600 * np.sin(exit_bearing)])
    n_out = int(np.linalg.norm(end - hover) / speed)
    leg_in = start + (hover - start) * (np.arange(n_in)[:, None] / max(n_in, 1))
    hold = hover + rng.normal(0, 2.0, (n_hover, 2))
    leg_out = hover + (end - hover) * (np.arange(1, n_out + 1)[:, None] / max(n_out, 1))
    xy = np.vstack([leg_in, hold, leg_out])
    alt = np.concatenate(
        [
            np.full(n_in, rng.uniform(60, 150)),
            np.full(n_hover, rng.uniform(40, 120)),
            np.full(n_out, rng.uniform(60, 150)),
        ]
    ) + rng.normal(0, 1.0, len(xy))
    return xy, np.maximum(alt, 5.0)


def _bird(rng: np.random.Generator, cx: float, cy: float) -> tuple[np.ndarray, np.ndarray]:
    duration = int(rng.integers(60, 241))
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.25, duration))
    speed = rng.uniform(6, 14) * (1 + 0.3 * rng.normal(0, 1, duration).clip(-2, 2))
    start = np.array([cx + rng.uniform(-1200, 1200), cy + rng.uniform(-1200, 1200)])
    steps = np.column_stack([speed * np.cos(heading), speed * np.sin(heading)])
    xy = start + np.cumsum(steps, axis=0)
    alt = np.clip(rng.uniform(15, 60) + np.cumsum(rng.normal(0, 1.5, duration)), 3.0, 120.0)
    return xy, alt
