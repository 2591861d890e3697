"""Scenario description (仿真场景): objects with flight profiles and sensors, read from TOML/JSON.

Positions in a scenario file are lon/lat degrees (``lon``, ``lat``) or local metres
(``x_m``, ``y_m``) from the scenario centre; altitudes are metres above ground.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from haizhou.airspace.control import ControlArea, Permit, ProtectedAsset, Zone
from haizhou.geo.projection import LocalProjection

__all__ = [
    "ObjectSpec",
    "Scenario",
    "ScenarioError",
    "SensorSpec",
    "builtin_scenarios",
    "load_scenario",
    "parse_scenario",
]

OBJECT_KINDS = ("drone", "bird", "manned")
PROFILES = {
    "drone": ("transit", "loiter", "approach_hover", "erratic"),
    "bird": ("flocking",),
    "manned": ("straight",),
}
SENSOR_KINDS = ("radar", "rf", "remote_id", "adsb")


class ScenarioError(ValueError):
    """A scenario file is wrong; the message names the file, the entry and the field."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectSpec:
    """One object, or a group of ``count`` alike, in a scenario.

    Parameters
    ----------
    object_id : str
        Identifier (a group's members get ``-1``, ``-2`` … suffixes).
    kind : {"drone", "bird", "manned"}
    profile : str
        drone: ``transit``, ``loiter``, ``approach_hover``, ``erratic``; bird: ``flocking``;
        manned: ``straight``.
    count : int
    start_s, duration_s : float
        When the object appears, and for how long, seconds.
    speed_mps, alt_m : float
    x_m, y_m : float or None
        Centre of a loiter, or start of other profiles; random in ``spawn_radius_m`` if None.
    radius_m : float
        Loiter radius, or stand-off distance of a hover, metres.
    spawn_radius_m : float
        Distance from the centre where objects without a start appear, metres.
    remote_id : bool
        Broadcasts Remote ID (compliant drone).
    rf_link : bool
        Has an active control link (drones).
    permitted : bool
        Holds a permit for its loiter area (drones with Remote ID).
    rcs_dbsm : float
        Mean radar cross-section, dBsm.
    """

    object_id: str
    kind: str
    profile: str
    count: int = 1
    start_s: float = 0.0
    duration_s: float = 600.0
    speed_mps: float = 10.0
    alt_m: float = 80.0
    x_m: float | None = None
    y_m: float | None = None
    radius_m: float = 200.0
    spawn_radius_m: float = 2500.0
    remote_id: bool = False
    rf_link: bool = True
    permitted: bool = False
    rcs_dbsm: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorSpec:
    """One sensor site.

    Parameters
    ----------
    sensor_id : str
    kind : {"radar", "rf", "remote_id", "adsb"}
    x_m, y_m, z_m : float
        Site in the local plane, metres.
    range_m : float
        Maximum range, metres.
    period_s : float
        Revisit (radar), report (RF) or message period (Remote ID, ADS-B), seconds.
    pd : float
        Detection probability at short range (radar: for a -15 dBsm target).
    range50_m : float
        Radar: range where Pd halves for a -15 dBsm target, metres (scales with RCS^(1/4)).
    sigma_range_m, sigma_az_deg, sigma_el_deg : float
        Radar noise.
    false_alarms_per_scan : float
        Radar clutter: mean false plots per scan (Poisson).
    occlusion : tuple of (az_from_deg, az_to_deg, max_el_deg)
        Sectors blocked below an elevation (buildings), degrees.
    sigma_bearing_deg : float
        RF bearing noise.
    sigma_h_m, sigma_v_m : float
        Remote ID / ADS-B position accuracy.
    """

    sensor_id: str
    kind: str
    x_m: float = 0.0
    y_m: float = 0.0
    z_m: float = 15.0
    range_m: float = 5000.0
    period_s: float = 1.0
    pd: float = 0.95
    range50_m: float = 3000.0
    sigma_range_m: float = 5.0
    sigma_az_deg: float = 0.5
    sigma_el_deg: float = 0.8
    false_alarms_per_scan: float = 0.0
    occlusion: tuple[tuple[float, float, float], ...] = ()
    sigma_bearing_deg: float = 2.0
    sigma_h_m: float = 8.0
    sigma_v_m: float = 12.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A scenario (仿真场景): where, when, what flies, what senses it, and what is protected."""

    name: str
    title_zh: str
    title_en: str
    start: datetime
    duration_s: float
    step_s: float
    projection: LocalProjection
    asset: ProtectedAsset
    zones: tuple[Zone, ...]
    objects: tuple[ObjectSpec, ...]
    sensors: tuple[SensorSpec, ...]
    permits: tuple[Permit, ...] = ()
    source: str = field(default="", compare=False)

    def control_area(self, permits: tuple[Permit, ...] = ()) -> ControlArea:
        """The control area of this scenario (zones, the given permits, the asset)."""
        return ControlArea.build(
            asset=self.asset,
            zones=self.zones,
            permits=(*self.permits, *permits),
            projection=self.projection,
        )

    def with_sensors(self, kinds: tuple[str, ...]) -> Scenario:
        """A copy keeping only sensors of these kinds."""
        import dataclasses

        unknown = set(kinds) - set(SENSOR_KINDS)
        if unknown:
            raise ScenarioError(
                f"unknown sensor kind(s) {sorted(unknown)}; use {', '.join(SENSOR_KINDS)}."
            )
        return dataclasses.replace(self, sensors=tuple(s for s in self.sensors if s.kind in kinds))


def builtin_scenarios() -> tuple[str, ...]:
    """Names of the scenarios shipped in the package."""
    folder = resources.files("haizhou.airspace.scenario") / "data"
    return tuple(
        sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name, or a TOML / JSON scenario file (this is the I/O edge)."""
    text_name = str(name_or_path)
    if text_name in builtin_scenarios():
        res = resources.files("haizhou.airspace.scenario") / "data" / f"{text_name}.toml"
        return parse_scenario(tomllib.loads(res.read_text(encoding="utf-8")), source=text_name)
    path = Path(name_or_path)
    if not path.is_file():
        raise ScenarioError(
            f"scenario {text_name!r} is neither a shipped scenario ({', '.join(builtin_scenarios())}) "
            "nor a readable file."
        )
    raw = path.read_text(encoding="utf-8")
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(
            f"file {path}: not valid {path.suffix.lstrip('.').upper() or 'TOML'}: {exc}"
        ) from None
    return parse_scenario(data, source=str(path))


def _circle(
    proj: LocalProjection, x: float, y: float, r: float, n: int = 48
) -> tuple[tuple[float, float], ...]:
    import numpy as np

    a = np.linspace(0, 2 * math.pi, n, endpoint=False)
    lon, lat = proj.inverse(x + r * np.cos(a), y + r * np.sin(a))
    return tuple((float(o), float(t)) for o, t in zip(lon, lat, strict=True))


def _xy(proj: LocalProjection, entry: Mapping[str, Any]) -> tuple[float | None, float | None]:
    if "lon" in entry and "lat" in entry:
        x, y = proj.forward(float(entry["lon"]), float(entry["lat"]))
        return float(x), float(y)
    if "x_m" in entry or "y_m" in entry:
        return float(entry.get("x_m", 0.0)), float(entry.get("y_m", 0.0))
    return None, None


def _fields(kind: type, entry: Mapping[str, Any], where: str, drop: set[str]) -> dict[str, Any]:
    import dataclasses

    names = {f.name for f in dataclasses.fields(kind)}
    extra = set(entry) - names - drop
    if extra:
        raise ScenarioError(
            f"{where}: unknown field(s) {sorted(extra)}; allowed: {sorted(names | drop)}."
        )
    return {k: v for k, v in entry.items() if k in names}


def parse_scenario(data: Mapping[str, Any], *, source: str = "<scenario>") -> Scenario:
    """Build a :class:`Scenario` from a parsed TOML/JSON mapping; errors name source and entry."""
    try:
        centre = data["centre"]
        proj = LocalProjection.around(float(centre["lon"]), float(centre["lat"]))
        start = data["start"]
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        a = data["asset"]
        asset = ProtectedAsset(
            name=str(a["name"]),
            lon=float(a["lon"]),
            lat=float(a["lat"]),
            radius_m=float(a.get("radius_m", 1000.0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ScenarioError(
            f"{source}: needs centre = {{lon, lat}}, start (ISO time) and asset = {{name, lon, lat}}; problem: {exc}"
        ) from None
    zones = []
    for i, z in enumerate(data.get("zones", [])):
        where = f"{source}: zones[{i}]"
        try:
            if "circle_m" in z:
                x, y = _xy(proj, z)
                poly = _circle(proj, x or 0.0, y or 0.0, float(z["circle_m"]))
            elif "rect_m" in z:
                x0, y0, x1, y1 = (float(v) for v in z["rect_m"])
                lon, lat = proj.inverse([x0, x1, x1, x0], [y0, y0, y1, y1])
                poly = tuple((float(o), float(t)) for o, t in zip(lon, lat, strict=True))
            else:
                poly = tuple(tuple(p) for p in z["polygon"])
            active = tuple(
                (
                    datetime.fromisoformat(w[0]) if isinstance(w[0], str) else w[0],
                    datetime.fromisoformat(w[1]) if isinstance(w[1], str) else w[1],
                )
                for w in z.get("active", [])
            )
            zones.append(
                Zone(
                    name=str(z["name"]),
                    kind=z["kind"],
                    polygon=poly,
                    floor_m=float(z.get("floor_m", 0.0)),
                    ceiling_m=float(z.get("ceiling_m", 500.0)),
                    active=active,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ScenarioError(f"{where}: {exc}") from None
    objects = []
    for i, o in enumerate(data.get("objects", [])):
        where = f"{source}: objects[{i}] ({o.get('object_id', '?')})"
        fields = _fields(ObjectSpec, o, where, {"lon", "lat"})
        x, y = _xy(proj, o)
        if x is not None:
            fields["x_m"], fields["y_m"] = x, y
        try:
            spec = ObjectSpec(**fields)
        except TypeError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        if spec.kind not in OBJECT_KINDS:
            raise ScenarioError(
                f"{where}: kind {spec.kind!r} is not one of {', '.join(OBJECT_KINDS)}."
            )
        if spec.profile not in PROFILES[spec.kind]:
            raise ScenarioError(
                f"{where}: profile {spec.profile!r} is not one of {', '.join(PROFILES[spec.kind])} for a {spec.kind}."
            )
        if spec.count < 1 or spec.duration_s <= 0 or spec.speed_mps < 0:
            raise ScenarioError(f"{where}: count must be >= 1, duration_s > 0 and speed_mps >= 0.")
        objects.append(spec)
    sensors = []
    for i, s in enumerate(data.get("sensors", [])):
        where = f"{source}: sensors[{i}] ({s.get('sensor_id', '?')})"
        fields = _fields(SensorSpec, s, where, {"lon", "lat"})
        x, y = _xy(proj, s)
        if x is not None:
            fields["x_m"], fields["y_m"] = x, y
        if "occlusion" in fields:
            fields["occlusion"] = tuple(tuple(float(v) for v in sec) for sec in fields["occlusion"])
        try:
            spec_s = SensorSpec(**fields)
        except TypeError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        if spec_s.kind not in SENSOR_KINDS:
            raise ScenarioError(
                f"{where}: kind {spec_s.kind!r} is not one of {', '.join(SENSOR_KINDS)}."
            )
        if spec_s.period_s <= 0 or spec_s.range_m <= 0 or not 0 <= spec_s.pd <= 1:
            raise ScenarioError(f"{where}: period_s and range_m must be > 0 and pd in [0, 1].")
        sensors.append(spec_s)
    duration = float(data.get("duration_s", 600.0))
    step = float(data.get("step_s", 1.0))
    if duration <= 0 or step <= 0:
        raise ScenarioError(f"{source}: duration_s and step_s must be > 0; got {duration}, {step}.")
    return Scenario(
        name=str(data.get("name", Path(source).stem)),
        title_zh=str(data.get("title_zh", "")),
        title_en=str(data.get("title_en", "")),
        start=start,
        duration_s=duration,
        step_s=step,
        projection=proj,
        asset=asset,
        zones=tuple(zones),
        objects=tuple(objects),
        sensors=tuple(sensors),
        source=source,
    )
