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
import operator
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

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
    _arrays: _Arrays | None = field(default=None, init=False, repr=False, compare=False)
    _codes: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

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

        Notes
        -----
        Through the (time, sensor) groups of one step the tracks live in a :class:`_Stack`:
        stacked states, covariances and times, predicted and updated in place, beside the
        records. Each :class:`Track` is built once, at the end of the step (a record a caller
        holds is never edited), so a group costs array work on every track but Python work
        only on the tracks it updates, and a step one record per track.
        """
        dets = sorted(detections, key=lambda d: (d.time_s, d.sensor_id))
        late = [d for d in dets if d.time_s > now + 1e-9]
        if late:
            raise ValueError(
                f"MultiSensorTracker.step(now={now}) got a detection from {late[0].sensor_id!r} "
                f"at t={late[0].time_s}, after now; pass detections up to now only."
            )
        stack = self._stack()
        start = 0
        while start < len(dets):
            end = start
            while (
                end < len(dets)
                and dets[end].time_s == dets[start].time_s
                and dets[end].sensor_id == dets[start].sensor_id
            ):
                end += 1
            self._batch(stack, dets[start:end], dets[start].time_s)
            start = end
        self._predict(stack, now)
        return self._finish(stack, now)

    def _stack(self) -> _Stack:
        """The live tracks as a :class:`_Stack`: the arrays the last step left, copied (a step
        that fails leaves the tracker as it was), or else stacked from the records."""
        tracks = list(self._tracks)
        cached = self._arrays
        if len(self._codes) > 4 * len(tracks) + 10_000:  # serials come and go: forget old ones
            self._codes, cached = {}, None
        if cached is not None and cached.tracks is self._tracks:
            return _Stack(
                tracks=tracks,
                x=cached.x.copy(),
                p=cached.p.copy(),
                t=cached.t.copy(),
                tentative=cached.tentative.copy(),
                code=cached.code.copy(),
                codes=self._codes,
                own=[False] * len(tracks),
                hit=[False] * len(tracks),
            )
        n, codes = len(tracks), self._codes
        return _Stack(
            tracks=tracks,
            x=np.array([tr.state for tr in tracks], dtype=float).reshape(n, STATE_DIM),
            p=np.array([tr.covariance for tr in tracks], dtype=float).reshape(
                n, STATE_DIM, STATE_DIM
            ),
            t=np.array([tr.time_s for tr in tracks], dtype=float),
            tentative=np.array([tr.status != "confirmed" for tr in tracks], dtype=bool),
            code=np.array(
                [
                    _NO_SERIAL if tr.serial is None else codes.setdefault(tr.serial, len(codes))
                    for tr in tracks
                ],
                dtype=np.int64,
            ),
            codes=codes,
            own=[False] * n,
            hit=[False] * n,
        )

    def _predict(self, stack: _Stack, time_s: float) -> None:
        # Only tracks behind ``time_s`` move: a track already there (updated in this group,
        # or predicted by the previous call) is kept as it is, which is what a zero-length
        # prediction would give.
        behind = stack.t < time_s
        if not behind.any():
            return
        if behind.all():  # the usual case: no fancy indexing
            x, p = self.predictor.predict(stack.x, stack.p, time_s - stack.t)
            # Ours from now on and written in place: a copy, whatever the predictor returned.
            stack.x, stack.p = np.array(x, dtype=float), np.array(p, dtype=float)
        else:
            x, p = self.predictor.predict(
                stack.x[behind], stack.p[behind], time_s - stack.t[behind]
            )
            stack.x[behind] = x
            stack.p[behind] = p
        stack.t[behind] = time_s

    def _batch(self, stack: _Stack, batch: Sequence[Detection], time_s: float) -> None:
        """One (time, sensor) group: predict, gate, mask, associate, update, initiate."""
        self._predict(stack, time_s)
        n = len(stack.tracks)
        if n:
            gated = self.gate.gate(stack.x, stack.p, batch, self.updater)
            cost = gated.cost.copy()
            distance = gated.distance
            self._mask(stack, batch, cost, distance)
            pairs = self.associator.associate(GateResult(distance=distance, cost=cost))
        else:
            pairs = []
        used = set()
        posteriors = self._update_pairs(stack, batch, pairs)
        for h, (state, cov) in zip(pairs, posteriors, strict=True):
            i, det = h.track_index, batch[h.detection_index]
            stack.x[i] = state
            stack.p[i] = cov
            stack.absorb(i, det)
            used.add(h.detection_index)
        born: list[Track] = []
        for j, det in enumerate(batch):
            if j in used:
                continue
            # A detection inside some track's gate lost the assignment to a better one: it is a
            # duplicate or a split plot, not a new object. The gate is the one after serial
            # masking: a Remote ID drone near another drone's track is a new object.
            if n and np.isfinite(cost[:, j]).any():
                continue
            new = self.initiator.initiate(det, track_id=self._next_id)
            if new is None:
                continue
            self._next_id += 1
            born.append(stack.add(new, det))
        if born:
            stack.grow(born)

    def _update_pairs(
        self, stack: _Stack, batch: Sequence[Detection], pairs: Sequence[Hypothesis]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Posterior state and covariance of every assigned pair; stacked when the updater
        offers ``update_many`` (an assignment is one-to-one: the pairs are independent)."""
        many = getattr(self.updater, "update_many", None)
        if many is None or len(pairs) < 2:
            return [
                self.updater.update(
                    stack.x[h.track_index].copy(),
                    stack.p[h.track_index].copy(),
                    batch[h.detection_index],
                )
                for h in pairs
            ]
        rows = [h.track_index for h in pairs]
        x, p = many(stack.x[rows], stack.p[rows], [batch[h.detection_index] for h in pairs])
        return list(zip(x, p, strict=True))

    def _mask(
        self,
        stack: _Stack,
        batch: Sequence[Detection],
        cost: np.ndarray,
        distance: np.ndarray,
    ) -> None:
        """Mask ``cost`` in place: bearings never feed tentative tracks; a serial detection
        only goes to the track of its serial (and is pulled to it inside the serial gate)."""
        bearing = [d.model.kind == "bearing" for d in batch]
        if any(bearing):
            # A bearing has no range: it may refine a confirmed track, but it would confirm
            # clutter lying anywhere along the line of sight.
            cost[np.ix_(stack.tentative, np.array(bearing))] = np.inf
        if all(d.serial is None for d in batch):
            return
        codes = stack.codes
        det_code = np.array([_NO_SERIAL if d.serial is None
                             else codes.setdefault(d.serial, len(codes)) for d in batch])  # fmt: skip
        trk_code = stack.code
        with_serial = (trk_code[:, None] >= 0) & (det_code[None, :] >= 0)
        same = with_serial & (trk_code[:, None] == det_code[None, :])
        cost[with_serial & ~same] = np.inf  # another serial's track
        limits = self.serial_gate_factor * np.array(
            [stack.threshold(self.gate, 3 if d.model.kind == "position" else 1) for d in batch]
        )
        with np.errstate(invalid="ignore"):
            pull = same & np.isfinite(distance) & (distance <= limits[None, :])
        cost[pull] = np.minimum(distance, limits[None, :])[pull] - 1e6

    def _finish(self, stack: _Stack, now: float) -> list[Track]:
        """Build each track once (motion, steps, hits), review, delete; keep the arrays."""
        x, p = stack.x, stack.p
        x.flags.writeable = False  # tracks are shared with callers: nobody edits them in place
        p.flags.writeable = False
        states, covs, times = list(x), list(p), stack.t.tolist()  # row views, floats
        own, hit = stack.own, stack.hit
        review = self.initiator.review
        reviewed: list[Track] = []
        rows: list[int] = []
        for i, t in enumerate(stack.tracks):
            if own[i]:  # built in this step and seen by nobody yet: no second copy
                _set(t, "state", states[i])
                _set(t, "covariance", covs[i])
                _set(t, "time_s", times[i])
                _set(t, "steps", t.steps + 1)
                _set(t, "hits", t.hits + hit[i])
            elif type(t) is Track:
                t = _moved(t, states[i], covs[i], times[i], t.steps + 1, t.hits + hit[i])
            else:
                t = dataclasses.replace(
                    t, state=states[i], covariance=covs[i], time_s=times[i],
                    steps=t.steps + 1, hits=t.hits + hit[i],
                )  # fmt: skip
            fate = review(t)
            if fate == "drop":
                continue
            if fate == "confirmed" and t.status != "confirmed":
                t = _evolve(t, status="confirmed")
                stack.tentative[i] = False
            reviewed.append(t)
            rows.append(i)
        stacked = getattr(self.deleter, "delete_stacked", None)
        if stacked is None or not reviewed:
            kept, gone = self.deleter.delete(reviewed, now)
        else:
            kept, gone = stacked(reviewed, p if len(rows) == len(p) else p[rows], now)
        self._deleted.extend(g for g in gone if g.status == "confirmed")
        self._tracks = kept
        self._arrays = stack.kept(kept, reviewed, rows)
        return sorted((t for t in kept if t.status == "confirmed"), key=lambda t: t.track_id)


_NO_SERIAL = -2
"""Serial code of a track or detection without a serial (codes of serials are >= 0)."""


@dataclass(slots=True, kw_only=True)
class _Stack:
    """The live tracks through one step: records beside stacked arrays (private to ``step``).

    ``x``, ``p``, ``t`` (states, covariances, times, one row per track) are the truth of the
    motion during the step; a record's own ``state`` / ``covariance`` / ``time_s`` are stale
    until :meth:`MultiSensorTracker._finish` builds it. The other fields of ``tracks[i]`` are
    current: :meth:`absorb` applies an update's evidence at once, in place to a record built
    in this step (``own``), else to a copy. ``tentative`` and ``code`` (each track's serial as
    an integer, :data:`_NO_SERIAL` without one) serve the masks without a loop over tracks.
    """

    tracks: list[Track]
    x: np.ndarray
    p: np.ndarray
    t: np.ndarray
    tentative: np.ndarray
    code: np.ndarray
    codes: dict[str, int]
    own: list[bool]
    hit: list[bool]
    thresholds: dict[tuple[int, int], float] = field(default_factory=dict)

    def absorb(self, i: int, det: Detection) -> None:
        """Track ``i`` took ``det``; its posterior is already in ``x[i]``."""
        t = self.tracks[i]
        values = _evidence(t, det, self.x[i])
        if self.own[i]:
            for name, value in zip(_EVIDENCE, values, strict=True):
                _set(t, name, value)
        elif type(t) is Track:
            t = self.tracks[i] = _with_evidence(t, *values)
            self.own[i] = True
        else:
            t = self.tracks[i] = dataclasses.replace(t, **dict(zip(_EVIDENCE, values, strict=True)))
        self.hit[i] = True
        if self.code[i] == _NO_SERIAL and t.serial is not None:
            self.code[i] = self.codes.setdefault(t.serial, len(self.codes))

    def add(self, new: Track, det: Detection) -> Track:
        """The record of a track started by ``det`` (its rows come with :meth:`grow`)."""
        t = _evolve(new, **dict(zip(_EVIDENCE, _evidence(new, det, new.state), strict=True)))
        self.tracks.append(t)
        self.own.append(type(t) is Track)
        self.hit.append(True)
        return t

    def grow(self, born: Sequence[Track]) -> None:
        """Rows for the tracks just added, from their records."""
        codes = self.codes
        self.x = np.concatenate([self.x, np.array([t.state for t in born], dtype=float)])
        self.p = np.concatenate([self.p, np.array([t.covariance for t in born], dtype=float)])
        self.t = np.concatenate([self.t, np.array([t.time_s for t in born], dtype=float)])
        self.tentative = np.concatenate(
            [self.tentative, np.array([t.status != "confirmed" for t in born], dtype=bool)]
        )
        self.code = np.concatenate(
            [self.code, np.array([_NO_SERIAL if t.serial is None
                                  else codes.setdefault(t.serial, len(codes)) for t in born],
                                 dtype=np.int64)]
        )  # fmt: skip

    def threshold(self, gate: Gate, dim: int) -> float:
        """The gate's threshold for a ``dim``-D measurement, once per step."""
        key = (id(gate), dim)
        if key not in self.thresholds:
            self.thresholds[key] = _threshold(gate, dim)
        return self.thresholds[key]

    def kept(self, kept: list[Track], reviewed: list[Track], rows: list[int]) -> _Arrays | None:
        """The rows of ``kept`` (records of rows ``rows`` passed review as ``reviewed``, the
        deleter kept ``kept``), for the next step; None when they cannot be told."""
        if len(kept) == len(reviewed) and all(map(operator.is_, kept, reviewed)):
            keep = rows
        else:
            row_of = {id(t): r for t, r in zip(reviewed, rows, strict=True)}
            keep = [row_of.get(id(t), -1) for t in kept]
            if -1 in keep:  # a deleter that builds its own records: stack those next step
                return None
        if len(keep) == len(self.tracks):  # nothing dropped: the rows as they are
            return _Arrays(kept, self.x, self.p, self.t, self.tentative, self.code)
        return _Arrays(
            kept, self.x[keep], self.p[keep], self.t[keep], self.tentative[keep], self.code[keep]
        )


class _Arrays(NamedTuple):
    """What one step leaves for the next (:meth:`MultiSensorTracker._stack` copies it)."""

    tracks: list[Track]
    x: np.ndarray
    p: np.ndarray
    t: np.ndarray
    tentative: np.ndarray
    code: np.ndarray


_TRACK_FIELDS = tuple(f.name for f in dataclasses.fields(Track))
_new = object.__new__
_set = object.__setattr__


def _evolve(t: Track, **changes: Any) -> Track:
    """``dataclasses.replace`` for a :class:`Track`, without its per-call overhead.

    :class:`Track` has no ``__post_init__`` and no ``init=False`` fields, so copying every
    slot and setting the changed ones is the same object ``replace`` would build.
    """
    if type(t) is not Track:
        return dataclasses.replace(t, **changes)
    new = _copy_track(t)
    for name, value in changes.items():
        if name in _TRACK_FIELD_SET:
            _set(new, name, value)
    return new


_MOTION = ("state", "covariance", "time_s", "steps", "hits")
_EVIDENCE = (
    "last_update_s",
    "serial",
    "sensor_counts",
    "rcs_dbsm_mean",
    "protocols",
    "pilot_lon",
    "pilot_lat",
    "history",
)


def _track_builder(changed: tuple[str, ...]) -> Callable[..., Track]:
    """``f(t, *changed values)``: a copy of a :class:`Track` with the fields ``changed`` set,
    generated once (no loop, no ``getattr``, no keyword dictionary)."""
    body = "".join(
        f"    _set(new, {n!r}, {n if n in changed else 't.' + n})\n" for n in _TRACK_FIELDS
    )
    args = "".join(f", {n}" for n in changed)
    scope: dict[str, Any] = {"_new": _new, "_set": _set, "Track": Track}
    exec(f"def build(t{args}):\n    new = _new(Track)\n{body}    return new\n", scope)
    return scope["build"]  # type: ignore[no-any-return]


_TRACK_FIELD_SET = frozenset(_TRACK_FIELDS)
_copy_track = _track_builder(())
_moved = _track_builder(_MOTION)
"""``_moved(t, state, covariance, time_s, steps, hits)``: ``t`` at the end of a step."""
_with_evidence = _track_builder(_EVIDENCE)
"""``_with_evidence(t, *values)``: ``t`` with the fields :func:`_evidence` gives."""


def _threshold(gate: Gate, dim: int) -> float:
    fn = getattr(gate, "threshold", None)
    return float(fn(dim)) if callable(fn) else 16.0


def _evidence(t: Track, det: Detection, state: np.ndarray) -> tuple[Any, ...]:
    """What an update by ``det`` changes in a track's record besides its motion, in the order
    of :data:`_EVIDENCE` (counts, serial, radar cross-section, protocols, pilot, and history
    from the posterior ``state``)."""
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
        history = (*history, (det.time_s, *state[:3].tolist()))[-HISTORY_LENGTH:]
    return (
        det.time_s,
        t.serial or det.serial,
        tuple(sorted(counts.items())),
        rcs,
        protocols,
        det.pilot_lon if det.pilot_lon is not None else t.pilot_lon,
        det.pilot_lat if det.pilot_lat is not None else t.pilot_lat,
        history,
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
