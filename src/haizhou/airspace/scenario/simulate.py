"""Scenario simulator (效能评估仿真): seeded trajectories and sensor messages with ground truth.

Every random draw comes from ``numpy.random.default_rng`` seeded from ``seed``: the truth from
``[seed, 0]`` and each sensor from ``[seed, 1, sensor_index_by_id]``, so removing a sensor from
the mix changes neither the trajectories nor the other sensors' reports.

Radar detection probability follows the radar equation's fourth-root law: the range where Pd
halves scales as ``(σ / σ_ref)^(1/4)`` with ``σ_ref = -15 dBsm``; RCS fluctuates per scan as
Swerling I (exponential power).

References
----------
.. [1] Skolnik, M. I. (2008). *Radar Handbook*, 3rd ed., ch. 2 (Swerling models, Pd vs range).
   McGraw-Hill. ISBN 978-0-07-148547-0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from haizhou.airspace.control import Permit
from haizhou.airspace.scenario.model import ObjectSpec, Scenario, SensorSpec
from haizhou.airspace.tracking.types import BearingModel, Detection, PositionModel

__all__ = ["SimulationResult", "TruthObject", "simulate"]

DEFAULT_RCS = {"drone": -15.0, "bird": -24.0, "manned": 12.0}
RF_PROTOCOLS = ("dji_ocusync", "wifi_2.4ghz", "lightbridge", "analog_fpv")
RCS_REF_DBSM = -15.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TruthObject:
    """Ground truth about one simulated object."""

    object_id: str
    kind: str
    profile: str
    serial: str | None
    rf_link: bool
    permitted: bool
    rcs_dbsm: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationResult:
    """Detections and ground truth of one simulated run.

    Attributes
    ----------
    scenario : Scenario
    seed : int
    times_s : numpy.ndarray, shape (n_times,)
        Truth sample times, seconds.
    objects : tuple of TruthObject
    positions : numpy.ndarray, shape (n_objects, n_times, 3)
        Local metres; NaN while an object is absent.
    detections : tuple of Detection
        Sorted by time.
    origins : tuple of (str or None)
        The object behind each detection; ``None`` for a false alarm.
    permits : tuple of Permit
        Permits of the ``permitted`` drones.
    """

    scenario: Scenario
    seed: int
    times_s: np.ndarray
    objects: tuple[TruthObject, ...]
    positions: np.ndarray
    detections: tuple[Detection, ...]
    origins: tuple[str | None, ...]
    permits: tuple[Permit, ...]


def _spawn(rng: np.random.Generator, spec: ObjectSpec) -> tuple[float, float, float]:
    angle = rng.uniform(0, 2 * math.pi)
    if spec.x_m is not None and spec.y_m is not None:
        return float(spec.x_m), float(spec.y_m), angle
    r = spec.spawn_radius_m * math.sqrt(rng.uniform(0.8, 1.0))
    return r * math.sin(angle), r * math.cos(angle), angle


def _trajectory(rng: np.random.Generator, spec: ObjectSpec, t: np.ndarray) -> np.ndarray:
    """Positions (len(t), 3) for one object, t seconds since its appearance."""
    n = t.shape[0]
    v = spec.speed_mps * rng.uniform(0.85, 1.15)
    alt = spec.alt_m * rng.uniform(0.8, 1.2)
    out = np.zeros((n, 3))
    if spec.profile in ("transit", "straight"):
        x0, y0, _ = _spawn(rng, spec)
        aim = rng.normal(0.0, spec.radius_m, 2)
        d = np.array([aim[0] - x0, aim[1] - y0])
        d /= max(np.linalg.norm(d), 1e-9)
        out[:, 0] = x0 + d[0] * v * t
        out[:, 1] = y0 + d[1] * v * t
        out[:, 2] = alt + 3.0 * np.sin(t / 20.0 + rng.uniform(0, 6))
    elif spec.profile == "loiter":
        if spec.x_m is not None and spec.y_m is not None:
            cx, cy = spec.x_m, spec.y_m
        else:
            a, rr = rng.uniform(0, 2 * math.pi), rng.uniform(200, 1500)
            cx, cy = rr * math.sin(a), rr * math.cos(a)
        r = spec.radius_m
        w = v / max(r, 1.0) * rng.choice([-1.0, 1.0])
        ph = rng.uniform(0, 2 * math.pi)
        out[:, 0] = cx + r * np.cos(ph + w * t)
        out[:, 1] = cy + r * np.sin(ph + w * t)
        out[:, 2] = alt
    elif spec.profile == "approach_hover":
        x0, y0, _ = _spawn(rng, spec)
        dist0 = math.hypot(x0, y0)
        u = np.array([x0, y0]) / max(dist0, 1e-9)
        stand = spec.radius_m
        leg = max(dist0 - stand, 0.0)
        t1 = leg / max(v, 0.1)
        t2 = t1 + 0.4 * float(t[-1] if n else 0.0)
        along = np.where(t < t1, dist0 - v * t, np.where(t < t2, stand, stand + v * (t - t2)))
        out[:, 0] = u[0] * along
        out[:, 1] = u[1] * along
        hover = (t >= t1) & (t < t2)
        out[hover, 0] += rng.normal(0, 0.5, hover.sum())
        out[hover, 1] += rng.normal(0, 0.5, hover.sum())
        out[:, 2] = alt
    elif spec.profile == "erratic":
        x0, y0, heading = _spawn(rng, spec)
        x0, y0 = x0 * 0.5, y0 * 0.5
        dt = np.diff(t, prepend=t[0])
        headings = heading + np.cumsum(rng.normal(0, 0.25, n) * np.sqrt(np.maximum(dt, 1e-9)))
        speeds = np.clip(v * (1 + 0.3 * rng.standard_normal(n)), 1.0, None)
        out[:, 0] = x0 + np.cumsum(speeds * np.sin(headings) * dt)
        out[:, 1] = y0 + np.cumsum(speeds * np.cos(headings) * dt)
        out[:, 2] = np.clip(alt + np.cumsum(rng.normal(0, 0.7, n) * dt), 15.0, 300.0)
    else:
        raise ValueError(f"object {spec.object_id}: no trajectory for profile {spec.profile!r}")
    out[:, 2] = np.maximum(out[:, 2], 2.0)
    return out


def _flock(rng: np.random.Generator, spec: ObjectSpec, t: np.ndarray) -> np.ndarray:
    """Positions (count, len(t), 3) of a flock: a wandering centre plus members' offsets."""
    n = t.shape[0]
    x0, y0, heading = _spawn(rng, spec)
    x0, y0 = x0 * rng.uniform(0.2, 0.7), y0 * rng.uniform(0.2, 0.7)
    dt = np.diff(t, prepend=t[0])
    v = spec.speed_mps * rng.uniform(0.8, 1.2)
    headings = heading + np.cumsum(rng.normal(0, 0.15, n) * np.sqrt(np.maximum(dt, 1e-9)))
    cx = x0 + np.cumsum(v * np.sin(headings) * dt)
    cy = y0 + np.cumsum(v * np.cos(headings) * dt)
    out = np.zeros((spec.count, n, 3))
    for k in range(spec.count):
        off = rng.normal(0, 15.0 * spec.count**0.5, 2)
        jitter = np.cumsum(rng.normal(0, 0.6, (n, 2)), axis=0) * 0.3
        vz = rng.normal(0, 1.8, n)
        z = np.empty(n)
        z_prev = spec.alt_m * rng.uniform(0.7, 1.3)
        for i in range(n):  # erratic vertical motion, pulled back to the flock's height
            z_prev = z_prev + vz[i] * dt[i] - 0.05 * (z_prev - spec.alt_m) * dt[i]
            z[i] = z_prev
        out[k, :, 0] = cx + off[0] + jitter[:, 0]
        out[k, :, 1] = cy + off[1] + jitter[:, 1]
        out[k, :, 2] = np.maximum(z, 3.0)
    return out


def _radar_cov(r: float, az: float, el: float, s: SensorSpec) -> tuple[float, ...]:
    sa, ca, se, ce = math.sin(az), math.cos(az), math.sin(el), math.cos(el)
    # x = r ce sa, y = r ce ca, z = r se; Jacobian wrt (r, az, el)
    j = np.array(
        [
            [ce * sa, r * ce * ca, -r * se * sa],
            [ce * ca, -r * ce * sa, -r * se * ca],
            [se, 0.0, r * ce],
        ]
    )
    d = np.diag(
        [s.sigma_range_m**2, math.radians(s.sigma_az_deg) ** 2, math.radians(s.sigma_el_deg) ** 2]
    )
    c = j @ d @ j.T + np.eye(3) * 1e-3
    return tuple(float(v) for v in c.ravel())


def _occluded(s: SensorSpec, az_deg: float, el_deg: float) -> bool:
    for lo, hi, max_el in s.occlusion:
        inside = lo <= az_deg <= hi if lo <= hi else (az_deg >= lo or az_deg <= hi)
        if inside and el_deg < max_el:
            return True
    return False


def simulate(scenario: Scenario, *, seed: int = 0) -> SimulationResult:
    """Simulate a scenario: truth trajectories and every sensor's detections.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        Same seed, same run.

    Returns
    -------
    SimulationResult
    """
    truth_rng = np.random.default_rng([seed, 0])
    step = scenario.step_s
    times = np.arange(0.0, scenario.duration_s + 1e-9, step)
    nt = times.shape[0]
    objects: list[TruthObject] = []
    tracks: list[np.ndarray] = []
    serial_no = 0
    pilots: dict[str, tuple[float, float]] = {}
    loiter_centres: dict[str, tuple[float, float, float]] = {}
    for spec in scenario.objects:
        active = (times >= spec.start_s) & (times < spec.start_s + spec.duration_s)
        t_rel = times[active] - spec.start_s
        if spec.kind == "bird":
            flock = _flock(truth_rng, spec, t_rel)
            members = [flock[k] for k in range(spec.count)]
        else:
            members = [_trajectory(truth_rng, spec, t_rel) for _ in range(spec.count)]
        rcs0 = spec.rcs_dbsm if spec.rcs_dbsm is not None else DEFAULT_RCS[spec.kind]
        for k, path in enumerate(members):
            oid = spec.object_id if spec.count == 1 else f"{spec.object_id}-{k + 1}"
            serial = None
            if spec.kind == "drone" and spec.remote_id:
                serial_no += 1
                serial = f"1581F{seed % 1000:03d}{serial_no:07d}"
            elif spec.kind == "manned":
                serial_no += 1
                serial = f"{0x780000 + serial_no:06X}"
            pos = np.full((nt, 3), np.nan)
            pos[active] = path
            tracks.append(pos)
            if len(path):
                pilots[oid] = (float(path[0, 0]), float(path[0, 1]))
                if spec.profile == "loiter":
                    centre = path.mean(axis=0)
                    loiter_centres[oid] = (
                        float(centre[0]),
                        float(centre[1]),
                        float(path[:, 2].max()),
                    )
            objects.append(
                TruthObject(
                    object_id=oid,
                    kind=spec.kind,
                    profile=spec.profile,
                    serial=serial,
                    rf_link=spec.kind == "drone" and spec.rf_link,
                    permitted=spec.kind == "drone" and spec.permitted and serial is not None,
                    rcs_dbsm=float(rcs0 + truth_rng.normal(0, 1.5)),
                )
            )
    positions = np.stack(tracks) if tracks else np.zeros((0, nt, 3))
    permits = []
    for obj, _spec_pos in zip(objects, positions, strict=True):
        if not obj.permitted or obj.object_id not in loiter_centres or obj.serial is None:
            continue
        cx, cy, top = loiter_centres[obj.object_id]
        spec = next(s for s in scenario.objects if obj.object_id.startswith(s.object_id))
        a = np.linspace(0, 2 * math.pi, 36, endpoint=False)
        r = spec.radius_m + 150.0
        lon, lat = scenario.projection.inverse(cx + r * np.cos(a), cy + r * np.sin(a))
        permits.append(
            Permit(
                permit_id=f"PMT-{obj.object_id}",
                serial=obj.serial,
                operator="连云港航拍有限公司",
                polygon=tuple((float(o), float(t)) for o, t in zip(lon, lat, strict=True)),
                valid_from=scenario.start - timedelta(hours=1),
                valid_to=scenario.start + timedelta(hours=4),
                min_alt_m=0.0,
                max_alt_m=top + 40.0,
            )
        )
    dets: list[tuple[Detection, str | None]] = []
    for s_index, sensor in sorted(enumerate(scenario.sensors), key=lambda p: p[1].sensor_id):
        rng = np.random.default_rng([seed, 1, s_index])
        dets.extend(_sense(rng, sensor, scenario, times, objects, positions, pilots))
    dets.sort(key=lambda p: (p[0].time_s, p[0].sensor_id))
    return SimulationResult(
        scenario=scenario,
        seed=seed,
        times_s=times,
        objects=tuple(objects),
        positions=positions,
        detections=tuple(d for d, _ in dets),
        origins=tuple(o for _, o in dets),
        permits=tuple(permits),
    )


def _sense(
    rng: np.random.Generator,
    s: SensorSpec,
    scenario: Scenario,
    times: np.ndarray,
    objects: list[TruthObject],
    positions: np.ndarray,
    pilots: dict[str, tuple[float, float]],
) -> list[tuple[Detection, str | None]]:
    out: list[tuple[Detection, str | None]] = []
    step = scenario.step_s
    every = max(1, round(s.period_s / step))
    phase = int(rng.integers(0, every))
    site = np.array([s.x_m, s.y_m, s.z_m])
    for ti in range(phase, times.shape[0], every):
        t = float(times[ti])
        for oi, obj in enumerate(objects):
            p = positions[oi, ti]
            if np.isnan(p[0]):
                continue
            rel = p - site
            horiz = math.hypot(rel[0], rel[1])
            r = math.hypot(horiz, rel[2])
            if r > s.range_m:
                continue
            if s.kind == "radar":
                az = math.atan2(rel[0], rel[1])
                el = math.atan2(rel[2], horiz)
                az_deg = math.degrees(az) % 360.0
                if _occluded(s, az_deg, math.degrees(el)):
                    continue
                rcs = obj.rcs_dbsm + 10 * math.log10(max(rng.exponential(1.0), 1e-6))
                r50 = s.range50_m * 10 ** ((obj.rcs_dbsm - RCS_REF_DBSM) / 40.0)
                pd = s.pd / (1.0 + math.exp((r - r50) / (0.12 * r50)))
                if rng.uniform() > pd:
                    continue
                out.append((_radar_plot(rng, s, site, r, az, el, t, rcs), obj.object_id))
            elif s.kind == "rf":
                if not obj.rf_link or rng.uniform() > s.pd:
                    continue
                bearing = math.atan2(rel[0], rel[1]) + rng.normal(
                    0, math.radians(s.sigma_bearing_deg)
                )
                bearing = (bearing + math.pi) % (2 * math.pi) - math.pi
                out.append(
                    (
                        Detection(
                            time_s=t,
                            sensor_id=s.sensor_id,
                            sensor_kind="rf",
                            measurement=(bearing,),
                            model=BearingModel(
                                sensor_x_m=s.x_m,
                                sensor_y_m=s.y_m,
                                sigma_rad=math.radians(s.sigma_bearing_deg),
                            ),
                            protocol=RF_PROTOCOLS[oi % len(RF_PROTOCOLS)],
                            signal_dbm=round(
                                -40.0 - 20 * math.log10(max(r, 1.0) / 10.0) + rng.normal(0, 2), 1
                            ),
                        ),
                        obj.object_id,
                    )
                )
            elif s.kind in ("remote_id", "adsb"):
                wanted = "drone" if s.kind == "remote_id" else "manned"
                if obj.kind != wanted or obj.serial is None or rng.uniform() > s.pd:
                    continue
                noisy = p + rng.normal(0, 1, 3) * np.array([s.sigma_h_m, s.sigma_h_m, s.sigma_v_m])
                plon = plat = None
                if s.kind == "remote_id" and obj.object_id in pilots:
                    px, py = pilots[obj.object_id]
                    lo, la = scenario.projection.inverse(px, py)
                    plon, plat = round(float(lo), 6), round(float(la), 6)
                out.append(
                    (
                        Detection(
                            time_s=t,
                            sensor_id=s.sensor_id,
                            sensor_kind=s.kind,  # type: ignore[arg-type]
                            measurement=tuple(float(v) for v in noisy),
                            model=PositionModel.isotropic(s.sigma_h_m, s.sigma_v_m),
                            serial=obj.serial,
                            protocol="astm_f3411" if s.kind == "remote_id" else "adsb_1090es",
                            pilot_lon=plon,
                            pilot_lat=plat,
                        ),
                        obj.object_id,
                    )
                )
        if s.kind == "radar" and s.false_alarms_per_scan > 0:
            for _ in range(int(rng.poisson(s.false_alarms_per_scan))):
                r = s.range_m * math.sqrt(rng.uniform(0.01, 1.0))
                az = rng.uniform(-math.pi, math.pi)
                z = rng.uniform(10.0, 250.0)
                el = math.asin(min(max((z - s.z_m) / r, -1.0), 1.0))
                out.append((_radar_plot(rng, s, site, r, az, el, t, rng.normal(-22.0, 4.0)), None))
    return out


def _radar_plot(
    rng: np.random.Generator,
    s: SensorSpec,
    site: np.ndarray,
    r: float,
    az: float,
    el: float,
    t: float,
    rcs: float,
) -> Detection:
    rm = r + rng.normal(0, s.sigma_range_m)
    azm = az + rng.normal(0, math.radians(s.sigma_az_deg))
    elm = el + rng.normal(0, math.radians(s.sigma_el_deg))
    x = site[0] + rm * math.cos(elm) * math.sin(azm)
    y = site[1] + rm * math.cos(elm) * math.cos(azm)
    z = site[2] + rm * math.sin(elm)
    return Detection(
        time_s=t,
        sensor_id=s.sensor_id,
        sensor_kind="radar",
        measurement=(float(x), float(y), float(z)),
        model=PositionModel(covariance=_radar_cov(rm, azm, elm, s)),
        rcs_dbsm=round(float(rcs), 1),
    )
