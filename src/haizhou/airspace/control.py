"""Airspace control (管制): drone register, flight permits, zones, authorisation and threat.

Zones are permanent no-fly zones (永久禁飞区), temporary event zones (临时管控区, e.g. the stadium on
match days) and school zones (学校周边); airport approaches and hospitals matter to the counter
interlocks (:mod:`haizhou.airspace.counter`). A permit (飞行许可) covers one drone (by Remote ID
serial) in an area, a time window and an altitude band, for an operator.

Each drone track is:

* ``authorised`` (已授权) — its serial holds a permit valid now, and it is inside the permit's
  area and altitude band;
* ``violation`` (违规) — inside an active restricted zone without such a permit, or a permitted
  drone outside its permit's area, band or window;
* ``unauthorised`` (未授权 / 黑飞) — any other drone (no serial, or no valid permit) outside
  restricted zones.

Birds are ``not_applicable``; manned aircraft broadcasting ADS-B are ``authorised`` (air traffic
control's business). Polygons are lon/lat (WGS-84) and projected once to the local plane.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from haizhou.airspace.classify import Classification
from haizhou.airspace.tracking.types import Track
from haizhou.domain.enums import Level
from haizhou.geo.projection import LocalProjection

__all__ = [
    "Assessment",
    "AuthorisationStatus",
    "ControlArea",
    "Permit",
    "ProtectedAsset",
    "RegisteredDrone",
    "Threat",
    "Zone",
    "ZoneKind",
]

ZoneKind = Literal["no_fly", "event", "school", "airport_approach", "hospital"]
AuthorisationStatus = Literal["authorised", "unauthorised", "violation", "not_applicable"]
RESTRICTED_KINDS: frozenset[str] = frozenset({"no_fly", "event", "school", "airport_approach"})


def _ring(coords: Sequence[Sequence[float]], where: str) -> tuple[tuple[float, float], ...]:
    ring = tuple((float(c[0]), float(c[1])) for c in coords)
    if len(ring) < 3:
        raise ValueError(f"{where}: a polygon needs at least 3 (lon, lat) points; got {len(ring)}.")
    for lon, lat in ring:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(
                f"{where}: point ({lon}, {lat}) is not (lon, lat) in degrees; is the axis order swapped?"
            )
    return ring


@dataclass(frozen=True, slots=True, kw_only=True)
class Zone:
    """A controlled zone (管控区域).

    Parameters
    ----------
    name : str
    kind : {"no_fly", "event", "school", "airport_approach", "hospital"}
    polygon : tuple of (lon, lat)
        Outer ring, degrees.
    floor_m, ceiling_m : float
        Altitude band the zone applies to, metres above ground.
    active : tuple of (datetime, datetime)
        Time windows when the zone is active; empty means always (permanent).
    """

    name: str
    kind: ZoneKind
    polygon: tuple[tuple[float, float], ...]
    floor_m: float = 0.0
    ceiling_m: float = 500.0
    active: tuple[tuple[datetime, datetime], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "polygon", _ring(self.polygon, f"zone {self.name!r}"))
        if self.kind not in ("no_fly", "event", "school", "airport_approach", "hospital"):
            raise ValueError(
                f"zone {self.name!r}: kind {self.kind!r} is not one of no_fly, event, school, "
                "airport_approach, hospital."
            )

    def is_active(self, now: datetime) -> bool:
        """Whether the zone applies at ``now``."""
        return not self.active or any(a <= now <= b for a, b in self.active)


@dataclass(frozen=True, slots=True, kw_only=True)
class Permit:
    """A flight permit (飞行许可).

    Parameters
    ----------
    permit_id, serial, operator : str
        Permit number, the drone's Remote ID serial, the operator (单位或个人).
    polygon : tuple of (lon, lat)
        Permitted area, degrees.
    valid_from, valid_to : datetime
    min_alt_m, max_alt_m : float
        Permitted altitude band, metres.
    """

    permit_id: str
    serial: str
    operator: str
    polygon: tuple[tuple[float, float], ...]
    valid_from: datetime
    valid_to: datetime
    min_alt_m: float = 0.0
    max_alt_m: float = 120.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "polygon", _ring(self.polygon, f"permit {self.permit_id!r}"))
        if self.valid_to <= self.valid_from:
            raise ValueError(f"permit {self.permit_id!r}: valid_to must be after valid_from.")


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredDrone:
    """A drone in the real-name register (实名登记): serial, owner, model."""

    serial: str
    owner: str
    model: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectedAsset:
    """What the threat score protects (保护目标): a point and the radius it is scored against."""

    name: str
    lon: float
    lat: float
    radius_m: float = 1000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Threat:
    """Threat to the protected asset (威胁评估).

    Attributes
    ----------
    score : float
        0 (none) to 1 (highest).
    level : Level
        red ≥ 0.75, orange ≥ 0.5, yellow ≥ 0.25, else blue.
    distance_m : float
        Horizontal distance to the asset, metres.
    closing_speed_mps : float
        Speed towards the asset, m/s (negative when moving away).
    """

    score: float
    level: Level
    distance_m: float
    closing_speed_mps: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """Authorisation and threat of one track at one time (管制研判)."""

    track_id: int
    status: AuthorisationStatus
    reasons: tuple[str, ...]
    zones: tuple[str, ...]
    permit_id: str | None
    threat: Threat


def level_of(score: float) -> Level:
    """Warning level of a threat score."""
    if score >= 0.75:
        return Level.RED
    if score >= 0.5:
        return Level.ORANGE
    if score >= 0.25:
        return Level.YELLOW
    return Level.BLUE


def _bounds(shape: Polygon) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = shape.bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def _in_box(box: tuple[float, float, float, float], x: float, y: float) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlArea:
    """Zones, register and permits of one area, projected once to its local plane (管制区域).

    Build with :meth:`build`. Immutable.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> sq = ((119.22, 34.57), (119.24, 34.57), (119.24, 34.59), (119.22, 34.59))
    >>> area = ControlArea.build(asset=ProtectedAsset(name="stadium", lon=119.228, lat=34.58),
    ...     zones=[Zone(name="stadium", kind="event", polygon=sq)])
    >>> area.zones_at(0.0, 0.0, 50.0, datetime(2026, 5, 1, tzinfo=timezone.utc))
    ('stadium',)
    """

    projection: LocalProjection
    asset: ProtectedAsset
    zones: tuple[Zone, ...] = ()
    permits: tuple[Permit, ...] = ()
    register: tuple[RegisteredDrone, ...] = ()
    _zone_shapes: tuple[Polygon, ...] = field(default=(), repr=False)
    _permit_shapes: tuple[Polygon, ...] = field(default=(), repr=False)
    _zone_bounds: tuple[tuple[float, float, float, float], ...] = field(default=(), repr=False)
    _permit_bounds: tuple[tuple[float, float, float, float], ...] = field(default=(), repr=False)
    _permits_of: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)
    _asset_at: tuple[float, float] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        *,
        asset: ProtectedAsset,
        zones: Sequence[Zone] = (),
        permits: Sequence[Permit] = (),
        register: Sequence[RegisteredDrone] = (),
        projection: LocalProjection | None = None,
    ) -> ControlArea:
        """Project every polygon around the asset (or ``projection``) once."""
        proj = projection or LocalProjection.around(asset.lon, asset.lat)

        def shape(poly: tuple[tuple[float, float], ...]) -> Polygon:
            lon, lat = np.array(poly).T
            x, y = proj.forward(lon, lat)
            poly_m = Polygon(np.column_stack([x, y]))
            shapely.prepare(poly_m)
            return poly_m

        zshapes = tuple(shape(z.polygon) for z in zones)
        pshapes = tuple(shape(p.polygon) for p in permits)
        permits_of: dict[str, list[int]] = {}
        for k, p in enumerate(permits):
            permits_of.setdefault(p.serial, []).append(k)
        ax, ay = proj.forward(asset.lon, asset.lat)
        return cls(
            projection=proj,
            asset=asset,
            zones=tuple(zones),
            permits=tuple(permits),
            register=tuple(register),
            _zone_shapes=zshapes,
            _permit_shapes=pshapes,
            _zone_bounds=tuple(_bounds(s) for s in zshapes),
            _permit_bounds=tuple(_bounds(s) for s in pshapes),
            _permits_of={k: tuple(v) for k, v in permits_of.items()},
            _asset_at=(float(ax), float(ay)),
        )

    def asset_xy(self) -> tuple[float, float]:
        """The asset in the local plane, metres."""
        if self._asset_at is not None:
            return self._asset_at
        x, y = self.projection.forward(self.asset.lon, self.asset.lat)
        return float(x), float(y)

    def _zone_covers(self, k: int, x_m: float, y_m: float) -> bool:
        """Zone ``k`` covers a local point: its bounding box first, then the polygon."""
        if self._zone_bounds and not _in_box(self._zone_bounds[k], x_m, y_m):
            return False
        return bool(self._zone_shapes[k].covers(Point(x_m, y_m)))

    def _permits_for(self, serial: str | None) -> list[tuple[Permit, Polygon, int]]:
        """The permits of a serial with their shapes and indices, in register order."""
        if not serial:
            return []
        if self._permits_of or not self.permits:
            found: Sequence[int] = self._permits_of.get(serial, ())
        else:  # built without :meth:`build`
            found = [k for k, p in enumerate(self.permits) if p.serial == serial]
        return [(self.permits[k], self._permit_shapes[k], k) for k in found]

    def zones_at(
        self,
        x_m: float,
        y_m: float,
        alt_m: float,
        now: datetime,
        *,
        kinds: Sequence[str] | None = None,
    ) -> tuple[str, ...]:
        """Names of the active zones containing a local point."""
        return tuple(
            z.name
            for k, z in enumerate(self.zones)
            if (kinds is None or z.kind in kinds)
            and z.is_active(now)
            and z.floor_m <= alt_m <= z.ceiling_m
            and self._zone_covers(k, x_m, y_m)
        )

    def distance_to_kind_m(self, x_m: float, y_m: float, kind: str) -> float:
        """Horizontal distance, metres, to the nearest zone of one kind (0 inside; inf if none)."""
        p = Point(x_m, y_m)
        d = [
            s.distance(p)
            for z, s in zip(self.zones, self._zone_shapes, strict=True)
            if z.kind == kind
        ]
        return float(min(d)) if d else math.inf

    def authorise(
        self, track: Track, classification: Classification, now: datetime
    ) -> tuple[AuthorisationStatus, tuple[str, ...], tuple[str, ...], str | None]:
        """Status, reasons, restricted zones entered and the permit used, for one track."""
        x, y, alt = (float(v) for v in track.position)
        if classification.label == "bird":
            return "not_applicable", ("classified as a bird",), (), None
        if classification.label == "manned" and track.count("adsb"):
            return "authorised", ("manned aircraft with ADS-B (ATC controlled)",), (), None
        inside = self.zones_at(x, y, alt, now, kinds=tuple(RESTRICTED_KINDS))
        permits = self._permits_for(track.serial)
        reasons: list[str] = []
        if permits:
            for p, s, k in permits:
                if not p.valid_from <= now <= p.valid_to:
                    reasons.append(f"permit {p.permit_id} not valid at {now.isoformat()}")
                elif (
                    self._permit_bounds and not _in_box(self._permit_bounds[k], x, y)
                ) or not s.covers(Point(x, y)):
                    reasons.append(f"outside the area of permit {p.permit_id}")
                elif not p.min_alt_m <= alt <= p.max_alt_m:
                    reasons.append(
                        f"altitude {alt:.0f} m outside permit {p.permit_id} band {p.min_alt_m:.0f}-{p.max_alt_m:.0f} m"
                    )
                else:
                    return (
                        "authorised",
                        (f"permit {p.permit_id} ({p.operator})",),
                        inside,
                        p.permit_id,
                    )
            return "violation", tuple(reasons), inside, permits[0][0].permit_id
        if inside:
            who = (
                "unidentified drone"
                if track.serial is None
                else f"drone {track.serial} without a permit"
            )
            return "violation", (f"{who} inside {', '.join(inside)}",), inside, None
        if track.serial is None:
            return "unauthorised", ("no Remote ID and no permit",), (), None
        registered = any(d.serial == track.serial for d in self.register)
        return (
            "unauthorised",
            (f"{'registered ' if registered else ''}drone {track.serial} has no permit",),
            (),
            None,
        )

    def threat(
        self, track: Track, classification: Classification, status: AuthorisationStatus
    ) -> Threat:
        """Threat score from distance, closing speed, heading and class (威胁度).

        ``score = class_weight * status_weight * (0.55 * proximity + 0.3 * closing + 0.15 * speed)``
        with proximity ``exp(-d / radius)``, closing ``clip(v_closing / 15 m/s, 0, 1)`` and speed
        ``clip(speed / 30 m/s, 0, 1)``; drones inside the asset radius score at least 0.5.
        """
        ax, ay = self.asset_xy()
        dx, dy = ax - float(track.state[0]), ay - float(track.state[1])
        d = math.hypot(dx, dy)
        closing = 0.0 if d < 1e-6 else (track.state[3] * dx + track.state[4] * dy) / d
        speed = track.speed_mps
        proximity = math.exp(-d / self.asset.radius_m)
        base = (
            0.55 * proximity
            + 0.3 * min(max(closing / 15.0, 0.0), 1.0)
            + 0.15 * min(speed / 30.0, 1.0)
        )
        class_weight = {"drone": 1.0, "unknown": 0.8, "bird": 0.1, "manned": 0.2}[
            classification.label
        ]
        status_weight = {
            "violation": 1.0,
            "unauthorised": 0.9,
            "authorised": 0.3,
            "not_applicable": 0.2,
        }[status]
        score = base * class_weight * status_weight
        if d <= self.asset.radius_m and status == "violation":
            score = max(score, 0.5 + 0.5 * (1 - d / self.asset.radius_m) * class_weight)
        score = float(min(max(score, 0.0), 1.0))
        return Threat(
            score=round(score, 4),
            level=level_of(score),
            distance_m=d,
            closing_speed_mps=float(closing),
        )

    def assess(self, track: Track, classification: Classification, now: datetime) -> Assessment:
        """Authorisation and threat of one track at ``now``."""
        status, reasons, zones, permit = self.authorise(track, classification, now)
        return Assessment(
            track_id=track.track_id,
            status=status,
            reasons=reasons,
            zones=zones,
            permit_id=permit,
            threat=self.threat(track, classification, status),
        )
