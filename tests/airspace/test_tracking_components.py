"""Tracking components: predictors, updater, gate, GNN, M-of-N, deleter — against references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.airspace.tracking import (
    BearingModel,
    CoastingDeleter,
    ConstantTurn,
    ConstantVelocity,
    Detection,
    GateResult,
    GlobalNearestNeighbour,
    KalmanUpdater,
    MahalanobisGate,
    MOfNInitiator,
    PositionModel,
    Track,
)


def _track(state, cov=None, **kw) -> Track:
    base = {"track_id": 1, "time_s": 0.0, "created_s": 0.0, "last_update_s": 0.0}
    base.update(kw)
    return Track(
        state=np.asarray(state, float), covariance=np.eye(6) if cov is None else cov, **base
    )


def test_constant_velocity_moves_and_adds_white_noise_acceleration():
    p = ConstantVelocity(accel_noise_mps2=2.0, vertical_accel_noise_mps2=1.0)
    x = np.array([[1.0, 2.0, 3.0, 4.0, -5.0, 0.5]])
    s, c = p.predict(x, np.zeros((1, 6, 6)), np.array([3.0]))
    assert s[0].tolist() == [13.0, -13.0, 4.5, 4.0, -5.0, 0.5]
    q = 4.0
    assert c[0, 0, 0] == pytest.approx(27.0 / 3.0 * q)  # dt^3/3 q
    assert c[0, 0, 3] == pytest.approx(9.0 / 2.0 * q)  # dt^2/2 q
    assert c[0, 3, 3] == pytest.approx(3.0 * q)
    assert c[0, 2, 2] == pytest.approx(9.0)  # vertical q = 1
    assert np.all(x == [[1.0, 2.0, 3.0, 4.0, -5.0, 0.5]])  # input untouched


def test_constant_velocity_is_vectorised_over_tracks_with_own_dt():
    p = ConstantVelocity()
    x = np.tile([0.0, 0.0, 0.0, 1.0, 1.0, 0.0], (3, 1))
    s, _ = p.predict(x, np.tile(np.eye(6), (3, 1, 1)), np.array([0.0, 1.0, 2.0]))
    assert s[:, 0].tolist() == [0.0, 1.0, 2.0]


def test_constant_turn_quarter_circle_and_tends_to_cv():
    w = math.pi / 20.0  # quarter turn in 10 s
    p = ConstantTurn(turn_rate_radps=w)
    x = np.array([[0.0, 0.0, 50.0, 10.0, 0.0, 0.0]])
    s, _ = p.predict(x, np.tile(np.eye(6), (1, 1, 1)), np.array([10.0]))
    r = 10.0 / w
    assert s[0, 0] == pytest.approx(r, abs=1e-9)
    assert s[0, 1] == pytest.approx(r, abs=1e-9)
    assert s[0, 3] == pytest.approx(0.0, abs=1e-9) and s[0, 4] == pytest.approx(10.0)
    slow = ConstantTurn(turn_rate_radps=1e-7).predict(
        x, np.tile(np.eye(6), (1, 1, 1)), np.array([5.0])
    )[0]
    cv = ConstantVelocity().predict(x, np.tile(np.eye(6), (1, 1, 1)), np.array([5.0]))[0]
    assert np.allclose(slow, cv, atol=1e-4)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan")])
def test_predictor_parameters_are_checked(bad):
    with pytest.raises(ValueError, match="accel_noise_mps2"):
        ConstantVelocity(accel_noise_mps2=bad)


def test_kalman_update_matches_scalar_closed_form():
    # prior var 4 on x, measurement var 1 -> gain 0.8, posterior var 0.8
    cov = np.eye(6) * 4.0
    d = Detection(
        time_s=0.0,
        sensor_id="r",
        sensor_kind="radar",
        measurement=(10.0, 0.0, 0.0),
        model=PositionModel.isotropic(1.0, 1.0),
    )
    x, p = KalmanUpdater().update(np.zeros(6), cov, d)
    assert x[0] == pytest.approx(8.0)
    assert p[0, 0] == pytest.approx(0.8)
    assert p[3, 3] == pytest.approx(4.0)  # velocity uncorrelated: unchanged


def test_ekf_bearing_update_pulls_towards_the_bearing():
    # sensor at origin, track at (0, 1000) i.e. bearing 0; measured bearing +0.05 rad
    cov = np.diag([400.0, 400.0, 100.0, 25.0, 25.0, 4.0])
    state = np.array([0.0, 1000.0, 50.0, 0.0, 0.0, 0.0])
    d = Detection(
        time_s=0.0,
        sensor_id="rf",
        sensor_kind="rf",
        measurement=(0.05,),
        model=BearingModel(sensor_x_m=0.0, sensor_y_m=0.0, sigma_rad=0.01),
    )
    x, p = KalmanUpdater().update(state, cov, d)
    assert x[0] > 20.0  # east, towards 1000 * tan(0.05) = 50 m
    assert x[1] == pytest.approx(1000.0, abs=1.0)  # range is unobservable from one bearing
    assert p[0, 0] < 400.0 and p[1, 1] == pytest.approx(400.0, rel=1e-3)


def test_bearing_innovation_wraps_around_pi():
    state = np.array([[-1.0, -1000.0, 0.0, 0.0, 0.0, 0.0]])  # bearing ~ -pi
    d = Detection(
        time_s=0.0,
        sensor_id="rf",
        sensor_kind="rf",
        measurement=(math.pi - 0.001,),
        model=BearingModel(sensor_x_m=0.0, sensor_y_m=0.0, sigma_rad=0.01),
    )
    nu, _ = KalmanUpdater().innovations(state, np.eye(6)[None] * 100, d)
    assert abs(nu[0, 0]) < 0.01


@pytest.mark.parametrize("bad", [1.0, 0.0, float("inf"), float("nan"), -0.5])
def test_gate_must_be_finite(bad):
    with pytest.raises(ValueError, match="finite"):
        MahalanobisGate(probability=bad)


def test_gate_threshold_and_gating():
    gate = MahalanobisGate(probability=0.99)
    assert gate.threshold(3) == pytest.approx(11.3449, abs=1e-3)
    states = np.array([[0.0, 0, 0, 0, 0, 0], [100.0, 0, 0, 0, 0, 0]])
    covs = np.tile(np.eye(6), (2, 1, 1))
    det = Detection(
        time_s=0.0,
        sensor_id="r",
        sensor_kind="radar",
        measurement=(1.0, 0.0, 0.0),
        model=PositionModel.isotropic(1.0, 1.0),
    )
    res = gate.gate(states, covs, [det], KalmanUpdater())
    assert res.distance[0, 0] == pytest.approx(0.5)  # 1^2 / (1 + 1)
    assert np.isfinite(res.cost[0, 0]) and np.isinf(res.cost[1, 0])


def _brute_force(cost: np.ndarray) -> float:
    n, m = cost.shape
    best = 0.0
    # the best total over every partial matching that uses only finite entries, maximising the
    # number of pairs first (GNN assigns as many as it can), then minimising cost
    best_key = (0, 0.0)
    for k in range(min(n, m), 0, -1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                vals = cost[list(rows), list(cols)]
                if np.all(np.isfinite(vals)):
                    key = (k, -float(vals.sum()))
                    if key > best_key:
                        best_key = key
        if best_key[0] == k:
            break
    best = -best_key[1]
    return best


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    st.lists(st.one_of(st.floats(0.0, 20.0), st.just(math.inf)), min_size=16, max_size=16),
)
def test_gnn_equals_brute_force_on_gated_matrices(n, m, values):
    cost = np.array(values[: n * m]).reshape(n, m)
    pairs = GlobalNearestNeighbour().associate(GateResult(distance=cost, cost=cost))
    assert len({h.track_index for h in pairs}) == len(pairs)
    assert len({h.detection_index for h in pairs}) == len(pairs)
    assert all(np.isfinite(h.cost) for h in pairs)
    total = sum(h.cost for h in pairs)
    assert total == pytest.approx(_brute_force(cost), abs=1e-6)


def test_m_of_n_confirms_drops_and_trusts_serials():
    init = MOfNInitiator(m=2, n=3)
    det = Detection(
        time_s=0.0,
        sensor_id="r",
        sensor_kind="radar",
        measurement=(0.0, 0.0, 50.0),
        model=PositionModel.isotropic(5.0, 5.0),
    )
    t = init.initiate(det, track_id=1)
    assert t is not None and t.status == "tentative"
    assert init.review(_track(t.state, hits=2, steps=2)) == "confirmed"
    assert init.review(_track(t.state, hits=1, steps=2)) == "tentative"
    assert init.review(_track(t.state, hits=1, steps=3)) == "drop"
    rid = Detection(
        time_s=0.0,
        sensor_id="rid",
        sensor_kind="remote_id",
        measurement=(0.0, 0.0, 50.0),
        model=PositionModel.isotropic(5.0, 5.0),
        serial="1581F000",
    )
    assert init.initiate(rid, track_id=2).status == "confirmed"
    bearing = Detection(
        time_s=0.0,
        sensor_id="rf",
        sensor_kind="rf",
        measurement=(0.1,),
        model=BearingModel(sensor_x_m=0.0, sensor_y_m=0.0, sigma_rad=0.02),
    )
    assert init.initiate(bearing, track_id=3) is None
    with pytest.raises(ValueError, match="1 <= m <= n"):
        MOfNInitiator(m=0, n=3)


def test_deleter_uses_time_since_update_and_covariance():
    d = CoastingDeleter(max_coast_s=5.0, max_position_sigma_m=100.0)
    fresh = _track(np.zeros(6), last_update_s=8.0, track_id=1)
    stale = _track(np.zeros(6), last_update_s=4.0, track_id=2)
    vague = _track(np.zeros(6), cov=np.eye(6) * 200.0**2, last_update_s=9.0, track_id=3)
    kept, gone = d.delete([fresh, stale, vague], now=10.0)
    assert [t.track_id for t in kept] == [1]
    assert sorted(t.track_id for t in gone) == [2, 3]


def test_detection_rejects_wrong_measurement_shape():
    with pytest.raises(ValueError, match="position measurement needs 3 finite numbers"):
        Detection(
            time_s=0.0,
            sensor_id="r",
            sensor_kind="radar",
            measurement=(1.0, 2.0),
            model=PositionModel.isotropic(1.0, 1.0),
        )
    with pytest.raises(ValueError, match="positive definite"):
        PositionModel(covariance=(1.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0))
