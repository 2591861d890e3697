"""The live pipeline (实时处理链): decode → tracker → classify → control/threat → alerts.

:class:`LivePipeline` holds the tracker and the last picture; :meth:`LivePipeline.process`
takes a batch of received messages and the time, and returns what changed: the decoded
messages (or their errors), the updated tracks with class, authorisation and threat, the
alerts raised, and the tracks that ended. It does no I/O and reads no clock, so the runner,
the tests and the benchmark drive it the same way.

Tracker steps follow the batches the runner drains from its queue, not a fixed scan clock, so
the M-of-N confirmation counts *time* rather than steps here (:class:`TimedMOfNInitiator`): a
tentative track is confirmed after ``m`` updates and dropped when it has not got them within
``window_s`` seconds. Remote ID and ADS-B tracks are confirmed at once (cooperative serial).

An alert (告警) is raised when a confirmed drone (or unknown object) track becomes
``unauthorised`` or ``violation``, escalates from unauthorised to violation, or first reaches
the red level.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

import numpy as np
from scipy.stats import chi2

from haizhou.airspace.classify import Classification, EvidenceClassifier
from haizhou.airspace.control import Assessment, ControlArea
from haizhou.airspace.decode import StreamDecoder, decode, decode_frame, parse_hex
from haizhou.airspace.tracking import (
    CoastingDeleter,
    ConstantVelocity,
    Detection,
    GlobalNearestNeighbour,
    KalmanUpdater,
    MahalanobisGate,
    MessageError,
    MOfNInitiator,
    MultiSensorTracker,
    PositionModel,
    Track,
    parse_message,
)
from haizhou.domain.enums import Level
from haizhou.feeds.messages import FeedMessage

__all__ = [
    "Alert",
    "Decoded",
    "LivePipeline",
    "StepResult",
    "TimedMOfNInitiator",
    "TrackView",
]

FT_TO_M = 0.3048
_FRAMED = {
    "remoteid_ble": "bluetooth",
    "remoteid_beacon": "wifi_beacon",
    "remoteid_nan": "wifi_nan",
}

_ALERT_TITLES = {
    "unauthorised": "未授权飞行 unauthorised flight",
    "violation": "违规飞行 violation",
    "red": "红色威胁 red threat",
}

#: ``(pseudonym, masked)`` of a drone serial; identity in tests.
Pseudonymise = Callable[[str], tuple[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimedMOfNInitiator:
    """M-of-N initiation counted in time (按时间窗的M/N航迹起始), for event-driven steps.

    Parameters
    ----------
    m : int
        Updates needed to confirm.
    window_s : float
        A tentative track without ``m`` updates this long after its start is dropped.
    confirm_on_serial : bool
        Confirm Remote ID / ADS-B tracks at once.
    """

    m: int = 3
    window_s: float = 6.0
    confirm_on_serial: bool = True
    state_dim: ClassVar[int] = 6

    def initiate(self, detection: Detection, *, track_id: int) -> Track | None:
        """As :meth:`MOfNInitiator.initiate`."""
        return MOfNInitiator(confirm_on_serial=self.confirm_on_serial).initiate(
            detection, track_id=track_id
        )

    def review(self, track: Track) -> Literal["confirmed", "tentative", "drop"]:
        """Confirmed after ``m`` hits; dropped when ``window_s`` passed without them."""
        if track.status == "confirmed" or track.hits >= self.m:
            return "confirmed"
        if track.time_s - track.created_s > self.window_s:
            return "drop"
        return "tentative"


@functools.lru_cache(maxsize=32)
def _chi2_quantile(probability: float, dimension: int) -> float:
    return float(chi2.ppf(probability, dimension))


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedMahalanobisGate(MahalanobisGate):
    """:class:`MahalanobisGate` with its chi-square threshold computed once per dimension.

    ``scipy.stats.chi2.ppf`` costs ~0.5 ms a call; the live tracker steps hundreds of times a
    second.
    """

    def threshold(self, dimension: int) -> float:
        """As :meth:`MahalanobisGate.threshold`, cached."""
        return _chi2_quantile(self.probability, dimension)


@functools.lru_cache(maxsize=256)
def _position_model(sigma_h_m: float, sigma_v_m: float) -> PositionModel:
    return PositionModel.isotropic(sigma_h_m, sigma_v_m)


def live_tracker() -> MultiSensorTracker:
    """The tracker of the live pipeline: defaults, with time-based M-of-N."""
    return MultiSensorTracker(
        predictor=ConstantVelocity(),
        updater=KalmanUpdater(),
        gate=CachedMahalanobisGate(),
        associator=GlobalNearestNeighbour(),
        initiator=TimedMOfNInitiator(),
        deleter=CoastingDeleter(),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """One message after decoding: the decoder's object (or None) and an error text (or None)."""

    message: FeedMessage
    decoded: dict[str, Any] | None
    error: str | None
    detections: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackView:
    """One track of the picture with its class, authorisation and threat (航迹态势)."""

    track_id: int
    time: datetime
    first_seen: datetime
    lon: float
    lat: float
    alt_m: float
    speed_mps: float
    heading_deg: float
    state: tuple[float, ...]
    label: str
    confidence: float
    authorisation: str
    reasons: tuple[str, ...]
    zones: tuple[str, ...]
    permit_id: str | None
    threat_score: float
    level: str
    distance_m: float
    sensors: dict[str, int]
    serial_pseudonym: str | None
    serial_masked: str | None
    pilot_lon: float | None
    pilot_lat: float | None
    updated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """An alert raised by this step (告警)."""

    track_id: int
    kind: Literal["unauthorised", "violation", "red"]
    level: str
    title: str
    reasons: tuple[str, ...]
    lon: float
    lat: float
    message_received_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """What one batch changed."""

    now: datetime
    decoded: list[Decoded]
    tracks: list[TrackView]
    alerts: list[Alert]
    ended: list[int]


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass
class _Pending:
    """A detection in lon/lat, projected with the whole batch."""

    time_s: float
    sensor_id: str
    sensor_kind: str
    lon: float
    lat: float
    alt_m: float
    sigma_h_m: float
    sigma_v_m: float
    serial: str | None
    protocol: str | None
    pilot_lon: float | None
    pilot_lat: float | None


@dataclass
class LivePipeline:
    """Decode, track, classify, assess and alert, one batch at a time (实时处理链).

    Parameters
    ----------
    area : ControlArea
        Zones, permits (serials as pseudonyms) and the protected site; its projection is the
        local plane of the tracker.
    epoch : datetime
        Time zero of the tracker's seconds.
    pseudonymise : callable
        Drone serial → ``(pseudonym, masked)``; the clear serial never leaves this object.
    tracker, classifier
        Default: :func:`live_tracker`, :class:`EvidenceClassifier`.
    full_every_s : float
        Every confirmed track is re-assessed at least this often (zones open and close).
    frame_s : float
        Detection times are put on this grid (see :meth:`_frames`); 0 keeps them as received.
    assess_every_s : float
        An updated track is re-classified and re-assessed at most this often; a new track at
        once, so a new intruder's first message raises its alert in the same step.
    """

    area: ControlArea
    epoch: datetime
    pseudonymise: Pseudonymise
    tracker: MultiSensorTracker = field(default_factory=live_tracker)
    classifier: EvidenceClassifier = field(default_factory=EvidenceClassifier)
    _serial: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _pilot: dict[str, tuple[float, float]] = field(default_factory=dict, init=False, repr=False)
    _masked: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _tokens: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _adsb: dict[str, StreamDecoder] = field(default_factory=dict, init=False, repr=False)
    _seen: dict[int, tuple[str, str]] = field(default_factory=dict, init=False, repr=False)
    _first: dict[int, datetime] = field(default_factory=dict, init=False, repr=False)
    full_every_s: float = 1.0
    frame_s: float = 0.2
    assess_every_s: float = 0.2
    _last_s: float = field(default=-math.inf, init=False, repr=False)
    _full_s: float = field(default=-math.inf, init=False, repr=False)
    _assessed: dict[int, float] = field(default_factory=dict, init=False, repr=False)
    _classes: dict[int, tuple[Any, Classification]] = field(
        default_factory=dict, init=False, repr=False
    )
    _applied: dict[tuple[str, str], tuple[float, Any]] = field(
        default_factory=dict, init=False, repr=False
    )

    # ------------------------------------------------------------------ decoding
    def _seconds(self, t: datetime) -> float:
        return (t - self.epoch).total_seconds()

    def _time_of(self, msg: FeedMessage, obj: dict[str, Any] | None, now_s: float) -> float:
        t = self._seconds(msg.received_at)
        if obj is not None and isinstance(obj.get("time"), str):
            with contextlib.suppress(ValueError, TypeError):
                t = self._seconds(datetime.fromisoformat(obj["time"]))
        return min(max(t, self._last_s), now_s)

    def _pseudo(self, serial: str) -> str:
        token = self._tokens.get(serial)
        if token is None:  # an HMAC per broadcast would cost more than decoding it
            token, masked = self.pseudonymise(serial)
            self._masked[token] = masked
            if len(self._tokens) > 100_000:
                self._tokens.clear()
            self._tokens[serial] = token
        return token

    def _remote_id(
        self, msg: FeedMessage, obj: dict[str, Any], t: float, out: list[_Pending]
    ) -> None:
        singles = obj["messages"] if obj.get("type") == "message_pack" else [obj]
        key = msg.sensor_id
        if obj.get("type") == "gb46750":
            if obj.get("sn"):
                self._serial[key] = self._pseudo(obj["sn"])
            if _float(obj.get("gcs_lon")) is not None and _float(obj.get("gcs_lat")) is not None:
                self._pilot[key] = (obj["gcs_lon"], obj["gcs_lat"])
            lon, lat = _float(obj.get("drone_lon")), _float(obj.get("drone_lat"))
            alt = _float(obj.get("rel_alt"))
            alt = alt if alt is not None else _float(obj.get("drone_alt"))
            if lon is not None and lat is not None:
                self._add(out, msg, t, lon, lat, alt or 0.0, "remote_id", key, "gb46750", 8.0)
            return
        location = None
        for m in singles:
            kind = m.get("type")
            if kind == "basic_id" and m.get("uas_id"):
                self._serial[key] = self._pseudo(str(m["uas_id"]))
            elif kind == "system":
                plon, plat = _float(m.get("operator_longitude")), _float(m.get("operator_latitude"))
                if plon is not None and plat is not None and (plon, plat) != (0.0, 0.0):
                    self._pilot[key] = (plon, plat)
            elif kind == "location":
                location = m
        if location is not None:
            lon, lat = _float(location.get("longitude")), _float(location.get("latitude"))
            alt = _float(location.get("height"))
            alt = alt if alt is not None else _float(location.get("altitude_geo"))
            sigma = _float(location.get("horiz_accuracy_m")) or 10.0
            if lon is not None and lat is not None and (lon, lat) != (0.0, 0.0):
                self._add(out, msg, t, lon, lat, alt or 0.0, "remote_id", key, "astm_f3411", sigma)

    def _add(
        self,
        out: list[_Pending],
        msg: FeedMessage,
        t: float,
        lon: float,
        lat: float,
        alt: float,
        sensor_kind: str,
        key: str,
        protocol: str,
        sigma_h: float,
    ) -> None:
        pilot = self._pilot.get(key) if sensor_kind == "remote_id" else None
        out.append(
            _Pending(
                time_s=t,
                sensor_id=msg.sensor_id,
                sensor_kind=sensor_kind,
                lon=lon,
                lat=lat,
                alt_m=alt,
                sigma_h_m=max(sigma_h, 1.0),
                sigma_v_m=max(sigma_h * 1.5, 2.0),
                serial=self._serial.get(key),
                protocol=protocol,
                pilot_lon=pilot[0] if pilot else None,
                pilot_lat=pilot[1] if pilot else None,
            )
        )

    def _json(self, msg: FeedMessage, t_now: float) -> tuple[dict[str, Any], Detection]:
        try:
            obj = json.loads(msg.payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MessageError(f"{msg.kind} message is not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise MessageError(f"{msg.kind} message must be a JSON object")
        want = "radar_plot" if msg.kind == "radar" else "rf_bearing"
        if obj.get("type", want) != want:
            raise MessageError(f"a {msg.kind} topic carries type {want!r}; got {obj.get('type')!r}")
        full = {**obj, "type": want, "sensor_id": obj.get("sensor_id", msg.sensor_id)}
        sensor = obj.get("sensor", {})
        if isinstance(sensor, dict) and "lon" in sensor and "lat" in sensor:
            lon, lat = _float(sensor.get("lon")), _float(sensor.get("lat"))
            if lon is None or lat is None:
                raise MessageError(f"{msg.kind}: sensor lon/lat must be numbers; got {sensor!r}")
            x, y = self.area.projection.forward(lon, lat)
            full["sensor"] = {"x_m": float(x), "y_m": float(y), "z_m": sensor.get("alt_m", 0.0)}
        full["time_s"] = self._time_of(msg, obj, t_now)
        return obj, parse_message(full)

    def decode(
        self, msg: FeedMessage, now_s: float, pending: list[_Pending], ready: list[Detection]
    ) -> Decoded:
        """Decode one message, adding what it says to ``pending`` (lon/lat) or ``ready``."""
        if msg.kind in ("radar", "rf"):
            try:
                obj, det = self._json(msg, now_s)
            except (MessageError, ValueError) as exc:
                return Decoded(message=msg, decoded=None, error=str(exc))
            ready.append(det)
            return Decoded(message=msg, decoded=obj, error=None, detections=1)
        raw = msg.payload
        if raw.isascii():  # hex text (binary payloads are not ASCII: no exception per message)
            parsed = parse_hex(raw.decode("ascii"))
            if parsed is not None:
                raw = parsed
        t = self._time_of(msg, None, now_s)
        before = len(pending)
        if msg.kind in _FRAMED:
            obj = decode_frame(raw, _FRAMED[msg.kind])  # type: ignore[arg-type]
        elif msg.kind == "adsb":
            dec = self._adsb.get(msg.sensor_id)
            if dec is None:
                lon0, lat0 = self.area.projection.inverse(0.0, 0.0)
                dec = self._adsb[msg.sensor_id] = StreamDecoder(
                    format="adsb", reference=(float(lat0), float(lon0))
                )
            obj = dec.decode(raw)
        else:
            obj = decode(raw)
        if "error" in obj:
            return Decoded(message=msg, decoded=obj, error=str(obj["error"]))
        if msg.kind == "adsb":
            lon, lat = _float(obj.get("longitude")), _float(obj.get("latitude"))
            if obj.get("type") == "airborne_position" and lon is not None and lat is not None:
                ft = _float(obj.get("altitude_ft")) or 0.0
                key = f"adsb:{obj['icao']}"
                self._serial[key] = f"ICAO:{obj['icao']}"
                self._add(pending, msg, t, lon, lat, ft * FT_TO_M, "adsb", key, "adsb", 30.0)
        else:
            inner = obj.get("message", obj) if msg.kind in _FRAMED else obj
            if isinstance(inner, dict):
                self._remote_id(msg, inner, t, pending)
        return Decoded(message=msg, decoded=obj, error=None, detections=len(pending) - before)

    def _project(self, pending: list[_Pending]) -> list[Detection]:
        if not pending:
            return []
        x, y = self.area.projection.forward(
            np.array([p.lon for p in pending]), np.array([p.lat for p in pending])
        )
        out = []
        for p, xi, yi in zip(pending, np.atleast_1d(x), np.atleast_1d(y), strict=True):
            out.append(
                Detection(
                    time_s=self._frame_time(p.time_s),  # on the grid now: no copy in _frames
                    sensor_id=p.sensor_id,
                    sensor_kind=p.sensor_kind,  # type: ignore[arg-type]
                    measurement=(float(xi), float(yi), p.alt_m),
                    model=_position_model(p.sigma_h_m, p.sigma_v_m),
                    serial=p.serial,
                    protocol=p.protocol,
                    pilot_lon=p.pilot_lon,
                    pilot_lat=p.pilot_lat,
                )
            )
        return out

    # ------------------------------------------------------------------ one batch
    def _frame_time(self, t: float) -> float:
        """``t`` on the ``frame_s`` grid, not before the last step (``t`` if no grid)."""
        if self.frame_s <= 0:
            return t
        return max(self._last_s, math.floor(t / self.frame_s) * self.frame_s)

    def _frames(self, detections: list[Detection]) -> list[Detection]:
        """Detections on the frame grid; one per sensor and serial and frame (the newest).

        The tracker runs one update per (time, sensor) group, so a batch of messages with as
        many distinct receive times would cost as many updates; on a ``frame_s`` grid a batch
        costs one update per sensor and frame. Two reports of one broadcast serial from one
        receiver in one frame are one position (the newer), never two tracks.
        """
        if self.frame_s <= 0:
            return detections
        out: dict[tuple[Any, ...], Detection] = {}
        for n, d in enumerate(detections):
            t = self._frame_time(d.time_s)
            if t != d.time_s:
                d = dataclasses.replace(d, time_s=t)
            key = (d.sensor_id, d.serial, t) if d.serial is not None else (n,)
            out[key] = d  # detections come in receive order: the newest wins
        return self._new_information(list(out.values()))

    def _new_information(self, detections: list[Detection]) -> list[Detection]:
        """Leave out a broadcast repeated within its frame (重复广播去重).

        Remote ID transmitters repeat each location message several times a second, and a
        receiver hears every repeat. A report from the same receiver of the same serial at the
        very same position as one applied less than ``frame_s`` earlier (by an earlier batch:
        batches are shorter than a frame) holds no new information: applying it again would
        cost a tracker update and count one measurement as several (an over-confident track).
        A report that differs in position, receiver or serial always goes through, so no
        movement is held back; a drone hovering in place is still updated once a frame.
        """
        fresh = []
        for d in detections:
            if d.serial is None:
                fresh.append(d)
                continue
            key = (d.sensor_id, d.serial)
            applied = self._applied.get(key)
            if (
                applied is not None
                and applied[1] == d.measurement
                and d.time_s - applied[0] < self.frame_s
            ):
                continue
            self._applied[key] = (d.time_s, d.measurement)
            fresh.append(d)
        if len(self._applied) > 50_000:  # serials come and go: forget the old frames
            horizon = self._last_s - 60.0
            self._applied = {k: v for k, v in self._applied.items() if v[0] >= horizon}
        return fresh

    def process(self, messages: Sequence[FeedMessage], now: datetime) -> StepResult:
        """Decode ``messages``, step the tracker to ``now`` and assess the picture.

        Parameters
        ----------
        messages : sequence of FeedMessage
            Received since the last call, any order.
        now : datetime
            The time of this step (timezone-aware); message times are clamped to it.
        """
        now_s = self._seconds(now)
        pending: list[_Pending] = []
        ready: list[Detection] = []
        decoded = [self.decode(m, now_s, pending, ready) for m in messages]
        detections = self._frames(ready + self._project(pending))
        confirmed = self.tracker.step(detections, now_s)
        self._last_s = max(self._last_s, now_s)
        ended = [t.track_id for t in self.tracker.pop_deleted()]
        for tid in ended:
            self._seen.pop(tid, None)
            self._assessed.pop(tid, None)
            self._first.pop(tid, None)
            self._classes.pop(tid, None)
        if now_s - self._full_s >= self.full_every_s:
            tracks, self._full_s = confirmed, now_s  # zones open and close with time
        else:
            oldest = min((d.time_s for d in detections), default=math.inf)
            due = now_s - self.assess_every_s
            tracks = [
                t
                for t in confirmed
                if t.track_id not in self._seen
                or (t.last_update_s >= oldest and self._assessed.get(t.track_id, -math.inf) <= due)
            ]
        for t in tracks:
            self._assessed[t.track_id] = now_s
        received = [d.message.received_at for d in decoded if d.detections]
        views, alerts = self._assess(tracks, now, min(received, default=None))
        return StepResult(now=now, decoded=decoded, tracks=views, alerts=alerts, ended=ended)

    def _assess(
        self, tracks: list[Track], now: datetime, received: datetime | None
    ) -> tuple[list[TrackView], list[Alert]]:
        if not tracks:
            return [], []
        xs = np.array([float(t.state[0]) for t in tracks])
        ys = np.array([float(t.state[1]) for t in tracks])
        lons, lats = self.area.projection.inverse(xs, ys)
        views: list[TrackView] = []
        alerts: list[Alert] = []
        for t, lon, lat in zip(tracks, np.atleast_1d(lons), np.atleast_1d(lats), strict=True):
            cls = self._classify(t)
            a = self.area.assess(t, cls, now)
            first = self._first.setdefault(t.track_id, self.epoch + timedelta(seconds=t.created_s))
            view = self._view(t, cls, a, now, first, float(lon), float(lat))
            views.append(view)
            alert = self._alert(view, received)
            if alert is not None:
                alerts.append(alert)
        return views, alerts

    def _classify(self, t: Track) -> Classification:
        """The classifier's answer, reused while the evidence it reads is unchanged (sensor
        counts, radar cross-section and the very same history tuple)."""
        cached = self._classes.get(t.track_id)
        if cached is not None:
            (counts, rcs, history), cls = cached
            if history is t.history and counts == t.sensor_counts and rcs == t.rcs_dbsm_mean:
                return cls
        cls = self.classifier.classify(t)
        self._classes[t.track_id] = ((t.sensor_counts, t.rcs_dbsm_mean, t.history), cls)
        return cls

    def _view(
        self,
        t: Track,
        cls: Classification,
        a: Assessment,
        now: datetime,
        first: datetime,
        lon: float,
        lat: float,
    ) -> TrackView:
        vx, vy = float(t.state[3]), float(t.state[4])
        serial = t.serial
        return TrackView(
            track_id=t.track_id,
            time=now,
            first_seen=first,
            lon=lon,
            lat=lat,
            alt_m=float(t.state[2]),
            speed_mps=t.speed_mps,
            heading_deg=math.degrees(math.atan2(vx, vy)) % 360.0,
            state=tuple(round(float(v), 3) for v in t.state),
            label=cls.label,
            confidence=round(float(cls.confidence), 4),
            authorisation=a.status,
            reasons=self._readable(a.reasons, serial),
            zones=a.zones,
            permit_id=a.permit_id,
            threat_score=a.threat.score,
            level=a.threat.level.value,
            distance_m=round(a.threat.distance_m, 1),
            sensors=dict(t.sensor_counts),
            serial_pseudonym=serial,
            serial_masked=(
                serial
                if serial is not None and serial.startswith("ICAO:")
                else self._masked.get(serial or "")
            ),
            pilot_lon=t.pilot_lon,
            pilot_lat=t.pilot_lat,
            updated=True,
        )

    def _readable(self, reasons: tuple[str, ...], token: str | None) -> tuple[str, ...]:
        """Reasons with the serial's pseudonym shown as its masked form."""
        masked = self._masked.get(token or "")
        if token is None or masked is None:
            return reasons
        return tuple(r.replace(token, masked) for r in reasons)

    def _alert(self, v: TrackView, received: datetime | None) -> Alert | None:
        before = self._seen.get(v.track_id)
        self._seen[v.track_id] = (v.authorisation, v.level)
        if v.label not in ("drone", "unknown") or v.authorisation not in (
            "unauthorised",
            "violation",
        ):
            return None
        old_status, old_level = before or ("", "")
        if v.authorisation != old_status and not (
            old_status == "violation" and v.authorisation == "unauthorised"
        ):
            kind = v.authorisation
        elif v.level == Level.RED.value and old_level != Level.RED.value:
            kind = "red"
        else:
            return None
        what = _ALERT_TITLES[kind]
        who = v.serial_masked or f"track {v.track_id}"
        return Alert(
            track_id=v.track_id,
            kind=kind,  # type: ignore[arg-type]
            level=v.level,
            title=f"{what}: {who}, {v.distance_m:.0f} m",
            reasons=v.reasons,
            lon=v.lon,
            lat=v.lat,
            message_received_at=received,
        )
