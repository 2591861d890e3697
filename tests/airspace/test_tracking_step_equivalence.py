"""The tracker's step gives the tracks of a plain per-detection-group loop (issue 10).

:class:`MultiSensorTracker` keeps every track's state and covariance in stacked arrays through
the update groups of one step and builds each :class:`Track` once at its end. The reference
here is the loop of the module docstring written out one record at a time: for every
(time, sensor) group, predict every track behind to that time (a new record each), gate,
mask, associate, update each pair with ``updater.update`` and start new tracks; then predict to
``now``, count steps and hits, review and delete. Both run the same multi-sensor scenario —
Remote ID drones reporting at their own times from two receivers, radar plots with clutter,
RF bearings, drones crossing with different serials, intruders that appear and go silent — and
must agree on ids, statuses, counts and states (1e-9 relative).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from haizhou.airspace.tracking import (
    BearingModel,
    CoastingDeleter,
    ConstantVelocity,
    Detection,
    GlobalNearestNeighbour,
    KalmanUpdater,
    MahalanobisGate,
    MOfNInitiator,
    MultiSensorTracker,
    PositionModel,
    Track,
)
from haizhou.airspace.tracking.gate import GateResult
from haizhou.airspace.tracking.predict import _noise
from haizhou.feeds.pipeline import live_tracker

HISTORY_LENGTH = 40


class ReferenceTracker:
    """The tracker's rules, one group and one record at a time (slow, obvious)."""

    def __init__(self, parts: MultiSensorTracker) -> None:
        self.p = parts  # the components only; its own state is never used
        self.tracks: list[Track] = []
        self.next_id = 1
        self.deleted: list[Track] = []
        self.thresholds: dict[int, float] = {}

    def predict_to(self, time_s: float) -> None:
        out = []
        for t in self.tracks:
            if t.time_s < time_s:
                x, p = self.p.predictor.predict(
                    t.state[None], t.covariance[None], np.array([time_s - t.time_s])
                )
                t = dataclasses.replace(t, state=x[0], covariance=p[0], time_s=time_s)
            out.append(t)
        self.tracks = out

    def threshold(self, dim: int) -> float:
        if dim not in self.thresholds:  # chi2.ppf is slow: once per dimension
            self.thresholds[dim] = float(self.p.gate.threshold(dim))
        return self.thresholds[dim]

    def group(self, batch: list[Detection], time_s: float, updated: set[int]) -> None:
        self.predict_to(time_s)
        tracks = self.tracks
        n, m = len(tracks), len(batch)
        cost = np.full((n, m), np.inf)
        if n:
            x = np.array([t.state for t in tracks])
            p = np.array([t.covariance for t in tracks])
            gated = self.p.gate.gate(x, p, batch, self.p.updater)
            cost = gated.cost.copy()
            for i, t in enumerate(tracks):
                for j, d in enumerate(batch):
                    if d.model.kind == "bearing" and t.status != "confirmed":
                        cost[i, j] = np.inf
                    if d.serial is None or t.serial is None:
                        continue
                    if d.serial != t.serial:
                        cost[i, j] = np.inf
                        continue
                    dim = 3 if d.model.kind == "position" else 1
                    limit = self.p.serial_gate_factor * self.threshold(dim)
                    dist = gated.distance[i, j]
                    if math.isfinite(dist) and dist <= limit:
                        cost[i, j] = min(dist, limit) - 1e6
            pairs = self.p.associator.associate(GateResult(distance=gated.distance, cost=cost))
        else:
            pairs = []
        new = list(tracks)
        used = set()
        for h in pairs:
            t, d = tracks[h.track_index], batch[h.detection_index]
            x1, p1 = self.p.updater.update(t.state, t.covariance, d)
            new[h.track_index] = absorb(t, d, x1, p1)
            updated.add(t.track_id)
            used.add(h.detection_index)
        for j, d in enumerate(batch):
            if j in used or (n and np.isfinite(cost[:, j]).any()):
                continue
            t = self.p.initiator.initiate(d, track_id=self.next_id)
            if t is None:
                continue
            self.next_id += 1
            new.append(absorb(t, d, t.state, t.covariance))
            updated.add(t.track_id)
        self.tracks = new

    def step(self, detections: list[Detection], now: float) -> list[Track]:
        dets = sorted(detections, key=lambda d: (d.time_s, d.sensor_id))
        updated: set[int] = set()
        groups: dict[tuple[float, str], list[Detection]] = {}
        for d in dets:
            groups.setdefault((d.time_s, d.sensor_id), []).append(d)
        for (time_s, _), batch in groups.items():
            self.group(batch, time_s, updated)
        self.predict_to(now)
        reviewed = []
        for t in self.tracks:
            t = dataclasses.replace(t, steps=t.steps + 1, hits=t.hits + (t.track_id in updated))
            fate = self.p.initiator.review(t)
            if fate == "drop":
                continue
            if fate == "confirmed":
                t = dataclasses.replace(t, status="confirmed")
            reviewed.append(t)
        kept, gone = self.p.deleter.delete(reviewed, now)
        self.deleted.extend(g for g in gone if g.status == "confirmed")
        self.tracks = kept
        return sorted((t for t in kept if t.status == "confirmed"), key=lambda t: t.track_id)


def absorb(t: Track, d: Detection, x: np.ndarray, p: np.ndarray) -> Track:
    counts = dict(t.sensor_counts)
    counts[d.sensor_kind] = counts.get(d.sensor_kind, 0) + 1
    rcs = t.rcs_dbsm_mean
    if d.rcs_dbsm is not None:
        rcs = d.rcs_dbsm if rcs is None else rcs + (d.rcs_dbsm - rcs) / counts["radar"]
    protocols = t.protocols
    if d.protocol is not None and d.protocol not in protocols:
        protocols = (*protocols, d.protocol)
    history = t.history
    if d.model.kind == "position":
        history = (*history, (d.time_s, float(x[0]), float(x[1]), float(x[2])))
    return dataclasses.replace(
        t,
        state=np.array(x),
        covariance=np.array(p),
        time_s=d.time_s,
        last_update_s=d.time_s,
        serial=t.serial or d.serial,
        sensor_counts=tuple(sorted(counts.items())),
        rcs_dbsm_mean=rcs,
        protocols=protocols,
        pilot_lon=d.pilot_lon if d.pilot_lon is not None else t.pilot_lon,
        pilot_lat=d.pilot_lat if d.pilot_lat is not None else t.pilot_lat,
        history=history[-HISTORY_LENGTH:],
    )


def scenario(seed: int) -> list[tuple[float, list[Detection]]]:
    """Steps of 0.2 s: (now, detections), detections at their own times inside the step."""
    rng = np.random.default_rng(seed)
    rid_pm = PositionModel.isotropic(8.0, 12.0)
    radar_pm = PositionModel.isotropic(6.0, 6.0)
    n_drones = 9
    start = rng.uniform(-1500, 1500, (n_drones, 2))
    vel = rng.normal(0, 8, (n_drones, 2))
    start[1], vel[1] = start[0] + (60.0, 0.0), vel[0]  # drones 0 and 1 fly side by side
    start[2], vel[2] = (-300.0, 0.0), (10.0, 0.0)  # 2 and 3 cross head-on, different serials
    start[3], vel[3] = (300.0, 6.0), (-10.0, 0.0)
    lives = [(0.0, 60.0)] * n_drones
    lives[5], lives[6], lives[7] = (2.0, 6.0), (6.0, 60.0), (12.0, 13.0)  # appear, go silent
    out = []
    for k in range(120):
        t0 = 0.2 * k
        now = round(t0 + 0.2, 6)
        dets: list[Detection] = []
        for i in range(n_drones):
            if not lives[i][0] <= t0 < lives[i][1]:
                continue
            if i != 8 and rng.random() < 0.8:  # Remote ID, own time, one of two receivers
                t = round(t0 + rng.uniform(0.0, 0.2), 4)
                xy = start[i] + vel[i] * t + rng.normal(0, 5, 2)
                dets.append(
                    Detection(
                        time_s=t, sensor_id=f"rid-{1 + (i + k) % 2}", sensor_kind="remote_id",
                        measurement=(float(xy[0]), float(xy[1]), 80.0 + i), model=rid_pm,
                        serial=f"SN{i:04d}", protocol="astm_f3411",
                        pilot_lon=119.2 + 0.01 * i, pilot_lat=34.5,
                    )
                )  # fmt: skip
            if k % 5 == 0 and rng.random() < 0.9:  # radar scan every second, no serials
                xy = start[i] + vel[i] * t0 + rng.normal(0, 5, 2)
                dets.append(
                    Detection(
                        time_s=round(t0, 4), sensor_id="radar-1", sensor_kind="radar",
                        measurement=(float(xy[0]), float(xy[1]), 80.0 + i + rng.normal(0, 4)),
                        model=radar_pm, rcs_dbsm=float(rng.normal(-18, 2)),
                    )
                )  # fmt: skip
            if k % 3 == 1 and i in (0, 4, 8):  # RF direction finder
                xy = start[i] + vel[i] * (t0 + 0.1)
                b = math.atan2(xy[0] - 800.0, xy[1] + 600.0) + rng.normal(0, 0.01)
                dets.append(
                    Detection(
                        time_s=round(t0 + 0.1, 4), sensor_id="rf-1", sensor_kind="rf",
                        measurement=(b,),
                        model=BearingModel(sensor_x_m=800.0, sensor_y_m=-600.0, sigma_rad=0.02),
                        protocol="dji_ocusync",
                    )
                )  # fmt: skip
        if k % 5 == 0:  # clutter: tentative tracks that are dropped
            for xy in rng.uniform(-2000, 2000, (2, 2)):
                dets.append(
                    Detection(
                        time_s=round(t0, 4), sensor_id="radar-1", sensor_kind="radar",
                        measurement=(float(xy[0]), float(xy[1]), 50.0), model=radar_pm,
                    )
                )  # fmt: skip
        rng.shuffle(dets)  # any order in
        out.append((now, dets))
    return out


def _default() -> MultiSensorTracker:
    return MultiSensorTracker(
        predictor=ConstantVelocity(),
        updater=KalmanUpdater(),
        gate=MahalanobisGate(),
        associator=GlobalNearestNeighbour(),
        initiator=MOfNInitiator(m=2, n=4),
        deleter=CoastingDeleter(max_coast_s=3.0),
    )


class CopyingDeleter:
    """Keeps copies, not the records it was given (and has no ``delete_stacked``): the
    tracker must stack the tracks afresh from their records."""

    def __init__(self, max_coast_s: float) -> None:
        self.inner = CoastingDeleter(max_coast_s=max_coast_s)

    def delete(self, tracks: list[Track], now: float) -> tuple[list[Track], list[Track]]:
        kept, gone = self.inner.delete(tracks, now)
        return [dataclasses.replace(t) for t in kept], gone


def _copying() -> MultiSensorTracker:
    tracker = _default()
    tracker.deleter = CopyingDeleter(max_coast_s=3.0)
    return tracker


def _same(a: Track, b: Track) -> None:
    assert (a.track_id, a.status, a.hits, a.steps, a.serial) == (
        b.track_id, b.status, b.hits, b.steps, b.serial,
    )  # fmt: skip
    assert (a.sensor_counts, a.protocols, a.pilot_lon, a.pilot_lat) == (
        b.sensor_counts, b.protocols, b.pilot_lon, b.pilot_lat,
    )  # fmt: skip
    assert a.time_s == b.time_s and a.created_s == b.created_s
    assert a.last_update_s == b.last_update_s
    assert (a.rcs_dbsm_mean is None) == (b.rcs_dbsm_mean is None)
    if a.rcs_dbsm_mean is not None:
        assert a.rcs_dbsm_mean == pytest.approx(b.rcs_dbsm_mean, rel=1e-12)
    np.testing.assert_allclose(a.state, b.state, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a.covariance, b.covariance, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.array(a.history), np.array(b.history), rtol=1e-9, atol=1e-9)
    assert not a.state.flags.writeable and not a.covariance.flags.writeable


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "build", [_default, live_tracker, _copying], ids=["m_of_n", "live", "copying_deleter"]
)
def test_step_gives_the_tracks_of_the_plain_loop(build, seed: int) -> None:
    ours, ref = build(), ReferenceTracker(build())
    seen: set[int] = set()
    ended: list[int] = []
    groups = updates_in_late_groups = 0
    for now, dets in scenario(seed):
        got = ours.step(list(dets), now)
        want = ref.step(list(dets), now)
        assert [t.track_id for t in got] == [t.track_id for t in want]
        live, ref_live = ours.tracks, ref.tracks
        assert [t.track_id for t in live] == [t.track_id for t in ref_live]
        for a, b in zip(live, ref_live, strict=True):
            _same(a, b)
        assert all(t.time_s == now for t in got)
        gone = [t.track_id for t in ours.pop_deleted()]
        assert gone == [t.track_id for t in ref.deleted]
        ref.deleted.clear()
        ended += gone
        seen.update(t.track_id for t in got)
        n_groups = len({(d.time_s, d.sensor_id) for d in dets})
        groups += n_groups
        updates_in_late_groups += n_groups > 2 and any(t.last_update_s > now - 0.1 for t in got)
    # The scenario exercises what it claims: many groups a step, confirmed tracks that end,
    # bearings and Remote ID fused into radar tracks, tentative clutter never confirmed.
    assert groups > 4 * 120 and updates_in_late_groups > 20
    assert len(seen) >= 8 and ended
    fused = [t for t in ours.tracks if t.count("radar") and t.count("remote_id")]
    assert fused and any(t.count("rf") for t in ours.tracks)
    assert sorted({t.serial for t in ours.tracks if t.serial})[:2] == ["SN0000", "SN0001"]


def test_returned_tracks_stay_unchanged_by_later_steps() -> None:
    tracker = _default()
    steps = scenario(4)
    kept = []
    for now, dets in steps[:40]:
        kept.append(
            [(t, t.state.copy(), t.covariance.copy(), t.steps) for t in tracker.step(dets, now)]
        )
    for now, dets in steps[40:]:
        tracker.step(dets, now)
    for frame in kept:
        for t, x, p, n in frame:
            assert np.array_equal(t.state, x) and np.array_equal(t.covariance, p)
            assert t.steps == n and not t.state.flags.writeable


def test_constant_velocity_shears_equal_the_matrix_products() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(0, 100, (50, 6))
    a = rng.normal(0, 3, (50, 6, 6))
    p = a @ np.swapaxes(a, 1, 2) + np.eye(6)
    dt = rng.uniform(0, 5, 50)
    dt[:3] = (0.0, -1.0, 1e-4)  # a negative step is clipped to 0
    cv = ConstantVelocity(accel_noise_mps2=2.5, vertical_accel_noise_mps2=0.7)
    f = cv.transition(np.maximum(dt, 0.0))
    want_p = f @ p @ np.swapaxes(f, 1, 2) + _noise(np.maximum(dt, 0.0), 2.5**2, 0.7**2)
    got_x, got_p = cv.predict(x, p, dt)
    np.testing.assert_allclose(got_x, np.einsum("nij,nj->ni", f, x), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(got_p, want_p, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(got_p[:2], p[:2])  # dt 0: nothing moves, no noise
    assert np.abs(got_p - p).max() > 1.0  # the test can fail: the others did move
