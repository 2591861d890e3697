"""MultiSensorTracker: construction checks, TOML configs, identity across sensors."""

from __future__ import annotations

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
    TrackerConfigError,
)

PM = PositionModel.isotropic(5.0, 5.0)


def _radar(t: float, x: float, y: float, z: float = 80.0, sensor: str = "radar-1") -> Detection:
    return Detection(
        time_s=t, sensor_id=sensor, sensor_kind="radar", measurement=(x, y, z), model=PM
    )


def _rid(t: float, x: float, y: float, serial: str, z: float = 80.0) -> Detection:
    return Detection(
        time_s=t,
        sensor_id="rid-1",
        sensor_kind="remote_id",
        measurement=(x, y, z),
        model=PositionModel.isotropic(8.0, 12.0),
        serial=serial,
        pilot_lon=119.2,
        pilot_lat=34.5,
    )


def _parts(**over):
    parts = {
        "predictor": ConstantVelocity(),
        "updater": KalmanUpdater(),
        "gate": MahalanobisGate(),
        "associator": GlobalNearestNeighbour(),
        "initiator": MOfNInitiator(),
        "deleter": CoastingDeleter(),
    }
    parts.update(over)
    return parts


def test_construction_names_the_part_that_does_not_fit():
    with pytest.raises(TrackerConfigError, match=r"'updater'.*MahalanobisGate.*pass it as gate="):
        MultiSensorTracker(**_parts(updater=MahalanobisGate()))
    with pytest.raises(TrackerConfigError, match=r"'associator'.*lacks associate"):
        MultiSensorTracker(**_parts(associator=object()))

    class SevenD(ConstantVelocity):
        state_dim = 7

    with pytest.raises(TrackerConfigError, match=r"'predictor'.*7-D"):
        MultiSensorTracker(**_parts(predictor=SevenD()))

    class ProbGate:
        output = "probabilities"

        def gate(self, *a):  # pragma: no cover - never called
            raise AssertionError

    with pytest.raises(TrackerConfigError, match="needs a gate giving 'cost'"):
        MultiSensorTracker(**_parts(gate=ProbGate()))


def test_toml_round_trip_and_errors():
    tr = MultiSensorTracker(
        **_parts(gate=MahalanobisGate(probability=0.995), initiator=MOfNInitiator(m=2, n=4))
    )
    text = tr.to_toml()
    assert "[gate]" in text and "probability = 0.995" in text
    back = MultiSensorTracker.from_toml(text)
    assert back.config() == tr.config()
    with pytest.raises(TrackerConfigError, match=r"\[gate\] type = 'Nope'"):
        MultiSensorTracker.from_toml('[gate]\ntype = "Nope"\n')
    with pytest.raises(TrackerConfigError, match="no parameter"):
        MultiSensorTracker.from_toml('[gate]\ntype = "MahalanobisGate"\nwidth = 3\n')
    with pytest.raises(TrackerConfigError, match="finite"):
        MultiSensorTracker.from_toml("[gate]\nprobability = 1.0\n")


def test_two_crossing_targets_keep_their_ids():
    tr = MultiSensorTracker.default()
    ids_a, ids_b = set(), set()
    rng = np.random.default_rng(3)
    for k in range(40):
        t = float(k)
        a = (-200.0 + 10 * k + rng.normal(0, 3), 0.0 + rng.normal(0, 3))
        b = (200.0 - 10 * k + rng.normal(0, 3), 30.0 + rng.normal(0, 3))
        tracks = tr.step([_radar(t, *a), _radar(t, *b)], now=t)
        for trk in tracks:
            (ids_a if trk.position[1] < 15 else ids_b).add(trk.track_id)
    assert len(ids_a) == 1 and len(ids_b) == 1 and ids_a != ids_b


def test_remote_id_and_radar_fuse_into_one_track_with_the_serial():
    tr = MultiSensorTracker.default()
    seen = set()
    for k in range(20):
        t = float(k)
        dets = [_radar(t, 5.0 * k, 100.0)]
        if k % 2 == 0:
            dets.append(_rid(t, 5.0 * k + 4.0, 97.0, "1581F0000000001"))
        tracks = tr.step(dets, now=t)
        seen.update(x.track_id for x in tracks)
    assert len(seen) == 1
    (final,) = tracks
    assert final.serial == "1581F0000000001"
    assert final.count("radar") == 20 and final.count("remote_id") == 10
    assert final.pilot_lon == 119.2


def test_different_serials_never_share_a_track():
    tr = MultiSensorTracker.default()
    for k in range(6):
        t = float(k)
        tracks = tr.step([_rid(t, 0.0, 0.0, "A"), _rid(t + 0.0, 3.0, 0.0, "B")], now=t)
    assert sorted(x.serial for x in tracks) == ["A", "B"]


def test_bearings_update_but_do_not_start_tracks():
    tr = MultiSensorTracker.default()
    bearing = Detection(
        time_s=0.0,
        sensor_id="rf-1",
        sensor_kind="rf",
        measurement=(0.3,),
        model=BearingModel(sensor_x_m=0.0, sensor_y_m=0.0, sigma_rad=0.03),
        protocol="dji_ocusync",
    )
    assert tr.step([bearing], now=0.0) == [] and tr.tracks == []
    for k in range(6):
        t = float(k + 1)
        dets = [_radar(t, 1000.0 * math.sin(0.3), 1000.0 * math.cos(0.3))]
        dets.append(
            Detection(
                time_s=t,
                sensor_id="rf-1",
                sensor_kind="rf",
                measurement=(0.3,),
                model=BearingModel(sensor_x_m=0.0, sensor_y_m=0.0, sigma_rad=0.03),
                protocol="dji_ocusync",
            )
        )
        tracks = tr.step(dets, now=t)
    (one,) = tracks
    assert one.count("radar") == 6
    # bearings refine confirmed tracks only: M-of-N confirms at the end of step 3, so steps 4-6
    assert one.count("rf") == 3 and one.protocols == ("dji_ocusync",)


def test_step_refuses_detections_from_the_future():
    tr = MultiSensorTracker.default()
    with pytest.raises(ValueError, match="after now"):
        tr.step([_radar(5.0, 0.0, 0.0)], now=4.0)


def test_tracks_coast_then_are_deleted():
    tr = MultiSensorTracker(**_parts(deleter=CoastingDeleter(max_coast_s=3.0)))
    for k in range(4):
        tr.step([_radar(float(k), 10.0 * k, 0.0)], now=float(k))
    assert len(tr.step([], now=5.0)) == 1  # coasting, predicted forward
    assert tr.step([], now=5.0)[0].position[0] == pytest.approx(50.0, abs=5.0)
    assert tr.step([], now=8.0) == []
    assert [t.track_id for t in tr.pop_deleted()] == [1]


def test_returned_tracks_are_read_only_snapshots():
    tr = MultiSensorTracker.default()
    for k in range(3):
        tracks = tr.step([_radar(float(k), 10.0 * k, 0.0)], now=float(k))
    (one,) = tracks
    with pytest.raises(ValueError, match="read-only"):
        one.state[0] = 1e6
    with pytest.raises(ValueError, match="read-only"):
        one.position[0] = 1e6
