"""Multi-sensor multi-target tracker (多源融合多目标跟踪).

Stone Soup's ``MultiTargetTracker`` loop — associate, update or coast, delete, initiate — over
components passed in at construction. Detections from all sensors are processed in time order,
one (time, sensor) batch at a time, so radar plots, RF bearings and Remote ID positions update
the same tracks: one track id per object across sensors. A Remote ID serial or ADS-B address is
a strong identity hint: a detection carrying a serial prefers the track with that serial (a wider
gate applies) and never joins a track holding a different serial.

The tracker is pushed one batch at a time (``step(detections, now)``) and never reads a clock.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from haizhou.airspace.tracking.associate import Associator, GlobalNearestNeighbour
from haizhou.airspace.tracking.delete import CoastingDeleter, Deleter
from haizhou.airspace.tracking.gate import Gate, GateResult, MahalanobisGate
from haizhou.airspace.tracking.initiate import Initiator, MOfNInitiator
from haizhou.airspace.tracking.predict import ConstantTurn, ConstantVelocity, Predictor
from haizhou.airspace.tracking.types import STATE_DIM, Detection, Hypothesis, Track
from haizhou.airspace.tracking.update import KalmanUpdater, Updater

__all__ = ["COMPONENT_TYPES", "MultiSensorTracker", "TrackerConfigError"]

HISTORY_LENGTH = 40
"""Updated positions kept per track for the classifier."""

#: Component classes a TOML config may name, by slot.
COMPONENT_TYPES: Mapping[str, tuple[type, ...]] = MappingProxyType(
    {
        "predictor": (ConstantVelocity, ConstantTurn),
        "updater": (KalmanUpdater,),
        "gate": (MahalanobisGate,),
        "associator": (GlobalNearestNeighbour,),
        "initiator": (MOfNInitiator,),
        "deleter": (CoastingDeleter,),
    }
)

_VERBS: dict[str, tuple[str, ...]] = {
    "predictor": ("predict",),
    "updater": ("update", "innovations"),
    "gate": ("gate",),
    "associator": ("associate",),
    "initiator": ("initiate", "review"),
    "deleter": ("delete",),
}


class TrackerConfigError(ValueError):
    """A tracker was built from parts that do not fit; the message names the part."""


def _slot_of(obj: object) -> str | None:
    for slot, verbs in _VERBS.items():
        if all(callable(getattr(obj, v, None)) for v in verbs):
            return slot
    return None


@dataclass(kw_only=True)
class MultiSensorTracker:
    """Multi-sensor tracker (多传感器跟踪器) built from swappable components.

    Parameters
    ----------
    predictor : Predictor
        e.g. :class:`~haizhou.airspace.tracking.predict.ConstantVelocity`.
    updater : Updater
        e.g. :class:`~haizhou.airspace.tracking.update.KalmanUpdater` (KF + EKF for bearings).
    gate : Gate
        e.g. :class:`~haizhou.airspace.tracking.gate.MahalanobisGate`; required and finite.
    associator : Associator
        e.g. :class:`~haizhou.airspace.tracking.associate.GlobalNearestNeighbour`.
    initiator : Initiator
        e.g. :class:`~haizhou.airspace.tracking.initiate.MOfNInitiator`.
    deleter : Deleter
        e.g. :class:`~haizhou.airspace.tracking.delete.CoastingDeleter`.
    serial_gate_factor : float
        A detection whose serial equals a track's is accepted within this many times the
        normal gate threshold (a Remote ID after the track coasted).

    Raises
    ------
    TrackerConfigError
        At construction, when a part lacks its verb (naming the slot it would fit), state
        dimensions differ, or the gate and associator do not speak the same output.

    Examples
    --------
    >>> from haizhou.airspace.tracking.types import PositionModel
    >>> tr = MultiSensorTracker.default()
    >>> pm = PositionModel.isotropic(5.0, 5.0)
    >>> for k in range(4):
    ...     det = Detection(time_s=float(k), sensor_id="radar1", sensor_kind="radar",
    ...                     measurement=(10.0 * k, 0.0, 50.0), model=pm)
    ...     tracks = tr.step([det], now=float(k))
    >>> [(t.track_id, t.status) for t in tracks]
    [(1, 'confirmed')]
    """

    predictor: Predictor
    updater: Updater
    gate: Gate
    associator: Associator
    initiator: Initiator
    deleter: Deleter
    serial_gate_factor: float = 25.0
    _tracks: list[Track] = field(default_factory=list, init=False, repr=False)
    _next_id: int = field(default=1, init=False, repr=False)
    _deleted: list[Track] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        for slot, verbs in _VERBS.items():
            part = getattr(self, slot)
            missing = [v for v in verbs if not callable(getattr(part, v, None))]
            if missing:
                fits = _slot_of(part)
                hint = f" It looks like a {fits}: pass it as {fits}=." if fits else ""
                raise TrackerConfigError(
                    f"The {slot!r} of MultiSensorTracker must have {', '.join(v + '()' for v in verbs)}; "
                    f"got {type(part).__name__}, which lacks {', '.join(missing)}().{hint}"
                )
        dims = {
            slot: getattr(getattr(self, slot), "state_dim", STATE_DIM)
            for slot in ("predictor", "updater", "initiator")
        }
        if len(set(dims.values())) != 1:
            odd = min(dims, key=lambda s: list(dims.values()).count(dims[s]))
            raise TrackerConfigError(
                f"The {odd!r} of MultiSensorTracker ({type(getattr(self, odd)).__name__}) works on "
                f"{dims[odd]}-D states but the others on {STATE_DIM}-D; give it a matching {odd}."
            )
        needs = getattr(self.associator, "needs", None)
        gives = getattr(self.gate, "output", None)
        if needs != gives:
            raise TrackerConfigError(
                f"The 'associator' of MultiSensorTracker ({type(self.associator).__name__}) needs a "
                f"gate giving {needs!r}, but the 'gate' ({type(self.gate).__name__}) gives {gives!r}; "
                "use GlobalNearestNeighbour with MahalanobisGate."
            )
        f = self.serial_gate_factor
        if not (isinstance(f, int | float) and math.isfinite(f) and f >= 1):
            raise TrackerConfigError(
                f"The 'serial_gate_factor' of MultiSensorTracker must be a finite number >= 1; got {f!r}."
            )

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def default(cls) -> MultiSensorTracker:
        """The tracker with every component at its defaults."""
        return cls(
            predictor=ConstantVelocity(),
            updater=KalmanUpdater(),
            gate=MahalanobisGate(),
            associator=GlobalNearestNeighbour(),
            initiator=MOfNInitiator(),
            deleter=CoastingDeleter(),
        )

    def config(self) -> dict[str, Any]:
        """The recipe: one table per component (``type`` + fields), plus the tracker's own."""
        out: dict[str, Any] = {"tracker": {"serial_gate_factor": float(self.serial_gate_factor)}}
        for slot in _VERBS:
            part = getattr(self, slot)
            table: dict[str, Any] = {"type": type(part).__name__}
            for f in dataclasses.fields(part):
                table[f.name] = getattr(part, f.name)
            out[slot] = table
        return out

    def to_toml(self) -> str:
        """The recipe as TOML text, readable by :meth:`from_toml`."""
        lines: list[str] = []
        for name, table in self.config().items():
            lines.append(f"[{name}]")
            for key, value in table.items():
                lines.append(f"{key} = {_toml_value(value)}")
            lines.append("")
        return "\n".join(lines)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MultiSensorTracker:
        """Build from a recipe as :meth:`config` returns; missing slots take defaults."""
        unknown = set(config) - set(_VERBS) - {"tracker"}
        if unknown:
            raise TrackerConfigError(
                f"Unknown tracker config table(s) {sorted(unknown)}; allowed: tracker, {', '.join(_VERBS)}."
            )
        defaults = cls.default()
        parts: dict[str, Any] = {}
        for slot, allowed in COMPONENT_TYPES.items():
            table = dict(config.get(slot, {}))
            if not table:
                parts[slot] = getattr(defaults, slot)
                continue
            type_name = table.pop("type", type(getattr(defaults, slot)).__name__)
            by_name = {c.__name__: c for c in allowed}
            if type_name not in by_name:
                raise TrackerConfigError(
                    f"[{slot}] type = {type_name!r} is not a known {slot}; use one of {sorted(by_name)}."
                )
            kind = by_name[type_name]
            names = {f.name for f in dataclasses.fields(kind)}
            extra = set(table) - names
            if extra:
                raise TrackerConfigError(
                    f"[{slot}] {type_name} has no parameter(s) {sorted(extra)}; it takes {sorted(names)}."
                )
            try:
                parts[slot] = kind(**table)
            except (TypeError, ValueError) as exc:
                raise TrackerConfigError(f"[{slot}] {exc}") from None
        own = dict(config.get("tracker", {}))
        return cls(**parts, **own)

    @classmethod
    def from_toml(cls, text: str) -> MultiSensorTracker:
        """Build from TOML text (see :meth:`to_toml`)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TrackerConfigError(f"Tracker config is not valid TOML: {exc}.") from None
        return cls.from_config(data)

    # ------------------------------------------------------------------ running
    @property
    def tracks(self) -> list[Track]:
        """Every live track, tentative ones included."""
        return list(self._tracks)

    def pop_deleted(self) -> list[Track]:
        """Tracks deleted since the last call (for timelines)."""
        out, self._deleted = self._deleted, []
        return out

    def step(self, detections: Iterable[Detection], now: float) -> list[Track]:
        """Process one batch of detections and return the confirmed tracks at ``now``.

        Parameters
        ----------
        detections : iterable of Detection
            Reports with ``time_s <= now``, from any sensors, in any order.
        now : float
            Time of this step, seconds; every returned track is predicted to it.

        Returns
        -------
        list of Track
            Confirmed tracks, by track id.
        """
        dets = sorted(detections, key=lambda d: (d.time_s, d.sensor_id))
        late = [d for d in dets if d.time_s > now + 1e-9]
        if late:
            raise ValueError(
                f"MultiSensorTracker.step(now={now}) got a detection from {late[0].sensor_id!r} "
                f"at t={late[0].time_s}, after now; pass detections up to now only."
            )
        shared = {id(t) for t in self._tracks}  # callers may hold these: never edited
        updated: set[int] = set()
        start = 0
        while start < len(dets):
            end = start
            while (
                end < len(dets)
                and dets[end].time_s == dets[start].time_s
                and dets[end].sensor_id == dets[start].sensor_id
            ):
                end += 1
            self._batch(dets[start:end], dets[start].time_s, updated)
            start = end
        self._predict_to(now)
        reviewed: list[Track] = []
        for t in self._tracks:
            changes = {"steps": t.steps + 1, "hits": t.hits + (1 if t.track_id in updated else 0)}
            if id(t) in shared or type(t) is not Track:
                t = _evolve(t, **changes)
            else:  # built in this step and seen by nobody yet: no second copy
                for name, value in changes.items():
                    _set(t, name, value)
            fate = self.initiator.review(t)
            if fate == "drop":
                continue
            if fate == "confirmed" and t.status != "confirmed":
                t = _evolve(t, status="confirmed")
            reviewed.append(t)
        kept, gone = self.deleter.delete(reviewed, now)
        self._deleted.extend(g for g in gone if g.status == "confirmed")
        self._tracks = kept
        return sorted((t for t in kept if t.status == "confirmed"), key=lambda t: t.track_id)

    def _predict_to(self, time_s: float) -> None:
        # Only tracks behind ``time_s`` move: a track already there (updated in this frame,
        # or predicted by the previous call) is kept as it is, which is what a zero-length
        # prediction would give, without rebuilding every track on every call.
        behind = [i for i, t in enumerate(self._tracks) if t.time_s < time_s]
        if not behind:
            return
        tracks = list(self._tracks)
        x = np.stack([tracks[i].state for i in behind])
        p = np.stack([tracks[i].covariance for i in behind])
        dt = np.array([time_s - tracks[i].time_s for i in behind])
        x, p = self.predictor.predict(x, p, dt)
        x.flags.writeable = False  # tracks are shared with callers: nobody edits them in place
        p.flags.writeable = False
        for k, i in enumerate(behind):
            tracks[i] = _evolve(tracks[i], state=x[k], covariance=p[k], time_s=time_s)
        self._tracks = tracks

    def _batch(self, batch: Sequence[Detection], time_s: float, updated: set[int]) -> None:
        self._predict_to(time_s)
        tracks = self._tracks
        if tracks:
            x = np.stack([t.state for t in tracks])
            p = np.stack([t.covariance for t in tracks])
            gated = self.gate.gate(x, p, batch, self.updater)
            cost = gated.cost.copy()
            distance = gated.distance
            self._mask(tracks, batch, cost, distance)
            pairs = self.associator.associate(GateResult(distance=distance, cost=cost))
        else:
            gated = None
            pairs = []
        used = set()
        new_tracks = list(tracks)
        posteriors = self._update_pairs(tracks, batch, pairs)
        for h, (state, cov) in zip(pairs, posteriors, strict=True):
            t = tracks[h.track_index]
            det = batch[h.detection_index]
            new_tracks[h.track_index] = _absorb(t, det, state, cov)
            updated.add(t.track_id)
            used.add(h.detection_index)
        for j, det in enumerate(batch):
            if j in used:
                continue
            # A detection inside some track's gate lost the assignment to a better one: it is a
            # duplicate or a split plot, not a new object. The gate is the one after serial
            # masking: a Remote ID drone near another drone's track is a new object.
            if gated is not None and np.isfinite(cost[:, j]).any():
                continue
            new = self.initiator.initiate(det, track_id=self._next_id)
            if new is None:
                continue
            self._next_id += 1
            new_tracks.append(_absorb(new, det, new.state, new.covariance))
            updated.add(new.track_id)
        self._tracks = new_tracks

    def _update_pairs(
        self, tracks: Sequence[Track], batch: Sequence[Detection], pairs: Sequence[Hypothesis]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Posterior state and covariance of every assigned pair; stacked when the updater
        offers ``update_many`` (an assignment is one-to-one: the pairs are independent)."""
        many = getattr(self.updater, "update_many", None)
        if many is None or len(pairs) < 2:
            return [
                self.updater.update(
                    tracks[h.track_index].state,
                    tracks[h.track_index].covariance,
                    batch[h.detection_index],
                )
                for h in pairs
            ]
        x, p = many(
            np.stack([tracks[h.track_index].state for h in pairs]),
            np.stack([tracks[h.track_index].covariance for h in pairs]),
            [batch[h.detection_index] for h in pairs],
        )
        return list(zip(x, p, strict=True))

    def _mask(
        self,
        tracks: Sequence[Track],
        batch: Sequence[Detection],
        cost: np.ndarray,
        distance: np.ndarray,
    ) -> None:
        """Mask ``cost`` in place: bearings never feed tentative tracks; a serial detection
        only goes to the track of its serial (and is pulled to it inside the serial gate)."""
        tentative = np.array([t.status != "confirmed" for t in tracks])
        bearing = np.array([d.model.kind == "bearing" for d in batch])
        if bearing.any():
            # A bearing has no range: it may refine a confirmed track, but it would confirm
            # clutter lying anywhere along the line of sight.
            cost[np.ix_(tentative, bearing)] = np.inf
        codes: dict[str, int] = {}
        det_code = np.array([-1 if d.serial is None else codes.setdefault(d.serial, len(codes))
                             for d in batch])  # fmt: skip
        if not codes:
            return
        trk_code = np.array([-2 if t.serial is None else codes.get(t.serial, -3) for t in tracks])
        with_serial = (trk_code[:, None] != -2) & (det_code[None, :] >= 0)
        same = with_serial & (trk_code[:, None] == det_code[None, :])
        cost[with_serial & ~same] = np.inf  # another serial's track
        dims = np.array([3 if d.model.kind == "position" else 1 for d in batch])
        limits = self.serial_gate_factor * np.array([_threshold(self.gate, int(k)) for k in dims])
        with np.errstate(invalid="ignore"):
            pull = same & np.isfinite(distance) & (distance <= limits[None, :])
        cost[pull] = np.minimum(distance, limits[None, :])[pull] - 1e6


_TRACK_FIELDS = tuple(f.name for f in dataclasses.fields(Track))
_new = object.__new__
_set = object.__setattr__


def _evolve(t: Track, **changes: Any) -> Track:
    """``dataclasses.replace`` for a :class:`Track`, without its per-call overhead.

    :class:`Track` has no ``__post_init__`` and no ``init=False`` fields, so copying every
    slot and setting the changed ones is the same object ``replace`` would build; the live
    tracker does this for every track on every step.
    """
    if type(t) is not Track:
        return dataclasses.replace(t, **changes)
    new = _copy_track(t)
    for name, value in changes.items():
        if name in _TRACK_FIELD_SET:
            _set(new, name, value)
    return new


def _track_copier() -> Callable[[Track], Track]:
    """A field-by-field copy of a :class:`Track`, generated once (no loop, no ``getattr``)."""
    body = "".join(f"    _set(new, {n!r}, t.{n})\n" for n in _TRACK_FIELDS)
    scope: dict[str, Any] = {"_new": _new, "_set": _set, "Track": Track}
    exec(f"def copy(t):\n    new = _new(Track)\n{body}    return new\n", scope)
    return scope["copy"]  # type: ignore[no-any-return]


_TRACK_FIELD_SET = frozenset(_TRACK_FIELDS)
_copy_track = _track_copier()


def _threshold(gate: Gate, dim: int) -> float:
    fn = getattr(gate, "threshold", None)
    return float(fn(dim)) if callable(fn) else 16.0


def _absorb(t: Track, det: Detection, state: np.ndarray, cov: np.ndarray) -> Track:
    counts = dict(t.sensor_counts)
    counts[det.sensor_kind] = counts.get(det.sensor_kind, 0) + 1
    rcs = t.rcs_dbsm_mean
    if det.rcs_dbsm is not None:
        k = counts.get("radar", 1)
        rcs = det.rcs_dbsm if rcs is None else rcs + (det.rcs_dbsm - rcs) / k
    protocols = t.protocols
    if det.protocol is not None and det.protocol not in protocols:
        protocols = (*protocols, det.protocol)
    history = t.history
    if det.model.kind == "position":
        history = (*history, (det.time_s, float(state[0]), float(state[1]), float(state[2])))[
            -HISTORY_LENGTH:
        ]
    state = np.array(state, dtype=float)
    cov = np.array(cov, dtype=float)
    state.flags.writeable = False
    cov.flags.writeable = False
    return _evolve(
        t,
        state=state,
        covariance=cov,
        time_s=det.time_s,
        last_update_s=det.time_s,
        serial=t.serial or det.serial,
        sensor_counts=tuple(sorted(counts.items())),
        rcs_dbsm_mean=rcs,
        protocols=protocols,
        pilot_lon=det.pilot_lon if det.pilot_lon is not None else t.pilot_lon,
        pilot_lat=det.pilot_lat if det.pilot_lat is not None else t.pilot_lat,
        history=history,
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TrackerConfigError(f"Tracker config value {value!r} is not finite.")
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TrackerConfigError(f"Cannot write {value!r} ({type(value).__name__}) to TOML.")
